"""RMSprop: s = beta s + (1 - beta) g^2; theta -= lr g / (sqrt(s) + eps) (or sqrt(s + eps))."""

import numpy as np
from bplab_checks import check_optimizer_cases, check_optimizer_instances, check_optimizer_step
from otter.test_files import test_case

OK_FORMAT = False
name = "RMSprop"
points = 2


@test_case(name="RMSprop: step updates params in place", hidden=False)
def step_updates_params_in_place(RMSprop):
    # s = beta * 0 + (1 - beta) * g**2 on the first step.
    check_optimizer_step(
        RMSprop,
        "RMSprop",
        {"lr": 0.01},
        first_step=lambda theta, g, lr, beta=0.9, eps=1e-8: (
            theta - lr * g / (np.sqrt((1 - beta) * g**2) + eps)
        ),
        also_accepted={
            "eps inside the square root, sqrt(s + eps)": (
                lambda theta, g, lr, beta=0.9, eps=1e-8: (
                    theta - lr * g / np.sqrt((1 - beta) * g**2 + eps)
                )
            )
        },
    )


@test_case(name="RMSprop: trajectory matches reference", hidden=True)
def trajectory_matches_reference(RMSprop):
    from solutions.hw2 import RMSprop as reference

    check_optimizer_cases(
        RMSprop,
        reference,
        "RMSprop",
        [{"lr": 0.01}, {"lr": 0.05, "beta": 0.8, "eps": 1e-6}],
        accept_eps_inside=True,
    )


@test_case(name="RMSprop: instances keep separate state", hidden=True)
def instances_keep_separate_state(RMSprop):
    from solutions.hw2 import RMSprop as reference

    check_optimizer_instances(
        RMSprop, reference, "RMSprop", {"lr": 0.01}, accept_eps_inside=True
    )
