"""lr_range_test and suggest_lr: the learning-rate range test (bplab_checks.lr_range).

Every case hands lr_range_test a loss function of the grader's: a quadratic whose divergence is
known in closed form (lr > 2 / a), or the reference mlp_loss on the WDBC training split (hidden),
so a bug in the student's mlp_loss never costs points here.
"""

from bplab_checks.i18n import t
from bplab_checks.lr_range import (
    check_lr_range_quadratic,
    check_suggest_lr,
    compare_range_tests,
    trusted_wdbc,
    wdbc_loss_and_grad,
)
from otter.test_files import test_case

OK_FORMAT = False
name = "lr_range_test"
points = 4


@test_case(name="lr_range_test: stops past 2/a on a quadratic", hidden=False)
def stops_past_two_over_a(lr_range_test):
    check_lr_range_quadratic(lr_range_test, a=4.0, seed=0)


@test_case(name="suggest_lr: the steepest descent", hidden=False)
def steepest_descent(suggest_lr):
    check_suggest_lr(suggest_lr)


@test_case(name="lr_range_test: other quadratics and lr_max", hidden=True)
def other_quadratics(lr_range_test):
    check_lr_range_quadratic(lr_range_test, a=0.7, seed=3, reveal=False, lr_min=1e-2,
                             factor=1.35)
    check_lr_range_quadratic(lr_range_test, a=25.0, seed=4, reveal=False, diverge=2.5)
    # a = 0.01 never diverges below lr_max = 3.3: the run ends at lr_max.
    check_lr_range_quadratic(lr_range_test, a=0.01, seed=5, reveal=False, lr_max=3.3)


@test_case(name="lr_range_test: WDBC with a fixed seed, and its suggestion", hidden=True)
def wdbc_with_a_fixed_seed(lr_range_test, suggest_lr):
    import numpy as np
    from bplab_checks.feedback import as_float64, call, fail

    from solutions.hw3 import lr_range_test as reference
    from solutions.hw3 import mlp_init, mlp_loss
    from solutions.hw3 import suggest_lr as reference_suggest

    X_train, y_train, _, _ = trusted_wdbc()

    settings = {"lr_min": 1e-4, "lr_max": 100.0, "factor": 1.25, "diverge": 4.0}
    label = "lr_range_test(WDBC network [30, 16, 1], mlp_init seed 0, " + ", ".join(
        f"{k}={v:g}" for k, v in settings.items()) + ")"
    lrs, losses = compare_range_tests(
        lr_range_test, reference, wdbc_loss_and_grad(mlp_loss, X_train, y_train),
        mlp_init([30, 16, 1], seed=0), label, **settings)
    got = as_float64(call("suggest_lr", suggest_lr, lrs, losses), "suggest_lr result",
                     block="suggest_lr", scalar=True)
    expected = reference_suggest(lrs, losses)
    if not np.isclose(float(got), expected, rtol=1e-9, atol=0.0):
        fail(t("suggest_lr on the WDBC range test returned {got}: the steepest descent is the "
               "lrs[k] with the most negative (losses[k+1] - losses[k]) / (log lrs[k+1] - log "
               "lrs[k]).", got=f"{float(got):.6g}"))
