"""The hidden test files of an assignment, loaded once in the trusted grader, and what must
never appear in an output (their hidden cases and the reference solution's code)."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from otter.test_files import ExceptionTestFile

from bplab.definitions import load_definitions, solution_lines
from bplab.layout import question_files

MIN_SECRET_CHARS = 16  # shorter lines (``return out``) are too common to be secrets


@dataclass
class Suite:
    """The questions of one assignment: Otter test files in grading order."""

    assignment: str
    files: list[ExceptionTestFile]
    secrets: list[str] = field(default_factory=list)

    @property
    def questions(self) -> list[str]:
        return [tf.name for tf in self.files]

    @property
    def max_scores(self) -> dict[str, float]:
        return {tf.name: float(tf.possible) for tf in self.files}

    def param_names(self) -> list[str]:
        """Every name a test case takes from the notebook (Otter passes globals by name)."""
        names: dict[str, None] = {}
        for tf in self.files:
            for tc in tf.test_cases:
                for p in inspect.signature(tc.body.test_func).parameters:
                    if p != "env":
                        names[p] = None
        return list(names)

    def redact(self, text: str) -> str:
        """Remove every secret line that appears in ``text``."""
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, "[redacted]")
        return text


def load_suite(assignment: str, tests_dir: Path, reference: Path | None = None,
               order: Sequence[str] = ()) -> Suite:
    """Parse the test files of ``tests_dir`` (``bplab.layout.question_files``) with Otter, in
    ``order`` (the notebook's, ``bplab.layout.check_order``; questions it does not name follow,
    by file name)."""
    paths = question_files(tests_dir)
    if not paths:
        raise FileNotFoundError(f"no test files in {tests_dir}")
    parsed = [ExceptionTestFile.from_file(str(p)) for p in paths]
    rank = {name: i for i, name in enumerate(order)}
    files = sorted(parsed, key=lambda tf: rank.get(tf.name, len(rank)))  # stable: name order
    secrets: set[str] = set()
    for tf in files:
        for tc in tf.test_cases:
            if tc.hidden:
                secrets.update(_secret_lines(inspect.getsource(tc.body.test_func).splitlines()))
    if reference is not None and reference.is_file():
        secrets.update(_secret_lines(solution_lines(load_definitions(reference))))
    # Longest first, so a line is redacted whole before any shorter line inside it.
    return Suite(assignment, files, sorted(secrets, key=len, reverse=True))


def _secret_lines(lines: list[str]) -> set[str]:
    out = set()
    for line in lines:
        s = line.strip()
        if len(s) >= MIN_SECRET_CHARS and not s.startswith(("#", "def ", "@")):
            out.add(s)
    return out
