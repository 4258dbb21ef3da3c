"""Helpers for tests of the question test files: the one notebook-like environment builder and
the one question runner.

An environment is what Otter hands to test files: the globals of an executed notebook. It is
built from the reference definitions (``solutions/hwN.py``) rendered as the build renders them:
the reference for the solution notebook, the stub (``raise NotImplementedError``) for the blank
one; hw2 notebooks also get the provided hw1 blocks. A variant of the bank (``bplab.variants``)
is one more cell: its source exec'd into the environment, so that its definition replaces the
reference's, also for the definitions that call it.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from bplab.definitions import Definition, load_definitions
from bplab.layout import Assignment
from bplab.variants import Variant
from otter.test_files import ExceptionTestFile

ROOT = Path(__file__).resolve().parents[1]

# Every question of every assignment, from the test files themselves (bplab.layout).
QUESTIONS: dict[str, list[str]] = {
    a.name: [p.stem for p in a.test_files()] for a in Assignment.all(ROOT)
}
ALL_QUESTIONS = [(hw, q) for hw, qs in QUESTIONS.items() for q in qs]


def question_file(hw: str, question: str) -> Path:
    return Assignment.named(hw, ROOT).tests_dir / f"{question}.py"


@cache
def _definitions(hw: str) -> dict[str, Definition]:
    return load_definitions(Assignment.named(hw, ROOT).solution)


@cache
def _provided(hw: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The notebook's provided cells: (origin homework, names) per ``provide`` cell."""
    import nbformat

    nb = nbformat.read(Assignment.named(hw, ROOT).notebook, as_version=4)
    roles = [c.metadata.get("bplab", {}) for c in nb.cells]
    return tuple((r["from"], tuple(r["provide"])) for r in roles if "provide" in r)


def make_env(hw: str, mode: Literal["reference", "stub"] = "reference", *,
             sources: Iterable[str] = (), **overrides: Any) -> dict[str, Any]:
    """Globals of a notebook where every graded definition is the reference (``mode=
    "reference"``) or the stub (``mode="stub"``); then each of ``sources`` (one definition's
    source, e.g. a bank variant's) is exec'd in turn, and ``overrides`` replace names (Python
    objects). Definitions see each other through these globals, as in a notebook (so a
    replacement is used by later functions, too)."""
    env: dict[str, Any] = {"np": np, "__name__": "__notebook__"}
    for origin, names in _provided(hw):
        theirs = _definitions(origin)
        for name in names:
            exec(compile(theirs[name].reference, f"<provided {name}>", "exec"), env)
    for name, definition in _definitions(hw).items():
        source = definition.reference if mode == "reference" else definition.stub
        exec(compile(source, f"<cell {name}>", "exec"), env)
    for k, source in enumerate(sources):
        exec(compile(source, f"<variant cell {k}>", "exec"), env)  # trusted test data
    env.update(overrides)
    return env


def variant_env(variant: Variant) -> dict[str, Any]:
    """The reference notebook of ``variant.hw`` with the variant's cell run after it."""
    return make_env(variant.hw, sources=[variant.source])


def run_question(hw: str, question: str, env: dict[str, Any]) -> ExceptionTestFile:
    """Load a question's full (public + hidden) test file fresh and run it on ``env``."""
    test_file = ExceptionTestFile.from_file(str(question_file(hw, question)))
    test_file.run(env)
    return test_file


def failures(test_file: ExceptionTestFile) -> list[str]:
    """Messages of the failed cases."""
    return [r.message for r in test_file.test_case_results if not r.passed]
