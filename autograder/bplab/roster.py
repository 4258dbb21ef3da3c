"""Join ``grades.csv`` to a class roster, for LMS upload: one row per roster student.

Rosters are read as the LMS exports them (``read_roster``):

- a **Canvas gradebook** CSV (``Student, ID, SIS User ID, SIS Login ID, Section, ...``): the
  "Points Possible" row (and any other row without an ``ID``) is skipped; a student is its
  ``ID``, the user id in a Canvas download's file names;
- a **Moodle grading worksheet** (``Identifier, Full name, ...``): ``Identifier`` is
  "Participant 1234567", the participant id in the download's folder names;
- a **plain CSV** with ``id_column`` naming its id column.

How a submission finds its student (ids and stems compared case-insensitively, trimmed):

1. **lms**: a Canvas or Moodle roster matches the LMS user id the record kept;
2. **exact**: a plain roster's id equals the submission's stem, user id, e-mail or SID
   (``alice@uni.edu.ipynb`` has the stem ``alice@uni.edu``);
3. otherwise **contains**: the stem contains a roster id as a whole token, i.e. not preceded or
   followed by a letter or digit (``hw1_alice@uni.edu_v2`` contains ``alice@uni.edu``;
   ``malice@uni.edu`` does not).

Nothing is dropped silently. The output has every roster row, in roster order, then one row per
submission that found no student; its ``roster_match`` column says how each row was settled:

- ``lms`` / ``exact`` / ``contains``: the student's one submission, with its grades;
- ``missing``: no submission (status ``missing``, empty score);
- ``several submissions: a; b``: the student matched more than one submission; none is chosen
  (status ``ambiguous``, empty score) and each of them also gets its own row below;
- ``no roster id``: a submission that matches nobody (roster columns empty);
- ``several roster ids: x; y``: a submission that matches more than one student, assigned to none.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from bplab.layout import GradingDir

MISSING = "missing"
MATCHED = ("lms", "exact", "contains")
AMBIGUOUS = "ambiguous"
MATCH_COLUMN = "roster_match"
# Spreadsheets run a cell that starts with one of these as a formula; stems come from students.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class RosterIssue:
    """A row of the join that needs a human: a missing student, or an unsettled match."""

    kind: str  # "missing", "ambiguous" (a student with several submissions), "unmatched"
    who: str  # the roster id or the submission stem
    detail: str


def _key(text: str) -> str:
    return text.strip().casefold()


def _contains_token(stem: str, ident: str) -> bool:
    pattern = r"(?<![^\W_])" + re.escape(ident) + r"(?![^\W_])"
    return re.search(pattern, stem) is not None


def match_ids(stem: str, ids: list[str]) -> tuple[list[str], str]:
    """The roster ids a submission stem matches, and how (``exact`` or ``contains``).

    ``ids`` are the roster's ids; the result is empty when nothing matches.
    """
    s = _key(stem)
    exact = [i for i in ids if _key(i) and _key(i) == s]
    if exact:
        return exact, "exact"
    return [i for i in ids if _key(i) and _contains_token(s, _key(i))], "contains"


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with Path(path).open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), [dict(r) for r in reader]


CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_IDENTIFIER = "Identifier"
_PARTICIPANT = re.compile(r"\D*(\d+)\s*")


@dataclass
class Roster:
    """A roster as exported; ``ids[i]`` is row ``i``'s student id (``""`` when it has none)."""

    kind: str  # canvas | moodle | plain
    header: list[str]
    rows: list[dict[str, str]]
    id_column: str
    ids: list[str]


def read_roster(path: Path, id_column: str | None = None) -> Roster:
    """Read a Canvas gradebook, a Moodle worksheet or a plain CSV (``id_column`` needed).

    Raises ``ValueError`` with what to do when the file fits none of them.
    """
    header, rows = _read_csv(path)
    if id_column is None and all(c in header for c in ("Student", "ID")):
        rows = [r for r in rows if (r.get("ID") or "").strip()]  # "Points Possible" has none
        return Roster("canvas", header, rows, "ID", [(r.get("ID") or "").strip() for r in rows])
    if id_column is None and MOODLE_IDENTIFIER in header:
        ids = []
        for r in rows:
            m = _PARTICIPANT.fullmatch(r.get(MOODLE_IDENTIFIER) or "")
            ids.append(m.group(1) if m else "")
        return Roster("moodle", header, rows, MOODLE_IDENTIFIER, ids)
    if id_column is None:
        raise ValueError(f"{path}: not a Canvas gradebook (Student, ID) or a Moodle worksheet "
                         f"(Identifier); name its id column with --roster-id "
                         f"(columns: {', '.join(header)})")
    if id_column not in header:
        raise ValueError(f"{path}: no column {id_column!r} (columns: {', '.join(header)})")
    return Roster("plain", header, rows, id_column,
                  [(r.get(id_column) or "").strip() for r in rows])


def _safe_cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def join_roster(grades_csv: Path, roster_csv: Path,
                id_column: str | None = None) -> list[dict[str, str]]:
    """Rows of ``grades_with_roster.csv`` (see the module docstring for the rules).

    Columns: the roster's columns, then grades.csv's (``submission, status, score, max_score,
    <question>..., identity``; renamed ``grade_<name>`` if the roster already has that name),
    then ``roster_match``. Raises ``ValueError`` when the roster cannot be read
    (``read_roster``), two roster rows share an id, or the roster has a ``roster_match`` column.
    """
    parsed = read_roster(roster_csv, id_column)
    roster_header, roster = parsed.header, parsed.rows
    grade_header, grades = _read_csv(grades_csv)
    missing_cols = [c for c in GradingDir.GRADES_COLUMNS if c not in grade_header]
    if missing_cols:
        raise ValueError(f"{grades_csv}: missing column(s) {', '.join(missing_cols)}")

    ids = parsed.ids
    keys = [_key(i) for i in ids]
    dupes = sorted({i for i, k in zip(ids, keys, strict=True) if k and keys.count(k) > 1})
    if dupes:
        raise ValueError(f"{roster_csv}: ids appear more than once: {', '.join(dupes)}")

    if MATCH_COLUMN in roster_header:
        raise ValueError(f"{roster_csv}: the column name {MATCH_COLUMN!r} is the join's own")
    rename = {c: f"grade_{c}" if c in roster_header else c for c in grade_header}
    out_header = [*roster_header, *rename.values(), MATCH_COLUMN]

    by_id: dict[str, list[tuple[dict[str, str], str]]] = {i: [] for i in ids if i}
    unassigned: list[tuple[dict[str, str], str]] = []
    for g in grades:
        matched, how = _match(g, parsed.kind, [i for i in ids if i])
        if len(matched) == 1:
            by_id[matched[0]].append((g, how))
        else:
            why = f"several roster ids: {'; '.join(matched)}" if matched else "no roster id"
            unassigned.append((g, why))

    def row(roster_row: dict[str, str] | None, grade: dict[str, str] | None, **over: str):
        r = dict.fromkeys(out_header, "")
        if roster_row:
            r.update({c: roster_row.get(c) or "" for c in roster_header})
        if grade:
            r.update({rename[c]: grade.get(c) or "" for c in grade_header})
        r.update({rename.get(k, k): v for k, v in over.items()})
        r[rename["submission"]] = _safe_cell(r[rename["submission"]])
        r[MATCH_COLUMN] = _safe_cell(r[MATCH_COLUMN])
        return r

    rows = []
    for roster_row, ident in zip(roster, ids, strict=True):
        found = by_id.get(ident, []) if ident else []
        if len(found) == 1:
            grade, how = found[0]
            rows.append(row(roster_row, grade, **{MATCH_COLUMN: how}))
        elif not found:
            rows.append(row(roster_row, None, status=MISSING, **{MATCH_COLUMN: MISSING}))
        else:
            stems = [g.get("submission") or "" for g, _ in found]
            rows.append(row(roster_row, None, submission="; ".join(stems), status=AMBIGUOUS,
                            **{MATCH_COLUMN: f"several submissions: {'; '.join(stems)}"}))
            unassigned.extend((g, f"one of several submissions for {ident}") for g, _ in found)
    rows.extend(row(None, g, **{MATCH_COLUMN: why}) for g, why in unassigned)
    return rows


def _match(grade: dict[str, str], kind: str, ids: list[str]) -> tuple[list[str], str]:
    if kind != "plain":  # an LMS roster: its own user ids, nothing guessed from names
        uid = (grade.get("user_id") or "").strip()
        same_lms = (grade.get("lms") or "") == kind
        return ([i for i in ids if same_lms and uid and i == uid], "lms")
    known = {_key(grade.get(c) or "") for c in ("user_id", "email", "sid")} - {""}
    exact = [i for i in ids if _key(i) in known]
    if exact:
        return exact, "exact"
    return match_ids(grade.get("submission") or "", ids)


@dataclass(frozen=True)
class MatchCounts:
    """How well a join went: students with one submission, submissions given to a student."""

    students: int
    students_matched: int
    submissions: int
    submissions_matched: int

    @property
    def poor(self) -> bool:
        """Fewer than half of the roster, or of the submissions, matched."""
        return (2 * self.students_matched < self.students
                or 2 * self.submissions_matched < self.submissions)

    def describe(self) -> str:
        return (f"{self.students_matched} of {self.students} roster students and "
                f"{self.submissions_matched} of {self.submissions} submissions matched")


def match_counts(rows: list[dict[str, str]], id_column: str) -> MatchCounts:
    on_roster = [r for r in rows if r.get(id_column)]
    matched = sum(r.get(MATCH_COLUMN) in MATCHED for r in on_roster)
    leftovers = len(rows) - len(on_roster)
    return MatchCounts(len(on_roster), matched, matched + leftovers, matched)


def poor_match(rows: list[dict[str, str]], id_column: str) -> str:
    """A one-line warning when fewer than half of the roster or of the submissions matched."""
    counts = match_counts(rows, id_column)
    if not counts.poor:
        return ""
    return f"only {counts.describe()}; is it the right roster (or --roster-id)?"


def read_join(path: Path) -> list[dict[str, str]]:
    """Rows of a ``grades_with_roster.csv`` written by ``write_rows``."""
    return _read_csv(path)[1]


def roster_issues(rows: list[dict[str, str]], id_column: str) -> list[RosterIssue]:
    """What in a join needs a human, from the rows :func:`join_roster` returned."""
    issues = []
    for r in rows:
        match = r.get(MATCH_COLUMN, "")
        stem = r.get("grade_submission", r.get("submission", ""))
        if match == MISSING:
            issues.append(RosterIssue("missing", r.get(id_column, ""), "no submission found"))
        elif match.startswith("several submissions"):
            issues.append(RosterIssue("ambiguous", r.get(id_column, ""), match))
        elif match not in MATCHED:
            issues.append(RosterIssue("unmatched", stem.removeprefix("'"), match))
    warning = poor_match(rows, id_column)
    if warning:
        issues.insert(0, RosterIssue("poor match", "", warning))
    return issues


def write_rows(rows: list[dict[str, str]], path: Path) -> Path:
    """Write joined rows as CSV (header from the first row's keys)."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as f:
        if rows:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return path
