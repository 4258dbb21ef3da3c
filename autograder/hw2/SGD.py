"""SGD: theta -= lr * g, in place."""

from bplab_checks import check_optimizer_cases, check_optimizer_instances, check_optimizer_step
from otter.test_files import test_case

OK_FORMAT = False
name = "SGD"
points = 2


@test_case(name="SGD: step updates params in place", hidden=False)
def step_updates_params_in_place(SGD):
    check_optimizer_step(SGD, "SGD", {"lr": 0.1}, first_step=lambda theta, g, lr: theta - lr * g)


@test_case(name="SGD: trajectory matches reference", hidden=True)
def trajectory_matches_reference(SGD):
    from solutions.hw2 import SGD as reference

    check_optimizer_cases(SGD, reference, "SGD", [{"lr": 0.1}, {"lr": 0.03}])


@test_case(name="SGD: instances keep separate state", hidden=True)
def instances_keep_separate_state(SGD):
    from solutions.hw2 import SGD as reference

    check_optimizer_instances(SGD, reference, "SGD", {"lr": 0.1})
