"""What one record looks like to its readers: ``results/<stem>.json`` (Gradescope's results
format plus ``extra_data.bplab``), ``feedback/<stem>.md`` and its HTML rendering, the
``grades.csv`` row, and the terminal summary. Writing them into a folder, record by record, is
``bplab.grade.store``.

Sizes: every text a student's code can fill is capped here once more (``MAX_TEXT`` per item)
so that a record's files stay bounded whatever reached the record.
"""

from __future__ import annotations

import re
from collections import Counter
from html import escape

from bplab_checks import i18n
from bplab_checks.explained import group_failures
from bplab_checks.i18n import t
from markdown_it import MarkdownIt
from rich.console import Console
from rich.markup import escape as escape_rich
from rich.table import Table

from bplab.grade.identity import IDENTITY_COLUMNS, Identity
from bplab.grade.record import QuestionResult, Record
from bplab.grade.suite import Suite
from bplab.layout import GradingDir

VISIBILITY = "visible"  # feedback messages are written for students (no hidden data)
MAX_TEXT = 20_000  # characters of one message, note or output in a record's files
_BACKTICKS = re.compile(r"`+")
FIXED_COLUMNS = GradingDir.GRADES_COLUMNS


def cap(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit} more characters cut]"


def _fmt(x: float) -> str:
    return f"{x:g}"


def question_output(q: QuestionResult, language: str = "en") -> str:
    """The text a student reads for one question (labels in ``language``; statuses and
    names are data and stay as they are)."""
    lines = [f"{q.name}: {_fmt(q.score)} / {_fmt(q.max_score)} ({q.status})"]
    if q.note:
        lines.append(q.note)
    with i18n.use(language):
        hidden = t(" (hidden test)")
    for c in q.cases:
        kind = hidden if c.hidden else ""
        if c.passed:
            lines.append(f"✅ {c.name}{kind}")
        else:
            lines.append(f"❌ {c.name}{kind}\n{cap(c.message)}")
    return cap("\n".join(lines), 4 * MAX_TEXT)


def results_json(record: Record, suite: Suite, identity: Identity | None = None,
                 flags: str = "", locators: dict | None = None) -> dict:
    """Gradescope's results.json for one submission.

    ``extra_data.bplab`` also keeps the assignment, each question's status, the identity, the
    flags and where the notebook is read from (``locators``, for ``--regrade``).
    """
    by_name = {q.name: q for q in record.questions}
    tests = []
    for name, possible in suite.max_scores.items():
        q = by_name.get(name) or QuestionResult(name, 0.0, possible, "not_graded")
        tests.append({
            "name": name,
            "score": q.score,
            "max_score": q.max_score,
            "status": "passed" if q.score >= q.max_score else "failed",
            "output": question_output(q, record.language),
            "visibility": VISIBILITY,
        })
    head = [f"Status: {record.status}"]
    if record.reason:
        head.append(record.reason)
    head += [cap(n) for n in record.cell_notes]
    return {
        "score": record.score,
        "output": cap("\n".join(head), 4 * MAX_TEXT),
        "tests": tests,
        "extra_data": {"bplab": {
            "status": record.status,
            "reason": cap(record.reason),
            "isolation": record.isolation,
            "language": record.language,
            "diagnoses": {q.name: q.diagnoses for q in record.questions if q.diagnoses},
            "assignment": suite.assignment,
            "question_status": {q.name: q.status for q in record.questions},
            "identity": (identity or Identity(source=record.origin)).to_dict(),
            "flags": flags,
            "locators": locators or {},
        }},
    }


def _fence(text: str) -> str:
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}\n{text}\n{ticks}"


def feedback_title(assignment: str, stem: str, name: str = "", language: str = "en") -> str:
    """The first line of ``feedback/<stem>.md`` in ``language`` (a merge that renames a record
    rewrites it)."""
    who = f"{name} ({stem})" if name and name != stem else stem
    with i18n.use(language):
        return t("# {assignment} feedback: {who}", assignment=assignment, who=who)


def feedback_markdown(record: Record, suite: Suite, name: str = "") -> str:
    """What the student reads (Markdown); ``name`` is the display name, when the LMS gave one.
    Its labels are in the record's language (the messages already are)."""
    with i18n.use(record.language):
        return _feedback_markdown(record, suite, name)


def _feedback_markdown(record: Record, suite: Suite, name: str) -> str:
    total = sum(suite.max_scores.values())
    out = [feedback_title(suite.assignment, record.stem, name, record.language), "",
           t("**Score: {score} / {total}** (status: {status})", score=_fmt(record.score),
             total=_fmt(total), status=record.status), ""]
    if record.reason:
        out += [f"> {cap(record.reason)}", ""]
    if record.cell_notes:
        out += [t("## Running your notebook"), ""]
        out += [f"- {_fence(cap(n))}" if "\n" in n else f"- `{cap(n).replace('`', chr(39))}`"
                for n in record.cell_notes]
        out.append("")
    for q in record.questions:
        out += [f"## {q.name}: {_fmt(q.score)} / {_fmt(q.max_score)} ({q.status})", ""]
        if q.note:
            out += [cap(q.note), ""]
        kinds = {c.name: t(" (hidden test)") if c.hidden else "" for c in q.cases}
        out += [f"- ✅ {c.name}{kinds[c.name]}" for c in q.cases if c.passed]
        # A failure explained once, the cases it affects listed after it (bplab_checks.explained).
        for message, names in group_failures([(c.name, c.message) for c in q.cases
                                              if not c.passed]):
            out += [f"- ❌ {names[0]}{kinds[names[0]]}", "", _fence(cap(message)), ""]
            if len(names) > 1:
                out += [t("  The same mistake fails: ")
                        + ", ".join(f"{n}{kinds[n]}" for n in names[1:]), ""]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# Raw HTML is escaped; links and images are off, so no text can load or point anywhere.
_MD = MarkdownIt("commonmark", {"html": False}).disable(["link", "image", "autolink"])
_PAGE_STYLE = ("body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;"
               "padding:0 1rem;line-height:1.45}pre{background:#f4f4f4;padding:.6rem;"
               "overflow-x:auto;white-space:pre-wrap}code{font-size:.92em}")


def feedback_html(markdown: str, title: str) -> str:
    """The feedback Markdown as one self-contained HTML page (no external assets, no script)."""
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'\">"
            f"<title>{escape(title)}</title><style>{_PAGE_STYLE}</style></head><body>"
            f"{_MD.render(markdown)}</body></html>\n")


def csv_row(record: Record, suite: Suite, identity: Identity, flags: str) -> list[str]:
    """The record's grades.csv row (columns: ``csv_header``)."""
    by_name = {q.name: q for q in record.questions}
    cells = []
    for name in suite.questions:
        q = by_name.get(name)
        # A grader fault is not the student's: its questions stay blank, not 0.
        cells.append("" if q is None or q.status == "grader_error" else _fmt(q.score))
    score = "" if record.status == "grader_error" else _fmt(record.score)
    total = sum(suite.max_scores.values())
    return [record.stem, record.status, score, _fmt(total), *cells, *identity.csv_cells(flags)]


def csv_header(suite: Suite) -> list[str]:
    return [*FIXED_COLUMNS, *suite.questions, *IDENTITY_COLUMNS]


def print_summary(rows: list[dict[str, str]], suite: Suite, console: Console, isolation: str,
                  max_rows: int = 40) -> None:
    """The terminal table, from grades.csv rows (dicts keyed by ``csv_header``)."""
    total = _fmt(sum(suite.max_scores.values()))
    table = Table(title=f"{suite.assignment}: {len(rows)} submission(s)")
    for column in ("submission", "name", "status", "score", "lost points on"):
        table.add_column(column, justify="right" if column == "score" else "left")
    shown = sorted(rows, key=lambda r: (r["status"] == "graded", r["submission"]))[:max_rows]
    for r in shown:
        lost = [q for q in suite.questions if r.get(q, "") != _fmt(suite.max_scores[q])]
        style = "green" if r["status"] == "graded" else "red"
        table.add_row(escape_rich(r["submission"]), escape_rich(r.get("name", "")),
                      f"[{style}]{r['status']}[/{style}]", f"{r['score'] or '-'}/{total}",
                      ", ".join(lost) or "-")
    console.print(table)
    if len(rows) > max_rows:
        console.print(f"({len(rows) - max_rows} more rows in grades.csv)")
    counts = Counter(r["status"] for r in rows)
    console.print("statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    console.print(f"isolation: {isolation}")

