"""Where each student's notebook bytes come from, for ``bplab similarity`` (read, never run).

- ``from_paths(paths, assignment)``: the submissions in the paths given to ``bplab grade``, found
  by grade's own intake (``bplab.grade.intake``), so their stems are the records' stems.
- ``from_record(folder, stem, assignment)``: the notebook the grader recorded for ``stem`` in
  ``results/<stem>.json``: its locators when grade writes them (``extra_data.bplab.locators``,
  read back with ``bplab.grade.store.submission_from_results``), else a plain path in
  ``extra_data.bplab.source`` or ``extra_data.bplab.identity.source``.
- ``recorded_assignment(folder)``: the assignment the records name
  (``extra_data.bplab.assignment``), when they all agree.

Grade's intake is being reworked (identities, lazy reads) while this is written; both shapes
are accepted here, in this one module, until it has landed.
"""

from __future__ import annotations

import json
from pathlib import Path

from bplab.layout import GradingDir


def _bytes(sub: object, assignment: str) -> bytes | None:
    read = getattr(sub, "read", None)
    if read is None:
        return getattr(sub, "data", None)
    try:
        return read(assignment)
    except Exception:  # noqa: BLE001 - an unusable submission (no notebook, bad zip) has no code
        return None


def from_paths(paths: list[Path], assignment: str,
               folder: GradingDir | None = None) -> dict[str, bytes | None]:
    """Stem -> notebook bytes (None when the submission has no usable notebook).

    Where intake leaves stems to the grading folder (they depend on the records already there),
    a submission gets the stem of the record graded from the same source, else the stem it asks
    for.
    """
    from bplab.grade import intake

    subs = intake.find_submissions(paths)
    by_source: dict[str, str] = {}
    if folder is not None and any(not getattr(s, "stem", "") for s in subs):
        for stem in folder.results_stems():
            identity = _results(folder, stem).get("extra_data", {}).get("bplab", {}).get(
                "identity")
            if isinstance(identity, dict) and isinstance(identity.get("source"), str):
                by_source.setdefault(identity["source"], stem)
    found = {}
    for sub in subs:
        stem = sub.stem or by_source.get(sub.origin, "") or (getattr(sub, "wanted", "") or "")
        found[stem] = _bytes(sub, assignment)
    return found


def _results(folder: GradingDir, stem: str) -> dict:
    try:
        data = json.loads(folder.results(stem).read_text(encoding="utf-8"))
        bplab = data["extra_data"]["bplab"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return data if isinstance(bplab, dict) else {}


def from_record(folder: GradingDir, stem: str, assignment: str) -> bytes | None:
    """The recorded notebook of ``stem`` (see the module docstring), or None."""
    data = _results(folder, stem)
    if not data:
        return None
    bplab = data["extra_data"]["bplab"]
    from bplab.grade.store import submission_from_results

    if bplab.get("locators"):
        return _bytes(submission_from_results(stem, data), assignment)
    identity = bplab.get("identity") if isinstance(bplab.get("identity"), dict) else {}
    source = bplab.get("source") or identity.get("source")
    if not isinstance(source, str) or not source or not Path(source).exists():
        return None
    found = from_paths([Path(source)], assignment)
    if stem in found:  # e.g. a bulk zip: the submission of that name in it
        return found[stem]
    return next(iter(found.values())) if len(found) == 1 else None


def recorded_assignment(folder: GradingDir) -> str | None:
    """The one assignment every record that names one names, else None."""
    names = {_results(folder, stem).get("extra_data", {}).get("bplab", {}).get("assignment")
             for stem in folder.results_stems()}
    names.discard(None)
    return names.pop() if len(names) == 1 and all(isinstance(n, str) for n in names) else None
