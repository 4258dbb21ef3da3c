"""mse_loss: mean squared error over all entries and dy_pred."""

import numpy as np
from bplab_checks import check_loss_gradient, check_matches_reference, mse_cases, one_row_case
from otter.test_files import test_case

OK_FORMAT = False
name = "mse_loss"
points = 2


def definition(y_pred, y_true):
    """The loss as the assignment defines it."""
    return np.mean((y_pred - y_true) ** 2)


@test_case(name="mse_loss: dy_pred matches central differences", hidden=False)
def dy_pred_matches_central_differences(mse_loss):
    check_loss_gradient(
        mse_loss,
        "mse_loss",
        mse_cases()[0],
        "y_pred",
        ("loss", "dy_pred"),
        definition=definition,
    )


@test_case(name="mse_loss: one-row batch", hidden=False)
def one_row_batch(mse_loss):
    check_loss_gradient(
        mse_loss,
        "mse_loss",
        one_row_case("mse"),
        "y_pred",
        ("loss", "dy_pred"),
        definition=definition,
    )


@test_case(name="mse_loss: matches reference", hidden=True)
def matches_reference(mse_loss):
    from solutions.hw2 import mse_loss as reference

    check_matches_reference(mse_loss, reference, "mse_loss", mse_cases(), ("loss", "dy_pred"))
