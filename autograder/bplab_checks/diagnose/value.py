"""diagnose: one value (an output or a gradient) against its expected value.

The student's value is compared with candidate wrong answers built from the expected value
(its transpose, its negative, a constant multiple, ...) and, when available, from the student's
own gradient with an all-ones upstream gradient (``local``) or from the reference block
(``reference``, hidden tests only). The first candidate that fits is reported.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from bplab_checks.diagnose.common import (
    ALL_ZEROS_TEXT,
    DIFFER_RTOL,
    INTEGER_TEXT,
    LOW_PRECISION_RTOL,
    MATCH_RTOL,
    MISSING_ONE_MINUS_TEXT,
    NAN_TEXT,
    UPSTREAM_TEXT,
    WRONG_SIGN_TEXT,
    _as_float_array,
    _counts,
    _factor_sentence,
    _fits,
    _is_dout_times_out,
    _say,
    _subject,
    tag,
)
from bplab_checks.gradcheck import rel_error
from bplab_checks.i18n import t


def diagnose(
    actual,
    expected,
    *,
    block: str,
    what: str,
    inputs: tuple = (),
    dout=None,
    reference=None,
    local=None,
    actual_all: tuple | None = None,
    expected_all: tuple | None = None,
    index: int | None = None,
    names: Sequence[str] | None = None,
    elementwise: bool = False,
) -> str | None:
    """Name the usual mistake that turns ``expected`` into ``actual``, or None if none fits.

    Args:
        actual: the student's value (array, scalar, or anything a student may return).
        expected: the correct value (array or scalar).
        block: block or function name, e.g. "MatMul", "mse_loss".
        what: "out" for a forward output, else the value's name ("dA", "db", "dW1", "loss").
        inputs: the forward inputs, in order (used for counts N, M and zeros of ReLU).
        dout: the upstream gradient used for ``actual`` (None for loss functions).
        reference: the reference block (class with forward/backward) or None (public tests).
        local: the student's own gradient for this input computed with ``dout = ones``.
        actual_all, expected_all: all gradients returned / expected, in input order.
        index: position of this gradient in ``actual_all`` / ``expected_all``.
        names: names of all gradients in input order (e.g. ("dA", "dB")), for messages.
        elementwise: the block acts entry by entry (no mean or sum inside; the question file
            says so), so a factor that happens to equal a count is not "mean instead of sum".

    Returns:
        One sentence ending in "(diagnosis: <code>)", or None.
    """
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return _diagnose(
                actual, expected, block=block, what=what, inputs=inputs, dout=dout,
                reference=reference, local=local, actual_all=actual_all,
                expected_all=expected_all, index=index, names=names,
                elementwise=elementwise,
            )
    except Exception:  # noqa: BLE001 - a diagnosis is a bonus; it must never break a check
        return None


def _diagnose(actual, expected, *, block, what, inputs, dout, reference, local, actual_all,
              expected_all, index, names, elementwise=False) -> str | None:
    subject = _subject(block, what)
    e = _as_float_array(expected)
    if e is None or not np.all(np.isfinite(e)):
        return None  # nothing trustworthy to compare with
    raw = None if actual is None else _raw_array(actual)
    if raw is None:
        kind = "None" if actual is None else type(actual).__name__
        return _say(subject, "is {kind}, not an array or number: return the value "
                    "(shape {shape}) from every code path", "wrong_type", kind=kind,
                    shape=e.shape)
    if raw.dtype.kind == "c":
        return _say(subject, "has complex dtype {dtype}: the result must be real float64",
                    "wrong_dtype", dtype=raw.dtype)
    a = raw.astype(np.float64)
    if not np.all(np.isfinite(a)):
        n_bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        return _say(subject, NAN_TEXT, "nan_or_inf", bad=n_bad, size=a.size)

    swapped = _swapped(a, e, actual_all, expected_all, index, names, what)
    if swapped:
        return f"{subject} {swapped} {tag('swapped')}"  # already in the student's language
    if a.shape != e.shape:
        return _shape_diagnosis(subject, a, e, dout)

    if rel_error(a, e) <= MATCH_RTOL:
        # Right values; the only thing left to say is about the dtype.
        return _dtype_diagnosis(subject, raw, a, e)
    if not np.any(a):  # before "upstream ignored": a zero local derivative would match it
        return _say(subject, ALL_ZEROS_TEXT, "all_zeros")
    if raw.dtype in (np.float32, np.float16) and rel_error(a, e) <= LOW_PRECISION_RTOL:
        return _dtype_diagnosis(subject, raw, a, e)
    if raw.dtype.kind in "biu" and raw.ndim > 0 and not np.all(e == np.round(e)):
        return _say(subject, INTEGER_TEXT, "wrong_dtype", dtype=raw.dtype)

    for finder in (_transposed, _sign, _relu_zero, _upstream, _from_reference, _factor):
        found = finder(a, e, subject=subject, block=block, what=what, inputs=inputs, dout=dout,
                       reference=reference, local=local, index=index,
                       elementwise=elementwise)
        if found:
            return found
    if raw.dtype.kind in "biu":
        return _say(subject, INTEGER_TEXT, "wrong_dtype", dtype=raw.dtype)
    return None


def _raw_array(x) -> np.ndarray | None:
    if isinstance(x, str | bytes | dict):
        return None
    try:
        arr = np.asarray(x)
    except Exception:  # noqa: BLE001
        return None
    return arr if arr.dtype.kind in "biufc" else None


def _dtype_diagnosis(subject: str, raw: np.ndarray, a: np.ndarray, e: np.ndarray) -> str | None:
    if raw.dtype in (np.float32, np.float16):
        return _say(subject, "is computed in {dtype}, which keeps only "
                    "{digits} significant digits: create arrays "
                    "and constants as float64 (np.float64)", "low_precision", dtype=raw.dtype,
                    digits=int(np.finfo(raw.dtype).precision))
    if raw.dtype.kind in "biu" and raw.ndim > 0:
        return _say(subject, "has dtype {dtype}: return a float64 array", "wrong_dtype",
                    dtype=raw.dtype)
    return None


def _swapped(a, e, actual_all, expected_all, index, names, what) -> str | None:
    if actual_all is None or expected_all is None or index is None:
        return None
    exp = [_as_float_array(x) for x in expected_all]
    act = [_as_float_array(x) for x in actual_all]
    for j, other in enumerate(exp):
        if j == index or j >= len(act) or other is None or other.shape != a.shape:
            continue
        # A swap puts each gradient in the other's place: both positions must show it.
        mirror = act[j]
        if mirror is None or mirror.shape != e.shape or rel_error(mirror, e) > MATCH_RTOL:
            continue
        same_shape_as_own = other.shape == e.shape
        if rel_error(a, other) <= MATCH_RTOL and (
            not same_shape_as_own or rel_error(other, e) > DIFFER_RTOL
        ):
            other_name = (names[j] if names and j < len(names)
                          else t("input {k}'s gradient", k=j + 1))
            order = ", ".join(names) if names else t("one gradient per input")
            return t("holds what {other} should be: return the gradients in input "
                     "order ({order})", other=other_name, order=order)
    return None


def _shape_diagnosis(subject: str, a: np.ndarray, e: np.ndarray, dout) -> str:
    sa, se = a.shape, e.shape
    if a.ndim == 2 and sa == se[::-1] and rel_error(a.T, e) <= MATCH_RTOL:
        return _say(subject, "has shape {actual} and is the transpose of the expected "
                    "{expected} result: check the order of the factors and which one is "
                    "transposed", "transposed", actual=sa, expected=se)
    for ax in range(a.ndim):
        reduced = sa[:ax] + sa[ax + 1:] == se and sa[ax] > 1
        if reduced and rel_error(a.sum(axis=ax), e) <= MATCH_RTOL:
            which = t("axis 0, the batch") if ax == 0 else t("axis {axis}", axis=ax)
            return _say(subject, "has shape {actual} instead of {expected}: it still has the "
                        "axis that must be summed; sum it over {which}", "batch_not_summed",
                        actual=sa, expected=se, which=which)
    d = _as_float_array(dout)
    if d is not None and d.ndim >= 1:
        for ax in range(d.ndim):
            s = d.sum(axis=ax)
            if s.shape == sa and s.shape != se and rel_error(a, s) <= MATCH_RTOL:
                right = [k for k in range(d.ndim) if d.sum(axis=k).shape == se]
                hint = t("axis {axis}", axis=right[0]) if right else t("the batch axis")
                return _say(subject, "has shape {actual} instead of {expected}: it was summed "
                            "over axis {axis}; sum over {hint}", "wrong_axis", actual=sa,
                            expected=se, axis=ax, hint=hint)
    if a.size == e.size and rel_error(a.reshape(se), e) <= MATCH_RTOL:
        return _say(subject, "has the right values but shape {actual} instead of {expected}: "
                    "drop the extra axes (keepdims, reshape or an (N, 1) array)", "wrong_shape",
                    actual=sa, expected=se)
    try:
        broadcast = np.broadcast_shapes(sa, se) == sa and a.size > e.size
    except ValueError:
        broadcast = False
    if broadcast:
        return _say(subject, "has shape {actual} instead of {expected}: an operation between "
                    "arrays of shapes like (N,) and (N, 1) broadcast into a bigger array; check "
                    "the shape of every intermediate array", "broadcast_shape", actual=sa,
                    expected=se)
    return _say(subject, "has shape {actual}, expected {expected}", "wrong_shape", actual=sa,
                expected=se)


def _transposed(a, e, *, subject, **_) -> str | None:
    if a.ndim == 2 and a.shape[0] == a.shape[1] and _fits(a, e.T, e):
        return _say(subject, "is the transpose of the expected result: check the order of the "
                    "factors and which one is transposed", "transposed")
    return None


def _sign(a, e, *, subject, **_) -> str | None:
    if _fits(a, -e, e):
        return _say(subject, WRONG_SIGN_TEXT, "wrong_sign")
    return None


def _relu_zero(a, e, *, subject, inputs, **_) -> str | None:
    """Wrong only where an input is exactly 0 (the kink of ReLU-like blocks), right elsewhere."""
    scale = max(float(np.max(np.abs(e), initial=0.0)), float(np.max(np.abs(a), initial=0.0)))
    differ = np.abs(a - e) > DIFFER_RTOL * scale
    if not differ.any() or differ.all():
        return None
    if rel_error(a[~differ], e[~differ]) > MATCH_RTOL:
        return None
    for x in inputs:
        xa = _as_float_array(x)
        if xa is None or xa.shape != a.shape:
            continue
        if np.all(xa[differ] == 0):
            return _say(subject, "is wrong only where the input is exactly 0 "
                        "({count} entries): X == 0 goes with X < 0 "
                        "(use X > 0, not X >= 0)", "relu_at_zero", count=int(differ.sum()))
    return None


def _upstream(a, e, *, subject, dout, local, **_) -> str | None:
    d = _as_float_array(dout)
    if d is not None and d.size and np.allclose(d, 1.0):
        return None  # with dout = 1 the local derivative is the right answer
    loc = _as_float_array(local)
    if loc is not None and _fits(a, loc, e):
        return _say(subject, UPSTREAM_TEXT, "upstream_ignored")
    return None


def _grads_tuple(g) -> list[np.ndarray | None]:
    if isinstance(g, tuple | list):
        return [_as_float_array(x) for x in g]
    return [_as_float_array(g)]


def _from_reference(a, e, *, subject, block, inputs, dout, reference, index, **_) -> str | None:
    """Block-specific wrong answers, built by calling the reference block on other inputs."""
    if reference is None or dout is None or not hasattr(reference, "backward"):
        return None
    k = 0 if index is None else index
    xs = [np.array(x, dtype=np.float64) for x in inputs]
    d = np.asarray(dout, dtype=np.float64)
    out, cache = reference.forward(*[x.copy() for x in xs])
    ones_grads = _grads_tuple(reference.backward(np.ones_like(d), cache))
    loc = ones_grads[k] if k < len(ones_grads) else None
    if loc is not None and not np.allclose(d, 1.0) and _fits(a, loc, e):
        return _say(subject, UPSTREAM_TEXT, "upstream_ignored")
    if len(xs) != 1 or np.shape(out) != xs[0].shape:
        return None
    # Elementwise one-input blocks (Sigmoid, Tanh, ...): the derivative evaluated at the output
    # (forward applied twice), and the local derivative applied twice.
    out = np.asarray(out, dtype=np.float64)
    _, cache_at_out = reference.forward(out.copy())
    at_out = _grads_tuple(reference.backward(d.copy(), cache_at_out))[0]
    if _fits(a, at_out, e):
        return _say(subject, "matches the derivative evaluated at the forward output instead of "
                    "the input: what backward gets is already {block}(X), so don't apply "
                    "{block} to it again", "applied_twice", block=block)
    if loc is not None and _fits(a, d * loc * loc, e):
        return _say(subject, "multiplies dout by the local derivative twice: apply it once",
                    "applied_twice")
    if _fits(a, d * out, e) and _is_dout_times_out(a, d, out):
        return _say(subject, MISSING_ONE_MINUS_TEXT, "missing_one_minus_s")
    return None



def _factor(a, e, *, subject, what, inputs, dout, elementwise, **_) -> str | None:
    ee = float(np.sum(e * e))
    if ee == 0.0:
        return None
    c = float(np.sum(a * e)) / ee
    if c == 0.0 or not _fits(a, c * e, e):
        return None
    # A count (N, entries) only explains a factor where something is summed or averaged.
    counts = [] if elementwise else _counts(inputs, e, dout)
    sentence = _factor_sentence(c, subject=subject, what=what, counts=counts)
    if e.size == 1 and sentence.endswith(tag("constant_factor")):
        return None  # any two numbers are multiples: only a count or a 2 means something
    return sentence
