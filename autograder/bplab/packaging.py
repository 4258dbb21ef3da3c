"""What both autograder zips and the student release are made of: reproducible zips, the
dependency lists, the assignment's own reference modules, and the Gradescope image setup.

Used by ``bplab.build`` (student release, Otter zip) and ``bplab.gradescope`` (secure zip);
imports neither, so ``autograder/`` has no import cycle. Standard library only.

The dependency lists are three files in ``autograder/requirements/`` (one line per requirement,
``#`` comments allowed, the format setuptools reads for ``pyproject.toml``'s dynamic
dependencies):

- ``submission.txt``: what a submission may import (numpy, matplotlib): the one list;
- ``grader.txt``: what grading adds (Otter, nbformat, click, rich);
- ``student.txt``: what a student adds (Otter without its grading extra, a kernel).

``pyproject.toml`` = submission + grader; each zip's ``requirements.txt`` = submission + grader;
the student release's ``requirements.txt`` = submission + student.
"""

from __future__ import annotations

import ast
import io
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest zip date: fixed so that builds are reproducible
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
REQUIREMENTS_DIR = Path("autograder") / "requirements"  # relative to the project root
SUBMISSION, GRADER, STUDENT = "submission", "grader", "student"

# Gradescope's image: the venv that setup.sh makes and run_autograder uses (both zips).
GRADESCOPE_VENV = "/opt/bplab-venv"
# The oldest interpreter the grader supports; setup.sh refuses an image whose python3 is older.
# Gradescope's Ubuntu 22.04 image brings 3.10, 24.04 brings 3.12 (tests cover 3.10 to 3.13).
MIN_PYTHON = (3, 10)


# --- zips ------------------------------------------------------------------------------------


def files_under(directory: Path) -> Iterator[Path]:
    """The files of ``directory``, sorted, without caches and dot files."""
    for path in sorted(directory.rglob("*")):
        parts = path.relative_to(directory).parts
        if path.is_file() and not any(p == "__pycache__" or p.startswith(".") for p in parts):
            if path.suffix != ".pyc":
                yield path


def tree_entries(directory: Path, prefix: str) -> dict[str, bytes]:
    """Zip entries ``prefix/<relative path>`` for every file of ``directory``."""
    return {f"{prefix}/{p.relative_to(directory).as_posix()}": p.read_bytes()
            for p in files_under(directory)}


def zip_bytes(entries: dict[str, bytes], executable: frozenset[str] = frozenset()) -> bytes:
    """A zip whose bytes depend only on ``entries`` (sorted names, fixed dates and modes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100755 if name in executable else 0o100644) << 16
            info.create_system = 3  # unix, so the modes above are honoured on extraction
            zf.writestr(info, entries[name])
    return buffer.getvalue()


def write_zip(path: Path, entries: dict[str, bytes], executable: frozenset[str] = frozenset()
              ) -> Path:
    """``zip_bytes(entries, executable)`` written to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zip_bytes(entries, executable))
    return path


# --- dependency lists --------------------------------------------------------------------------


def requirement_lines(root: Path, *lists: str) -> list[str]:
    """The requirements of the named lists (``submission``, ``grader``, ``student``), in order."""
    lines: list[str] = []
    for name in lists:
        text = (root / REQUIREMENTS_DIR / f"{name}.txt").read_text(encoding="utf-8")
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if line and line not in lines:
                lines.append(line)
    return lines


def requirement_name(requirement: str) -> str:
    """``"otter-grader[grading]==7.0.0"`` -> ``"otter-grader"`` (lower case)."""
    for stop in "[<>=!~ ;":
        requirement = requirement.split(stop, 1)[0]
    return requirement.strip().lower()


def requirements_txt(root: Path, *lists: str) -> str:
    """A requirements.txt made of the named lists, with a header saying where it comes from."""
    origin = " + ".join(f"{REQUIREMENTS_DIR.as_posix()}/{n}.txt" for n in lists)
    return f"# Made by bplab build from {origin}.\n" + "\n".join(
        requirement_lines(root, *lists)) + "\n"


def grading_requirements(root: Path) -> str:
    """Both autograder zips' requirements.txt: what a submission may import + the grader."""
    return requirements_txt(root, SUBMISSION, GRADER)


def student_requirements(root: Path) -> str:
    """The student release's requirements.txt: what a submission may import + Otter's check."""
    return requirements_txt(root, SUBMISSION, STUDENT)


# --- the assignment's own reference ------------------------------------------------------------


def reference_files(solutions_dir: Path, assignment: str) -> list[Path]:
    """``solutions/<assignment>.py`` and the ``solutions`` modules it imports, transitively.

    hw2's reference imports hw1's blocks (which hw2 hands out anyway); hw1's reference imports
    nothing of hw2, so hw2's Adam, softmax and training answers never ship with hw1.
    """
    wanted = [solutions_dir / "__init__.py"] if (solutions_dir / "__init__.py").is_file() else []
    pending = [assignment]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        path = solutions_dir / f"{name}.py"
        if name in seen or not path.is_file():
            continue
        seen.add(name)
        wanted.append(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                if parts[0] == "solutions" and len(parts) > 1:
                    pending.append(parts[1])
                elif parts[0] == "solutions":
                    pending += [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                pending += [a.name.split(".")[1] for a in node.names
                            if a.name.startswith("solutions.")]
    return sorted(set(wanted))


def reference_entries(solutions_dir: Path, assignment: str, prefix: str) -> dict[str, bytes]:
    return {f"{prefix}/{p.name}": p.read_bytes() for p in reference_files(solutions_dir,
                                                                          assignment)}


# --- the Gradescope image ----------------------------------------------------------------------


def setup_sh(purpose: str, apt_extra: tuple[str, ...] = ()) -> str:
    """Gradescope's setup.sh: the image's python3 (3.10 or newer), a venv in ``GRADESCOPE_VENV``
    and ``requirements.txt`` in it; ``apt_extra`` packages are installed when available."""
    extra = "".join(
        f'apt-get install -y -qq {pkg} || echo "setup.sh: {pkg} unavailable"\n'
        for pkg in apt_extra)
    major, minor = MIN_PYTHON
    return f"""\
#!/usr/bin/env bash
# Gradescope runs this once while building the autograder image: {purpose}.
# The image's own python3 is used (3.10 on Ubuntu 22.04, 3.12 on 24.04): no PPA, nothing
# downloaded but the pinned packages of requirements.txt.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip
{extra}python3 -c 'import sys; sys.exit(sys.version_info < ({major}, {minor}))' || {{
  echo "setup.sh: python3 $(python3 -V) is older than {major}.{minor}: pick a newer image" >&2
  exit 1
}}
python3 -m venv {GRADESCOPE_VENV}
{GRADESCOPE_VENV}/bin/python -m pip install -q --upgrade pip
{GRADESCOPE_VENV}/bin/python -m pip install -q -r /autograder/source/requirements.txt
"""


def run_autograder_sh(purpose: str, command: str) -> str:
    """Gradescope's run_autograder: ``command`` (which sees ``$ROOT`` and ``$PYTHON``) must
    write ``$ROOT/results/results.json``; when it did not (the interpreter is missing or cannot
    start, the grader was killed), a results file saying the autograder failed is written here,
    without Python. ``BPLAB_AUTOGRADER_ROOT`` and ``BPLAB_PYTHON`` exist for tests."""
    return f"""\
#!/usr/bin/env bash
# Gradescope runs this for every submission: {purpose}.
set -u
ROOT="${{BPLAB_AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{BPLAB_PYTHON:-{GRADESCOPE_VENV}/bin/python}}"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
START=$(date +%s)
{command}
CODE=$?
if [ ! -s "$RESULTS" ]; then
  # Python did not write results (it could not start, or it was killed): say so, not a zero.
  echo "run_autograder: the grader exited with $CODE and wrote no results" >&2
  cat > "$RESULTS" <<JSON
{{"score": 0.0, "execution_time": $(( $(date +%s) - START )),
 "output": "{FAULT_OUTPUT}",
 "output_format": "text",
 "tests": [{{"name": "Autograder failure (score not final)", "score": 0.0, "max_score": 0.0,
            "status": "failed", "output": "{FAULT_OUTPUT}", "output_format": "text",
            "visibility": "visible", "extra_data": {{}}}}],
 "extra_data": {{"bplab": {{"status": "grader_error", "cause": "grader_did_not_start",
                          "exit_code": $CODE}}}}}}
JSON
fi
exit 0
"""


# What a student reads on a grader fault (both the Python guard and the shell fallback). Plain
# ASCII without quotes or backslashes: run_autograder pastes it into JSON.
FAULT_OUTPUT = ("AUTOGRADER FAILURE: this is not your score. The autograder itself failed "
                "(not your fault), so the score shown is not final; your instructor has been "
                "told and will regrade.")
