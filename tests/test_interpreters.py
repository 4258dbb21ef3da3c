"""Both Gradescope zips on real interpreters: for each of Python 3.10 to 3.13 (pyenv), a venv
made only from the zip's requirements.txt runs ``run_autograder`` in a simulated /autograder
tree on the full, blank and a single-bug example, and on a full solution whose first cell
imports matplotlib; every per-question score must equal ``bplab grade``'s.

3.10 (Gradescope's Ubuntu 22.04 python3, the oldest supported) runs in ``make test``; 3.11 to
3.13 are marked ``interpreters`` (``make test-interpreters``): each needs its own venv
(minutes the first time, then cached in ``.venv/zip-venvs/``). A missing interpreter skips,
naming itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import nbformat
import pytest
from bplab import REPO_ROOT
from bplab.build import Release, build
from bplab.layout import Assignment
from bplab.otter_run import question_scores
from gradescope_spec import spec_errors
from test_grade_gradescope import extract_tree, per_question, run_autograder
from zip_venvs import interpreter, venv_from

# (assignment, example): full, blank and a single bug of hw1, and hw2 (its data package and
# its training checks) solved and with one bug.
EXAMPLES = (("hw1", "full"), ("hw1", "blank"), ("hw1", "bug_matmul_db_transposed"),
            ("hw2", "full"), ("hw2", "bug_adam_no_bias_correction"))
MATPLOTLIB_FIRST = ("hw1", "matplotlib_first")
VERSIONS = [pytest.param("3.10", marks=pytest.mark.slow)] + [
    pytest.param(v, marks=[pytest.mark.slow, pytest.mark.interpreters])
    for v in ("3.11", "3.12", "3.13")]


@pytest.fixture(scope="session")
def submissions(tmp_path_factory) -> dict[tuple[str, str], Path]:
    """The examples, plus hw1's full solution with ``import matplotlib.pyplot as plt`` first in
    its first cell (without matplotlib that cell fails and ``np`` is undefined after it)."""
    folder = tmp_path_factory.mktemp("submissions")
    found = {}
    for hw, name in EXAMPLES:
        found[hw, name] = folder / hw / name / f"{hw}.ipynb"
        found[hw, name].parent.mkdir(parents=True)
        found[hw, name].write_bytes((REPO_ROOT / "examples" / hw / f"{name}.ipynb").read_bytes())
    nb = nbformat.read(found["hw1", "full"], as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    first.source = "import matplotlib.pyplot as plt\n" + first.source
    found[MATPLOTLIB_FIRST] = folder / "hw1" / MATPLOTLIB_FIRST[1] / "hw1.ipynb"
    found[MATPLOTLIB_FIRST].parent.mkdir()
    nbformat.write(nb, found[MATPLOTLIB_FIRST])
    return found


@pytest.fixture(scope="session")
def expected(submissions, tmp_path_factory) -> dict[tuple[str, str], dict[str, float]]:
    """``bplab grade``'s per-question scores of every submission."""
    from bplab.grade.command import run_grade

    scores = {}
    for (hw, name), path in submissions.items():
        records = run_grade(hw, [path], tmp_path_factory.mktemp(name), jobs=1, quiet=True)
        assert records[0].status == "graded", records[0].reason
        scores[hw, name] = {q.name: q.score for q in records[0].questions}
    assert sum(scores["hw1", "full"].values()) > 0 and sum(scores["hw1", "blank"].values()) == 0
    assert scores[MATPLOTLIB_FIRST] == scores["hw1", "full"]  # the grader has matplotlib
    return scores


@pytest.fixture(scope="session")
def releases(tmp_path_factory) -> dict[str, Release]:
    return {hw: build(Assignment.named(hw), tmp_path_factory.mktemp(hw))
            for hw in sorted({hw for hw, _ in EXAMPLES})}


def _requirements(zip_path: Path) -> str:
    return zipfile.ZipFile(zip_path).read("requirements.txt").decode()


@pytest.fixture(scope="session")
def zip_pythons(releases):
    """version -> the interpreter of a venv made from the zips' requirements (every zip has
    the same requirements, so one venv per interpreter serves them all)."""
    zips = [z for r in releases.values() for z in (r.secure_zip, r.autograder_zip)]
    assert len({_requirements(z) for z in zips}) == 1
    requirements = _requirements(zips[0])
    made: dict[str, Path] = {}

    def get(version: str) -> Path:
        if version not in made:
            python = interpreter(version)
            if python is None:
                pytest.skip(f"Python {version} is not installed under pyenv: not tested")
            made[version] = venv_from(python, requirements)
        return made[version]

    return get


@pytest.mark.parametrize("version", VERSIONS)
def test_secure_zip_grades_like_bplab_grade(version, zip_pythons, releases, submissions,
                                            expected, tmp_path):
    python = zip_pythons(version)
    roots = {hw: extract_tree(r.secure_zip, tmp_path / hw / "autograder")
             for hw, r in releases.items()}
    for (hw, name), path in submissions.items():
        data = run_autograder(roots[hw], path, python=str(python))
        assert spec_errors(data) == [], (name, spec_errors(data))
        assert data["extra_data"]["bplab"]["status"] == "graded", (name, data["output"])
        assert per_question(data) == pytest.approx(expected[hw, name]), name
    # A forced grader fault on this interpreter still writes results that say so.
    (roots["hw1"] / "source" / "tests" / "MatMul.py").write_text("def broken(:\n")
    data = run_autograder(roots["hw1"], submissions["hw1", "full"], python=str(python))
    assert spec_errors(data) == [] and data["extra_data"]["bplab"]["status"] == "grader_error"
    assert "not final" in data["output"]


@pytest.mark.parametrize("version", VERSIONS)
def test_otter_zip_grades_matplotlib_first_like_bplab_grade(version, zip_pythons, releases,
                                                            submissions, expected, tmp_path):
    python = zip_pythons(version)
    root = extract_tree(releases["hw1"].autograder_zip, tmp_path / "autograder")
    (root / "submission").mkdir()
    (root / "submission" / "hw1.ipynb").write_bytes(submissions[MATPLOTLIB_FIRST].read_bytes())
    (root / "submission_metadata.json").write_text("{}")
    env = dict(os.environ, BPLAB_AUTOGRADER_ROOT=str(root), BPLAB_PYTHON=str(python))
    env.pop("PYTHONPATH", None)
    done = subprocess.run([str(root / "source" / "run_autograder")], env=env, timeout=900,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((root / "results" / "results.json").read_text())
    got = {q: score for q, (score, _) in question_scores(results).items()}
    assert got == pytest.approx(expected[MATPLOTLIB_FIRST]), (done.stdout + done.stderr)[-3000:]
