"""Add: out = X + b broadcast over rows, and its gradients dX, db."""

from bplab_checks import (
    check_block_consistency,
    check_block_matches_reference,
    check_block_no_mutation,
)
from otter.test_files import test_case

OK_FORMAT = False
name = "Add"
points = 3


@test_case(name="Add: forward and backward are consistent", hidden=False)
def forward_and_backward_are_consistent(Add):
    check_block_consistency(
        Add,
        "Add",
        {"X": (3, 4), "b": (4,)},
        out_shape=(3, 4),
        definition=lambda X, b: X + b,
    )
    # A one-row batch: a .squeeze() or a hard-coded axis shows here.
    check_block_consistency(
        Add, "Add", {"X": (1, 4), "b": (4,)}, out_shape=(1, 4), definition=lambda X, b: X + b
    )


@test_case(name="Add: matches reference", hidden=True)
def matches_reference(Add):
    from solutions.hw2 import Add as reference

    check_block_matches_reference(
        Add, "Add", reference, [{"X": (3, 4), "b": (4,)}, {"X": (5, 2), "b": (2,)}]
    )


@test_case(name="Add: leaves inputs dout and cache alone", hidden=True)
def leaves_inputs_dout_and_cache_alone(Add):
    from solutions.hw2 import Add as reference

    check_block_no_mutation(Add, "Add", reference, {"X": (3, 4), "b": (4,)})
