"""fan_out: the Multiply block and fan_out_grad, f = sum((x - y) * x) with x used twice."""

from bplab_checks import (
    check_block_consistency,
    check_block_matches_reference,
    check_block_no_mutation,
)
from bplab_checks.fanout import check_fan_out_grad, check_fan_out_matches_reference
from otter.test_files import test_case

OK_FORMAT = False
name = "fan_out"
points = 4


@test_case(name="fan_out: Multiply forward and backward are consistent", hidden=False)
def multiply_forward_and_backward_are_consistent(Multiply):
    for shape in ((3, 4), (1, 5)):
        check_block_consistency(
            Multiply,
            "Multiply",
            {"A": shape, "B": shape},
            out_shape=shape,
            definition=lambda A, B: A * B,
        )


@test_case(name="fan_out: fan_out_grad matches central differences", hidden=False)
def fan_out_grad_matches_central_differences(fan_out_grad):
    check_fan_out_grad(fan_out_grad)


@test_case(name="fan_out: Multiply matches reference", hidden=True)
def multiply_matches_reference(Multiply):
    from solutions.hw1 import Multiply as reference

    check_block_matches_reference(
        Multiply,
        "Multiply",
        reference,
        [{"A": (4, 3), "B": (4, 3)}, {"A": (2, 6), "B": (2, 6)}, {"A": (1, 3), "B": (1, 3)}],
    )


@test_case(name="fan_out: Multiply leaves inputs dout and cache alone", hidden=True)
def multiply_leaves_inputs_dout_and_cache_alone(Multiply):
    from solutions.hw1 import Multiply as reference

    check_block_no_mutation(Multiply, "Multiply", reference, {"A": (3, 4), "B": (3, 4)})


@test_case(name="fan_out: fan_out_grad matches reference", hidden=True)
def fan_out_grad_matches_reference(fan_out_grad):
    from solutions import hw1

    # With the reference Subtract and Sum (other questions); Multiply is this question's own.
    check_fan_out_matches_reference(
        fan_out_grad, hw1.fan_out_grad, callees={"Subtract": hw1.Subtract, "Sum": hw1.Sum}
    )
