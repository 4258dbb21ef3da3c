"""Find the submissions in the paths given to ``bplab grade``.

A path is one of:
- a notebook file (any file given by name is a submission, whatever it holds);
- a folder: each ``.ipynb`` and ``.zip`` in it is a submission, and so is each sub-folder
  (its notebooks searched recursively);
- a zip: an Otter export (notebooks at its top level: one submission) or a bulk download
  (sub-folders or nested zips: one submission each; one wrapping top folder is looked through).

A submission with no notebook, or several and none named ``<assignment>.ipynb``, still gets a
record (``no_notebook``, ``several_notebooks``), as does an unreadable zip (``invalid_archive``).
Zips are read in memory with size limits (never extracted).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from bplab.grade.record import Status

MAX_MEMBER_BYTES = 50 * 1024 * 1024
MAX_ZIP_MEMBERS = 20_000
_JUNK = ("__MACOSX", ".ipynb_checkpoints")


@dataclass
class Submission:
    """One submission; ``data`` holds the notebook bytes when ``status`` is ``"ok"``."""

    stem: str
    origin: str
    status: Literal["ok"] | Status = "ok"  # the record's status when it is not "ok"
    reason: str = ""
    data: bytes | None = None


def _junk(parts: tuple[str, ...]) -> bool:
    return any(p in _JUNK or p.startswith(".") for p in parts)


def _choose(stem: str, origin: str, notebooks: dict[str, Callable[[], bytes]],
            assignment: str) -> Submission:
    """One submission from its notebooks (name -> reader of the bytes)."""
    if not notebooks:
        return Submission(stem, origin, "no_notebook", "no .ipynb file was found in it")
    if len(notebooks) > 1:
        named = [n for n in notebooks if PurePosixPath(n).name == f"{assignment}.ipynb"]
        if len(named) != 1:
            names = ", ".join(sorted(notebooks)[:5])
            return Submission(stem, origin, "several_notebooks",
                              f"several notebooks ({names}) and none is {assignment}.ipynb")
        notebooks = {named[0]: notebooks[named[0]]}
    (name, read), = notebooks.items()
    try:
        data = read()
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        return Submission(stem, f"{origin}:{name}", "invalid_archive", f"cannot read {name}: {exc}")
    return Submission(stem, f"{origin}:{name}" if name else origin, data=data)


def _read_file(path: Path) -> bytes:
    with open(path, "rb") as f:
        data = f.read(MAX_MEMBER_BYTES + 1)
    if len(data) > MAX_MEMBER_BYTES:
        raise ValueError("file too large")
    return data


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo):
    def read() -> bytes:
        if info.file_size > MAX_MEMBER_BYTES:
            raise ValueError("member too large")
        with zf.open(info) as f:
            data = f.read(MAX_MEMBER_BYTES + 1)
        if len(data) > MAX_MEMBER_BYTES:
            raise ValueError("member too large")
        return data

    return read


def from_folder(path: Path, stem: str, assignment: str) -> Submission:
    """A whole folder as one submission (e.g. Gradescope's ``/autograder/submission``)."""
    notebooks = {}
    for p in sorted(path.rglob("*.ipynb")):
        rel = p.relative_to(path)
        if p.is_file() and not _junk(rel.parts):
            notebooks[rel.as_posix()] = (lambda p=p: _read_file(p))
    return _choose(stem, str(path), notebooks, assignment)


def _from_zip(data: bytes, stem: str, origin: str, assignment: str,
              nested: bool) -> list[Submission]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        return [Submission(stem, origin, "invalid_archive", f"not a readable zip: {exc}")]
    if len(infos) > MAX_ZIP_MEMBERS:
        return [Submission(stem, origin, "invalid_archive", "the zip has too many files")]
    entries = []
    for info in infos:
        parts = PurePosixPath(info.filename).parts
        if parts and not _junk(parts) and ".." not in parts:
            entries.append((parts, info))
    # Look through wrapping folders that hold everything (e.g. "hw1_export/submission_1/...").
    while entries and all(len(p) > 1 for p, _ in entries) and len({p[0] for p, _ in entries}) == 1:
        entries = [(p[1:], i) for p, i in entries]
    top_notebooks = {"/".join(p): _read_member(zf, i) for p, i in entries
                     if len(p) == 1 and p[0].endswith(".ipynb")}
    folders: dict[str, dict] = {}
    zips = []
    for p, i in entries:
        if len(p) > 1:
            group = folders.setdefault(p[0], {})
            if p[-1].endswith(".ipynb"):
                group["/".join(p)] = _read_member(zf, i)
        elif p[0].endswith(".zip"):
            zips.append(i)
    bulk = not nested and (zips or any(folders.values()))
    if not bulk:
        notebooks = dict(top_notebooks)
        for group in folders.values():
            notebooks.update(group)
        return [_choose(stem, origin, notebooks, assignment)]
    subs = []
    for name, group in sorted(folders.items()):
        subs.append(_choose(name, f"{origin}:{name}", group, assignment))
    for name, read in sorted(top_notebooks.items()):
        subs.append(_choose(Path(name).stem, origin, {name: read}, assignment))
    for info in zips:
        name = PurePosixPath(info.filename).name
        try:
            inner = _read_member(zf, info)()
        except (ValueError, OSError, zipfile.BadZipFile) as exc:
            subs.append(Submission(Path(name).stem, f"{origin}:{name}", "invalid_archive",
                                   str(exc)))
            continue
        subs += _from_zip(inner, Path(name).stem, f"{origin}:{name}", assignment, nested=True)
    return subs


def find_submissions(paths: list[Path], assignment: str) -> list[Submission]:
    """Every submission in ``paths``, with unique, file-name-safe stems."""
    subs: list[Submission] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(path.iterdir()):
                if child.name.startswith(".") or child.name in _JUNK:
                    continue
                if child.is_dir():
                    subs.append(from_folder(child, child.name, assignment))
                elif child.suffix.lower() in (".ipynb", ".zip"):
                    subs += _from_path(child, assignment)
        elif path.exists():
            subs += _from_path(path, assignment)
        else:
            subs.append(Submission(path.stem or "missing", str(path), "no_notebook",
                                   "the path does not exist"))
    return _unique_stems(subs)


def _from_path(path: Path, assignment: str) -> list[Submission]:
    try:
        data = _read_file(path)
    except (OSError, ValueError) as exc:
        return [Submission(path.stem, str(path), "invalid_notebook", f"cannot read: {exc}")]
    if path.suffix.lower() == ".zip" or (data[:4] == b"PK\x03\x04" and path.suffix != ".ipynb"):
        return _from_zip(data, path.stem, str(path), assignment, nested=False)
    return [Submission(path.stem, str(path), data=data)]


def _unique_stems(subs: list[Submission]) -> list[Submission]:
    used: set[str] = set()
    for sub in subs:
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", sub.stem).strip("._") or "submission"
        stem, n = base, 1
        while stem in used:
            n += 1
            stem = f"{base}-{n}"
        used.add(stem)
        sub.stem = stem
    return subs
