"""ReLU: max(X, 0) and its gradient dX (0 where X <= 0)."""

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
name = "ReLU"
points = 3


@test_case(name="ReLU: forward and backward are consistent", hidden=False)
def forward_and_backward_are_consistent(ReLU):
    check_block_consistency(
        ReLU,
        "ReLU",
        {"X": (3, 4)},
        out_shape=(3, 4),
        definition=lambda X: np.maximum(X, 0),
        elementwise=True,
    )


@test_case(name="ReLU: slope at exactly 0", hidden=False)
def slope_at_exactly_0(ReLU):
    check_block_at_zero_by_definition(
        ReLU,
        "ReLU",
        (4, 3),
        definition=lambda X: np.maximum(X, 0),
        slope_at_zero=0.0,
        elementwise=True,
    )


@test_case(name="ReLU: matches reference", hidden=True)
def matches_reference(ReLU):
    from solutions.hw1 import ReLU as reference

    check_block_matches_reference(
        ReLU, "ReLU", reference, [{"X": (3, 4)}, {"X": (2, 6)}], elementwise=True
    )


@test_case(name="ReLU: leaves inputs dout and cache alone", hidden=True)
def leaves_inputs_dout_and_cache_alone(ReLU):
    from solutions.hw1 import ReLU as reference

    check_block_no_mutation(ReLU, "ReLU", reference, {"X": (3, 4)}, elementwise=True)


@test_case(name="ReLU: exact zero inputs", hidden=True)
def exact_zero_inputs(ReLU):
    from solutions.hw1 import ReLU as reference

    check_block_at_zero(ReLU, "ReLU", reference, shape=(4, 3), elementwise=True)
