"""What ``bplab grade --out DIR`` writes: ``grades.csv``, ``results/<stem>.json`` (Gradescope's
results format plus ``extra_data.bplab``), ``feedback/<stem>.md``, and the terminal summary."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

from bplab_checks.explained import group_failures
from rich.console import Console
from rich.table import Table

from bplab.grade.record import QuestionResult, Record
from bplab.grade.suite import Suite
from bplab.layout import GradingDir

VISIBILITY = "visible"  # feedback messages are written for students (no hidden data)
_BACKTICKS = re.compile(r"`+")


def _fmt(x: float) -> str:
    return f"{x:g}"


def question_output(q: QuestionResult) -> str:
    """The text a student reads for one question."""
    lines = [f"{q.name}: {_fmt(q.score)} / {_fmt(q.max_score)} ({q.status})"]
    if q.note:
        lines.append(q.note)
    for c in q.cases:
        kind = " (hidden test)" if c.hidden else ""
        if c.passed:
            lines.append(f"✅ {c.name}{kind}")
        else:
            lines.append(f"❌ {c.name}{kind}\n{c.message}")
    return "\n".join(lines)


def results_json(record: Record, suite: Suite) -> dict:
    """Gradescope's results.json for one submission."""
    by_name = {q.name: q for q in record.questions}
    tests = []
    for name, possible in suite.max_scores.items():
        q = by_name.get(name) or QuestionResult(name, 0.0, possible, "not_graded")
        tests.append({
            "name": name,
            "score": q.score,
            "max_score": q.max_score,
            "status": "passed" if q.score >= q.max_score else "failed",
            "output": question_output(q),
            "visibility": VISIBILITY,
        })
    head = [f"Status: {record.status}"]
    if record.reason:
        head.append(record.reason)
    head += record.cell_notes
    return {
        "score": record.score,
        "output": "\n".join(head),
        "tests": tests,
        "extra_data": {"bplab": {
            "status": record.status,
            "reason": record.reason,
            "isolation": record.isolation,
            "diagnoses": {q.name: q.diagnoses for q in record.questions if q.diagnoses},
        }},
    }


def _fence(text: str) -> str:
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}\n{text}\n{ticks}"


def feedback_markdown(record: Record, suite: Suite) -> str:
    total = sum(suite.max_scores.values())
    out = [f"# {suite.assignment} feedback: {record.stem}", "",
           f"**Score: {_fmt(record.score)} / {_fmt(total)}** (status: {record.status})", ""]
    if record.reason:
        out += [f"> {record.reason}", ""]
    if record.cell_notes:
        out += ["## Running your notebook", ""]
        out += [f"- {_fence(n)}" if "\n" in n else f"- `{n.replace('`', chr(39))}`"
                for n in record.cell_notes]
        out.append("")
    for q in record.questions:
        out += [f"## {q.name}: {_fmt(q.score)} / {_fmt(q.max_score)} ({q.status})", ""]
        if q.note:
            out += [q.note, ""]
        kinds = {c.name: " (hidden test)" if c.hidden else "" for c in q.cases}
        out += [f"- ✅ {c.name}{kinds[c.name]}" for c in q.cases if c.passed]
        # A failure explained once, the cases it affects listed after it (bplab_checks.explained).
        for message, names in group_failures([(c.name, c.message) for c in q.cases
                                              if not c.passed]):
            out += [f"- ❌ {names[0]}{kinds[names[0]]}", "", _fence(message), ""]
            if len(names) > 1:
                out += ["  The same mistake fails: "
                        + ", ".join(f"{n}{kinds[n]}" for n in names[1:]), ""]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def write_outputs(records: list[Record], suite: Suite, out: GradingDir) -> None:
    """Write the CSV and one JSON and one Markdown file per record."""
    out.make_dirs()
    for record in records:
        write_record(record, suite, out)
    write_csv(records, suite, out.grades_csv)


def write_record(record: Record, suite: Suite, out: GradingDir) -> None:
    out.results(record.stem).write_text(
        json.dumps(results_json(record, suite), indent=1, ensure_ascii=False), encoding="utf-8")
    out.feedback(record.stem).write_text(feedback_markdown(record, suite), encoding="utf-8")


def write_csv(records: list[Record], suite: Suite, path: Path) -> None:
    questions = suite.questions
    total = sum(suite.max_scores.values())
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([*GradingDir.GRADES_COLUMNS, *questions])
        for r in records:
            by_name = {q.name: q for q in r.questions}
            cells = []
            for name in questions:
                q = by_name.get(name)
                # A grader fault is not the student's: its questions stay blank, not 0.
                cells.append("" if q is None or q.status == "grader_error" else _fmt(q.score))
            score = "" if r.status == "grader_error" else _fmt(r.score)
            w.writerow([r.stem, r.status, score, _fmt(total), *cells])


def print_summary(records: list[Record], suite: Suite, console: Console, isolation: str,
                  max_rows: int = 40) -> None:
    total = sum(suite.max_scores.values())
    table = Table(title=f"{suite.assignment}: {len(records)} submission(s)")
    table.add_column("submission")
    table.add_column("status")
    table.add_column("score", justify="right")
    table.add_column("lost points on")
    shown = sorted(records, key=lambda r: (r.status == "graded", r.stem))[:max_rows]
    for r in shown:
        lost = [q.name for q in r.questions if q.score < q.max_score]
        style = "green" if r.status == "graded" else "red"
        table.add_row(r.stem, f"[{style}]{r.status}[/{style}]",
                      f"{_fmt(r.score)}/{_fmt(total)}", ", ".join(lost) or "-")
    console.print(table)
    if len(records) > max_rows:
        console.print(f"({len(records) - max_rows} more rows in grades.csv)")
    counts = Counter(r.status for r in records)
    console.print("statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    console.print(f"isolation: {isolation}")
