"""The student release used as a student would: a fresh venv made only from the release's
requirements.txt runs the notebook headless (nbclient) with the release's files beside it,
alone (its embedded checks), without its checks at all, and beside student.zip."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from bplab import REPO_ROOT
from bplab.build import Release, build
from bplab.layout import Assignment
from test_grade_gradescope import ASSIGNMENTS
from zip_venvs import interpreter, venv_from

pytestmark = pytest.mark.slow

EXECUTE = """
import sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient

path = Path(sys.argv[1])
nb = nbformat.read(path, as_version=4)
client = NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=sys.argv[2] == "1",
                        resources={"metadata": {"path": str(path.parent)}})
client.execute()
nbformat.write(nb, path)
"""


@pytest.fixture(scope="session")
def student_python(tmp_path_factory) -> Path:
    """A venv of this Python version made from nothing but the student requirements."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    python = interpreter(version)
    if python is None:
        pytest.skip(f"Python {version} is not installed under pyenv: not tested")
    requirements = (build(Assignment.named("hw1"), tmp_path_factory.mktemp("req"))
                    .student_dir / "requirements.txt").read_text()
    return venv_from(python, requirements)


@pytest.fixture(scope="session")
def releases(tmp_path_factory) -> dict[str, Release]:
    return {a.name: build(a, tmp_path_factory.mktemp(a.name)) for a in ASSIGNMENTS}


def execute(python: Path, notebook: Path, allow_errors: bool = False) -> nbformat.NotebookNode:
    """Run ``notebook`` in place with the venv's own kernel; the executed notebook."""
    jupyter = notebook.parent / ".jupyter-data"
    # The venv's own python3 kernel, never a kernelspec of the user running the tests.
    env = dict(os.environ, JUPYTER_PATH=str(python.parent.parent / "share" / "jupyter"),
               JUPYTER_DATA_DIR=str(jupyter), MPLBACKEND="Agg")
    env.pop("PYTHONPATH", None)
    done = subprocess.run([str(python), "-c", EXECUTE, str(notebook), "1" if allow_errors
                           else "0"], cwd=notebook.parent, env=env, capture_output=True,
                          text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-4000:]
    return nbformat.read(notebook, as_version=4)


def _text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.append(out.get("data", {}).get("text/plain", ""))
        parts += [out.get("ename", ""), out.get("evalue", "")]
    return "".join(parts)


def _check_outputs(nb) -> dict[str, str]:
    return {c.metadata["bplab"]["check"]: _text(c) for c in nb.cells
            if c.cell_type == "code" and "check" in c.metadata.get("bplab", {})}


def _assert_every_check_passed(nb, release: Release) -> None:
    checks = _check_outputs(nb)
    assert set(checks) == set(release.questions)
    for question, text in checks.items():
        assert "passed" in text and "failed" not in text.lower(), (question, text)


def _solved(release: Release, folder: Path) -> Path:
    """The release notebook (its metadata too) as a student who solved it saves it."""
    hw = release.assignment.name
    nb = nbformat.read(release.notebook, as_version=4)
    nb.cells = nbformat.read(REPO_ROOT / "examples" / hw / "full.ipynb", as_version=4).cells
    nbformat.write(nb, folder / f"{hw}.ipynb")
    return folder / f"{hw}.ipynb"


@pytest.mark.parametrize("hw", [a.name for a in ASSIGNMENTS])
def test_solved_notebook_runs_end_to_end_beside_the_release_files(hw, student_python, releases,
                                                                  tmp_path):
    release = releases[hw]
    folder = tmp_path / hw
    shutil.copytree(release.student_dir, folder)
    nb = execute(student_python, _solved(release, folder))
    assert "found tests/ and bplab_checks/" in _text(nb.cells[0])
    _assert_every_check_passed(nb, release)


def test_release_notebook_alone_unpacks_its_embedded_checks(student_python, releases,
                                                            tmp_path):
    """Uploaded alone to a JupyterHub (the saved .ipynb is beside the kernel)."""
    release = releases["hw2"]  # the one with data/ as well
    nb = execute(student_python, _solved(release, tmp_path))
    assert "unpacked tests/ and bplab_checks/ from the copy embedded" in _text(nb.cells[0])
    _assert_every_check_passed(nb, release)
    assert (tmp_path / "data").is_dir()


def test_notebook_without_its_checks_alone_says_exactly_what_to_do(student_python, tmp_path):
    """A notebook without the embedded copy (say, one an LMS re-saved), and nothing beside it."""
    shutil.copy(REPO_ROOT / "examples" / "hw1" / "full.ipynb", tmp_path / "hw1.ipynb")
    nb = execute(student_python, tmp_path / "hw1.ipynb", allow_errors=True)
    first = _text(nb.cells[0])
    assert "NOT FOUND" in first and "student.zip" in first and "tests/ and bplab_checks/" in first
    assert not (tmp_path / "tests").exists()


def test_notebook_beside_the_release_zip_unpacks_its_checks(student_python, releases, tmp_path):
    release = releases["hw1"]
    shutil.copy(release.student_zip, tmp_path / "student.zip")
    nb = execute(student_python, _solved(release, tmp_path))
    assert "unpacked tests/ and bplab_checks/ from student.zip" in _text(nb.cells[0])
    _assert_every_check_passed(nb, release)
    # what was unpacked is the release's public files, and only them
    unpacked = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "tests").rglob("*"))
    shipped = sorted(p.relative_to(release.student_dir).as_posix()
                     for p in (release.student_dir / "tests").rglob("*"))
    assert unpacked == shipped


def test_release_requirements_are_all_the_student_venv_has(student_python):
    """The venv holds the student list and its dependencies only: no torch, no pytest."""
    out = subprocess.run([str(student_python), "-m", "pip", "list", "--format", "json"],
                         capture_output=True, text=True, timeout=120, check=True)
    names = {p["name"].lower() for p in json.loads(out.stdout)}
    assert {"numpy", "matplotlib", "otter-grader", "ipykernel"} <= names
    assert not names & {"torch", "pytest", "hypothesis", "backprop-lab"}
