"""chain_rule: dsin_x2, dcube, grad_square_sum (elementwise derivatives)."""

import numpy as np
from bplab_checks import (
    chain_rule_cases,
    check_derivatives_numerically,
    check_matches_reference,
)
from otter.test_files import test_case

OK_FORMAT = False
name = "chain_rule"
points = 3


@test_case(name="chain_rule: derivatives match central differences", hidden=False)
def derivatives_match_central_differences(dsin_x2, dcube, grad_square_sum):
    check_derivatives_numerically(dsin_x2, "dsin_x2", lambda x: np.sin(x**2))
    check_derivatives_numerically(dcube, "dcube", lambda x: (x**2 + 1) ** 3)
    check_derivatives_numerically(
        grad_square_sum, "grad_square_sum", lambda x, y: (x + y) ** 2, arg_names=("x", "y")
    )


@test_case(name="chain_rule: dsin_x2 matches reference", hidden=True)
def dsin_x2_matches_reference(dsin_x2):
    from solutions.hw1 import dsin_x2 as reference

    check_matches_reference(
        dsin_x2, reference, "dsin_x2", chain_rule_cases("dsin_x2"), elementwise=True
    )


@test_case(name="chain_rule: dcube matches reference", hidden=True)
def dcube_matches_reference(dcube):
    from solutions.hw1 import dcube as reference

    check_matches_reference(
        dcube, reference, "dcube", chain_rule_cases("dcube"), elementwise=True
    )


@test_case(name="chain_rule: grad_square_sum matches reference", hidden=True)
def grad_square_sum_matches_reference(grad_square_sum):
    from solutions.hw1 import grad_square_sum as reference

    check_matches_reference(
        grad_square_sum,
        reference,
        "grad_square_sum",
        chain_rule_cases("grad_square_sum"),
        outputs=("d/dx", "d/dy"),
        elementwise=True,
    )
