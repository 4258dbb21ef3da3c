"""Who a submission belongs to, as the LMS said it, and the file-name stem it is written under.

Contract:
- ``Identity`` is plain data kept in every record (``extra_data.bplab.identity`` and the
  identity columns of ``grades.csv``): the display name exactly as the LMS gave it (any
  script), the LMS, its ids, the late flag and the source (path, then zip members, ``:``-joined).
- ``Identity.key`` says "the same student's submission on the same LMS" (Canvas user id, Moodle
  participant id, Gradescope SID or e-mail); a re-grade replaces a record only when its key or
  its source is the same (``bplab.grade.outputs``).
- ``parse_canvas`` / ``parse_moodle`` read the names those LMSs give files in their downloads.
- ``safe_stem`` makes a file-name-safe stem that keeps letters of any script (NFC), and changes
  every other character to ``_`` without dropping it, so ``bob!`` can never become ``bob``;
  ``assign_stems`` gives stems that never depend on sort order: when several submissions (or a
  record already in the output folder) want the same stem, none of the newcomers gets it
  plainly, each gets ``<stem>-<6 hex of its source>``, and each is flagged.

Why Unicode letters and no transliteration: every current file system (ext4, APFS, NTFS) and
zip (UTF-8 flag) takes them; a transliteration table is lossy and per-language (Cyrillic has
several standards; Chinese has none that is reversible); the instructor reads the stem in the
script of the roster. Uniqueness and traceability come from the LMS id in the stem
(``Іван_Петренко_1234567``) and from ``source`` in every record.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import asdict, dataclass, fields
from pathlib import PurePosixPath
from typing import Any

# The identity columns of grades.csv, after the question columns (one source for the loaders).
IDENTITY_COLUMNS = ("name", "lms", "user_id", "submission_id", "email", "sid", "late",
                    "submitted_at", "source", "flags")
MAX_STEM = 80
_UNSAFE = re.compile(r"[^\w.-]")  # \w is Unicode: letters and digits of any script, and _
_WINDOWS_RESERVED = re.compile(r"(con|prn|aux|nul|com\d|lpt\d)(\..*)?", re.IGNORECASE)
# Canvas "Download submissions": <lastfirst>[_LATE]_<user id>_<attachment id>_<original name>;
# a re-upload of a file name the student already used gets "-1", "-2" before the extension.
_CANVAS = re.compile(r"(?P<name>[^_]+?)(?P<late>_late)?_(?P<uid>\d+)_(?P<aid>\d+)_(?P<file>.+)",
                     re.IGNORECASE | re.DOTALL)
_REUPLOAD = re.compile(r"-\d+$")
# Moodle "Download all submissions": <Full Name>_<participant id>_assignsubmission_<plugin>_
# as a folder (with "download in folders") or as the prefix of each file. The name is matched
# up to the FIRST such marker: the rest is the student's own file name, which could forge one.
_MOODLE = re.compile(
    r"(?P<name>.+?)_(?P<pid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_?(?P<file>.*)", re.DOTALL)


@dataclass(frozen=True)
class Identity:
    """Where a submission came from and whose it is; empty strings when the LMS did not say."""

    name: str = ""  # display name as given, any script
    lms: str = ""  # canvas | moodle | gradescope | otter | plain
    user_id: str = ""  # Canvas user id, Moodle participant id, Gradescope SID
    submission_id: str = ""  # Canvas attachment id, Gradescope submission id
    email: str = ""
    sid: str = ""
    late: bool = False
    submitted_at: str = ""  # ISO 8601 when the LMS gave it
    source: str = ""  # path[:zip member...] of the notebook (or of the submission)
    original_name: str = ""  # the file name the student uploaded
    folder: str = ""  # the LMS download's folder/prefix for this student (Moodle feedback zip)

    @property
    def key(self) -> str:
        """The same student on the same LMS, or "" when the LMS gave no id."""
        ident = self.user_id or self.email
        return f"{self.lms}:{ident}".casefold() if self.lms and ident else ""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> Identity:
        """Read back ``to_dict`` output; unknown keys and wrong types are ignored."""
        if not isinstance(data, dict):
            return cls()
        kept: dict[str, Any] = {}
        for f in fields(cls):
            value = data.get(f.name)
            if f.name == "late":
                kept["late"] = value is True
            elif isinstance(value, str):
                kept[f.name] = value
        return cls(**kept)

    def csv_cells(self, flags: str = "") -> list[str]:
        d = self.to_dict()
        d["late"] = "late" if self.late else ""
        d["flags"] = flags
        return [str(d[c]) for c in IDENTITY_COLUMNS]


@dataclass(frozen=True)
class CanvasName:
    name: str
    user_id: str
    attachment_id: str
    late: bool
    original: str  # the uploaded name, re-upload counter removed


def parse_canvas(filename: str) -> CanvasName | None:
    """``smithjohn_LATE_12345_67890_hw1-1.ipynb`` -> smithjohn, 12345, 67890, late, hw1.ipynb."""
    m = _CANVAS.fullmatch(filename)
    if not m:
        return None
    original = PurePosixPath(m["file"])
    stem = _REUPLOAD.sub("", original.stem) or original.stem
    return CanvasName(m["name"], m["uid"], m["aid"], bool(m["late"]), stem + original.suffix)


@dataclass(frozen=True)
class MoodleName:
    name: str
    participant_id: str
    prefix: str  # "<Full Name>_<id>_assignsubmission_<plugin>_", as the download names it
    file: str  # the rest (the uploaded file's name in a flat download; "" for a folder)


def parse_moodle(filename: str) -> MoodleName | None:
    """``Іван Петренко_1234567_assignsubmission_file_`` -> Іван Петренко, 1234567, ..."""
    m = _MOODLE.fullmatch(unicodedata.normalize("NFC", filename))
    if not m:
        return None
    prefix = f"{m['name']}_{m['pid']}_assignsubmission_{m['plugin']}_"
    return MoodleName(m["name"], m["pid"], prefix, m["file"])


def safe_stem(text: str) -> str:
    """A file-name-safe stem that keeps letters and digits of any script.

    Every other character becomes ``_`` (never dropped, so two names that differ only in
    punctuation still differ from the bare name); a leading ``.``/``-`` and a trailing ``.``
    (hidden files, options, Windows) become ``_``; at most ``MAX_STEM`` characters.
    """
    s = _UNSAFE.sub("_", unicodedata.normalize("NFC", text.strip()))
    s = re.sub(r"__+", "_", s)
    if s[:1] in (".", "-"):
        s = "_" + s[1:]
    if s.endswith("."):
        s = s[:-1] + "_"
    if not s or set(s) == {"_"}:
        s = "submission"
    if _WINDOWS_RESERVED.fullmatch(s):
        s = "_" + s
    if len(s) > MAX_STEM:
        s = s[:MAX_STEM - 7] + "-" + hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()[:6]
    return s


def source_tag(source: str) -> str:
    """Six hex digits that follow the source, not the order of discovery."""
    return hashlib.sha1(source.encode("utf-8", "replace")).hexdigest()[:6]


def assign_stems(wanted: list[tuple[str, str]], taken: set[str]) -> list[tuple[str, str]]:
    """Stems for (wanted stem, source) pairs: ``[(stem, flag)]`` in the same order.

    ``taken`` holds stems of records that stay (compared case-insensitively: macOS and Windows
    fold case). A wanted stem used more than once, or already taken, is given to none of the
    newcomers: each gets ``<stem>-<source tag>`` and a flag naming the clash. A tag never takes
    a stem another newcomer asked for plainly (it gets ``-2``, ``-3``...): every stem is unique.
    """
    folded = {t.casefold() for t in taken}
    counts: dict[str, int] = {}
    for stem, _ in wanted:
        counts[stem.casefold()] = counts.get(stem.casefold(), 0) + 1
    plain = {k for k, n in counts.items() if n == 1 and k not in folded}
    # Every plain stem is reserved before any tag is made, so no tag can take one whatever the
    # order: a student who uploads "bob-<tag of another bob>" keeps that stem, the other bob's
    # tag gets a counter, and both records are written (before, the second overwrote the first).
    used = folded | plain
    out = []
    for stem, source in wanted:
        key = stem.casefold()
        if key in plain:
            out.append((stem, ""))
            continue
        why = "already in the output folder" if key in folded else "shared by several submissions"
        new, n = f"{stem}-{source_tag(source)}", 1
        while new.casefold() in used:  # a tag collision: rare, still never silent
            n += 1
            new = f"{stem}-{source_tag(source)}-{n}"
        used.add(new.casefold())
        out.append((new, f"stem clash: {stem!r} {why}"))
    return out
