"""lr_schedules: step_decay, exponential_decay, cosine_annealing, linear_warmup."""

from bplab_checks import check_matches_reference, check_schedules_sane, schedule_cases
from otter.test_files import test_case

OK_FORMAT = False
name = "lr_schedules"
points = 2


@test_case(name="lr_schedules: schedules have their defining properties", hidden=False)
def schedules_have_their_defining_properties(
    step_decay, exponential_decay, cosine_annealing, linear_warmup
):
    check_schedules_sane(step_decay, exponential_decay, cosine_annealing, linear_warmup)


@test_case(name="lr_schedules: step_decay matches reference", hidden=True)
def step_decay_matches_reference(step_decay):
    from solutions.hw2 import step_decay as reference

    check_matches_reference(step_decay, reference, "step_decay", schedule_cases("step_decay"))


@test_case(name="lr_schedules: exponential_decay matches reference", hidden=True)
def exponential_decay_matches_reference(exponential_decay):
    from solutions.hw2 import exponential_decay as reference

    check_matches_reference(
        exponential_decay, reference, "exponential_decay", schedule_cases("exponential_decay")
    )


@test_case(name="lr_schedules: cosine_annealing matches reference", hidden=True)
def cosine_annealing_matches_reference(cosine_annealing):
    from solutions.hw2 import cosine_annealing as reference

    check_matches_reference(
        cosine_annealing, reference, "cosine_annealing", schedule_cases("cosine_annealing")
    )


@test_case(name="lr_schedules: linear_warmup matches reference", hidden=True)
def linear_warmup_matches_reference(linear_warmup):
    from solutions.hw2 import linear_warmup as reference

    check_matches_reference(
        linear_warmup, reference, "linear_warmup", schedule_cases("linear_warmup")
    )
