"""Turn a submitted notebook file into the code cells the worker runs.

The grader parses the notebook itself (no kernel): ``nbformat`` reads it, markdown is dropped,
cells tagged ``otter_ignore`` (or with ``{"otter": {"ignore": true}}``) are skipped as Otter
skips them, and IPython-only syntax (``%magic``, ``!shell``, ``%%cell magic``) is rewritten
by IPython's own input transformer into calls the worker's ``get_ipython()`` ignores, with a
note, because the worker is plain Python.

Sizes the student controls stay the student's problem: a cell larger than ``MAX_CELL_CHARS``
(before or after rewriting), or one IPython cannot rewrite, is not run and says so in its
note; the notes of one notebook are bounded (``MAX_NOTES_PER_CELL``, ``MAX_NOTES``).
"""

from __future__ import annotations

import json
import re
import tokenize
import warnings
from dataclasses import dataclass

import nbformat
from bplab_checks import i18n
from IPython.core.inputtransformer2 import TransformerManager, make_tokens_by_line

from bplab.grade.text import clean

MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
# A cell the worker runs holds at most this many characters once rewritten (a cell over it is
# that cell's error: the student's, never the grader's); far above any honest cell.
MAX_CELL_CHARS = 2 * 1024 * 1024
MAX_NOTES_PER_CELL = 5
MAX_NOTES = 40  # IPython notes in one notebook (each cell's count is still said)
# IPython rewriting tokenizes a cell in this (trusted) process: only cells that may hold
# IPython syntax are rewritten, and at most this many characters of them per notebook.
MAX_REWRITE_CHARS = 1024 * 1024
IGNORE_TAG = "otter_ignore"
_TM = TransformerManager()
# A line that may start IPython syntax (escapes !, %, ?, and the autocall /, ",", ;), an
# assignment from one (x = !cmd), or a help query (obj?). Only a filter: IPython decides.
_MAYBE_IPYTHON = re.compile(r"^[ \t]*(?:[!%?/,;]|[\w.]+[ \t]*=[ \t]*[!%])|\?[ \t]*$", re.M)


class InvalidNotebook(ValueError):
    """The file is not a readable Jupyter notebook; the message says why, for the student."""


@dataclass(frozen=True)
class Cell:
    """One code cell to run: ``number`` is its 1-based position among all notebook cells."""

    number: int
    source: str
    notes: tuple[str, ...] = ()


def notebook_language(data: bytes) -> str | None:
    """The language a translated release wrote into the notebook (``metadata.bplab.language``),
    or None (an English release, a student's own notebook, anything unreadable or unknown)."""
    try:
        meta = json.loads(data.decode("utf-8-sig")).get("metadata", {}).get("bplab", {})
        lang = meta.get("language") if isinstance(meta, dict) else None
    except Exception:  # noqa: BLE001 - hostile bytes: parse_notebook says what is wrong
        return None
    return lang if isinstance(lang, str) and lang in i18n.LANGUAGES else None


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
    nb = raw if _plain_v4(raw) else _nbformat_reads(text)
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise InvalidNotebook("the notebook's 'cells' is not a list")
    out = []
    rewrite = [MAX_REWRITE_CHARS]  # characters left to rewrite, shared by the cells
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
        out.append(_runnable(i, source, rewrite))
    return _cap_notes([c for c in out if c.source.strip() or c.notes])


def _nbformat_reads(text: str) -> dict:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return nbformat.reads(text, as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many types on bad input
        why = f"nbformat cannot read it: {type(exc).__name__}: {exc}"
        raise InvalidNotebook(why[:500]) from None


def _plain_v4(raw: dict) -> bool:
    """Whether ``nbformat.reads`` would give back ``raw``'s cells as they are (the fast path).

    ``nbformat`` parses the JSON again, builds its node types, rejoins lists of lines and
    validates against the schema (most of a submission's parsing time), and only logs what the
    schema refuses. On a version 4 notebook of the usual shape none of that changes what is
    read here (cell types, metadata tags, sources; lists of lines are joined here too) or can
    raise; anything unusual (another version, a cell without metadata, lines that are not
    strings, attachments) takes ``nbformat``'s path, so it fails or is repaired exactly as
    there (and as in Otter, which reads notebooks with ``nbformat``).
    """
    if type(raw.get("nbformat")) is not int or raw["nbformat"] != 4 \
            or type(raw.get("nbformat_minor", 0)) is not int \
            or type(raw.get("metadata")) is not dict or type(raw.get("cells")) is not list:
        return False
    for cell in raw["cells"]:
        if type(cell) is not dict or type(cell.get("metadata")) is not dict \
                or type(cell.get("cell_type")) is not str or "attachments" in cell \
                or not _lines(cell.get("source", "")) or type(cell.get("id", "")) is not str:
            return False
        if cell["cell_type"] == "code":
            outputs = cell.get("outputs", [])
            if type(outputs) is not list:
                return False
            for out in outputs:
                if type(out) is not dict or type(out.get("output_type", "")) is not str \
                        or type(out.get("data", {})) is not dict \
                        or not _lines(out.get("text", "")):
                    return False
    return True


def _lines(value: object) -> bool:
    """A string, or a list of strings (what nbformat joins)."""
    return type(value) is str or (type(value) is list and all(type(s) is str for s in value))


def _runnable(number: int, source: str, rewrite: list[int]) -> Cell:
    """Cell ``number`` rewritten for the worker, or empty with a note saying why it is not run.

    ``rewrite[0]`` is what is left of the notebook's rewriting budget (it is charged here).
    """
    if len(source) > MAX_CELL_CHARS:
        return Cell(number, "", (_too_large(len(source)),))
    if not _MAYBE_IPYTHON.search(source):
        return Cell(number, source)  # plain Python (the common case): nothing to rewrite
    rewrite[0] -= len(source)
    if rewrite[0] < 0:
        return Cell(number, "", ("the cell was not run: the notebook holds too much IPython "
                                 f"syntax (more than {MAX_REWRITE_CHARS // 2**20} MiB of cells)",))
    try:
        source, notes = neutralize_ipython(source)
    except Exception as exc:  # noqa: BLE001 - IPython gives up on some input; the cell's error
        return Cell(number, "", (f"the cell was not run: IPython cannot rewrite it ({exc})",))
    if len(source) > MAX_CELL_CHARS:
        return Cell(number, "", (*notes[:1], _too_large(len(source))))
    return Cell(number, source, notes)


def _too_large(chars: int) -> str:
    return (f"the cell was not run: it is too large ({chars / 2**20:.1f} MiB once IPython "
            f"commands are rewritten; a cell may hold {MAX_CELL_CHARS // 2**20} MiB)")


def _cap_notes(cells: list[Cell]) -> list[Cell]:
    """Keep the notebook's notes bounded: past ``MAX_NOTES``, one count per cell."""
    budget = MAX_NOTES
    out = []
    for cell in cells:
        notes = cell.notes
        if budget <= 0 and notes:
            notes = (f"{len(notes)} more notes (not shown)",)
        budget -= len(notes)
        out.append(Cell(cell.number, cell.source, notes))
    return out


def neutralize_ipython(source: str) -> tuple[str, tuple[str, ...]]:
    """The cell as plain Python, the way IPython rewrites it, and a note per IPython command.

    IPython's own input transformer does the rewriting (``%magic`` -> ``get_ipython().
    run_line_magic(...)``, ``!cmd`` -> ``get_ipython().system(...)``, ``x = !cmd``, ``obj?``,
    prompts stripped); the worker's ``get_ipython()`` runs none of them. It is applied to one
    logical line at a time: IPython re-tokenizes the whole cell after each command it rewrites,
    which costs the trusted process quadratic time on a cell of many commands, while logical
    lines are independent. So a continuation line starting with ``!=`` or ``%`` inside
    brackets, or a line of a string, is never taken for a command.
    """
    lines = (source if source.endswith("\n") else source + "\n").splitlines(keepends=True)
    for cleanup in _TM.cleanup_transforms:  # empty lines, common indent, >>> and In [1]: prompts
        lines = cleanup(lines)
    if lines and lines[0].startswith("%%"):
        first = clean(lines[0].split()[0][:60])
        return "", (f"cell magic {first!r} is not run by the grader (cell skipped)",)
    notes: list[str] = []
    spans = _logical_lines(lines)
    for start, stop in reversed(spans):  # from the end: replacing keeps earlier rows in place
        group = lines[start:stop]
        text = "".join(group)
        if not any(c in text for c in "!%?"):
            continue
        new = _TM.do_token_transforms(group)
        if new != group:
            command = clean(" ".join(line.strip() for line in group)[:60])
            notes.append(f"line {start + 1}: IPython command {command!r} is not run")
            lines[start:stop] = new
    notes.reverse()
    if len(notes) > MAX_NOTES_PER_CELL:
        more = len(notes) - MAX_NOTES_PER_CELL
        notes[MAX_NOTES_PER_CELL:] = [f"and {more} more IPython commands, not run either"]
    return "".join(lines), tuple(notes)


def _logical_lines(lines: list[str]) -> list[tuple[int, int]]:
    """``(first, end)`` row ranges (0-based, end exclusive) of the cell's logical lines."""
    spans = []
    for tokens in make_tokens_by_line(lines):
        rows = [t.start[0] for t in tokens if t.type != tokenize.ENDMARKER]
        rows += [t.end[0] for t in tokens if t.type != tokenize.ENDMARKER]
        if rows:
            spans.append((min(rows) - 1, min(max(rows), len(lines))))
    return spans
