"""fit_linreg: full-batch gradient descent on linear regression."""

import numpy as np
from bplab_checks import (
    callees_first,
    check_fit_linreg_runs,
    check_loss_gradient,
    check_matches_reference,
    fit_linreg_cases,
    linreg_cases,
)
from otter.test_files import test_case

OK_FORMAT = False
name = "fit_linreg"
points = 3


@test_case(name="fit_linreg: runs and decreases the loss", hidden=False)
def runs_and_decreases_the_loss(fit_linreg, linreg_loss_and_grad):
    callees_first(
        lambda: check_fit_linreg_runs(fit_linreg),
        {
            "linreg_loss_and_grad": lambda: check_loss_gradient(
                linreg_loss_and_grad,
                "linreg_loss_and_grad",
                linreg_cases()[0],
                "theta",
                ("loss", "dtheta"),
                definition=lambda theta, X, Y: np.sum((X @ theta - Y) ** 2),
            )
        },
    )


@test_case(name="fit_linreg: matches reference", hidden=True)
def matches_reference(fit_linreg):
    from solutions import hw1

    # With the reference linreg_loss_and_grad: its bugs are charged to its own question only.
    check_matches_reference(
        fit_linreg,
        hw1.fit_linreg,
        "fit_linreg",
        fit_linreg_cases(),
        ("theta", "losses"),
        callees={"linreg_loss_and_grad": hw1.linreg_loss_and_grad},
    )
