"""Oracle tests of the hw1 reference (solutions/hw1.py): numerical gradients, torch autograd,
edge inputs, no mutation, and the contract's exact formulas."""

import numpy as np
import pytest
import torch
from bplab_checks.gradcheck import GRAD_RTOL
from bplab_checks.numgrad import numerical_grad, numerical_vjp
from hypothesis import given
from hypothesis import strategies as st
from oracle_helpers import (
    FAST,
    STRICT_FP,
    TORCH_RTOL,
    assert_close,
    assert_raises_assertion,
    away_from_zero,
    check_block_against_torch,
    check_block_numerically,
    dims,
    grads_tuple,
    seeds,
)

from solutions import hw1

pytestmark = pytest.mark.hw1



# ---------------------------------------------------------------- chain_rule


CHAIN_RULE = [
    ("dsin_x2", lambda x: torch.sin(x**2)),
    ("dcube", lambda x: (x**2 + 1) ** 3),
]


@pytest.mark.parametrize(("name", "torch_f"), CHAIN_RULE)
def test_chain_rule_derivatives_match_torch_and_numerical(name, torch_f):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    x0 = x.copy()
    got = np.asarray(getattr(hw1, name)(x))
    assert np.array_equal(x, x0)
    # An elementwise derivative is the VJP with an all-ones upstream gradient.
    _, (expected,) = _torch_elementwise_grad(torch_f, x)
    assert_close(got, expected, TORCH_RTOL, f"{name} vs torch")
    (numeric,) = numerical_vjp(lambda a: torch_f(torch.from_numpy(a)).numpy(), [x], np.ones_like(x))
    assert_close(got, numeric, GRAD_RTOL, f"{name} vs numerical")
    # Floats work too.
    assert float(getattr(hw1, name)(0.7)) == pytest.approx(float(expected_scalar(torch_f, 0.7)))


def test_grad_square_sum_matches_torch():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((2, 3, 4))
    dx, dy = hw1.grad_square_sum(x, y)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.tensor(y, requires_grad=True)
    ((xt + yt) ** 2).sum().backward()
    assert_close(dx, xt.grad.numpy(), TORCH_RTOL, "d/dx")
    assert_close(dy, yt.grad.numpy(), TORCH_RTOL, "d/dy")
    gx, gy = hw1.grad_square_sum(0.5, -2.0)
    assert float(gx) == float(gy) == pytest.approx(-3.0)


def _torch_elementwise_grad(torch_f, x):
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = torch_f(xt)
    out.backward(torch.ones_like(out))
    return out.detach().numpy(), [xt.grad.numpy()]


def expected_scalar(torch_f, value):
    return _torch_elementwise_grad(torch_f, np.array([value]))[1][0][0]


# ---------------------------------------------------------------- numerical_gradient


def test_numerical_gradient_matches_analytic_on_any_shape():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 4))
    c = rng.standard_normal(x.shape)
    x0 = x.copy()
    g = hw1.numerical_gradient(lambda a: float(np.sum(np.sin(a) * c)), x)
    assert np.array_equal(x, x0), "x was changed"
    assert_close(g, np.cos(x) * c, 1e-8, "numerical_gradient of sum(sin(x) c)")


def test_numerical_gradient_uses_h_and_central_differences():
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.3]])
    h = 0.1
    # For x^3, the central difference is exactly 3x^2 + h^2 (a forward difference is not).
    g = hw1.numerical_gradient(lambda a: float(np.sum(a**3)), x, h=h)
    np.testing.assert_allclose(g, 3 * x**2 + h**2, rtol=1e-10, atol=1e-12)


def test_numerical_gradient_survives_a_mutating_f():
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    x0 = x.copy()

    def hostile(a):
        value = float(np.sum(a**2))
        a *= 0  # a hostile f must not corrupt x or the later evaluations
        return value

    g = hw1.numerical_gradient(hostile, x)
    assert np.array_equal(x, x0)
    assert_close(g, 2 * x0, 1e-8, "gradient of sum(x^2) with a mutating f")


# ---------------------------------------------------------------- blocks


def _inputs(name, rng, n=3, m=5, d=4):
    """Non-square inputs with batch n >= 2 for each hw1 block."""
    if name == "MatMul":
        return [rng.standard_normal((n, d)), rng.standard_normal((d, m))]
    if name == "Subtract":
        return [rng.standard_normal((n, m)), rng.standard_normal((n, m))]
    if name == "Sigmoid":
        return [3 * rng.standard_normal((n, m))]
    if name == "ReLU":
        return [away_from_zero(rng.standard_normal((n, m)))]
    return [rng.standard_normal((n, m))]


TORCH_BLOCKS = {
    "MatMul": lambda a, b: a @ b,
    "Subtract": lambda a, b: a - b,
    "Square": lambda x: x**2,
    "Sum": lambda x: x.sum(),
    "Sigmoid": torch.sigmoid,
    "ReLU": torch.relu,
}


@pytest.mark.parametrize("name", list(TORCH_BLOCKS))
def test_block_matches_numerical_gradient(name):
    rng = np.random.default_rng(3)
    check_block_numerically(getattr(hw1, name), _inputs(name, rng), rng)


@pytest.mark.parametrize("name", list(TORCH_BLOCKS))
def test_block_matches_torch(name):
    rng = np.random.default_rng(4)
    check_block_against_torch(getattr(hw1, name), TORCH_BLOCKS[name], _inputs(name, rng), rng)


@pytest.mark.parametrize("name", list(TORCH_BLOCKS))
@FAST
@given(nm=dims, d=st.integers(1, 6), seed=seeds)
def test_block_gradients_on_random_shapes(name, nm, d, seed):
    rng = np.random.default_rng(seed)
    n, m = nm
    inputs = _inputs(name, rng, n=n, m=m, d=d)
    block = getattr(hw1, name)
    check_block_numerically(block, inputs, rng)
    check_block_against_torch(block, TORCH_BLOCKS[name], inputs, rng)


def test_sum_accepts_float_and_0d_dout():
    X = np.arange(6.0).reshape(2, 3)
    out, cache = hw1.Sum.forward(X)
    assert float(out) == 15.0
    for dout in (2.5, np.array(2.5)):
        (dX,) = grads_tuple(hw1.Sum.backward(dout, cache), 1)
        assert np.array_equal(dX, np.full((2, 3), 2.5))


def test_sigmoid_is_stable_at_1000():
    X = np.array([[-1000.0, -700.0, -30.0, 0.0], [30.0, 700.0, 1000.0, 1e-3]])
    with np.errstate(**STRICT_FP):
        out, cache = hw1.Sigmoid.forward(X)
        (dX,) = grads_tuple(hw1.Sigmoid.backward(np.ones_like(X), cache), 1)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(dX))
    assert out[0, 0] == 0.0 and out[1, 2] == 1.0 and out[0, 3] == 0.5
    t_out, (t_dX,) = _torch_elementwise_grad(torch.sigmoid, X)
    np.testing.assert_allclose(out, t_out, rtol=1e-12, atol=0)
    np.testing.assert_allclose(dX, t_dX, rtol=1e-9, atol=1e-300)


def test_relu_at_exactly_zero_has_zero_gradient():
    X = np.array([[0.0, -0.0, 1.0], [-2.0, 0.0, 3.0]])
    out, cache = hw1.ReLU.forward(X)
    (dX,) = grads_tuple(hw1.ReLU.backward(np.full_like(X, 7.0), cache), 1)
    np.testing.assert_array_equal(out, [[0, 0, 1], [0, 0, 3]])
    np.testing.assert_array_equal(dX, [[0, 0, 7], [0, 0, 7]])


# ---------------------------------------------------------------- linear regression


def _linreg_data(seed=5, n=7, d=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    Y = X @ rng.standard_normal((d, 1)) + 0.1 * rng.standard_normal((n, 1))
    return X, Y, rng.standard_normal((d, 1))


def test_linreg_loss_and_grad_matches_numerical_and_torch():
    X, Y, theta = _linreg_data()
    before = [a.copy() for a in (theta, X, Y)]
    loss, dtheta = hw1.linreg_loss_and_grad(theta, X, Y)
    for a, b in zip((theta, X, Y), before, strict=True):
        assert np.array_equal(a, b), "an input was mutated"
    assert isinstance(loss, float)
    assert loss == pytest.approx(float(np.sum((X @ theta - Y) ** 2)), rel=1e-12)
    numeric = numerical_grad(lambda t: hw1.linreg_loss_and_grad(t, X, Y)[0], theta)
    assert_close(dtheta, numeric, GRAD_RTOL, "dtheta vs numerical")
    tt = torch.tensor(theta, requires_grad=True)
    ((torch.from_numpy(X) @ tt - torch.from_numpy(Y)) ** 2).sum().backward()
    assert_close(dtheta, tt.grad.numpy(), TORCH_RTOL, "dtheta vs torch")


def test_fit_linreg_draws_theta0_from_the_seed():
    X, Y, _ = _linreg_data()
    for seed in (0, 7):
        theta, losses = hw1.fit_linreg(X, Y, lr=0.01, n_steps=0, seed=seed)
        expected = np.random.default_rng(seed).standard_normal((X.shape[1], 1))
        assert np.array_equal(theta, expected)
        assert list(losses) == []


def test_fit_linreg_follows_gradient_descent_exactly():
    X, Y, _ = _linreg_data()
    X0, Y0 = X.copy(), Y.copy()
    lr, n_steps = 0.02, 6
    theta, losses = hw1.fit_linreg(X, Y, lr, n_steps, seed=3)
    assert np.array_equal(X, X0) and np.array_equal(Y, Y0)
    t = np.random.default_rng(3).standard_normal((X.shape[1], 1))
    expected_losses = []
    for _ in range(n_steps):
        r = X @ t - Y
        expected_losses.append(float(np.sum(r**2)))
        t = t - lr * 2 * X.T @ r  # closed-form gradient of sum(r^2)
    np.testing.assert_allclose(losses, expected_losses, rtol=1e-12)
    np.testing.assert_allclose(theta, t, rtol=1e-12)


def test_fit_linreg_converges_to_least_squares():
    X, Y, _ = _linreg_data(n=20)
    lr = 0.5 / np.linalg.eigvalsh(2 * X.T @ X).max()  # safely below the stability limit
    theta, losses = hw1.fit_linreg(X, Y, lr, 500)
    lstsq = np.linalg.lstsq(X, Y, rcond=None)[0]
    assert_close(theta, lstsq, 1e-8, "fitted theta vs least squares")
    # Gradient descent below the stability limit never increases the loss (up to rounding).
    assert all(b <= a * (1 + 1e-12) for a, b in zip(losses, losses[1:], strict=False))


# ---------------------------------------------------------------- the checks can fail


class _SigmoidMissingFactor(hw1.Sigmoid):
    @staticmethod
    def backward(dout, cache):
        return (dout * cache,)  # planted: drops the (1 - s) factor


class _MatMulTransposed(hw1.MatMul):
    @staticmethod
    def backward(dout, cache):
        A, B = cache
        return dout @ B.T, dout.T @ A  # planted: dB has the wrong orientation


@pytest.mark.parametrize(
    ("block", "name"), [(_SigmoidMissingFactor, "Sigmoid"), (_MatMulTransposed, "MatMul")]
)
def test_block_checks_catch_planted_bugs(block, name):
    rng = np.random.default_rng(6)
    inputs = _inputs(name, rng)
    assert_raises_assertion(lambda: check_block_numerically(block, inputs, rng))
    assert_raises_assertion(
        lambda: check_block_against_torch(block, TORCH_BLOCKS[name], inputs, rng)
    )
