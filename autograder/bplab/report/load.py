"""Read a grading directory (``bplab grade --out DIR``) into one in-memory view of the class.

The layout is described in docs/architecture.md, "Grading outputs": ``grades.csv`` (one row per
submission) and ``results/<stem>.json`` (Gradescope results with ``extra_data.bplab``). Every
submission named by either source appears exactly once, so nothing goes silently missing; a
results file that cannot be read is reported as the submission's ``problem``.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from bplab_checks.tag import codes_in

from bplab.grade.identity import IDENTITY_COLUMNS
from bplab.grade.record import GRADED  # any other status did not grade normally
from bplab.layout import GradingDir


@dataclass
class Submission:
    """One row of the class: a graded submission, or one that did not grade normally."""

    stem: str
    status: str
    score: float | None
    max_score: float | None
    question_scores: dict[str, float | None]
    reason: str = ""
    diagnoses: dict[str, list[str]] = field(default_factory=dict)  # question -> codes
    feedback: str | None = None  # path relative to the grading directory, if the file exists
    name: str = ""  # display name from the LMS (any script)
    late: bool = False
    source: str = ""
    flags: str = ""  # e.g. a stem clash

    @property
    def graded(self) -> bool:
        return self.status == GRADED


@dataclass
class ClassResults:
    """Everything the report shows: questions in grades.csv order, their points, submissions."""

    questions: list[str]
    question_max: dict[str, float | None]
    submissions: list[Submission]

    @property
    def graded(self) -> list[Submission]:
        return [s for s in self.submissions if s.graded]

    @property
    def not_graded(self) -> list[Submission]:
        return [s for s in self.submissions if not s.graded]


def parse_number(text: str | None) -> float | None:
    """A CSV cell as a finite float, or None when empty or not a number."""
    if text is None or not str(text).strip():
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_grades_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """The question columns of ``grades.csv`` and its rows (as strings)."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        missing = [c for c in GradingDir.GRADES_COLUMNS if c not in header]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
        questions = [c for c in header
                     if c not in GradingDir.GRADES_COLUMNS and c not in IDENTITY_COLUMNS]
        return questions, list(reader)


def _read_results(path: Path) -> tuple[dict | None, str]:
    """A results JSON as a dict, or None and why it could not be used."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        return None, f"results file unreadable: {e}"
    if not isinstance(data, dict):
        return None, "results file is not a JSON object"
    return data, ""


def _bplab_extra(results: dict) -> dict:
    extra = results.get("extra_data")
    bplab = extra.get("bplab") if isinstance(extra, dict) else None
    return bplab if isinstance(bplab, dict) else {}


def _diagnoses(results: dict, questions: list[str]) -> dict[str, list[str]]:
    """Diagnosis codes per question: ``extra_data.bplab.diagnoses`` when the grader wrote it,
    else the ``(diagnosis: <code>)`` tags found in each question's test output."""
    listed = _bplab_extra(results).get("diagnoses")
    if isinstance(listed, dict):
        out: dict[str, list[str]] = {}
        for question, codes in listed.items():
            if isinstance(codes, list):
                kept = [str(c) for c in codes if isinstance(c, str | int) and str(c)]
                if kept:
                    out[str(question)] = list(dict.fromkeys(kept))
        return out
    out = {}
    for test in results.get("tests") or []:
        if not isinstance(test, dict):
            continue
        name, output = str(test.get("name", "")), test.get("output")
        if name in questions and isinstance(output, str):
            codes = codes_in(output)
            if codes:
                out[name] = codes
    return out


def _question_max_from_results(results: dict, questions: list[str]) -> dict[str, float]:
    found = {}
    for test in results.get("tests") or []:
        if isinstance(test, dict) and test.get("name") in questions:
            value = parse_number(str(test.get("max_score", "")))
            if value is not None:
                found[test["name"]] = value
    return found


def load_grading_dir(folder: GradingDir) -> ClassResults:
    """Read ``grades.csv`` and ``results/*.json`` of ``folder`` (see the module docstring)."""
    grades = folder.grades_csv
    if not grades.is_file():
        raise FileNotFoundError(
            f"{grades} not found: is {folder.root} the output of `bplab grade`?")
    questions, rows = read_grades_csv(grades)

    stems = [row.get("submission") or "" for row in rows]
    # A results file without a grades.csv row still belongs in the report.
    listed = set(stems)
    extra_stems = [s for s in folder.results_stems() if s not in listed]

    question_max: dict[str, float | None] = {q: None for q in questions}
    submissions = []
    for row, stem in [*zip(rows, stems, strict=True), *[(None, s) for s in extra_stems]]:
        # Stems name files inside DIR: never follow one that points elsewhere.
        safe = bool(stem) and Path(stem).name == stem and stem not in (".", "..")
        results, problem = None, ""
        if safe and folder.results(stem).is_file():
            results, problem = _read_results(folder.results(stem))
        extra = _bplab_extra(results) if results else {}
        if row is not None:
            status = (row.get("status") or "").strip() or "unknown"
            score, max_score = parse_number(row.get("score")), parse_number(row.get("max_score"))
            scores = {q: parse_number(row.get(q)) for q in questions}
        else:
            status = str(extra.get("status") or "unknown")
            score = parse_number(str(results.get("score", ""))) if results else None
            max_score, scores = None, {q: None for q in questions}
            problem = "; ".join(p for p in (problem, "results file without a row in grades.csv")
                                if p)
        reason = str(extra.get("reason") or "")
        if not reason and not problem and status != GRADED and results is None:
            problem = "no results file"
        reason = "; ".join(r for r in (reason, problem) if r)
        if results:
            for q, m in _question_max_from_results(results, questions).items():
                question_max[q] = max(m, question_max[q] or 0.0)
        feedback = next((link for path, link in folder.feedback_files(stem)
                         if safe and path.is_file()), None)
        ident = row if row is not None else {}
        submissions.append(
            Submission(
                stem=stem,
                status=status,
                score=score,
                max_score=max_score,
                question_scores=scores,
                reason=reason,
                diagnoses=_diagnoses(results, questions) if results else {},
                feedback=feedback,
                name=ident.get("name") or "",
                late=bool(ident.get("late")),
                source=ident.get("source") or "",
                flags=ident.get("flags") or "",
            )
        )
    # Without results files, a question's points fall back to the best score seen.
    for q in questions:
        if question_max[q] is None:
            seen = [x for s in submissions if (x := s.question_scores[q]) is not None]
            question_max[q] = max(seen) if seen else None
    return ClassResults(questions, question_max, submissions)
