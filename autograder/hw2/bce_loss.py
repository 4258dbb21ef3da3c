"""bce_loss: binary cross-entropy (p clipped to [1e-12, 1 - 1e-12]) and dp."""

import numpy as np
from bplab_checks import (
    bce_cases,
    bce_edge_case,
    check_loss_gradient,
    check_matches_reference,
    check_stable_loss,
    check_stable_loss_by_definition,
    one_row_case,
)
from otter.test_files import test_case

OK_FORMAT = False
name = "bce_loss"
points = 3


def definition(p, y):
    """The loss as the assignment defines it, p clipped to [1e-12, 1 - 1e-12]."""
    q = np.clip(p, 1e-12, 1 - 1e-12)
    return -np.mean(y * np.log(q) + (1 - y) * np.log(1 - q))


@test_case(name="bce_loss: dp matches central differences", hidden=False)
def dp_matches_central_differences(bce_loss):
    # p is inside (0.05, 0.95) here, where the clip changes nothing.
    check_loss_gradient(
        bce_loss,
        "bce_loss",
        bce_cases()[0],
        "p",
        ("loss", "dp"),
        definition=definition,
    )


@test_case(name="bce_loss: one-row batch", hidden=False)
def one_row_batch(bce_loss):
    check_loss_gradient(
        bce_loss,
        "bce_loss",
        one_row_case("bce"),
        "p",
        ("loss", "dp"),
        definition=definition,
    )


@test_case(name="bce_loss: stable at p exactly 0 and 1", hidden=False)
def stable_at_p_exactly_0_and_1(bce_loss):
    check_stable_loss_by_definition(
        bce_loss,
        "bce_loss",
        bce_edge_case(public=True),
        ("loss", "dp"),
        definition=definition,
    )


@test_case(name="bce_loss: matches reference", hidden=True)
def matches_reference(bce_loss):
    from solutions.hw2 import bce_loss as reference

    check_matches_reference(bce_loss, reference, "bce_loss", bce_cases(), ("loss", "dp"))


@test_case(name="bce_loss: stable at extremes", hidden=True)
def stable_at_extremes(bce_loss):
    from solutions.hw2 import bce_loss as reference

    check_stable_loss(
        bce_loss,
        reference,
        "bce_loss",
        bce_edge_case(),
        ("loss", "dp"),
        compare_grad_where="unclipped",
    )
