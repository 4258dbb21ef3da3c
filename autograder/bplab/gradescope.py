"""The Gradescope autograder that runs ``bplab grade`` (sandboxed) instead of ``otter run``.

``write_gradescope_secure_zip("hw1", dest)`` writes a zip to upload as a Gradescope
autograder. Gradescope unpacks it into ``/autograder/source``, runs ``setup.sh`` once (Python,
bubblewrap and the grading dependencies into ``/opt/bplab-venv``), then ``run_autograder`` for
each submission: it grades ``/autograder/submission`` as one submission and writes
``/autograder/results/results.json``. The root (``/autograder``) and the interpreter can be
changed with ``BPLAB_AUTOGRADER_ROOT`` and ``BPLAB_PYTHON`` (tests run it in a temp dir).

Layout of the zip:
    setup.sh, run_autograder, requirements.txt
    lib/bplab/ lib/bplab_checks/ lib/solutions/   the grader, the checks, the reference
    tests/<question>.py                            the full test files (hidden cases included)
    data/                                          the assignment's data, when it has some
"""

from __future__ import annotations

import json
import sys
import tempfile
import traceback
from pathlib import Path

from bplab import REPO_ROOT
from bplab.build import requirements, tree_entries, write_zip
from bplab.layout import Assignment

VENV = "/opt/bplab-venv"
GRADER_DEPENDENCIES = ("numpy", "nbformat", "otter-grader", "click", "rich")

SETUP_SH = f"""\
#!/usr/bin/env bash
# Gradescope runs this once while building the image: Python, bubblewrap (the grader's
# sandbox; without it grading still works with reduced isolation) and the grading packages.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip
apt-get install -y -qq bubblewrap || echo "bubblewrap unavailable: reduced isolation"
python3 -m venv {VENV}
{VENV}/bin/python -m pip install -q --upgrade pip
{VENV}/bin/python -m pip install -q -r /autograder/source/requirements.txt
"""

RUN_AUTOGRADER = f"""\
#!/usr/bin/env bash
# Gradescope runs this for every submission: bplab grade, sandboxed, writes results.json.
set -uo pipefail
ROOT="${{BPLAB_AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{BPLAB_PYTHON:-{VENV}/bin/python}}"
export PYTHONPATH="$ROOT/source/lib"
exec "$PYTHON" -m bplab.gradescope "$ROOT" "{{assignment}}"
"""


def write_gradescope_secure_zip(assignment: str, dest: Path) -> Path:
    """Write the sandboxed Gradescope autograder of ``assignment`` to ``dest`` (a .zip path)."""
    a = Assignment.named(assignment)
    entries: dict[str, bytes] = {}
    entries |= tree_entries(REPO_ROOT / "autograder" / "bplab", "lib/bplab")
    entries |= tree_entries(a.checks_package, "lib/bplab_checks")
    entries |= tree_entries(a.solutions_dir, "lib/solutions")
    for path in a.test_files():
        entries[f"tests/{path.name}"] = path.read_bytes()
    if a.data_dir.is_dir():
        entries |= tree_entries(a.data_dir, "data")
    entries["requirements.txt"] = requirements(a.root, GRADER_DEPENDENCIES).encode()
    entries["setup.sh"] = SETUP_SH.encode()
    entries["run_autograder"] = RUN_AUTOGRADER.replace("{assignment}", assignment).encode()
    dest.parent.mkdir(parents=True, exist_ok=True)
    write_zip(dest, entries, frozenset({"setup.sh", "run_autograder"}))
    return dest


def run(root: Path, assignment: str) -> dict:
    """Grade ``root/submission`` and write ``root/results/results.json``; never raises."""
    from bplab.grade.command import run_grade
    from bplab.grade.outputs import results_json
    from bplab.grade.suite import load_suite

    source = root / "source"
    results = root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory() as out:
            records = run_grade(
                assignment, [root / "submission"], Path(out), jobs=1, single=True,
                tests_dir=source / "tests", reference=source / "lib" / "solutions" /
                f"{assignment}.py", data_dir=source / "data", quiet=True)
            suite = load_suite(assignment, source / "tests")
            data = results_json(records[0], suite)
    except Exception:  # noqa: BLE001 - Gradescope must always get a results file
        data = {"score": 0, "output": "The autograder itself failed (not your fault); "
                "your instructor will regrade.\n" + traceback.format_exc(limit=3),
                "extra_data": {"bplab": {"status": "grader_error"}}}
    results.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    return data


if __name__ == "__main__":
    run(Path(sys.argv[1]), sys.argv[2])
