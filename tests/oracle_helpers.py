"""Shared checks for the oracle tests of the reference solutions (tests only; torch allowed).

Each check raises AssertionError on a wrong reference, so a planted bug fails it; the
``test_*_catch_planted_bugs`` tests prove that for a few representative bugs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from bplab_checks.gradcheck import GRAD_RTOL, rel_error
from bplab_checks.numgrad import numerical_vjp
from hypothesis import settings
from hypothesis import strategies as st

# The shared profile (tests/conftest.py) with fewer examples: each one runs torch as well.
FAST = settings(max_examples=15)
# batch >= 2 and non-square: N in [2, 5], and the other dimension differs from N.
dims = st.tuples(st.integers(2, 5), st.integers(1, 6)).filter(lambda nm: nm[0] != nm[1])
seeds = st.integers(0, 2**32 - 1)

# Reference vs torch in float64: both compute the same formula, so only rounding differs.
TORCH_RTOL = 1e-10

# Errors that a stable forward pass must not raise for |x| up to 1000 (underflow to 0 is fine).
STRICT_FP = {"over": "raise", "invalid": "raise", "divide": "raise"}


def grads_tuple(result, n: int) -> tuple[np.ndarray, ...]:
    """Normalise a backward result (tuple, list, or a bare array for one input) to n arrays."""
    if isinstance(result, np.ndarray):
        result = (result,)
    result = tuple(result)
    assert len(result) == n, f"backward returned {len(result)} gradients for {n} inputs"
    return tuple(np.asarray(g, dtype=np.float64) for g in result)


def away_from_zero(x: np.ndarray, margin: float = 1e-3) -> np.ndarray:
    """x pushed at least ``margin`` away from 0 (kinks of relu-like blocks break central diffs)."""
    return x + np.where(x >= 0, margin, -margin)


def assert_close(actual, expected, rtol: float, what: str) -> None:
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape, f"{what}: shape {a.shape}, expected {e.shape}"
    err = rel_error(a, e)
    assert err <= rtol, f"{what}: relative error {err:.3e} > {rtol:.1e}"


def check_block_numerically(block, inputs: Sequence[np.ndarray], rng: np.random.Generator):
    """Backward of ``block`` against a numerical VJP with a random upstream gradient.

    Also checks gradient shapes and that neither forward nor backward mutates its inputs.

    Returns:
        (out, dout, grads) of the analytic pass, for further comparisons.
    """
    inputs = [np.asarray(x, dtype=np.float64) for x in inputs]
    before = [x.copy() for x in inputs]
    out, cache = block.forward(*inputs)
    out = np.asarray(out, dtype=np.float64)
    dout = np.asarray(rng.standard_normal(out.shape), dtype=np.float64)
    dout_before = dout.copy()
    grads = grads_tuple(block.backward(dout, cache), len(inputs))
    for k, (x, x0) in enumerate(zip(inputs, before, strict=True)):
        assert np.array_equal(x, x0), f"{block.__name__}: input {k} was mutated"
    assert np.array_equal(dout, dout_before), f"{block.__name__}: dout was mutated"
    numeric = numerical_vjp(lambda *a: block.forward(*a)[0], inputs, dout)
    for k, (g, n) in enumerate(zip(grads, numeric, strict=True)):
        assert_close(g, n, GRAD_RTOL, f"{block.__name__} gradient of input {k} vs numerical")
    return out, dout, grads


def torch_vjp(fn: Callable, inputs: Sequence[np.ndarray], dout) -> tuple[np.ndarray, list]:
    """Output of the torch function ``fn`` on float64 copies of ``inputs`` and its VJP with dout."""
    ts = [torch.tensor(np.asarray(x), dtype=torch.float64, requires_grad=True) for x in inputs]
    out = fn(*ts)
    out.backward(torch.as_tensor(np.asarray(dout), dtype=torch.float64))
    grads = []
    for t in ts:
        assert t.grad is not None, "torch gave no gradient"
        grads.append(t.grad.numpy())
    return out.detach().numpy(), grads


def check_block_against_torch(block, torch_fn: Callable, inputs, rng: np.random.Generator) -> None:
    """Forward and backward of ``block`` against torch autograd, with a random upstream gradient."""
    inputs = [np.asarray(x, dtype=np.float64) for x in inputs]
    out, cache = block.forward(*inputs)
    out = np.asarray(out, dtype=np.float64)
    dout = np.asarray(rng.standard_normal(out.shape), dtype=np.float64)
    grads = grads_tuple(block.backward(dout, cache), len(inputs))
    t_out, t_grads = torch_vjp(torch_fn, inputs, dout)
    assert_close(out, t_out, TORCH_RTOL, f"{block.__name__} forward vs torch")
    for k, (g, tg) in enumerate(zip(grads, t_grads, strict=True)):
        assert_close(g, tg, TORCH_RTOL, f"{block.__name__} gradient of input {k} vs torch")


def check_loss_numerically(loss_fn: Callable, pred: np.ndarray, target) -> tuple[float, np.ndarray]:
    """Gradient returned by ``loss_fn(pred, target) -> (loss, dpred)`` vs central differences.

    Also checks that neither argument is mutated. Returns (loss, dpred).
    """
    pred_before = pred.copy()
    target_before = np.array(target, copy=True)
    loss, dpred = loss_fn(pred, target)
    assert np.array_equal(pred, pred_before), "prediction was mutated"
    assert np.array_equal(target, target_before), "target was mutated"
    (numeric,) = numerical_vjp(lambda p: np.asarray(loss_fn(p, target)[0]), [pred], 1.0)
    assert_close(dpred, numeric, GRAD_RTOL, f"{loss_fn.__name__} gradient vs numerical")
    return float(loss), np.asarray(dpred)


def assert_raises_assertion(check: Callable[[], object]) -> str:
    """Run a check that must fail; return its message (proves the check can fail)."""
    try:
        check()
    except AssertionError as exc:
        return str(exc)
    raise AssertionError("the check passed on a planted bug")
