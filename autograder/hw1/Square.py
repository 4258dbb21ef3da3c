"""Square: out = X ** 2 and its gradient dX."""

from bplab_checks import (
    check_block_consistency,
    check_block_matches_reference,
    check_block_no_mutation,
)
from otter.test_files import test_case

OK_FORMAT = False
name = "Square"
points = 2


@test_case(name="Square: forward and backward are consistent", hidden=False)
def forward_and_backward_are_consistent(Square):
    check_block_consistency(
        Square,
        "Square",
        {"X": (3, 4)},
        out_shape=(3, 4),
        definition=lambda X: X**2,
        elementwise=True,
    )


@test_case(name="Square: matches reference", hidden=True)
def matches_reference(Square):
    from solutions.hw1 import Square as reference

    check_block_matches_reference(
        Square, "Square", reference, [{"X": (3, 4)}, {"X": (2, 6)}], elementwise=True
    )


@test_case(name="Square: leaves inputs dout and cache alone", hidden=True)
def leaves_inputs_dout_and_cache_alone(Square):
    from solutions.hw1 import Square as reference

    check_block_no_mutation(Square, "Square", reference, {"X": (3, 4)}, elementwise=True)
