"""The train_two_layer test file: the reference passes with margin, broken training loops fail.

The test file runs in-process through Otter's own ExceptionTestFile, on an environment made of
the reference hw2 definitions with ``train_two_layer`` swapped for a planted bug.
"""

import importlib.util

import numpy as np
import pytest
from bplab.layout import Assignment
from otter.test_files import ExceptionTestFile

import solutions.hw2 as ref

pytestmark = pytest.mark.hw2

HW2 = Assignment.named("hw2")
TEST_FILE = HW2.tests_dir / "train_two_layer.py"


def _load_data():
    spec = importlib.util.spec_from_file_location("hw2_wdbc_for_training", HW2.data_dir / "wdbc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.load_data()


def _run(**overrides):
    """Run the test file on the reference environment with ``overrides``; return failed cases."""
    env = dict(vars(ref))
    env.update(overrides)
    test_file = ExceptionTestFile.from_file(str(TEST_FILE))
    test_file.run(env)
    return test_file, [r for r in test_file.test_case_results if not r.passed]


def _loop(X, y, hidden, optimizer, epochs, batch_size, seed=0, *, bug):
    """The reference loop with one planted ``bug`` (a string naming it)."""
    N, D = X.shape
    params = ref.init_two_layer(D, hidden, 0 if bug == "seed-ignored" else seed)
    rng = np.random.default_rng(0 if bug == "seed-ignored" else None if bug == "unseeded" else seed)
    if bug == "zero-init":
        params = {k: np.zeros_like(v) for k, v in params.items()}
    history = []
    for _ in range(epochs):
        perm = rng.permutation(N)
        losses = []
        for start in range(0, N, batch_size):
            idx = perm[start : start + batch_size]
            loss, grads = ref.two_layer_loss(params, X[idx], y[idx])
            if bug == "wrong-sign":
                grads = {k: -g for k, g in grads.items()}
            if bug != "no-step":
                optimizer.step(params, grads)
            losses.append(loss)
            if bug == "first-batch-only":
                break
        if bug == "per-batch-history":
            history.extend(losses)
        elif bug == "sum-history":
            history.append(float(np.sum(losses)))
        else:
            history.append(float(np.mean(losses)))
    return params, history


def test_reference_passes_every_case():
    test_file, failed = _run()
    assert not failed, [r.message for r in failed]
    assert test_file.grade == 1.0


def test_reference_clears_the_bar_with_margin_on_every_seed():
    # The bar must sit well below what a correct loop reaches, whatever the seed: a student's
    # correct code differs from the reference by float rounding, which can move a few rows.
    from bplab_checks.training import RECIPE as recipe
    from bplab_checks.training import VALIDATION_BAR as bar

    X_train, y_train, X_val, y_val = _load_data()
    accuracies = []
    for seed in range(10):
        params, history = ref.train_two_layer(
            X_train,
            y_train,
            recipe["hidden"],
            ref.SGD(recipe["lr"]),
            recipe["epochs"],
            recipe["batch_size"],
            seed=seed,
        )
        assert len(history) == recipe["epochs"] and history[-1] < history[0]
        p = ref.two_layer_predict(params, X_val)
        accuracies.append(np.mean((p > 0.5) == (y_val > 0.5)))
    assert min(accuracies) >= bar + 0.03, accuracies
    # ...and well above anything that did not learn: the majority class, an untrained network.
    assert np.mean(y_val == 0) < bar - 0.2
    untrained = ref.two_layer_predict(ref.init_two_layer(30, recipe["hidden"], 0), X_val)
    assert np.mean((untrained > 0.5) == (y_val > 0.5)) < bar - 0.2


def test_blank_stub_fails_every_case():
    def stub(*args, **kwargs):
        raise NotImplementedError("train_two_layer")

    test_file, failed = _run(train_two_layer=stub)
    assert len(failed) == len(test_file.test_case_results) and test_file.grade == 0.0


@pytest.mark.parametrize(
    "bug, failing_case",
    [
        ("no-step", "train_two_layer - 1"),
        ("wrong-sign", "train_two_layer - 1"),
        ("per-batch-history", "train_two_layer - 1"),
        ("zero-init", "train_two_layer - 2"),
        ("first-batch-only", "train_two_layer - 3"),
        ("sum-history", "train_two_layer - 3"),
        ("unseeded", "train_two_layer - 4"),
        ("seed-ignored", "train_two_layer - 4"),
    ],
)
def test_planted_bug_fails(bug, failing_case):
    def broken(*args, **kwargs):
        return _loop(*args, **kwargs, bug=bug)

    test_file, failed = _run(train_two_layer=broken)
    assert failing_case in {r.test_case.name for r in failed}
    assert test_file.grade < 1.0
    for r in failed:
        assert "Error at line" in r.message and "AssertionError" in r.message, r.message
