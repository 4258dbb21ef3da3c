"""Join ``grades.csv`` to a class roster, for LMS upload: one row per roster student.

How a submission finds its student (ids and stems compared case-insensitively, trimmed):

1. **exact**: the submission stem equals a roster id (``alice@uni.edu.ipynb`` has the stem
   ``alice@uni.edu``);
2. otherwise **contains**: the stem contains a roster id as a whole token, i.e. not preceded or
   followed by a letter or digit (``hw1_alice@uni.edu_v2`` contains ``alice@uni.edu``;
   ``malice@uni.edu`` does not).

Nothing is dropped silently. The output has every roster row, in roster order, then one row per
submission that found no student; its ``roster_match`` column says how each row was settled:

- ``exact`` / ``contains``: the student's one submission, with its grades;
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


def _safe_cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def join_roster(grades_csv: Path, roster_csv: Path, id_column: str) -> list[dict[str, str]]:
    """Rows of ``grades_with_roster.csv`` (see the module docstring for the rules).

    Columns: the roster's columns, then grades.csv's (``submission, status, score, max_score,
    <question>...``; renamed ``grade_<name>`` if the roster already has that name), then
    ``roster_match``. Raises ``ValueError`` when ``id_column`` is not in the roster, two roster
    rows share an id, or the roster has a ``roster_match`` column.
    """
    roster_header, roster = _read_csv(roster_csv)
    if id_column not in roster_header:
        raise ValueError(
            f"{roster_csv}: no column {id_column!r} (columns: {', '.join(roster_header)})"
        )
    grade_header, grades = _read_csv(grades_csv)
    missing_cols = [c for c in GradingDir.GRADES_COLUMNS if c not in grade_header]
    if missing_cols:
        raise ValueError(f"{grades_csv}: missing column(s) {', '.join(missing_cols)}")

    ids = [(r.get(id_column) or "").strip() for r in roster]
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
        matched, how = match_ids(g.get("submission") or "", [i for i in ids if i])
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
        elif match not in ("exact", "contains"):
            issues.append(RosterIssue("unmatched", stem.removeprefix("'"), match))
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
