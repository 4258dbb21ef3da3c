"""Subtract: out = A - B and its gradients dA, dB."""

from bplab_checks import (
    check_block_consistency,
    check_block_matches_reference,
    check_block_no_mutation,
)
from otter.test_files import test_case

OK_FORMAT = False
name = "Subtract"
points = 2


@test_case(name="Subtract: forward and backward are consistent", hidden=False)
def forward_and_backward_are_consistent(Subtract):
    check_block_consistency(
        Subtract,
        "Subtract",
        {"A": (3, 4), "B": (3, 4)},
        out_shape=(3, 4),
        definition=lambda A, B: A - B,
        elementwise=True,
    )


@test_case(name="Subtract: matches reference", hidden=True)
def matches_reference(Subtract):
    from solutions.hw1 import Subtract as reference

    check_block_matches_reference(
        Subtract, "Subtract", reference, [{"A": (3, 4), "B": (3, 4)}, {"A": (2, 5), "B": (2, 5)}],
        elementwise=True,
    )


@test_case(name="Subtract: leaves inputs dout and cache alone", hidden=True)
def leaves_inputs_dout_and_cache_alone(Subtract):
    from solutions.hw1 import Subtract as reference

    check_block_no_mutation(
        Subtract, "Subtract", reference, {"A": (3, 4), "B": (3, 4)}, elementwise=True
    )
