"""The bug bank through the real test files: every planted mistake loses points on its question
and gets exactly the diagnosis the bank says (tests/bugs/). The reference itself loses nothing
and gets no diagnosis, which is what "a correct solution is never diagnosed" means end to end."""

from __future__ import annotations

import pytest
from bplab.layout import Assignment
from bplab_checks.tag import codes_in
from bugs import ROOT, environment, run_question
from bugs.correct import CORRECT
from bugs.hw1 import BUGS as HW1_BUGS
from bugs.hw2 import BUGS as HW2_BUGS
from bugs.hw3 import BUGS as HW3_BUGS
from bugs.hw3 import CORRECT as HW3_CORRECT

BUGS = HW1_BUGS + HW2_BUGS + HW3_BUGS
HOMEWORKS = ("hw1", "hw2", "hw3")


def _failures(test_file) -> list[str]:
    return [r.message for r in test_file.test_case_results if not r.passed]


def test_bank_is_large_and_covers_both_homeworks():
    assert len(BUGS) >= 40
    assert {b.hw for b in BUGS} == set(HOMEWORKS)
    assert len(HW3_BUGS) >= 15 and len(HW3_CORRECT) >= 8
    assert len({b.id for b in BUGS}) == len(BUGS), "bug names must be unique per question"


def _questions(hw: str) -> list[str]:
    return [p.stem for p in Assignment.named(hw, ROOT).test_files()]


@pytest.mark.parametrize(
    ("hw", "question"),
    [pytest.param(hw, q, marks=getattr(pytest.mark, hw)) for hw in HOMEWORKS
     for q in _questions(hw)],
)
def test_reference_gets_full_marks_and_no_diagnosis(hw, question):
    test_file = run_question(hw, question, environment(hw))
    assert _failures(test_file) == []
    assert test_file.grade == 1.0


@pytest.mark.parametrize("planted", [pytest.param(b, id=b.id, marks=getattr(pytest.mark, b.hw))
                                     for b in BUGS])
def test_planted_bug_is_diagnosed(planted):
    test_file = run_question(planted.hw, planted.question,
                             environment(planted.hw, planted.source))
    failures = _failures(test_file)
    assert failures, f"{planted.id}: no test case failed"
    assert test_file.score < test_file.possible, f"{planted.id}: no points lost"
    for result in test_file.test_case_results:
        if result.test_case.hidden and not result.passed:
            assert "(expected " not in result.message, "a hidden case showed an expected value"
    codes = [c for message in failures for c in codes_in(message)]
    if planted.code is None:
        assert codes == [], f"{planted.id}: unexpected diagnoses {codes}\n" + "\n".join(failures)
    else:
        assert planted.code in codes, (
            f"{planted.id}: expected diagnosis {planted.code}, got {codes}\n" + "\n".join(failures)
        )


@pytest.mark.parametrize("variant", [pytest.param(v, id=v.id, marks=getattr(pytest.mark, v.hw))
                                     for v in CORRECT + HW3_CORRECT])
def test_correct_variant_gets_full_marks_and_no_diagnosis(variant):
    test_file = run_question(variant.hw, variant.question,
                             environment(variant.hw, variant.source))
    assert _failures(test_file) == [], f"{variant.id} lost points"
    assert test_file.grade == 1.0


# Questions whose code calls other graded definitions (docs/contract.md: a bug costs points once).
DEPENDENTS = {"hw1": ("linreg_loss_and_grad", "fit_linreg", "fan_out"),
              "hw2": ("two_layer_loss", "train_two_layer")}


@pytest.mark.parametrize("planted", [pytest.param(b, id=b.id, marks=getattr(pytest.mark, b.hw))
                                     for b in BUGS])
def test_a_bug_costs_hidden_points_on_its_own_question_only(planted):
    # Hidden checks of a dependent run it with the reference versions of what it calls.
    env = environment(planted.hw, planted.source)
    for question in DEPENDENTS.get(planted.hw, ()):  # hw3: tests/test_hw3_* own theirs
        if question == planted.question:
            continue
        test_file = run_question(planted.hw, question, dict(env))
        lost = [r.test_case.name for r in test_file.test_case_results
                if r.test_case.hidden and not r.passed]
        assert lost == [], f"{planted.id} costs hidden points on {question}: {lost}"


@pytest.mark.hw1
def test_a_failure_is_explained_once_with_the_cases_it_affects():
    from bplab_checks.explained import group_failures

    planted = next(b for b in BUGS if b.id == "hw1/Subtract/negates dout in place")
    test_file = run_question("hw1", "Subtract", environment("hw1", planted.source))
    failed = [(r.test_case.name, r.message) for r in test_file.test_case_results if not r.passed]
    groups = group_failures(failed)
    # The mutation fails the public and the hidden rule case with one explanation: told once.
    assert len(groups) < len(failed)
    told = [g for g in groups if "(diagnosis: mutates_dout)" in g[0]]
    assert len(told) == 1 and len(told[0][1]) >= 2, groups
    # Different explanations are never merged.
    other = [("a", "AssertionError: dA is wrong"), ("b", "AssertionError: dB is wrong")]
    assert [names for _, names in group_failures(other)] == [["a"], ["b"]]
