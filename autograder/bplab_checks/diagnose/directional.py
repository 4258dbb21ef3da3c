"""diagnose_directional: a gradient that failed a directional check (public checks).

Public checks know no expected gradient, only directional central differences of the
student's own function (or of the contract's definition); the mistakes are named by the repair
that would pass.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from bplab_checks.diagnose.common import (
    ALL_ZEROS_TEXT,
    DIFFER_RTOL,
    MATCH_RTOL,
    MISSING_ONE_MINUS_TEXT,
    NAN_TEXT,
    UPSTREAM_TEXT,
    WRONG_SIGN_TEXT,
    _as_float_array,
    _counts,
    _factor_sentence,
    _is_dout_times_out,
    _say,
    _subject,
)
from bplab_checks.gradcheck import rel_error


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
    elementwise: bool = False,
    out=None,
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
        elementwise: the block acts entry by entry (see ``diagnose``).
        out: the forward output for these inputs (the definition's), for the factor that a
            derivative written from it may have lost.

    Returns:
        One sentence ending in "(diagnosis: <code>)", or None.
    """
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return _diagnose_directional(actual, check, block=block, what=what, inputs=inputs,
                                         dout=dout, local=local, others=others,
                                         elementwise=elementwise, out=out)
    except Exception:  # noqa: BLE001 - a diagnosis is a bonus; it must never break a check
        return None


def _repairs(check, candidate) -> bool:
    """``candidate``'s directional derivatives match ``check``'s central differences, which
    the student's own gradient clearly misses."""
    if candidate is None:
        return False
    n = np.asarray(check.numeric, dtype=np.float64)
    along = np.asarray(check.along(candidate), dtype=np.float64)
    return bool(np.all(np.isfinite(along)) and rel_error(along, n) <= MATCH_RTOL
                and rel_error(check.claimed, n) > DIFFER_RTOL)


def _diagnose_directional(actual, check, *, block, what, inputs, dout, local, others,
                          elementwise=False, out=None):
    subject = _subject(block, what)
    n = _as_float_array(check.numeric)
    a = _as_float_array(actual)
    if a is None or n is None or not np.all(np.isfinite(n)):
        return None  # nothing trustworthy to compare with
    if not np.all(np.isfinite(a)):
        n_bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        return _say(subject, NAN_TEXT, "nan_or_inf", bad=n_bad, size=a.size)
    if rel_error(check.claimed, n) <= DIFFER_RTOL:
        return None  # not clearly wrong: no mistake to name
    if not np.any(a):  # before "upstream ignored": a zero local derivative would match it
        return _say(subject, ALL_ZEROS_TEXT, "all_zeros")
    for other_name, other_grad, other_check in others:
        g = _as_float_array(other_grad)
        if (g is not None and g.shape == a.shape and _repairs(check, g)
                and _repairs(other_check, a)):
            return _say(subject, "holds what {other} should be (and {other} holds "
                        "this one): return the gradients in input order", "swapped",
                        other=other_name)
    if a.ndim == 2 and a.shape[0] == a.shape[1] and _repairs(check, a.T):
        return _say(subject, "is the transpose of the right gradient: check the order of the "
                    "factors and which one is transposed", "transposed")
    if _repairs(check, -a):
        return _say(subject, WRONG_SIGN_TEXT, "wrong_sign")
    loc = _as_float_array(local)
    d = _as_float_array(dout)
    ones = d is not None and d.size > 0 and np.allclose(d, 1.0)
    if loc is not None and loc.shape == a.shape and not ones and rel_error(a, loc) <= MATCH_RTOL:
        return _say(subject, UPSTREAM_TEXT, "upstream_ignored")
    if out is not None and _is_dout_times_out(a, dout, out):
        return _say(subject, MISSING_ONE_MINUS_TEXT, "missing_one_minus_s")
    claimed = np.asarray(check.claimed, dtype=np.float64)
    cc = float(np.sum(claimed * claimed))
    if cc == 0.0:
        return None
    c = float(np.sum(claimed * n)) / cc  # the student's gradient times c would pass
    if c == 0.0 or not _repairs(check, c * a):
        return None
    counts = [] if elementwise else _counts(inputs, a, dout)
    return _factor_sentence(1.0 / c, subject=subject, what=what, counts=counts)
