"""An instructor's week, end to end: LMS downloads in, merges and regrades, uploads out.

Each fixture download (``lms_fixtures``) is graded once by the command line in the real
sandbox; the tests then read the outputs, merge a second download into them, regrade, export,
and try the usage errors. Issue 13 (workflow) and issue 10 items 2-3 (streaming, identity).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import weakref
import zipfile
from pathlib import Path

import pytest
from bplab.cli import main
from bplab.layout import GradingDir
from click.testing import CliRunner
from lms_fixtures import (
    CANVAS,
    GRADESCOPE,
    LMS,
    MOODLE,
    canvas_zip,
    gradescope_zip,
    moodle_zip,
    notebook,
    zip_bytes,
)


def _hw1_max() -> str:
    """hw1's total points, from its test files (the one source of each question's points)."""
    from bplab.layout import Assignment
    from otter.test_files import ExceptionTestFile

    total = sum(ExceptionTestFile.from_file(str(p)).possible
                for p in Assignment.named("hw1").test_files())
    return f"{float(total):g}"


HW1_MAX = _hw1_max()


def bplab(*args: str | Path):
    return CliRunner().invoke(main, [str(a) for a in args])


def rows(out: Path, name: str = "grades.csv") -> list[dict[str, str]]:
    with (out / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def snapshot(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(GradingDir(out).results_dir.glob("*.json"))}


@pytest.fixture(scope="module")
def canvas(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("canvas")
    out = tmp / "out"
    result = bplab("grade", "-a", "HW1", "--out", out, "-j", "2",
                   canvas_zip(tmp / "submissions.zip"))  # "HW1": names fold case
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def moodle(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("moodle")
    out = tmp / "out"
    result = bplab("grade", "-a", "hw1", "--out", out, "-j", "2", moodle_zip(tmp / "m.zip"),
                   "--roster", LMS / "moodle_worksheet.csv")
    assert result.exit_code == 0, result.output
    return out


def test_canvas_download_one_record_per_student_names_and_late_kept(canvas):
    got = {r["user_id"]: r for r in rows(canvas)}
    assert set(got) == set(CANVAS)
    for uid, (name, late, example) in CANVAS.items():
        r = got[uid]
        assert (r["name"], r["lms"], r["late"]) == (name, "canvas", "late" if late else "")
        assert r["status"] == "graded" and r["submission"] == f"{name}_{uid}"
        assert (r["score"] == HW1_MAX) == (example == "full")
        assert "submissions.zip" in r["source"]
    assert float(got["12348"]["score"]) == 0  # the blank notebook inside a zip upload
    feedback = (canvas / "feedback" / "núñezjosé_12346.html").read_text()
    assert "<h1>hw1 feedback: núñezjosé (núñezjosé_12346)</h1>" in feedback
    assert "<script" not in feedback and "http" not in feedback.split("</head>")[1]


def test_canvas_roster_join_skips_the_points_row(canvas):
    result = bplab("report", canvas, "--roster", LMS / "canvas_gradebook.csv")
    assert result.exit_code == 0, result.output
    joined = rows(canvas, "grades_with_roster.csv")
    assert [(r["Student"], r["roster_match"]) for r in joined] == [
        ("Smith, John", "lms"), ("Núñez, José", "lms"), ("Lee, Ann", "lms"),
        ("Okafor, Chidi", "lms")]


def test_canvas_export_matches_the_import_columns_and_applies_the_late_policy(canvas):
    result = bplab("export", canvas, "--format", "canvas", "--roster",
                   LMS / "canvas_gradebook.csv", "--late-penalty", "per-day:10")
    assert result.exit_code == 0, result.output
    imported = rows(canvas / "export", "canvas_import.csv")
    assert list(imported[0]) == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                                 "hw1 (4321)"]
    by_id = {r["ID"]: r for r in imported}
    assert by_id["12345"] == {"Student": "Smith, John", "ID": "12345", "SIS User ID": "S001",
                              "SIS Login ID": "jsmith", "Section": "BP 101",
                              "hw1 (4321)": HW1_MAX}
    late = {r["submission"]: r for r in rows(canvas / "export", "late_policy.csv")}
    jose = late["núñezjosé_12346"]
    assert jose["late"] == "late" and jose["days_late"] == "1"
    penalty = 0.1 * float(HW1_MAX)  # one started day at 10 % of the maximum
    assert float(jose["score"]) == pytest.approx(max(0, float(jose["raw_score"]) - penalty))
    assert float(by_id["12346"]["hw1 (4321)"]) == pytest.approx(float(jose["score"]))
    assert "time unknown" in jose["late_note"]
    assert late["smithjohn_12345"]["penalty"] == "0"


def test_moodle_download_names_roster_and_feedback_zip(moodle):
    got = {r["user_id"]: r for r in rows(moodle)}
    assert {u: r["name"] for u, r in got.items()} == {u: n for u, (n, _) in MOODLE.items()}
    assert GradingDir(moodle).results("Іван_Петренко_1234567").is_file()
    joined = {r["Identifier"]: r for r in rows(moodle, "grades_with_roster.csv")}
    assert joined["Participant 1234567"]["roster_match"] == "lms"
    assert joined["Participant 1234569"]["status"] == "missing"  # Zoë submitted nothing
    result = bplab("export", moodle, "--format", "moodle", "--roster",
                   LMS / "moodle_worksheet.csv", "--late-penalty", "per-day:10")
    assert result.exit_code == 0, result.output
    sheet = rows(moodle / "export", "moodle_grades.csv")
    assert list(sheet[0])[:2] == ["Identifier", "Full name"]
    # Moodle's import refuses a worksheet without these three
    assert {"Identifier", "Grade", "Last modified (grade)", "Feedback comments"} <= set(sheet[0])
    ivan = next(r for r in sheet if r["Identifier"] == "Participant 1234567")
    assert ivan["Grade"] == HW1_MAX and ivan["Full name"] == "Іван Петренко"
    assert ivan["Feedback comments"].startswith(f"Score {HW1_MAX} / {HW1_MAX}.")
    # "submitted 1 day 3 hours late" in the worksheet's Status: 2 started days x 10 % of the max
    jose = next(r for r in sheet if r["Identifier"] == "Participant 1234568")
    late = {r["submission"]: r for r in rows(moodle / "export", "late_policy.csv")}
    raw = float(late["José_Núñez_1234568"]["raw_score"])
    assert late["José_Núñez_1234568"]["days_late"] == "2"
    assert float(jose["Grade"]) == pytest.approx(max(0.0, raw - 0.2 * float(HW1_MAX)))
    assert "2 started day(s) late" in jose["Feedback comments"]
    zoe = next(r for r in sheet if r["Identifier"] == "Participant 1234569")
    assert zoe["Grade"] == ""  # no submission: left for the instructor
    with zipfile.ZipFile(moodle / "export" / "moodle_feedback.zip") as zf:
        names = sorted(zf.namelist())
        html = zf.read(names[1]).decode()
    assert names == ["José Núñez_1234568_assignsubmission_file_/feedback.html",
                     "Іван Петренко_1234567_assignsubmission_file_/feedback.html"]
    # Moodle's importer splits "<path><name>" on its first four "_": participant id second.
    assert [n.split("_", 4)[1:4] for n in names] == [
        ["1234568", "assignsubmission", "file"], ["1234567", "assignsubmission", "file"]]
    assert html.startswith("<!DOCTYPE html>") and "Іван Петренко" in html


def test_gradescope_export_names_emails_ids(tmp_path):
    out = tmp_path / "out"
    result = bplab("grade", "-a", "hw1", "--out", out, "-j", "2",
                   gradescope_zip(tmp_path / "export.zip"))
    assert result.exit_code == 0, result.output
    got = {r["submission_id"]: r for r in rows(out)}
    for sub_id, (name, sid, email, example) in GRADESCOPE.items():
        assert (got[sub_id]["name"], got[sub_id]["sid"], got[sub_id]["email"]) == (
            name, sid, email)
        assert (got[sub_id]["score"] == HW1_MAX) == (example == "full")
    result = bplab("export", out, "--format", "csv", "--late-penalty", "per-day:10",
                   "--due", "2026-12-01T23:59:00-08:00")
    assert result.exit_code == 0, result.output
    exported = {r["sid"]: r for r in rows(out / "export", "grades.csv")}
    assert exported["3002"]["days_late"] == "1" and exported["3001"]["days_late"] == "0"
    assert exported["3002"]["late"] == "late"


def test_second_run_merges_and_regrade_replaces_exactly_the_chosen(canvas, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(canvas, out)
    before = snapshot(out)
    report_before = bplab("report", out)
    assert report_before.exit_code == 0
    # One late submission of a student not graded before: added, nothing else touched.
    late = tmp_path / "late.zip"
    late.write_bytes(zip_bytes({"doeruth_LATE_12349_67999_hw1.ipynb": notebook("full")}))
    result = bplab("grade", "-a", "hw1", "--out", out, late, "--report")
    assert result.exit_code == 0, result.output
    after = snapshot(out)
    assert {k: v for k, v in after.items() if k in before} == before
    assert set(after) - set(before) == {"doeruth_12349.json"}
    table = rows(out)
    assert len(table) == 5 and table[-1]["late"] == "late"
    html = (out / "report.html").read_text()
    assert "5 submissions, 5 graded normally" in html
    # The same student again (a new attachment id): their record is replaced, not doubled.
    again = tmp_path / "again.zip"
    again.write_bytes(zip_bytes({"leeann_LATE_12347_68000_hw1.ipynb": notebook("blank")}))
    assert bplab("grade", "-a", "hw1", "--out", out, again).exit_code == 0
    table = {r["submission"]: r for r in rows(out)}
    assert len(table) == 5 and float(table["leeann_12347"]["score"]) == 0
    assert table["leeann_12347"]["late"] == "late"
    # --regrade re-reads the chosen record's source; every other file stays byte for byte.
    def inodes() -> dict[str, int]:  # every write is a new file renamed over the old one
        return {p.name: p.stat().st_ino for p in GradingDir(out).results_dir.glob("*.json")}

    before, contents = inodes(), snapshot(out)
    result = bplab("grade", "--out", out, "--regrade", "smithjohn_12345")
    assert result.exit_code == 0, result.output
    after = inodes()
    assert [k for k in after if after[k] != before[k]] == ["smithjohn_12345.json"]
    assert snapshot(out) == contents and len(rows(out)) == 5
    # A record whose source is gone is not re-graded into an error: a usage error, no change.
    again.unlink()
    result = bplab("grade", "--out", out, "--regrade", "leeann_12347")
    assert result.exit_code == 2 and "its source is gone" in result.output
    assert snapshot(out) == contents


@pytest.mark.parametrize("args, message", [
    (["-a", "hw1", "{tmp}/nope.ipynb"], "no such file or folder"),
    (["-a", "hw1", "{tmp}/empty.zip"], "holds no notebook"),
    (["-a", "hw9", "{full}"], "unknown assignment 'hw9'; known: hw1, hw2"),
    (["-a", "hw2", "{full}"], "say they are 'hw1', not 'hw2'"),
    (["--regrade", "nobody"], "no record to regrade"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, args, message):
    (tmp_path / "empty.zip").write_bytes(zip_bytes({"readme.txt": b"x"}))
    out = tmp_path / "out"
    full = Path(__file__).resolve().parents[1] / "examples" / "hw1" / "full.ipynb"
    args = [a.format(tmp=tmp_path, full=full) for a in args]
    result = bplab("grade", "--out", out, *args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.output
    assert not out.exists()


def test_another_assignment_is_graded_with_force(tmp_path):
    full = Path(__file__).resolve().parents[1] / "examples" / "hw1" / "full.ipynb"
    result = bplab("grade", "-a", "hw2", "--force", "--out", tmp_path / "o", full)
    assert result.exit_code == 0, result.output
    assert rows(tmp_path / "o")[0]["status"] == "graded"


def test_a_new_submission_never_overwrites_another_record(tmp_path):
    """Issue 10, identity: a second ``bob.ipynb`` from elsewhere gets its own, flagged stem."""
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "bob.ipynb").write_bytes(notebook("full"))
    (second / "bob.ipynb").write_bytes(notebook("blank"))  # a forger, or a second Bob
    (second / "bob!.ipynb").write_bytes(notebook("blank"))
    out = tmp_path / "out"
    assert bplab("grade", "-a", "hw1", "--out", out, first).exit_code == 0
    kept = GradingDir(out).results("bob").read_bytes()
    assert bplab("grade", "-a", "hw1", "--out", out, second).exit_code == 0
    assert GradingDir(out).results("bob").read_bytes() == kept
    table = {r["submission"]: r for r in rows(out)}
    assert table["bob"]["score"] == HW1_MAX and table["bob"]["source"].endswith("a/bob.ipynb")
    other = [r for s, r in table.items() if s.startswith("bob-")]
    assert len(other) == 1 and "stem clash" in other[0]["flags"]
    assert other[0]["source"].endswith("b/bob.ipynb")
    assert "bob_" in table  # "bob!" does not take "bob"


def test_a_crash_loses_nothing_already_graded_and_records_are_not_kept(tmp_path, monkeypatch):
    """Issue 10, streaming: each record is on disk when the next one starts; none is held."""
    from bplab.grade import store
    from bplab.grade.command import run_grade

    subs = tmp_path / "subs"
    subs.mkdir()
    for i in range(4):
        (subs / f"s{i}.ipynb").write_bytes(notebook("full" if i % 2 else "blank"))
    out = tmp_path / "out"
    real_write, alive, written = store.Store.write, [], []

    def write(self, sub, record):
        assert all(ref() is None for ref in alive)  # no earlier record is held anywhere
        if len(written) == 3:
            raise KeyboardInterrupt("the machine went down")
        real_write(self, sub, record)
        written.append(record.stem)
        alive.append(weakref.ref(record))
        assert len(rows(out)) == len(written)  # grades.csv in step with results/

    monkeypatch.setattr(store.Store, "write", write)
    with pytest.raises(KeyboardInterrupt):
        run_grade("hw1", [subs], out, jobs=1, quiet=True, keep_records=False)
    assert sorted(p.stem for p in GradingDir(out).results_dir.glob("*.json")) == sorted(written)
    assert {r["submission"] for r in rows(out)} == set(written)
    monkeypatch.setattr(store.Store, "write", real_write)
    run_grade("hw1", [subs], out, jobs=1, quiet=True, keep_records=False)  # finish the batch
    assert sorted(r["submission"] for r in rows(out)) == [f"s{i}" for i in range(4)]
    assert not list(GradingDir(out).results_dir.glob(".*.tmp"))


def test_results_files_are_written_atomically(tmp_path, monkeypatch):
    from bplab.grade import store

    target = tmp_path / "x.json"
    target.write_text("old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(store.os, "replace", broken_replace)
    with pytest.raises(OSError):
        store.atomic_write(target, "new")
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]


def test_moodle_feedback_zip_reads_back_as_its_download(moodle):
    assert bplab("export", moodle, "--format", "moodle").exit_code == 0
    sheet = rows(moodle / "export", "moodle_grades.csv")  # without a roster: from the records
    assert list(sheet[0]) == ["Identifier", "Full name", "Email address", "Grade",
                              "Maximum Grade", "Last modified (grade)", "Feedback comments"]
    assert [r["Identifier"] for r in sheet] == ["Participant 1234567", "Participant 1234568"]
    with zipfile.ZipFile(moodle / "export" / "moodle_feedback.zip") as zf:
        for name in zf.namelist():
            folder = name.split("/")[0]
            assert folder.endswith("_assignsubmission_file_")
            assert io.BytesIO(zf.read(name)).read(15) == b"<!DOCTYPE html>"
    data = json.loads(GradingDir(moodle).results("José_Núñez_1234568").read_text())
    assert data["extra_data"]["bplab"]["identity"]["folder"] == (
        "José Núñez_1234568_assignsubmission_file_")


def test_text_that_is_not_unicode_never_stops_a_record(tmp_path):
    """Issue 10: a lone surrogate (from a message or a file name) is written as U+FFFD."""
    from bplab.grade.identity import Identity
    from bplab.grade.intake import Submission
    from bplab.grade.record import QuestionResult, Record
    from bplab.grade.store import Store
    from bplab.grade.suite import Suite

    class _File:
        name, possible = "MatMul", 4

    store = Store(tmp_path / "out", Suite("hw1", [_File()]))
    sub = Submission("s", Identity(name="bad\udcffname", source="/x/\udcff.ipynb"))
    store.place([sub])
    store.finish()
    store.write(sub, Record(sub.stem, sub.origin, "graded", reason="boom \udcff", questions=[
        QuestionResult("MatMul", 4.0, 4.0, "passed", note="\ud800")]))
    data = json.loads((tmp_path / "out" / "results" / "s.json").read_text(encoding="utf-8"))
    assert data["extra_data"]["bplab"]["reason"] == "boom \ufffd"
    assert rows(tmp_path / "out")[0]["name"] == "bad\ufffdname"
    assert "\ufffd" in (tmp_path / "out" / "feedback" / "s.html").read_text(encoding="utf-8")


def test_grading_with_the_wrong_roster_warns_and_exits_1(tmp_path):
    out = tmp_path / "out"
    result = bplab("grade", "-a", "hw1", "--out", out, moodle_zip(tmp_path / "m.zip"),
                   "--roster", LMS / "canvas_gradebook.csv")  # the other course's gradebook
    assert result.exit_code == 1, result.output
    assert "warning: only 0 of 4 roster students and 0 of 2 submissions matched" in result.output
    assert len(rows(out)) == 2 and (out / "report.html").is_file()  # written all the same
