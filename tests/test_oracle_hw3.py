"""Oracle tests of the hw3 reference (solutions/hw3.py) against torch autograd in float64:
Multiply, Graph (diamond, triple use, linear regression, random DAGs), mlp_init/mlp_loss for
L = 1..4, gradient_norms (torch builds the same stack), lr_range_test (a torch SGD loop with the
same stopping rule) and suggest_lr; plus planted bugs that these oracles catch."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from oracle_helpers import (
    FAST,
    TORCH_RTOL,
    assert_close,
    assert_raises_assertion,
    check_block_against_torch,
    check_block_numerically,
    seeds,
)

from solutions import hw1, hw2, hw3

pytestmark = pytest.mark.hw3

T = torch.float64


def _t(x, grad: bool = True) -> torch.Tensor:
    return torch.tensor(np.asarray(x), dtype=T, requires_grad=grad)


def test_multiply_matches_torch_and_numerical():
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal((3, 5)), rng.standard_normal((3, 5))]
    check_block_numerically(hw3.Multiply, inputs, rng)
    check_block_against_torch(hw3.Multiply, lambda a, b: a * b, inputs, rng)


# ---------------------------------------------------------------- Graph

# Blocks the random graphs draw from, with their torch twins (one or two inputs, same shapes).
UNARY: list[tuple[Any, Callable[..., Any]]] = [
    (hw2.Tanh, torch.tanh), (hw1.Sigmoid, torch.sigmoid), (hw1.Square, lambda x: x**2)]
BINARY: list[tuple[Any, Callable[..., Any]]] = [
    (hw3.Multiply, lambda a, b: a * b), (hw1.Subtract, lambda a, b: a - b)]


def _random_dag(seed: int, n_inputs: int, n_nodes: int):
    """A random DAG of elementwise blocks over inputs of one shape, ended by Multiply with a
    random R and Sum: returns (graph, feed, torch function of the inputs)."""
    rng = np.random.default_rng(seed)
    g = hw3.Graph()
    names = [f"x{k}" for k in range(n_inputs)]
    nodes = [g.input(n) for n in names]
    plan = []
    for _ in range(n_nodes):
        if rng.random() < 0.5:
            k = int(rng.integers(len(UNARY)))
            parents: tuple[int, ...] = (int(rng.integers(len(nodes))),)
            block, twin = UNARY[k]
        else:
            k = int(rng.integers(len(BINARY)))
            parents = tuple(int(p) for p in rng.integers(len(nodes), size=2))
            block, twin = BINARY[k]
        nodes.append(g.apply(block, *[nodes[p] for p in parents]))
        plan.append((twin, parents))
    r = g.input("R")
    g.apply(hw1.Sum, g.apply(hw3.Multiply, nodes[-1], r))
    shape = (3, 2)
    feed = {n: rng.uniform(-1, 1, shape) for n in names}
    feed["R"] = rng.standard_normal(shape)

    def torch_fn(inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        values = [inputs[n] for n in names]
        for twin, parents in plan:
            values.append(twin(*[values[p] for p in parents]))
        return (values[-1] * inputs["R"]).sum()

    return g, feed, torch_fn


def _torch_grads(torch_fn, feed):
    ts = {k: _t(v) for k, v in feed.items()}
    out = torch_fn(ts)
    out.backward()
    return float(out), {k: t.grad.numpy() if t.grad is not None else np.zeros_like(feed[k])
                        for k, t in ts.items()}


@FAST
@given(seed=seeds, n_inputs=st.integers(1, 3), n_nodes=st.integers(1, 8))
def test_graph_matches_torch_on_random_dags(seed, n_inputs, n_nodes):
    g, feed, torch_fn = _random_dag(seed, n_inputs, n_nodes)
    value = g.forward({k: v.copy() for k, v in feed.items()})
    grads = g.backward()
    t_value, t_grads = _torch_grads(torch_fn, feed)
    assert math.isclose(float(value), t_value, rel_tol=1e-12, abs_tol=1e-12)
    for k in feed:
        assert_close(grads[k], t_grads[k], TORCH_RTOL, f"Graph d{k} vs torch")


def test_graph_repeated_forward_gives_new_gradients_and_leaves_the_feed():
    g, feed, torch_fn = _random_dag(7, 2, 6)
    for scale in (1.0, 0.5, -2.0):
        new = {k: v * scale for k, v in feed.items()}
        before = {k: v.copy() for k, v in new.items()}
        g.forward(new)
        grads = g.backward()
        assert all(np.array_equal(new[k], before[k]) for k in new)
        _, t_grads = _torch_grads(torch_fn, new)
        for k in new:
            assert_close(grads[k], t_grads[k], TORCH_RTOL, f"d{k} after a new forward")


def test_graph_linear_regression_equals_hw1_and_torch():
    rng = np.random.default_rng(3)
    theta, X = rng.standard_normal((4, 1)), rng.standard_normal((7, 4))
    Y = rng.standard_normal((7, 1))
    g = hw3.Graph()
    t, x, y = g.input("theta"), g.input("X"), g.input("Y")
    g.apply(hw1.Sum, g.apply(hw1.Square, g.apply(hw1.Subtract, g.apply(hw1.MatMul, x, t), y)))
    loss = g.forward({"theta": theta, "X": X, "Y": Y})
    grads = g.backward()
    ref_loss, ref_dtheta = hw1.linreg_loss_and_grad(theta, X, Y)
    assert math.isclose(loss, ref_loss, rel_tol=1e-12)
    assert_close(grads["theta"], ref_dtheta, 1e-12, "dtheta vs hw1")
    tt, tx, ty = _t(theta), _t(X), _t(Y)
    ((tx @ tt - ty) ** 2).sum().backward()
    for name, tensor in (("theta", tt), ("X", tx), ("Y", ty)):
        assert_close(grads[name], tensor.grad.numpy(), TORCH_RTOL, f"d{name} vs torch")


def test_graph_calls_each_backward_once_in_reverse_topological_order():
    log = []

    def traced(block, label):
        def backward(dout, cache):
            log.append(label)
            return block.backward(dout, cache)
        return type(label, (), {"forward": staticmethod(block.forward),
                                "backward": staticmethod(backward)})

    g = hw3.Graph()
    x = g.input("x")
    s = g.apply(traced(hw2.Tanh, "s"), x)
    e = g.apply(traced(hw1.Sigmoid, "e"), s)
    m = g.apply(traced(hw3.Multiply, "m"), s, e)
    g.apply(traced(hw1.Sum, "out"), m)
    g.forward({"x": np.linspace(-1, 1, 6).reshape(2, 3)})
    g.backward()
    assert sorted(log) == ["e", "m", "out", "s"]
    assert log.index("out") < log.index("m") < log.index("e") < log.index("s")


def test_graph_handles_a_deep_chain_without_recursion_limits():
    g = hw3.Graph()
    node = g.input("x")
    for _ in range(3000):
        node = g.apply(hw2.Tanh, node)
    g.apply(hw1.Sum, node)
    x = np.full((1, 2), 0.3)
    g.forward({"x": x})
    tx = _t(x)
    h = tx
    for _ in range(3000):
        h = torch.tanh(h)
    h.sum().backward()
    assert_close(g.backward()["x"], tx.grad.numpy(), 1e-9, "deep chain vs torch")


# ---------------------------------------------------------------- mlp

ACT = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


def _torch_mlp(params, X, y, activation):
    ts = {k: _t(v) for k, v in params.items()}
    L = len(params) // 2
    a = _t(X, grad=False)
    for l in range(1, L + 1):
        z = a @ ts[f"W{l}"] + ts[f"b{l}"]
        a = ACT[activation](z) if l < L else torch.sigmoid(z)
    loss = torch.nn.functional.binary_cross_entropy(a, _t(y, grad=False))
    loss.backward()
    return float(loss), {k: t.grad.numpy() for k, t in ts.items()}


@FAST
@given(seed=seeds, L=st.integers(1, 4), n=st.integers(1, 6),
       activation=st.sampled_from(sorted(ACT)))
def test_mlp_loss_matches_torch(seed, L, n, activation):
    rng = np.random.default_rng(seed)
    sizes = [int(d) for d in rng.integers(1, 6, size=L)] + [1]
    params = hw3.mlp_init(sizes, seed=seed % 1000)
    for key in params:
        if key.startswith("b"):
            params[key] = 0.1 * rng.standard_normal(params[key].shape)
    X = rng.standard_normal((n, sizes[0]))
    y = (rng.random((n, 1)) < 0.5).astype(np.float64)
    loss, grads = hw3.mlp_loss(params, X, y, activation)
    t_loss, t_grads = _torch_mlp(params, X, y, activation)
    assert math.isclose(loss, t_loss, rel_tol=1e-10)
    for key in params:
        assert_close(grads[key], t_grads[key], TORCH_RTOL, f"mlp {key} vs torch")


def test_mlp_init_draws_in_contract_order():
    rng = np.random.default_rng(5)
    expected = {}
    for l, (a, b) in enumerate([(4, 3), (3, 2), (2, 1)], start=1):
        expected[f"W{l}"] = rng.standard_normal((a, b)) * np.sqrt(2 / a)
        expected[f"b{l}"] = np.zeros(b)
    got = hw3.mlp_init([4, 3, 2, 1], seed=5)
    assert list(got) == list(expected)
    for key in expected:
        assert np.array_equal(got[key], expected[key]), key


def test_mlp_two_layer_case_equals_hw2():
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((6, 4)), (rng.random((6, 1)) < 0.5).astype(np.float64)
    params = hw2.init_two_layer(4, 5, seed=1)
    loss, grads = hw3.mlp_loss(params, X, y)
    ref_loss, ref_grads = hw2.two_layer_loss(params, X, y)
    assert math.isclose(loss, ref_loss, rel_tol=1e-12)
    for key in params:
        assert_close(grads[key], ref_grads[key], 1e-12, key)


# ---------------------------------------------------------------- gradient_norms

def _torch_norms(depth, width, activation, scale, seed):
    rng = np.random.default_rng(seed)
    X = _t(rng.standard_normal((64, width)), grad=False)
    Ws = [_t(rng.standard_normal((width, width)) * scale / np.sqrt(width)) for _ in range(depth)]
    a = X
    for W in Ws:
        a = ACT[activation](a @ W)
    (a.sum() / 64).backward()
    return [float(torch.linalg.norm(W.grad)) for W in Ws]


@pytest.mark.parametrize(("depth", "width", "activation", "scale", "seed"), [
    (1, 5, "tanh", 1.0, 0), (4, 7, "relu", 1.0, 3), (10, 64, "sigmoid", 1.0, 0),
    (6, 9, "tanh", 3.0, 1), (10, 64, "relu", math.sqrt(2), 2)])
def test_gradient_norms_match_torch(depth, width, activation, scale, seed):
    ours = hw3.gradient_norms(depth, width, activation, scale, seed)
    theirs = _torch_norms(depth, width, activation, scale, seed)
    assert all(isinstance(v, float) for v in ours)
    assert_close(ours, theirs, 1e-9, "gradient norms vs torch")


def test_gradient_norm_properties_hold_over_seeds():
    for seed in range(5):
        sig = hw3.gradient_norms(10, 64, "sigmoid", 1.0, seed)
        relu = hw3.gradient_norms(10, 64, "relu", math.sqrt(2), seed)
        tanh = hw3.gradient_norms(10, 64, "tanh", 3.0, seed)
        assert sig[0] / sig[-1] < 1e-3
        assert 0.1 <= relu[0] / relu[-1] <= 10
        assert tanh[0] / tanh[-1] > 2


# ---------------------------------------------------------------- lr_range_test

def _torch_range_test(loss_fn, params, lr_min, lr_max, factor, diverge):
    """The same stopping rule, driven by torch.optim.SGD with its lr raised after each step."""
    ts = [_t(v) for v in params.values()]
    opt = torch.optim.SGD(ts, lr=lr_min)
    lrs, losses, best, lr = [], [], math.inf, lr_min
    while lr <= lr_max:
        opt.zero_grad()
        loss = loss_fn(*ts)
        loss.backward()
        lrs.append(lr)
        losses.append(float(loss))
        best = min(best, losses[-1])
        if not math.isfinite(losses[-1]) or losses[-1] > diverge * best:
            break
        for group in opt.param_groups:
            group["lr"] = lr
        opt.step()
        lr *= factor
    return lrs, losses


def test_lr_range_test_on_a_quadratic_matches_torch_and_stops_past_2_over_a():
    a = 4.0
    theta = np.random.default_rng(0).standard_normal((3, 2))
    lrs, losses = hw3.lr_range_test(
        lambda p: (0.5 * a * float(np.sum(p["theta"] ** 2)), {"theta": a * p["theta"]}),
        {"theta": theta}, lr_min=1e-3, lr_max=10.0, factor=1.2)
    t_lrs, t_losses = _torch_range_test(lambda t: 0.5 * a * (t**2).sum(), {"theta": theta},
                                        1e-3, 10.0, 1.2, 4.0)
    assert_close(lrs, t_lrs, 1e-12, "lrs vs torch")
    assert_close(losses, t_losses, 1e-10, "losses vs torch")
    assert lrs[-2] > 2 / a and losses[-1] > 4 * min(losses)
    steps = [k for k in range(len(lrs) - 1) if lrs[k] <= 2 / a]
    assert all(losses[k + 1] <= losses[k] for k in steps)
    assert hw3.suggest_lr(lrs, losses) in lrs


def test_lr_range_test_on_an_mlp_matches_torch_and_leaves_params():
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((20, 3)), (rng.random((20, 1)) < 0.5).astype(np.float64)
    params = hw3.mlp_init([3, 5, 1], seed=0)
    before = {k: v.copy() for k, v in params.items()}
    lrs, losses = hw3.lr_range_test(lambda p: hw3.mlp_loss(p, X, y), params,
                                    lr_min=1e-3, lr_max=1e3, factor=1.3)
    assert all(np.array_equal(params[k], before[k]) for k in params)

    def loss_fn(W1, b1, W2, b2):
        p = torch.sigmoid(torch.relu(_t(X, False) @ W1 + b1) @ W2 + b2)
        return torch.nn.functional.binary_cross_entropy(p, _t(y, False))

    t_lrs, t_losses = _torch_range_test(loss_fn, params, 1e-3, 1e3, 1.3, 4.0)
    assert len(lrs) == len(t_lrs)
    assert_close(losses, t_losses, 1e-8, "mlp range test losses vs torch")


def test_suggest_lr_is_the_steepest_descent():
    lrs = [1e-3 * 2**k for k in range(6)]
    assert hw3.suggest_lr(lrs, [1.0, 0.9, 0.4, 0.3, 0.2, math.inf]) == lrs[1]
    assert hw3.suggest_lr(lrs[:3], [1.0, 1.0, 1.0]) == lrs[0]  # ties: the first


# ---------------------------------------------------------------- the oracles catch bugs

def test_oracles_catch_planted_bugs():
    class OverwritingGraph(hw3.Graph):
        def backward(self):
            out = len(self.blocks) - 1
            grads = {out: 1.0}
            for node in range(out, -1, -1):
                if self.blocks[node] is None:
                    continue
                local = self.blocks[node].backward(grads[node], self.caches[node])
                local = local if isinstance(local, tuple | list) else (local,)
                for p, g in zip(self.parents[node], local, strict=True):
                    grads[p] = g  # the last path wins
            return {self.names[n]: grads[n] for n in range(out + 1) if self.blocks[n] is None}

    g = OverwritingGraph()
    x = g.input("x")
    g.apply(hw1.Sum, g.apply(hw3.Multiply, x, x))
    X = np.array([[1.0, -2.0]])
    g.forward({"x": X})
    tx = _t(X)
    (tx * tx).sum().backward()
    assert_raises_assertion(lambda: assert_close(g.backward()["x"], tx.grad.numpy(),
                                                 TORCH_RTOL, "dx"))
    wrong = hw3.gradient_norms(3, 5, "tanh", 1.0, 0)[::-1]
    assert_raises_assertion(lambda: assert_close(wrong, _torch_norms(3, 5, "tanh", 1.0, 0),
                                                 1e-9, "norms"))
