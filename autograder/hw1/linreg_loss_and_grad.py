"""linreg_loss_and_grad: squared-error loss and dtheta by chaining blocks."""

import numpy as np
from bplab_checks import check_loss_gradient, check_matches_reference, linreg_cases, one_row_case
from otter.test_files import test_case

OK_FORMAT = False
name = "linreg_loss_and_grad"
points = 4


def definition(theta, X, Y):
    """The loss as the assignment defines it."""
    return np.sum((X @ theta - Y) ** 2)


@test_case(name="linreg_loss_and_grad: dtheta matches central differences", hidden=False)
def dtheta_matches_central_differences(linreg_loss_and_grad):
    check_loss_gradient(
        linreg_loss_and_grad,
        "linreg_loss_and_grad",
        linreg_cases()[0],
        "theta",
        ("loss", "dtheta"),
        definition=definition,
    )


@test_case(name="linreg_loss_and_grad: one-row batch", hidden=False)
def one_row_batch(linreg_loss_and_grad):
    check_loss_gradient(
        linreg_loss_and_grad,
        "linreg_loss_and_grad",
        one_row_case("linreg"),
        "theta",
        ("loss", "dtheta"),
        definition=definition,
    )


@test_case(name="linreg_loss_and_grad: matches reference", hidden=True)
def matches_reference(linreg_loss_and_grad):
    from solutions.hw1 import linreg_loss_and_grad as reference

    check_matches_reference(
        linreg_loss_and_grad, reference, "linreg_loss_and_grad", linreg_cases(), ("loss", "dtheta")
    )
