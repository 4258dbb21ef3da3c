"""two_layer_loss: init_two_layer, two_layer_loss (loss and grads), two_layer_predict."""

from bplab_checks import (
    check_init_two_layer,
    check_matches_reference,
    check_two_layer_gradients,
    check_two_layer_predict,
    init_two_layer_cases,
    two_layer_loss_cases,
    two_layer_predict_cases,
)
from otter.test_files import test_case

OK_FORMAT = False
name = "two_layer_loss"
points = 6


@test_case(name="two_layer_loss: init has the right shapes", hidden=False)
def init_has_the_right_shapes(init_two_layer):
    check_init_two_layer(init_two_layer)


@test_case(name="two_layer_loss: grads match central differences", hidden=False)
def grads_match_central_differences(two_layer_loss):
    check_two_layer_gradients(two_layer_loss)


@test_case(name="two_layer_loss: predict agrees with the loss", hidden=False)
def predict_agrees_with_the_loss(two_layer_loss, two_layer_predict):
    check_two_layer_predict(two_layer_loss, two_layer_predict)


@test_case(name="two_layer_loss: init matches reference", hidden=True)
def init_matches_reference(init_two_layer):
    from solutions.hw2 import init_two_layer as reference

    check_matches_reference(init_two_layer, reference, "init_two_layer", init_two_layer_cases())


@test_case(name="two_layer_loss: loss and grads match reference", hidden=True)
def loss_and_grads_match_reference(two_layer_loss):
    from solutions.hw2 import two_layer_loss as reference

    check_matches_reference(
        two_layer_loss, reference, "two_layer_loss", two_layer_loss_cases(), ("loss", "grads")
    )


@test_case(name="two_layer_loss: predict matches reference", hidden=True)
def predict_matches_reference(two_layer_predict):
    from solutions.hw2 import two_layer_predict as reference

    check_matches_reference(
        two_layer_predict, reference, "two_layer_predict", two_layer_predict_cases()
    )
