"""The public cases alone (what students run, with the shipped library) still catch wrong
gradients: they check self-consistency along random directions, never against a full
per-entry numerical gradient (that is hw1's numerical_gradient answer, kept grader-only)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from bplab.variants import variants
from bplab_checks import check_block_consistency, check_numerical_gradient
from bplab_checks.tolerances import N_DIRECTIONS
from checks_env import run_question, variant_env

from solutions import hw1

TAG = re.compile(r"\(diagnosis: ([a-z0-9_]+)\)")
HW12_BUGS = variants("hw1", correct=False) + variants("hw2", correct=False)
BANK = {b.id: b for b in HW12_BUGS}

# Wrong gradients (and derivatives) that the public case of their question must fail by
# itself, with the diagnosis the bank names.
PUBLIC_CATCHES = [
    "hw1/chain_rule/dsin_x2 without the inner derivative's 2",
    "hw1/chain_rule/dcube with the wrong sign",
    "hw1/chain_rule/grad_square_sum d/dy missing 2",
    "hw1/numerical_gradient/divides by h instead of 2h",
    "hw1/MatMul/dB transposed",
    "hw1/MatMul/gradients returned as (dB, dA)",
    "hw1/MatMul/dA divided by the batch size",
    "hw1/MatMul/dout ignored",
    "hw1/Subtract/dB = +dout",
    "hw1/Subtract/gradients returned as (dB, dA)",
    "hw1/Square/dX = X * dout",
    "hw1/Square/dX = 2 X (dout ignored)",
    "hw1/Sum/backward returns ones (dout ignored)",
    "hw1/Sum/backward divides by the number of entries",
    "hw1/Sigmoid/backward with a minus sign",
    "hw1/ReLU/backward returns the mask (dout ignored)",
    "hw1/linreg_loss_and_grad/residual Y - X theta in the gradient",
    "hw1/linreg_loss_and_grad/gradient without the 2",
    "hw2/Add/db averaged over the batch",
    "hw2/Add/db = -sum(dout)",
    "hw2/Tanh/dout ignored",
    "hw2/mse_loss/gradient not divided by n",
    "hw2/mse_loss/gradient of y_true - y_pred",
    "hw2/bce_loss/dp with the wrong sign",
    "hw2/softmax_cross_entropy/dlogits not divided by N",
    "hw2/two_layer_loss/dW1 transposed",
]
# Wrong gradients with no usual name: the public case fails, without a diagnosis.
PUBLIC_CATCHES_UNNAMED = [
    "hw1/numerical_gradient/forward differences",
    "hw2/Tanh/derivative 1 - out instead of 1 - out**2",
    "hw2/LeakyReLU/backward forgets the leak",
    "hw2/softmax_cross_entropy/one-hot not subtracted",
    "hw2/two_layer_loss/ReLU backward skipped",
]


def _public_failures(bug) -> list[str]:
    test_file = run_question(bug.hw, bug.question, variant_env(bug))
    return [r.message for r in test_file.test_case_results
            if not r.test_case.hidden and not r.passed]


@pytest.mark.parametrize("bug_id", [pytest.param(b, marks=getattr(pytest.mark, b[:3]), id=b)
                                    for b in PUBLIC_CATCHES + PUBLIC_CATCHES_UNNAMED])
def test_public_case_alone_catches_a_wrong_gradient(bug_id):
    bug = BANK[bug_id]
    failures = _public_failures(bug)
    assert failures, f"{bug_id}: the public cases passed"
    codes = [c for m in failures for c in TAG.findall(m)]
    if bug_id in PUBLIC_CATCHES:
        assert bug.code in codes, "\n".join(failures)
    else:
        assert codes == [], "\n".join(failures)
    assert "Traceback" not in "\n".join(failures)


class MatMulSquareDBTransposed(hw1.MatMul):
    @staticmethod
    def backward(dout, cache):
        A, B = cache
        return dout @ B.T, (A.T @ dout).T  # right shape when B is square: only values tell


class SigmoidWrongSign(hw1.Sigmoid):
    @staticmethod
    def backward(dout, cache):
        dX = hw1.Sigmoid.backward(dout, cache)
        return (-np.asarray(dX[0] if isinstance(dX, tuple | list) else dX),)


@pytest.mark.hw1
def test_directional_message_names_the_gradient_the_values_and_the_error():
    with pytest.raises(AssertionError) as info:
        check_block_consistency(MatMulSquareDBTransposed, "MatMul", {"A": (3, 4), "B": (4, 4)},
                                out_shape=(3, 4))
    message = str(info.value)
    first, checked, numbers = message.splitlines()
    assert first.endswith("(diagnosis: transposed)") and "dB" in first
    assert checked.startswith("Checked: MatMul.backward") and "A (3, 4), B (4, 4)" in checked
    assert "random dout (3, 4)" in checked
    assert numbers.startswith("dB: relative error ")
    assert "(f(B + h v) - f(B - h v)) / 2h" in numbers and "<dB, v>" in numbers
    assert f"{N_DIRECTIONS} random unit directions" in numbers
    assert "sum(MatMul.forward(A, B) * dout)" in numbers
    yours, central = re.findall(r"= \[([^\]]*)\]", numbers)
    assert len(yours.split(", ")) == len(central.split(", ")) == N_DIRECTIONS
    check_block_consistency(hw1.MatMul, "MatMul", {"A": (3, 4), "B": (4, 4)}, out_shape=(3, 4))


@pytest.mark.hw1
def test_sigmoid_wrong_sign_is_caught_by_the_directional_check_alone():
    with pytest.raises(AssertionError, match=r"dX .*\(diagnosis: wrong_sign\)"):
        check_block_consistency(SigmoidWrongSign, "Sigmoid", {"X": (3, 4)}, out_shape=(3, 4))


@pytest.mark.hw1
def test_public_numerical_gradient_check_uses_an_exact_gradient():
    """The reference passes; a numerical gradient of another function, or with another step
    rule, fails; so does one that is right but returns float32."""
    check_numerical_gradient(hw1.numerical_gradient)
    check_numerical_gradient(hw1.numerical_gradient, shape=(2, 3, 2), seed=4)

    def other_function(f, x, h=1e-5):
        return hw1.numerical_gradient(lambda z: f(z) + float(np.sum(z)), x, h)

    def coarse(f, x, h=1e-5):
        return hw1.numerical_gradient(f, x, h=1e-2)

    for wrong in (other_function, coarse):
        with pytest.raises(AssertionError, match="exact gradient"):
            check_numerical_gradient(wrong)
    with pytest.raises(AssertionError, match="float64"):
        check_numerical_gradient(lambda f, x, h=1e-5: hw1.numerical_gradient(f, x).astype("f4"))


@pytest.mark.hw2
@pytest.mark.parametrize(("seed", "n"), [(0, 6), (1, 1), (2, 9)])
def test_check_library_network_is_the_reference_network(seed, n):
    # The public two-layer and training checks judge against bplab_checks' own forward pass and
    # loss; they must be the assignment's (solutions/hw2.py), including a one-row batch and
    # logits large enough to saturate the sigmoid.
    from bplab_checks.cases import two_layer_data, two_layer_params
    from bplab_checks.functions import bce, two_layer_probabilities

    from solutions import hw2

    params = two_layer_params(seed, 4, 5)
    X, y = two_layer_data(seed, n, 4)
    for scale in (1.0, 40.0):
        p = two_layer_probabilities(params, X * scale)
        np.testing.assert_allclose(p, hw2.two_layer_predict(params, X * scale), rtol=1e-12)
        assert bce(p, y) == pytest.approx(float(hw2.bce_loss(p, y)[0]), rel=1e-12)
        assert bce(p, y) == pytest.approx(float(hw2.two_layer_loss(params, X * scale, y)[0]),
                                          rel=1e-9)
    # The pin can fail: a forward pass without the second bias differs.
    assert not np.allclose(two_layer_probabilities({**params, "b2": 0 * params["b2"]}, X),
                           hw2.two_layer_predict(params, X))


# The contract's stated rules (docs/contract.md, general rules): no mutation of inputs, dout or
# cache; relu'(0) = 0; mean vs sum; a forward that does not overflow for |x| up to 1000.
STATED_RULES = {"mutates_input", "mutates_dout", "mutates_cache", "relu_at_zero", "overflow",
                "sum_instead_of_mean", "mean_instead_of_sum"}
STATED_RULE_BUGS = [b for b in HW12_BUGS if b.code in STATED_RULES]


def test_the_bank_plants_every_stated_rule():
    assert {b.code for b in STATED_RULE_BUGS} == STATED_RULES


@pytest.mark.parametrize("bug", [pytest.param(b, id=b.id, marks=getattr(pytest.mark, b.hw))
                                 for b in STATED_RULE_BUGS])
def test_every_stated_rule_bug_fails_a_public_case(bug):
    # "All public checks pass" means no stated rule is broken: hidden cases differ only in
    # their inputs.
    failures = _public_failures(bug)
    assert failures, f"{bug.id}: every public case passed"
    assert bug.code in [c for m in failures for c in TAG.findall(m)], "\n".join(failures)


@pytest.mark.parametrize(("bug_id", "dependent", "callee"), [
    pytest.param("hw1/MatMul/dB transposed", "linreg_loss_and_grad", "MatMul",
                 marks=pytest.mark.hw1),
    pytest.param("hw1/linreg_loss_and_grad/gradient without the 2", "fit_linreg",
                 "linreg_loss_and_grad", marks=pytest.mark.hw1),
    pytest.param("hw2/Add/db not summed over the batch", "two_layer_loss", "Add",
                 marks=pytest.mark.hw2),
    pytest.param("hw2/SGD/steps uphill", "train_two_layer", "SGD", marks=pytest.mark.hw2),
])
def test_a_dependent_names_the_failing_callee_first(bug_id, dependent, callee):
    bug = BANK[bug_id]
    test_file = run_question(bug.hw, dependent, variant_env(bug))
    public = [r for r in test_file.test_case_results if not r.test_case.hidden]
    failed = [r.message for r in public if not r.passed]
    assert failed, f"{bug_id}: the public cases of {dependent} passed"
    for message in failed:
        assert f"{callee} fails its own check: fix it first" in message, message
    # ... and hidden cases, run with the reference callee, keep their points.
    assert all(r.passed for r in test_file.test_case_results if r.test_case.hidden)



@pytest.mark.hw2
def test_a_squeeze_bug_in_two_layer_loss_fails_the_one_row_case_alone():
    # A one-row batch is a stated rule, so its case is public: the squeezed dz1 is right for
    # every batch of 2 or more rows (all the hidden cases), so that case alone catches it.
    bug = BANK["hw2/two_layer_loss/dz1 squeezed before db1 (only a one-row batch shows it)"]
    test_file = run_question(bug.hw, bug.question, variant_env(bug))
    failed = [r.test_case.name for r in test_file.test_case_results if not r.passed]
    assert failed == ["two_layer_loss: one-row batch"]
    assert test_file.score < test_file.possible
