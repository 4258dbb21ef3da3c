"""Checks of function-style questions: derivatives, numerical gradients, losses, linear
regression, the two-layer network.

Public checks use only the student's own functions, the values the assignment defines (a loss,
the network's forward pass) and trusted numerics (central differences along a few random
directions, ``gradcheck.directional_derivatives``, or exact derivatives of known functions);
hidden checks compare with the reference on ``bplab_checks.cases`` inputs. Every check that
passes has looked at the values it computed (``tests/test_junk_answers.py``).

Where they live (every name is importable from here, and the checks from ``bplab_checks``):
``reference_checks`` (``check_matches_reference`` and the texts the others share),
``derivative_checks`` (derivatives and numerical gradients), ``loss_checks``,
``linreg_checks`` (``fit_linreg``) and ``two_layer_checks`` (with the trusted
``two_layer_probabilities`` and ``bce``).
"""

from __future__ import annotations

from bplab_checks.derivative_checks import (
    check_derivatives_numerically,
    check_numerical_gradient,
    check_numerical_gradient_matches,
)
from bplab_checks.linreg_checks import (
    check_fit_linreg_runs,
)
from bplab_checks.loss_checks import (
    check_loss_gradient,
    check_loss_shift_invariant,
    check_stable_loss,
    check_stable_loss_by_definition,
)
from bplab_checks.reference_checks import (
    check_matches_reference,
)
from bplab_checks.two_layer_checks import (
    bce,
    check_init_two_layer,
    check_two_layer_gradients,
    check_two_layer_predict,
    two_layer_probabilities,
)

__all__ = [
    "bce",
    "check_derivatives_numerically",
    "check_fit_linreg_runs",
    "check_init_two_layer",
    "check_loss_gradient",
    "check_loss_shift_invariant",
    "check_matches_reference",
    "check_numerical_gradient",
    "check_numerical_gradient_matches",
    "check_stable_loss",
    "check_stable_loss_by_definition",
    "check_two_layer_gradients",
    "check_two_layer_predict",
    "two_layer_probabilities",
]
