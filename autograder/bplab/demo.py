"""``make demo``: build each assignment, grade its bundled examples in the sandbox, report.

For every assignment whose notebook exists (``Assignment.all()``, in number order) this builds
``dist/hwN/``, grades every notebook of ``examples/hwN/`` with ``bplab grade`` into
``demo-out/hwN/`` (grades.csv, results/, feedback/, report.html), prints the score table, one
student's feedback file, and whether each example scored as it should: the full solution gets
every point, the blank notebook none, and a single-bug notebook loses points exactly on the
questions its bug touches (its bank variant's ``losing``, ``examples/hwN/variants.py``). Exits
1 when an example did not.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markdown import Markdown

from bplab import REPO_ROOT
from bplab.build import build
from bplab.examples import BLANK, FULL, example_variants
from bplab.grade.command import run_grade
from bplab.layout import Assignment, GradingDir
from bplab.report import write_report

OUT_DIR = REPO_ROOT / "demo-out"
FEEDBACK_SHOWN = "bug_matmul_db_transposed"  # the hw1 example whose feedback the demo prints


def expected_losing(assignment: Assignment, example: str, questions: list[str]) -> set[str] | None:
    """Questions that must score below the maximum, or None for an example with no expectation."""
    if example == FULL:
        return set()
    if example == BLANK:
        return set(questions)
    bugs = example_variants(assignment)
    return set(bugs[example].losing) if example in bugs else None


def surprises(assignment: Assignment, records: list, questions: list[str]) -> list[str]:
    """One line for each example that did not score as expected (empty when all did)."""
    found = []
    for record in records:
        expected = expected_losing(assignment, record.stem, questions)
        losing = {q.name for q in record.questions if q.score < q.max_score}
        if record.status != "graded" or (expected is not None and losing != expected):
            found.append(f"{record.stem}: status {record.status}, lost {sorted(losing)}, "
                         f"expected to lose {sorted(expected or [])}")
    return found


def run(names: list[str] | None = None, console: Console | None = None) -> bool:
    """Build and grade the examples of ``names`` (default: every assignment with a notebook)."""
    console = console or Console()
    if names is None:
        names = [a.name for a in Assignment.all()]
    all_ok = True
    for name in names:
        assignment = Assignment.named(name)
        release = build(assignment)
        for warning in release.warnings:
            console.print(f"[yellow]warning:[/] {warning}")
        out = GradingDir(OUT_DIR / name)
        notebooks = assignment.example_notebooks()
        console.rule(f"{name}: built {release.out_dir.relative_to(REPO_ROOT)}/; "
                     f"grading {len(notebooks)} examples with bplab grade")
        records = run_grade(name, notebooks, out.root, console=console)
        for line in surprises(assignment, records, release.questions):
            all_ok = False
            console.print(f"[red]scored unexpectedly:[/] {line}")
        feedback = out.feedback(FEEDBACK_SHOWN)
        if feedback.is_file():
            console.rule(f"what the student of {FEEDBACK_SHOWN} reads ({feedback})")
            console.print(Markdown(feedback.read_text()[:3000]))
        console.print(f"grades: {out.grades_csv}")
        console.print(f"report: {write_report(out.root)}")
    console.print("[green]every example scored as expected[/]" if all_ok
                  else "[red]some examples did not score as expected[/]")
    return all_ok


if __name__ == "__main__":
    sys.exit(0 if run(sys.argv[1:] or None) else 1)
