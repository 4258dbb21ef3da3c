"""Shards: ``bplab grade --shard I/N`` grades a deterministic 1/N of a download, and writes which
share it holds into ``DIR/shard.json``, so that ``bplab merge`` can check it joins a whole class.

Contract (docs/scale.md):
- ``I/N`` is 0-based: ``0 <= I < N``, ``1 <= N <= MAX_SHARDS``, ASCII digits only, so
  ``--shard $JOB_COMPLETION_INDEX/N`` (Kubernetes, 0-based) and a Slurm ``--array=0-<N-1>`` pass
  their index as it is. Anything else is a usage error (exit 2, nothing written); ``N/N`` is
  refused too, so a 1-based array (1..N) fails on its last task instead of silently losing 0.
- Every shard reads the whole download (listing it is cheap: no notebook is graded) and keeps
  the submissions whose **key** falls in its share: ``shard_of`` hashes the stem the submission
  asks for (``Submission.wanted``: ``<name>_<LMS id>`` for an LMS download), case-folded, its
  trailing ``-<6 hex>`` tags removed (``shard_key``), never its place in a list. So a late
  submission added to the download moves nobody else, the same student's re-submission lands
  in the same shard as before, and submissions that want the same stem (a clash), or a stem a
  clash's tag could make, share one shard: each shard gives its submissions the stems one run
  over the whole download would (``identity.assign_stems`` sees every contender).
- ``Manifest`` (``DIR/shard.json``) says which share the folder holds (``index``/``count``,
  ``KEY_SCHEME``), of what (``assignment``, ``download``: a digest of every submission's stem
  and LMS ids, and how many there are), graded how (``build``: a digest of the test files,
  the reference, the check library, the grader's code, numpy and Python versions; ``config``:
  the time limits and the bubblewrap choice), and where each of its submissions stood in the
  whole download (``positions``: stem -> index), so a merge restores one run's row order.
  It is written before grading starts (a shard that died still says what it owed) and again at
  the end with the isolation that was in force.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

import click

from bplab.grade.intake import Submission
from bplab.grade.record import Config
from bplab.layout import GradingDir

MAX_SHARDS = 10_000
KEY_SCHEME = "sha256(casefold(NFC(wanted stem)) without -<6 hex> tags) mod N, v1"
FORMAT = 1
_SHARD = re.compile(r"(\d+)/(\d+)", re.ASCII)
_TAGS = re.compile(r"(?:-[0-9a-f]{6}(?:-[0-9]+)?)+$", re.ASCII)  # identity.assign_stems' tags


@dataclass(frozen=True)
class Shard:
    """Share ``index`` (0-based) of ``count``."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``"2/8"`` -> ``Shard(2, 8)``; a ``ValueError`` saying what is wrong otherwise."""
    m = _SHARD.fullmatch(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not I/N (two whole numbers, e.g. 0/4)")
    index, count = int(m[1]), int(m[2])
    if not 1 <= count <= MAX_SHARDS:
        raise ValueError(f"{text!r}: N must be 1 to {MAX_SHARDS}")
    if index >= count:
        raise ValueError(f"{text!r}: I counts from 0 and must be below N (0 to {count - 1}; "
                         "a 1-based array index needs I-1)")
    return Shard(index, count)


class ShardParam(click.ParamType):
    """``--shard I/N`` for click: a bad value is click's usage error (exit 2)."""

    name = "I/N"

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> Shard:
        if isinstance(value, Shard):
            return value
        try:
            return parse_shard(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def shard_key(sub: Submission) -> str:
    """What decides a submission's shard: the stem it asks for, as stems compare (case-folded),
    without trailing ``-<6 hex>[-<n>]`` tags: a stem that could collide with the tagged stem of
    a clash (``bob-1a2b3c``, forged or not) is then in the clash's shard, whose
    ``assign_stems`` sees both, as one run would."""
    return _TAGS.sub("", unicodedata.normalize("NFC", sub.wanted).casefold())


def shard_of(key: str, count: int) -> int:
    """The share (0 to ``count - 1``) of a key; stable across runs, machines and Python versions
    (a cryptographic digest, never ``hash()``, which is salted per process)."""
    digest = hashlib.sha256(b"bplab-shard-v1\0" + key.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") % count


def select(subs: list[Submission], shard: Shard) -> list[tuple[int, Submission]]:
    """This shard's submissions, each with its position in the whole download."""
    return [(i, s) for i, s in enumerate(subs) if shard_of(shard_key(s), shard.count)
            == shard.index]


def download_digest(subs: list[Submission]) -> str:
    """One digest of the whole download as every shard sees it: each submission's stem, LMS ids,
    submission time and late flag (a re-submission changes the ids), in sorted order."""
    items = sorted(json.dumps([s.wanted, s.identity.key, s.identity.submission_id,
                               s.identity.submitted_at, s.identity.late], ensure_ascii=False)
                   for s in subs)
    return hashlib.sha256("\n".join(items).encode("utf-8", "surrogatepass")).hexdigest()


def build_fingerprint(tests_dir: Path, reference: Path | None, data_dir: Path | None,
                      order: tuple[str, ...]) -> str:
    """A digest of everything that decides a grade: the test files (and their helpers), the
    reference, the data, the check library, the grader's own code, numpy's and Python's
    versions, and the question order. Two shards with the same digest grade alike."""
    import bplab_checks
    import numpy

    import bplab

    here = Path(bplab.__file__).resolve().parent
    files: list[tuple[str, Path]] = []

    def add(label: str, root: Path | None, pattern: str) -> None:
        if root is not None and root.is_dir():
            files.extend((f"{label}/{p.relative_to(root).as_posix()}", p)
                         for p in sorted(root.rglob(pattern)) if p.is_file()
                         and "__pycache__" not in p.parts)

    add("tests", tests_dir, "*.py")
    add("data", data_dir, "*")
    add("checks", Path(bplab_checks.__file__).resolve().parent, "*.py")
    add("grade", here / "grade", "*.py")
    if reference is not None and reference.is_file():
        files.append(("reference", reference))
    h = hashlib.sha256()
    h.update(json.dumps({"numpy": numpy.__version__, "python": sys.version.split()[0],
                         "order": list(order)}).encode())
    for label, path in files:
        h.update(f"\0{label}\0{path.stat().st_size}\0".encode("utf-8", "surrogatepass"))
        h.update(path.read_bytes())
    return h.hexdigest()


@dataclass
class Manifest:
    """``DIR/shard.json`` (see the module docstring)."""

    index: int
    count: int
    assignment: str
    build: str
    config: dict
    download: str
    total: int
    questions: dict[str, float]
    positions: dict[str, int] = field(default_factory=dict)
    isolation: str = ""
    key: str = KEY_SCHEME
    format: int = FORMAT

    @property
    def shard(self) -> Shard:
        return Shard(self.index, self.count)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, ensure_ascii=False) + "\n"

    @classmethod
    def read(cls, folder: GradingDir) -> Manifest | None:
        """The folder's manifest; None when it has none; ``ValueError`` when it is unreadable."""
        path = folder.shard_json
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            m = cls(**data)
            positions = {str(k): int(v) for k, v in dict(m.positions).items()}
            questions = {str(k): float(v) for k, v in dict(m.questions).items()}
            if not (isinstance(m.index, int) and isinstance(m.count, int)
                    and 0 <= m.index < m.count and isinstance(m.total, int)
                    and isinstance(m.config, dict)):
                raise ValueError("index, count, total or config has the wrong type")
        except (OSError, ValueError, TypeError) as exc:
            raise ValueError(f"{path}: not a readable shard manifest ({exc})") from exc
        m.positions, m.questions = positions, questions
        return m

    def write(self, folder: GradingDir) -> None:
        from bplab.grade.store import atomic_write  # (store imports intake; keep this light)

        folder.root.mkdir(parents=True, exist_ok=True)
        atomic_write(folder.shard_json, self.to_json())


def same_grading(a: Manifest, b: Manifest) -> list[str]:
    """What differs between two shards' grading (empty when they may be merged)."""
    return [what for what, x, y in (
        ("assignment", a.assignment, b.assignment), ("shard count N", a.count, b.count),
        ("shard key", a.key, b.key), ("manifest format", a.format, b.format),
        ("autograder build", a.build, b.build), ("config", a.config, b.config),
        ("download", (a.download, a.total), (b.download, b.total)),
        ("questions", a.questions, b.questions)) if x != y]


def config_dict(config: Config, use_bwrap: bool | None) -> dict:
    """The grading settings a manifest compares: the time limits, and whether bubblewrap was
    asked for (``--no-bwrap``, ``BPLAB_NO_BWRAP=1``; whether it then worked is ``isolation``)."""
    from bplab.grade.sandbox import wants_bwrap

    return {**asdict(config), "bwrap": "on" if wants_bwrap(use_bwrap) else "off"}


__all__ = ["KEY_SCHEME", "MAX_SHARDS", "Manifest", "Shard", "ShardParam", "build_fingerprint",
           "config_dict", "download_digest", "parse_shard", "same_grading", "select",
           "shard_key", "shard_of"]
