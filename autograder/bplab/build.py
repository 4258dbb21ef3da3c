"""``bplab build hwN``: the student release and the Otter autograder of one assignment.

Output (``dist/hwN/`` unless told otherwise), byte-for-byte the same for the same sources:

    student/            what students get
        hwN.ipynb         the notebook with stubs
        tests/<q>.py      public test cases only (hidden cases removed on the AST)
        bplab_checks/     the check library the tests import, without GRADER_ONLY_CHECKS
        data/             the assignment's data, when it has some
    autograder.zip      for ``otter run -a`` and for upload to Gradescope as an Otter autograder
        tests/<q>.py      full test files (public and hidden cases)
        files/            copied next to the submission: bplab_checks/ (all of it),
                          solutions/, data/
        otter_config.json, requirements.txt, setup.sh, run_autograder

Writers listed in ``EXTRA_WRITERS`` run last and add more artifacts to ``dist/hwN/``: today
``gradescope-secure.zip``, the sandboxed grader for Gradescope (``bplab.gradescope``), and
``student-bg/``, ``student-uk/``, ``student-ru/``, the translated releases (``bplab.i18n``).
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import shutil
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import click

from bplab import notebook
from bplab.layout import Assignment
from bplab.testfile import read_question, strip_hidden

# "module:function" names, each called as function(release) after the core build. Strings keep
# this module free of imports of the writers (which may import from here).
EXTRA_WRITERS: list[str] = ["bplab.build:write_gradescope_secure",
                             "bplab.i18n:write_translated_releases"]  # student-bg/ -uk/ -ru/

ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest zip date: fixed so that builds are reproducible
GRADING_DEPENDENCIES = ("numpy", "otter-grader")  # from pyproject.toml; all the grader imports
VENV = "/opt/bplab-venv"
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
# Modules of bplab_checks that never reach students (the one list of them). numgrad.py computes
# full per-entry central-difference gradients: the answer to hw1's numerical_gradient question.
# They stay in autograder.zip, where hidden cases may import them inside their bodies; the
# build refuses a student release that imports one (a public case or a shipped module).
GRADER_ONLY_CHECKS: tuple[str, ...] = ("numgrad.py",)


class BuildError(Exception):
    """The sources would make a broken or leaking student release."""


def _student_checks_ignore(directory: str, names: list[str]) -> set[str]:
    ignored = set(_IGNORED(directory, names))
    if Path(directory).name == "bplab_checks":
        ignored |= set(GRADER_ONLY_CHECKS) & set(names)
    return ignored


def _grader_only_imports(source: str) -> set[str]:
    """The grader-only modules (``bplab_checks.<module>``) that ``source`` imports."""
    hidden = {f"bplab_checks.{Path(m).stem}" for m in GRADER_ONLY_CHECKS}
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            # "from bplab_checks.numgrad import f", "from bplab_checks import numgrad", and
            # the relative forms used inside the package itself.
            base = "bplab_checks" if node.level else (node.module or "")
            if node.level and node.module:
                base = f"bplab_checks.{node.module}"
            imported.add(base)
            imported |= {f"{base}.{a.name}" for a in node.names}
    return imported & hidden


def check_student_imports(student_dir: Path) -> None:
    """Raise ``BuildError`` when a shipped Python file imports a grader-only module."""
    for path in sorted(student_dir.rglob("*.py")):
        found = _grader_only_imports(path.read_text(encoding="utf-8"))
        if found:
            raise BuildError(f"{path.relative_to(student_dir)} imports grader-only "
                             f"{', '.join(sorted(found))}, which students do not get")


@dataclass
class Release:
    """What ``build`` wrote, for the writers that run after it and for callers."""

    assignment: Assignment
    out_dir: Path
    questions: list[str]  # in notebook order
    warnings: list[str] = field(default_factory=list)

    @property
    def student_dir(self) -> Path:
        return self.out_dir / "student"

    @property
    def autograder_zip(self) -> Path:
        return self.out_dir / "autograder.zip"

    @property
    def notebook(self) -> Path:
        return self.student_dir / f"{self.assignment.name}.ipynb"


def otter_config(assignment: Assignment) -> dict:
    """Otter's grading settings (keys of ``otter.run.AutograderConfig``)."""
    return {
        "lang": "python",
        # Otter rejects a notebook whose metadata names another assignment.
        "assignment_name": assignment.name,
        # Per-question results are shown once grades are published (Otter hides them otherwise).
        "show_hidden": True,
        "show_stdout": False,
        "pdf": False,
        "print_summary": True,
    }


def requirements(root: Path, wanted_names: tuple[str, ...] = GRADING_DEPENDENCIES) -> str:
    """The pins of ``wanted_names``, taken from the project's own dependencies."""
    with (root / "pyproject.toml").open("rb") as f:
        dependencies = tomllib.load(f)["project"]["dependencies"]
    wanted = []
    for dep in dependencies:
        name = re.split(r"[\[<>=!~ ;]", dep, maxsplit=1)[0].lower()
        if name in wanted_names:
            wanted.append(dep)
    return "\n".join(sorted(wanted)) + "\n"


SETUP_SH = f"""\
#!/usr/bin/env bash
# Gradescope runs this once while building the autograder image: a venv with Otter and numpy.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip
python3 -m venv {VENV}
{VENV}/bin/python -m pip install -q --upgrade pip
{VENV}/bin/python -m pip install -q -r /autograder/source/requirements.txt
"""

RUN_AUTOGRADER = f"""\
#!/usr/bin/env bash
# Gradescope runs this for every submission: Otter executes the notebook in a python3 kernel,
# runs the full test files and writes /autograder/results/results.json.
# BPLAB_PYTHON and BPLAB_AUTOGRADER_DIR exist to exercise this script outside Gradescope.
set -euo pipefail
PYTHON="${{BPLAB_PYTHON:-{VENV}/bin/python}}"
AUTOGRADER_DIR="${{BPLAB_AUTOGRADER_DIR:-/autograder}}"
exec "$PYTHON" -c 'import sys; from otter.run.run_autograder import main; main(sys.argv[1])' \\
    "$AUTOGRADER_DIR"
"""


def _files_under(directory: Path) -> Iterator[Path]:
    for path in sorted(directory.rglob("*")):
        parts = path.relative_to(directory).parts
        if path.is_file() and not any(p == "__pycache__" or p.startswith(".") for p in parts):
            if path.suffix != ".pyc":
                yield path


def write_zip(path: Path, entries: dict[str, bytes], executable: frozenset[str]) -> None:
    """A zip whose bytes depend only on ``entries`` (sorted names, fixed dates and modes)."""
    with zipfile.ZipFile(path, "w") as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100755 if name in executable else 0o100644) << 16
            info.create_system = 3  # unix, so the modes above are honoured on extraction
            zf.writestr(info, entries[name])


def tree_entries(directory: Path, prefix: str) -> dict[str, bytes]:
    return {f"{prefix}/{p.relative_to(directory).as_posix()}": p.read_bytes()
            for p in _files_under(directory)}


def write_gradescope_secure(release: Release) -> None:
    """``dist/hwN/gradescope-secure.zip``: the sandboxed grader as a Gradescope autograder."""
    from bplab.gradescope import write_gradescope_secure_zip

    write_gradescope_secure_zip(release.assignment.name, release.out_dir / "gradescope-secure.zip")


def build(assignment: Assignment, out_dir: Path | None = None) -> Release:
    """Build the student release and ``autograder.zip`` of ``assignment``.

    Args:
        assignment: which homework (its sources are read from ``assignment.root``).
        out_dir: where to write; ``dist/hwN`` by default. Its previous content is replaced.

    Returns:
        The ``Release``; its ``warnings`` list inconsistencies that do not stop the build
        (a stale committed notebook, a question without a test file or without a check cell).

    Raises:
        BuildError: a public case or a shipped module imports a grader-only module.
    """
    out_dir = out_dir if out_dir is not None else assignment.dist_dir
    committed = notebook.read(assignment.notebook)
    student_nb = notebook.dumps(notebook.render(committed, assignment, "stub"))
    tests = dict(read_question(p) for p in assignment.test_files())
    checked = notebook.questions(committed)
    order = [q for q in checked if q in tests] + sorted(q for q in tests if q not in checked)
    release = Release(assignment, out_dir, order)

    if student_nb != assignment.notebook.read_text(encoding="utf-8"):
        release.warnings.append(f"{assignment.notebook} is stale: run bplab sync {assignment.name}")
    for q in checked:
        if q not in tests:
            release.warnings.append(f"question {q!r} has a check cell but no test file")
    for q in tests:
        if q not in checked:
            release.warnings.append(f"question {q!r} has a test file but no check cell")

    if out_dir.exists():
        shutil.rmtree(out_dir)
    student = release.student_dir
    (student / "tests").mkdir(parents=True)
    release.notebook.write_text(student_nb, encoding="utf-8")
    for question, source in tests.items():
        public = strip_hidden(source, f"{assignment.tests_dir.name}/{question}.py")
        (student / "tests" / f"{question}.py").write_text(public, encoding="utf-8")
    shutil.copytree(assignment.checks_package, student / "bplab_checks",
                    ignore=_student_checks_ignore)
    check_student_imports(student)
    if assignment.data_dir.is_dir():
        shutil.copytree(assignment.data_dir, student / "data", ignore=_IGNORED)

    entries = {f"tests/{q}.py": source.encode() for q, source in tests.items()}
    entries |= tree_entries(assignment.checks_package, "files/bplab_checks")
    entries |= tree_entries(assignment.solutions_dir, "files/solutions")
    if assignment.data_dir.is_dir():
        entries |= tree_entries(assignment.data_dir, "files/data")
    entries["otter_config.json"] = (json.dumps(otter_config(assignment), indent=2) + "\n").encode()
    entries["requirements.txt"] = requirements(assignment.root).encode()
    entries["setup.sh"] = SETUP_SH.encode()
    entries["run_autograder"] = RUN_AUTOGRADER.encode()
    write_zip(release.autograder_zip, entries, frozenset({"setup.sh", "run_autograder"}))

    for spec in EXTRA_WRITERS:
        module, function = spec.split(":")
        getattr(importlib.import_module(module), function)(release)
    return release


@click.command("build")
@click.argument("assignment")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Output folder (default dist/ASSIGNMENT).")
def build_command(assignment: str, out_dir: Path | None) -> None:
    """Build the student release and the Otter autograder of ASSIGNMENT (e.g. hw1)."""
    try:
        release = build(Assignment.named(assignment), out_dir)
    except BuildError as exc:
        raise click.ClickException(str(exc)) from exc
    for warning in release.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    click.echo(f"{release.student_dir}/  ({len(release.questions)} questions)")
    for path in sorted(release.out_dir.glob("*.zip")):
        click.echo(str(path))
