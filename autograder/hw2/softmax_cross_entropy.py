"""softmax_cross_entropy: stable softmax + cross-entropy, mean over the batch, and dlogits."""

import numpy as np
from bplab_checks import (
    check_loss_gradient,
    check_loss_shift_invariant,
    check_matches_reference,
    check_stable_loss,
    one_row_case,
    softmax_cases,
    softmax_edge_case,
)
from otter.test_files import test_case

OK_FORMAT = False
name = "softmax_cross_entropy"
points = 4


def definition(logits, y):
    """The loss as the assignment defines it (plain formula: exact on moderate logits)."""
    return -np.mean(logits[np.arange(len(y)), y] - np.log(np.sum(np.exp(logits), axis=1)))


@test_case(name="softmax_cross_entropy: dlogits matches central differences", hidden=False)
def dlogits_matches_central_differences(softmax_cross_entropy):
    check_loss_gradient(
        softmax_cross_entropy,
        "softmax_cross_entropy",
        softmax_cases()[0],
        "logits",
        ("loss", "dlogits"),
        # Moderate logits here: the plain formula does not overflow.
        definition=definition,
    )


@test_case(name="softmax_cross_entropy: one-row batch", hidden=False)
def one_row_batch(softmax_cross_entropy):
    check_loss_gradient(
        softmax_cross_entropy,
        "softmax_cross_entropy",
        one_row_case("softmax"),
        "logits",
        ("loss", "dlogits"),
        definition=definition,
    )


@test_case(name="softmax_cross_entropy: stable for logits up to 1000", hidden=False)
def stable_for_logits_up_to_1000(softmax_cross_entropy):
    check_loss_shift_invariant(
        softmax_cross_entropy,
        "softmax_cross_entropy",
        softmax_cases()[0],
        "logits",
        ("loss", "dlogits"),
        definition=definition,
    )


@test_case(name="softmax_cross_entropy: matches reference", hidden=True)
def matches_reference(softmax_cross_entropy):
    from solutions.hw2 import softmax_cross_entropy as reference

    check_matches_reference(
        softmax_cross_entropy,
        reference,
        "softmax_cross_entropy",
        softmax_cases(),
        ("loss", "dlogits"),
    )


@test_case(name="softmax_cross_entropy: stable at extremes", hidden=True)
def stable_at_extremes(softmax_cross_entropy):
    from solutions.hw2 import softmax_cross_entropy as reference

    check_stable_loss(
        softmax_cross_entropy,
        reference,
        "softmax_cross_entropy",
        softmax_edge_case(),
        ("loss", "dlogits"),
        moderate=softmax_cases()[1],
    )
