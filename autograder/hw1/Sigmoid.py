"""Sigmoid: stable 1 / (1 + exp(-X)) and its gradient dX."""

import numpy as np
from bplab_checks import (
    check_block_consistency,
    check_block_matches_reference,
    check_block_no_mutation,
    check_block_stable,
    check_block_stable_by_definition,
)
from otter.test_files import test_case

OK_FORMAT = False
name = "Sigmoid"
points = 3


@test_case(name="Sigmoid: forward and backward are consistent", hidden=False)
def forward_and_backward_are_consistent(Sigmoid):
    check_block_consistency(
        Sigmoid,
        "Sigmoid",
        {"X": (3, 4)},
        out_shape=(3, 4),
        definition=lambda X: 1 / (1 + np.exp(-X)),
        elementwise=True,
    )


@test_case(name="Sigmoid: stable for inputs up to 1000", hidden=False)
def stable_for_inputs_up_to_1000(Sigmoid):
    # The plain formula, evaluated here with numpy's warnings off, is exact at |X| = 1000.
    check_block_stable_by_definition(
        Sigmoid, "Sigmoid", (3, 4), definition=lambda X: 1 / (1 + np.exp(-X)), elementwise=True
    )


@test_case(name="Sigmoid: matches reference", hidden=True)
def matches_reference(Sigmoid):
    from solutions.hw1 import Sigmoid as reference

    check_block_matches_reference(
        Sigmoid, "Sigmoid", reference, [{"X": (3, 4)}, {"X": (2, 6)}], elementwise=True
    )


@test_case(name="Sigmoid: leaves inputs dout and cache alone", hidden=True)
def leaves_inputs_dout_and_cache_alone(Sigmoid):
    from solutions.hw1 import Sigmoid as reference

    check_block_no_mutation(Sigmoid, "Sigmoid", reference, {"X": (3, 4)}, elementwise=True)


@test_case(name="Sigmoid: stable for large inputs", hidden=True)
def stable_for_large_inputs(Sigmoid):
    from solutions.hw1 import Sigmoid as reference

    check_block_stable(Sigmoid, "Sigmoid", reference, shape=(3, 4), elementwise=True)
