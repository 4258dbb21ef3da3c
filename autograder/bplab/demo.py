"""``make demo``: build each assignment, grade its bundled examples, print the scores.

For every assignment whose notebook exists (hw1, hw2), this builds ``dist/hwN/``, grades every
notebook of ``examples/hwN/`` with ``otter run`` against ``dist/hwN/autograder.zip`` and prints a
table of per-question scores, with whether each example scored as it should: the full solution
gets every point, the blank notebook none, and a single-bug notebook loses points exactly on the
questions its bug touches (``examples/hwN/bugs.py``). Exits 1 when an example did not.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bplab import REPO_ROOT
from bplab.build import build
from bplab.examples import BLANK, FULL, load_bugs
from bplab.layout import Assignment
from bplab.otter_run import OtterResult, otter_run_many

OUT_DIR = REPO_ROOT / "demo-out"


def expected_losing(assignment: Assignment, example: str, questions: list[str]) -> set[str] | None:
    """Questions that must score below the maximum, or None for an example with no expectation."""
    if example == FULL:
        return set()
    if example == BLANK:
        return set(questions)
    bugs = {bug.name: bug for bug in load_bugs(assignment)}
    return set(bugs[example].losing) if example in bugs else None


def _example_order(path: Path) -> tuple[int, str]:
    """full, blank, then the rest by name."""
    return ({FULL: 0, BLANK: 1}.get(path.stem, 2), path.stem)


def _lost(result: OtterResult, questions: list[str]) -> str:
    lost = [q for q in questions if q in result.losing()]
    if lost and len(lost) == len(questions):
        return f"all {len(questions)} questions"
    return ", ".join(f"{q} {result.scores[q][0]:.3g}/{result.scores[q][1]:g}" for q in lost) or "-"


def table(
    assignment: Assignment, questions: list[str], results: list[OtterResult]
) -> tuple[Table, bool]:
    """The score table of one assignment and whether every example scored as expected."""
    grid = Table(title=f"{assignment.name}: examples graded by otter run", title_justify="left")
    grid.add_column("example", no_wrap=True)
    grid.add_column("score", justify="right", no_wrap=True)
    grid.add_column("lost points on")
    grid.add_column("ok", justify="center")
    all_ok = True
    for result in results:
        example = result.notebook.stem
        expected = expected_losing(assignment, example, questions)
        graded = bool(questions) and set(result.scores) == set(questions)
        ok = graded and (expected is None or result.losing() == expected)
        all_ok &= ok
        score = f"{result.total:.4g}/{result.possible:g}" if graded else "[red]no scores[/]"
        color = "green" if result.total >= result.possible else "yellow"
        verdict = "" if expected is None and graded else ("[green]yes[/]" if ok else "[red]NO[/]")
        grid.add_row(example, f"[{color}]{score}[/]", _lost(result, questions), verdict)
    return grid, all_ok


def run(names: list[str] | None = None, console: Console | None = None) -> bool:
    """Build and grade the examples of ``names`` (default: every assignment with a notebook)."""
    console = console or Console()
    if names is None:
        names = [n for n in ("hw1", "hw2") if Assignment.named(n).notebook.is_file()]
    all_ok = True
    for name in names:
        assignment = Assignment.named(name)
        release = build(assignment)
        for warning in release.warnings:
            console.print(f"[yellow]warning:[/] {warning}")
        notebooks = sorted(assignment.examples_dir.glob("*.ipynb"), key=_example_order)
        console.print(f"[bold]{name}[/]: built {release.out_dir.relative_to(REPO_ROOT)}/, "
                      f"grading {len(notebooks)} example notebooks with otter run ...")
        results = otter_run_many(release.autograder_zip, notebooks, OUT_DIR / name)
        grid, ok = table(assignment, release.questions, results)
        console.print(grid)
        for result in results:
            if not result.scores:
                console.print(f"[red]{result.notebook.name}: otter produced no scores[/]\n"
                              f"{result.log[-2000:]}")
        all_ok &= ok
    console.print(f"Results: {OUT_DIR.relative_to(REPO_ROOT)}/<hw>/<example>/results.json")
    return all_ok


if __name__ == "__main__":
    sys.exit(0 if run(sys.argv[1:] or None) else 1)

