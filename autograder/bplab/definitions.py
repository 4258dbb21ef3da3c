"""The graded definitions of a reference module, as reference source and as student stub.

``solutions/hwN.py`` is the one source of every graded definition. What students write is fenced,
at the indentation of the code it fences:

    # BEGIN SOLUTION
    out = A @ B
    # END SOLUTION

The reference drops the two fence lines; the stub replaces the whole region with
``# YOUR CODE HERE`` and ``raise NotImplementedError("<Name>.<method>: not implemented yet")``.

A top-level answers dict (``quiz_answers = {...}``, the concept questions) is a definition too:
its fence sits inside the dict literal, around ``"key": value,`` lines, and the stub keeps every
key with the value ``None`` (a cell that raised would stop *Run All* before the later cells).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
STUB_MARK = "# YOUR CODE HERE"
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<mark># (?:BEGIN|END) SOLUTION)[ \t]*$")
_DEFINITION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef)


class FenceError(ValueError):
    """A solution fence is malformed (unclosed, nested, misplaced or mis-indented)."""


@dataclass(frozen=True)
class Fence:
    """One fenced region; line numbers are 0-based indices into the definition's lines."""

    begin: int
    end: int
    indent: str
    qualname: str
    # For an answers dict: the keys inside the fence, each stubbed as ``"key": None,``.
    keys: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Definition:
    """One top-level function or class of a reference module."""

    name: str
    lines: tuple[str, ...]
    fences: tuple[Fence, ...]

    @property
    def reference(self) -> str:
        """The definition with its fence lines dropped (what the solution notebook shows)."""
        fence_lines = {i for f in self.fences for i in (f.begin, f.end)}
        return "\n".join(line for i, line in enumerate(self.lines) if i not in fence_lines)

    @property
    def stub(self) -> str:
        """The definition with each fenced region replaced by a NotImplementedError."""
        out: list[str] = []
        i = 0
        for fence in self.fences:
            out.extend(self.lines[i : fence.begin])
            out.append(f"{fence.indent}{STUB_MARK}")
            if fence.keys is not None:
                out.extend(f"{fence.indent}{json.dumps(key)}: None," for key in fence.keys)
                i = fence.end + 1
                continue
            message = f'"{fence.qualname}: not implemented yet"'
            out.append(f"{fence.indent}raise NotImplementedError({message})")
            i = fence.end + 1
        out.extend(self.lines[i:])
        return "\n".join(out)

    def solution_lines(self) -> list[str]:
        """The lines students write (strictly inside the fences), as in the reference."""
        return [line for f in self.fences for line in self.lines[f.begin + 1 : f.end]]


def node_span(node: ast.stmt, lines: list[str]) -> tuple[int, int]:
    """0-based ``[start, stop)`` line range of a top-level statement, decorators included.

    ``ast`` ends a block at its last statement, so indented comment lines right after it (such
    as a closing ``# END SOLUTION``) are added; trailing blank lines are not.
    """
    decorators = getattr(node, "decorator_list", [])
    start = min([node.lineno, *(d.lineno for d in decorators)]) - 1
    stop = node.end_lineno or node.lineno
    last = stop
    while stop < len(lines) and (not lines[stop].strip() or lines[stop][:1] in " \t"):
        stop += 1
        if lines[stop - 1].strip():
            last = stop
    return start, last


def _enclosing_function(node: ast.AST, line: int, prefix: str = "") -> str | None:
    """Qualified name of the innermost function whose body holds 1-based ``line``."""
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, _DEFINITION_NODES):
            continue
        if not child.lineno < line <= (child.end_lineno or child.lineno):
            continue
        qualname = f"{prefix}{child.name}"
        inner = _enclosing_function(child, line, qualname + ".")
        if inner is not None:
            return inner
        return qualname if isinstance(child, _FUNCTION_NODES) else None
    return None


def _fences(node: ast.stmt, lines: tuple[str, ...], start: int, where: str) -> tuple[Fence, ...]:
    fences: list[Fence] = []
    open_at: tuple[int, str] | None = None
    for i, line in enumerate(lines):
        match = _FENCE.match(line)
        if match is None:
            continue
        indent, mark = match["indent"], match["mark"]
        lineno = start + i + 1
        if mark == BEGIN:
            if open_at is not None:
                raise FenceError(f"{where}:{lineno}: nested {BEGIN}")
            open_at = (i, indent)
            continue
        if open_at is None:
            raise FenceError(f"{where}:{lineno}: {END} without {BEGIN}")
        begin, begin_indent = open_at
        if indent != begin_indent:
            raise FenceError(f"{where}:{lineno}: {END} is not indented like its {BEGIN}")
        # A fence needs a statement inside it so that ast places it in its function.
        holder = ast.Module(body=[node], type_ignores=[])
        qualname = _enclosing_function(holder, start + begin + 2)
        if qualname is None:
            raise FenceError(f"{where}:{start + begin + 1}: a fence must be inside a function body")
        fences.append(Fence(begin, i, begin_indent, qualname))
        open_at = None
    if open_at is not None:
        raise FenceError(f"{where}:{start + open_at[0] + 1}: {BEGIN} is never closed")
    return tuple(fences)


def _answers_dict(node: ast.stmt) -> tuple[str, ast.Dict] | None:
    """``(name, dict node)`` of a top-level ``name = {...}`` assignment, else None."""
    if (isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Dict)):
        return node.targets[0].id, node.value
    return None


def _answer_fences(name: str, value: ast.Dict, lines: tuple[str, ...], start: int,
                   where: str) -> tuple[Fence, ...]:
    """The one fence of an answers dict, with the string keys whose entries it holds."""
    marks = [(i, m) for i, line in enumerate(lines) if (m := _FENCE.match(line)) is not None]
    if not marks:
        return ()
    if len(marks) != 2 or marks[0][1]["mark"] != BEGIN or marks[1][1]["mark"] != END:
        raise FenceError(f"{where}:{start + marks[0][0] + 1}: an answers dict needs exactly one "
                         f"{BEGIN} ... {END} pair")
    (begin, b), (end, e) = marks
    if b["indent"] != e["indent"]:
        raise FenceError(f"{where}:{start + end + 1}: {END} is not indented like its {BEGIN}")
    keys = []
    for key in value.keys:
        if key is None or not start + begin < key.lineno - 1 < start + end:
            continue
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            raise FenceError(f"{where}:{key.lineno}: answers dict keys must be string literals")
        keys.append(key.value)
    return (Fence(begin, end, b["indent"], name, tuple(keys)),)


def parse_definitions(source: str, filename: str = "<solutions>") -> dict[str, Definition]:
    """Every top-level function and class of ``source`` (and every fenced answers dict), in
    source order.

    Raises:
        FenceError: a fence is malformed, or a fence sits outside every definition.
    """
    tree = ast.parse(source, filename)
    lines = source.splitlines()
    definitions: dict[str, Definition] = {}
    covered: set[int] = set()
    for node in tree.body:
        answers = _answers_dict(node)
        if not isinstance(node, _DEFINITION_NODES) and answers is None:
            continue
        start, stop = node_span(node, lines)
        body = tuple(lines[start:stop])
        if answers is not None:
            name, value = answers
            fences = _answer_fences(name, value, body, start, filename)
            if not fences:
                continue  # a plain module-level dict, not a graded answer
        elif isinstance(node, _DEFINITION_NODES):
            name, fences = node.name, _fences(node, body, start, filename)
        else:  # neither a definition nor an answers dict: skipped above
            continue
        covered.update(range(start, stop))
        definition = Definition(name, body, fences)
        compile(definition.stub, f"{filename}:{name} (stub)", "exec")
        definitions[name] = definition
    for i, line in enumerate(lines):
        if i not in covered and _FENCE.match(line):
            raise FenceError(f"{filename}:{i + 1}: a fence must be inside a graded definition")
    return definitions


def solution_lines(definitions: dict[str, Definition]) -> list[str]:
    """Every line students write (inside a fence) of ``definitions``, in source order."""
    return [line for d in definitions.values() for line in d.solution_lines()]


def load_definitions(path: Path) -> dict[str, Definition]:
    """``parse_definitions`` of a reference module file."""
    return parse_definitions(path.read_text(encoding="utf-8"), str(path))
