"""Oracle tests of the hw2 reference (solutions/hw2.py): numerical gradients, torch autograd and
torch.optim in float64, edge inputs, no mutation, and the contract's exact formulas."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from bplab_checks.gradcheck import GRAD_RTOL
from bplab_checks.numgrad import numerical_grad
from hypothesis import assume, given
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
    check_loss_numerically,
    dims,
    grads_tuple,
    seeds,
)

from solutions import hw2

pytestmark = pytest.mark.hw2



# ---------------------------------------------------------------- blocks

TORCH_BLOCKS = {
    "Add": lambda x, b: x + b,
    "Tanh": torch.tanh,
    "LeakyReLU": lambda x: F.leaky_relu(x, negative_slope=0.01),
}


def _inputs(name, rng, n=3, m=5):
    if name == "Add":
        return [rng.standard_normal((n, m)), rng.standard_normal(m)]
    if name == "LeakyReLU":
        return [away_from_zero(rng.standard_normal((n, m)))]
    return [2 * rng.standard_normal((n, m))]


@pytest.mark.parametrize("name", list(TORCH_BLOCKS))
def test_block_matches_numerical_gradient_and_torch(name):
    rng = np.random.default_rng(0)
    block = getattr(hw2, name)
    check_block_numerically(block, _inputs(name, rng), rng)
    check_block_against_torch(block, TORCH_BLOCKS[name], _inputs(name, rng), rng)


@pytest.mark.parametrize("name", list(TORCH_BLOCKS))
@FAST
@given(nm=dims, seed=seeds)
def test_block_gradients_on_random_shapes(name, nm, seed):
    rng = np.random.default_rng(seed)
    inputs = _inputs(name, rng, *nm)
    block = getattr(hw2, name)
    check_block_numerically(block, inputs, rng)
    check_block_against_torch(block, TORCH_BLOCKS[name], inputs, rng)


def test_leaky_relu_alpha_and_exact_zero():
    assert hw2.LeakyReLU.ALPHA == 0.01
    X = np.array([[0.0, -0.0, 2.0], [-3.0, 0.0, 1e-300]])
    out, cache = hw2.LeakyReLU.forward(X)
    (dX,) = grads_tuple(hw2.LeakyReLU.backward(np.full_like(X, 5.0), cache), 1)
    np.testing.assert_array_equal(out, [[0, 0, 2], [-0.03, 0, 1e-300]])
    # The slope for X <= 0 is ALPHA, including X == 0 exactly (torch agrees).
    np.testing.assert_array_equal(dX, [[0.05, 0.05, 5], [0.05, 0.05, 5]])


@pytest.mark.parametrize("name", ["Tanh", "LeakyReLU"])
def test_activation_is_stable_at_1000(name):
    X = np.array([[-1000.0, -20.0, 0.5], [20.0, 1000.0, -0.5]])
    block = getattr(hw2, name)
    with np.errstate(**STRICT_FP):
        out, cache = block.forward(X)
        (dX,) = grads_tuple(block.backward(np.ones_like(X), cache), 1)
    t_out = TORCH_BLOCKS[name](torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(out, t_out, rtol=1e-14)
    assert np.all(np.isfinite(dX))


# ---------------------------------------------------------------- losses


def test_mse_loss_matches_torch_and_numerical():
    rng = np.random.default_rng(1)
    y_pred, y_true = rng.standard_normal((2, 4, 3))
    loss, dpred = check_loss_numerically(hw2.mse_loss, y_pred, y_true)
    pt = torch.tensor(y_pred, requires_grad=True)
    t_loss = F.mse_loss(pt, torch.from_numpy(y_true))
    t_loss.backward()
    assert isinstance(hw2.mse_loss(y_pred, y_true)[0], float)
    assert loss == pytest.approx(t_loss.item(), rel=1e-12)
    assert_close(dpred, pt.grad.numpy(), TORCH_RTOL, "dy_pred vs torch")
    assert_close(dpred, 2 * (y_pred - y_true) / y_pred.size, 1e-14, "dy_pred vs contract")


@pytest.mark.parametrize("soft", [False, True])
def test_bce_loss_matches_torch_and_numerical(soft):
    rng = np.random.default_rng(2)
    p = rng.uniform(0.05, 0.95, size=(6, 1))
    y = rng.uniform(0, 1, size=(6, 1)) if soft else (rng.uniform(size=(6, 1)) < 0.5) * 1.0
    loss, dp = check_loss_numerically(hw2.bce_loss, p, y)
    pt = torch.tensor(p, requires_grad=True)
    t_loss = F.binary_cross_entropy(pt, torch.from_numpy(y))
    t_loss.backward()
    assert loss == pytest.approx(t_loss.item(), rel=1e-12)
    assert_close(dp, pt.grad.numpy(), TORCH_RTOL, "dp vs torch")


def test_bce_loss_at_p_0_and_1_is_clipped_and_finite():
    p = np.array([[0.0], [1.0], [0.0], [1.0], [0.3]])
    y = np.array([[1.0], [0.0], [0.0], [1.0], [1.0]])
    p0 = p.copy()
    with np.errstate(**STRICT_FP):
        loss, dp = hw2.bce_loss(p, y)
    assert np.array_equal(p, p0), "p was mutated"
    dp = np.asarray(dp)
    q = np.clip(p, 1e-12, 1 - 1e-12)
    expected = -np.mean(y * np.log(q) + (1 - y) * np.log(1 - q))
    assert loss == pytest.approx(expected, rel=1e-12)
    assert loss == pytest.approx(-(2 * math.log(1e-12) + math.log(0.3)) / 5, rel=1e-4)
    # dp is the formula's derivative evaluated at the clipped q (the documented convention).
    assert_close(dp, (q - y) / (q * (1 - q)) / 5, 1e-12, "dp vs clipped formula")
    # Where p is wrong and saturated, torch (which bounds p (1 - p) below by 1e-12) agrees.
    pt = torch.tensor(p, requires_grad=True)
    F.binary_cross_entropy(pt, torch.from_numpy(y)).backward()
    wrong = [0, 1, 4]
    assert_close(dp[wrong], pt.grad.numpy()[wrong], 1e-4, "saturated dp vs torch")
    assert dp[0, 0] < 0 < dp[1, 0]


def test_softmax_cross_entropy_matches_torch_and_numerical():
    rng = np.random.default_rng(3)
    logits = 2 * rng.standard_normal((5, 3))
    y = rng.integers(0, 3, size=5)
    loss, dlogits = check_loss_numerically(hw2.softmax_cross_entropy, logits, y)
    lt = torch.tensor(logits, requires_grad=True)
    t_loss = F.cross_entropy(lt, torch.from_numpy(y))
    t_loss.backward()
    assert loss == pytest.approx(t_loss.item(), rel=1e-12)
    assert_close(dlogits, lt.grad.numpy(), TORCH_RTOL, "dlogits vs torch")
    np.testing.assert_allclose(dlogits.sum(axis=1), 0, atol=1e-15)


@FAST
@given(n=st.integers(2, 6), c=st.integers(2, 5), seed=seeds)
def test_softmax_cross_entropy_random_shapes(n, c, seed):
    assume(n != c)
    rng = np.random.default_rng(seed)
    logits = 3 * rng.standard_normal((n, c))
    y = rng.integers(0, c, size=n)
    loss, dlogits = check_loss_numerically(hw2.softmax_cross_entropy, logits, y)
    lt = torch.tensor(logits, requires_grad=True)
    F.cross_entropy(lt, torch.from_numpy(y)).backward()
    assert_close(dlogits, lt.grad.numpy(), TORCH_RTOL, "dlogits vs torch")


@pytest.mark.parametrize("scale", [1000.0, 1e5])
def test_softmax_cross_entropy_is_stable_for_huge_logits(scale):
    logits = np.array([[1.0, -1.0, 0.0, 0.5], [0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]) * scale
    y = np.array([0, 1, 3])
    with np.errstate(**STRICT_FP):
        loss, dlogits = hw2.softmax_cross_entropy(logits, y)
        shifted_loss, shifted_d = hw2.softmax_cross_entropy(logits + scale, y)
    lt = torch.tensor(logits, requires_grad=True)
    t_loss = F.cross_entropy(lt, torch.from_numpy(y))
    t_loss.backward()
    assert math.isfinite(loss) and np.all(np.isfinite(dlogits))
    assert loss == pytest.approx(t_loss.item(), rel=1e-12)
    assert_close(dlogits, lt.grad.numpy(), TORCH_RTOL, "dlogits vs torch at huge logits")
    # Softmax is shift-invariant; a stable implementation is too.
    assert shifted_loss == pytest.approx(loss, rel=1e-12)
    assert_close(shifted_d, dlogits, 1e-12, "dlogits after a shift")


# ---------------------------------------------------------------- the two-layer network


def test_init_two_layer_draws_in_contract_order():
    D, H = 5, 3
    for seed in (0, 4):
        params = hw2.init_two_layer(D, H, seed=seed)
        rng = np.random.default_rng(seed)
        W1 = rng.standard_normal((D, H)) * np.sqrt(2 / D)
        W2 = rng.standard_normal((H, 1)) * np.sqrt(1 / H)
        assert set(params) == {"W1", "b1", "W2", "b2"}
        assert np.array_equal(params["W1"], W1) and np.array_equal(params["W2"], W2)
        assert np.array_equal(params["b1"], np.zeros(H)) and params["b1"].shape == (H,)
        assert np.array_equal(params["b2"], np.zeros(1)) and params["b2"].shape == (1,)
        assert all(v.dtype == np.float64 for v in params.values())
    assert np.array_equal(hw2.init_two_layer(D, H)["W1"], hw2.init_two_layer(D, H, 0)["W1"])


def _network(seed, n=6, d=4, h=5):
    """Random params (non-zero biases) and data for the two-layer network."""
    rng = np.random.default_rng(seed)
    params = hw2.init_two_layer(d, h, seed=seed)
    params["b1"] = 0.1 * rng.standard_normal(h)
    params["b2"] = 0.1 * rng.standard_normal(1)
    X = rng.standard_normal((n, d))
    y = (rng.uniform(size=(n, 1)) < 0.5) * 1.0
    return params, X, y


def _torch_two_layer(params, X, y):
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    z1 = torch.from_numpy(X) @ tp["W1"] + tp["b1"]
    p = torch.sigmoid(torch.relu(z1) @ tp["W2"] + tp["b2"])
    loss = F.binary_cross_entropy(p, torch.from_numpy(y))
    loss.backward()
    return loss.item(), p.detach().numpy(), {k: t.grad.numpy() for k, t in tp.items()}


def _min_abs_z1(params, X):
    return float(np.abs(X @ params["W1"] + params["b1"]).min())


@FAST
@given(seed=seeds, n=st.integers(2, 6))
def test_two_layer_loss_matches_numerical_and_torch(seed, n):
    params, X, y = _network(seed, n=n)
    assume(_min_abs_z1(params, X) > 1e-4)  # keep central differences off the relu kink
    before = {k: v.copy() for k, v in params.items()}
    X0, y0 = X.copy(), y.copy()
    loss, grads = hw2.two_layer_loss(params, X, y)
    assert all(np.array_equal(params[k], before[k]) for k in params), "params were mutated"
    assert np.array_equal(X, X0) and np.array_equal(y, y0), "data were mutated"
    assert isinstance(loss, float)
    assert set(grads) == set(params)
    t_loss, t_p, t_grads = _torch_two_layer(params, X, y)
    assert loss == pytest.approx(t_loss, rel=1e-12)
    assert_close(hw2.two_layer_predict(params, X), t_p, TORCH_RTOL, "two_layer_predict vs torch")
    for k in params:
        numeric = numerical_grad(
            lambda w, k=k: hw2.two_layer_loss({**params, k: w}, X, y)[0], params[k]
        )
        assert_close(grads[k], numeric, GRAD_RTOL, f"d{k} vs numerical")
        assert_close(grads[k], t_grads[k], TORCH_RTOL, f"d{k} vs torch")


def test_two_layer_predict_is_consistent_with_the_loss():
    params, X, y = _network(7, n=5)
    before = {k: v.copy() for k, v in params.items()}
    X0 = X.copy()
    p = hw2.two_layer_predict(params, X)
    assert np.array_equal(X, X0) and all(np.array_equal(params[k], before[k]) for k in params)
    assert p.shape == (5, 1)
    assert hw2.two_layer_loss(params, X, y)[0] == pytest.approx(hw2.bce_loss(p, y)[0], rel=1e-14)


def test_two_layer_is_stable_for_huge_inputs():
    params, X, y = _network(8, n=4)
    with np.errstate(**STRICT_FP):
        loss, grads = hw2.two_layer_loss(params, 1000 * X, y)
        p = hw2.two_layer_predict(params, 1000 * X)
    assert math.isfinite(loss) and all(np.all(np.isfinite(g)) for g in grads.values())
    assert np.all((p >= 0) & (p <= 1))


# ---------------------------------------------------------------- optimizers

STEPS = 25


def _params0():
    rng = np.random.default_rng(11)
    return {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}


_CURV = {k: np.abs(v) + 0.5 for k, v in _params0().items()}


def _grad_fn(params):
    """A smooth, non-quadratic gradient field, so each step sees a different gradient."""
    return {k: _CURV[k] * v + np.sin(3 * v) for k, v in params.items()}


def numpy_trajectory(opt, steps=STEPS):
    params = _params0()
    arrays = dict(params)  # the original array objects, which must be updated in place
    traj = []
    for _ in range(steps):
        grads = _grad_fn(params)
        grads0 = {k: g.copy() for k, g in grads.items()}
        opt.step(params, grads)
        assert all(np.array_equal(grads[k], grads0[k]) for k in grads), "grads were mutated"
        assert set(params) == set(arrays)
        assert all(params[k] is arrays[k] for k in params), "arrays not updated in place"
        traj.append({k: v.copy() for k, v in params.items()})
    return traj


def torch_trajectory(make_opt, steps=STEPS):
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in _params0().items()}
    opt = make_opt(list(tensors.values()))
    traj = []
    for _ in range(steps):
        grads = _grad_fn({k: t.detach().numpy().copy() for k, t in tensors.items()})
        for k, t in tensors.items():
            t.grad = torch.from_numpy(grads[k])
        opt.step()
        traj.append({k: t.detach().numpy().copy() for k, t in tensors.items()})
    return traj


def assert_same_trajectory(traj, expected, rtol=1e-11):
    assert len(traj) == len(expected)
    for i, (a, e) in enumerate(zip(traj, expected, strict=True)):
        for k in e:
            assert_close(a[k], e[k], rtol, f"step {i + 1}, {k}")


# Momentum vs torch: torch keeps b_t = mu b_{t-1} + g_t (b_1 = g_1) and steps theta -= lr b_t;
# the contract keeps v_t = mu v_{t-1} - lr g_t (v_0 = 0) and steps theta += v_t. By induction
# v_t = -lr b_t (v_1 = -lr g_1; v_t = -lr (mu b_{t-1} + g_t)), so with a constant lr the two
# parameter trajectories are identical.
OPTIMIZER_CASES = {
    "SGD": (lambda: hw2.SGD(0.1), lambda ps: torch.optim.SGD(ps, lr=0.1)),
    "Momentum": (
        lambda: hw2.Momentum(0.05, momentum=0.8),
        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8),
    ),
    "Momentum-default": (
        lambda: hw2.Momentum(0.05),
        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9),
    ),
    "RMSprop": (
        lambda: hw2.RMSprop(0.01, beta=0.8, eps=1e-3),  # a large eps pins its placement
        lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.8, eps=1e-3),
    ),
    "RMSprop-default": (
        lambda: hw2.RMSprop(0.01),
        lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-8),
    ),
    "Adam": (
        lambda: hw2.Adam(0.05, beta1=0.8, beta2=0.95, eps=1e-3),
        lambda ps: torch.optim.Adam(ps, lr=0.05, betas=(0.8, 0.95), eps=1e-3),
    ),
    "Adam-default": (hw2.Adam, lambda ps: torch.optim.Adam(ps, lr=1e-3)),
}


@pytest.mark.parametrize("case", list(OPTIMIZER_CASES))
def test_optimizer_trajectory_matches_torch(case):
    make_ours, make_torch = OPTIMIZER_CASES[case]
    assert_same_trajectory(numpy_trajectory(make_ours()), torch_trajectory(make_torch))


def test_momentum_follows_the_contract_formula():
    lr, mu = 0.05, 0.7
    params = _params0()
    v = {k: np.zeros_like(p) for k, p in params.items()}
    expected = []
    for _ in range(STEPS):
        g = _grad_fn(params)
        for k in params:
            v[k] = mu * v[k] - lr * g[k]
            params[k] = params[k] + v[k]
        expected.append({k: p.copy() for k, p in params.items()})
    assert_same_trajectory(numpy_trajectory(hw2.Momentum(lr, momentum=mu)), expected, 1e-13)


@pytest.mark.parametrize("case", ["Momentum", "RMSprop", "Adam"])
def test_optimizer_state_is_kept_per_key(case):
    """One optimizer on {W, b} moves each array as a separate optimizer on it alone would."""
    make_ours, _ = OPTIMIZER_CASES[case]
    together = make_ours()
    alone = {k: make_ours() for k in _params0()}
    p_together = _params0()
    p_alone = {k: {k: v} for k, v in _params0().items()}
    for _ in range(5):
        g = _grad_fn(p_together)
        together.step(p_together, g)
        for k, opt in alone.items():
            opt.step(p_alone[k], _grad_fn(p_alone[k]))
    for k in p_together:
        assert_close(p_together[k], p_alone[k][k], 1e-15, f"{case} {k}")


# ---------------------------------------------------------------- lr schedules


@pytest.mark.parametrize("t", [0, 1, 2, 3, 4, 7, 9, 10])
def test_lr_schedules_follow_the_contract(t):
    assert hw2.step_decay(0.1, 0.5, 3, t) == pytest.approx(0.1 * 0.5 ** (t // 3), rel=1e-15)
    assert hw2.exponential_decay(0.2, 0.9, t) == pytest.approx(0.2 * 0.9**t, rel=1e-14)
    cos = 0.01 + (0.5 - 0.01) * (1 + math.cos(math.pi * t / 8)) / 2
    assert hw2.cosine_annealing(t, 8, 0.5, lr_min=0.01) == pytest.approx(cos, rel=1e-14)
    warm = 0.3 * t / 4 if t < 4 else 0.3
    assert hw2.linear_warmup(t, 4, 0.3) == pytest.approx(warm, rel=1e-15)


def test_lr_schedule_landmarks():
    assert hw2.step_decay(1.0, 0.1, 5, 4) == 1.0
    assert hw2.step_decay(1.0, 0.1, 5, 5) == pytest.approx(0.1)
    assert hw2.cosine_annealing(0, 10, 0.4) == pytest.approx(0.4)
    assert hw2.cosine_annealing(5, 10, 0.4) == pytest.approx(0.2)
    assert hw2.cosine_annealing(10, 10, 0.4) == pytest.approx(0.0, abs=1e-16)
    assert hw2.cosine_annealing(10, 10, 0.4, 0.1) == pytest.approx(0.1)
    assert hw2.linear_warmup(0, 10, 0.5) == 0.0
    assert hw2.linear_warmup(10, 10, 0.5) == 0.5
    assert hw2.linear_warmup(25, 10, 0.5) == 0.5


TORCH_SCHEDULERS = [
    (
        lambda t: hw2.step_decay(0.3, 0.5, 3, t),
        lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
    ),
    (
        lambda t: hw2.exponential_decay(0.3, 0.9, t),
        lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.9),
    ),
    (
        lambda t: hw2.cosine_annealing(t, 12, 0.3, 0.02),
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=12, eta_min=0.02),
    ),
]


@pytest.mark.parametrize(("ours", "make_sched"), TORCH_SCHEDULERS)
def test_lr_schedules_match_torch_schedulers(ours, make_sched):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
    sched = make_sched(opt)
    for t in range(13):
        assert ours(t) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-9), f"t = {t}"
        opt.step()
        sched.step()


# ---------------------------------------------------------------- clip_grad_norm


def _grads(scale):
    rng = np.random.default_rng(12)
    return {"W": scale * rng.standard_normal((3, 2)), "b": scale * rng.standard_normal(2)}


def test_clip_grad_norm_scales_down_and_matches_torch():
    grads = _grads(4.0)
    grads0 = {k: g.copy() for k, g in grads.items()}
    max_norm = 1.5
    clipped, total = hw2.clip_grad_norm(grads, max_norm)
    assert all(np.array_equal(grads[k], grads0[k]) for k in grads), "input was mutated"
    assert clipped is not grads and set(clipped) == set(grads)
    expected_total = math.sqrt(sum(float(np.sum(g**2)) for g in grads0.values()))
    assert total == pytest.approx(expected_total, rel=1e-14) and total > max_norm
    for k in grads:
        assert_close(clipped[k], grads0[k] * max_norm / expected_total, 1e-14, k)
    new_total = math.sqrt(sum(float(np.sum(g**2)) for g in clipped.values()))
    assert new_total == pytest.approx(max_norm, rel=1e-12)
    # torch divides by (total + 1e-6), hence the looser tolerance.
    tensors = [torch.tensor(g, requires_grad=True) for g in grads.values()]
    for t, g in zip(tensors, grads.values(), strict=True):
        t.grad = torch.tensor(g)
    t_total = torch.nn.utils.clip_grad_norm_(tensors, max_norm)
    assert total == pytest.approx(t_total.item(), rel=1e-12)
    for t, k in zip(tensors, grads, strict=True):
        assert_close(clipped[k], t.grad.numpy(), 1e-5, f"clipped {k} vs torch")


@pytest.mark.parametrize("max_norm", [100.0, None])
def test_clip_grad_norm_leaves_small_gradients_alone(max_norm):
    grads = _grads(0.5)
    total = math.sqrt(sum(float(np.sum(g**2)) for g in grads.values()))
    max_norm = total if max_norm is None else max_norm  # at exactly max_norm: no scaling
    clipped, got_total = hw2.clip_grad_norm(grads, max_norm)
    assert got_total == pytest.approx(total, rel=1e-14)
    for k in grads:
        assert np.array_equal(clipped[k], grads[k])
        clipped[k] += 1.0  # a new array: writing to it must not reach the input
        assert not np.array_equal(clipped[k], grads[k])


# ---------------------------------------------------------------- train_two_layer


def _blobs(n=60, seed=13):
    """Two Gaussian blobs in 3-D; the first column is the row index, to identify batches."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 2).reshape(n, 1) * 1.0
    X = rng.standard_normal((n, 3)) + 2.5 * (2 * y - 1)
    return X, y


class _RecordingSGD(hw2.SGD):
    def __init__(self, lr):
        super().__init__(lr)
        self.first_params = None
        self.calls = 0

    def step(self, params, grads):
        if self.first_params is None:
            self.first_params = {k: v.copy() for k, v in params.items()}
        self.calls += 1
        super().step(params, grads)


def test_train_two_layer_walks_permutations_in_mini_batches(monkeypatch):
    N, batch_size, epochs, seed, hidden = 10, 4, 3, 5, 6
    X, y = _blobs(N)
    X0, y0 = X.copy(), y.copy()
    seen, losses = [], []
    real_loss = hw2.two_layer_loss

    def spy(params, Xb, yb):
        seen.append(Xb.copy())
        loss, grads = real_loss(params, Xb, yb)
        losses.append(loss)
        return loss, grads

    monkeypatch.setattr(hw2, "two_layer_loss", spy)
    opt = _RecordingSGD(0.1)
    params, history = hw2.train_two_layer(X, y, hidden, opt, epochs, batch_size, seed=seed)
    assert np.array_equal(X, X0) and np.array_equal(y, y0), "data were mutated"

    rng = np.random.default_rng(seed)
    expected = []
    for _ in range(epochs):
        perm = rng.permutation(N)
        expected += [perm[s : s + batch_size] for s in range(0, N, batch_size)]
    assert len(seen) == len(expected) == opt.calls == epochs * 3
    for b, (Xb, idx) in enumerate(zip(seen, expected, strict=True)):
        assert np.array_equal(Xb, X[idx]), f"mini-batch {b} holds the wrong rows"
    init = hw2.init_two_layer(X.shape[1], hidden, seed)
    assert all(np.array_equal(opt.first_params[k], init[k]) for k in init)
    per_epoch = np.array(losses).reshape(epochs, 3).mean(axis=1)
    np.testing.assert_allclose(history, per_epoch, rtol=1e-15)
    assert all(isinstance(h, float) for h in history)


def test_train_two_layer_equals_a_hand_written_loop():
    X, y = _blobs(23)
    params, history = hw2.train_two_layer(X, y, 5, hw2.Adam(0.02), 4, 8, seed=2)
    p = hw2.init_two_layer(3, 5, 2)
    rng, opt, hist = np.random.default_rng(2), hw2.Adam(0.02), []
    for _ in range(4):
        perm, batch = rng.permutation(23), []
        for s in range(0, 23, 8):
            loss, g = hw2.two_layer_loss(p, X[perm[s : s + 8]], y[perm[s : s + 8]])
            opt.step(p, g)
            batch.append(loss)
        hist.append(np.mean(batch))
    np.testing.assert_allclose(history, hist, rtol=1e-14)
    for k in p:
        np.testing.assert_allclose(params[k], p[k], rtol=1e-14)


def test_train_two_layer_learns_separable_blobs():
    X, y = _blobs(120)
    params, history = hw2.train_two_layer(X, y, 8, hw2.Adam(0.05), 15, 16)
    accuracy = float(np.mean((hw2.two_layer_predict(params, X) > 0.5) == y))
    assert accuracy >= 0.95
    assert history[-1] < 0.5 * history[0]


# ---------------------------------------------------------------- the checks can fail


class _TanhSignFlip(hw2.Tanh):
    @staticmethod
    def backward(dout, cache):
        return (-dout * (1 - cache**2),)  # planted: sign flipped


class _AddNoRowSum(hw2.Add):
    @staticmethod
    def backward(dout, cache):
        return dout, dout.mean(axis=0)  # planted: mean instead of sum over rows


@pytest.mark.parametrize(("block", "name"), [(_TanhSignFlip, "Tanh"), (_AddNoRowSum, "Add")])
def test_block_checks_catch_planted_bugs(block, name):
    rng = np.random.default_rng(14)
    inputs = _inputs(name, rng)
    assert_raises_assertion(lambda: check_block_numerically(block, inputs, rng))
    assert_raises_assertion(
        lambda: check_block_against_torch(block, TORCH_BLOCKS[name], inputs, rng)
    )


def test_loss_check_catches_a_planted_bug():
    def bce_without_mean(p, y):
        loss, dp = hw2.bce_loss(p, y)
        return loss, dp * p.size  # planted: forgot the 1/n

    p = np.array([[0.2], [0.7], [0.4]])
    y = np.array([[0.0], [1.0], [1.0]])
    assert_raises_assertion(lambda: check_loss_numerically(bce_without_mean, p, y))


class _AdamNoBiasCorrection(hw2.Adam):
    def step(self, params, grads):
        for key in params:  # planted: no bias correction, m and v used directly
            g = grads[key]
            self.m.setdefault(key, np.zeros_like(g))
            self.v.setdefault(key, np.zeros_like(g))
            self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * g
            self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * g**2
            params[key] -= self.lr * self.m[key] / (np.sqrt(self.v[key]) + self.eps)


class _MomentumDampened(hw2.Momentum):
    def step(self, params, grads):
        for key in params:  # planted: an EMA velocity, v = mu v + (1 - mu) g; theta -= lr v
            self.v.setdefault(key, np.zeros_like(params[key]))
            self.v[key] = self.momentum * self.v[key] + (1 - self.momentum) * grads[key]
            params[key] -= self.lr * self.v[key]


@pytest.mark.parametrize(
    ("planted", "case"),
    [
        (lambda: _AdamNoBiasCorrection(0.05, beta1=0.8, beta2=0.95, eps=1e-3), "Adam"),
        (lambda: _MomentumDampened(0.05, momentum=0.8), "Momentum"),
        (lambda: hw2.RMSprop(0.01, beta=0.8, eps=1e-5), "RMSprop"),  # wrong eps
    ],
)
def test_trajectory_check_catches_planted_bugs(planted, case):
    _, make_torch = OPTIMIZER_CASES[case]
    expected = torch_trajectory(make_torch)
    assert_raises_assertion(lambda: assert_same_trajectory(numpy_trajectory(planted()), expected))
