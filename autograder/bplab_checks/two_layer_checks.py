"""Checks of hw2's two-layer network: ``check_init_two_layer`` (keys, shapes, the stated
distribution, the seed), ``check_two_layer_gradients`` and ``check_two_layer_predict`` against
the assignment's own forward pass and loss, which live here too (``two_layer_probabilities``,
``bce``: trusted, also used by ``training``).
"""

from __future__ import annotations

import numpy as np

from bplab_checks.cases import two_layer_data, two_layer_params
from bplab_checks.feedback import (
    as_float64,
    assert_close,
    assert_directional,
    call,
    check_shape,
    check_untouched,
    describe,
    fail,
    shapes_text,
    snapshot,
    unpack_pair,
)
from bplab_checks.gradcheck import directional_derivatives
from bplab_checks.i18n import t
from bplab_checks.tolerances import GRAD_RTOL, REF_RTOL


def check_init_two_layer(init_two_layer) -> None:
    """Public check: keys, shapes, float64, zero biases, weights distributed as the assignment
    says (mean and standard deviation), reproducible for a seed and different for another
    seed."""
    D, H = 4, 5
    shapes = {"W1": (D, H), "b1": (H,), "W2": (H, 1), "b2": (1,)}
    p0 = call("init_two_layer", init_two_layer, D, H, seed=0)
    if not isinstance(p0, dict) or set(p0) != set(shapes):
        fail(f"init_two_layer returned {describe(p0)}; expected a dict with keys "
             f"{sorted(shapes)}.")
    for key, shape in shapes.items():
        arr = as_float64(p0[key], f"init_two_layer: {key}", block="init_two_layer")
        check_shape(arr, shape, f"init_two_layer: {key}", block="init_two_layer",
                    context=f"Checked: init_two_layer(D={D}, H={H}).")
        if key.startswith("b") and np.any(arr != 0):
            fail(f"init_two_layer: {key} should start at zeros.")
    _check_init_scale(init_two_layer)
    again = call("init_two_layer", init_two_layer, D, H, seed=0)
    other = call("init_two_layer", init_two_layer, D, H, seed=1)
    if not np.array_equal(np.asarray(again["W1"]), np.asarray(p0["W1"])):
        fail("init_two_layer: two calls with seed=0 gave different W1; draw from "
             "np.random.default_rng(seed), not from global random state.")
    if np.array_equal(np.asarray(other["W1"]), np.asarray(p0["W1"])):
        fail("init_two_layer: seed=0 and seed=1 gave the same W1; use the seed argument.")


def _check_init_scale(init_two_layer, D: int = 60, H: int = 400) -> None:
    """W1 and W2 look like standard normals times sqrt(2 / D) and sqrt(1 / H): mean 0 and that
    standard deviation, within a few standard errors (thousands of entries: a uniform draw,
    ones or a missing scale all fail, a right draw never does)."""
    params = call("init_two_layer", init_two_layer, D, H, seed=0)
    for key, shape, std, rule in (("W1", (D, H), np.sqrt(2 / D), "sqrt(2 / D)"),
                                  ("W2", (H, 1), np.sqrt(1 / H), "sqrt(1 / H)")):
        arr = as_float64(params[key], f"init_two_layer: {key}", block="init_two_layer")
        check_shape(arr, shape, f"init_two_layer: {key}", block="init_two_layer",
                    context=f"Checked: init_two_layer(D={D}, H={H}).")
        n = arr.size
        # Standard errors of a normal sample's mean and standard deviation, times 6.
        if abs(arr.mean()) > 6 * std / np.sqrt(n) or abs(arr.std() / std - 1) > 6 / np.sqrt(2 * n):
            fail(f"init_two_layer(D={D}, H={H}): {key} has mean {arr.mean():.4g} and standard "
                 f"deviation {arr.std():.4g}; expected standard normal draws times {rule}, "
                 f"mean 0 and standard deviation {std:.4g}.")


def two_layer_probabilities(params, X: np.ndarray) -> np.ndarray:
    """The network's forward pass as the assignment defines it: p (N, 1) for X (N, D)."""
    z1 = X @ params["W1"] + params["b1"]
    z2 = np.maximum(z1, 0) @ params["W2"] + params["b2"]
    return np.exp(-np.logaddexp(0.0, -z2))  # sigmoid, without overflow, exact in the tails


def bce(p: np.ndarray, y: np.ndarray) -> float:
    """Mean binary cross-entropy with p clipped to [1e-12, 1 - 1e-12], as the assignment says."""
    q = np.clip(p, 1e-12, 1 - 1e-12)
    return -float(np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def _two_layer_inputs(seed: int, n: int = 6):
    params = two_layer_params(seed, 4, 5)
    X, y = two_layer_data(seed, n, 4)
    context = f"params {{{shapes_text(params)}}}, X {X.shape}, y {y.shape} (seed {seed})"
    return params, X, y, context


def _two_layer_loss_value(two_layer_loss, params, X, y) -> tuple[float, object]:
    """The student's loss and grads for copies of the arguments, which must stay untouched."""
    given = {"params": snapshot(params), "X": X.copy(), "y": y.copy()}
    result = call("two_layer_loss", two_layer_loss, *given.values())
    check_untouched({"params": params, "X": X, "y": y}, given, block="two_layer_loss",
                    during="two_layer_loss")
    loss, grads = unpack_pair(result, "two_layer_loss", ("loss", "grads"))
    loss = float(as_float64(loss, "two_layer_loss: loss", block="two_layer_loss", scalar=True))
    return loss, grads


def check_two_layer_gradients(two_layer_loss, seed: int = 0, n: int = 6) -> None:
    """Public check: params, X and y left alone, loss a scalar equal to the assignment's
    network and BCE, grads with the keys and shapes of params, and every gradient against
    central differences of that trusted loss along random directions. ``n`` is the batch size
    (the question file adds a one-row batch)."""
    params, X, y, context = _two_layer_inputs(seed, n)
    loss, grads = _two_layer_loss_value(two_layer_loss, params, X, y)
    if not isinstance(grads, dict) or set(grads) != set(params):
        fail(f"two_layer_loss returned grads {describe(grads)}; expected a dict with the keys "
             f"of params {sorted(params)}.")
    checked = []
    for key in params:
        g = as_float64(grads[key], f"two_layer_loss: d{key}", block="two_layer_loss")
        check_shape(g, params[key].shape, f"grads[{key!r}]", block="two_layer_loss",
                    context=t("Each gradient has the shape of its parameter."))
        checked.append(g)
    assert_close(np.asarray(loss), np.asarray(bce(two_layer_probabilities(params, X), y)),
                 what="loss", block="two_layer_loss", rtol=REF_RTOL, reveal=True,
                 checked=t("two_layer_loss's loss against the network and loss defined in the "
                           "assignment, {context}.", context=context))
    for k, (key, g) in enumerate(zip(params, checked, strict=True)):

        def f(z, key=key):
            p = snapshot(params)
            p[key] = z
            return bce(two_layer_probabilities(p, X), y)

        check = directional_derivatives(f, params[key], g, seed=1000 * seed + k)
        assert_directional(
            g, check, what=f"d{key}", wrt=key, block="two_layer_loss", rtol=GRAD_RTOL,
            function="the loss of the network defined in the assignment",
            checked=t("{what} against central differences of the network's loss as the "
                      "assignment defines it, {context}.", what=f"grads[{key!r}]",
                      context=context),
            diagnose_details={"inputs": (X, params[key])},
        )


def check_two_layer_predict(two_layer_loss, two_layer_predict, seed: int = 0) -> None:
    """Public check: predict gives (N, 1) probabilities, the loss is their BCE (the two
    functions run the same forward pass), and they are the network's as the assignment
    defines it."""
    params, X, y, context = _two_layer_inputs(seed)
    p = as_float64(call("two_layer_predict", two_layer_predict, snapshot(params), X.copy()),
                   "two_layer_predict result", block="two_layer_predict")
    check_shape(p, (X.shape[0], 1), "two_layer_predict result", block="two_layer_predict")
    loss, _ = _two_layer_loss_value(two_layer_loss, params, X, y)
    assert_close(np.asarray(loss), np.asarray(bce(p, y)), what="loss", block="two_layer_loss",
                 rtol=REF_RTOL, reveal=True,
                 checked=f"two_layer_loss's loss against the BCE of two_layer_predict's "
                 f"probabilities, {context} (the two must agree).")
    assert_close(p, two_layer_probabilities(params, X), what="p", block="two_layer_predict",
                 rtol=REF_RTOL, reveal=True,
                 checked=f"two_layer_predict against the network defined in the assignment, "
                 f"{context}.")
