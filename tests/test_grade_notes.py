"""Issue 11: a passing check's note (eps inside the square root in RMSprop and Adam) reaches
``bplab grade``'s feedback (``feedback/<stem>.md``, ``results/<stem>.json``) with no points
changed; the reference gets no note. Run in process through the grader's own question runner."""

from __future__ import annotations

import json

import pytest
from bplab.grade.outputs import feedback_markdown, results_json
from bplab.grade.record import Record
from bplab.grade.runner import _run_question
from bplab.grade.suite import Suite
from bplab.variants import variants
from checks_env import make_env, question_file
from otter.test_files import ExceptionTestFile

PLACEMENT = "eps inside the square root"


def _graded(question: str, source: str | None) -> tuple[float, float, str, str]:
    """Score, max, feedback markdown and results.json text of ``question`` alone."""
    tf = ExceptionTestFile.from_file(str(question_file("hw2", question)))
    result = _run_question(tf, make_env("hw2", sources=[source] if source else []))
    record = Record("s", "s.ipynb", "graded", questions=[result])
    suite = Suite("hw2", [tf])
    return (result.score, result.max_score, feedback_markdown(record, suite),
            json.dumps(results_json(record, suite)))


@pytest.mark.hw2
@pytest.mark.parametrize("question", ["RMSprop", "Adam"])
def test_eps_inside_the_root_gets_full_marks_and_a_note_naming_the_placement(question):
    (variant,) = [v for v in variants("hw2", correct=True)
                  if v.question == question and v.name == PLACEMENT]
    score, possible, markdown, results = _graded(question, variant.source)
    assert score == possible
    assert f"{question} puts eps inside the square root" in markdown
    assert f"{question} puts eps inside the square root" in results


@pytest.mark.hw2
@pytest.mark.parametrize("question", ["RMSprop", "Adam"])
def test_the_reference_gets_no_placement_note(question):
    score, possible, markdown, results = _graded(question, None)
    assert score == possible
    assert "square root" not in markdown and "square root" not in results
