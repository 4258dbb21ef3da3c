"""gradient_norms: vanishing and exploding gradients, measured (bplab_checks.deep)."""

from bplab_checks.deep import (
    check_gradient_norms_matches,
    check_gradient_norms_properties,
    check_gradient_norms_values,
)
from otter.test_files import test_case

OK_FORMAT = False
name = "gradient_norms"
points = 4


@test_case(name="gradient_norms: one layer and the last layer in closed form", hidden=False)
def closed_forms(gradient_norms):
    check_gradient_norms_values(gradient_norms)


@test_case(name="gradient_norms: sigmoid vanishes, ReLU with He keeps, tanh x3 explodes",
           hidden=False)
def properties(gradient_norms):
    check_gradient_norms_properties(gradient_norms, seed=0)


@test_case(name="gradient_norms: matches reference", hidden=True)
def matches_reference(gradient_norms):
    from solutions.hw3 import gradient_norms as reference

    check_gradient_norms_matches(gradient_norms, reference)
    for seed in (5, 6):
        check_gradient_norms_properties(gradient_norms, seed=seed)
