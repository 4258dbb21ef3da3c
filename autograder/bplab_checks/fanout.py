"""Fan-out: checks of hw1's ``fan_out_grad`` and the diagnoses of its two usual mistakes.

``fan_out_grad(x, y) -> (f, dx, dy)`` for ``f = sum((x - y) * x)``: the graph is
``q = x - y`` (Subtract), ``p = q * x`` (Multiply), ``f = sum(p)`` (Sum), so ``x`` reaches ``f``
along two paths and ``dx`` is the sum of

* the **direct** path, ``x`` as Multiply's second input: ``dout * q = x - y``, and
* the path **through Subtract**: Multiply's ``dA = dout * x``, passed on unchanged by Subtract.

The backward pass in reverse order meets the direct path first (Multiply's backward) and the
path through Subtract last; so a ``dx`` equal to the direct path alone is a path never added
(``fan_out_path_dropped``), one equal to the path through Subtract alone is the direct path's
value overwritten by the later assignment (``fan_out_path_overwritten``). Either way the repair
is the same: add the two.

Public checks compare with central differences of the contract's ``f`` along random directions
(``gradcheck.directional_derivatives``); hidden checks compare with the reference on other
inputs. Every check covers non-square shapes, a batch of several rows and a single row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from bplab_checks.callees import trusted_callees
from bplab_checks.diagnose import DIFFER_RTOL, MATCH_RTOL
from bplab_checks.feedback import (
    as_float64,
    assert_close,
    assert_directional,
    call,
    check_shape,
    check_untouched,
    describe,
    fail,
    snapshot,
)
from bplab_checks.gradcheck import directional_derivatives, rel_error
from bplab_checks.i18n import N_, t
from bplab_checks.tag import tag
from bplab_checks.tolerances import GRAD_RTOL, REF_RTOL

NAME = "fan_out_grad"
# Public shapes: non-square with a batch of 3, and a single row. Hidden shapes differ.
PUBLIC_SHAPES: tuple[tuple[int, int], ...] = ((3, 4), (1, 5))
HIDDEN_SHAPES: tuple[tuple[int, int], ...] = ((5, 2), (2, 7), (1, 3))


def fan_out_value(x: np.ndarray, y: np.ndarray) -> float:
    """The contract's ``f = sum((x - y) * x)``."""
    return float(np.sum((x - y) * x))


def fan_out_inputs(shape: tuple[int, int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``x``, ``y`` float64 of ``shape``; ``x`` and ``x - y`` kept away from 0 so that the two
    single-path gradients differ clearly from each other and from the right one."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
    y = x - rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
    return x, y


def fan_out_diagnosis(dx, x: np.ndarray, y: np.ndarray) -> str | None:
    """The sentence for a ``dx`` that holds one path's gradient only, or None (never raises)."""
    try:
        a = np.asarray(dx, dtype=np.float64)
        right = 2 * x - y
        if a.shape != right.shape or not np.all(np.isfinite(a)):
            return None
        direct, through = x - y, x
        for single, code, text in (
            (direct, "fan_out_path_dropped", N_(
                "holds only the gradient of the direct path (x as Multiply's second input): the "
                "path through Subtract is missing; x feeds two nodes, so add Subtract.backward's "
                "gradient for x to it")),
            (through, "fan_out_path_overwritten", N_(
                "holds only the gradient that came back through Subtract, the last one the "
                "backward pass computes: the direct path's gradient from Multiply.backward was "
                "overwritten; add the two (dx = one + other), do not assign twice")),
        ):
            if rel_error(a, single) <= MATCH_RTOL and rel_error(single, right) > DIFFER_RTOL:
                return f"{t('{what} from {block}', what='dx', block=NAME)} {t(text)} {tag(code)}"
    except Exception:  # noqa: BLE001 - a diagnosis is a bonus; it must never break a check
        return None
    return None


def _result(fan_out_grad, x: np.ndarray, y: np.ndarray):
    """The student's ``(f, dx, dy)`` as float64 values, with feedback on the form; and the
    check that ``x`` and ``y`` were left alone."""
    args = {"x": x.copy(), "y": y.copy()}
    before = snapshot(args)
    result = call(NAME, fan_out_grad, args["x"], args["y"])
    check_untouched(before, args, block=NAME, during=NAME)
    if not isinstance(result, tuple | list) or len(result) != 3:
        fail(f"{NAME} returned {describe(result)}; expected a triple (f, dx, dy).")
    f = as_float64(result[0], f"{NAME}: f", block=NAME, scalar=True)
    grads = []
    for what, g in zip(("dx", "dy"), result[1:], strict=True):
        arr = as_float64(g, f"{NAME}: {what}", block=NAME)
        check_shape(arr, x.shape, f"{NAME}: {what}", block=NAME,
                    context=f"{what} has the shape of {what[1:]}.")
        grads.append(arr)
    return f, grads[0], grads[1]


def _fan_out_first(dx: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
    sentence = fan_out_diagnosis(dx, x, y)
    if sentence:
        fail(sentence, t("Checked: dx on x, y {shape}.", shape=x.shape))


def check_fan_out_grad(fan_out_grad, shapes: Sequence[tuple[int, int]] = PUBLIC_SHAPES,
                       seed: int = 0) -> None:
    """Public check: ``f`` equals its definition, ``dx`` and ``dy`` agree with central
    differences of ``f`` along random directions, and the inputs are left untouched."""
    for k, shape in enumerate(shapes):
        x, y = fan_out_inputs(shape, seed + k)
        f, dx, dy = _result(fan_out_grad, x, y)
        checked = t("{name} on x {shape}, y {shape} (seed {seed}).", name=NAME, shape=shape,
                    seed=seed + k)
        assert_close(f, np.asarray(fan_out_value(x, y)), what="f", block=NAME, rtol=REF_RTOL,
                     reveal=True, checked=f"f against sum((x - y) * x), {checked}")
        _fan_out_first(dx, x, y)
        for j, (what, wrt, grad) in enumerate((("dx", "x", dx), ("dy", "y", dy))):
            def f_of(z, j=j, x=x, y=y):
                return fan_out_value(z, y) if j == 0 else fan_out_value(x, z)

            point = x if j == 0 else y
            check = directional_derivatives(f_of, point, grad, seed=100 * (seed + k) + j)
            assert_directional(grad, check, what=what, wrt=wrt, block=NAME, rtol=GRAD_RTOL,
                               function="sum((x - y) * x)",
                               checked=t("{what} against central differences, {checked}",
                                         what=what, checked=checked),
                               diagnose_details={"inputs": (x, y)})


def check_fan_out_matches_reference(fan_out_grad, reference: Callable,
                                    shapes: Sequence[tuple[int, int]] = HIDDEN_SHAPES,
                                    seed: int = 10, *,
                                    callees: Mapping[str, object] | None = None) -> None:
    """Hidden check: ``(f, dx, dy)`` equal the reference's on unseen inputs; with ``callees``
    (the reference blocks of other questions) ``fan_out_grad`` runs with them, so their bugs
    are charged to their own questions (``bplab_checks.callees``)."""
    for k, shape in enumerate(shapes):
        x, y = fan_out_inputs(shape, seed + k)
        with trusted_callees(fan_out_grad, callees):
            f, dx, dy = _result(fan_out_grad, x, y)
        ref_f, ref_dx, ref_dy = reference(x.copy(), y.copy())
        checked = t("{name} on x {shape}, y {shape} (hidden inputs).", name=NAME, shape=shape)
        assert_close(f, np.asarray(ref_f, dtype=np.float64), what="f", block=NAME,
                     rtol=REF_RTOL, reveal=False, checked=checked)
        _fan_out_first(dx, x, y)
        for what, a, e in (("dx", dx, ref_dx), ("dy", dy, ref_dy)):
            assert_close(a, np.asarray(e, dtype=np.float64), what=what, block=NAME,
                         rtol=REF_RTOL, reveal=False, checked=checked,
                         diagnose_details={"inputs": (x, y)})


__all__ = [
    "HIDDEN_SHAPES",
    "PUBLIC_SHAPES",
    "check_fan_out_grad",
    "check_fan_out_matches_reference",
    "fan_out_diagnosis",
    "fan_out_inputs",
    "fan_out_value",
]
