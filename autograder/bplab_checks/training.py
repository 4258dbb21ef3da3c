"""Checks of train_two_layer: mini-batch training of the two-layer network, graded by what it
achieves (the contract grades this question by held-out accuracy, not by exact values, so a
correct loop with float-level differences always passes).

Every check trains with an ``SGD`` class handed in by the question file, constructed here as
``SGD(lr)``: the student's own in the public case; in hidden cases the reference, together with
the reference ``init_two_layer`` and ``two_layer_loss`` (``callees``), so that a bug in any of
them is charged to its own question only. Every check also verifies what the
returned values say (``_check_trained``): the params must fit the training data (their loss,
computed here from the params with the assignment's network and loss, below a bar), and the
last history entry must be near that loss; so no check pays for params or a history that were
made up.

Bar of the hidden validation check (measured with the reference, solutions/hw2.py, on the WDBC
split shipped in data/: 456 train / 113 validation rows): with hidden=16, SGD(0.1), epochs=30,
batch_size=32, seed=0 the validation accuracy is 0.982 (111/113) at seed 0, 0.973 to 0.991
over seeds 0-9, about 20 ms per run. An untrained network scores 0.32 to 0.67 and always
answering "benign" scores 0.628. The bar 0.93 (106/113 rows) sits 4+ points below the worst
reference seed and far above anything that did not learn.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from bplab_checks.callees import trusted_argument, trusted_callees
from bplab_checks.feedback import as_float64, call, check_shape, check_untouched, fail, snapshot
from bplab_checks.i18n import t
from bplab_checks.tag import tag
from bplab_checks.two_layer_checks import bce, two_layer_probabilities

__all__ = [
    "RECIPE",
    "VALIDATION_BAR",
    "check_history_is_the_mean_loss",
    "check_reaches_validation_bar",
    "check_seed_decides_everything",
    "check_trains_small_problem",
]

KEYS = ("W1", "b1", "W2", "b2")
# The hidden recipe and its bar (measurements in the module docstring).
RECIPE = {"hidden": 16, "lr": 0.1, "epochs": 30, "batch_size": 32, "seed": 0}
VALIDATION_BAR = 0.93
# Training loss that every trained run must beat: half the loss of always answering 0.5 (the
# reference ends at 0.05-0.07 on the public problem and the hidden split, 0.25-0.37 after the
# 4 short epochs of the seed case, where the bar is 0.9 log 2).
HALF_CHANCE = 0.5 * np.log(2)


def _train(train_two_layer, SGD, X, y, hidden, lr, epochs, batch_size, seed, callees=None):
    """Run the student's training with the student's SGD(lr); return (params, history, label).

    params comes back as a dict of float64 arrays shaped like init_two_layer's, history as a
    list of ``epochs`` Python floats; anything else is feedback.
    """
    label = (
        f"train_two_layer(X {X.shape}, y {y.shape}, hidden={hidden}, SGD({lr}), "
        f"epochs={epochs}, batch_size={batch_size}, seed={seed})"
    )
    optimizer = call(f"SGD({lr})", SGD, lr)
    if callees:  # hidden checks: SGD is the reference too, a stand-in in the sandbox
        optimizer = trusted_argument(train_two_layer, optimizer)
    inputs = {"X": X, "y": y}
    before = snapshot(inputs)
    with trusted_callees(train_two_layer, callees):
        out = call(
            "train_two_layer", train_two_layer, X, y, hidden, optimizer, epochs, batch_size,
            seed=seed,
        )
    check_untouched(before, inputs, block="train_two_layer", during=label)
    if not isinstance(out, tuple | list) or len(out) != 2:
        fail(f"{label} must return a pair (params, history), got {type(out).__name__}.")
    params, history = out
    D = X.shape[1]
    shapes = {"W1": (D, hidden), "b1": (hidden,), "W2": (hidden, 1), "b2": (1,)}
    if not isinstance(params, dict) or set(params) != set(KEYS):
        fail(f"{label}: params must be a dict with exactly the keys {list(KEYS)}.")
    arrays = {}
    for key, shape in shapes.items():
        arrays[key] = as_float64(params[key], f"params[{key!r}]", block="train_two_layer")
        check_shape(
            arrays[key],
            shape,
            f"params[{key!r}]",
            block="train_two_layer",
            context=f"Checked: {label}",
        )
    if not isinstance(history, tuple | list | np.ndarray) or len(history) != epochs:
        fail(
            f"{label}: history must be a list of {epochs} numbers, one mean loss per epoch "
            "(appended after the epoch's last mini-batch); got "
            + (
                f"{len(history)} values."
                if hasattr(history, "__len__")
                else f"{type(history).__name__}."
            )
        )
    losses = [
        float(as_float64(h, "history entry", block="train_two_layer", scalar=True)) for h in history
    ]
    if not np.all(np.isfinite(losses)):
        fail(f"{label}: history holds nan or inf: {losses}.")
    return arrays, losses, label


def _not_learning(label: str, history: list[float], finding: str) -> None:
    fail(
        f"{label}: {finding} (loss per epoch: first {history[0]:.4f}, last {history[-1]:.4f}).",
        t("The network is not learning: every mini-batch must call optimizer.step(params, "
          "grads) with the gradients two_layer_loss returns, on the same params dict that is "
          "returned, with the gradients unchanged (not negated).")
        + f" {tag('train_not_learning')}",
    )


def _check_trained(label: str, X, y, params, history: list[float], bar: float) -> None:
    """The returned params fit (X, y) with a loss below ``bar`` (computed here, from the
    params), and the last history entry is that epoch's mean loss: measured while the params
    barely move, it lies near the final loss (within a factor 2)."""
    final = bce(two_layer_probabilities(params, X), y)
    if not final < bar:
        _not_learning(
            label,
            history,
            f"the returned params have a loss of {final:.4f} on the training data, "
            f"not below {bar:.4f}",
        )
    if not 0.5 * final <= history[-1] <= 2 * final + 0.05:
        fail(
            f"{label}: the last history entry is {history[-1]:.4f}, but the returned params "
            f"have a loss of {final:.4f} on the training data. history holds each epoch's mean "
            "mini-batch loss, and params must be the trained dict itself."
        )


def check_trains_small_problem(train_two_layer, SGD) -> None:
    """Public check: two Gaussian blobs (D != H, N = 60 not a multiple of batch_size, so a
    smaller last batch); the loss goes down by 10% and the returned params fit the data."""
    rng = np.random.default_rng(7)
    N, D = 60, 5
    y = (rng.random((N, 1)) < 0.5).astype(np.float64)
    X = rng.standard_normal((N, D)) + 1.5 * (2 * y - 1)
    params, history, label = _train(
        train_two_layer, SGD, X, y, hidden=7, lr=0.1, epochs=8, batch_size=16, seed=0
    )
    if not history[-1] < 0.9 * history[0]:
        _not_learning(label, history, "the loss did not go down by 10% on an easy problem")
    _check_trained(label, X, y, params, history, HALF_CHANCE)


def check_reaches_validation_bar(
    train_two_layer, SGD, data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    predict: Callable[[dict, np.ndarray], np.ndarray],
    callees: Mapping[str, object] | None = None,
) -> None:
    """Hidden check: ``RECIPE`` on the training split of ``data`` = (X_train, y_train, X_val,
    y_val) reaches ``VALIDATION_BAR`` accuracy on the validation split, measured with the
    trusted ``predict`` (the reference two_layer_predict)."""
    X_train, y_train, X_val, y_val = data
    params, history, label = _train(train_two_layer, SGD, X_train, y_train, **RECIPE,
                                    callees=callees)
    accuracy = float(np.mean((np.asarray(predict(params, X_val)) > 0.5) == (y_val > 0.5)))
    if not accuracy >= VALIDATION_BAR:
        _not_learning(
            f"{label} on the breast-cancer training split",
            history,
            f"validation accuracy {accuracy:.3f} is below the bar {VALIDATION_BAR} "
            "(a correct loop reaches about 0.98)",
        )
    _check_trained(f"{label} on the training split", X_train, y_train, params, history,
                   HALF_CHANCE)


def check_history_is_the_mean_loss(train_two_layer, SGD, init_two_layer, two_layer_loss,
                                   callees: Mapping[str, object] | None = None) -> None:
    """Hidden check: with lr = 0 nothing moves, so params must be exactly
    ``init_two_layer(D, hidden, seed)``, and with equal-sized batches the mean of an epoch's
    batch losses is the full-batch loss (a sum, a last-batch-only value or a skipped batch all
    show); the same run with a real learning rate must move the params and lower the loss.
    ``init_two_layer`` and ``two_layer_loss`` are the trusted ones when ``callees`` holds them
    (the training then runs with them too)."""
    rng = np.random.default_rng(11)
    N, D, H, batch_size, seed = 24, 6, 5, 8, 4
    X = rng.standard_normal((N, D))
    y = (rng.random((N, 1)) < 0.5).astype(np.float64)
    params, history, label = _train(
        train_two_layer, SGD, X, y, hidden=H, lr=0.0, epochs=3, batch_size=batch_size, seed=seed,
        callees=callees,
    )
    init = call("init_two_layer", init_two_layer, D, H, seed)
    for key in KEYS:
        if not np.array_equal(params[key], np.asarray(init[key])):
            fail(
                f"{label}: with a learning rate of 0 the returned params[{key!r}] must equal "
                f"init_two_layer({D}, {H}, seed={seed})[{key!r}]. Start from "
                "init_two_layer(D, hidden, seed) and let optimizer.step update that dict in place."
            )
    loss0 = float(np.asarray(call("two_layer_loss", two_layer_loss, init, X, y)[0]))
    if not np.allclose(history, loss0, rtol=1e-9, atol=0.0):
        fail(
            f"{label}: with no update and {N // batch_size} equal mini-batches per epoch, every "
            "history entry must be the mean of that epoch's batch losses, here the loss of the "
            f"initial params on all of X, {loss0:.6f}; got {[round(h, 6) for h in history]}."
        )
    params, history, label = _train(
        train_two_layer, SGD, X, y, hidden=H, lr=0.1, epochs=3, batch_size=batch_size, seed=seed,
        callees=callees,
    )
    _check_trained(label, X, y, params, history, 0.99 * loss0)


def check_seed_decides_everything(train_two_layer, SGD,
                                  callees: Mapping[str, object] | None = None) -> None:
    """Hidden check: two runs with seed 0 agree exactly, seed 1 differs, and all three learn."""
    rng = np.random.default_rng(3)
    N, D = 40, 4
    y = (rng.random((N, 1)) < 0.5).astype(np.float64)
    X = rng.standard_normal((N, D)) + (2 * y - 1)
    runs = [
        _train(train_two_layer, SGD, X, y, hidden=6, lr=0.1, epochs=4, batch_size=8, seed=seed,
               callees=callees)
        for seed in (0, 0, 1)
    ]
    (p0, h0, label), (p0_again, h0_again, _), (p1, h1, _) = runs
    hint = t("Draw everything from init_two_layer(D, hidden, seed) and "
             "np.random.default_rng(seed), never from np.random's global state or an unseeded "
             "generator.") + f" {tag('train_seed_ignored')}"
    if not (np.array_equal(p0["W1"], p0_again["W1"]) and h0 == h0_again):
        fail(f"{label}: two runs with seed=0 gave different results.", hint)
    if np.array_equal(p0["W1"], p1["W1"]) or h0 == h1:
        fail(f"{label.replace('seed=0', 'seed=0 and seed=1')}: both gave the same result.", hint)
    for params, history, run_label in runs:
        _check_trained(run_label, X, y, params, history, 0.9 * np.log(2))
