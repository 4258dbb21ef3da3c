"""Trusted gradient checks and comparisons used by the test files (numpy only; shipped).

Test files import the public checks from here; hidden cases additionally import the
reference (``from solutions import hw1``) inside their bodies only.

Grader-only modules (``bplab.build.GRADER_ONLY_CHECKS``, e.g. ``numgrad``: full per-entry
numerical gradients, the answer to hw1's ``numerical_gradient``) are not shipped to students:
nothing imported here, and no public case, may import them.
"""

from bplab_checks.blocks import (
    check_block_at_zero,
    check_block_at_zero_by_definition,
    check_block_consistency,
    check_block_matches_reference,
    check_block_no_mutation,
    check_block_stable,
    check_block_stable_by_definition,
)
from bplab_checks.callees import callees_first, trusted_argument, trusted_callees
from bplab_checks.cases import (
    bce_cases,
    bce_edge_case,
    chain_rule_cases,
    clip_cases,
    fit_linreg_cases,
    init_two_layer_cases,
    linreg_cases,
    mse_cases,
    one_row_case,
    schedule_cases,
    softmax_cases,
    softmax_edge_case,
    two_layer_loss_cases,
    two_layer_predict_cases,
)
from bplab_checks.functions import (
    check_derivatives_numerically,
    check_fit_linreg_runs,
    check_init_two_layer,
    check_loss_gradient,
    check_loss_shift_invariant,
    check_matches_reference,
    check_numerical_gradient,
    check_numerical_gradient_matches,
    check_stable_loss,
    check_stable_loss_by_definition,
    check_two_layer_gradients,
    check_two_layer_predict,
)
from bplab_checks.gradcheck import directional_check, directional_derivatives, rel_error
from bplab_checks.optim import (
    check_clip_grad_norm_sane,
    check_optimizer_cases,
    check_optimizer_instances,
    check_optimizer_step,
    check_schedules_sane,
)
from bplab_checks.training import (
    check_history_is_the_mean_loss,
    check_reaches_validation_bar,
    check_seed_decides_everything,
    check_trains_small_problem,
)

__all__ = [
    "bce_cases",
    "bce_edge_case",
    "callees_first",
    "chain_rule_cases",
    "check_block_at_zero",
    "check_block_at_zero_by_definition",
    "check_block_consistency",
    "check_block_matches_reference",
    "check_block_no_mutation",
    "check_block_stable",
    "check_block_stable_by_definition",
    "check_clip_grad_norm_sane",
    "check_derivatives_numerically",
    "check_fit_linreg_runs",
    "check_history_is_the_mean_loss",
    "check_init_two_layer",
    "check_loss_gradient",
    "check_loss_shift_invariant",
    "check_matches_reference",
    "check_numerical_gradient",
    "check_numerical_gradient_matches",
    "check_optimizer_cases",
    "check_optimizer_instances",
    "check_optimizer_step",
    "check_reaches_validation_bar",
    "check_schedules_sane",
    "check_seed_decides_everything",
    "check_stable_loss",
    "check_stable_loss_by_definition",
    "check_trains_small_problem",
    "check_two_layer_gradients",
    "check_two_layer_predict",
    "clip_cases",
    "directional_check",
    "directional_derivatives",
    "fit_linreg_cases",
    "init_two_layer_cases",
    "linreg_cases",
    "mse_cases",
    "one_row_case",
    "rel_error",
    "schedule_cases",
    "trusted_argument",
    "trusted_callees",
    "softmax_cases",
    "softmax_edge_case",
    "two_layer_loss_cases",
    "two_layer_predict_cases",
]
