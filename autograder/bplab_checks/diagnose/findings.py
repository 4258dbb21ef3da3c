"""explain: one sentence for a behavioural finding a check detected itself (mutation,
overflow, wrong shape explained from shapes, not implemented, ...)."""

from __future__ import annotations

import math

import numpy as np

from bplab_checks.diagnose.common import CODES, MATCH_RTOL, _as_float_array, _say, _subject, tag
from bplab_checks.gradcheck import rel_error
from bplab_checks.i18n import N_, t, t_map

_EXPLAIN: dict[str, str] = {
    "mutates_input": N_("modified its input {name} in place: work on a copy (x = x.copy()) or use "
                     "operations that return new arrays (x = x + 1, not x += 1)"),
    "mutates_dout": N_("modified dout in place: dout belongs to the caller; compute a new array "
                    "(dX = dout * mask, not dout[mask] = 0)"),
    "mutates_cache": N_("modified the cache in place, so a second backward call gives a different "
                     "answer: never write into what forward cached"),
    "overflow": N_("raised a numerical warning ({warning}) for inputs of magnitude up to {scale}: "
                "use a stable formula (exp of a non-positive number never overflows; subtract "
                "the row max before softmax; clip before log)"),
    "nan_or_inf": N_("produced nan or inf{where_}: look for exp of large numbers, log of 0, "
                     "or 0/0"),
    "wrong_dtype": N_("returned dtype {dtype}: return float64 arrays"),
    "low_precision": N_("computed in {dtype}, which keeps too few digits: use float64 throughout"),
    "wrong_shape": N_("returned shape {shape}, expected {expected_shape}"),
    "relu_at_zero": N_("is wrong exactly where the input is 0 and right elsewhere: X == 0 goes "
                    "with X < 0 (use X > 0, not X >= 0)"),
    "not_implemented": N_("is not written yet (it raises NotImplementedError)"),
    "wrong_count": N_("returned {count} gradient(s); backward returns one per forward input "
                   "({expected_count}), in input order"),
    "wrong_type": N_("returned {type_name}; expected {expected_kind}"),
    "raised": N_("raised {error}"),
    "gradient_of_other_input": N_("has the shape of {other}{shape_}, not of {wrt}"
                               "{expected_shape_}: you took the gradient with respect to "
                               "{other}. A block's backward returns one gradient per input, "
                               "in input order (MatMul.backward gives (dX, dtheta) for "
                               "MatMul.forward(X, theta)): take the one of {wrt}"),
    "wrong_at_extremes": N_("is right on moderate inputs and wrong at extreme ones (logits of "
                         "magnitude 1000, probabilities at 0 or 1): a clipped or epsilon-shifted "
                         "log (log(p + 1e-12), np.clip before log) changes it there; compute "
                         "log-probabilities as logits - logsumexp (the row max subtracted)"),
    "shape_mismatch": N_("failed on operands whose shapes do not fit: {error}. It was given "
                      "{given} and must return {wanted} (each gradient has its input's shape): "
                      "check which factor is transposed and the order of the factors"),
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
        details.setdefault("name", what or t("an input"))
        subject = block
    elif what and (what == block or what.startswith((block + ".", block + ": "))):
        subject = what
    else:
        subject = _subject(block, what) if what else block
    fill = _Defaults({"name": t("an input"), "warning": "overflow", "scale": 1000,
                      "dtype": t("not float64"), "shape": "?", "expected_shape": "?",
                      "count": t("the wrong number of"), "expected_count": t("one per input"),
                      "type_name": t("an unexpected type"), "expected_kind": t("an array"),
                      "error": t("an exception"), "other": t("another input"),
                      "wrt": t("its own input"), "given": t("its inputs"),
                      "wanted": t("one gradient per input")})
    fill.update(details)
    if "actual_shape" in details and "shape" not in details:
        fill["shape"] = details["actual_shape"]
    fill["where_"] = f" {details['where']}" if details.get("where") else ""
    for key in ("shape", "expected_shape"):
        fill[key + "_"] = f" {tuple(details[key])}" if key in details else ""
    template = _EXPLAIN.get(code, CODES.get(code, code.replace("_", " ")))
    return f"{subject} {t_map(template, fill)} {tag(code)}"


def _shape_facts(block: str, what: str, details: dict) -> str | None:
    """A wrong shape explained from shapes: transposed, swapped, not summed, broadcast.

    Reads ``actual_shape`` (or ``shape``) and ``expected_shape``; for "swapped" also
    ``actual_shapes`` and ``expected_shapes`` of all gradients, ``index`` and ``names``; for
    "wrong_axis" the value ``actual`` and the upstream gradient ``dout``.
    """
    try:
        actual = details["actual_shape"] if "actual_shape" in details else details["shape"]
        sa = tuple(int(n) for n in actual)
        se = tuple(int(n) for n in details["expected_shape"])
    except Exception:  # noqa: BLE001 - missing or odd details: no refinement
        return None
    subject = _subject(block, what) if what and not what.startswith(block) else (what or block)
    if sa == se:
        return None
    swapped = _swapped_shapes(sa, se, details)
    if swapped:
        return f"{subject} {swapped} {tag('swapped')}"  # already in the student's language
    if len(sa) == 2 and sa == se[::-1]:
        return _say(subject, "has shape {actual}, the transpose of the expected {expected}: "
                    "check the order of the factors and which one is transposed", "transposed",
                    actual=sa, expected=se)
    a = _as_float_array(details.get("actual"))
    d = _as_float_array(details.get("dout"))
    if a is not None and d is not None and a.shape == sa and d.ndim >= 2:
        sums = {ax: d.sum(axis=ax) for ax in range(d.ndim)}
        right = [ax for ax, v in sums.items() if v.shape == se]
        for ax, v in sums.items():
            if v.shape == sa and right and rel_error(a, v) <= MATCH_RTOL:
                return _say(subject, "has shape {actual} instead of {expected}: it was summed "
                            "over axis {axis}; sum over {hint}", "wrong_axis", actual=sa,
                            expected=se, axis=ax, hint=t("axis {axis}", axis=right[0]))
    for ax in range(len(sa)):
        if sa[ax] > 1 and sa[:ax] + sa[ax + 1:] == se and sa[ax] not in se:
            which = t("axis 0, the batch") if ax == 0 else t("axis {axis}", axis=ax)
            return _say(subject, "has shape {actual} instead of {expected}: it still has the "
                        "axis that must be summed; sum it over {which}", "batch_not_summed",
                        actual=sa, expected=se, which=which)
    try:
        broadcast = np.broadcast_shapes(sa, se) == sa and math.prod(sa) > math.prod(se)
    except ValueError:
        broadcast = False
    if broadcast:
        return _say(subject, "has shape {actual} instead of {expected}: an operation between "
                    "arrays of shapes like (N,) and (N, 1) broadcast into a bigger array; check "
                    "the shape of every intermediate array", "broadcast_shape", actual=sa,
                    expected=se)
    if math.prod(sa) == math.prod(se):
        return _say(subject, "has shape {actual} instead of {expected}: the same number of "
                    "entries, so an axis was dropped or added (ravel, squeeze, keepdims, "
                    "reshape)", "wrong_shape", actual=sa, expected=se)
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
            other_name = (names[j] if names and j < len(names)
                          else t("input {k}'s gradient", k=j + 1))
            order = ", ".join(names) if names else t("one gradient per input")
            return t("has the shape of {other} ({shape}) and {other} has its shape: "
                     "return the gradients in input order ({order})", other=other_name,
                     shape=sa, order=order)
    return None


class _Defaults(dict):
    def __missing__(self, key: str) -> str:
        return "?"
