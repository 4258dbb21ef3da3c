"""Diagnoses: name the usual mistake behind a wrong output or gradient, in one plain sentence.

A check that finds a mismatch calls :func:`diagnose` with the student's value and the expected
one. The value is compared with *candidate wrong answers* built from the expected value (its
transpose, its negative, a constant multiple, ...) and, when available, from the student's own
gradient with an all-ones upstream gradient (``local``) or from the reference block
(``reference``, hidden tests only). The first candidate that fits is reported; a sentence ends
with ``(diagnosis: <code>)``. Codes and example messages: ``docs/diagnoses.md``.
Public checks know no expected gradient, only directional central differences of the student's
own function; :func:`diagnose_directional` names their mistakes by the repair that would pass.

Rules that keep a diagnosis trustworthy:

* a candidate fits only when it matches the student's value *tightly* (``MATCH_RTOL``, far
  below the pass tolerance) and differs *meaningfully* from the expected value
  (``DIFFER_RTOL``); so a correct answer, however it is written, is never diagnosed;
* messages name the block, the value (``out``, ``dA``, ``db`` ...), shapes and factors, never
  expected arrays;
* diagnosing never raises: student values are hostile, and a failed diagnosis is just ``None``.

Numpy only; shipped to students with the public checks.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from bplab_checks.gradcheck import rel_error
from bplab_checks.tag import tag
from bplab_checks.tolerances import GRAD_RTOL

# A candidate "fits" when the student's value equals it to this norm-wise relative error. The
# candidates are float64 computations of the same wrong formula (matches sit near 1e-15), or
# the wrong formula applied to a central-difference expected value (about 1e-9 off); 100x below
# the loosest pass tolerance keeps both in and near-correct answers out.
MATCH_RTOL = GRAD_RTOL * 1e-2
# ... and only when the candidate itself is clearly wrong (rel_error to the expected value):
# with rel_error in [0, 1], 1e-3 means the candidate is at least ~0.2% off everywhere.
DIFFER_RTOL = 1e-3
# A float32/float16 result is "low precision" (not "wrong") when it is this close in float64.
LOW_PRECISION_RTOL = 1e-2

# Contract blocks and functions that act entry by entry: no mean or sum inside, so a factor
# that happens to equal N is not reported as "mean instead of sum" for them.
ELEMENTWISE = frozenset({"dsin_x2", "dcube", "grad_square_sum", "Subtract", "Square", "Sigmoid",
                         "ReLU", "Tanh", "LeakyReLU"})

CODES: dict[str, str] = {
    # value diagnoses (diagnose)
    "transposed": "the result is the transpose of the expected one",
    "swapped": "a gradient is returned in another input's place",
    "wrong_sign": "the result is the negative of the expected one",
    "missing_factor_2": "the result is half the expected one",
    "extra_factor_2": "the result is twice the expected one",
    "sum_instead_of_mean": "too large by a count (N, the number of entries, ...)",
    "mean_instead_of_sum": "too small by a count (N, the number of entries, ...)",
    "constant_factor": "off by another constant factor",
    "upstream_ignored": "the gradient equals the local derivative: dout was not multiplied in",
    "all_zeros": "all zeros where the right answer is not",
    "batch_not_summed": "a bias-like gradient was not summed over the batch",
    "wrong_axis": "summed over the wrong axis",
    "broadcast_shape": "broadcasting silently produced a larger array",
    "wrong_shape": "wrong shape",
    "wrong_dtype": "not a float64 array",
    "wrong_type": "not an array or number at all",
    "low_precision": "computed in float32/float16",
    "nan_or_inf": "nan or inf in the result",
    "relu_at_zero": "wrong gradient exactly at input 0",
    "applied_twice": "a derivative applied twice (e.g. to the output of the forward pass)",
    # behavioural findings (explain)
    "mutates_input": "an input was modified in place",
    "mutates_dout": "dout was modified in place",
    "mutates_cache": "the cache was modified in place",
    "overflow": "overflow or invalid-value warning in the forward pass",
    "not_implemented": "NotImplementedError: not written yet",
    "wrong_count": "backward returned the wrong number of gradients",
    "raised": "an exception in the student's code",
    # optimizer diagnoses (diagnose_optimizer)
    "optimizer_wrong_sign": "the update goes uphill",
    "optimizer_step_scale": "every update is a constant multiple of the expected one",
    "no_bias_correction": "Adam without bias correction",
    "partial_bias_correction": "Adam with bias correction on only one moment",
    "state_reset": "optimizer state not kept between steps",
    "state_shared": "one optimizer state shared by all parameters",
    "step_count_per_key": "Adam's step counter advanced once per parameter, not once per step",
    # fan-out diagnoses (bplab_checks.fanout, hw1 fan_out)
    "fan_out_path_dropped": "a value used twice got the gradient of one path only",
    "fan_out_path_overwritten": "a path's gradient overwritten instead of added",
    # training diagnoses (autograder/hw2/train_two_layer.py)
    "train_not_learning": "training does not lower the loss or reach the accuracy bar",
    "train_seed_ignored": "training results do not follow the seed",
    # autograd engine findings (bplab_checks.graph, hw3's Graph)
    "fanout_overwritten": "a node used several times keeps some paths' gradients, not their sum",
    "visit_order": "a node's backward ran before all of its consumers had passed their gradient",
    "backward_twice": "a block's backward was called more than once in one backward pass",
    "stale_state": "a value or gradient left over from the previous forward/backward",
}


ALL_ZEROS_TEXT = ("is all zeros, but the right value is not: compute it and return it (a "
                  "zeros_like placeholder left in, or a mask or factor that is always 0?)")


# --------------------------------------------------------------------------------------------
# diagnose: one value against its expected value
# --------------------------------------------------------------------------------------------


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
            )
    except Exception:  # noqa: BLE001 - a diagnosis is a bonus; it must never break a check
        return None


def _subject(block: str, what: str) -> str:
    """'MatMul.backward: dA' / 'MatMul.forward output' / 'mse_loss: loss'."""
    if what == block:
        return f"the result of {block}"
    if what in ("", "out"):
        return f"{block}.forward output" if block[:1].isupper() else f"the value of {block}"
    if block[:1].isupper():
        return f"{what} from {block}.backward" if what.startswith("d") else f"{block} {what}"
    return f"{what} from {block}"


def _say(subject: str, text: str, code: str) -> str:
    return f"{subject} {text} {tag(code)}"


def _as_float_array(x) -> np.ndarray | None:
    """``x`` as a float64 array, or None when it is not numeric at all."""
    if x is None or isinstance(x, str | bytes | dict):
        return None
    try:
        arr = np.asarray(x)
    except Exception:  # noqa: BLE001
        return None
    if arr.dtype.kind not in "biuf":
        return None
    return arr.astype(np.float64)


def _fits(a: np.ndarray, candidate: np.ndarray | None, e: np.ndarray) -> bool:
    """``a`` equals ``candidate`` tightly, and ``candidate`` is clearly not ``e``."""
    if candidate is None:
        return False
    c = np.asarray(candidate, dtype=np.float64)
    if c.shape != a.shape or c.shape != e.shape or not np.all(np.isfinite(c)):
        return False
    return rel_error(a, c) <= MATCH_RTOL and rel_error(c, e) > DIFFER_RTOL


def _diagnose(actual, expected, *, block, what, inputs, dout, reference, local, actual_all,
              expected_all, index, names) -> str | None:
    subject = _subject(block, what)
    e = _as_float_array(expected)
    if e is None or not np.all(np.isfinite(e)):
        return None  # nothing trustworthy to compare with
    raw = None if actual is None else _raw_array(actual)
    if raw is None:
        kind = "None" if actual is None else type(actual).__name__
        return _say(subject, f"is {kind}, not an array or number: return the value "
                    f"(shape {e.shape}) from every code path", "wrong_type")
    if raw.dtype.kind == "c":
        return _say(subject, f"has complex dtype {raw.dtype}: the result must be real float64",
                    "wrong_dtype")
    a = raw.astype(np.float64)
    if not np.all(np.isfinite(a)):
        n_bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        return _say(subject, f"contains nan or inf ({n_bad} of {a.size} entries): look for "
                    "exp of large numbers, log of 0, or 0/0", "nan_or_inf")

    swapped = _swapped(a, e, actual_all, expected_all, index, names, what)
    if swapped:
        return _say(subject, swapped, "swapped")
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
        return _say(subject, f"has integer dtype {raw.dtype}: compute in float64 "
                    "(integer arrays truncate)", "wrong_dtype")

    for finder in (_transposed, _sign, _relu_zero, _upstream, _from_reference, _factor):
        found = finder(a, e, subject=subject, block=block, what=what, inputs=inputs, dout=dout,
                       reference=reference, local=local, index=index)
        if found:
            return found
    if raw.dtype.kind in "biu":
        return _say(subject, f"has integer dtype {raw.dtype}: compute in float64 "
                    "(integer arrays truncate)", "wrong_dtype")
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
        return _say(subject, f"is computed in {raw.dtype}, which keeps only "
                    f"{int(np.finfo(raw.dtype).precision)} significant digits: create arrays "
                    "and constants as float64 (np.float64)", "low_precision")
    if raw.dtype.kind in "biu" and raw.ndim > 0:
        return _say(subject, f"has dtype {raw.dtype}: return a float64 array", "wrong_dtype")
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
            other_name = names[j] if names and j < len(names) else f"input {j + 1}'s gradient"
            order = ", ".join(names) if names else "one gradient per input"
            return (f"holds what {other_name} should be: return the gradients in input "
                    f"order ({order})")
    return None


def _shape_diagnosis(subject: str, a: np.ndarray, e: np.ndarray, dout) -> str:
    sa, se = a.shape, e.shape
    if a.ndim == 2 and sa == se[::-1] and rel_error(a.T, e) <= MATCH_RTOL:
        return _say(subject, f"has shape {sa} and is the transpose of the expected {se} result: "
                    "check the order of the factors and which one is transposed", "transposed")
    for ax in range(a.ndim):
        reduced = sa[:ax] + sa[ax + 1:] == se and sa[ax] > 1
        if reduced and rel_error(a.sum(axis=ax), e) <= MATCH_RTOL:
            which = "axis 0, the batch" if ax == 0 else f"axis {ax}"
            return _say(subject, f"has shape {sa} instead of {se}: it still has the axis that "
                        f"must be summed; sum it over {which}", "batch_not_summed")
    d = _as_float_array(dout)
    if d is not None and d.ndim >= 1:
        for ax in range(d.ndim):
            s = d.sum(axis=ax)
            if s.shape == sa and s.shape != se and rel_error(a, s) <= MATCH_RTOL:
                right = [k for k in range(d.ndim) if d.sum(axis=k).shape == se]
                hint = f"axis {right[0]}" if right else "the batch axis"
                return _say(subject, f"has shape {sa} instead of {se}: it was summed over axis "
                            f"{ax}; sum over {hint}", "wrong_axis")
    if a.size == e.size and rel_error(a.reshape(se), e) <= MATCH_RTOL:
        return _say(subject, f"has the right values but shape {sa} instead of {se}: drop the "
                    "extra axes (keepdims, reshape or an (N, 1) array)", "wrong_shape")
    try:
        broadcast = np.broadcast_shapes(sa, se) == sa and a.size > e.size
    except ValueError:
        broadcast = False
    if broadcast:
        return _say(subject, f"has shape {sa} instead of {se}: an operation between arrays of "
                    "shapes like (N,) and (N, 1) broadcast into a bigger array; check the shape "
                    "of every intermediate array", "broadcast_shape")
    return _say(subject, f"has shape {sa}, expected {se}", "wrong_shape")


def _transposed(a, e, *, subject, **_) -> str | None:
    if a.ndim == 2 and a.shape[0] == a.shape[1] and _fits(a, e.T, e):
        return _say(subject, "is the transpose of the expected result: check the order of the "
                    "factors and which one is transposed", "transposed")
    return None


def _sign(a, e, *, subject, **_) -> str | None:
    if _fits(a, -e, e):
        return _say(subject, "has the wrong sign everywhere: check every minus sign "
                    "on the way to it", "wrong_sign")
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
            return _say(subject, f"is wrong only where the input is exactly 0 "
                        f"({int(differ.sum())} entries): X == 0 goes with X < 0 "
                        "(use X > 0, not X >= 0)", "relu_at_zero")
    return None


def _upstream(a, e, *, subject, dout, local, **_) -> str | None:
    d = _as_float_array(dout)
    if d is not None and d.size and np.allclose(d, 1.0):
        return None  # with dout = 1 the local derivative is the right answer
    loc = _as_float_array(local)
    if loc is not None and _fits(a, loc, e):
        return _say(subject, "equals the local derivative alone, as if dout were all ones: "
                    "multiply by the upstream gradient dout (chain rule)", "upstream_ignored")
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
        return _say(subject, "equals the local derivative alone, as if dout were all ones: "
                    "multiply by the upstream gradient dout (chain rule)", "upstream_ignored")
    if len(xs) != 1 or np.shape(out) != xs[0].shape:
        return None
    # Elementwise one-input blocks (Sigmoid, Tanh, ...): the derivative evaluated at the output
    # (forward applied twice), and the local derivative applied twice.
    out = np.asarray(out, dtype=np.float64)
    _, cache_at_out = reference.forward(out.copy())
    at_out = _grads_tuple(reference.backward(d.copy(), cache_at_out))[0]
    if _fits(a, at_out, e):
        return _say(subject, f"matches the derivative evaluated at the forward output instead of "
                    f"the input: what backward gets is already {block}(X), so don't apply "
                    f"{block} to it again", "applied_twice")
    if loc is not None and _fits(a, d * loc * loc, e):
        return _say(subject, "multiplies dout by the local derivative twice: apply it once",
                    "applied_twice")
    return None


def _counts(inputs, e: np.ndarray, dout) -> list[tuple[int, str]]:
    """Counts a mean may divide by, with a name for each: N (batch), entries, columns."""
    shapes = []
    for x in (*inputs, dout, e):
        xa = _as_float_array(x)
        if xa is not None and xa.ndim >= 1:
            shapes.append(xa.shape)
    counts: dict[int, str] = {}
    for shape in shapes:
        if shape and shape[0] > 1:
            counts.setdefault(shape[0], f"N = {shape[0]}, the batch size")
        for dim in shape[1:]:
            if dim > 1:
                counts.setdefault(dim, f"{dim}, the number of columns")
        size = int(np.prod(shape))
        if size > 1:
            counts.setdefault(size, f"{size}, the number of entries")
    return sorted(counts.items())


def _factor(a, e, *, subject, block, what, inputs, dout, **_) -> str | None:
    ee = float(np.sum(e * e))
    if ee == 0.0:
        return None
    c = float(np.sum(a * e)) / ee
    if c == 0.0 or not _fits(a, c * e, e):
        return None
    # A count (N, entries) only explains a factor where something is summed or averaged.
    counts = [] if block in ELEMENTWISE else _counts(inputs, e, dout)
    return _factor_sentence(c, subject=subject, what=what, counts=counts)


def _factor_sentence(c: float, *, subject: str, what: str, counts: list[tuple[int, str]]) -> str:
    """The sentence for a value that is ``c`` times the expected one everywhere."""

    def near(x: float) -> bool:
        return abs(c - x) <= 1e-6 * abs(x)

    if near(0.5):
        return _say(subject, "is half the expected value: a factor 2 is missing "
                    "(d/dx x**2 = 2 x)", "missing_factor_2")
    if near(2.0):
        return _say(subject, "is twice the expected value: a factor 2 too many", "extra_factor_2")
    # In a consistency check the "expected" gradient comes from the student's own value, so
    # the missing or extra division may sit in that value rather than in the gradient.
    where = ", here or in the value it is the gradient of" if _is_gradient(what) else ""
    for n, label in counts:
        if near(float(n)):
            return _say(subject, f"is {n} times too large ({label}): a division by that count "
                        f"is missing (a mean, not a sum){where}", "sum_instead_of_mean")
        if near(1.0 / n):
            return _say(subject, f"is {n} times too small ({label}): a division by that count "
                        f"does not belong (a sum, not a mean){where}", "mean_instead_of_sum")
    named = _name_factor(c, counts)
    return _say(subject, f"is {named} times the expected value everywhere: look for a "
                "constant factor that is missing or extra", "constant_factor")


def _is_gradient(what: str) -> bool:
    """'dA', 'dy_pred', "grads['W1']", 'd/dx' name gradients; 'out', 'loss' do not."""
    name = what.split(":")[-1].strip()
    return name.startswith("d") or name.startswith("grad")


def _name_factor(c: float, counts: list[tuple[int, str]]) -> str:
    """'2 N' style name of a factor when it is a simple product of 2 and a count."""
    for n, label in counts:
        short = label.split(",")[0]
        if abs(c - 2.0 * n) <= 1e-6 * 2.0 * n:
            return f"2 x {short}"
        if abs(c - 0.5 / n) <= 1e-6 * 0.5 / n:
            return f"1 / (2 x {short})"
    return f"{c:.4g}"


# --------------------------------------------------------------------------------------------
# diagnose_directional: a gradient that failed a directional check (public checks)
# --------------------------------------------------------------------------------------------


def diagnose_directional(
    actual,
    check,
    *,
    block: str,
    what: str,
    inputs: tuple = (),
    dout=None,
    local=None,
    others: Sequence[tuple[str, object, object]] = (),
) -> str | None:
    """Name the usual mistake behind a gradient that fails a directional check, or None.

    Public checks know no full expected gradient, only central differences of the student's
    own function along a few random directions (``gradcheck.Directional``). So each candidate
    here is a *repair* of the student's gradient (its negative, its transpose, a constant
    multiple, another input's gradient); a candidate fits when its directional derivatives
    match the central differences tightly (``MATCH_RTOL``) while the student's own are clearly
    off (``DIFFER_RTOL``). Random directions make an accidental fit practically impossible.

    Args:
        actual: the student's gradient (already checked to have the input's shape).
        check: the failed ``Directional`` of this gradient.
        block: block or function name, e.g. "MatMul", "mse_loss".
        what: the gradient's name ("dA", "dtheta", "d/dx", "dW1").
        inputs: the function's inputs, in order (for counts N, M in factor sentences).
        dout: the upstream gradient used for ``actual``, or None.
        local: the student's own gradient with ``dout = ones``, passed only when it was shown
            right for ``dout = ones`` (then ``actual`` equal to it means dout was ignored).
        others: ``(name, gradient, Directional)`` of the block's other inputs, to recognise
            gradients returned in each other's places.

    Returns:
        One sentence ending in "(diagnosis: <code>)", or None.
    """
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return _diagnose_directional(actual, check, block=block, what=what, inputs=inputs,
                                         dout=dout, local=local, others=others)
    except Exception:  # noqa: BLE001 - a diagnosis is a bonus; it must never break a check
        return None


def _repairs(check, candidate) -> bool:
    """``candidate``'s directional derivatives match ``check``'s central differences, which
    the student's own gradient clearly misses."""
    if candidate is None:
        return False
    n = np.asarray(check.numeric, dtype=np.float64)
    along = np.asarray(check.along(candidate), dtype=np.float64)
    return (np.all(np.isfinite(along)) and rel_error(along, n) <= MATCH_RTOL
            and rel_error(check.claimed, n) > DIFFER_RTOL)


def _diagnose_directional(actual, check, *, block, what, inputs, dout, local, others):
    subject = _subject(block, what)
    n = _as_float_array(check.numeric)
    a = _as_float_array(actual)
    if a is None or n is None or not np.all(np.isfinite(n)):
        return None  # nothing trustworthy to compare with
    if not np.all(np.isfinite(a)):
        n_bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        return _say(subject, f"contains nan or inf ({n_bad} of {a.size} entries): look for "
                    "exp of large numbers, log of 0, or 0/0", "nan_or_inf")
    if rel_error(check.claimed, n) <= DIFFER_RTOL:
        return None  # not clearly wrong: no mistake to name
    if not np.any(a):  # before "upstream ignored": a zero local derivative would match it
        return _say(subject, ALL_ZEROS_TEXT, "all_zeros")
    for other_name, other_grad, other_check in others:
        g = _as_float_array(other_grad)
        if (g is not None and g.shape == a.shape and _repairs(check, g)
                and _repairs(other_check, a)):
            return _say(subject, f"holds what {other_name} should be (and {other_name} holds "
                        "this one): return the gradients in input order", "swapped")
    if a.ndim == 2 and a.shape[0] == a.shape[1] and _repairs(check, a.T):
        return _say(subject, "is the transpose of the right gradient: check the order of the "
                    "factors and which one is transposed", "transposed")
    if _repairs(check, -a):
        return _say(subject, "has the wrong sign everywhere: check every minus sign "
                    "on the way to it", "wrong_sign")
    loc = _as_float_array(local)
    d = _as_float_array(dout)
    ones = d is not None and d.size > 0 and np.allclose(d, 1.0)
    if loc is not None and loc.shape == a.shape and not ones and rel_error(a, loc) <= MATCH_RTOL:
        return _say(subject, "equals the local derivative alone, as if dout were all ones: "
                    "multiply by the upstream gradient dout (chain rule)", "upstream_ignored")
    claimed = np.asarray(check.claimed, dtype=np.float64)
    cc = float(np.sum(claimed * claimed))
    if cc == 0.0:
        return None
    c = float(np.sum(claimed * n)) / cc  # the student's gradient times c would pass
    if c == 0.0 or not _repairs(check, c * a):
        return None
    counts = [] if block in ELEMENTWISE else _counts(inputs, a, dout)
    return _factor_sentence(1.0 / c, subject=subject, what=what, counts=counts)


# --------------------------------------------------------------------------------------------
# explain: behavioural findings the checks detect themselves
# --------------------------------------------------------------------------------------------

_EXPLAIN: dict[str, str] = {
    "mutates_input": "modified its input {name} in place: work on a copy (x = x.copy()) or use "
                     "operations that return new arrays (x = x + 1, not x += 1)",
    "mutates_dout": "modified dout in place: dout belongs to the caller; compute a new array "
                    "(dX = dout * mask, not dout[mask] = 0)",
    "mutates_cache": "modified the cache in place, so a second backward call gives a different "
                     "answer: never write into what forward cached",
    "overflow": "raised a numerical warning ({warning}) for inputs of magnitude up to {scale}: "
                "use a stable formula (exp of a non-positive number never overflows; subtract "
                "the row max before softmax; clip before log)",
    "nan_or_inf": "produced nan or inf{where_}: look for exp of large numbers, log of 0, or 0/0",
    "wrong_dtype": "returned dtype {dtype}: return float64 arrays",
    "low_precision": "computed in {dtype}, which keeps too few digits: use float64 throughout",
    "wrong_shape": "returned shape {shape}, expected {expected_shape}",
    "relu_at_zero": "is wrong exactly where the input is 0 and right elsewhere: X == 0 goes "
                    "with X < 0 (use X > 0, not X >= 0)",
    "not_implemented": "is not written yet (it raises NotImplementedError)",
    "wrong_count": "returned {count} gradient(s); backward returns one per forward input "
                   "({expected_count}), in input order",
    "wrong_type": "returned {type_name}; expected {expected_kind}",
    "raised": "raised {error}",
}


def explain(code: str, *, block: str, what: str = "", **details) -> str:
    """One sentence for a finding the check detected itself, ending in the diagnosis tag.

    Args:
        code: one of the keys of ``_EXPLAIN`` (documented in docs/diagnoses.md).
            "wrong_dtype" with a float32/float16 ``dtype`` is refined to "low_precision".
        block: block or function name.
        what: the value concerned ("out", "dX", ...); for mutates_* the argument's name
            ("X", "dout", "cache"); a full label ("MatMul.forward") names the call.
        **details: fills the sentence; e.g. ``name="X"`` (mutates_input), ``warning=...``
            and ``scale=1000`` (overflow), ``dtype`` (wrong_dtype, low_precision), ``shape``
            or ``actual_shape`` and ``expected_shape`` (wrong_shape; with ``actual_shapes``,
            ``expected_shapes``, ``index``, ``names``, ``actual`` and ``dout`` it is refined
            to swapped / transposed / wrong_axis / batch_not_summed / broadcast_shape),
            ``count`` and
            ``expected_count`` (wrong_count), ``where`` (nan_or_inf: e.g. "in the forward
            output").

    Returns:
        The sentence. Unknown codes and missing details still give a readable sentence.
    """
    if code == "wrong_dtype" and str(details.get("dtype", "")) in ("float32", "float16"):
        code = "low_precision"
    if code == "wrong_shape":
        refined = _shape_facts(block, what, details)
        if refined:
            return refined
    if code.startswith("mutates_"):
        details.setdefault("name", what or "an input")
        subject = block
    elif what and (what == block or what.startswith((block + ".", block + ": "))):
        subject = what
    else:
        subject = _subject(block, what) if what else block
    fill = _Defaults({"name": "an input", "warning": "overflow", "scale": 1000,
                      "dtype": "not float64", "shape": "?", "expected_shape": "?",
                      "count": "the wrong number of", "expected_count": "one per input",
                      "type_name": "an unexpected type", "expected_kind": "an array",
                      "error": "an exception"})
    fill.update(details)
    if "actual_shape" in details and "shape" not in details:
        fill["shape"] = details["actual_shape"]
    fill["where_"] = f" {details['where']}" if details.get("where") else ""
    template = _EXPLAIN.get(code, CODES.get(code, code.replace("_", " ")))
    return f"{subject} {template.format_map(fill)} {tag(code)}"


def _shape_facts(block: str, what: str, details: dict) -> str | None:
    """A wrong shape explained from shapes: transposed, swapped, not summed, broadcast.

    Reads ``actual_shape`` (or ``shape``) and ``expected_shape``; for "swapped" also
    ``actual_shapes`` and ``expected_shapes`` of all gradients, ``index`` and ``names``; for
    "wrong_axis" the value ``actual`` and the upstream gradient ``dout``.
    """
    try:
        sa = tuple(int(n) for n in details.get("actual_shape", details.get("shape")))
        se = tuple(int(n) for n in details["expected_shape"])
    except Exception:  # noqa: BLE001 - missing or odd details: no refinement
        return None
    subject = _subject(block, what) if what and not what.startswith(block) else (what or block)
    if sa == se:
        return None
    swapped = _swapped_shapes(sa, se, details)
    if swapped:
        return _say(subject, swapped, "swapped")
    if len(sa) == 2 and sa == se[::-1]:
        return _say(subject, f"has shape {sa}, the transpose of the expected {se}: check the "
                    "order of the factors and which one is transposed", "transposed")
    a = _as_float_array(details.get("actual"))
    d = _as_float_array(details.get("dout"))
    if a is not None and d is not None and a.shape == sa and d.ndim >= 2:
        sums = {ax: d.sum(axis=ax) for ax in range(d.ndim)}
        right = [ax for ax, v in sums.items() if v.shape == se]
        for ax, v in sums.items():
            if v.shape == sa and right and rel_error(a, v) <= MATCH_RTOL:
                return _say(subject, f"has shape {sa} instead of {se}: it was summed over axis "
                            f"{ax}; sum over axis {right[0]}", "wrong_axis")
    for ax in range(len(sa)):
        if sa[ax] > 1 and sa[:ax] + sa[ax + 1:] == se and sa[ax] not in se:
            which = "axis 0, the batch" if ax == 0 else f"axis {ax}"
            return _say(subject, f"has shape {sa} instead of {se}: it still has the axis that "
                        f"must be summed; sum it over {which}", "batch_not_summed")
    try:
        broadcast = np.broadcast_shapes(sa, se) == sa and math.prod(sa) > math.prod(se)
    except ValueError:
        broadcast = False
    if broadcast:
        return _say(subject, f"has shape {sa} instead of {se}: an operation between arrays of "
                    "shapes like (N,) and (N, 1) broadcast into a bigger array; check the shape "
                    "of every intermediate array", "broadcast_shape")
    if math.prod(sa) == math.prod(se):
        return _say(subject, f"has shape {sa} instead of {se}: the same number of entries, so "
                    "an axis was dropped or added (ravel, squeeze, keepdims, reshape)",
                    "wrong_shape")
    return None


def _swapped_shapes(sa: tuple, se: tuple, details: dict) -> str | None:
    try:
        actual = [tuple(s) for s in details["actual_shapes"]]
        expected = [tuple(s) for s in details["expected_shapes"]]
        index = int(details["index"])
    except Exception:  # noqa: BLE001
        return None
    names = details.get("names")
    for j, other in enumerate(expected):
        if j != index and j < len(actual) and other == sa and actual[j] == se and other != se:
            other_name = names[j] if names and j < len(names) else f"input {j + 1}'s gradient"
            order = ", ".join(names) if names else "one gradient per input"
            return (f"has the shape of {other_name} ({sa}) and {other_name} has its shape: "
                    f"return the gradients in input order ({order})")
    return None


class _Defaults(dict):
    def __missing__(self, key: str) -> str:
        return "?"


# --------------------------------------------------------------------------------------------
# diagnose_optimizer
# --------------------------------------------------------------------------------------------


def diagnose_optimizer(
    actual_params: Mapping[str, np.ndarray],
    expected_params: Mapping[str, np.ndarray],
    *,
    optimizer: str,
    start: Mapping[str, np.ndarray],
    grads: Sequence[Mapping[str, np.ndarray]],
    hyper: Mapping[str, float] | None = None,
    reference_cls: Callable | None = None,
) -> str | None:
    """Name the usual optimizer mistake behind wrong parameters after a few steps.

    Args:
        actual_params: the student's parameters after ``len(grads)`` steps from ``start``.
        expected_params: the reference parameters after the same steps.
        optimizer: "SGD", "Momentum", "RMSprop" or "Adam".
        start: the parameters before the first step (never modified here).
        grads: the gradients of each step, dicts with the keys of ``start``.
        hyper: the constructor keywords used (e.g. ``{"lr": 0.1, "momentum": 0.9}``).
        reference_cls: the reference optimizer class (hidden tests) or None; with it, state
            mistakes are rebuilt by driving fresh reference instances.

    Returns:
        One sentence ending in "(diagnosis: <code>)", or None.
    """
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return _diagnose_optimizer(actual_params, expected_params, optimizer=optimizer,
                                       start=start, grads=grads, hyper=dict(hyper or {}),
                                       reference_cls=reference_cls)
    except Exception:  # noqa: BLE001
        return None


def _flat(params: Mapping, keys: list[str]) -> np.ndarray | None:
    parts = []
    for k in keys:
        v = _as_float_array(params.get(k)) if isinstance(params, Mapping) else None
        if v is None:
            return None
        parts.append(v.ravel())
    return np.concatenate(parts) if parts else None


def _diagnose_optimizer(actual_params, expected_params, *, optimizer, start, grads, hyper,
                        reference_cls) -> str | None:
    keys = list(start)
    s = _flat(start, keys)
    a = _flat(actual_params, keys)
    e = _flat(expected_params, keys)
    if s is None or a is None or e is None or a.shape != e.shape or not np.all(np.isfinite(e)):
        return None
    subject = f"{optimizer}.step"
    n = len(grads)
    steps = f"after {n} step{'s' if n != 1 else ''}"
    if not np.all(np.isfinite(a)):
        return _say(subject, f"produced nan or inf parameters {steps}", "nan_or_inf")
    da, de = a - s, e - s
    if float(np.linalg.norm(de)) == 0.0 or rel_error(a, e) <= MATCH_RTOL:
        return None
    if _fits(da, -de, de):
        return _say(subject, f"moves the parameters the wrong way {steps}: a step subtracts "
                    "lr times the update (theta -= ...)", "optimizer_wrong_sign")
    variants = _optimizer_variants(optimizer, start, grads, hyper, reference_cls, keys)
    for code, text, params in variants:
        # Compare updates, not parameters: a wrong update is small next to the parameters.
        cand = _flat(params, keys) if params is not None else None
        if cand is not None and _fits(da, cand - s, de):
            return _say(subject, f"{text} ({steps})", code)
    c = float(np.sum(da * de)) / float(np.sum(de * de))
    if c != 0.0 and _fits(da, c * de, de):
        return _say(subject, f"makes updates {c:.4g} times the expected ones {steps}: check "
                    "where the learning rate enters (once, as lr * ...)", "optimizer_step_scale")
    return None


def _copy_params(p: Mapping) -> dict[str, np.ndarray]:
    return {k: np.array(v, dtype=np.float64) for k, v in p.items()}


def _optimizer_variants(optimizer, start, grads, hyper, reference_cls, keys):
    """(code, sentence, params) for each mistake that applies to this optimizer."""
    out = []
    if reference_cls is not None:
        # State not kept between steps: a fresh optimizer for every step.
        p = _copy_params(start)
        for g in grads:
            reference_cls(**hyper).step(p, _copy_params(g))
        out.append(("state_reset", "forgets its state between steps: create the state "
                    "once (e.g. in __init__ or on the first step) and update it in place", p))
        # t advanced per key: one instance, stepped on one key at a time.
        p = _copy_params(start)
        opt = reference_cls(**hyper)
        for g in grads:
            for k in keys:
                sub = {k: p[k]}
                opt.step(sub, {k: np.array(g[k], dtype=np.float64)})
                p[k] = sub[k]
        out.append(("step_count_per_key", "advances its step counter once per parameter: "
                    "count steps once per call of step", p))
        # One state for all parameters: every key stepped under the same name.
        p = _copy_params(start)
        opt = reference_cls(**hyper)
        shared_ok = True
        for g in grads:
            for k in keys:
                sub = {"_shared": p[k]}
                try:
                    opt.step(sub, {"_shared": np.array(g[k], dtype=np.float64)})
                except Exception:  # noqa: BLE001 - shapes differ: this mistake would crash
                    shared_ok = False
                    break
                p[k] = sub["_shared"]
            if not shared_ok:
                break
        if shared_ok:
            out.append(("state_shared", "shares one state between all parameters: keep one "
                        "state array per parameter key", p))
    if optimizer == "Adam":
        for variant, code, text in (
            ({"correct_m": False, "correct_v": False}, "no_bias_correction",
             "skips the bias correction: divide m by (1 - beta1 ** t) and v by "
             "(1 - beta2 ** t), with t counted from 1"),
            ({"correct_v": False}, "partial_bias_correction", "corrects only the first moment "
             "m: divide v by (1 - beta2 ** t) as well"),
            ({"correct_m": False}, "partial_bias_correction", "corrects only the second moment "
             "v: divide m by (1 - beta1 ** t) as well"),
            ({"reset": True}, "state_reset", "starts m and v from zero at every step: create "
             "them once per parameter and keep them between steps"),
        ):
            out.append((code, text, _adam_variant(start, grads, hyper, **variant)))
    return out


def _adam_variant(start, grads, hyper, *, correct_m: bool = True, correct_v: bool = True,
                  reset: bool = False) -> dict:
    """Adam with the bias correction of m and/or v left out, or its moments reset at every
    step while t keeps counting (wrong answers to compare with)."""
    lr = float(hyper.get("lr", 1e-3))
    b1 = float(hyper.get("beta1", 0.9))
    b2 = float(hyper.get("beta2", 0.999))
    eps = float(hyper.get("eps", 1e-8))
    p = _copy_params(start)
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v2 = {k: np.zeros_like(v) for k, v in p.items()}
    for t, g in enumerate(grads, start=1):
        if reset:
            m = {k: np.zeros_like(v) for k, v in p.items()}
            v2 = {k: np.zeros_like(v) for k, v in p.items()}
        for k in p:
            gk = np.asarray(g[k], dtype=np.float64)
            m[k] = b1 * m[k] + (1 - b1) * gk
            v2[k] = b2 * v2[k] + (1 - b2) * gk**2
            mh = m[k] / (1 - b1**t) if correct_m else m[k]
            vh = v2[k] / (1 - b2**t) if correct_v else v2[k]
            p[k] = p[k] - lr * mh / (np.sqrt(vh) + eps)
    return p


__all__ = [
    "CODES",
    "DIFFER_RTOL",
    "MATCH_RTOL",
    "diagnose",
    "diagnose_directional",
    "diagnose_optimizer",
    "explain",
    "tag",
]

