"""The grader's gradient-check library: it passes right gradients, catches wrong ones, and
never touches its inputs. ``gradcheck`` (directional checks) ships to students; ``numgrad``
(full per-entry numerical gradients) is grader-only."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from bplab_checks.gradcheck import (
    directional_check,
    directional_derivatives,
    random_directions,
    rel_error,
    require_float64,
    worst_element,
)
from bplab_checks.numgrad import numerical_grad, numerical_vjp
from bplab_checks.tolerances import GRAD_RTOL, N_DIRECTIONS
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

RNG = np.random.default_rng(0)


def test_rel_error_basics():
    a = np.array([1.0, 2.0, 3.0])
    assert rel_error(a, a) == 0.0
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0  # safe at 0
    assert rel_error(np.zeros(3), a) == 1.0
    assert rel_error(a, -a) == 1.0
    assert rel_error(1.0, 1.0 + 1e-12) < 1e-12
    assert rel_error(a, a * (1 + 1e-3)) == pytest.approx(5e-4, rel=1e-3)
    assert rel_error(np.array([np.nan]), np.array([1.0])) == np.inf
    assert rel_error(np.array([np.inf]), np.array([np.inf])) == np.inf
    with pytest.raises(ValueError, match="shapes differ"):
        rel_error(np.zeros((2, 3)), np.zeros((3, 2)))


@settings(max_examples=50)  # the shared profile (conftest.py), fewer examples
@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=4),
                  elements=st.floats(-1e6, 1e6)))
def test_rel_error_is_symmetric_and_bounded(x):
    y = x[::-1].copy() if x.ndim else x * 2
    assert rel_error(x, y) == rel_error(y, x)
    assert 0.0 <= rel_error(x, y) <= 1.0


def test_numerical_grad_matches_torch_and_leaves_x_alone():
    x = RNG.standard_normal((3, 4))
    x_before = x.copy()
    w = RNG.standard_normal((3, 4))

    def f(z):
        return float(np.sum(w * np.tanh(z) * z**2))

    t = torch.tensor(x, requires_grad=True)
    (torch.sum(torch.tensor(w) * torch.tanh(t) * t**2)).backward()
    assert rel_error(numerical_grad(f, x), t.grad.numpy()) < 1e-8
    np.testing.assert_array_equal(x, x_before)


def test_numerical_grad_f_cannot_corrupt_the_point():
    """f receives copies: an f that scribbles on its argument does not shift later probes."""
    x = RNG.standard_normal(5)

    def hostile(z):
        value = float(np.sum(z**2))
        z[:] = 1e9
        return value

    assert rel_error(numerical_grad(hostile, x), 2 * x) < 1e-8


def test_numerical_vjp_matmul_against_torch():
    A, B = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 5))
    dout = RNG.standard_normal((3, 5))
    A0, B0 = A.copy(), B.copy()
    dA, dB = numerical_vjp(lambda a, b: a @ b, [A, B], dout)
    ta = torch.tensor(A, requires_grad=True)
    tb = torch.tensor(B, requires_grad=True)
    (ta @ tb).backward(torch.tensor(dout))
    assert rel_error(dA, ta.grad.numpy()) < GRAD_RTOL * 1e-2
    assert rel_error(dB, tb.grad.numpy()) < GRAD_RTOL * 1e-2
    np.testing.assert_array_equal(A, A0)
    np.testing.assert_array_equal(B, B0)


def test_numerical_vjp_catches_a_wrong_gradient():
    A, B = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 5))
    dout = RNG.standard_normal((3, 5))
    _, dB = numerical_vjp(lambda a, b: a @ b, [A, B], dout)
    assert rel_error(dB, A.T @ dout) < GRAD_RTOL
    assert rel_error(dB, 2 * A.T @ dout) > 0.1  # planted: factor 2
    assert rel_error(dB, A.T @ np.ones_like(dout)) > 0.1  # planted: upstream ignored


def test_numerical_vjp_scalar_output():
    X = RNG.standard_normal((2, 3))
    (dX,) = numerical_vjp(lambda x: float(np.sum(x)), [X], 1.7)
    assert rel_error(dX, np.full((2, 3), 1.7)) < 1e-9


def test_directional_check_passes_right_and_catches_wrong():
    x = RNG.standard_normal((50, 40))

    def f(z):
        return float(np.sum(np.sin(z)))

    x0 = x.copy()
    assert directional_check(f, x, np.cos(x)) < GRAD_RTOL
    assert directional_check(f, x, -np.cos(x)) > 0.5
    assert directional_check(f, x, np.cos(x) * 1.01) > 1e-3
    np.testing.assert_array_equal(x, x0)
    with pytest.raises(ValueError):
        directional_check(f, x, np.cos(x).T)


def test_directional_derivatives_of_matmul_vjp_against_torch():
    """The public block check's quantity: <dB, v> vs central differences of sum((A @ B) * dout)
    along random v, non-square, batch 3, with torch's dB."""
    A, B = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 5))
    dout = RNG.standard_normal((3, 5))
    ta, tb = torch.tensor(A, requires_grad=True), torch.tensor(B, requires_grad=True)
    (ta @ tb).backward(torch.tensor(dout))
    B0 = B.copy()
    check = directional_derivatives(lambda b: float(np.sum((A @ b) * dout)), B, tb.grad.numpy(),
                                    seed=3)
    assert check.numeric.shape == check.claimed.shape == (N_DIRECTIONS,)
    assert check.directions.shape == (N_DIRECTIONS, 4, 5)
    assert check.error < GRAD_RTOL * 1e-2
    np.testing.assert_array_equal(B, B0)
    # Planted bugs: each wrong dB fails along the same directions.
    for wrong in (2 * tb.grad.numpy(), -tb.grad.numpy(), A.T @ np.ones_like(dout),
                  tb.grad.numpy() + 1e-3 * (np.arange(20).reshape(4, 5) == 7)):
        assert directional_derivatives(lambda b: float(np.sum((A @ b) * dout)), B, wrong,
                                       seed=3).error > GRAD_RTOL
    # along() projects other candidates on the same directions; another shape never fits.
    assert rel_error(check.along(tb.grad.numpy()), check.claimed) < 1e-15
    assert np.all(np.isnan(check.along(np.zeros((5, 4)))))


def test_directional_check_error_only_in_one_entry_is_caught():
    """A gradient wrong in a single entry of 12 still fails: random directions see every entry."""
    x = RNG.standard_normal((3, 4))
    grad = 2 * x
    grad[2, 1] += 0.05
    assert directional_check(lambda z: float(np.sum(z**2)), x, grad, seed=1) > 1e-4


def test_random_directions_are_unit_and_reproducible():
    v = random_directions((3, 4), 6, seed=5)
    assert v.shape == (6, 3, 4)
    np.testing.assert_allclose(np.linalg.norm(v.reshape(6, -1), axis=1), 1.0)
    np.testing.assert_array_equal(v, random_directions((3, 4), 6, seed=5))
    assert not np.array_equal(v, random_directions((3, 4), 6, seed=6))
    assert np.all(np.abs(random_directions((1,), 4, seed=0)) == 1.0)  # a 1-entry input: +-1


def test_directional_f_cannot_corrupt_the_point():
    x = RNG.standard_normal(5)
    x0 = x.copy()

    def hostile(z):
        value = float(np.sum(z**2))
        z[:] = 1e9
        return value

    assert directional_check(hostile, x, 2 * x) < GRAD_RTOL
    np.testing.assert_array_equal(x, x0)


def test_worst_element():
    a = np.zeros((2, 3))
    e = np.zeros((2, 3))
    e[1, 2] = 5.0
    assert worst_element(a, e) == ((1, 2), 0.0, 5.0)
    a[0, 1] = np.nan
    assert worst_element(a, e)[0] == (0, 1)  # nan first
    assert worst_element(np.array(1.0), np.array(2.0)) == ((), 1.0, 2.0)


def test_float64_is_enforced():
    with pytest.raises(TypeError, match="float64"):
        numerical_grad(lambda z: 0.0, np.ones(3, dtype=np.float32))
    with pytest.raises(TypeError, match="float64"):
        numerical_vjp(lambda z: z, [np.ones(3, dtype=np.int64)], np.ones(3))
    with pytest.raises(TypeError, match="float64"):
        directional_check(lambda z: 0.0, np.ones(3, dtype=np.int64), np.ones(3))
    assert require_float64(2.0).dtype == np.float64
