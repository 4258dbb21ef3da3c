"""Where each assignment's sources and outputs live in the checkout (one place for every path)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bplab import REPO_ROOT

_ASSIGNMENT_NAME = re.compile(r"hw\d+")


@dataclass(frozen=True)
class Assignment:
    """Paths of one assignment, e.g. ``Assignment.named("hw1")``."""

    name: str
    root: Path = REPO_ROOT

    @classmethod
    def named(cls, name: str, root: Path | None = None) -> Assignment:
        if not _ASSIGNMENT_NAME.fullmatch(name):
            raise ValueError(f"assignment names look like 'hw1', got {name!r}")
        return cls(name, root if root is not None else REPO_ROOT)

    @property
    def solutions_dir(self) -> Path:
        return self.root / "solutions"

    @property
    def solution(self) -> Path:
        """The reference module: the single source of every graded definition."""
        return self.solutions_dir / f"{self.name}.py"

    @property
    def notebook(self) -> Path:
        """The committed student notebook (stubs), rewritten by ``bplab sync``."""
        return self.root / "assignments" / self.name / f"{self.name}.ipynb"

    @property
    def data_dir(self) -> Path:
        """Optional data shipped with the notebook (students and graders alike)."""
        return self.root / "assignments" / self.name / "data"

    @property
    def tests_dir(self) -> Path:
        """One Otter exception-based test file per question (public and hidden cases)."""
        return self.root / "autograder" / self.name

    @property
    def checks_package(self) -> Path:
        return self.root / "autograder" / "bplab_checks"

    @property
    def examples_dir(self) -> Path:
        return self.root / "examples" / self.name

    @property
    def dist_dir(self) -> Path:
        return self.root / "dist" / self.name

    def test_files(self) -> list[Path]:
        """The question test files, sorted by file name."""
        if not self.tests_dir.is_dir():
            return []
        return sorted(p for p in self.tests_dir.glob("*.py") if not p.name.startswith("_"))

