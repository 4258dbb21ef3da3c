"""Failure messages: calling student code safely and explaining mismatches.

A failed check raises ``AssertionError`` whose message is the student's feedback: what was
checked, which value (out, dA, dW1, ...), shapes, relative error, worst element (or, for
directional gradient checks, the directional derivatives compared), and the diagnosis sentence
of ``bplab_checks.diagnose`` first when one fits. Hidden checks never put an
expected value in a message (``reveal=False``); public ones may show one expected element.

Student objects may be grader proxies (see docs/architecture.md): only attribute access,
calls and ``np.asarray`` are used on them.

Where the rest lives (every name is importable from here too): the words of feedback
(``fail``, ``explanation``, ``diagnosis``, ``describe``, ``shapes_text``) in
``feedback_text``, calling student code (``call``, ``get_attr``, ``StudentRaised``,
``NotImplementedYet``) in ``student_calls``, and the no-mutation rule (``snapshot``,
``unchanged``, ``check_untouched``) in ``untouched``; the comparisons of values are here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bplab_checks.feedback_text import (
    describe,
    diagnosis,
    directional_diagnosis,
    explanation,
    fail,
    shapes_text,
)
from bplab_checks.gradcheck import Directional, rel_error, worst_element
from bplab_checks.i18n import t
from bplab_checks.student_calls import (
    NotImplementedYet,
    StudentRaised,
    call,
    get_attr,
    student_line,
)
from bplab_checks.untouched import (
    check_untouched,
    snapshot,
    unchanged,
)

__all__ = [
    "NotImplementedYet",
    "StudentRaised",
    "as_float64",
    "assert_close",
    "assert_directional",
    "call",
    "check_shape",
    "check_untouched",
    "checked_line",
    "compare_value",
    "describe",
    "diagnosis",
    "directional_diagnosis",
    "element_text",
    "explanation",
    "fail",
    "get_attr",
    "normalize_grads",
    "shapes_text",
    "snapshot",
    "student_line",
    "unchanged",
    "unpack_pair",
]


def as_float64(value, what: str, *, block: str, scalar: bool = False) -> np.ndarray:
    """A student result as a float64 array, or feedback when it is not a float64 number/array.

    Python floats (and ints for scalars) are accepted; arrays must already be float64.
    """
    if isinstance(value, bool):
        fail(f"{what} is a bool; expected a float64 {'scalar' if scalar else 'array'}.")
    if isinstance(value, float | int) and not isinstance(value, np.integer):
        arr = np.asarray(float(value), dtype=np.float64)
    else:
        try:
            arr = np.asarray(value)
        except Exception as exc:  # noqa: BLE001
            fail(f"{what} could not be read as an array ({type(exc).__name__}: {exc}).")
        if arr.dtype != np.float64:
            fail(
                explanation(
                    "wrong_dtype",
                    block=block,
                    what=what,
                    dtype=str(arr.dtype),
                    fallback=t("{what} has dtype {dtype} ({value}); expected float64.",
                               what=what, dtype=arr.dtype, value=describe(value)),
                )
            )
    if scalar and arr.ndim != 0:
        fail(
            explanation(
                "wrong_shape",
                block=block,
                what=what,
                actual_shape=tuple(arr.shape),
                expected_shape=(),
                fallback=f"{what} should be a scalar (a Python float or a 0-d array), "
                f"got an array of shape {arr.shape}.",
            )
        )
    return arr


def check_shape(
    arr: np.ndarray, shape: tuple, what: str, *, block: str, context: str = "", **details
) -> None:
    """Feedback when ``arr`` does not have ``shape``; ``details`` go to the diagnosis (e.g.
    ``actual_shapes``, ``expected_shapes``, ``index``, ``names``, ``dout``)."""
    if tuple(arr.shape) != tuple(shape):
        fail(
            explanation(
                "wrong_shape",
                block=block,
                what=what,
                actual_shape=tuple(arr.shape),
                expected_shape=tuple(shape),
                actual=arr,
                **details,
                fallback=t("{what} has shape {actual}, expected {expected}.", what=what,
                           actual=tuple(arr.shape), expected=tuple(shape)),
            ),
            context,
        )


def element_text(what: str, index: tuple, actual: float, expected: float, reveal: bool) -> str:
    """``"worst element dB[2, 1]: yours 0.31 (expected 0.12)"``; expected only if ``reveal``."""
    where = f"{what}[{', '.join(map(str, index))}]" if index else what
    text = t("worst element {where}: yours {actual}", where=where, actual=f"{actual:.6g}")
    return text + (t(" (expected {expected})", expected=f"{expected:.6g}") if reveal else "")


def assert_close(
    actual: np.ndarray,
    expected: np.ndarray,
    *,
    what: str,
    block: str,
    checked: str,
    rtol: float,
    reveal: bool,
    diagnose_details: Mapping[str, Any] | None = None,
) -> None:
    """Feedback when two same-shaped float64 arrays differ by more than ``rtol`` (``rel_error``).

    Args:
        actual: the student's value (already validated).
        expected: the trusted value, same shape.
        what: the value's name in messages ("dA", "out", "loss", "dW1", ...).
        block: the graded block or function name.
        checked: one sentence saying what was checked (inputs, shapes, seed).
        rtol: largest accepted relative error.
        reveal: whether the message may show the expected value of the worst element.
        diagnose_details: extra keyword arguments for ``diagnose`` (inputs, dout, reference,
            local, actual_all, expected_all, index).
    """
    err = rel_error(actual, expected)
    if err <= rtol:
        return
    details = dict(diagnose_details or {})
    sentence = diagnosis(actual, expected, block=block, what=what, **details)
    if not np.all(np.isfinite(actual)):
        bad = int(np.sum(~np.isfinite(actual)))
        sentence = sentence or explanation(
            "nan_or_inf",
            block=block,
            what=what,
            fallback=t("{what} contains {bad} nan or inf value(s).", what=what, bad=bad),
        )
    index, a_val, e_val = worst_element(actual, expected)
    fail(
        sentence,
        checked_line(checked),
        t("{what}: relative error {error} (allowed {allowed}); ", what=what,
          error=f"{err:.2e}", allowed=f"{rtol:.0e}")
        + element_text(what, index, a_val, e_val, reveal)
        + ".",
    )


def checked_line(checked: str) -> str:
    """``"Checked: <what was checked>"`` (the label in the student's language)."""
    return t("Checked: {checked}", checked=checked)


def _numbers(values) -> str:
    return "[" + ", ".join(f"{float(v):.6g}" for v in np.ravel(values)) + "]"


def assert_directional(
    actual: np.ndarray,
    check: Directional,
    *,
    what: str,
    wrt: str,
    function: str,
    block: str,
    checked: str,
    rtol: float,
    diagnose_details: Mapping[str, Any] | None = None,
) -> None:
    """Feedback when a gradient fails its directional check (``check.error > rtol``).

    The message names the gradient, the directional derivatives compared (the student's
    ``<grad, v>`` and the central differences of the student's own function), the relative
    error, and a diagnosis sentence first when one fits. Nothing in it is a hidden value.

    Args:
        actual: the student's gradient (already validated, shaped like its input).
        check: its ``gradcheck.Directional``.
        what: the gradient's name ("dA", "dtheta", "grads['W1']").
        wrt: the input it is the gradient with respect to ("A", "theta", "W1").
        function: the scalar function differenced, e.g. "sum(MatMul.forward(A, B) * dout)".
        block: the graded block or function name.
        checked: one sentence saying what was checked (inputs, shapes, seed).
        rtol: largest accepted relative error.
        diagnose_details: extra keyword arguments for ``diagnose_directional`` (inputs,
            dout, local, others).
    """
    if check.error <= rtol:
        return
    sentence = directional_diagnosis(actual, check, block=block, what=what,
                                     **dict(diagnose_details or {}))
    if not np.all(np.isfinite(actual)):
        bad = int(np.sum(~np.isfinite(actual)))
        sentence = sentence or explanation(
            "nan_or_inf", block=block, what=what,
            fallback=t("{what} contains {bad} nan or inf value(s).", what=what, bad=bad),
        )
    n = len(check.numeric)
    fail(
        sentence,
        checked_line(checked),
        t("{what}: relative error {error} (allowed {allowed}) between your directional "
          "derivatives <{what}, v> = {claimed} and the central differences "
          "(f({wrt} + h v) - f({wrt} - h v)) / 2h = {numeric}, for f({wrt}) = {function}, "
          "h = {h} and {n} random unit directions v (seed {seed}).", what=what,
          error=f"{check.error:.2e}", allowed=f"{rtol:.0e}", claimed=_numbers(check.claimed),
          numeric=_numbers(check.numeric), wrt=wrt, function=function, h=f"{check.h:g}", n=n,
          seed=check.seed),
    )


def normalize_grads(grads, n_inputs: int, names: Sequence[str], *, block: str) -> tuple:
    """A backward result as a tuple of ``n_inputs`` gradients, or feedback.

    A tuple or list is accepted; for a one-input block a bare array is accepted too.
    """
    label = f"{block}.backward"
    expected = "(" + ", ".join(names) + (",)" if len(names) == 1 else ")")
    if isinstance(grads, tuple | list):
        if len(grads) != n_inputs:
            fail(
                f"{label} returned {len(grads)} value(s) {describe(grads)}; expected "
                f"{n_inputs} gradient(s) {expected}, one per forward input, in input order."
            )
        return tuple(grads)
    if n_inputs == 1 and grads is not None and not isinstance(grads, dict | str):
        return (grads,)
    fail(f"{label} returned {describe(grads)}; expected a tuple {expected}.")
    raise AssertionError  # unreachable: fail() raises


def unpack_pair(result, label: str, names: tuple[str, str]) -> tuple:
    """A two-value result such as ``(out, cache)`` or ``(loss, grad)``, or feedback."""
    if not isinstance(result, tuple | list) or len(result) != 2:
        fail(f"{label} returned {describe(result)}; expected a pair ({names[0]}, {names[1]}).")
    return result[0], result[1]


def compare_value(
    actual,
    expected,
    *,
    what: str,
    block: str,
    checked: str,
    rtol: float,
    reveal: bool = False,
    diagnose_details: Mapping[str, Any] | None = None,
) -> None:
    """Compare a student value with a trusted one, recursively through dicts, tuples and lists.

    Scalars may be Python floats or 0-d arrays on either side; arrays must be float64 with the
    expected shape; dicts must have the expected keys; sequences the expected length.
    """
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            fail(f"{what} is {describe(actual)}; expected a dict with keys {sorted(expected)}.")
        if set(actual.keys()) != set(expected.keys()):
            fail(
                f"{what} has keys {sorted(map(str, actual.keys()))}; "
                f"expected {sorted(expected)}.",
                checked_line(checked),
            )
        for key in expected:
            compare_value(
                actual[key],
                expected[key],
                what=f"{what}[{key!r}]" if what else key,
                block=block,
                checked=checked,
                rtol=rtol,
                reveal=reveal,
                diagnose_details=diagnose_details,
            )
        return
    if isinstance(expected, list) and isinstance(actual, np.ndarray) and actual.ndim == 1:
        actual = list(actual)  # an array of scalars stands for a list of them
    if isinstance(expected, tuple | list):
        if not isinstance(actual, tuple | list) or len(actual) != len(expected):
            fail(
                f"{what} is {describe(actual)}; expected a sequence of {len(expected)} values.",
                checked_line(checked),
            )
        for k, (a, e) in enumerate(zip(actual, expected, strict=True)):
            compare_value(
                a,
                e,
                what=f"{what}[{k}]",
                block=block,
                checked=checked,
                rtol=rtol,
                reveal=reveal,
                diagnose_details=diagnose_details,
            )
        return
    exp = np.asarray(expected, dtype=np.float64)
    act = as_float64(actual, what, block=block, scalar=exp.ndim == 0)
    check_shape(act, exp.shape, what, block=block, context=checked_line(checked))
    assert_close(
        act,
        exp,
        what=what,
        block=block,
        checked=checked,
        rtol=rtol,
        reveal=reveal,
        diagnose_details=diagnose_details,
    )
