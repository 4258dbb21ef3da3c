"""End to end with Otter itself: ``otter run -a dist/hwN/autograder.zip`` on the bundled examples.

The full solution gets every point, the blank notebook none (without crashing the grader), and
each single-bug notebook loses points exactly on the questions its bug touches.
"""

import json
import os
import subprocess
import sys
import zipfile

import pytest
from bplab import demo
from bplab.build import build
from bplab.examples import BLANK, FULL, example_variants, render_examples
from bplab.grade.record import QuestionResult, Record, Status
from bplab.layout import Assignment
from bplab.otter_run import question_scores
from fake_assignment import make_fake_repo

EXAMPLES = [(a.name, p.stem) for a in Assignment.all() if a.test_files()
            for p in a.example_notebooks()]


@pytest.mark.slow
@pytest.mark.parametrize("hw, example", EXAMPLES, ids=[f"{h}-{e}" for h, e in EXAMPLES])
def test_example_scores_as_designed(otter_results, hw, example):
    """Each example, run once by otter run in the session (conftest.py ``otter_results``)."""
    assignment = Assignment.named(hw)
    questions = {p.stem for p in assignment.test_files()}
    result = otter_results[(hw, example)]
    assert set(result.scores) == questions, result.log[-3000:]
    assert all(possible > 0 for _, possible in result.scores.values())
    bugs = example_variants(assignment)
    if example == FULL:
        assert result.losing() == set(), result.results
    elif example == BLANK:
        assert all(score == 0 for score, _ in result.scores.values()), result.scores
    elif example in bugs:
        assert result.losing() == set(bugs[example].losing), (bugs[example].why, result.scores)
    else:
        pytest.skip(f"{example} has no declared expectation")


@pytest.mark.slow
def test_gradescope_entry_point_grades_a_submission(tmp_path):
    """run_autograder, as Gradescope calls it, on a fake /autograder tree (hidden case included)."""
    hw = make_fake_repo(tmp_path / "repo")
    release = build(hw, tmp_path / "dist")
    root = tmp_path / "autograder"
    for sub in ("source", "submission", "results"):
        (root / sub).mkdir(parents=True)
    (root / "submission_metadata.json").write_text("{}")
    with zipfile.ZipFile(release.autograder_zip) as zf:
        zf.extractall(root / "source")
    (root / "submission" / "hw1.ipynb").write_text(
        render_examples(hw)["bug_matmul_db_transposed.ipynb"]
    )
    env = dict(os.environ, BPLAB_PYTHON=sys.executable, BPLAB_AUTOGRADER_ROOT=str(root))
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((root / "results" / "results.json").read_text())
    # The public case passes; the hidden case, which imports files/solutions, catches the bug.
    assert question_scores(results) == {"MatMul": (1.0, 2.0)}


def _fake_record(name: str, scores: dict[str, tuple[float, float]],
                 status: Status = "graded") -> Record:
    questions = [QuestionResult(q, got, top, "passed" if got >= top else "failed")
                 for q, (got, top) in scores.items()]
    return Record(name, f"{name}.ipynb", status, questions=questions)


def test_demo_flags_an_example_that_scores_wrongly():
    hw1 = Assignment.named("hw1")
    stem, bug = next(iter(example_variants(hw1).items()))
    questions = sorted({bug.question, *bug.affects, "other"})
    full = {q: (2.0, 2.0) for q in questions}
    right = {q: ((0.5, 2.0) if q in bug.losing else (2.0, 2.0)) for q in questions}
    wrong = {q: (2.0, 2.0) for q in questions}  # the bug went unnoticed
    fine = [_fake_record(FULL, full), _fake_record(stem, right)]
    assert demo.surprises(hw1, fine, questions) == []
    assert len(demo.surprises(hw1, [_fake_record(stem, wrong)], questions)) == 1
    blank_graded_fully = _fake_record(BLANK, full)
    assert len(demo.surprises(hw1, [blank_graded_fully], questions)) == 1
    crashed = _fake_record(FULL, {}, status="grader_error")
    assert len(demo.surprises(hw1, [crashed], questions)) == 1
