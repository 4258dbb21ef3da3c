"""Checks of hw3's deep-network questions: ``mlp_init``/``mlp_loss`` and ``gradient_norms``
(``lr_range_test`` is checked by ``bplab_checks.lr_range``).

Public checks use the student's functions, the forward passes and set-ups the contract defines
(``mlp_bce``: the network's loss; ``norms_setup``: gradient_norms' data and weights), closed
forms (a one-layer stack, the last layer of a deeper one) and central differences along random
directions. Hidden checks compare with the reference on unseen inputs
(``mlp_cases`` ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bplab_checks.cases import Case
from bplab_checks.feedback import (
    as_float64,
    assert_directional,
    call,
    check_shape,
    check_untouched,
    checked_line,
    compare_value,
    describe,
    fail,
    snapshot,
)
from bplab_checks.gradcheck import directional_derivatives, rel_error
from bplab_checks.i18n import N_, t
from bplab_checks.tag import tag
from bplab_checks.tolerances import GRAD_RTOL, REF_RTOL

ACTIVATIONS = ("relu", "tanh", "sigmoid")


def _act(name: str, z: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "tanh":
        return np.tanh(z)
    return 0.5 * (1 + np.tanh(z / 2))  # the logistic sigmoid, written without overflow


def mlp_bce(params, X, y, activation="relu") -> float:
    """The trusted forward pass of mlp_loss: a0 = X, z_l = a_{l-1} W_l + b_l, act for l < L,
    sigmoid last, mean BCE with p clipped to [1e-12, 1 - 1e-12] (hw2's bce_loss)."""
    L = sum(1 for key in params if str(key).startswith("W"))
    a = X
    for l in range(1, L + 1):
        z = a @ params[f"W{l}"] + params[f"b{l}"]
        a = _act(activation if l < L else "sigmoid", z)
    q = np.clip(a, 1e-12, 1 - 1e-12)
    return -float(np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def mlp_params(sizes: Sequence[int], seed: int) -> dict[str, np.ndarray]:
    """Random parameters (non-zero biases, so a gradient that ignores b shows)."""
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(sizes)):
        params[f"W{l}"] = rng.standard_normal((sizes[l - 1], sizes[l])) / np.sqrt(sizes[l - 1])
        params[f"b{l}"] = 0.1 * rng.standard_normal(sizes[l])
    return params


def mlp_cases(public: bool) -> list[Case]:
    """(sizes, activation, N) per case: L = 1, 2, 4, non-square, and a one-row batch."""
    if public:
        plan = [((4, 1), "relu", 6), ((5, 3, 1), "tanh", 7), ((3, 6, 4, 5, 1), "relu", 8),
                ((4, 3, 1), "sigmoid", 1)]
    else:
        plan = [((6, 1), "sigmoid", 5), ((3, 5, 1), "relu", 9), ((7, 4, 6, 3, 1), "tanh", 6),
                ((2, 3, 4, 1), "sigmoid", 4), ((5, 2, 1), "relu", 1)]
    cases = []
    for k, (sizes, activation, n) in enumerate(plan):
        rng = np.random.default_rng(100 + k + (0 if public else 50))
        X = rng.standard_normal((n, sizes[0]))
        y = (rng.random((n, 1)) < 0.5).astype(np.float64)
        cases.append(Case({"params": mlp_params(sizes, 200 + k + (0 if public else 50)), "X": X,
                           "y": y}, {"activation": activation},
                          note=f"L = {len(sizes) - 1}, sizes {list(sizes)}, {activation}"))
    return cases


def mlp_init_cases() -> list[Case]:
    return [Case({"sizes": [5, 4, 3, 1]}, {"seed": 0}), Case({"sizes": [7, 1]}, {"seed": 3}),
            Case({"sizes": [2, 6, 5, 4, 1]}, {"seed": 11})]


def contract_init(sizes: Sequence[int], seed: int) -> dict[str, np.ndarray]:
    """mlp_init exactly as the contract writes it (the public check of a stated formula)."""
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(sizes)):
        params[f"W{l}"] = rng.standard_normal((sizes[l - 1], sizes[l])) * np.sqrt(2 / sizes[l - 1])
        params[f"b{l}"] = np.zeros(sizes[l])
    return params


def check_mlp_init(mlp_init) -> None:
    """Public: keys, shapes and values of mlp_init as the contract draws them."""
    for case in mlp_init_cases()[:2]:
        sizes, seed = case.args["sizes"], case.kwargs["seed"]
        params = call("mlp_init", mlp_init, list(sizes), seed=seed)
        compare_value(params, contract_init(sizes, seed), what="params", block="mlp_init",
                      checked=f"mlp_init({sizes}, seed={seed}): rng = default_rng(seed), then "
                      "W1, b1, W2, ... in that order, W_l = standard_normal((sizes[l-1], "
                      "sizes[l])) * sqrt(2 / sizes[l-1]), b_l = zeros", rtol=REF_RTOL)


# The worked example of lecture 5 (a 2-2-1 network with sigmoid units), its values computed in
# float64 from the formulas of the notebook's worked example (they are printed there).
LECTURE_221 = {
    "params": {"W1": [[0.15, 0.25], [0.20, 0.30]], "b1": [0.35, 0.35], "W2": [[0.40], [0.45]],
               "b2": [0.60]},
    "X": [[0.05, 0.10]],
    "y": [[1.0]],
    "loss": 0.28586363407705423,
    "grads": {"W1": [[-0.00119992, -0.00134606], [-0.00239983, -0.00269212]],
              "b1": [-0.02399831, -0.02692121], "W2": [[-0.14750764], [-0.14840631]],
              "b2": [-0.24863493]},
}


def check_mlp_lecture_example(mlp_loss) -> None:
    """Public: lecture 5's 2-2-1 network, sigmoid hidden units, one example, to 6 digits."""
    ex: dict[str, Any] = LECTURE_221
    params = {k: np.array(v, dtype=np.float64) for k, v in ex["params"].items()}
    X, y = np.array(ex["X"]), np.array(ex["y"])
    out = call("mlp_loss", mlp_loss, params, X, y, activation="sigmoid")
    if not isinstance(out, tuple | list) or len(out) != 2:
        fail(f"mlp_loss returned {describe(out)}; expected (loss, grads).")
    checked = t("lecture 5's 2-2-1 example (the notebook's worked example), "
                "activation='sigmoid'")
    loss = as_float64(out[0], "mlp_loss: loss", block="mlp_loss", scalar=True)
    if rel_error(loss, ex["loss"]) > 1e-9:
        fail(t("mlp_loss returned the loss {got}; the worked example's is {want} (z1 = x W1 + "
               "b1, a1 = sigmoid(z1), p = sigmoid(a1 W2 + b2), loss = -log p).",
               got=f"{float(loss):.6g}", want=f"{ex['loss']:.6f}"), checked_line(checked + "."))
    expected = {k: np.array(v) for k, v in ex["grads"].items()}
    # The printed gradients have 8 decimals: compare to that precision.
    compare_value(out[1], expected, what="grads", block="mlp_loss", checked=checked, rtol=1e-6,
                  reveal=True)


def check_mlp_gradients(mlp_loss, cases: Sequence[Case] | None = None) -> None:
    """Public: the loss equals the network's BCE and every gradient matches central
    differences of it (L = 1, 2, 4, each activation, a one-row batch)."""
    reveal = cases is None  # hidden cases never show an expected value
    for k, case in enumerate(cases or mlp_cases(public=True)):
        params, X, y = (case.args[n] for n in ("params", "X", "y"))
        activation = case.kwargs["activation"]
        inputs = {"params": snapshot(params), "X": X.copy(), "y": y.copy()}
        args = snapshot(inputs)
        out = call("mlp_loss", mlp_loss, args["params"], args["X"], args["y"],
                   activation=activation)
        check_untouched(inputs, args, block="mlp_loss", during="mlp_loss")
        if not isinstance(out, tuple | list) or len(out) != 2:
            fail(f"mlp_loss returned {describe(out)}; expected (loss, grads).")
        checked = t("mlp_loss on X {X}, y {y} ({note})", X=X.shape, y=y.shape, note=case.note)
        loss = as_float64(out[0], "mlp_loss: loss", block="mlp_loss", scalar=True)
        expected = mlp_bce(params, X, y, activation)
        # A scalar off by a "factor" says nothing: say what the loss is, without a diagnosis.
        if rel_error(loss, expected) > REF_RTOL:
            fail(t("mlp_loss returned the loss {got}", got=f"{float(loss):.6g}")
                 + (t(", but the network's mean BCE is {want}", want=f"{expected:.6g}")
                    if reveal else "")
                 + t(": a0 = X, z_l = a_{{l-1}} W_l + b_l, act(z_l) for every layer but the last, "
                     "p = sigmoid(z_L), loss = bce_loss(p, y)."), checked_line(checked + "."))
        grads = out[1]
        if not isinstance(grads, dict) or set(map(str, grads)) != set(params):
            fail(f"mlp_loss grads is {describe(grads)}; expected a dict with the keys "
                 f"{sorted(params)}.", f"Checked: {checked}.")
        for key in params:
            g = as_float64(grads[key], f"grads[{key!r}]", block="mlp_loss")
            check_shape(g, params[key].shape, f"grads[{key!r}]", block="mlp_loss",
                        context=checked_line(checked + "."))

            def f(z, key=key, params=params, X=X, y=y, activation=activation):
                return mlp_bce({**params, key: z}, X, y, activation)

            check = directional_derivatives(f, params[key], g, seed=31 * k + len(key))
            assert_directional(g, check, what=f"grads[{key!r}]", wrt=key, block="mlp_loss",
                               function="the network's mean BCE loss", checked=checked,
                               rtol=GRAD_RTOL, diagnose_details={"inputs": (X, y)})


# ------------------------------------------------------------------------ gradient_norms
NORMS_BATCH = 64  # rows of X in gradient_norms' set-up


def norms_setup(depth: int, width: int, scale: float, seed: int):
    """gradient_norms' data and weights, drawn as the contract says: X, then W_1..W_depth."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((NORMS_BATCH, width))
    Ws = [rng.standard_normal((width, width)) * scale / np.sqrt(width) for _ in range(depth)]
    return X, Ws


def _norms(gradient_norms, depth, width, activation, scale, seed) -> list[float]:
    label = f"gradient_norms({depth}, {width}, {activation!r}, {scale:g}, seed={seed})"
    out = call("gradient_norms", gradient_norms, depth, width, activation, scale, seed=seed)
    if isinstance(out, np.ndarray):
        out = list(out)
    if not isinstance(out, list | tuple) or len(out) != depth:
        fail(f"{label} returned {describe(out)}; expected a list of {depth} floats, the norm of "
             "dL/dW_l for l = 1..depth.")
    norms = [float(as_float64(v, f"{label}[{k}]", block="gradient_norms", scalar=True))
             for k, v in enumerate(out)]
    if not all(np.isfinite(n) and n >= 0 for n in norms):
        fail(f"{label} returned {norms}: every norm is a finite number >= 0.")
    return norms


def _compare_norms(got: list[float], expected: list[float], checked: str, reveal: bool) -> None:
    """The norms as one vector (a list of scalars has no per-entry "factor" to diagnose)."""
    g, e = np.asarray(got), np.asarray(expected)
    if rel_error(g, e) <= REF_RTOL:
        return
    hint = ""
    if rel_error(g, e * NORMS_BATCH) < 1e-8:
        hint = t("every norm is {n} times too large: L is the batch *mean* of sum(a_depth), "
                 "so the gradient reaching a_depth is ones / {n}", n=NORMS_BATCH
                 ) + f" {tag('sum_instead_of_mean')}"
    elif len(e) > 1 and rel_error(g, e[::-1]) < 1e-8:
        hint = t("the norms are in reverse order: the list starts with the first layer, l = 1.")
    k = int(np.argmax(np.abs(g - e) / np.maximum(np.abs(e), 1e-300)))
    fail(hint or None, checked_line(checked + "."),
         f"norms: relative error {rel_error(g, e):.2e} (allowed {REF_RTOL:.0e}); worst layer "
         f"l = {k + 1}: yours {g[k]:.6g}" + (f" (expected {e[k]:.6g})." if reveal else "."))


def check_gradient_norms_matches(gradient_norms, reference) -> None:
    """Hidden: the norms equal the reference's for other depths, widths, scales and seeds."""
    for case in gradient_norms_cases():
        d, w, a, s = (case.args[n] for n in ("depth", "width", "activation", "scale"))
        seed = case.kwargs["seed"]
        got = _norms(gradient_norms, d, w, a, s, seed)
        checked = f"gradient_norms({d}, {w}, {a!r}, {s:.4g}, seed={seed})"
        _compare_norms(got, reference(d, w, a, s, seed=seed), checked, reveal=False)


def _local_derivative(name: str, z: np.ndarray) -> np.ndarray:
    a = _act(name, z)
    if name == "relu":
        return (z > 0).astype(np.float64)
    return 1 - a**2 if name == "tanh" else a * (1 - a)


def check_gradient_norms_values(gradient_norms) -> None:
    """Public: a one-layer stack (closed form) and the last layer of a 3-layer one."""
    for activation, scale, seed in (("tanh", 1.0, 0), ("relu", 1.4, 2), ("sigmoid", 2.0, 4)):
        X, (W,) = norms_setup(1, 5, scale, seed)
        dW = X.T @ _local_derivative(activation, X @ W) / NORMS_BATCH
        got = _norms(gradient_norms, 1, 5, activation, scale, seed)
        _compare_norms(got, [float(np.linalg.norm(dW))], reveal=True,
                       checked=f"a 1-layer stack, width 5, {activation}, scale {scale}, "
                       f"seed {seed}: ||X^T (act'(X W_1) / 64)||")
    X, Ws = norms_setup(3, 6, 1.5, 1)
    a = X
    for W in Ws[:-1]:
        a = _act("tanh", a @ W)
    dW = a.T @ _local_derivative("tanh", a @ Ws[-1]) / NORMS_BATCH
    got = _norms(gradient_norms, 3, 6, "tanh", 1.5, 1)
    last = float(np.linalg.norm(dW))
    if rel_error(got[0], last) < 1e-8 <= rel_error(got[-1], last):
        fail(t("gradient_norms lists the norms in reverse order: the list starts with the "
               "first layer, l = 1 (the one nearest the input), and ends with l = depth."),
             t("Checked: a 3-layer tanh stack, width 6, scale 1.5, seed 1."))
    _compare_norms(got[-1:], [last], reveal=True,
                   checked="the last layer (l = 3) of a 3-layer tanh stack, width 6, scale 1.5, "
                   "seed 1")


# Depth and width of the property checks; the bars and what the reference gives (seeds 0-9):
# sigmoid, scale 1: first/last ratio 3e-7 to 8e-7 (bar 1e-3); ReLU, He scale sqrt(2): 0.31 to
# 0.53 (bar [0.1, 10]); tanh, scale 3: 14 to 20 (bar > 2).
PROPERTY_DEPTH, PROPERTY_WIDTH = 10, 64


def check_gradient_norms_properties(gradient_norms, seed: int = 0) -> None:
    """What the measurements show: sigmoid vanishes, ReLU + He keeps, tanh at scale 3 explodes."""
    d, w = PROPERTY_DEPTH, PROPERTY_WIDTH
    rules = [("sigmoid", 1.0, lambda r: r < 1e-3, N_("below 1e-3 (sigmoid gradients vanish)")),
             ("relu", float(np.sqrt(2)), lambda r: 0.1 <= r <= 10,
              N_("within [0.1, 10] (He initialisation keeps ReLU gradients)")),
             ("tanh", 3.0, lambda r: r > 2, N_("above 2 (tanh at scale 3 explodes)"))]
    for activation, scale, ok, bar in rules:
        norms = _norms(gradient_norms, d, w, activation, scale, seed)
        ratio = norms[0] / norms[-1] if norms[-1] > 0 else float("inf")
        if not ok(ratio):
            fail(t("{call}: the ratio of the first layer's norm to the last one's is {ratio}, "
                   "expected {bar}.", call=f"gradient_norms({d}, {w}, {activation!r}, "
                   f"{scale:.4g}, seed={seed})", ratio=f"{ratio:.3g}", bar=t(bar)),
                 t("Norms per layer: {norms}.", norms=[float(f"{n:.3g}") for n in norms]))


def gradient_norms_cases() -> list[Case]:
    plan = [(4, 7, "relu", 1.0, 3), (6, 5, "sigmoid", 2.0, 8), (5, 9, "tanh", 3.0, 1),
            (2, 4, "relu", float(np.sqrt(2)), 12)]
    return [Case({"depth": d, "width": w, "activation": a, "scale": s}, {"seed": seed})
            for d, w, a, s, seed in plan]
