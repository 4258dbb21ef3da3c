"""The submissions that prove a translated release grades like the English one (issue 17): the
reference filled into a language's release notebook, and that notebook untouched.

Shared by the otter side (conftest.py ``otter_results`` runs them once per session) and the
``bplab grade`` side (test_i18n.py), so both graders see the same notebooks.
"""

from __future__ import annotations

from pathlib import Path

from bplab import i18n, notebook
from bplab.examples import BLANK, FULL
from bplab.layout import Assignment
from nbformat import NotebookNode

KINDS = (FULL, BLANK)


def release_folder(out_dir: Path, language: str) -> Path:
    """``student/`` for English, ``student-<lang>/`` otherwise."""
    return out_dir / "student" if language == "en" else i18n.student_dir(out_dir, language)


def submissions(assignment: Assignment, out_dir: Path, language: str) -> dict[str, NotebookNode]:
    """``FULL`` and ``BLANK`` made from the ``language`` notebook of the release in ``out_dir``."""
    stub = notebook.read(release_folder(out_dir, language) / f"{assignment.name}.ipynb")
    return {FULL: notebook.render(stub, assignment, "reference"), BLANK: stub}


def stem(kind: str, language: str) -> str:
    """The file stem (and ``otter_results`` key) of one translated submission: ``full-ru``."""
    return f"{kind}-{language}"


def write_submissions(assignment: Assignment, out_dir: Path, language: str,
                      folder: Path) -> list[Path]:
    """``submissions`` written into ``folder`` as ``<stem>.ipynb``; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, nb in submissions(assignment, out_dir, language).items():
        path = folder / f"{stem(kind, language)}.ipynb"
        path.write_text(notebook.dumps(nb), encoding="utf-8")
        paths.append(path)
    return paths
