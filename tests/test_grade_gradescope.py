"""The sandboxed Gradescope autograder, run in a simulated /autograder layout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from bplab.gradescope import write_gradescope_secure_zip

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "hw1"

pytestmark = [pytest.mark.hw1, pytest.mark.slow]


def _autograder(tmp_path: Path) -> Path:
    zip_path = write_gradescope_secure_zip("hw1", tmp_path / "gradescope-secure.zip")
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root / "source")
    run = root / "source" / "run_autograder"
    run.chmod(0o755)
    return root


def _run(root: Path, *notebooks: Path) -> dict:
    sub = root / "submission"
    shutil.rmtree(sub, ignore_errors=True)
    sub.mkdir(parents=True)
    for nb in notebooks:
        shutil.copy(nb, sub / nb.name)
    env = dict(os.environ, BPLAB_AUTOGRADER_ROOT=str(root), BPLAB_PYTHON=sys.executable)
    subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, check=True,
                   timeout=300, capture_output=True)
    return json.loads((root / "results" / "results.json").read_text())


def test_zip_layout_keeps_hidden_files_in_source_only(tmp_path):
    zip_path = write_gradescope_secure_zip("hw1", tmp_path / "g.zip")
    names = set(zipfile.ZipFile(zip_path).namelist())
    assert {"setup.sh", "run_autograder", "requirements.txt"} <= names
    assert "lib/bplab/grade/worker.py" in names and "lib/solutions/hw1.py" in names
    assert any(n.startswith("tests/") and n.endswith("MatMul.py") for n in names)
    setup = zipfile.ZipFile(zip_path).read("setup.sh").decode()
    assert "bubblewrap" in setup


def test_run_autograder_grades_the_submission(tmp_path):
    root = _autograder(tmp_path)
    full = _run(root, EXAMPLES / "full.ipynb")
    assert full["score"] == sum(t["max_score"] for t in full["tests"]) > 0
    assert full["extra_data"]["bplab"]["status"] == "graded"
    buggy = _run(root, EXAMPLES / "bug_matmul_db_transposed.ipynb")
    by_name = {t["name"]: t for t in buggy["tests"]}
    assert by_name["MatMul"]["score"] == 0
    assert by_name["ReLU"]["score"] == by_name["ReLU"]["max_score"]
    assert buggy["extra_data"]["bplab"]["diagnoses"]["MatMul"]


def test_run_autograder_always_writes_results(tmp_path):
    root = _autograder(tmp_path)
    empty = _run(root)
    assert empty["score"] == 0
    assert empty["extra_data"]["bplab"]["status"] == "no_notebook"
    two = _run(root, EXAMPLES / "full.ipynb", EXAMPLES / "blank.ipynb")
    assert two["extra_data"]["bplab"]["status"] == "several_notebooks"
