"""The public check of hw1's ``fit_linreg``, ``check_fit_linreg_runs``: theta's shape, losses
going down with a small learning rate, inputs untouched, and every step of the run a gradient
step of the assignment's squared-error loss (checked against central differences).
"""

from __future__ import annotations

import numpy as np

from bplab_checks.feedback import (
    as_float64,
    assert_directional,
    call,
    check_shape,
    check_untouched,
    describe,
    fail,
    unpack_pair,
)
from bplab_checks.gradcheck import directional_derivatives
from bplab_checks.i18n import t
from bplab_checks.tolerances import GRAD_RTOL, REF_RTOL


def check_fit_linreg_runs(fit_linreg, seed: int = 0) -> None:
    """Public check: theta (D, 1), ``n_steps`` scalar losses that go down with a small learning
    rate, inputs untouched, and the run self-consistent (``_check_fit_linreg_steps``)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((8, 3))
    Y = X @ rng.standard_normal((3, 1))
    lr = 0.2 / float(np.linalg.norm(X, 2) ** 2)
    n_steps = 5
    named = {"X": X.copy(), "Y": Y.copy()}
    result = call("fit_linreg", fit_linreg, named["X"], named["Y"], lr, n_steps)
    check_untouched({"X": X, "Y": Y}, named, block="fit_linreg", during="fit_linreg")
    theta, losses = unpack_pair(result, "fit_linreg", ("theta", "losses"))
    theta = as_float64(theta, "fit_linreg: theta", block="fit_linreg")
    check_shape(theta, (3, 1), "fit_linreg: theta", block="fit_linreg")
    if isinstance(losses, np.ndarray) and losses.ndim == 1:
        losses = list(losses)
    if not isinstance(losses, tuple | list) or len(losses) != n_steps:
        fail(f"fit_linreg returned losses {describe(losses)}; expected a list of "
             f"n_steps = {n_steps} losses.")
    values = [float(as_float64(v, f"fit_linreg: losses[{i}]", block="fit_linreg", scalar=True))
              for i, v in enumerate(losses)]
    if not all(b < a for a, b in zip(values, values[1:], strict=False)):
        fail(t("fit_linreg: the losses should go down at every step with a small learning rate "
               "(lr = {lr}); got {losses}.", lr=f"{lr:.3g}",
               losses=", ".join(f"{v:.4g}" for v in values)),
             t("Checked: X (8, 3), Y (8, 1), n_steps=5. Is each loss computed before its step, "
               "and theta updated with theta - lr * g?"))
    _check_fit_linreg_steps(fit_linreg, X, Y, lr, theta, values)


def _linreg_loss(theta: np.ndarray, X: np.ndarray, Y: np.ndarray) -> float:
    """The loss of the assignment, ``sum((X @ theta - Y) ** 2)``."""
    return float(np.sum((X @ theta - Y) ** 2))


def _check_fit_linreg_steps(fit_linreg, X, Y, lr: float, theta_last, losses) -> None:
    """Each loss is the loss of the theta reached after that many steps (``theta_k`` from
    ``fit_linreg(X, Y, lr, k)``, ``theta_0`` drawn as the assignment says), and each step
    ``theta_k -> theta_k+1`` is ``-lr`` times the gradient of that loss (checked along random
    directions: central differences of the loss, no gradient formula)."""
    n_steps = len(losses)
    D = X.shape[1]
    thetas = [np.random.default_rng(0).standard_normal((D, 1))]
    for k in range(1, n_steps):
        result = call("fit_linreg", fit_linreg, X.copy(), Y.copy(), lr, k)
        theta_k = unpack_pair(result, "fit_linreg", ("theta", "losses"))[0]
        theta_k = as_float64(theta_k, "fit_linreg: theta", block="fit_linreg")
        check_shape(theta_k, (D, 1), "fit_linreg: theta", block="fit_linreg")
        thetas.append(theta_k)
    thetas.append(theta_last)
    checked = f"Checked: X {X.shape}, Y {Y.shape}, lr = {lr:.3g}, seed = 0."
    for k in range(n_steps):
        want = _linreg_loss(thetas[k], X, Y)
        if not np.isclose(losses[k], want, rtol=REF_RTOL, atol=0.0):
            start = ("theta0 = np.random.default_rng(seed).standard_normal((D, 1))" if k == 0
                     else f"the theta that fit_linreg(X, Y, lr, n_steps={k}) returns")
            fail(f"fit_linreg: losses[{k}] is {losses[k]:.6g}, but the loss "
                 f"sum((X @ theta - Y) ** 2) of {start} is {want:.6g}. losses[k] is the loss "
                 "computed right before step k + 1.", checked)
        step = (thetas[k] - thetas[k + 1]) / lr

        def f(z):
            return _linreg_loss(z, X, Y)

        check = directional_derivatives(f, thetas[k], step, seed=k)
        assert_directional(
            step, check, what=f"(theta_{k} - theta_{k + 1}) / lr", wrt="theta",
            block="fit_linreg", rtol=GRAD_RTOL, function="sum((X @ theta - Y) ** 2)",
            checked=f"step {k + 1} of fit_linreg: theta_{k + 1} = theta_{k} - lr * dtheta, "
            f"with theta_k from fit_linreg(X, Y, lr, n_steps=k), X {X.shape}, Y {Y.shape}.",
        )
