"""What every diagnosis shares: the codes, the tag, the fit tolerances and the sentence
helpers (subject, counts, factor sentences). Used by the four entry-point modules of
``bplab_checks.diagnose``; never raises on hostile values."""

from __future__ import annotations

import numpy as np

from bplab_checks.gradcheck import rel_error
from bplab_checks.i18n import N_, t
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
    "shape_mismatch": "a numpy shape error inside backward (operands that do not fit)",
    "gradient_of_other_input": "the gradient of another input returned (dX taken for dtheta)",
    "wrong_at_extremes": "a loss right on moderate inputs, wrong at extreme ones (clipped log)",
    "missing_one_minus_s": "the sigmoid-like derivative s (1 - s) without its (1 - s)",
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
    "adam_t_off_by_one": "Adam's step counter starts at 2 (off by one) in the bias correction",
    # training diagnoses (autograder/hw2/train_two_layer.py)
    "train_not_learning": "training does not lower the loss or reach the accuracy bar",
    "train_seed_ignored": "training results do not follow the seed",
    # autograd engine findings (bplab_checks.graph, hw3's Graph)
    "fanout_overwritten": "a node used several times keeps some paths' gradients, not their sum",
    "visit_order": "a node's backward ran before all of its consumers had passed their gradient",
    "backward_twice": "a block's backward was called more than once in one backward pass",
    "stale_state": "a value or gradient left over from the previous forward/backward",
}


# Sentence ends kept as constants are templates (N_), translated where they are said (_say).
ALL_ZEROS_TEXT = N_("is all zeros, but the right value is not: compute it and return it (a "
                  "zeros_like placeholder left in, or a mask or factor that is always 0?)")




def _subject(block: str, what: str) -> str:
    """'dA from MatMul.backward' / 'MatMul.forward output' / 'loss from mse_loss' (in the
    current language; the names themselves are never translated)."""
    if what == block:
        return t("the result of {block}", block=block)
    if what in ("", "out"):
        return (t("{block}.forward output", block=block) if block[:1].isupper()
                else t("the value of {block}", block=block))
    if block[:1].isupper():
        return (t("{what} from {block}.backward", what=what, block=block) if what.startswith("d")
                else f"{block} {what}")
    return t("{what} from {block}", what=what, block=block)


def _say(subject: str, text: str, code: str, **fields: object) -> str:
    """One diagnosis sentence: ``text`` (a template, translated here and formatted with
    ``fields``) after ``subject``, then the tag, which no translation ever holds."""
    return f"{subject} {t(text, **fields)} {tag(code)}"


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


def _counts(inputs, e: np.ndarray, dout) -> list[tuple[int, str]]:
    """Counts a mean may divide by, with what each one counts: "batch" (N), "columns",
    "entries" (``_count_label`` says it)."""
    shapes = []
    for x in (*inputs, dout, e):
        xa = _as_float_array(x)
        if xa is not None and xa.ndim >= 1:
            shapes.append(xa.shape)
    counts: dict[int, str] = {}
    for shape in shapes:
        if shape and shape[0] > 1:
            counts.setdefault(shape[0], "batch")
        for dim in shape[1:]:
            if dim > 1:
                counts.setdefault(dim, "columns")
        size = int(np.prod(shape))
        if size > 1:
            counts.setdefault(size, "entries")
    return sorted(counts.items())


def _count_short(n: int, kind: str) -> str:
    """'N = 8' for the batch size, the number itself otherwise."""
    return f"N = {n}" if kind == "batch" else str(n)


def _count_label(n: int, kind: str) -> str:
    """'N = 8, the batch size' / '12, the number of entries'."""
    if kind == "batch":
        return t("{count}, the batch size", count=_count_short(n, kind))
    if kind == "columns":
        return t("{count}, the number of columns", count=n)
    return t("{count}, the number of entries", count=n)



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
    where = t(", here or in the value it is the gradient of") if _is_gradient(what) else ""
    for n, kind in counts:
        if near(float(n)):
            return _say(subject, "is {n} times too large ({label}): a division by that count "
                        "is missing (a mean, not a sum){where}", "sum_instead_of_mean",
                        n=n, label=_count_label(n, kind), where=where)
        if near(1.0 / n):
            return _say(subject, "is {n} times too small ({label}): a division by that count "
                        "does not belong (a sum, not a mean){where}", "mean_instead_of_sum",
                        n=n, label=_count_label(n, kind), where=where)
    named = _name_factor(c, counts)
    return _say(subject, "is {factor} times the expected value everywhere: look for a "
                "constant factor that is missing or extra", "constant_factor", factor=named)


def _is_gradient(what: str) -> bool:
    """'dA', 'dy_pred', "grads['W1']", 'd/dx' name gradients; 'out', 'loss' do not."""
    name = what.split(":")[-1].strip()
    return name.startswith("d") or name.startswith("grad")


def _name_factor(c: float, counts: list[tuple[int, str]]) -> str:
    """'2 N' style name of a factor when it is a simple product of 2 and a count."""
    for n, kind in counts:
        short = _count_short(n, kind)
        if abs(c - 2.0 * n) <= 1e-6 * 2.0 * n:
            return f"2 x {short}"
        if abs(c - 0.5 / n) <= 1e-6 * 0.5 / n:
            return f"1 / (2 x {short})"
    return f"{c:.4g}"


NAN_TEXT = N_("contains nan or inf ({bad} of {size} entries): look for exp of large numbers, "
              "log of 0, or 0/0")
INTEGER_TEXT = N_("has integer dtype {dtype}: compute in float64 (integer arrays truncate)")
UPSTREAM_TEXT = N_("equals the local derivative alone, as if dout were all ones: multiply by "
                   "the upstream gradient dout (chain rule)")
WRONG_SIGN_TEXT = N_("has the wrong sign everywhere: check every minus sign on the way to it")
MISSING_ONE_MINUS_TEXT = N_("equals dout times the forward output alone: the derivative of the "
                          "sigmoid is s (1 - s), so the factor (1 - s) is missing")


def _is_dout_times_out(a: np.ndarray, dout, out) -> bool:
    """``a`` is ``dout * out`` (a one-input elementwise block whose derivative, e.g.
    s (1 - s), lost a factor), and that is not also the right answer (``a`` is not 0)."""
    d, o = _as_float_array(dout), _as_float_array(out)
    if d is None or o is None or d.shape != a.shape or o.shape != a.shape or not np.any(a):
        return False
    return rel_error(a, d * o) <= MATCH_RTOL
