"""mlp_loss: mlp_init and the loss and gradients of an L-layer network (bplab_checks.deep)."""

from bplab_checks import check_matches_reference
from bplab_checks.deep import (
    check_mlp_gradients,
    check_mlp_init,
    check_mlp_lecture_example,
    mlp_cases,
    mlp_init_cases,
)
from otter.test_files import test_case

OK_FORMAT = False
name = "mlp_loss"
points = 6


@test_case(name="mlp_loss: init draws the contract's weights", hidden=False)
def init_draws_the_contracts_weights(mlp_init):
    check_mlp_init(mlp_init)


@test_case(name="mlp_loss: lecture 5's 2-2-1 example", hidden=False)
def lecture_example(mlp_loss):
    check_mlp_lecture_example(mlp_loss)


@test_case(name="mlp_loss: grads match central differences for L = 1, 2, 4", hidden=False)
def grads_match_central_differences(mlp_loss):
    check_mlp_gradients(mlp_loss)


@test_case(name="mlp_loss: init matches reference", hidden=True)
def init_matches_reference(mlp_init):
    from solutions.hw3 import mlp_init as reference

    check_matches_reference(mlp_init, reference, "mlp_init", mlp_init_cases())


@test_case(name="mlp_loss: loss and grads match reference", hidden=True)
def loss_and_grads_match_reference(mlp_loss):
    from solutions.hw3 import mlp_loss as reference

    cases = mlp_cases(public=False)
    check_mlp_gradients(mlp_loss, cases)
    check_matches_reference(mlp_loss, reference, "mlp_loss", cases, ("loss", "grads"))
