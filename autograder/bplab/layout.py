"""Where things live (one place for every path): each assignment's sources and outputs in the
checkout (``Assignment``), and the files of a grading folder (``GradingDir``)."""

from __future__ import annotations

import json
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

    @classmethod
    def all(cls, root: Path | None = None) -> list[Assignment]:
        """Every assignment whose student notebook exists, in number order (hw1, hw2, ..., hw10)."""
        base = (root if root is not None else REPO_ROOT) / "assignments"
        names = [p.name for p in base.iterdir()
                 if _ASSIGNMENT_NAME.fullmatch(p.name)] if base.is_dir() else []
        found = [cls.named(n, root) for n in sorted(names, key=lambda n: int(n[2:]))]
        return [a for a in found if a.notebook.is_file()]

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

    def question_order(self) -> list[str]:
        """The questions in the order the notebook asks them (``check_order``); empty when the
        notebook is not here (an autograder zip carries the order in its config instead)."""
        if not self.notebook.is_file():
            return []
        return check_order(json.loads(self.notebook.read_text(encoding="utf-8"))["cells"])

    @property
    def data_dir(self) -> Path:
        """Optional data shipped with the notebook (students and graders alike)."""
        return self.root / "assignments" / self.name / "data"

    @property
    def i18n_dir(self) -> Path:
        """The notebook's translations, one ``<lang>.md`` per language (``bplab.i18n``)."""
        return self.root / "assignments" / self.name / "i18n"

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
    def variants(self) -> Path:
        """The bank of planted bugs and correct variants (``bplab.variants``); the single-bug
        examples are drawn from it."""
        return self.examples_dir / "variants.py"

    def example_notebooks(self) -> list[Path]:
        """The bundled example submissions (``examples/hwN/*.ipynb``), sorted by name."""
        return sorted(self.examples_dir.glob("*.ipynb")) if self.examples_dir.is_dir() else []

    @property
    def dist_dir(self) -> Path:
        return self.root / "dist" / self.name

    def test_files(self) -> list[Path]:
        """The question test files, sorted by file name."""
        return question_files(self.tests_dir)


def check_order(cells: list) -> list[str]:
    """Question names in notebook order, one per ``grader.check`` cell: the cells whose metadata
    is ``{"bplab": {"check": name}}`` (``bplab.notebook``). Feedback, results and grades.csv list
    questions in this order, the order a student meets them."""
    return [c["metadata"]["bplab"]["check"] for c in cells
            if "check" in c.get("metadata", {}).get("bplab", {})]


def question_files(tests_dir: Path) -> list[Path]:
    """The test files of a tests folder (one per question), in grading order: ``*.py`` sorted by
    name, ``_*.py`` excluded (helpers); none when the folder does not exist."""
    if not tests_dir.is_dir():
        return []
    return sorted(p for p in tests_dir.glob("*.py") if not p.name.startswith("_"))



@dataclass(frozen=True)
class GradingDir:
    """The output folder of ``bplab grade --out DIR`` (docs/architecture.md, "Grading outputs").

    Every writer (``bplab.grade.outputs``, ``bplab.report``, ``bplab.roster``) and every reader
    (the report loader, the demo, the tests) names a file of it through here:

        DIR/grades.csv               one row per submission (``GRADES_COLUMNS``, then questions)
        DIR/results/<stem>.json      Gradescope's results format plus ``extra_data.bplab``
        DIR/feedback/<stem>.md       what the student reads
        DIR/feedback/<stem>.html     the same, rendered (LMS upload, e-mail)
        DIR/report.html              the class report (``--report`` or ``bplab report DIR``)
        DIR/grades_with_roster.csv   the roster join (``--roster``)
        DIR/export/                  ``bplab export``: files for the LMS
        DIR/shard.json               which share of a download it holds (``--shard I/N``)
    """

    root: Path

    GRADES_COLUMNS = ("submission", "status", "score", "max_score")  # then one per question
    _RESULTS, _FEEDBACK = "results", "feedback"

    @property
    def grades_csv(self) -> Path:
        return self.root / "grades.csv"

    @property
    def results_dir(self) -> Path:
        return self.root / self._RESULTS

    @property
    def feedback_dir(self) -> Path:
        return self.root / self._FEEDBACK

    @property
    def report_html(self) -> Path:
        return self.root / "report.html"

    @property
    def roster_csv(self) -> Path:
        return self.root / "grades_with_roster.csv"

    def results(self, stem: str) -> Path:
        return self.results_dir / f"{stem}.json"

    def feedback(self, stem: str) -> Path:
        return self.feedback_dir / f"{stem}.md"

    def feedback_html(self, stem: str) -> Path:
        return self.feedback_dir / f"{stem}.html"

    @property
    def shard_json(self) -> Path:
        """``bplab grade --shard I/N``'s manifest (``bplab.grade.shard.Manifest``)."""
        return self.root / "shard.json"

    @property
    def export_dir(self) -> Path:
        return self.root / "export"

    def feedback_files(self, stem: str) -> list[tuple[Path, str]]:
        """A record's feedback files, HTML first, each with its link relative to ``root``."""
        return [(self.feedback_html(stem), f"{self._FEEDBACK}/{stem}.html"),
                (self.feedback(stem), self.feedback_link(stem))]

    def feedback_link(self, stem: str) -> str:
        """The feedback file's path relative to ``root`` (a link in report.html)."""
        return f"{self._FEEDBACK}/{stem}.md"

    def results_stems(self) -> list[str]:
        """The stems of every results file, sorted (none when ``results/`` is missing)."""
        if not self.results_dir.is_dir():
            return []
        return sorted(p.stem for p in self.results_dir.glob("*.json"))

    def make_dirs(self) -> None:
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self.feedback_dir.mkdir(parents=True, exist_ok=True)
