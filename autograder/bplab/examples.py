"""``bplab examples hwN``: the bundled example submissions, generated from the sources.

``examples/hwN/`` gets ``full.ipynb`` (the reference), ``blank.ipynb`` (the student stubs) and
one notebook per bank variant with an ``example`` name (``examples/hwN/variants.py``, read by
``bplab.variants``): the reference notebook with that variant's definition in its cell.
"""

from __future__ import annotations

from pathlib import Path

import click

from bplab import notebook
from bplab.layout import Assignment
from bplab.variants import Variant, load_variants

FULL = "full"
BLANK = "blank"


def example_variants(assignment: Assignment) -> dict[str, Variant]:
    """Example notebook stem -> the bank variant it is made of, in bank order."""
    return {v.example: v for v in load_variants(assignment) if v.example is not None}


def render_examples(assignment: Assignment) -> dict[str, str]:
    """File name -> notebook text of every example of ``assignment``."""
    committed = notebook.read(assignment.notebook)
    full = notebook.render(committed, assignment, "reference")
    texts = {
        f"{FULL}.ipynb": notebook.dumps(full),
        f"{BLANK}.ipynb": notebook.dumps(notebook.render(committed, assignment, "stub")),
    }
    for stem, variant in example_variants(assignment).items():
        texts[f"{stem}.ipynb"] = notebook.dumps(
            notebook.replace_definition(full, variant.define, variant.source)
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
