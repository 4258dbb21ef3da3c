"""The bank of variants: planted bugs and correct solutions written another way, in one format.

Each assignment declares its variants in ``examples/hwN/variants.py`` (``Assignment.variants``),
a data file read by path (never imported as a package): a list ``VARIANTS`` of ``planted(...)``
and ``correct(...)`` entries. A variant changes ONE top-level definition of the reference
(``solutions/hwN.py``, read through ``bplab.definitions``), preferably by ``replace`` edits:
``(old, new)`` pairs applied in order to the reference source of ``define``, each ``old``
occurring exactly once (else ``load_variants`` raises ``VariantError``), so a variant follows
the reference when the reference changes. Where an edit would be unnatural (a correct solution
written entirely differently) the entry gives the whole definition as ``source`` instead.

Who reads the bank: ``bplab examples hwN`` writes one notebook per variant with an ``example``
name (``bplab.examples``), ``make demo`` checks that each of those loses points exactly on
``losing``, and the project's tests run every variant through the question test files
(``tests/test_bug_bank.py``). Iterate with ``variants(hw=None, correct=None)``.
"""

from __future__ import annotations

import ast
import runpy
import textwrap
from dataclasses import dataclass
from pathlib import Path

from bplab.definitions import load_definitions
from bplab.layout import Assignment

Edit = tuple[str, str]


class VariantError(ValueError):
    """A declared variant that cannot be built (an edit that no longer applies exactly once,
    a source that is not one top-level definition, a duplicate name)."""


@dataclass(frozen=True)
class Declared:
    """One entry of ``VARIANTS`` as written, before it is resolved against the reference."""

    question: str
    name: str
    code: str | None
    correct: bool
    define: str | None
    replace: tuple[Edit, ...]
    source: str | None
    affects: tuple[str, ...]
    example: str | None
    why: str


@dataclass(frozen=True)
class Variant:
    """One variant, resolved: ``source`` is the whole definition that replaces the reference's.

    Attributes:
        hw: the assignment ("hw1").
        question: the question (test file name without .py) the variant is about.
        name: short description, unique within the question.
        define: the top-level definition it changes (its notebook cell).
        source: that definition's new source (the reference with ``replace`` applied, or the
            declared source).
        replace: the ``(old, new)`` edits it was made with (empty for a declared source).
        code: the diagnosis code the failure messages must contain; None when no diagnosis fits
            (then none may appear). Always None for a correct variant.
        correct: True for a correct solution (full marks, no diagnosis), False for a bug.
        affects: other questions that lose points too (their code calls ``define``).
        example: the notebook stem ``bplab examples`` writes for it, or None.
        why: what the variant is, in words.
    """

    hw: str
    question: str
    name: str
    define: str
    source: str
    replace: tuple[Edit, ...]
    code: str | None
    correct: bool
    affects: tuple[str, ...]
    example: str | None
    why: str

    @property
    def id(self) -> str:
        return f"{self.hw}/{self.question}/{self.name}"

    @property
    def losing(self) -> frozenset[str]:
        """Every question that must score below its maximum (none for a correct variant)."""
        return frozenset() if self.correct else frozenset({self.question, *self.affects})


def planted(question: str, name: str, code: str | None, *, define: str | None = None,
            replace: list[Edit] | tuple[Edit, ...] = (), source: str | None = None,
            affects: list[str] | tuple[str, ...] = (), example: str | None = None,
            why: str = "") -> Declared:
    """A planted bug: ``question`` loses points with diagnosis ``code`` (None: no diagnosis).
    ``define`` defaults to ``question``; give ``replace`` edits or a whole ``source``."""
    return Declared(question, name, code, False, define, tuple(replace), source,
                    tuple(affects), example, why)


def correct(question: str, name: str, *, define: str | None = None,
            replace: list[Edit] | tuple[Edit, ...] = (), source: str | None = None,
            why: str = "") -> Declared:
    """A correct solution written another way: full marks on ``question``, no diagnosis."""
    return Declared(question, name, None, True, define, tuple(replace), source, (), None, why)


def _defined_name(source: str, where: str) -> str:
    """The one top-level name ``source`` defines (a class, a function or an assignment)."""
    try:
        body = ast.parse(source).body
    except SyntaxError as err:
        raise VariantError(f"{where}: source does not parse: {err}") from err
    names = [n.name for n in body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
    names += [t.id for n in body if isinstance(n, ast.Assign) for t in n.targets
              if isinstance(t, ast.Name)]
    if len(names) != 1 or len(body) != 1:
        raise VariantError(f"{where}: source must be one top-level definition, got {names}")
    return names[0]


def apply_edits(reference: str, edits: tuple[Edit, ...], where: str) -> str:
    """``reference`` with each ``(old, new)`` applied in order; each ``old`` must occur once."""
    source = reference
    for old, new in edits:
        if source.count(old) != 1:
            raise VariantError(f"{where}: {old!r} must occur exactly once, found "
                               f"{source.count(old)} times")
        source = source.replace(old, new)
    return source


def _resolve(hw: str, entry: Declared, references: dict[str, str]) -> Variant:
    where = f"{hw}/{entry.question}/{entry.name}"
    if (entry.source is None) == (not entry.replace):
        raise VariantError(f"{where}: give either replace edits or a whole source")
    if entry.source is not None:
        source = textwrap.dedent(entry.source).strip() + "\n"
        define = _defined_name(source, where)
        if entry.define is not None and entry.define != define:
            raise VariantError(f"{where}: source defines {define}, not {entry.define}")
    else:
        define = entry.define or entry.question
        if define not in references:
            raise VariantError(f"{where}: the reference has no definition {define!r}")
        source = apply_edits(references[define], entry.replace, where)
        if source == references[define]:
            raise VariantError(f"{where}: the edits leave the reference unchanged")
    if entry.correct and entry.code is not None:
        raise VariantError(f"{where}: a correct variant has no diagnosis")
    return Variant(hw, entry.question, entry.name, define, source, entry.replace, entry.code,
                   entry.correct, entry.affects, entry.example, entry.why)


def load_variants(assignment: Assignment) -> list[Variant]:
    """The variants declared in ``examples/hwN/variants.py`` (none when the file is absent),
    in file order."""
    path = assignment.variants
    if not path.is_file():
        return []
    declared = runpy.run_path(str(path))["VARIANTS"]
    references = {name: d.reference for name, d in load_definitions(assignment.solution).items()}
    found = [_resolve(assignment.name, entry, references) for entry in declared]
    seen: set[str] = set()
    for v in found:
        if v.id in seen:
            raise VariantError(f"{v.id}: two variants of one question share this name")
        seen.add(v.id)
    examples = [v.example for v in found if v.example is not None]
    if len(examples) != len(set(examples)):
        raise VariantError(f"{assignment.name}: an example name is used twice: {examples}")
    return found


def variants(hw: str | None = None, correct: bool | None = None,
             root: Path | None = None) -> list[Variant]:
    """Every variant of ``hw`` (default: every assignment), only the correct ones
    (``correct=True``) or only the bugs (``correct=False``)."""
    assignments = [Assignment.named(hw, root)] if hw is not None else Assignment.all(root)
    return [v for a in assignments for v in load_variants(a)
            if correct is None or v.correct == correct]
