"""Joining grades.csv to a class roster: every student once, nothing dropped, ambiguity shown."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from bplab.layout import GradingDir
from bplab.roster import (
    join_roster,
    match_ids,
    poor_match,
    read_roster,
    roster_issues,
    write_rows,
)
from hypothesis import given
from hypothesis import strategies as st

QUESTIONS = ["MatMul", "Sum"]


def _grades(path: Path, stems: list[str]) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["submission", "status", "score", "max_score", *QUESTIONS])
        for i, stem in enumerate(stems):
            w.writerow([stem, "graded", i, 6, i, 0])
    return path


def _roster(path: Path, ids: list[str], header: tuple[str, ...] = ("email", "name")) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for i in ids:
            w.writerow([i, f"name of {i}", *[""] * (len(header) - 2)])
    return path


def _join(tmp_path: Path, stems: list[str], ids: list[str], **kw) -> list[dict[str, str]]:
    return join_roster(_grades(GradingDir(tmp_path).grades_csv, stems),
                       _roster(tmp_path / "roster.csv", ids, **kw), "email")


def test_match_rules():
    ids = ["alice@uni.edu", "bob", "bob_smith", "malice@uni.edu"]
    assert match_ids("Alice@Uni.edu", ids) == (["alice@uni.edu"], "exact")
    assert match_ids("hw1_alice@uni.edu_v2", ids) == (["alice@uni.edu"], "contains")
    assert match_ids("malice@uni.edu", ids) == (["malice@uni.edu"], "exact")
    assert match_ids("xmalice@uni.edu", ids) == ([], "contains")  # not a whole token
    assert match_ids("bob_smith", ids) == (["bob_smith"], "exact")  # exact wins over 'bob'
    assert match_ids("hw1-bob_smith", ids) == (["bob", "bob_smith"], "contains")
    assert match_ids("bobby", ids) == ([], "contains")
    assert match_ids("anything", ["", "  "]) == ([], "contains")  # empty ids match nothing


def test_join_one_row_per_student_then_leftovers(tmp_path):
    stems = ["alice", "hw1_bob", "carol", "carol_v2", "alice_dave", "stranger"]
    ids = ["alice", "bob", "carol", "dave", "zoe"]
    rows = _join(tmp_path, stems, ids)
    by_id = {r["email"]: r for r in rows if r["email"]}
    assert list(by_id) == ids  # roster order, each once
    assert (by_id["alice"]["submission"], by_id["alice"]["roster_match"]) == ("alice", "exact")
    assert (by_id["bob"]["submission"], by_id["bob"]["roster_match"]) == ("hw1_bob", "contains")
    assert by_id["bob"]["score"] == "1" and by_id["bob"]["MatMul"] == "1"
    assert by_id["carol"]["status"] == "ambiguous" and by_id["carol"]["score"] == ""
    assert by_id["carol"]["roster_match"] == "several submissions: carol; carol_v2"
    # "alice_dave" contains two ids: assigned to neither, so dave has no submission
    assert by_id["dave"]["status"] == by_id["zoe"]["status"] == "missing"
    assert by_id["zoe"]["name"] == "name of zoe"
    leftovers = {r["submission"]: r["roster_match"] for r in rows if not r["email"]}
    assert leftovers == {
        "alice_dave": "several roster ids: alice; dave",
        "stranger": "no roster id",
        "carol": "one of several submissions for carol",
        "carol_v2": "one of several submissions for carol",
    }
    kinds = [(i.kind, i.who) for i in roster_issues(rows, "email")]
    assert sorted(kinds) == sorted([
        ("poor match", ""),  # 2 of 5 students, 2 of 6 submissions
        ("ambiguous", "carol"), ("missing", "dave"), ("missing", "zoe"),
        ("unmatched", "alice_dave"), ("unmatched", "stranger"), ("unmatched", "carol"),
        ("unmatched", "carol_v2")])


def test_written_csv_round_trips(tmp_path):
    rows = _join(tmp_path, ["alice", "=cmd|'/c calc'!A1"], ["alice", "bob"])
    out = write_rows(rows, tmp_path / "out.csv")
    back = list(csv.DictReader(out.open()))
    assert list(back[0]) == ["email", "name", "submission", "status", "score", "max_score",
                             *QUESTIONS, "roster_match"]
    assert back == rows
    # a stem a spreadsheet would run as a formula is written as text
    assert back[-1]["submission"] == "'=cmd|'/c calc'!A1"


def test_roster_column_names_do_not_clobber_grades(tmp_path):
    rows = _join(tmp_path, ["alice"], ["alice"], header=("email", "name", "status", "score"))
    assert list(rows[0]) == ["email", "name", "status", "score", "submission", "grade_status",
                             "grade_score", "max_score", *QUESTIONS, "roster_match"]
    assert rows[0]["status"] == "" and rows[0]["grade_status"] == "graded"
    assert rows[0]["roster_match"] == "exact"
    assert roster_issues(rows, "email") == []


def test_bad_roster_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no column 'email'"):
        join_roster(_grades(tmp_path / "g.csv", ["a"]),
                    _roster(tmp_path / "r.csv", ["a"], header=("id", "name")), "email")
    with pytest.raises(ValueError, match="more than once: Bob, bob"):
        _join(tmp_path, ["a"], ["bob", "alice", "Bob"])


_ids = st.lists(st.text("abc_-@.", min_size=1, max_size=5), max_size=6)


@given(stems=_ids, ids=_ids.map(lambda xs: list(dict.fromkeys(x.casefold() for x in xs))))
def test_nothing_is_dropped(tmp_path_factory, stems, ids):
    """Every roster id has exactly one row; every submission is graded in exactly one row."""
    tmp = tmp_path_factory.mktemp("j")
    rows = _join(tmp, stems, ids)
    assert [r["email"] for r in rows[: len(ids)]] == ids
    assert all(r["email"] == "" for r in rows[len(ids):])
    graded = [r["submission"].removeprefix("'") for r in rows if r["status"] == "graded"]
    assert sorted(graded) == sorted(stems)


LMS = Path(__file__).resolve().parent / "lms"


def _grades_with_identity(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """grades.csv with identity columns: (stem, lms, user_id)."""
    from bplab.grade.identity import IDENTITY_COLUMNS

    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["submission", "status", "score", "max_score", *QUESTIONS, *IDENTITY_COLUMNS])
        for stem, lms, uid in rows:
            ident = {"lms": lms, "user_id": uid}
            w.writerow([stem, "graded", 3, 6, 3, 0, *(ident.get(c, "") for c in IDENTITY_COLUMNS)])
    return path


def test_canvas_gradebook_skips_points_row_and_matches_by_user_id(tmp_path):
    roster = read_roster(LMS / "canvas_gradebook.csv")
    assert (roster.kind, roster.id_column) == ("canvas", "ID")
    assert roster.ids == ["12345", "12346", "12347", "12348"]  # no "Points Possible" student
    grades = _grades_with_identity(tmp_path / "g.csv", [
        ("smithjohn_12345", "canvas", "12345"), ("x_12346", "moodle", "12346"),  # wrong LMS
        ("12347", "plain", "")])  # a stem that looks like an id is not a Canvas id
    rows = join_roster(grades, LMS / "canvas_gradebook.csv")
    assert [(r["ID"], r["roster_match"]) for r in rows[:4]] == [
        ("12345", "lms"), ("12346", "missing"), ("12347", "missing"), ("12348", "missing")]
    assert poor_match(rows, "ID").startswith("only 1 of 4 roster students")


def test_moodle_worksheet_identifier_is_the_participant_id(tmp_path):
    roster = read_roster(LMS / "moodle_worksheet.csv")
    assert (roster.kind, roster.ids) == ("moodle", ["1234567", "1234568", "1234569"])
    grades = _grades_with_identity(tmp_path / "g.csv", [
        ("Іван_Петренко_1234567", "moodle", "1234567"), ("José_Núñez_1234568", "moodle",
                                                         "1234568")])
    rows = join_roster(grades, LMS / "moodle_worksheet.csv")
    assert [r["roster_match"] for r in rows] == ["lms", "lms", "missing"]
    assert poor_match(rows, "Identifier") == ""  # 2 of 3 and 2 of 2: fine


def test_a_plain_roster_needs_its_id_column(tmp_path):
    (tmp_path / "r.csv").write_text("email,name\na@x,A\n")
    with pytest.raises(ValueError, match="--roster-id"):
        read_roster(tmp_path / "r.csv")
    assert read_roster(tmp_path / "r.csv", "email").ids == ["a@x"]
