"""Momentum: v = momentum * v - lr * g; theta += v."""

from bplab_checks import check_optimizer_cases, check_optimizer_instances, check_optimizer_step
from otter.test_files import test_case

OK_FORMAT = False
name = "Momentum"
points = 2


@test_case(name="Momentum: step updates params in place", hidden=False)
def step_updates_params_in_place(Momentum):
    # v = momentum * 0 - lr * g on the first step.
    check_optimizer_step(
        Momentum, "Momentum", {"lr": 0.1}, first_step=lambda theta, g, lr: theta - lr * g
    )


@test_case(name="Momentum: trajectory matches reference", hidden=True)
def trajectory_matches_reference(Momentum):
    from solutions.hw2 import Momentum as reference

    check_optimizer_cases(
        Momentum, reference, "Momentum", [{"lr": 0.1}, {"lr": 0.05, "momentum": 0.5}]
    )


@test_case(name="Momentum: instances keep separate state", hidden=True)
def instances_keep_separate_state(Momentum):
    from solutions.hw2 import Momentum as reference

    check_optimizer_instances(Momentum, reference, "Momentum", {"lr": 0.1})
