"""numerical_gradient: central differences of a scalar function, x unchanged."""

from bplab_checks import check_numerical_gradient, check_numerical_gradient_matches
from otter.test_files import test_case

OK_FORMAT = False
name = "numerical_gradient"
points = 3


@test_case(name="numerical_gradient: matches central differences", hidden=False)
def matches_central_differences(numerical_gradient):
    check_numerical_gradient(numerical_gradient)


@test_case(name="numerical_gradient: any shape and step size", hidden=True)
def any_shape_and_step_size(numerical_gradient):
    from solutions.hw1 import numerical_gradient as reference

    check_numerical_gradient_matches(numerical_gradient, reference)
