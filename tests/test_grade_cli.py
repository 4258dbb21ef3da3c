"""``bplab grade`` end to end: the command line, its outputs, and parity with ``otter run``."""

from __future__ import annotations

import csv
import json
from html import escape as html_escape
from pathlib import Path

import pytest
from bplab.cli import main
from bplab.layout import Assignment, GradingDir
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]


def examples(assignment: str) -> list[Path]:
    return Assignment.named(assignment).example_notebooks()


@pytest.fixture(params=[a.name for a in Assignment.all()])
def graded(request, bplab_graded):
    """Every bundled example of one assignment, graded once per session (conftest.py)."""
    folder, output = bplab_graded(request.param)
    return folder, output, request.param


def test_writes_one_row_result_and_feedback_per_submission(graded):
    out, output, assignment = graded
    EXAMPLES = examples(assignment)
    rows = list(csv.DictReader(out.grades_csv.open()))
    assert [r["submission"] for r in rows] == [p.stem for p in EXAMPLES]
    assert list(rows[0])[:4] == ["submission", "status", "score", "max_score"]
    by_stem = {r["submission"]: r for r in rows}
    assert by_stem["full"]["score"] == by_stem["full"]["max_score"]
    assert float(by_stem["blank"]["score"]) == 0
    for p in EXAMPLES:
        data = json.loads(out.results(p.stem).read_text())
        assert {"score", "tests", "extra_data"} <= set(data)
        assert set(data["extra_data"]["bplab"]) == {
            "status", "reason", "isolation", "diagnoses", "assignment", "question_status",
            "identity", "flags", "locators", "language"}
        for t in data["tests"]:
            assert set(t) == {"name", "score", "max_score", "status", "output", "visibility"}
        assert out.feedback(p.stem).read_text().startswith(
            f"# {assignment} feedback")
        assert f"<h1>{assignment} feedback" in out.feedback_html(p.stem).read_text()
    assert "isolation:" in output


def test_diagnoses_are_collected_per_question(graded):
    out, _, assignment = graded
    if assignment == "hw1":
        data = json.loads(out.results("bug_matmul_db_transposed").read_text())
        assert "MatMul" in data["extra_data"]["bplab"]["diagnoses"]
    blank = json.loads(out.results("blank").read_text())
    assert all(codes == ["not_implemented"]
               for codes in blank["extra_data"]["bplab"]["diagnoses"].values())


def test_questions_come_in_notebook_order(graded):
    # Issue 11: feedback, results and grades.csv list questions as the notebook asks them, not
    # by file name (hw1's chain_rule comes before MatMul, though "M" sorts before "c").
    out, _, assignment = graded
    order = Assignment.named(assignment).question_order()
    assert order and order != sorted(order)
    columns = list(csv.DictReader(out.grades_csv.open()).fieldnames or [])
    fixed = len(GradingDir.GRADES_COLUMNS)
    assert columns[fixed:fixed + len(order)] == order
    feedback = out.feedback("full").read_text()
    headings = [line[3:].split(":", 1)[0] for line in feedback.splitlines()
                if line.startswith("## ") and line[3:].split(":", 1)[0] in order]
    assert headings == order


@pytest.mark.slow
def test_same_scores_as_otter_run(graded, otter_results):
    out, _, assignment = graded
    for path in examples(assignment):
        result = otter_results[(assignment, path.stem)]
        ours = json.loads(out.results(path.stem).read_text())
        mine = {t["name"]: (t["score"], t["max_score"]) for t in ours["tests"]}
        assert result.scores, result.log[-2000:]
        assert mine.keys() == result.scores.keys()
        for q, (score, possible) in result.scores.items():
            # Otter rounds scores in results.json to a few decimals.
            assert mine[q] == pytest.approx((score, possible), abs=1e-4), f"{path.stem}: {q}"


def test_report_and_roster_options_write_the_report_and_list_missing_students(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("email,name\nfull,Ada\nblank,Bo\nabsent,Cy\n")
    out = tmp_path / "out"
    subs = [ROOT / "examples" / "hw1" / f"{stem}.ipynb" for stem in ("full", "blank")]
    result = CliRunner().invoke(main, ["grade", "-a", "hw1", "--out", str(out), "-j", "1",
                                       "--roster", str(roster), "--roster-id", "email",
                                       *map(str, subs)])
    assert result.exit_code == 0, result.output
    assert GradingDir(out).report_html.name in result.output
    html = GradingDir(out).report_html.read_text()
    assert "full" in html and "blank" in html
    rows = {r["email"]: r for r in csv.DictReader(GradingDir(out).roster_csv.open())}
    assert rows["absent"]["status"] == "missing"
    assert rows["full"]["status"] == "graded"


def test_roster_without_its_id_column_is_a_usage_error(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("email\nfull\n")
    result = CliRunner().invoke(main, ["grade", "-a", "hw1", "--out", str(tmp_path / "o"),
                                       "--roster", str(roster),
                                       str(ROOT / "examples" / "hw1" / "full.ipynb")])
    assert result.exit_code != 0 and "--roster-id" in result.output


def test_report_of_the_graded_examples_names_every_submission_and_diagnosis(graded):
    from bplab.report import write_report
    from bplab_checks.diagnose import CODES

    out, _, assignment = graded
    html = write_report(out.root).read_text()
    for path in examples(assignment):
        assert path.stem in html
    found = set()
    for path in out.results_dir.glob("*.json"):
        diagnoses = json.loads(path.read_text())["extra_data"]["bplab"]["diagnoses"]
        found |= {code for codes in diagnoses.values() for code in codes}
    assert "not_implemented" in found  # the blank notebook
    for code in found:
        assert html_escape(CODES[code]) in html, code


def test_record_files_stay_bounded_whatever_the_record_holds():
    """Issue 10: a record's results and feedback have a bounded size (capped per item)."""
    from bplab.grade.outputs import MAX_TEXT, feedback_html, feedback_markdown, results_json
    from bplab.grade.record import CaseOutcome, QuestionResult, Record
    from bplab.grade.suite import Suite

    class _File:
        name, possible = "MatMul", 4

    suite = Suite("hw1", [_File()])
    huge = "x" * (50 * MAX_TEXT)
    record = Record("s", "s.ipynb", "graded", reason=huge, cell_notes=[huge] * 3, questions=[
        QuestionResult("MatMul", 0.0, 4.0, "failed", note=huge,
                       cases=[CaseOutcome(f"c{i}", False, False, 1.0, huge) for i in range(3)])])
    size = len(json.dumps(results_json(record, suite)))
    markdown = feedback_markdown(record, suite)
    assert size < 20 * MAX_TEXT and len(markdown) < 20 * MAX_TEXT
    assert "more characters cut" in markdown
    assert len(feedback_html(markdown, "t")) < 25 * MAX_TEXT
