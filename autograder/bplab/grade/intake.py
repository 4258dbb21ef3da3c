"""Find the submissions in the paths given to ``bplab grade``, and whose each one is.

Contract (docs/grading.md, "What counts as a submission"):
- a **file** named on the command line is one submission, whatever it holds, except a zip;
- a **folder** or a **zip named on the command line** is read as an LMS download when it looks
  like one (one wrapping folder is looked through):
  - Gradescope export: ``submission_metadata.yml`` at the top, one ``submission_<id>/`` each;
  - Moodle: ``<Full Name>_<id>_assignsubmission_<plugin>_`` folders or file prefixes, one
    submission per participant id;
  - Canvas: ``<lastfirst>[_LATE]_<user id>_<attachment id>_<name>`` files, one per user id;
  - otherwise each sub-folder, each top-level notebook and each nested zip is one submission;
    a zip with notebooks at its top level only is an Otter export (one submission).
- **Only an archive named on the command line can be a bulk download**: a zip found inside a
  folder or inside a download is one submission (its notebook is looked up when it is graded).
- Several notebooks in one submission: the one whose uploaded name is ``<assignment>.ipynb``
  is graded, else ``several_notebooks``; none: ``no_notebook``.
- Nothing is read into memory here: a ``Submission`` holds ``Locator`` s (a path and the zip
  member chain), and ``Submission.read`` reads the notebook's bytes when its turn comes, with
  size limits (zips are never extracted).
- A path that does not exist, or a named archive with no notebook anywhere in it, is a usage
  error (``IntakeError``), never a record.
Stems are assigned later (``bplab.grade.identity.assign_stems``) from ``Submission.wanted``.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Literal

import yaml  # type: ignore[import-untyped]  # (no stubs installed; safe_load only)

from bplab.grade.identity import Identity, parse_canvas, parse_moodle, safe_stem
from bplab.grade.record import Status

MAX_MEMBER_BYTES = 50 * 1024 * 1024
MAX_ZIP_MEMBERS = 20_000
_JUNK = ("__MACOSX", ".ipynb_checkpoints")
GRADESCOPE_METADATA = "submission_metadata.yml"


OpenZips = dict[str, zipfile.ZipFile]  # named archives kept open by path (``open_zips``)


@contextmanager
def open_zips() -> Iterator[OpenZips]:
    """Archives opened by the reads inside the block stay open until it ends. For one process
    reading many members in turn (never across a fork: a shared file offset would race)."""
    zips: OpenZips = {}
    try:
        yield zips
    finally:
        for zf in zips.values():
            zf.close()


class IntakeError(ValueError):
    """A usage error in the paths given (the message says what to do)."""


class Unusable(Exception):
    """A submission that has nothing to grade: its record's status and reason."""

    def __init__(self, status: Status, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class Locator:
    """A file on disk, then a chain of zip members inside it (each may be a zip again)."""

    path: str
    members: tuple[str, ...] = ()

    def __str__(self) -> str:
        return ":".join((self.path, *self.members))

    def read(self, zips: OpenZips | None = None) -> bytes:
        """The bytes, at most ``MAX_MEMBER_BYTES``; raises ``OSError``/``ValueError``.

        ``zips`` keeps the named archives open between reads (``open_zips``), so reading every
        notebook of a download of n members parses its directory once, not n times."""
        if not self.members:
            return _read_file(Path(self.path))
        if zips is not None:
            if self.path not in zips:
                zips[self.path] = zipfile.ZipFile(self.path)
            data = _read_member(zips[self.path], self.members[0])
        else:
            with zipfile.ZipFile(self.path) as zf:
                data = _read_member(zf, self.members[0])
        for member in self.members[1:]:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                data = _read_member(zf, member)
        return data

    def child(self, member: str) -> Locator:
        return Locator(self.path, (*self.members, member))


@dataclass
class Submission:
    """One submission: who it is, its notebooks (name -> locator), or a zip to look into."""

    wanted: str  # the stem it asks for (before uniqueness)
    identity: Identity
    notebooks: dict[str, Locator] = field(default_factory=dict)
    archive: Locator | None = None  # a nested zip, looked into when graded
    status: Literal["ok"] | Status = "ok"  # the record's status when it is not "ok"
    reason: str = ""
    stem: str = ""
    flags: str = ""

    @property
    def origin(self) -> str:
        return self.identity.source

    def read(self, assignment: str, zips: OpenZips | None = None) -> bytes:
        """The notebook's bytes; raises ``Unusable`` when there is nothing to grade."""
        if self.status != "ok":
            raise Unusable(self.status, self.reason)
        try:
            if self.archive is not None and not self.notebooks:
                data = self.archive.read(zips)
                names = _zip_notebooks(data)
                if names is None:
                    raise Unusable("invalid_archive", "not a readable zip")
                chosen = choose({n: self.archive.child(n) for n in names}, assignment)
            else:
                chosen = choose(self.notebooks, assignment)
            return chosen.read(zips)
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            raise Unusable("invalid_archive", f"cannot read the notebook: {exc}") from exc


def choose(notebooks: dict[str, Locator], assignment: str) -> Locator:
    """The one notebook to grade (by uploaded name), or ``Unusable``."""
    if not notebooks:
        raise Unusable("no_notebook", "no .ipynb file was found in it")
    if len(notebooks) == 1:
        return next(iter(notebooks.values()))
    named = [n for n in notebooks if PurePosixPath(n).name.casefold() == f"{assignment}.ipynb"]
    if len(named) != 1:
        names = ", ".join(sorted(notebooks)[:5])
        raise Unusable("several_notebooks",
                       f"several notebooks ({names}) and none is {assignment}.ipynb")
    return notebooks[named[0]]


def _read_file(path: Path) -> bytes:
    with open(path, "rb") as f:
        data = f.read(MAX_MEMBER_BYTES + 1)
    if len(data) > MAX_MEMBER_BYTES:
        raise ValueError("file too large")
    return data


def _read_member(zf: zipfile.ZipFile, name: str) -> bytes:
    info = zf.getinfo(name)
    if info.file_size > MAX_MEMBER_BYTES:
        raise ValueError("member too large")
    with zf.open(info) as f:
        data = f.read(MAX_MEMBER_BYTES + 1)  # file_size is the zip's claim: check what came
    if len(data) > MAX_MEMBER_BYTES:
        raise ValueError("member too large")
    return data


def _junk(parts: tuple[str, ...]) -> bool:
    return any(p in _JUNK or p.startswith(".") for p in parts)


def _zip_notebooks(data: bytes) -> list[str] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return [i.filename for i in zf.infolist()[:MAX_ZIP_MEMBERS]
                    if not i.is_dir() and i.filename.endswith(".ipynb")
                    and not _junk(PurePosixPath(i.filename).parts)]
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


# --- listing a named folder or zip: (parts, locator) for every file -----------------------------

Entry = tuple[tuple[str, ...], Locator]


def _list_folder(path: Path) -> list[Entry]:
    out = []
    for p in sorted(path.rglob("*")):
        rel = p.relative_to(path).parts
        if _junk(rel):
            continue
        if p.is_file():
            out.append((rel, Locator(str(p))))
        elif p.is_dir():  # a placeholder, so that an empty folder is still a submission
            out.append(((*rel, "."), Locator(str(p))))
    return out


def _list_zip(path: Path) -> list[Entry]:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _Invalid(f"not a readable zip: {exc}") from exc
    if len(infos) > MAX_ZIP_MEMBERS:
        raise _Invalid("the zip has too many files")
    out = []
    for info in infos:
        parts = PurePosixPath(info.filename).parts
        if parts and not _junk(parts) and ".." not in parts and not info.filename.startswith("/"):
            out.append((parts, Locator(str(path), (info.filename,))))
    return out


class _Invalid(Exception):
    pass


def _unwrap(entries: list[Entry]) -> list[Entry]:
    """Look through wrapping folders that hold everything (``hw1_export/...``)."""
    while entries and all(len(p) > 1 for p, _ in entries) and len({p[0] for p, _ in entries}) == 1:
        entries = [(p[1:], loc) for p, loc in entries]
    return entries


def _is_notebook(name: str) -> bool:
    return name.casefold().endswith(".ipynb")


def _is_zip(name: str) -> bool:
    return name.casefold().endswith(".zip")


def _group(wanted: str, identity: Identity, entries: list[Entry], depth: int,
           names: dict[Locator, str] | None = None) -> Submission:
    """One submission from its files (``parts[depth:]`` named inside it)."""
    notebooks: dict[str, Locator] = {}
    _raw: dict[str, str] = {}
    zips = []
    for parts, loc in entries:
        inner = "/".join(parts[depth:]) or parts[-1]
        if _is_notebook(parts[-1]):
            name = (names or {}).get(loc, inner)
            if name in notebooks:  # two uploads of one name: neither is chosen by name
                notebooks[inner] = loc
                notebooks[_raw.get(name, name)] = notebooks.pop(name)
            else:
                notebooks[name] = loc
                _raw[name] = inner
        elif _is_zip(parts[-1]):
            zips.append(loc)
    sub = Submission(wanted, identity, notebooks)
    if not notebooks and len(zips) == 1:
        sub.archive = zips[0]
    elif not notebooks:
        sub.status, sub.reason = "no_notebook", "no .ipynb file was found in it"
    return sub


def _gradescope(entries: list[Entry], origin: str, meta: Locator) -> list[Submission]:
    try:
        data = yaml.safe_load(meta.read()) or {}
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise IntakeError(f"{meta}: unreadable Gradescope metadata ({exc})") from exc
    if not isinstance(data, dict):
        raise IntakeError(f"{meta}: unexpected Gradescope metadata (not a mapping)")
    folders: dict[str, list[Entry]] = {}
    for parts, loc in entries:
        if len(parts) > 1:
            folders.setdefault(parts[0], []).append((parts, loc))
    subs = []
    for folder in sorted(set(folders) | {str(k) for k in data}):
        raw = data.get(folder)
        info = {str(k).lstrip(":"): v for k, v in (raw if isinstance(raw, dict) else {}).items()}
        people = [{str(k).lstrip(":"): str(v) for k, v in p.items()}
                  for p in info.get("submitters") or [] if isinstance(p, dict)]
        first = people[0] if people else {}
        ident = Identity(
            name=" & ".join(p.get("name", "") for p in people), lms="gradescope",
            user_id=first.get("sid", ""), submission_id=folder.removeprefix("submission_"),
            email=first.get("email", ""), sid=first.get("sid", ""),
            late=bool(info.get("late")), submitted_at=_iso(info.get("created_at")),
            source=f"{origin}:{folder}", folder=folder)
        wanted = safe_stem(first.get("name") or folder) + (f"_{ident.sid}" if ident.sid else "")
        subs.append(_group(wanted, ident, folders.get(folder, []), 1))
    return subs


def _iso(value: object) -> str:
    """A time as ISO 8601 (YAML gives a datetime for Gradescope's ``:created_at:``)."""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value or "")


def _from_listing(entries: list[Entry], origin: str, named_zip: bool) -> list[Submission]:
    """Submissions of a folder or zip named on the command line (see the module docstring)."""
    entries = _unwrap(entries)
    meta = [loc for p, loc in entries if p == (GRADESCOPE_METADATA,)]
    if meta:
        return _gradescope(entries, origin, meta[0])
    moodle: dict[str, list[Entry]] = {}
    moodle_id: dict[str, Identity] = {}
    canvas: dict[str, list[Entry]] = {}
    canvas_id: dict[str, Identity] = {}
    canvas_names: dict[Locator, str] = {}
    folders: dict[str, list[Entry]] = {}
    loose: list[Entry] = []
    for parts, loc in entries:
        m = parse_moodle(parts[0])
        c = parse_canvas(parts[0]) if len(parts) == 1 else None
        if m:
            moodle.setdefault(m.participant_id, []).append((parts, loc))
            moodle_id.setdefault(m.participant_id, Identity(
                name=m.name, lms="moodle", user_id=m.participant_id,
                source=f"{origin}:{m.prefix}", original_name=m.file, folder=m.prefix))
        elif c:
            canvas.setdefault(c.user_id, []).append((parts, loc))
            canvas_names[loc] = c.original
            old = canvas_id.get(c.user_id)
            canvas_id[c.user_id] = Identity(
                name=c.name, lms="canvas", user_id=c.user_id,
                submission_id=c.attachment_id if old is None else
                f"{old.submission_id};{c.attachment_id}",
                late=c.late or (old is not None and old.late),
                source=str(loc) if old is None else f"{origin}:{c.name}_{c.user_id}",
                original_name=c.original)
        elif len(parts) > 1:
            folders.setdefault(parts[0], []).append((parts, loc))
        else:
            loose.append((parts, loc))
    subs = []
    for pid, group in sorted(moodle.items()):
        ident = moodle_id[pid]
        # A flat download names each file "<prefix><file>": strip it so choose() sees the name.
        names = {loc: parts[-1].removeprefix(ident.folder) for parts, loc in group}
        subs.append(_group(f"{safe_stem(ident.name)}_{pid}", ident, group, 1, names))
    for uid, group in sorted(canvas.items()):
        ident = canvas_id[uid]
        subs.append(_group(f"{safe_stem(ident.name)}_{uid}", ident, group, 1, canvas_names))
    for name, group in sorted(folders.items()):
        ident = Identity(name=name, lms="plain", source=f"{origin}:{name}")
        subs.append(_group(safe_stem(name), ident, group, 1))
    notebooks = [(p, loc) for p, loc in loose if _is_notebook(p[-1])]
    if named_zip and notebooks and not (subs or any(_is_zip(p[-1]) for p, _ in loose)):
        # An Otter export: the notebooks at the top level of one zip are one submission.
        ident = Identity(name=Path(origin).stem, lms="otter", source=origin)
        return [_group(safe_stem(Path(origin).stem), ident, notebooks, 0)]
    for parts, loc in loose:
        if _is_notebook(parts[-1]) or _is_zip(parts[-1]):
            ident = Identity(name=Path(parts[-1]).stem, lms="plain", source=str(loc))
            subs.append(_group(safe_stem(Path(parts[-1]).stem), ident, [(parts, loc)], 0))
    return subs


def _from_named_path(path: Path) -> list[Submission]:
    if path.is_dir():
        return _from_listing(_list_folder(path), str(path), named_zip=False)
    ident = Identity(name=path.stem, lms="plain", source=str(path))
    if _is_zip(path.name) or (path.suffix != ".ipynb" and _looks_like_zip(path)):
        try:
            entries = _list_zip(path)
        except _Invalid as exc:
            return [Submission(safe_stem(path.stem), ident, status="invalid_archive",
                               reason=str(exc))]
        if not any(_is_notebook(p[-1]) or _is_zip(p[-1]) for p, _ in entries):
            raise IntakeError(f"{path}: the archive holds no notebook (.ipynb); "
                              "is it the right download?")
        return _from_listing(entries, str(path), named_zip=True)
    return [Submission(safe_stem(path.stem), ident, {path.name: Locator(str(path))})]


def _looks_like_zip(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def find_submissions(paths: list[Path]) -> list[Submission]:
    """Every submission in ``paths`` (stems not yet assigned); raises ``IntakeError``.

    A source named twice (the same file given twice) is one submission.
    """
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise IntakeError(f"no such file or folder: {', '.join(missing)}")
    subs: list[Submission] = []
    seen: set[str] = set()
    for path in paths:
        for sub in _from_named_path(path):
            if sub.origin not in seen:
                seen.add(sub.origin)
                subs.append(sub)
    return subs


def from_folder(path: Path, wanted: str) -> Submission:
    """A whole folder as one submission (e.g. Gradescope's ``/autograder/submission``)."""
    entries = [(p, loc) for p, loc in _list_folder(path)]
    ident = Identity(name=wanted, lms="plain", source=str(path))
    sub = _group(safe_stem(wanted), ident, [((path.name, *p), loc) for p, loc in entries], 1)
    return replace(sub, stem=sub.wanted)
