"""The bug bank: planted mistakes, each replacing one reference definition, with the diagnosis
its question's test file must report. ``tests/test_bug_bank.py`` runs every bug through the real
test files (``autograder/hwN/<question>.py``) in-process."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

from checks_env import make_env
from otter.test_files import ExceptionTestFile

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Bug:
    """One planted mistake.

    Attributes:
        hw: "hw1" or "hw2".
        question: the question (test file name without .py).
        name: short description, unique within the question.
        source: one top-level definition (class or function) replacing the reference's.
        code: the diagnosis code the failure messages must contain, or None when no
            diagnosis fits (then no message may contain one).
    """

    hw: str
    question: str
    name: str
    source: str
    code: str | None

    @property
    def id(self) -> str:
        return f"{self.hw}/{self.question}/{self.name}"


def bug(hw: str, question: str, name: str, code: str | None, source: str) -> Bug:
    return Bug(hw, question, name, textwrap.dedent(source).strip() + "\n", code)


def environment(hw: str, source: str | None = None) -> dict:
    """A notebook's globals where every graded definition is the reference (``checks_env``:
    each definition exec'd in this namespace, so definitions call each other through it, as
    in a notebook), with ``source`` exec'd into it so that its definition replaces the
    reference's, also for the definitions that call it."""
    env = make_env(hw)
    if source is not None:
        exec(compile(source, f"<bug {hw}>", "exec"), env)  # noqa: S102 - trusted test data
    return env


def run_question(hw: str, question: str, env: dict) -> ExceptionTestFile:
    """Run the full (public + hidden) test file of ``question`` against ``env``."""
    test_file = ExceptionTestFile.from_file(str(ROOT / "autograder" / hw / f"{question}.py"))
    test_file.run(env)
    return test_file
