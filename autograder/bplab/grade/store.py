"""A grading folder written record by record, and merged into on the next run.

Contract:
- ``Store(out, suite)`` reads the records already in ``out/results/`` (the source of truth;
  ``grades.csv`` is rebuilt from them, so it always describes every record there).
- ``Store.place(subs)`` gives each new submission its stem: the stem of the record it is a
  re-grade of (same ``Identity.key`` or same source, and only one candidate each way), else a
  fresh stem that no record already in the folder has (``identity.assign_stems``). So no run
  overwrites the record of a different submission, and nothing that is not re-graded is dropped.
- ``Store.write(sub, record)`` writes ``results/<stem>.json``, ``feedback/<stem>.md`` and
  ``feedback/<stem>.html`` atomically (temp file + rename) as soon as the record exists, and
  keeps ``grades.csv`` in step (a row appended, or the file rewritten when a row is replaced).
  Only the CSV rows (a few hundred bytes each) stay in memory; records do not.
- ``Store.adopt`` writes a record graded in another folder (``bplab merge``: shards), placed
  by the same rules, so a merge is a re-grade too: it replaces only the same submission.
- A crash loses nothing already written: the next run (or ``Store.finish``) rebuilds the CSV.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bplab.grade.identity import IDENTITY_COLUMNS, Identity, assign_stems
from bplab.grade.intake import Locator, Submission
from bplab.grade.outputs import (
    FIXED_COLUMNS,
    csv_header,
    feedback_html,
    feedback_markdown,
    feedback_title,
    results_json,
)
from bplab.grade.record import STATUSES, Record
from bplab.grade.suite import Suite
from bplab.layout import GradingDir


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old file or the new one, never half.

    Text that is not valid Unicode (a lone surrogate from a student's message or a file name)
    is written with U+FFFD in its place: a record is always written.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(valid_text(text))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def valid_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (valid UTF-8 once encoded)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


@dataclass
class Existing:
    """What the store keeps of a record already in the folder."""

    stem: str
    key: str
    source: str
    row: list[str]


def _locators(sub: Submission) -> dict:
    def one(loc: Locator) -> list[str]:
        return [loc.path, *loc.members]

    return {"notebooks": {n: one(loc) for n, loc in sub.notebooks.items()},
            "archive": one(sub.archive) if sub.archive else None}


def submission_from_results(stem: str, data: dict) -> Submission:
    """Rebuild the submission a results file was graded from (for ``--regrade``)."""
    bplab = data.get("extra_data", {}).get("bplab", {})
    ident = Identity.from_dict(bplab.get("identity"))
    locs = bplab.get("locators") or {}

    def loc(parts: object) -> Locator | None:
        if isinstance(parts, list) and parts and all(isinstance(p, str) for p in parts):
            return Locator(parts[0], tuple(parts[1:]))
        return None

    notebooks: dict[str, Locator] = {}
    for name, parts in (locs.get("notebooks") or {}).items():
        found = loc(parts)
        if found is not None:
            notebooks[str(name)] = found
    sub = Submission(stem, ident, notebooks, archive=loc(locs.get("archive")), stem=stem,
                     flags=str(bplab.get("flags") or ""))
    if not notebooks and sub.archive is None:
        status = bplab.get("status")
        sub.status = status if status in STATUSES and status != "graded" else "no_notebook"
        sub.reason = str(bplab.get("reason") or "no .ipynb file was found in it")
    return sub


def row_from_results(stem: str, data: dict, suite: Suite) -> list[str]:
    """A grades.csv row rebuilt from a results file (the same cells ``outputs.csv_row`` gives)."""
    bplab = data.get("extra_data", {}).get("bplab", {})
    status = str(bplab.get("status") or "grader_error")
    qstatus = bplab.get("question_status") or {}
    scores = {t.get("name"): t.get("score") for t in data.get("tests", []) if isinstance(t, dict)}

    def fmt(x: object) -> str:
        return f"{x:g}" if isinstance(x, int | float) else ""

    cells = ["" if qstatus.get(q) == "grader_error" else fmt(scores.get(q))
             for q in suite.questions]
    score = "" if status == "grader_error" else fmt(data.get("score"))
    total = fmt(float(sum(suite.max_scores.values())))
    ident = Identity.from_dict(bplab.get("identity"))
    return [stem, status, score, total, *cells, *ident.csv_cells(str(bplab.get("flags") or ""))]


class Store:
    """``out``'s results/, feedback/ and grades.csv (see the module docstring)."""

    def __init__(self, out: Path, suite: Suite):
        self.folder, self.suite = GradingDir(Path(out)), suite
        self.csv_path = self.folder.grades_csv
        self.header = csv_header(suite)
        self.rows: dict[str, list[str]] = {}
        self.existing: dict[str, Existing] = {}
        self.assignments: set[str] = set()
        for stem in self.folder.results_stems():
            path = self.folder.results(stem)
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                row = row_from_results(stem, data, suite)
                ident = Identity.from_dict(data["extra_data"]["bplab"].get("identity"))
                if isinstance(data["extra_data"]["bplab"].get("assignment"), str):
                    self.assignments.add(data["extra_data"]["bplab"]["assignment"])
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                # Unreadable: kept (never dropped), shown as a grader fault to be looked at.
                row = [stem, "grader_error", "", "", *[""] * len(suite.questions),
                       *[""] * len(IDENTITY_COLUMNS)]
                ident = Identity()
            self.existing[stem] = Existing(stem, ident.key, ident.source, row)
            self.rows[stem] = row
        self._replaced: set[str] = set()
        self._order: list[str] = list(self.rows)  # records already here, then this run's

    def place(self, subs: list[Submission]) -> None:
        """Give every submission its stem (see the module docstring); sets ``sub.stem``."""
        by_key: dict[str, list[str]] = {}
        by_source: dict[str, list[str]] = {}
        for e in self.existing.values():
            if e.key:
                by_key.setdefault(e.key, []).append(e.stem)
            if e.source:
                by_source.setdefault(e.source, []).append(e.stem)
        claims: dict[str, list[int]] = {}
        for i, sub in enumerate(subs):
            if sub.stem and sub.stem in self.existing:  # --regrade: the record it came from
                claims.setdefault(sub.stem, []).append(i)
                continue
            found = set(by_key.get(sub.identity.key, []) if sub.identity.key else [])
            found |= set(by_source.get(sub.origin, []))
            if len(found) == 1:
                claims.setdefault(found.pop(), []).append(i)
        regrade = {}
        for stem, who in claims.items():
            if len(who) == 1:  # two newcomers claiming one record: neither replaces it
                regrade[who[0]] = stem
        fresh = [i for i in range(len(subs)) if i not in regrade]
        stems = assign_stems([(subs[i].wanted, subs[i].origin) for i in fresh],
                             set(self.existing))
        for i, stem in regrade.items():
            subs[i].stem = stem
            self._replaced.add(stem)
        for i, (stem, flag) in zip(fresh, stems, strict=True):
            subs[i].stem = stem
            subs[i].flags = "; ".join(f for f in (subs[i].flags, flag) if f)
        self._order += [s.stem for s in subs if s.stem not in self.existing]

    def write(self, sub: Submission, record: Record) -> None:
        """Write one record's files atomically and its grades.csv row."""
        from bplab.grade.outputs import csv_row

        data = results_json(record, self.suite, sub.identity, sub.flags, _locators(sub))
        md = feedback_markdown(record, self.suite, sub.identity.name)
        self._put(record.stem, data, md, csv_row(record, self.suite, sub.identity, sub.flags))

    def adopt(self, sub: Submission, data: dict, markdown: str, was: str) -> None:
        """Write a record graded elsewhere (``bplab merge``): its results ``data`` and feedback
        ``markdown``, written under the stem ``place`` gave ``sub`` (its stem was ``was``).

        A record that keeps its stem and flags is written as it came; a new stem (a clash with
        a record already here) is put in the feedback's title and the flag in its results."""
        stem = sub.stem
        data["extra_data"]["bplab"]["flags"] = sub.flags
        if stem != was:
            language = data["extra_data"]["bplab"].get("language", "en")
            title = feedback_title(self.suite.assignment, was, sub.identity.name, language)
            head, _, rest = markdown.partition("\n")
            if head == title:
                markdown = feedback_title(self.suite.assignment, stem, sub.identity.name,
                                          language) + "\n" + rest
        self._put(stem, data, markdown, row_from_results(stem, data, self.suite))

    def _put(self, stem: str, data: dict, md: str, row: list[str]) -> None:
        self.folder.make_dirs()
        atomic_write(self.folder.results(stem), json.dumps(data, indent=1, ensure_ascii=False))
        atomic_write(self.folder.feedback(stem), md)
        atomic_write(self.folder.feedback_html(stem),
                     feedback_html(md, f"{self.suite.assignment} feedback: {stem}"))
        replacing = stem in self.rows
        self.rows[stem] = row
        if replacing or not self.csv_path.is_file():
            self.finish()
        else:
            with self.csv_path.open("a", newline="", encoding="utf-8") as f:
                csv.writer(f).writerow([valid_text(cell) for cell in row])

    def finish(self) -> None:
        """Rewrite grades.csv from every row: the folder's records, then this run's new ones."""
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(self.header)
        order = [*self._order, *(stem for stem in self.rows if stem not in set(self._order))]
        w.writerows(self.rows[stem] for stem in dict.fromkeys(order) if stem in self.rows)
        self.folder.root.mkdir(parents=True, exist_ok=True)
        atomic_write(self.csv_path, buf.getvalue())

    def dict_rows(self) -> list[dict[str, str]]:
        return [dict(zip(self.header, r, strict=False)) for r in self.rows.values()]

    @property
    def replaced(self) -> set[str]:
        """Stems of records this run grades again (re-grades of the same submission)."""
        return set(self._replaced)


__all__ = ["FIXED_COLUMNS", "Store", "atomic_write", "row_from_results",
           "submission_from_results"]
