"""What ``bplab similarity`` writes into a grading folder, and reads back from an earlier one.

- ``OUT/similarity.csv``: ``a, b, question, similarity, matched_tokens, shared_diagnosis``, one
  row per ranked pair (``question`` is ``*`` for the whole notebook; ``shared_diagnosis`` lists
  rare codes both were given, ``question:code`` on ``*`` rows, separated by ``; ``).
- ``OUT/similarity/fingerprints.json``: the store. ``scheme`` (the fingerprint scheme: a store of
  another scheme is refused, never silently compared), ``assignment``, and per student its
  diagnoses and per question the cells' ``text``, the ``written`` lines and the winnowed
  ``prints`` as ``[hex hash, token position]``. ``--against DIR`` reads DIR's store; a later run
  without ``--submissions`` reuses this folder's own store.
- ``--export-for jplag|dolos DIR``: ``DIR/students/<stem>/<question>.py`` (each student's cells
  as they left them) and the template (``DIR/template/<question>.py`` for JPlag's base-code
  option, ``DIR/template.py`` for Dolos's ignore option) and ``DIR/README.txt``.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from bplab.similarity.compare import Code, Comparison, Student
from bplab.similarity.extract import Snippet, Template
from bplab.similarity.fingerprint import SCHEME

CSV_NAME = "similarity.csv"
FOLDER = "similarity"
STORE_NAME = "fingerprints.json"
CSV_COLUMNS = ("a", "b", "question", "similarity", "matched_tokens", "shared_diagnosis")
MAX_STORE_BYTES = 512 * 1024 * 1024
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class StoreError(ValueError):
    """A store that cannot be used (missing, unreadable, another scheme or assignment)."""


def store_path(out: Path) -> Path:
    return Path(out) / FOLDER / STORE_NAME


def save_store(out: Path, assignment: str, students: list[Student]) -> Path:
    """Write this class's store (earlier cohorts' students are not copied into it)."""
    path = store_path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"scheme": SCHEME, "assignment": assignment, "students": {
        s.stem: {"diagnoses": s.diagnoses, "questions": {
            q: {"text": c.snippet.text, "written": sorted(c.snippet.written),
                "note": c.snippet.note, "prints": [[f"{h:016x}", p] for h, p in c.prints]}
            for q, c in s.codes.items()}}
        for s in students if not s.cohort}}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _code(entry: dict) -> Code:
    text = entry.get("text", "")
    written = entry.get("written", [])
    prints = entry.get("prints", [])
    if not (isinstance(text, str) and isinstance(written, list) and isinstance(prints, list)):
        raise StoreError("a question entry has the wrong types")
    try:
        parsed = [(int(h, 16), int(p)) for h, p in prints]
        lines = frozenset(int(i) for i in written)
    except (TypeError, ValueError) as e:
        raise StoreError(f"a fingerprint is malformed: {e}") from e
    return Code(Snippet(text, lines, str(entry.get("note", ""))), parsed)


def load_store(out: Path, assignment: str | None, cohort: str = "") -> tuple[str, list[Student]]:
    """``(assignment, students)`` of the store in ``out``; ``cohort`` labels its students.

    Raises:
        StoreError: no store, unreadable, another scheme, or (when given) another assignment.
    """
    path = store_path(out)
    if not path.is_file():
        raise StoreError(f"{path} not found: run `bplab similarity` on {out} first")
    if path.stat().st_size > MAX_STORE_BYTES:
        raise StoreError(f"{path} is too large")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise StoreError(f"{path} is unreadable: {e}") from e
    if not isinstance(data, dict) or data.get("scheme") != SCHEME:
        found = data.get("scheme") if isinstance(data, dict) else None
        raise StoreError(f"{path} was written with fingerprint scheme {found!r}, not {SCHEME!r}:"
                         " re-run `bplab similarity` on it with --submissions")
    if assignment is not None and data.get("assignment") != assignment:
        raise StoreError(f"{path} is for {data.get('assignment')!r}, not {assignment!r}")
    students = []
    for stem, entry in (data.get("students") or {}).items():
        if not isinstance(entry, dict) or not isinstance(entry.get("questions"), dict):
            raise StoreError(f"{path}: the entry of {stem!r} is malformed")
        dx = entry.get("diagnoses")
        dx = dx if isinstance(dx, dict) else {}
        diagnoses = {str(q): [str(c) for c in cs] for q, cs in dx.items() if isinstance(cs, list)}
        codes = {str(q): _code(e) for q, e in entry["questions"].items() if isinstance(e, dict)}
        students.append(Student(str(stem), codes, diagnoses, cohort))
    return str(data.get("assignment")), students


def write_csv(path: Path, comparison: Comparison) -> None:
    students = comparison.students
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(CSV_COLUMNS)
        for p in comparison.pairs:
            w.writerow([students[p.a].label, students[p.b].label, p.question,
                        f"{p.similarity:.3f}", p.matched_tokens, "; ".join(p.shared_diagnosis)])


def safe_name(text: str) -> str:
    return _SAFE.sub("_", text).strip("._")[:100] or "unnamed"


def export_for(tool: str, dest: Path, students: list[Student], template: Template) -> int:
    """Write one folder per student of this class, one ``.py`` per question; files written."""
    dest = Path(dest)
    (dest / "students").mkdir(parents=True, exist_ok=True)
    written, used = 0, set()
    for s in students:
        if s.cohort:
            continue
        name, n = safe_name(s.stem), 1
        while name.lower() in used:  # case-insensitive file systems
            n += 1
            name = f"{safe_name(s.stem)}-{n}"
        used.add(name.lower())
        folder = dest / "students" / name
        folder.mkdir(exist_ok=True)
        for q, code in s.codes.items():
            (folder / f"{safe_name(q)}.py").write_text(code.snippet.text + "\n", encoding="utf-8")
            written += 1
    stubs = {q: "\n\n".join(template.stubs.get(n, "") for n in names)
             for q, names in template.names.items()}
    if tool == "jplag":
        (dest / "template").mkdir(exist_ok=True)
        for q, text in stubs.items():
            (dest / "template" / f"{safe_name(q)}.py").write_text(text + "\n", encoding="utf-8")
        how = "jplag -l python3 --bc template students   (run in this folder)"
    else:
        (dest / "template.py").write_text("\n\n".join(stubs.values()) + "\n", encoding="utf-8")
        how = "dolos run -l python --ignore template.py students/*/*.py   (run in this folder)"
    (dest / "README.txt").write_text(
        f"Exported by bplab similarity for {tool}: one folder per student in students/, one .py "
        f"per question (the cells as the student left them), the released template beside.\n"
        f"For example: {how}\n"
        "Similarity is evidence for a human to weigh, never a verdict.\n", encoding="utf-8")
    return written
