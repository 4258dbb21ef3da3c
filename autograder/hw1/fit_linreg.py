"""fit_linreg: full-batch gradient descent on linear regression."""

from bplab_checks import check_fit_linreg_runs, check_matches_reference, fit_linreg_cases
from otter.test_files import test_case

OK_FORMAT = False
name = "fit_linreg"
points = 3


@test_case(name="fit_linreg: runs and decreases the loss", hidden=False)
def runs_and_decreases_the_loss(fit_linreg):
    check_fit_linreg_runs(fit_linreg)


@test_case(name="fit_linreg: matches reference", hidden=True)
def matches_reference(fit_linreg):
    from solutions.hw1 import fit_linreg as reference

    check_matches_reference(
        fit_linreg, reference, "fit_linreg", fit_linreg_cases(), ("theta", "losses")
    )
