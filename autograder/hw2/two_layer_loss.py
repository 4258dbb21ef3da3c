"""two_layer_loss: init_two_layer, two_layer_loss (loss and grads), two_layer_predict."""

import numpy as np
from bplab_checks import (
    bce_cases,
    callees_first,
    check_block_consistency,
    check_init_two_layer,
    check_loss_gradient,
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


def callee_checks(Add, bce_loss):
    """The public checks of the graded definitions the network calls (their own files')."""
    return {
        "Add": lambda: check_block_consistency(
            Add, "Add", {"X": (3, 4), "b": (4,)}, (3, 4), definition=lambda X, b: X + b
        ),
        "bce_loss": lambda: check_loss_gradient(
            bce_loss, "bce_loss", bce_cases()[0], "p", ("loss", "dp"),
            definition=lambda p, y: -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)),
        ),
    }


@test_case(name="two_layer_loss: init has the right shapes", hidden=False)
def init_has_the_right_shapes(init_two_layer):
    check_init_two_layer(init_two_layer)


@test_case(name="two_layer_loss: grads match central differences", hidden=False)
def grads_match_central_differences(two_layer_loss, Add, bce_loss):
    callees_first(lambda: check_two_layer_gradients(two_layer_loss), callee_checks(Add, bce_loss))


@test_case(name="two_layer_loss: one-row batch", hidden=False)
def one_row_batch(two_layer_loss, Add, bce_loss):
    callees_first(
        lambda: check_two_layer_gradients(two_layer_loss, seed=1, n=1),
        callee_checks(Add, bce_loss),
    )


@test_case(name="two_layer_loss: predict agrees with the loss", hidden=False)
def predict_agrees_with_the_loss(two_layer_loss, two_layer_predict, Add, bce_loss):
    callees_first(
        lambda: check_two_layer_predict(two_layer_loss, two_layer_predict),
        callee_checks(Add, bce_loss),
    )


@test_case(name="two_layer_loss: init matches reference", hidden=True)
def init_matches_reference(init_two_layer):
    from solutions.hw2 import init_two_layer as reference

    check_matches_reference(init_two_layer, reference, "init_two_layer", init_two_layer_cases())


@test_case(name="two_layer_loss: loss and grads match reference", hidden=True)
def loss_and_grads_match_reference(two_layer_loss):
    from solutions import hw2

    # With the reference Add and bce_loss: their bugs are charged to their own questions only.
    check_matches_reference(
        two_layer_loss,
        hw2.two_layer_loss,
        "two_layer_loss",
        two_layer_loss_cases(),
        ("loss", "grads"),
        callees={"Add": hw2.Add, "bce_loss": hw2.bce_loss},
    )


@test_case(name="two_layer_loss: predict matches reference", hidden=True)
def predict_matches_reference(two_layer_predict):
    from solutions import hw2

    check_matches_reference(
        two_layer_predict,
        hw2.two_layer_predict,
        "two_layer_predict",
        two_layer_predict_cases(),
        callees={"Add": hw2.Add},
    )
