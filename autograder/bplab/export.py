"""``bplab export OUT --format canvas|moodle|csv``: upload-ready grades and feedback.

Contract (files written into ``OUT/export/``; read from ``OUT/results/``, the source of truth):
- ``canvas``: ``canvas_import.csv``, a Canvas gradebook import: ``Student, ID, SIS User ID,
  SIS Login ID, Section`` and one assignment column (``hw1 (4321)`` when the roster, a Canvas
  gradebook export, has that assignment; else ``hw1``, which Canvas creates). Rows are the
  records with a Canvas user id. Canvas reads every other column as an assignment, so the late
  policy is shown per row in ``late_policy.csv``.
- ``moodle``: ``moodle_grades.csv``, a Moodle grading worksheet (``Identifier`` =
  "Participant <id>", ``Full name``, ``Grade``, ``Maximum Grade``, ``Last modified (grade)``,
  ``Feedback comments``; with ``--roster`` the downloaded worksheet itself, every column kept,
  Grade and Feedback comments filled in) and ``moodle_feedback.zip``: one folder per
  participant named as in Moodle's download (``<Full Name>_<id>_assignsubmission_file_``)
  holding that student's ``feedback.html``, for "Upload multiple feedback files in a zip".
- ``csv``: ``grades.csv``: identity, raw score, late policy columns and the score that counts.
- A late policy (``--late-penalty``, ``bplab.late``) is applied to each row and shown: raw
  score, days late, penalty, note. A late flag without a time (Canvas ``_LATE_``) counts as one
  started day, and the note says the time was unknown.
- Records the LMS cannot take (no LMS id, or a grader fault with no score) are not exported and
  are listed in ``skipped``; nothing is dropped silently.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from bplab.grade.identity import Identity
from bplab.late import LatePolicy, apply, parse_time
from bplab.layout import GradingDir
from bplab.roster import CANVAS_IDENTITY, read_roster

FORMATS = ("canvas", "moodle", "csv")
# Moodle's worksheet import needs Identifier, Grade and "Last modified (grade)" (it refuses the
# file without any of them); "Feedback comments" is the comments plugin's column.
MOODLE_REQUIRED = ("Identifier", "Grade", "Last modified (grade)")
MOODLE_COLUMNS = ("Identifier", "Full name", "Email address", "Grade", "Maximum Grade",
                  "Last modified (grade)", "Feedback comments")
LATE_COLUMNS = ("submission", "name", "raw_score", "max_score", "late", "days_late", "penalty",
                "score", "late_note")


@dataclass
class Graded:
    """One record as the export sees it: who, the raw score, and the score that counts."""

    stem: str
    identity: Identity
    status: str
    raw: float | None
    max_score: float
    score: float | None = None
    days: int = 0
    penalty: float = 0.0
    note: str = ""

    def late_row(self) -> list[str]:
        def fmt(x: float | None) -> str:
            return "" if x is None else f"{x:g}"

        return [self.stem, self.identity.name, fmt(self.raw), fmt(self.max_score),
                "late" if self.identity.late or self.days else "", str(self.days),
                fmt(self.penalty), fmt(self.score), self.note]


@dataclass
class Export:
    files: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "stem: why"


def load_graded(out: Path, policy: LatePolicy, due: datetime | None) -> list[Graded]:
    """Every record of ``out/results`` with its late policy applied (sorted by stem)."""
    rows = []
    folder = GradingDir(Path(out))
    for path in map(folder.results, folder.results_stems()):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            bplab = data["extra_data"]["bplab"]
            maximum = sum(float(t["max_score"]) for t in data["tests"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a bplab results file ({exc})") from exc
        status = str(bplab.get("status") or "")
        raw = None if status == "grader_error" else float(data.get("score") or 0.0)
        g = Graded(path.stem, Identity.from_dict(bplab.get("identity")), status, raw, maximum)
        _apply_late(g, policy, due)
        rows.append(g)
    return rows


_MOODLE_LATE = re.compile(r"submitted\s+(.+?)\s+late", re.IGNORECASE)
_UNITS = {"day": 86400, "hour": 3600, "min": 60, "sec": 1}


def moodle_lateness(status: str) -> float | None:
    """Seconds late from a worksheet Status ("... submitted 1 day 2 hours late"), else None."""
    m = _MOODLE_LATE.search(status or "")
    if not m:
        return None
    seconds = 0.0
    for amount, unit in re.findall(r"(\d+)\s*(day|hour|min|sec)", m.group(1), re.IGNORECASE):
        seconds += int(amount) * _UNITS[unit.lower()]
    return seconds or None


def _apply_late(g: Graded, policy: LatePolicy, due: datetime | None,
                seconds_late: float | None = None) -> None:
    if g.raw is None:
        return
    submitted = parse_time(g.identity.submitted_at)
    assumed = False
    if seconds_late is not None:  # the LMS says how late (Moodle's worksheet)
        due = due or datetime(2000, 1, 1, tzinfo=UTC)
        submitted = due + timedelta(seconds=seconds_late)
    elif g.identity.late and (submitted is None or due is None):
        # The LMS says late but not when: one started day (said so in the note).
        due = due or datetime(2000, 1, 1, tzinfo=UTC)
        submitted, assumed = due + timedelta(seconds=1), True
    outcome = apply(policy, g.raw, g.max_score, submitted, due)
    g.score, g.days, g.penalty, g.note = outcome.score, outcome.days_late, outcome.penalty, \
        outcome.note
    if assumed:
        g.note = (f"Marked late by the LMS (time unknown: counted as 1 day); late policy "
                  f"{policy}: {g.raw:g} -> {g.score:g}.")


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{round(x, 4):g}"


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _write(path: Path, text: str, result: Export) -> None:
    from bplab.grade.store import atomic_write

    atomic_write(path, text)
    result.files.append(path)


def _canvas(graded: list[Graded], assignment: str, roster: Path | None, dest: Path,
            result: Export) -> None:
    column = assignment
    people: dict[str, dict[str, str]] = {}
    if roster is not None:
        parsed = read_roster(roster)
        if parsed.kind != "canvas":
            raise ValueError(f"{roster}: --format canvas needs a Canvas gradebook export")
        people = dict(zip(parsed.ids, parsed.rows, strict=True))
        named = [c for c in parsed.header
                 if re.fullmatch(re.escape(assignment) + r"\s*\(\d+\)", c, re.IGNORECASE)]
        column = named[0] if len(named) == 1 else assignment
    rows = []
    for g in graded:
        uid = g.identity.user_id if g.identity.lms == "canvas" else ""
        if not uid or g.score is None:
            result.skipped.append(f"{g.stem}: " + ("no Canvas user id" if not uid else
                                                    "grader fault, no score"))
            continue
        person = people.get(uid, {})
        rows.append([person.get("Student") or g.identity.name, uid,
                     *(person.get(c, "") for c in CANVAS_IDENTITY[2:]), _fmt(g.score)])
    _write(dest / "canvas_import.csv", _csv_text([*CANVAS_IDENTITY, column], rows), result)


def _moodle(graded: list[Graded], out: Path, roster: Path | None, dest: Path,
            result: Export, policy: LatePolicy, due: datetime | None) -> None:
    by_id = {g.identity.user_id: g for g in graded
             if g.identity.lms == "moodle" and g.identity.user_id and g.score is not None}
    for g in graded:
        if g.identity.user_id not in by_id or by_id[g.identity.user_id] is not g:
            result.skipped.append(f"{g.stem}: " + ("grader fault, no score" if g.score is None
                                                    else "no Moodle participant id"))

    def comment(g: Graded) -> str:
        text = f"Score {_fmt(g.score)} / {_fmt(g.max_score)}."
        return text + (f" {g.note}" if g.note else "") + " Details in your feedback file."

    if roster is not None:
        parsed = read_roster(roster)
        if parsed.kind != "moodle":
            raise ValueError(f"{roster}: --format moodle needs Moodle's grading worksheet")
        for pid, r in zip(parsed.ids, parsed.rows, strict=True):
            late = moodle_lateness(r.get("Status") or "")
            if late is not None and pid in by_id:
                by_id[pid].identity = replace(by_id[pid].identity, late=True)
                _apply_late(by_id[pid], policy, due, late)
        header = list(parsed.header)
        for c in (*MOODLE_REQUIRED, "Feedback comments"):
            if c not in header:
                header.append(c)
        rows = []
        for pid, r in zip(parsed.ids, parsed.rows, strict=True):
            found = by_id.get(pid)
            row = dict(r)
            if found is not None:
                row["Grade"], row["Feedback comments"] = _fmt(found.score), comment(found)
            rows.append([row.get(c, "") for c in header])
    else:
        header = list(MOODLE_COLUMNS)
        rows = [[f"Participant {pid}", g.identity.name, g.identity.email, _fmt(g.score),
                 _fmt(g.max_score), "-", comment(g)] for pid, g in sorted(by_id.items())]
    _write(dest / "moodle_grades.csv", _csv_text(header, rows), result)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for pid, g in sorted(by_id.items()):
            html = GradingDir(Path(out)).feedback_html(g.stem)
            if not html.is_file():
                result.skipped.append(f"{g.stem}: no feedback HTML (grade it again to write one)")
                continue
            folder = g.identity.folder or f"{g.identity.name}_{pid}_assignsubmission_file_"
            # Moodle splits "<folder>/<file>" on its first four "_" to find the participant id:
            # the folder exactly as its download named it, then any file name.
            zf.writestr(f"{folder}/feedback.html", html.read_bytes())
    path = dest / "moodle_feedback.zip"
    path.write_bytes(buf.getvalue())
    result.files.append(path)


def export(out: Path, fmt: str, assignment: str, roster: Path | None = None,
           late_penalty: str = "none", due: str | None = None) -> Export:
    """Write ``out/export/`` for ``fmt`` (see the module docstring); raises ``ValueError``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    policy = LatePolicy.parse(late_penalty)
    due_at = parse_time(due) if due else None
    if due and due_at is None:
        raise ValueError(f"--due {due!r}: give an ISO time with its zone, "
                         "e.g. 2026-12-01T23:59:00-08:00")
    graded = load_graded(out, policy, due_at)
    if not graded:
        raise ValueError(f"{out}: no records in results/ (is it a `bplab grade --out` folder?)")
    dest = GradingDir(Path(out)).export_dir
    dest.mkdir(parents=True, exist_ok=True)
    result = Export()
    if fmt == "canvas":
        _canvas(graded, assignment, roster, dest, result)
    elif fmt == "moodle":
        _moodle(graded, out, roster, dest, result, policy, due_at)
    else:
        header = ["submission", "name", "lms", "user_id", "email", "sid", "status",
                  *LATE_COLUMNS[2:]]
        rows = [[g.stem, g.identity.name, g.identity.lms, g.identity.user_id, g.identity.email,
                 g.identity.sid, g.status, *g.late_row()[2:]] for g in graded]
        _write(dest / "grades.csv", _csv_text(header, rows), result)
    _write(dest / "late_policy.csv", _csv_text(list(LATE_COLUMNS),
                                               [g.late_row() for g in graded]), result)
    return result


@click.command("export")
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True,
              help="canvas: gradebook import CSV; moodle: grading worksheet and feedback zip; "
                   "csv: one row per record.")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The LMS's own export (Canvas gradebook / Moodle worksheet) to fill in.")
@click.option("--late-penalty", default="none", show_default=True, metavar="POLICY",
              help="none, per-day:PERCENT (of the maximum, per started day), flat:PERCENT "
                   "(once) or cap:PERCENT "
                   "(a late submission scores at most PERCENT of the maximum).")
@click.option("--due", metavar="TIME", help="Due date, ISO 8601 with zone (for per-day).")
def export_command(out: Path, fmt: str, roster: Path | None, late_penalty: str,
                   due: str | None) -> None:
    """Write OUT/export/: grades (and feedback) ready to upload to the LMS."""
    try:
        assignment = _assignment(out)
        result = export(out, fmt, assignment, roster, late_penalty, due)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    for path in result.files:
        click.echo(str(path))
    for line in result.skipped:
        click.echo(f"not exported: {line}", err=True)


def _assignment(out: Path) -> str:
    folder = GradingDir(Path(out))
    for path in map(folder.results, folder.results_stems()):
        try:
            return str(json.loads(path.read_text(encoding="utf-8"))["extra_data"]["bplab"][
                "assignment"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    raise ValueError(f"{out}: no record says its assignment (grade it with this version)")
