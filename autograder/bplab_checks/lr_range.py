"""Checks of hw3's ``lr_range_test`` and ``suggest_lr``: the learning-rate range test.

Every check hands ``lr_range_test`` a loss function of the grader's: a quadratic whose whole run
is known in closed form (``quadratic_run``: its steps diverge exactly when lr > 2 / a), or, in
hidden cases, the reference ``mlp_loss`` on hw2's WDBC training split (``trusted_wdbc``), so a
bug in the student's own ``mlp_loss`` never costs points here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bplab_checks.feedback import (
    as_float64,
    call,
    check_untouched,
    compare_value,
    describe,
    fail,
    snapshot,
)
from bplab_checks.gradcheck import rel_error
from bplab_checks.i18n import t
from bplab_checks.tolerances import REF_RTOL


def quadratic(a: float) -> Callable:
    """loss_and_grad of L(theta) = a / 2 * ||theta||^2: gradient a * theta, and one step of
    gradient descent multiplies theta by (1 - lr a): it diverges exactly when lr > 2 / a."""
    def loss_and_grad(params):
        theta = np.asarray(params["theta"], dtype=np.float64)
        return 0.5 * a * float(np.sum(theta**2)), {"theta": a * theta}

    loss_and_grad.__name__ = f"quadratic_{a:g}"
    return loss_and_grad


def quadratic_run(a, theta0, lr_min, lr_max, factor, diverge) -> tuple[list[float], list[float]]:
    """The range test on the quadratic in closed form: loss_k = L0 * prod_{j<k} (1 - lr_j a)^2."""
    lrs, losses, best, lr = [], [], np.inf, lr_min
    loss = 0.5 * a * float(np.sum(theta0**2))
    while lr <= lr_max:
        lrs.append(lr)
        losses.append(loss)
        best = min(best, loss)
        if not np.isfinite(loss) or loss > diverge * best:
            break
        loss *= (1 - lr * a) ** 2
        lr *= factor
    return lrs, losses


def _range_test(lr_range_test, loss_and_grad, params, label, **kwargs):
    before = snapshot(params)
    arg = snapshot(params)
    out = call("lr_range_test", lr_range_test, loss_and_grad, arg, **kwargs)
    check_untouched({"params": before}, {"params": arg}, block="lr_range_test",
                    during="lr_range_test")
    if not isinstance(out, tuple | list) or len(out) != 2:
        fail(f"{label} returned {describe(out)}; expected (lrs, losses).")
    lrs, losses = (list(np.asarray(v, dtype=np.float64).ravel()) for v in out)
    if len(lrs) != len(losses) or not lrs:
        fail(f"{label}: lrs and losses must be two non-empty lists of the same length; got "
             f"{len(lrs)} and {len(losses)} values.")
    return lrs, losses


def check_lr_range_quadratic(lr_range_test, a: float = 4.0, seed: int = 0, reveal: bool = True,
                             **kwargs) -> None:
    """The range test on a quadratic: the learning rates, the losses (closed form), where it
    stops (just past lr = 2 / a, where the steps diverge), and params left untouched."""
    settings = {"lr_min": 1e-3, "lr_max": 10.0, "factor": 1.2, "diverge": 4.0, **kwargs}
    theta0 = np.random.default_rng(seed).standard_normal((3, 2))
    label = (f"lr_range_test(quadratic a={a:g}, theta (3, 2), "
             + ", ".join(f"{k}={v:g}" for k, v in settings.items()) + ")")
    lrs, losses = _range_test(lr_range_test, quadratic(a), {"theta": theta0}, label, **settings)
    exp_lrs, exp_losses = quadratic_run(a, theta0, **settings)
    rule = t("start at lr_min, multiply lr by factor after every step, record (lr, loss) "
             "before each step, and stop after recording a loss above diverge * (the best loss "
             "so far), or once lr would exceed lr_max")
    if len(lrs) != len(exp_lrs):
        last = [float(f"{v:.4g}") for v in lrs[-3:]]
        fail(t("{label} recorded {n} learning rates, expected {expected} (divergence starts "
               "above lr = 2 / a = {bound}): {rule}.", label=label, n=len(lrs),
               expected=len(exp_lrs), bound=f"{2 / a:g}", rule=rule),
             t("Your last learning rates: {lrs}.", lrs=last))
    compare_value(lrs, exp_lrs, what="lrs", block="lr_range_test", checked=label, rtol=REF_RTOL,
                  reveal=reveal)
    compare_value(losses, exp_losses, what="losses", block="lr_range_test", checked=label,
                  rtol=REF_RTOL, reveal=reveal)


def check_suggest_lr(suggest_lr) -> None:
    """Public: a made-up curve whose steepest descent is known, and a diverged (inf) end."""
    lrs = list(1e-4 * 1.5 ** np.arange(12))
    losses = [1.0, 0.99, 0.97, 0.9, 0.7, 0.3, 0.25, 0.22, 0.3, 0.9, 3.0, float("inf")]
    for curve, k in ((losses, 4), ([2.0, 1.9, 1.0, 0.95, 0.94, 5.0], 1)):
        got = call("suggest_lr", suggest_lr, list(lrs[: len(curve)]), list(curve))
        value = as_float64(got, "suggest_lr result", block="suggest_lr", scalar=True)
        if rel_error(value, lrs[k]) > REF_RTOL:
            fail(t("suggest_lr returned {got}; the steepest descent of this curve is the step "
                   "taken with lrs[{k}] = {lr} (the loss falls most from losses[{k}] to "
                   "losses[{k1}]).", got=f"{float(value):.6g}", k=k, lr=f"{lrs[k]:.6g}",
                   k1=k + 1), f"losses: {curve}.")


def trusted_wdbc():
    """Hidden cases only: hw2's WDBC split, ``(X_train, y_train, X_val, y_val)``, loaded from the
    trusted copy found from the ``solutions`` package, never from a folder the student controls."""
    import importlib.util
    from pathlib import Path

    import solutions

    root = Path(solutions.__file__).resolve().parent.parent
    # files/data next to files/solutions (otter run), data/ next to lib/solutions (the sandboxed
    # Gradescope autograder), assignments/hw2/data in the repository.
    candidates = [root / "data" / "wdbc.py", root.parent / "data" / "wdbc.py",
                  root / "assignments" / "hw2" / "data" / "wdbc.py"]
    found = [p for p in candidates if p.is_file()]
    if not found:
        raise FileNotFoundError(f"the trusted WDBC copy is missing (looked in {candidates})")
    spec = importlib.util.spec_from_file_location("bplab_trusted_wdbc", found[0])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.load_data()


def wdbc_loss_and_grad(mlp_loss, X, y):
    """Full-batch loss of the WDBC network with the reference mlp_loss (hidden cases)."""
    def loss_and_grad(params):
        return mlp_loss(params, X, y)

    loss_and_grad.__name__ = "wdbc_mlp_loss"
    return loss_and_grad


def compare_range_tests(lr_range_test, reference, loss_and_grad, params, label, **kwargs):
    """Hidden: lrs and losses equal the reference's on the same loss function."""
    exp_lrs, exp_losses = reference(loss_and_grad, snapshot(params), **kwargs)
    lrs, losses = _range_test(lr_range_test, loss_and_grad, params, label, **kwargs)
    if len(lrs) != len(exp_lrs):
        fail(t("{label} recorded {n} learning rates, expected {expected}: check the stopping "
               "rule (loss above diverge * best so far, or lr above lr_max).", label=label,
               n=len(lrs), expected=len(exp_lrs)))
    compare_value(lrs, exp_lrs, what="lrs", block="lr_range_test", checked=label, rtol=REF_RTOL)
    compare_value(losses, exp_losses, what="losses", block="lr_range_test", checked=label,
                  rtol=1e-6)
    return exp_lrs, exp_losses
