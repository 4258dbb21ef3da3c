"""Tanh: tanh(X) and its gradient dX."""

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
name = "Tanh"
points = 2


@test_case(name="Tanh: forward and backward are consistent", hidden=False)
def forward_and_backward_are_consistent(Tanh):
    check_block_consistency(
        Tanh,
        "Tanh",
        {"X": (3, 4)},
        out_shape=(3, 4),
        definition=lambda X: np.tanh(X),
        elementwise=True,
    )


@test_case(name="Tanh: stable for inputs up to 1000", hidden=False)
def stable_for_inputs_up_to_1000(Tanh):
    # The plain formula, evaluated here with numpy's warnings off, is exact at |X| = 1000.
    check_block_stable_by_definition(
        Tanh, "Tanh", (3, 4), definition=lambda X: np.tanh(X), elementwise=True
    )


@test_case(name="Tanh: matches reference", hidden=True)
def matches_reference(Tanh):
    from solutions.hw2 import Tanh as reference

    check_block_matches_reference(
        Tanh, "Tanh", reference, [{"X": (3, 4)}, {"X": (2, 6)}], elementwise=True
    )


@test_case(name="Tanh: leaves inputs dout and cache alone", hidden=True)
def leaves_inputs_dout_and_cache_alone(Tanh):
    from solutions.hw2 import Tanh as reference

    check_block_no_mutation(Tanh, "Tanh", reference, {"X": (3, 4)}, elementwise=True)


@test_case(name="Tanh: stable for large inputs", hidden=True)
def stable_for_large_inputs(Tanh):
    from solutions.hw2 import Tanh as reference

    check_block_stable(Tanh, "Tanh", reference, shape=(3, 4), elementwise=True)
