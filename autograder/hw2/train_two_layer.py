"""train_two_layer: mini-batch training of the two-layer network, graded by what it achieves
(checks and bars: ``bplab_checks.training``).

The public case trains with the student's own ``SGD``, ``init_two_layer`` and
``two_layer_loss``; the hidden cases with the reference ones (a bug costs points once).
"""

from bplab_checks import (
    callees_first,
    check_history_is_the_mean_loss,
    check_init_two_layer,
    check_optimizer_step,
    check_reaches_validation_bar,
    check_seed_decides_everything,
    check_trains_small_problem,
    check_two_layer_gradients,
)
from otter.test_files import test_case

OK_FORMAT = False
name = "train_two_layer"
points = 6


@test_case(hidden=False)
def trains_a_small_problem(train_two_layer, SGD, init_two_layer, two_layer_loss):
    callees_first(
        lambda: check_trains_small_problem(train_two_layer, SGD),
        {
            "SGD": lambda: check_optimizer_step(
                SGD, "SGD", {"lr": 0.1}, first_step=lambda theta, g, lr: theta - lr * g
            ),
            "init_two_layer": lambda: check_init_two_layer(init_two_layer),
            "two_layer_loss": lambda: check_two_layer_gradients(two_layer_loss),
        },
    )


@test_case(hidden=True)
def reaches_the_validation_bar(train_two_layer):
    import importlib.util
    from pathlib import Path

    import solutions
    from solutions import hw2
    from solutions.hw2 import two_layer_predict

    # The trusted copy of the data: next to solutions/ in the autograder (files/data), or in the
    # repository (assignments/hw2/data); never a folder the student controls.
    root = Path(solutions.__file__).resolve().parent.parent
    candidates = (root / "data" / "wdbc.py", root / "assignments" / "hw2" / "data" / "wdbc.py")
    spec = importlib.util.spec_from_file_location(
        "bplab_hw2_wdbc", next(p for p in candidates if p.is_file())
    )
    wdbc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(wdbc)
    check_reaches_validation_bar(
        train_two_layer,
        hw2.SGD,
        wdbc.load_data(),
        two_layer_predict,
        callees={"init_two_layer": hw2.init_two_layer, "two_layer_loss": hw2.two_layer_loss},
    )


@test_case(hidden=True)
def history_is_the_mean_loss_per_epoch(train_two_layer):
    from solutions import hw2

    check_history_is_the_mean_loss(
        train_two_layer,
        hw2.SGD,
        hw2.init_two_layer,
        hw2.two_layer_loss,
        callees={"init_two_layer": hw2.init_two_layer, "two_layer_loss": hw2.two_layer_loss},
    )


@test_case(hidden=True)
def seed_decides_everything(train_two_layer):
    from solutions import hw2

    check_seed_decides_everything(
        train_two_layer,
        hw2.SGD,
        callees={"init_two_layer": hw2.init_two_layer, "two_layer_loss": hw2.two_layer_loss},
    )
