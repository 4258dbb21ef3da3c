"""``bplab examples hwN``: the bundled example submissions, generated from the sources.

``examples/hwN/`` gets ``full.ipynb`` (the reference), ``blank.ipynb`` (the student stubs) and
one notebook per single-bug variant declared in ``examples/hwN/bugs.py`` (see that file).
"""

from __future__ import annotations

import runpy
from dataclasses import dataclass
from pathlib import Path

import click

from bplab import notebook
from bplab.definitions import load_definitions
from bplab.layout import Assignment

FULL = "full"
BLANK = "blank"


@dataclass(frozen=True)
class Bug:
    """One planted bug: which definition changes, how, and which questions must lose points."""

    name: str
    question: str
    define: str
    old: str
    new: str
    affects: tuple[str, ...]
    why: str

    @property
    def losing(self) -> frozenset[str]:
        """Every question that must score below its maximum."""
        return frozenset({self.question, *self.affects})


def load_bugs(assignment: Assignment) -> list[Bug]:
    """The bugs declared in ``examples/hwN/bugs.py`` (none when the file is absent)."""
    path = assignment.examples_dir / "bugs.py"
    if not path.is_file():
        return []
    declared = runpy.run_path(str(path))["BUGS"]
    bugs = []
    for name, spec in declared.items():
        old, new = spec["replace"]
        bugs.append(Bug(name, spec["question"], spec["define"], old, new,
                        tuple(spec.get("affects", ())), spec.get("why", "")))
    return bugs


def render_examples(assignment: Assignment) -> dict[str, str]:
    """File name -> notebook text of every example of ``assignment``."""
    committed = notebook.read(assignment.notebook)
    full = notebook.render(committed, assignment, "reference")
    texts = {
        f"{FULL}.ipynb": notebook.dumps(full),
        f"{BLANK}.ipynb": notebook.dumps(notebook.render(committed, assignment, "stub")),
    }
    definitions = load_definitions(assignment.solution)
    for bug in load_bugs(assignment):
        reference = definitions[bug.define].reference
        if reference.count(bug.old) != 1:
            raise ValueError(
                f"{bug.name}: {bug.old!r} must occur exactly once in the reference of {bug.define}"
            )
        source = reference.replace(bug.old, bug.new)
        texts[f"{bug.name}.ipynb"] = notebook.dumps(
            notebook.replace_definition(full, bug.define, source)
        )
    return texts


def stale_examples(assignment: Assignment) -> list[str]:
    """Example files that are missing or differ from what the generator would write."""
    stale = []
    for name, text in render_examples(assignment).items():
        path = assignment.examples_dir / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def write_examples(assignment: Assignment) -> list[Path]:
    """Write every example; returns the files that changed."""
    assignment.examples_dir.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, text in render_examples(assignment).items():
        path = assignment.examples_dir / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


@click.command("examples")
@click.argument("assignment")
def examples_command(assignment: str) -> None:
    """Regenerate examples/ASSIGNMENT/ (full, blank and single-bug notebooks)."""
    hw = Assignment.named(assignment)
    changed = write_examples(hw)
    click.echo(f"{hw.examples_dir}: {len(changed)} file(s) rewritten")
