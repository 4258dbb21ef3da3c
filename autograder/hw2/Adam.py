"""Adam: bias-corrected moments, theta -= lr m_hat / (sqrt(v_hat) + eps)."""

import numpy as np
from bplab_checks import check_optimizer_cases, check_optimizer_instances, check_optimizer_step
from otter.test_files import test_case

OK_FORMAT = False
name = "Adam"
points = 3


@test_case(name="Adam: step updates params in place", hidden=False)
def step_updates_params_in_place(Adam):
    # After one step from zero moments, bias correction gives m_hat = g and v_hat = g**2.
    check_optimizer_step(
        Adam,
        "Adam",
        {},
        first_step=lambda theta, g, lr=1e-3, eps=1e-8: theta - lr * g / (np.sqrt(g**2) + eps),
        also_accepted={
            "eps inside the square root, sqrt(v_hat + eps)": (
                lambda theta, g, lr=1e-3, eps=1e-8: theta - lr * g / np.sqrt(g**2 + eps)
            )
        },
    )


@test_case(name="Adam: trajectory matches reference", hidden=True)
def trajectory_matches_reference(Adam):
    from solutions.hw2 import Adam as reference

    check_optimizer_cases(
        Adam,
        reference,
        "Adam",
        [{}, {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-7}],
        accept_eps_inside=True,
    )


@test_case(name="Adam: instances keep separate state", hidden=True)
def instances_keep_separate_state(Adam):
    from solutions.hw2 import Adam as reference

    check_optimizer_instances(Adam, reference, "Adam", {}, accept_eps_inside=True)
