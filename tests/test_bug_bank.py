"""The bank of variants (``bplab.variants``, ``examples/hwN/variants.py``) through the real test
files (``autograder/hwN/<question>.py``), in process: every planted bug loses points on its
question with exactly the diagnosis the bank names (and never shows a hidden expected value or
a traceback), costs points on no other question but those it ``affects`` (and never their
hidden points), and every correct variant gets full marks with no diagnosis. The reference
itself: tests/test_question_files.py."""

from __future__ import annotations

import re

import pytest
from bplab.layout import Assignment
from bplab.variants import Variant, VariantError, apply_edits, load_variants, planted, variants
from bplab_checks.tag import codes_in
from checks_env import QUESTIONS, ROOT, failures, make_env, run_question, variant_env

BANK = variants()
BUGS = [v for v in BANK if not v.correct]
CORRECT = [v for v in BANK if v.correct]
# A hidden case's feedback never shows an expected value.
EXPECTED_VALUE = re.compile(r"\(expected( -?[0-9.])?")


def _params(chosen: list[Variant]) -> list:
    return [pytest.param(v, id=v.id, marks=getattr(pytest.mark, v.hw)) for v in chosen]


def test_bank_is_large_and_covers_every_homework():
    assert len(BUGS) >= 120 and len(CORRECT) >= 50
    assert {v.hw for v in BUGS} == {v.hw for v in CORRECT} == set(QUESTIONS)
    assert len({v.id for v in BANK}) == len(BANK), "variant names must be unique per question"
    for v in BANK:
        assert v.question in QUESTIONS[v.hw], v.id
        assert set(v.affects) <= set(QUESTIONS[v.hw]) - {v.question}, v.id


@pytest.mark.parametrize("planted_bug", _params(BUGS))
def test_planted_bug_is_diagnosed(planted_bug):
    test_file = run_question(planted_bug.hw, planted_bug.question, variant_env(planted_bug))
    messages = failures(test_file)
    assert messages, f"{planted_bug.id}: no test case failed"
    assert test_file.score < test_file.possible, f"{planted_bug.id}: no points lost"
    for result in test_file.test_case_results:
        if result.test_case.hidden and not result.passed:
            assert not EXPECTED_VALUE.search(result.message), "a hidden case showed a value"
    text = "\n".join(messages)
    assert "Traceback" not in text
    codes = [c for message in messages for c in codes_in(message)]
    if planted_bug.code is None:
        assert codes == [], f"{planted_bug.id}: unexpected diagnoses {codes}\n{text}"
    else:
        assert planted_bug.code in codes, (
            f"{planted_bug.id}: expected diagnosis {planted_bug.code}, got {codes}\n{text}")


@pytest.mark.parametrize("variant", _params(CORRECT))
def test_correct_variant_gets_full_marks_and_no_diagnosis(variant):
    test_file = run_question(variant.hw, variant.question, variant_env(variant))
    assert failures(test_file) == [], f"{variant.id} lost points"
    assert test_file.score == test_file.possible


# The questions whose code calls other graded definitions (docs/contract.md: a bug costs points
# once); no hw3 question calls another, so there every other question is checked.
DEPENDENTS = {"hw1": ("linreg_loss_and_grad", "fit_linreg", "fan_out"),
              "hw2": ("two_layer_loss", "train_two_layer"),
              "hw3": tuple(QUESTIONS["hw3"])}


@pytest.mark.parametrize("planted_bug", _params(BUGS))
def test_a_bug_costs_points_only_where_the_bank_says(planted_bug):
    # Hidden checks of a dependent run it with the reference versions of what it calls, so they
    # keep their points; its public checks say "fix it first" (the bug's ``affects``).
    env = variant_env(planted_bug)
    losing = set()
    for question in DEPENDENTS[planted_bug.hw]:
        if question == planted_bug.question:
            continue
        test_file = run_question(planted_bug.hw, question, dict(env))
        lost = [r.test_case.name for r in test_file.test_case_results
                if r.test_case.hidden and not r.passed]
        assert lost == [], f"{planted_bug.id} costs hidden points on {question}: {lost}"
        if test_file.score < test_file.possible:
            losing.add(question)
    assert losing == set(planted_bug.affects) & set(DEPENDENTS[planted_bug.hw]), planted_bug.id


@pytest.mark.hw1
def test_a_failure_is_explained_once_with_the_cases_it_affects():
    from bplab_checks.explained import group_failures

    (bug,) = [b for b in BUGS if b.id == "hw1/Subtract/negates dout in place"]
    test_file = run_question("hw1", "Subtract", variant_env(bug))
    failed = [(r.test_case.name, r.message) for r in test_file.test_case_results if not r.passed]
    groups = group_failures(failed)
    # The mutation fails the public and the hidden rule case with one explanation: told once.
    assert len(groups) < len(failed)
    told = [g for g in groups if "(diagnosis: mutates_dout)" in g[0]]
    assert len(told) == 1 and len(told[0][1]) >= 2, groups
    # Different explanations are never merged.
    other = [("a", "AssertionError: dA is wrong"), ("b", "AssertionError: dB is wrong")]
    assert [names for _, names in group_failures(other)] == [["a"], ["b"]]


# ---- the format ------------------------------------------------------------------------------


def test_most_variants_are_edits_of_the_reference():
    edits = [v for v in BANK if v.replace]
    assert len(edits) >= 0.6 * len(BANK), f"{len(edits)} of {len(BANK)} are edits"
    assert len([v for v in BUGS if v.replace]) >= 0.9 * len(BUGS)


def test_an_edit_that_no_longer_applies_exactly_once_fails_loudly():
    reference = "def f(x):\n    y = x + 1\n    return y + 1\n"
    assert apply_edits(reference, (("x + 1", "x - 1"),), "f") == (
        "def f(x):\n    y = x - 1\n    return y + 1\n")
    for old in ("+ 1", "x * 2"):  # twice, never
        with pytest.raises(VariantError, match="exactly once"):
            apply_edits(reference, ((old, "0"),), "f")


def test_a_bank_entry_that_cannot_be_built_stops_the_load(tmp_path):
    import shutil

    (tmp_path / "solutions").mkdir()
    shutil.copy(ROOT / "solutions" / "hw1.py", tmp_path / "solutions")
    hw = Assignment.named("hw1", tmp_path)
    hw.examples_dir.mkdir(parents=True)
    good = 'planted("Sum", "ones", None, replace=[("float(dout)", "1.0")])'
    bad = {
        'planted("Sum", "gone", None, replace=[("no such text", "x")])': "exactly once",
        'planted("Sum", "none", None)': "either replace edits or a whole source",
        'planted("Sum", "two", None, source="def a(): pass\\ndef b(): pass")': "one top-level",
        'planted("Sum", "who", None, define="Nope", replace=[("a", "b")])': "no definition",
        f"{good}, {good}": "share this name",
    }
    head = "from bplab.variants import planted\nVARIANTS = [{}]\n"
    hw.variants.write_text(head.format(good))
    assert [v.define for v in load_variants(hw)] == ["Sum"]
    for entries, message in bad.items():
        hw.variants.write_text(head.format(entries))
        with pytest.raises(VariantError, match=message):
            load_variants(hw)
    assert planted("Sum", "x", None).correct is False


def test_every_example_notebook_is_a_bank_bug():
    for hw in QUESTIONS:
        stems = {p.stem for p in Assignment.named(hw, ROOT).example_notebooks()}
        examples = {v.example for v in variants(hw) if v.example is not None}
        assert examples and examples == stems - {"full", "blank"}, hw
        assert all(not v.correct for v in variants(hw) if v.example is not None)


def test_the_environment_runs_variant_cells_after_the_reference():
    (bug,) = [b for b in BUGS if b.id == "hw1/MatMul/dB transposed"]
    env = variant_env(bug)
    assert env["MatMul"] is not make_env("hw1")["MatMul"]
    # linreg_loss_and_grad, defined before, calls the variant through the notebook's globals.
    assert "dout.T @ A" in bug.source and run_question("hw1", "linreg_loss_and_grad", env).score \
        < run_question("hw1", "linreg_loss_and_grad", make_env("hw1")).score
