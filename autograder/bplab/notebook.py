"""Render an assignment notebook from the reference module, and ``bplab sync``.

The committed notebook ``assignments/hwN/hwN.ipynb`` holds the teaching text; the source of its
generated code cells comes from ``solutions/``. A cell's ``metadata["bplab"]`` says what it holds:

- ``{"define": "MatMul"}``: that top-level definition of ``solutions/hwN.py`` (stub or reference);
- ``{"provide": ["MatMul", ...], "from": "hw1"}``: the reference of those names, already done;
- ``{"check": "MatMul"}``: ``grader.check("MatMul")``, run after the question's definitions.

Rendering is deterministic: no outputs, no execution counts, stable cell ids, fixed metadata.
"""

from __future__ import annotations

import copy
import hashlib
import re
from typing import Literal

import click
import nbformat
from nbformat import NotebookNode

from bplab.definitions import Definition, load_definitions
from bplab.layout import Assignment

KEY = "bplab"
Mode = Literal["stub", "reference"]
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
_CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
# Editors add these per run; they would make every save a diff.
_VOLATILE_CELL_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime")


class NotebookError(ValueError):
    """The notebook's generated cells do not match the reference module."""


def read(path) -> NotebookNode:
    return nbformat.read(path, as_version=4)


def dumps(nb: NotebookNode) -> str:
    """The notebook as the exact text that gets committed."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def cell_role(cell: NotebookNode) -> dict:
    """The cell's ``bplab`` metadata (empty for a hand-written cell)."""
    return dict(cell.get("metadata", {}).get(KEY, {}))


def questions(nb: NotebookNode) -> list[str]:
    """Question names in notebook order, one per ``grader.check`` cell."""
    return [cell_role(c)["check"] for c in nb.cells if "check" in cell_role(c)]


def question_of_definitions(nb: NotebookNode) -> dict[str, str]:
    """Each defined name -> the question whose check cell follows it."""
    owner: dict[str, str] = {}
    pending: list[str] = []
    for cell in nb.cells:
        role = cell_role(cell)
        if "define" in role:
            pending.append(role["define"])
        elif "check" in role:
            owner.update(dict.fromkeys(pending, role["check"]))
            pending = []
    return owner


def check_source(question: str) -> str:
    return f'grader.check("{question}")'


def provide_source(definitions: list[Definition], origin: str) -> str:
    header = f"# Provided from {origin}: already implemented. Run this cell; do not edit it.\n"
    return header + "\n\n\n".join(d.reference for d in definitions)


def _generated_id(role: dict) -> str | None:
    """The fixed id of a generated cell (None for a hand-written one)."""
    if "define" in role:
        return f"define-{role['define']}"
    if "provide" in role:
        return f"provide-{role['from']}"
    if "check" in role:
        return f"check-{role['check']}"
    return None


def _stable_id(index: int, cell: NotebookNode) -> str:
    digest = hashlib.sha1(f"{index}\n{cell.cell_type}\n{cell.source}".encode()).hexdigest()
    return f"cell-{digest[:8]}"


def _normalize(nb: NotebookNode, assignment: Assignment) -> None:
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.metadata = nbformat.from_dict(
        {
            "kernelspec": KERNELSPEC,
            "language_info": {"name": "python"},
            # Otter refuses a submission whose assignment name differs from the autograder's.
            "otter": {"assignment_name": assignment.name},
        }
    )
    generated = {_generated_id(cell_role(cell)) for cell in nb.cells} - {None}
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        for key in _VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        if "attachments" in cell and not cell.attachments:
            del cell["attachments"]
        cell_id = _generated_id(cell_role(cell))
        if cell_id is None:
            # Hand-written cells keep their id (Jupyter's random one is stable once saved).
            cell_id = cell.get("id", "")
            if not _CELL_ID.match(cell_id) or cell_id in seen or cell_id in generated:
                cell_id = _stable_id(index, cell)
        if cell_id in seen:
            raise NotebookError(f"two cells would get the id {cell_id!r}")
        seen.add(cell_id)
        cell.id = cell_id


def render(nb: NotebookNode, assignment: Assignment, mode: Mode = "stub") -> NotebookNode:
    """A copy of ``nb`` with every generated cell rendered from ``solutions/``.

    Args:
        nb: the notebook (teaching text plus cells carrying ``bplab`` metadata).
        assignment: whose reference module fills the ``define`` cells.
        mode: ``"stub"`` for the student notebook, ``"reference"`` for the full solution.

    Raises:
        NotebookError: a graded definition has no cell or two cells, a cell names something the
            reference module does not define, or a question is checked twice.
    """
    if mode not in ("stub", "reference"):
        raise ValueError(f"mode must be 'stub' or 'reference', got {mode!r}")
    out = copy.deepcopy(nb)
    own = load_definitions(assignment.solution)
    defined: list[str] = []
    checked: list[str] = []
    for cell in out.cells:
        role = cell_role(cell)
        if "define" in role:
            name = role["define"]
            if name not in own:
                raise NotebookError(f"{assignment.solution.name} defines no {name!r}")
            defined.append(name)
            cell.source = own[name].stub if mode == "stub" else own[name].reference
        elif "provide" in role:
            origin = Assignment.named(role["from"], assignment.root)
            theirs = load_definitions(origin.solution)
            missing = [n for n in role["provide"] if n not in theirs]
            if missing:
                raise NotebookError(f"{origin.solution.name} defines no {missing}")
            cell.source = provide_source([theirs[n] for n in role["provide"]], origin.name)
        elif "check" in role:
            checked.append(role["check"])
            cell.source = check_source(role["check"])
    twice = sorted({n for n in defined if defined.count(n) > 1})
    missing = [n for n in own if n not in defined]
    if twice or missing:
        raise NotebookError(f"each graded definition needs one cell: twice {twice}, none {missing}")
    twice = sorted({q for q in checked if checked.count(q) > 1})
    if twice:
        raise NotebookError(f"questions checked twice: {twice}")
    _normalize(out, assignment)
    nbformat.validate(out)
    return out


def render_text(assignment: Assignment, mode: Mode = "stub") -> str:
    """The committed notebook re-rendered, as text."""
    return dumps(render(read(assignment.notebook), assignment, mode))


def replace_definition(nb: NotebookNode, name: str, source: str) -> NotebookNode:
    """A copy of a rendered notebook whose ``define`` cell for ``name`` holds ``source``."""
    out = copy.deepcopy(nb)
    cells = [c for c in out.cells if cell_role(c).get("define") == name]
    if len(cells) != 1:
        raise NotebookError(f"expected one cell defining {name!r}, found {len(cells)}")
    cells[0].source = source
    return out


def sync(assignment: Assignment) -> bool:
    """Rewrite the committed notebook from the sources; True when it changed."""
    new = render_text(assignment, "stub")
    old = assignment.notebook.read_text(encoding="utf-8")
    if new != old:
        assignment.notebook.write_text(new, encoding="utf-8")
    return new != old


@click.command("sync")
@click.argument("assignment")
@click.option("--check", is_flag=True, help="Only report whether the notebook is stale (exit 1).")
def sync_command(assignment: str, check: bool) -> None:
    """Re-render assignments/ASSIGNMENT/ASSIGNMENT.ipynb from solutions/ASSIGNMENT.py."""
    hw = Assignment.named(assignment)
    if check:
        stale = render_text(hw) != hw.notebook.read_text(encoding="utf-8")
        click.echo(f"{hw.notebook}: {'stale, run `bplab sync ' + hw.name + '`' if stale else 'ok'}")
        raise SystemExit(1 if stale else 0)
    changed = sync(hw)
    click.echo(f"{hw.notebook}: {'rewritten' if changed else 'already up to date'}")
