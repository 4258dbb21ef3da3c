"""bplab.layout: which assignments exist, their example and test files, a grading folder's paths."""

from __future__ import annotations

from pathlib import Path

from bplab.layout import Assignment, GradingDir, question_files


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")
    return path


def test_all_lists_assignments_with_a_notebook_in_number_order(tmp_path):
    for name in ("hw10", "hw2", "hw1"):
        _touch(tmp_path / "assignments" / name / f"{name}.ipynb")
    (tmp_path / "assignments" / "hw3" / "data").mkdir(parents=True)  # no notebook yet
    (tmp_path / "assignments" / "notes").mkdir()
    assert [a.name for a in Assignment.all(tmp_path)] == ["hw1", "hw2", "hw10"]
    assert Assignment.all(tmp_path / "nowhere") == []


def test_example_notebooks_and_question_files(tmp_path):
    hw = Assignment.named("hw1", tmp_path)
    assert hw.example_notebooks() == [] and hw.test_files() == []
    b, a = _touch(hw.examples_dir / "b.ipynb"), _touch(hw.examples_dir / "a.ipynb")
    _touch(hw.variants)
    assert hw.example_notebooks() == [a, b]
    keep = [_touch(hw.tests_dir / "Sum.py"), _touch(hw.tests_dir / "MatMul.py")]
    _touch(hw.tests_dir / "_helpers.py")
    assert hw.test_files() == question_files(hw.tests_dir) == sorted(keep)


def test_grading_dir_paths(tmp_path):
    g = GradingDir(tmp_path)
    assert g.grades_csv == tmp_path / "grades.csv"
    assert g.results("alice") == tmp_path / "results" / "alice.json"
    assert g.feedback("alice") == tmp_path / "feedback" / "alice.md"
    assert g.feedback_link("alice") == "feedback/alice.md"
    assert (g.report_html, g.roster_csv) == (tmp_path / "report.html",
                                            tmp_path / "grades_with_roster.csv")
    assert g.results_stems() == []
    g.make_dirs()
    g.results("b").write_text("{}")
    g.results("a").write_text("{}")
    assert g.results_stems() == ["a", "b"]
