"""``bplab build hwN``: the student release and both autograder zips of one assignment.

Output (``dist/hwN/`` unless told otherwise), byte-for-byte the same for the same sources:

    student/              what students get (``student.zip`` holds it under ``hwN/``)
        hwN.ipynb           the notebook with stubs; its first cell finds the checks (a copy
                            of tests/, bplab_checks/, data/ is embedded in its metadata)
        README.md           Python version, install, where the files go, checking, submitting
                            (``bplab.readme``: one template per language)
        requirements.txt    what a submission may import + Otter's check (bplab.packaging)
        tests/<q>.py        public test cases only (hidden cases removed on the AST)
        bplab_checks/       the check library the tests import, without GRADER_ONLY_CHECKS
        data/               the assignment's data, when it has some
    student.zip
    autograder.zip        for ``otter run -a`` and for upload to Gradescope as an Otter autograder
        tests/<q>.py        full test files (public and hidden cases)
        files/              copied next to the submission: bplab_checks/ (all of it),
                            solutions/ (this assignment's reference and what it imports), data/
        otter_config.json, requirements.txt, setup.sh, run_autograder
    gradescope-secure.zip the sandboxed grader for Gradescope (``bplab.gradescope``)
    student-bg/, student-uk/, student-ru/ (and their zips)
                          student/ with its markdown translated (``bplab.i18n``); the code
                          cells are identical, so the zips above grade every language

The zips' pieces (writer, requirements, setup script) are ``bplab.packaging``'s.
"""

from __future__ import annotations

import ast
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import click
import nbformat
from bplab_checks.i18n import LANGUAGES

from bplab import i18n, late, notebook, packaging, readme
from bplab.gradescope import write_gradescope_secure_zip
from bplab.gradescope_results import HIDDEN_VISIBILITY, VISIBILITIES
from bplab.layout import Assignment
from bplab.testfile import read_question, strip_hidden

# Modules of bplab_checks that never reach students (the one list of them). numgrad.py computes
# full per-entry central-difference gradients: the answer to hw1's numerical_gradient question.
# They stay in autograder.zip, where hidden cases may import them inside their bodies; the
# build refuses a student release that imports one (a public case or a shipped module).
GRADER_ONLY_CHECKS: tuple[str, ...] = ("numgrad.py",)


class BuildError(Exception):
    """The sources would make a broken or leaking student release."""


def _student_checks_ignore(directory: str, names: list[str]) -> set[str]:
    ignored = set(packaging.IGNORED(directory, names))
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
    def student_zip(self) -> Path:
        return self.out_dir / "student.zip"

    @property
    def secure_zip(self) -> Path:
        return self.out_dir / "gradescope-secure.zip"

    @property
    def notebook(self) -> Path:
        return self.student_dir / f"{self.assignment.name}.ipynb"

    def readme(self, language: str = "en") -> str:
        """The README.md of the ``language`` folder (``bplab.readme``); a template that cannot
        be used gives the English text and a warning."""
        folder = self.student_dir if language == "en" else i18n.student_dir(self.out_dir, language)
        text, problems = readme.render(self.assignment, language, f"{folder.name}.zip")
        self.warnings += [f"{self.assignment.name} {language}: README.md left in English: {p}"
                          for p in problems]
        return text


def otter_config(assignment: Assignment, hidden_visibility: str = HIDDEN_VISIBILITY) -> dict:
    """Otter's grading settings (keys of ``otter.run.AutograderConfig``)."""
    return {
        "lang": "python",
        # Otter rejects a notebook whose metadata names another assignment.
        "assignment_name": assignment.name,
        # Otter shows hidden-case results once grades are published (after_published), or
        # never: it has no other setting, so only "hidden" turns them off.
        "show_hidden": hidden_visibility != "hidden",
        "show_stdout": False,
        "pdf": False,
        "print_summary": True,
    }


OTTER_RUN = ("\"$PYTHON\" -c 'import sys; from otter.run.run_autograder import main; "
             "main(sys.argv[1])' \"$ROOT\"")


def embed_checks(student_nb: str, student: Path, hw: str) -> str:
    """``student_nb`` with the release's public folders (``notebook.CHECK_FOLDERS`` of
    ``student``, as ``hw/<folder>/...`` zip entries, base64) in ``metadata.bplab``: the first
    cell unpacks them when the notebook is opened alone (Colab, a JupyterHub upload)."""
    nb = nbformat.reads(student_nb, as_version=4)
    nb.metadata[notebook.KEY] = {"assignment": hw,
                                 notebook.EMBED_KEY: notebook.embedded_checks(student, hw)}
    return notebook.dumps(nb)


def _write_student_release(release: Release, student_nb: str, tests: dict[str, str]) -> None:
    assignment, student = release.assignment, release.student_dir
    (student / "tests").mkdir(parents=True)
    for question, source in tests.items():
        public = strip_hidden(source, f"{assignment.tests_dir.name}/{question}.py")
        (student / "tests" / f"{question}.py").write_text(public, encoding="utf-8")
    shutil.copytree(assignment.checks_package, student / "bplab_checks",
                    ignore=_student_checks_ignore)
    check_student_imports(student)
    if assignment.data_dir.is_dir():
        shutil.copytree(assignment.data_dir, student / "data", ignore=packaging.IGNORED)
    release.notebook.write_text(embed_checks(student_nb, student, assignment.name),
                                encoding="utf-8")
    (student / "README.md").write_text(release.readme(), encoding="utf-8")
    (student / "requirements.txt").write_text(packaging.student_requirements(assignment.root),
                                              encoding="utf-8")
    packaging.write_zip(release.student_zip, packaging.tree_entries(student, assignment.name))


def _write_otter_zip(release: Release, tests: dict[str, str], hidden_visibility: str) -> None:
    assignment = release.assignment
    entries = {f"tests/{q}.py": source.encode() for q, source in tests.items()}
    entries |= packaging.tree_entries(assignment.checks_package, "files/bplab_checks")
    entries |= packaging.reference_entries(assignment.solutions_dir, assignment.name,
                                           "files/solutions")
    if assignment.data_dir.is_dir():
        entries |= packaging.tree_entries(assignment.data_dir, "files/data")
    config = otter_config(assignment, hidden_visibility)
    entries["otter_config.json"] = (json.dumps(config, indent=2) + "\n").encode()
    entries["requirements.txt"] = packaging.grading_requirements(assignment.root).encode()
    entries["setup.sh"] = packaging.setup_sh("python3 and Otter with what submissions import"
                                             ).encode()
    entries["run_autograder"] = packaging.run_autograder_sh(
        "Otter runs the notebook in a python3 kernel and the full test files", OTTER_RUN).encode()
    packaging.write_zip(release.autograder_zip, entries, frozenset({"setup.sh", "run_autograder"}))


def build(assignment: Assignment, out_dir: Path | None = None, *,
          hidden_visibility: str = HIDDEN_VISIBILITY, late_policy: str = "none",
          language: str = "en") -> Release:
    """Build the student release and both autograder zips of ``assignment``.

    Args:
        assignment: which homework (its sources are read from ``assignment.root``).
        out_dir: where to write; ``dist/hwN`` by default. Its previous content is replaced.
        hidden_visibility: Gradescope visibility of hidden-case results (``VISIBILITIES``).
        late_policy: ``none``, ``per-day:P`` or ``cap:P`` (``bplab.late``), applied by the
            secure zip from Gradescope's due date.
        language: the secure zip's feedback language for a notebook that names none (each
            translated release's notebook names its own; ``bplab_checks.i18n.LANGUAGES``).

    Returns:
        The ``Release``; its ``warnings`` list inconsistencies that do not stop the build
        (a stale committed notebook, a question without a test file or without a check cell).

    Raises:
        BuildError: a public case or a shipped module imports a grader-only module.
        ValueError: an unknown visibility or late policy.
    """
    if hidden_visibility not in VISIBILITIES:
        raise ValueError(f"hidden visibility must be one of {', '.join(VISIBILITIES)}")
    late_policy = str(late.LatePolicy.parse(late_policy))
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
    _write_student_release(release, student_nb, tests)
    _write_otter_zip(release, tests, hidden_visibility)
    write_gradescope_secure_zip(assignment, release.secure_zip,
                                hidden_visibility=hidden_visibility, late_policy=late_policy,
                                language=language)
    i18n.write_translated_releases(release)
    return release


@click.command("build")
@click.argument("assignment")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Output folder (default dist/ASSIGNMENT).")
@click.option("--hidden-visibility", type=click.Choice(VISIBILITIES), default=HIDDEN_VISIBILITY,
              show_default=True, help="When Gradescope shows hidden-case results to students.")
@click.option("--late-policy", default="none", show_default=True,
              help="none, per-day:PERCENT (of the maximum, per started day late), flat:PERCENT "
                   "(of the maximum, once) or "
                   "cap:PERCENT (a late score is at most PERCENT of the maximum).")
@click.option("--lang", "language", type=click.Choice(LANGUAGES), default="en",
              show_default=True,
              help="Feedback language of the secure zip for a notebook that names none.")
def build_command(assignment: str, out_dir: Path | None, hidden_visibility: str,
                  late_policy: str, language: str) -> None:
    """Build the student release and the autograder zips of ASSIGNMENT (e.g. hw1)."""
    try:
        late.LatePolicy.parse(late_policy)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--late-policy") from exc
    try:
        release = build(Assignment.named(assignment), out_dir,
                        hidden_visibility=hidden_visibility, late_policy=late_policy,
                        language=language)
    except BuildError as exc:
        raise click.ClickException(str(exc)) from exc
    for warning in release.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    click.echo(f"{release.student_dir}/  ({len(release.questions)} questions)")
    for path in sorted(release.out_dir.glob("*.zip")):
        click.echo(str(path))
