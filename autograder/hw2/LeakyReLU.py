"""LeakyReLU: X where X > 0, ALPHA * X where X <= 0, and its gradient dX."""

import numpy as np
from bplab_checks import (
    check_block_at_zero,
    check_block_at_zero_by_definition,
    check_block_consistency,
    check_block_matches_reference,
    check_block_no_mutation,
)
from otter.test_files import test_case

OK_FORMAT = False
name = "LeakyReLU"
points = 2


@test_case(name="LeakyReLU: forward and backward are consistent", hidden=False)
def forward_and_backward_are_consistent(LeakyReLU):
    check_block_consistency(
        LeakyReLU,
        "LeakyReLU",
        {"X": (3, 4)},
        out_shape=(3, 4),
        definition=lambda X: np.where(X > 0, X, 0.01 * X),
        elementwise=True,
    )


@test_case(name="LeakyReLU: slope at exactly 0", hidden=False)
def slope_at_exactly_0(LeakyReLU):
    check_block_at_zero_by_definition(
        LeakyReLU,
        "LeakyReLU",
        (4, 3),
        definition=lambda X: np.where(X > 0, X, 0.01 * X),
        slope_at_zero=0.01,
        elementwise=True,
    )


@test_case(name="LeakyReLU: matches reference", hidden=True)
def matches_reference(LeakyReLU):
    from solutions.hw2 import LeakyReLU as reference

    check_block_matches_reference(
        LeakyReLU, "LeakyReLU", reference, [{"X": (3, 4)}, {"X": (2, 6)}], elementwise=True
    )


@test_case(name="LeakyReLU: leaves inputs dout and cache alone", hidden=True)
def leaves_inputs_dout_and_cache_alone(LeakyReLU):
    from solutions.hw2 import LeakyReLU as reference

    check_block_no_mutation(LeakyReLU, "LeakyReLU", reference, {"X": (3, 4)}, elementwise=True)


@test_case(name="LeakyReLU: exact zero inputs", hidden=True)
def exact_zero_inputs(LeakyReLU):
    from solutions.hw2 import LeakyReLU as reference

    check_block_at_zero(LeakyReLU, "LeakyReLU", reference, shape=(4, 3), elementwise=True)
