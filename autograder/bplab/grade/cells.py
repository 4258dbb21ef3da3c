"""Turn a submitted notebook file into the code cells the worker runs.

The grader parses the notebook itself (no kernel): ``nbformat`` reads it, markdown is dropped,
cells tagged ``otter_ignore`` (or with ``{"otter": {"ignore": true}}``) are skipped as Otter
skips them, and IPython-only syntax (``%magic``, ``!shell``, ``%%cell magic``) is neutralized
with a note, because the worker is plain Python.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass

import nbformat

MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
IGNORE_TAG = "otter_ignore"
_MAGIC_LINE = re.compile(r"^(?P<indent>[ \t]*)(?:[%!]|\w+\s*=\s*[%!])")


class InvalidNotebook(ValueError):
    """The file is not a readable Jupyter notebook; the message says why, for the student."""


@dataclass(frozen=True)
class Cell:
    """One code cell to run: ``number`` is its 1-based position among all notebook cells."""

    number: int
    source: str
    notes: tuple[str, ...] = ()


def parse_notebook(data: bytes) -> list[Cell]:
    """The code cells of a notebook file, ready to run (raises ``InvalidNotebook``)."""
    if not data.strip():
        raise InvalidNotebook("the file is empty")
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise InvalidNotebook(f"the file is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidNotebook("the file is not text (not UTF-8): not a notebook") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidNotebook(
            f"the file is not valid JSON (truncated or corrupted?): {exc.msg} at line {exc.lineno}"
        ) from None
    except RecursionError:
        raise InvalidNotebook("the file's JSON is nested too deeply") from None
    if not isinstance(raw, dict):
        raise InvalidNotebook(f"the file holds a JSON {type(raw).__name__}, not a notebook")
    if "cells" not in raw and "worksheets" not in raw:
        raise InvalidNotebook("the JSON has no 'cells': not a Jupyter notebook")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many types on bad input
        why = f"nbformat cannot read it: {type(exc).__name__}: {exc}"
        raise InvalidNotebook(why[:500]) from None
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise InvalidNotebook("the notebook's 'cells' is not a list")
    out = []
    for i, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata") or {}
        tags = meta.get("tags") or [] if isinstance(meta, dict) else []
        otter_meta = meta.get("otter") if isinstance(meta, dict) else None
        if IGNORE_TAG in tags or (isinstance(otter_meta, dict) and otter_meta.get("ignore")):
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(s) for s in source)
        if not isinstance(source, str):
            raise InvalidNotebook(f"cell {i} has no text source")
        source, notes = neutralize_ipython(source)
        if source.strip() or notes:
            out.append(Cell(i, source, notes))
    return out


def neutralize_ipython(source: str) -> tuple[str, tuple[str, ...]]:
    """Replace IPython-only lines with ``pass``; a ``%%`` cell magic skips the whole cell."""
    if source.lstrip().startswith("%%"):
        first = source.lstrip().splitlines()[0]
        return "", (f"cell magic {first.split()[0]!r} is not run by the grader (cell skipped)",)
    lines = source.split("\n")
    notes = []
    for j, line in enumerate(lines):
        m = _MAGIC_LINE.match(line)
        if m:
            notes.append(f"line {j + 1}: IPython command {line.strip()[:60]!r} is not run")
            lines[j] = f"{m.group('indent')}pass  # bplab: IPython command removed"
    return "\n".join(lines), tuple(notes)
