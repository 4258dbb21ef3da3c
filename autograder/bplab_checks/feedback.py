"""Failure messages: calling student code safely and explaining mismatches.

A failed check raises ``AssertionError`` whose message is the student's feedback: what was
checked, which value (out, dA, dW1, ...), shapes, relative error, worst element (or, for
directional gradient checks, the directional derivatives compared), and the diagnosis sentence
of ``bplab_checks.diagnose`` first when one fits. Hidden checks never put an
expected value in a message (``reveal=False``); public ones may show one expected element.

Student objects may be grader proxies (see docs/architecture.md): only attribute access,
calls and ``np.asarray`` are used on them.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

import numpy as np

from bplab_checks import diagnose
from bplab_checks.gradcheck import Directional, rel_error, worst_element
from bplab_checks.i18n import t


class NotImplementedYet(AssertionError):
    """The student's code still raises NotImplementedError (the blank stub)."""


class StudentRaised(AssertionError):
    """The student's code raised ``exc`` (feedback already in the message)."""

    def __init__(self, message: str, exc: BaseException):
        super().__init__(message)
        self.exc = exc


def student_line(exc: BaseException) -> str:
    """" at line N: <code>" of the innermost frame of student code in ``exc``'s traceback, or
    "" (frames of numpy, of the checks and of the grader are skipped; under ``bplab grade`` the
    worker has already put the line into the message)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not any(part in f.filename for part in
                         ("bplab_checks", "site-packages", "/bplab/", "/numpy/", "/otter/"))]
    if not frames:
        return ""
    f = frames[-1]
    return t(" at line {line}", line=f.lineno) + (f": {f.line.strip()[:160]}" if f.line else "")


def _sentence(find: Callable[..., Any], *args, **details) -> str | None:
    """What a diagnose entry point says, or None: a diagnosis is a bonus, never a crash."""
    try:
        sentence = find(*args, **details)
    except Exception:  # noqa: BLE001
        return None
    return sentence if isinstance(sentence, str) and sentence else None


def diagnosis(actual, expected, **details) -> str | None:
    """The diagnosis sentence for a value mismatch, or None (never raises)."""
    return _sentence(diagnose.diagnose, actual, expected, **details)


def directional_diagnosis(actual, check: Directional, **details) -> str | None:
    """The diagnosis sentence for a failed directional check, or None (never raises)."""
    return _sentence(diagnose.diagnose_directional, actual, check, **details)


def explanation(code: str, *, block: str, what: str = "", fallback: str, **details) -> str:
    """The sentence explaining a behavioural finding ``code``; ``fallback`` if none is available.

    The fallback always ends with the same ``(diagnosis: <code>)`` tag, so reports can count
    the finding either way.
    """
    sentence = _sentence(diagnose.explain, code, block=block, what=what, **details)
    return sentence or f"{fallback} {diagnose.tag(code)}"


def fail(*lines: str | None) -> NoReturn:
    """Raise the feedback made of the non-empty ``lines``."""
    raise AssertionError("\n".join(line for line in lines if line))


def describe(value) -> str:
    """Short description of a value for messages: its shape, never its contents."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {describe(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple | list):
        return "(" + ", ".join(describe(v) for v in value) + ")"
    if isinstance(value, bool | int | float):
        return type(value).__name__
    try:
        arr = np.asarray(value)
    except Exception:  # noqa: BLE001
        return type(value).__name__
    if arr.dtype == object:
        return type(value).__name__
    return f"array {arr.shape} {arr.dtype}" if arr.ndim else f"0-d {arr.dtype}"


def shapes_text(named: Mapping[str, Any]) -> str:
    """``"A (3, 4), B (4, 5), lr=0.1"``: arrays by shape, numbers by value, dicts by keys."""
    parts = []
    for name, value in named.items():
        if isinstance(value, Mapping):
            parts.append(f"{name} {{{shapes_text(value)}}}")
        elif isinstance(value, bool | int | float | np.integer | np.floating):
            parts.append(f"{name}={value:g}" if isinstance(value, float) else f"{name}={value}")
        elif callable(value):
            parts.append(f"{name} (a function)")
        else:
            arr = np.asarray(value)
            parts.append(f"{name} {tuple(arr.shape)}" if arr.ndim else f"{name} scalar")
    return ", ".join(parts)


def call(label: str, fn, *args, **kwargs):
    """Call student code ``fn`` and turn every exception into feedback.

    NotImplementedError becomes "not implemented yet"; FloatingPointError (raised under the
    checks' ``np.errstate``) an overflow finding; anything else names the exception.
    """
    if fn is None:
        fail(t("{label} is not defined: run the cell that defines it (and keep the name from "
               "the assignment).", label=label))
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as exc:
        raise NotImplementedYet(
            explanation(
                "not_implemented",
                block=label.split(".")[0],
                what=label,
                fallback=t("{label} is not implemented yet (it raised NotImplementedError).",
                           label=label),
            )
        ) from exc
    except FloatingPointError as exc:
        fail(
            explanation(
                "overflow",
                block=label.split(".")[0],
                what=label,
                warning=str(exc).replace("encountered in", "in"),
                fallback=t("{label} overflowed or divided by zero ({error}) on large inputs; "
                           "use a numerically stable formula.", label=label, error=exc),
            ),
        )
    except AssertionError:
        raise
    except Exception as exc:  # noqa: BLE001 - any student error is feedback, not a crash
        raise StudentRaised(t("{label} raised {error}{where}: {message}", label=label,
                              error=type(exc).__name__, where=student_line(exc), message=exc),
                            exc) from None


def get_attr(obj, name: str, label: str):
    """``getattr`` on a student object with feedback when the attribute is missing."""
    if obj is None:
        fail(t("{label} is not defined: run the cell that defines it.", label=label))
    try:
        return getattr(obj, name)
    except Exception as exc:  # noqa: BLE001
        fail(t("{label} has no attribute {name} ({error}).", label=label, name=repr(name),
               error=type(exc).__name__))


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


def snapshot(value):
    """A deep copy of arrays inside dicts/tuples/lists, for no-mutation checks."""
    if isinstance(value, Mapping):
        return {k: snapshot(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return type(value)(snapshot(v) for v in value)
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


def unchanged(before, after) -> bool:
    """Whether ``after`` still equals the ``snapshot`` ``before`` (exactly, nan-aware)."""
    if isinstance(before, Mapping):
        return (
            isinstance(after, Mapping)
            and set(before) == set(after)
            and all(unchanged(before[k], after[k]) for k in before)
        )
    if isinstance(before, tuple | list):
        return (
            isinstance(after, tuple | list)
            and len(before) == len(after)
            and all(unchanged(b, a) for b, a in zip(before, after, strict=True))
        )
    if isinstance(before, np.ndarray):
        after_arr = np.asarray(after)
        return after_arr.shape == before.shape and bool(
            np.array_equal(after_arr, before, equal_nan=True)
        )
    return before == after


def check_untouched(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    block: str,
    during: str,
    code: str = "mutates_input",
) -> None:
    """Feedback naming the first argument that ``during`` modified in place."""
    for name in before:
        if not unchanged(before[name], after[name]):
            fail(
                explanation(
                    code,
                    block=block,
                    what=name,
                    fallback=t("{during} modified its argument {name} in place; work on a "
                               "copy (e.g. x = x.copy() or x = x * 1.0) instead.",
                               during=during, name=name),
                )
            )

