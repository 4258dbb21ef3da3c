"""The data model (bplab.grade.record): grader faults carry a cause, and the CLI's exit code
follows that cause, never the English text of the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from bplab.cli import main
from bplab.grade import command
from bplab.grade.record import (
    FAULT_CAUSES,
    FAULT_PREFIX,
    QuestionResult,
    Record,
    empty_questions,
)
from bplab.layout import GradingDir
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
MAX = {"MatMul": 4.0, "Sum": 2.0, "ReLU": 2.0}


def test_grader_fault_keeps_graded_questions_and_blanks_the_rest():
    record = Record("s", "s.ipynb", "graded",
                    questions=[QuestionResult("MatMul", 4.0, 4.0, "passed")])
    assert record.mark_grader_fault("sandbox", "the sandbox did not start", MAX) is record
    assert (record.status, record.cause) == ("grader_error", "sandbox")
    assert record.reason == FAULT_PREFIX + "the sandbox did not start"
    assert [(q.name, q.status) for q in record.questions] == [
        ("MatMul", "passed"), ("Sum", "grader_error"), ("ReLU", "grader_error")]
    assert record.score == 4.0
    assert record.to_dict()["cause"] == "sandbox"


def test_unknown_cause_is_refused():
    with pytest.raises(ValueError, match="cause"):
        Record("s", "s", "graded").mark_grader_fault("oops", "x", MAX)  # type: ignore[arg-type]


def test_empty_questions_follow_the_points_in_order():
    got = empty_questions(MAX, "not_graded", "why")
    assert [(q.name, q.max_score, q.score, q.note) for q in got] == [
        (n, m, 0.0, "why") for n, m in MAX.items()]


def _cli(monkeypatch, tmp_path, records: list[Record]) -> int:
    monkeypatch.setattr(command, "run_grade", lambda *a, **k: records)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["grade", "-a", "hw1", "--out", str(out),
                                       str(ROOT / "examples" / "hw1" / "full.ipynb")])
    return result.exit_code


@pytest.mark.parametrize("cause", FAULT_CAUSES)
def test_exit_code_comes_from_the_cause_not_the_text(monkeypatch, tmp_path, cause):
    # Every reason mentions "test files"; only the cause may decide.
    records = [Record("a", "a", "graded").mark_grader_fault(
        cause, "the test files could not be loaded (or so the text says)", MAX)]
    assert _cli(monkeypatch, tmp_path, records) == (1 if cause == "test_files" else 0)


def test_exit_code_1_when_some_submission_could_be_graded_is_0(monkeypatch, tmp_path):
    mixed = [Record("a", "a", "graded").mark_grader_fault("test_files", "x", MAX),
             Record("b", "b", "graded")]
    assert _cli(monkeypatch, tmp_path, mixed) == 0


def test_unloadable_test_files_are_a_grader_fault_for_every_submission(tmp_path):
    broken = tmp_path / "tests"
    broken.mkdir()
    (broken / "MatMul.py").write_text("this is not python(\n")
    out = tmp_path / "out"
    subs = [ROOT / "examples" / "hw1" / f"{s}.ipynb" for s in ("full", "blank")]
    records = command.run_grade("hw1", subs, out, tests_dir=broken, quiet=True)
    assert [(r.status, r.cause) for r in records] == [("grader_error", "test_files")] * 2
    assert all(r.reason.startswith(FAULT_PREFIX) for r in records)
    rows = GradingDir(out).grades_csv.read_text().splitlines()
    assert len(rows) == 3 and all(row.split(",")[2] == "" for row in rows[1:])
