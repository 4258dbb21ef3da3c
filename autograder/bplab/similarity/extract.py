"""What each student wrote for each question: the graded cells minus the released template.

Contract:

- A question's names are the ``define`` cells whose ``grader.check`` cell follows them in the
  committed notebook (``bplab.notebook.question_of_definitions``); its template is the stub of
  each of those names (``Definition.stub``, what ``bplab sync`` renders).
- In a submission, a code cell belongs to a name when its metadata says
  ``{"bplab": {"define": name}}``; a cell that lost its metadata belongs to every graded name it
  defines at top level (``def name`` / ``class name``). When several cells define one name the
  last one counts (as when the notebook runs top to bottom).
- ``Snippet.text`` is the question's cells, joined; ``Snippet.written`` is the set of its lines
  that are not template lines (difflib on stripped lines): only those are compared.
- Submissions are bytes read as text: invalid UTF-8 is replaced, JSON that is not a notebook
  gives no snippets, a cell is cut at ``MAX_CELL_CHARS`` and a question at ``MAX_QUESTION_CHARS``
  (``Snippet.note`` says so), at most ``MAX_CELLS`` cells are looked at. Nothing is executed.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field

from bplab import notebook
from bplab.definitions import load_definitions
from bplab.layout import Assignment

MAX_CELL_CHARS = 20_000
MAX_QUESTION_CHARS = 60_000
MAX_CELLS = 5_000
_TOP_LEVEL = re.compile(r"^(?:async[ \t]+def|def|class)[ \t]+([A-Za-z_]\w*)", re.MULTILINE)


@dataclass(frozen=True)
class Template:
    """The released template: questions in notebook order, their names, each name's stub."""

    assignment: str
    questions: tuple[str, ...]
    names: dict[str, tuple[str, ...]]  # question -> names, in notebook order
    stubs: dict[str, str]  # name -> stub source

    @property
    def owner(self) -> dict[str, str]:
        """Each graded name -> its question."""
        return {n: q for q, names in self.names.items() for n in names}


@dataclass(frozen=True)
class Snippet:
    """A question's cells as the student left them; ``written``: 0-based lines they wrote."""

    text: str
    written: frozenset[int]
    note: str = ""


@dataclass
class Extracted:
    """One submission's snippets (question -> snippet) and what went wrong reading it."""

    snippets: dict[str, Snippet] = field(default_factory=dict)
    problem: str = ""


def load_template(assignment: Assignment) -> Template:
    """The template of ``assignment`` from its committed notebook and its reference module."""
    nb = notebook.read(assignment.notebook)
    owner = notebook.question_of_definitions(nb)
    definitions = load_definitions(assignment.solution)
    names: dict[str, list[str]] = {}
    for name, question in owner.items():
        names.setdefault(question, []).append(name)
    order = [q for q in notebook.questions(nb) if q in names]
    return Template(assignment.name, tuple(order), {q: tuple(names[q]) for q in order},
                    {n: definitions[n].stub for n in owner if n in definitions})


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def _define(cell: dict) -> str | None:
    metadata = cell.get("metadata")
    role = metadata.get(notebook.KEY) if isinstance(metadata, dict) else None
    name = role.get("define") if isinstance(role, dict) else None
    return name if isinstance(name, str) else None


def code_cells(data: bytes) -> tuple[list[tuple[str | None, str]], str]:
    """``(define name or None, source)`` of each code cell, and a problem ('' when none)."""
    text = data.decode("utf-8", errors="replace")
    try:
        nb = json.loads(text)
    except (ValueError, RecursionError):
        return [], "not a JSON notebook"
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        return [], "no cells"
    out = []
    for cell in cells[:MAX_CELLS]:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            out.append((_define(cell), _source(cell)))
    return out, ""


def written_lines(text: str, template: str) -> frozenset[int]:
    """0-based lines of ``text`` that are not matched to a line of ``template`` (nor blank)."""
    mine = [line.strip() for line in text.split("\n")]
    theirs = [line.strip() for line in template.split("\n")]
    matcher = difflib.SequenceMatcher(None, theirs, mine, autojunk=False)
    from_template = {j + k for _, j, size in matcher.get_matching_blocks() for k in range(size)}
    return frozenset(i for i, line in enumerate(mine) if line and i not in from_template)


def _cut(text: str, limit: int) -> tuple[str, bool]:
    return (text[:limit], True) if len(text) > limit else (text, False)


def extract(data: bytes, template: Template) -> Extracted:
    """The snippets of one submission's notebook bytes (see the module docstring)."""
    cells, problem = code_cells(data)
    owner = template.owner
    by_name: dict[str, tuple[str, bool]] = {}
    for define, source in cells:
        text, cut = _cut(source, MAX_CELL_CHARS)
        defined = [define] if define in owner else [
            n for n in _TOP_LEVEL.findall(text) if n in owner]
        for name in defined:
            by_name[name] = (text, cut)
    result = Extracted(problem=problem)
    for question, names in template.names.items():
        parts, notes, seen = [], [], set()
        for name in names:
            if name not in by_name or id(by_name[name][0]) in seen:
                continue
            text, cut = by_name[name]
            seen.add(id(text))
            parts.append(text)
            if cut:
                notes.append(f"the cell defining {name} was cut at {MAX_CELL_CHARS} characters")
        if not parts:
            continue
        text, cut = _cut("\n".join(parts), MAX_QUESTION_CHARS)
        if cut:
            notes.append(f"the question was cut at {MAX_QUESTION_CHARS} characters")
        stub = "\n".join(template.stubs.get(n, "") for n in names)
        result.snippets[question] = Snippet(text, written_lines(text, stub), "; ".join(notes))
    return result
