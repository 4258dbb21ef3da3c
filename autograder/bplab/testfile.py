"""Read Otter exception-based test files and make their student copy (hidden cases removed).

A test file declares ``name``, ``points`` and test cases decorated with ``@test_case(...)``.
Hidden cases are the only place the reference (``solutions``) may be imported, so removing them
removes every trace of the reference from the student copy. Everything is done on the AST:
nothing in a test file is executed here.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from bplab.definitions import node_span

REFERENCE_PACKAGE = "solutions"


class QuestionFileError(ValueError):
    """A test file does not follow the conventions the build relies on."""


@dataclass(frozen=True)
class CaseInfo:
    function: str
    hidden: bool
    start: int  # 0-based line range [start, stop) of the decorated function
    stop: int


def _test_case_decorator(node: ast.AST) -> ast.Call | None:
    if isinstance(node, ast.Call):
        func = node.func
        if (isinstance(func, ast.Name) and func.id == "test_case") or (
            isinstance(func, ast.Attribute) and func.attr == "test_case"
        ):
            return node
    return None


def _is_hidden(call: ast.Call, where: str) -> bool:
    for keyword in call.keywords:
        if keyword.arg == "hidden":
            if isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, bool):
                return keyword.value.value
            raise QuestionFileError(f"{where}: hidden= must be a literal True or False")
    if len(call.args) >= 3:
        raise QuestionFileError(f"{where}: pass hidden= as a keyword")
    return False


def case_functions(source: str, where: str = "<test file>") -> list[CaseInfo]:
    """The ``@test_case`` functions of a test file, in source order.

    Raises:
        QuestionFileError: a ``test_case`` is used other than as a top-level decorator call, or
            ``hidden`` is not a literal.
    """
    tree = ast.parse(source, where)
    lines = source.splitlines()
    cases: list[CaseInfo] = []
    decorators: set[int] = set()
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        calls = [c for d in node.decorator_list if (c := _test_case_decorator(d)) is not None]
        if not calls:
            continue
        decorators.update(id(c) for c in calls)
        hidden = any(_is_hidden(c, f"{where}:{c.lineno}") for c in calls)
        start, stop = node_span(node, lines)
        cases.append(CaseInfo(node.name, hidden, start, stop))
    for other in ast.walk(tree):
        call = _test_case_decorator(other)
        if call is not None and id(call) not in decorators:
            raise QuestionFileError(f"{where}:{call.lineno}: use test_case only as a decorator")
    return cases


def question_name(source: str, where: str = "<test file>") -> str:
    """The literal ``name = "..."`` of a test file."""
    for node in ast.parse(source, where).body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "name" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    raise QuestionFileError(f"{where}: no literal `name = \"...\"` at module level")


def mentions_reference(source: str) -> list[int]:
    """1-based lines that import or name the reference package."""
    hits: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            if any(a.name.split(".")[0] == REFERENCE_PACKAGE for a in node.names):
                hits.add(node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if (node.module or "").split(".")[0] == REFERENCE_PACKAGE:
                hits.add(node.lineno)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if re.match(rf"{REFERENCE_PACKAGE}(\.|$)", node.value):
                hits.add(node.lineno)
        elif isinstance(node, ast.Name) and node.id == REFERENCE_PACKAGE:
            hits.add(node.lineno)
    return sorted(hits)


def _leading_comments(lines: list[str], start: int) -> int:
    """Move ``start`` up over the comment lines directly above it (they describe the case)."""
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return start


def strip_hidden(source: str, where: str = "<test file>") -> str:
    """The student copy of a test file: every ``hidden=True`` case (and its comments) removed.

    Raises:
        QuestionFileError: the copy would still reference ``solutions``, or no public case is left
            (``grader.check`` would have nothing to run).
    """
    lines = source.splitlines()
    cases = case_functions(source, where)
    drop: set[int] = set()
    for case in cases:
        if case.hidden:
            drop.update(range(_leading_comments(lines, case.start), case.stop))
    kept = [line for i, line in enumerate(lines) if i not in drop]
    text = re.sub(r"\n{4,}", "\n\n\n", "\n".join(kept)).rstrip("\n") + "\n"
    if not any(not case.hidden for case in cases):
        raise QuestionFileError(f"{where}: no public test case is left for students")
    leaks = mentions_reference(text)
    if leaks:
        raise QuestionFileError(
            f"{where}: lines {leaks} use `{REFERENCE_PACKAGE}` outside hidden cases "
            "(import the reference only inside hidden test functions)"
        )
    return text


def read_question(path: Path) -> tuple[str, str]:
    """``(question name, source)`` of a test file; the name must match the file name."""
    source = path.read_text(encoding="utf-8")
    name = question_name(source, str(path))
    if name != path.stem:
        raise QuestionFileError(f"{path}: name = {name!r} does not match the file name")
    return name, source
