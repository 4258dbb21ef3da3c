"""The sandboxed Gradescope autograder: results.json against Gradescope's specification on every
example, visibility, submission metadata and the late policy, and grader faults (run in a
simulated /autograder tree with this project's interpreter; tests/test_interpreters.py runs the
same zip on 3.10 to 3.13 with venvs made from its requirements)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from bplab import REPO_ROOT, late
from bplab.gradescope import write_gradescope_secure_zip
from bplab.gradescope_results import HIDDEN_SUFFIX, gradescope_results
from bplab.layout import Assignment
from gradescope_spec import spec_errors

pytestmark = [pytest.mark.slow]
# Every assignment with a notebook and examples (hw3 joins when it lands: data, not code).
ASSIGNMENTS = [a for a in (Assignment.named(p.name) for p in
                           sorted((REPO_ROOT / "assignments").glob("hw*")))
               if a.notebook.is_file() and a.examples_dir.is_dir()]
DUE = "2026-03-01T23:00:00.000000-08:00"


def metadata(submitted: str = "2026-03-01T22:00:00.000000-08:00") -> dict:
    return {
        "id": 987, "created_at": submitted,
        "assignment": {"due_date": DUE, "late_due_date": None, "title": "hw1",
                       "total_points": "29.0"},
        "users": [{"email": "ada@example.edu", "id": 1234, "name": "Ada Lovelace"}],
        "previous_submissions": [{"submission_time": "2026-02-28T10:00:00-08:00", "score": 3.0}],
    }


def extract_tree(zip_path: Path, root: Path) -> Path:
    """An /autograder tree at ``root`` with an autograder zip unpacked into source/."""
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root / "source")
    for name in ("run_autograder", "setup.sh"):
        (root / "source" / name).chmod(0o755)
    return root


def make_tree(tmp_path: Path, assignment: str = "hw1", **options: str) -> Path:
    """An /autograder tree with the secure zip of ``assignment`` unpacked into source/."""
    zip_path = write_gradescope_secure_zip(assignment, tmp_path / "gradescope-secure.zip",
                                           **options)
    return extract_tree(zip_path, tmp_path / "autograder")


def run_autograder(root: Path, *notebooks: Path, meta: dict | None = None,
                   python: str = sys.executable) -> dict:
    """Run ``run_autograder`` on ``notebooks`` as the submission; results.json as a dict."""
    sub = root / "submission"
    shutil.rmtree(sub, ignore_errors=True)
    sub.mkdir(parents=True)
    for nb in notebooks:
        shutil.copy(nb, sub / nb.name)
    meta_path = root / "submission_metadata.json"
    meta_path.unlink(missing_ok=True)
    if meta is not None:
        meta_path.write_text(json.dumps(meta))
    env = dict(os.environ, BPLAB_AUTOGRADER_ROOT=str(root), BPLAB_PYTHON=python)
    env.pop("PYTHONPATH", None)
    done = subprocess.run([str(root / "source" / "run_autograder")], env=env, timeout=600,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text())


def per_question(results: dict) -> dict[str, float]:
    """Question -> score, adding each question's public and hidden entries."""
    scores: dict[str, float] = {}
    for test in results["tests"]:
        name = test["name"].removesuffix(HIDDEN_SUFFIX)
        scores[name] = scores.get(name, 0.0) + test["score"]
    return scores


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    return make_tree(tmp_path_factory.mktemp("gs"))


@pytest.fixture(scope="module", params=ASSIGNMENTS, ids=lambda a: a.name)
def graded_examples(request, tmp_path_factory):
    """Every example of one assignment graded once with ``bplab grade``: (suite, records)."""
    from bplab.grade.command import run_grade
    from bplab.grade.suite import load_suite

    a = request.param
    notebooks = sorted(a.examples_dir.glob("*.ipynb"))
    records = run_grade(a.name, notebooks, tmp_path_factory.mktemp(a.name), jobs=2, quiet=True)
    assert len(records) == len(notebooks)
    return load_suite(a.name, a.tests_dir, a.solution), records


# --- the specification, on every example --------------------------------------------------------


def test_spec_check_catches_planted_violations():
    good = {"score": 1.0, "execution_time": 2, "output": "", "output_format": "text",
            "extra_data": {}, "tests": [{"name": "q", "score": 1, "max_score": 1,
                                         "status": "passed", "output": "", "visibility":
                                         "visible", "extra_data": {}}]}
    assert spec_errors(good) == []
    for planted in (
        {**good, "score": "1"}, {**good, "output_format": "markdown"},
        {**good, "visiblity": "hidden"}, {**good, "execution_time": -1},
        {**good, "tests": [{**good["tests"][0], "status": "ok"}]},
        {**good, "tests": [{**good["tests"][0], "visibility": "later"}]},
        {**good, "tests": [{**good["tests"][0], "score": 2}]},
        {**good, "tests": [{k: v for k, v in good["tests"][0].items() if k != "name"}]},
        {**good, "tests": [{**good["tests"][0], "max_score": True}]},
    ):
        assert spec_errors(planted), planted


def test_every_example_gives_valid_results_with_bplab_grades_scores(graded_examples):
    suite, records = graded_examples
    config = {"hidden_visibility": "after_published", "late_policy": "none"}
    for record in records:
        data = gradescope_results(record, suite, config, metadata(), 1.5)
        assert spec_errors(data) == [], record.stem
        assert per_question(data) == pytest.approx({q.name: q.score for q in record.questions})
        assert data["score"] == pytest.approx(record.score)
        for test in data["tests"]:
            hidden = test["extra_data"]["part"] == "hidden"
            assert test["visibility"] == ("after_published" if hidden else "visible")
        # a public entry never names a hidden case
        hidden_cases = {c.name for q in record.questions for c in q.cases if c.hidden}
        for test in data["tests"]:
            if test["extra_data"]["part"] == "public":
                assert not any(name in test["output"] for name in hidden_cases), test["name"]


@pytest.mark.parametrize("visibility", ["visible", "after_due_date", "hidden"])
def test_hidden_results_take_the_visibility_the_build_chose(graded_examples, visibility):
    suite, records = graded_examples
    data = gradescope_results(records[0], suite, {"hidden_visibility": visibility}, {}, 1.0)
    parts = {t["extra_data"]["part"]: t["visibility"] for t in data["tests"]}
    assert parts == {"public": "visible", "hidden": visibility}
    assert spec_errors(data) == []


# --- run_autograder end to end ----------------------------------------------------------------


def test_zip_layout(tmp_path):
    zip_path = write_gradescope_secure_zip("hw1", tmp_path / "g.zip")
    names = set(zipfile.ZipFile(zip_path).namelist())
    assert {"setup.sh", "run_autograder", "requirements.txt", "bplab_gradescope.json"} <= names
    assert "lib/bplab/grade/worker.py" in names and "lib/solutions/hw1.py" in names
    assert "lib/solutions/hw2.py" not in names
    assert any(n.startswith("tests/") and n.endswith("MatMul.py") for n in names)
    setup = zipfile.ZipFile(zip_path).read("setup.sh").decode()
    assert "bubblewrap" in setup and "python3 -m venv" in setup


def test_full_solution_with_metadata_and_on_time(tree):
    data = run_autograder(tree, REPO_ROOT / "examples" / "hw1" / "full.ipynb", meta=metadata())
    assert spec_errors(data) == []
    assert data["score"] == sum(t["max_score"] for t in data["tests"]) > 0
    bplab = data["extra_data"]["bplab"]
    assert bplab["status"] == "graded" and bplab["late"]["days_late"] == 0
    assert bplab["students"] == [{"name": "Ada Lovelace", "email": "ada@example.edu",
                                  "id": 1234}]
    assert bplab["submission_id"] == 987 and bplab["previous_submissions"] == 1
    assert "Ada Lovelace <ada@example.edu> (id 1234)" in data["output"]


def test_bug_and_blank_lose_the_right_points(tree):
    buggy = run_autograder(tree, REPO_ROOT / "examples" / "hw1" / "bug_matmul_db_transposed.ipynb")
    by_name = {t["name"]: t for t in buggy["tests"]}
    assert by_name["MatMul" + HIDDEN_SUFFIX]["score"] < by_name["MatMul" + HIDDEN_SUFFIX][
        "max_score"]
    assert by_name["ReLU"]["score"] == by_name["ReLU"]["max_score"]
    assert buggy["extra_data"]["bplab"]["diagnoses"]["MatMul"]
    blank = run_autograder(tree, REPO_ROOT / "examples" / "hw1" / "blank.ipynb")
    assert blank["score"] == 0 and spec_errors(blank) == [] and spec_errors(buggy) == []


def test_late_policy_from_the_build_is_applied_and_recorded(tmp_path):
    root = make_tree(tmp_path, late_policy="per-day:10")
    due = datetime.fromisoformat(DUE)
    submitted = (due + timedelta(days=1, hours=2)).isoformat()  # two started days late
    data = run_autograder(root, REPO_ROOT / "examples" / "hw1" / "full.ipynb",
                          meta=metadata(submitted))
    total = sum(t["max_score"] for t in data["tests"])
    assert data["score"] == pytest.approx(total * 0.8)
    recorded = data["extra_data"]["bplab"]["late"]
    assert recorded["days_late"] == 2 and recorded["raw_score"] == pytest.approx(total)
    assert recorded["policy"] == "per-day:10" and recorded["due_date"] == DUE
    assert "2 started day(s) late" in data["output"] and spec_errors(data) == []


def test_no_submission_and_two_notebooks_still_write_results(tree):
    empty = run_autograder(tree)
    assert empty["score"] == 0 and empty["extra_data"]["bplab"]["status"] == "no_notebook"
    two = run_autograder(tree, REPO_ROOT / "examples" / "hw1" / "full.ipynb",
                         REPO_ROOT / "examples" / "hw1" / "blank.ipynb")
    assert two["extra_data"]["bplab"]["status"] == "several_notebooks"
    assert spec_errors(empty) == [] and spec_errors(two) == []


# --- grader faults: an autograder failure that says the score is not final --------------------


def _assert_fault(data: dict, cause: str) -> None:
    from bplab.grade.record import FAULT_CAUSES

    # the record's causes, plus the one only run_autograder (no Python) can write
    assert cause in (*FAULT_CAUSES, "grader_did_not_start")
    assert spec_errors(data) == []
    assert data["extra_data"]["bplab"]["status"] == "grader_error"
    assert data["extra_data"]["bplab"]["cause"] == cause
    assert "AUTOGRADER FAILURE" in data["output"] and "not final" in data["output"]
    assert [t["name"] for t in data["tests"]] == ["Autograder failure (score not final)"]


def test_broken_test_file_is_a_grader_fault(tmp_path):
    root = make_tree(tmp_path)
    (root / "source" / "tests" / "MatMul.py").write_text("this is not python(\n")
    data = run_autograder(root, REPO_ROOT / "examples" / "hw1" / "full.ipynb")
    _assert_fault(data, "test_files")  # bplab.grade.record's cause, not a guess from the text
    assert "test files could not be loaded" in data["extra_data"]["bplab"]["reason"]


def test_grader_crash_inside_python_is_caught_by_the_guard(tmp_path):
    root = make_tree(tmp_path)
    (root / "source" / "lib" / "bplab" / "grade" / "command.py").write_text("raise SystemExit(3)\n")
    data = run_autograder(root, REPO_ROOT / "examples" / "hw1" / "full.ipynb")
    _assert_fault(data, "grader_bug")
    assert "SystemExit" in data["output"] and "SystemExit" in data["extra_data"]["bplab"][
        "traceback"]
    assert "raise SystemExit" not in data["output"]  # no source line reaches the student


@pytest.mark.parametrize("how", ["missing interpreter", "interpreter that cannot import bplab",
                                 "interpreter killed"])
def test_python_that_cannot_start_gets_the_shell_fallback(tmp_path, how):
    root = make_tree(tmp_path)
    python = "/nonexistent/python3"
    if how == "interpreter that cannot import bplab":
        python = sys.executable
        (root / "source" / "lib" / "bplab" / "__init__.py").write_text("import tomllib_missing\n")
    elif how == "interpreter killed":  # e.g. the OOM killer, mid-run
        killed = tmp_path / "python-killed"
        killed.write_text("#!/bin/sh\nkill -9 $$\n")
        killed.chmod(0o755)
        python = str(killed)
    data = run_autograder(root, REPO_ROOT / "examples" / "hw1" / "full.ipynb", python=python)
    _assert_fault(data, "grader_did_not_start")
    assert data["extra_data"]["bplab"]["exit_code"] != 0


# --- the late policy itself -------------------------------------------------------------------


UTC = timezone.utc


@pytest.mark.parametrize("text, kind, percent", [
    ("none", "none", 0), ("per-day:10", "per-day", 10), ("flat:20", "flat", 20),
    ("cap:50%", "cap", 50),
])
def test_late_policy_parses(text, kind, percent):
    policy = late.LatePolicy.parse(text)
    assert (policy.kind, policy.percent) == (kind, percent)
    assert late.LatePolicy.parse(str(policy)) == policy


@pytest.mark.parametrize("text", ["", "per-day", "cap:abc", "per-week:3", "cap:150", "none:3",
                                  "flat:-5"])
def test_late_policy_refuses_typos(text):
    with pytest.raises(ValueError):
        late.LatePolicy.parse(text)


def test_late_policy_applies_from_the_due_date():
    due = datetime(2026, 3, 1, 12, tzinfo=UTC)
    per_day, cap = late.LatePolicy.parse("per-day:10"), late.LatePolicy.parse("cap:50")
    on_time = late.apply(per_day, 20, 20, due, due)
    assert (on_time.score, on_time.days_late, on_time.note) == (20, 0, "")
    a_minute = late.apply(per_day, 20, 20, due + timedelta(minutes=1), due)
    assert (a_minute.score, a_minute.days_late) == (18, 1)
    long_late = late.apply(per_day, 5, 20, due + timedelta(days=30), due)
    assert long_late.score == 0 and long_late.penalty == 5
    capped = late.apply(cap, 18, 20, due + timedelta(hours=1), due)
    assert capped.score == 10 and "18 -> 10" in capped.note
    flat = late.LatePolicy.parse("flat:20")
    once = late.apply(flat, 18, 20, due + timedelta(days=3), due)  # the same however late
    assert once.score == 14 == late.apply(flat, 18, 20, due + timedelta(hours=1), due).score
    assert late.apply(flat, 2, 20, due + timedelta(hours=1), due).score == 0
    assert late.apply(flat, 18, 20, due, due).score == 18
    low = late.apply(cap, 4, 20, due + timedelta(hours=1), due)
    assert low.score == 4
    none = late.apply(late.LatePolicy(), 20, 20, due + timedelta(days=2), due)
    assert none.score == 20 and none.days_late == 2 and "no late penalty" in none.note
    undated = late.apply(per_day, 20, 20, None, due)
    assert undated.score == 20 and "not applied" in undated.note


def test_gradescope_times_parse_on_every_python():
    assert late.parse_time(DUE) == datetime(2026, 3, 1, 23, tzinfo=timezone(timedelta(hours=-8)))
    assert late.parse_time("2026-03-01T23:00:00Z") == datetime(2026, 3, 1, 23, tzinfo=UTC)
    assert late.parse_time("2026-03-01T23:00:00") is None  # naive: cannot be compared
    assert late.parse_time("yesterday") is None and late.parse_time(None) is None


def test_results_that_are_not_json_become_a_fault_and_surrogates_are_written(tmp_path,
                                                                             monkeypatch):
    import bplab.gradescope as gs

    monkeypatch.setattr(gs, "grade", lambda root, started: {"score": float("nan")})
    assert gs.main([str(tmp_path)]) == 0
    data = json.loads((tmp_path / "results" / "results.json").read_text())
    _assert_fault(data, "grader_bug")
    assert "ValueError" in data["output"]
    # a lone surrogate (issue 10's crash) is escaped, not a UnicodeEncodeError
    monkeypatch.setattr(gs, "grade", lambda root, started: {"score": 1.0, "output": "\udcff"})
    gs.main([str(tmp_path)])
    assert json.loads((tmp_path / "results" / "results.json").read_text())["score"] == 1.0
