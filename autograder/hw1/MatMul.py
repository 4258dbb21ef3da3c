"""MatMul: out = A @ B and its gradients dA, dB."""

from bplab_checks import (
    check_block_consistency,
    check_block_matches_reference,
    check_block_no_mutation,
)
from otter.test_files import test_case

OK_FORMAT = False
name = "MatMul"
points = 4


@test_case(name="MatMul: forward and backward are consistent", hidden=False)
def forward_and_backward_are_consistent(MatMul):
    check_block_consistency(
        MatMul,
        "MatMul",
        {"A": (3, 4), "B": (4, 5)},
        out_shape=(3, 5),
        definition=lambda A, B: A @ B,
    )
    # A one-row batch: a .squeeze() or a hard-coded axis shows here.
    check_block_consistency(
        MatMul,
        "MatMul",
        {"A": (1, 4), "B": (4, 5)},
        out_shape=(1, 5),
        definition=lambda A, B: A @ B,
    )


@test_case(name="MatMul: matches reference", hidden=True)
def matches_reference(MatMul):
    from solutions.hw1 import MatMul as reference

    check_block_matches_reference(
        MatMul,
        "MatMul",
        reference,
        [{"A": (3, 4), "B": (4, 5)}, {"A": (2, 7), "B": (7, 3)}, {"A": (5, 1), "B": (1, 2)}],
    )


@test_case(name="MatMul: leaves inputs dout and cache alone", hidden=True)
def leaves_inputs_dout_and_cache_alone(MatMul):
    from solutions.hw1 import MatMul as reference

    check_block_no_mutation(MatMul, "MatMul", reference, {"A": (3, 4), "B": (4, 5)})
