"""The Gradescope autograder that runs ``bplab grade`` (sandboxed) instead of ``otter run``.

``write_gradescope_secure_zip(assignment, dest)`` writes the zip to upload. Gradescope unpacks it
into ``/autograder/source``, runs ``setup.sh`` once (the image's python3, 3.10 or newer,
bubblewrap, and ``requirements.txt`` in ``/opt/bplab-venv``), then ``run_autograder`` for each
submission: ``python -m bplab.gradescope ROOT`` grades ``ROOT/submission`` as one submission and
writes ``ROOT/results/results.json`` (``bplab.gradescope_results``). ``ROOT`` is ``/autograder``;
``BPLAB_AUTOGRADER_ROOT`` and ``BPLAB_PYTHON`` change it and the interpreter (tests run the zip
in a temp dir with a venv made from its requirements).

``results.json`` is always written: ``main`` keeps everything, imports included, inside one
guard, and ``run_autograder`` writes a fallback file when Python itself cannot start.

Layout of the zip:
    setup.sh, run_autograder, requirements.txt
    bplab_gradescope.json                          assignment, hidden visibility, late policy
    lib/bplab/ lib/bplab_checks/ lib/solutions/   the grader, the checks, this assignment's
                                                   reference (and the references it imports)
    tests/<question>.py                            the full test files (hidden cases included)
    data/                                          the assignment's data, when it has some

This module's top level is standard library only, and it runs on Python 3.10.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

# Both standard library only, like this module: the guard in ``main`` needs them.
from bplab import packaging
from bplab.gradescope_results import HIDDEN_VISIBILITY, VISIBILITIES, fault_results

CONFIG = "bplab_gradescope.json"


def zip_entries(assignment, *, hidden_visibility: str = HIDDEN_VISIBILITY,
                late_policy: str = "none", language: str = "en") -> dict[str, bytes]:
    """The entries of the secure zip of ``assignment`` (a ``bplab.layout.Assignment``)."""
    if hidden_visibility not in VISIBILITIES:
        raise ValueError(f"hidden visibility must be one of {VISIBILITIES}")
    entries: dict[str, bytes] = {}
    # The grader is this installed tool itself (the assignment's root holds only sources).
    entries |= packaging.tree_entries(Path(__file__).resolve().parent, "lib/bplab")
    entries |= packaging.tree_entries(assignment.checks_package, "lib/bplab_checks")
    entries |= packaging.reference_entries(assignment.solutions_dir, assignment.name,
                                           "lib/solutions")
    for path in assignment.test_files():
        entries[f"tests/{path.name}"] = path.read_bytes()
    if assignment.data_dir.is_dir():
        entries |= packaging.tree_entries(assignment.data_dir, "data")
    config = {"assignment": assignment.name, "hidden_visibility": hidden_visibility,
              "late_policy": late_policy, "questions": assignment.question_order(),
              # Feedback language of a notebook that names none (bplab.grade.record.Config).
              "default_language": language}
    entries[CONFIG] = (json.dumps(config, indent=2) + "\n").encode()
    entries["requirements.txt"] = packaging.grading_requirements(assignment.root).encode()
    entries["setup.sh"] = packaging.setup_sh(
        "python3, bubblewrap (the grader's sandbox; without it grading still works with reduced "
        "isolation) and the grading packages", ("bubblewrap",)).encode()
    entries["run_autograder"] = packaging.run_autograder_sh(
        "bplab grade, sandboxed, writes results.json",
        'PYTHONPATH="$ROOT/source/lib" "$PYTHON" -m bplab.gradescope "$ROOT"').encode()
    return entries


def write_gradescope_secure_zip(assignment, dest: Path, **options: str) -> Path:
    """Write the sandboxed Gradescope autograder of ``assignment`` (an ``Assignment`` or a
    name) to ``dest``; ``options`` are ``zip_entries``'s."""
    from bplab.layout import Assignment

    if isinstance(assignment, str):
        assignment = Assignment.named(assignment)
    return packaging.write_zip(dest, zip_entries(assignment, **options),
                               frozenset({"setup.sh", "run_autograder"}))


def read_metadata(path: Path) -> dict:
    """``submission_metadata.json`` (``{}`` when absent or unreadable: grading goes on)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def grade(root: Path, started: float) -> dict:
    """Grade ``root/submission`` with the zip's configuration; the results.json dict."""
    from bplab_checks.i18n import LANGUAGES

    from bplab.grade.command import run_grade
    from bplab.grade.record import Config
    from bplab.grade.suite import load_suite
    from bplab.gradescope_results import gradescope_results

    source = root / "source"
    config = json.loads((source / CONFIG).read_text(encoding="utf-8"))
    assignment = config["assignment"]
    reference = source / "lib" / "solutions" / f"{assignment}.py"
    language = config.get("default_language")
    settings = Config(default_language=language if language in LANGUAGES else "en")
    with tempfile.TemporaryDirectory() as out:
        records = run_grade(assignment, [root / "submission"], Path(out), jobs=1, single=True,
                            config=settings,
                            tests_dir=source / "tests", reference=reference,
                            data_dir=source / "data", quiet=True,
                            order=config.get("questions", []))
    record = records[0]
    # A fault record (say, a broken test file) is reported without loading the suite again.
    suite = None if record.status == "grader_error" else load_suite(
        assignment, source / "tests", order=config.get("questions", []))
    return gradescope_results(record, suite, config, read_metadata(
        root / "submission_metadata.json"), time.monotonic() - started)


def write_results(path: Path, data: dict) -> None:
    """Atomically (temp file + rename): the file is complete or absent, never half written,
    so run_autograder's fallback sees a missing file whenever this did not finish."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    # ASCII escapes keep even a lone surrogate writable; NaN is not JSON: refuse it here.
    text = json.dumps(data, indent=1, ensure_ascii=True, allow_nan=False)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    """``python -m bplab.gradescope ROOT``: grade, write ``ROOT/results/results.json``."""
    started = time.monotonic()
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0] if args else os.environ.get("BPLAB_AUTOGRADER_ROOT", "/autograder"))
    results = root / "results" / "results.json"
    try:
        write_results(results, grade(root, started))
    except BaseException as exc:  # noqa: BLE001 - Gradescope must always get a results file
        # BaseException too: a SystemExit or KeyboardInterrupt from deep inside is still ours.
        trace = traceback.format_exc(limit=6)[-8000:]
        print(trace, file=sys.stderr)  # run_autograder's output reaches the instructor only
        write_results(results, fault_results(type(exc).__name__, time.monotonic() - started,
                                             trace))
    return 0


if __name__ == "__main__":
    sys.exit(main())
