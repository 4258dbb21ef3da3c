"""Sum: out = sum of all entries (a scalar) and its gradient dX for a scalar dout."""

import numpy as np
from bplab_checks import (
    check_block_consistency,
    check_block_matches_reference,
    check_block_no_mutation,
)
from otter.test_files import test_case

OK_FORMAT = False
name = "Sum"
points = 2


@test_case(name="Sum: forward and backward are consistent", hidden=False)
def forward_and_backward_are_consistent(Sum):
    check_block_consistency(
        Sum,
        "Sum",
        {"X": (3, 4)},
        out_shape=(),
        definition=lambda X: np.sum(X),
    )


@test_case(name="Sum: matches reference", hidden=True)
def matches_reference(Sum):
    from solutions.hw1 import Sum as reference

    check_block_matches_reference(Sum, "Sum", reference, [{"X": (3, 4)}, {"X": (2, 6)}])


@test_case(name="Sum: leaves inputs dout and cache alone", hidden=True)
def leaves_inputs_dout_and_cache_alone(Sum):
    from solutions.hw1 import Sum as reference

    check_block_no_mutation(Sum, "Sum", reference, {"X": (3, 4)})
