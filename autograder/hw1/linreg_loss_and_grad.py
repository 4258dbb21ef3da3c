"""linreg_loss_and_grad: squared-error loss and dtheta by chaining blocks."""

import numpy as np
from bplab_checks import (
    callees_first,
    check_block_consistency,
    check_loss_gradient,
    check_matches_reference,
    linreg_cases,
    one_row_case,
)
from otter.test_files import test_case

OK_FORMAT = False
name = "linreg_loss_and_grad"
points = 4


def definition(theta, X, Y):
    """The loss as the assignment defines it."""
    return np.sum((X @ theta - Y) ** 2)


def blocks_checks(MatMul, Subtract, Square, Sum):
    """The public checks of the blocks this question chains (as in their own test files)."""
    return {
        "MatMul": lambda: check_block_consistency(
            MatMul, "MatMul", {"A": (3, 4), "B": (4, 5)}, (3, 5), definition=lambda A, B: A @ B
        ),
        "Subtract": lambda: check_block_consistency(
            Subtract, "Subtract", {"A": (3, 4), "B": (3, 4)}, (3, 4),
            definition=lambda A, B: A - B, elementwise=True,
        ),
        "Square": lambda: check_block_consistency(
            Square, "Square", {"X": (3, 4)}, (3, 4), definition=lambda X: X**2, elementwise=True
        ),
        "Sum": lambda: check_block_consistency(
            Sum, "Sum", {"X": (3, 4)}, (), definition=lambda X: np.sum(X)
        ),
    }


@test_case(name="linreg_loss_and_grad: dtheta matches central differences", hidden=False)
def dtheta_matches_central_differences(linreg_loss_and_grad, MatMul, Subtract, Square, Sum):
    callees_first(
        lambda: check_loss_gradient(
            linreg_loss_and_grad,
            "linreg_loss_and_grad",
            linreg_cases()[0],
            "theta",
            ("loss", "dtheta"),
            definition=definition,
        ),
        blocks_checks(MatMul, Subtract, Square, Sum),
    )


@test_case(name="linreg_loss_and_grad: one-row batch", hidden=False)
def one_row_batch(linreg_loss_and_grad, MatMul, Subtract, Square, Sum):
    callees_first(
        lambda: check_loss_gradient(
            linreg_loss_and_grad,
            "linreg_loss_and_grad",
            one_row_case("linreg"),
            "theta",
            ("loss", "dtheta"),
            definition=definition,
        ),
        blocks_checks(MatMul, Subtract, Square, Sum),
    )


@test_case(name="linreg_loss_and_grad: matches reference", hidden=True)
def matches_reference(linreg_loss_and_grad):
    from solutions import hw1

    # With the reference blocks: a bug in a block is charged to the block's question only.
    check_matches_reference(
        linreg_loss_and_grad,
        hw1.linreg_loss_and_grad,
        "linreg_loss_and_grad",
        linreg_cases(),
        ("loss", "dtheta"),
        callees={"MatMul": hw1.MatMul, "Subtract": hw1.Subtract, "Square": hw1.Square,
                 "Sum": hw1.Sum},
    )
