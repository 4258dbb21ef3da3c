"""``bplab merge SHARD_DIR... --out OUT``: join the folders of ``bplab grade --shard I/N``.

Contract (docs/scale.md):
- Every input is a shard folder (``shard.json``, ``bplab.grade.shard.Manifest``). Together they
  are shards ``0 .. N-1`` of one ``N``, each once, graded from the same download with the same
  assignment, shard key, autograder build and config, each complete (a record for every
  submission it owed). Anything else is a usage error: exit 2, one line naming what differs or
  what is missing, nothing written. ``--allow-missing`` merges without the missing shards or
  records and says which (a warning on stderr; every record that is there is merged).
- The same student in two shards (the same stem, LMS id or source) is a usage error naming them.
- Every record of every shard reaches OUT exactly once, through ``Store`` with the re-grade rules
  of ``bplab grade`` (one source of them): a record already in OUT is replaced only by the same
  submission, every other record is kept, and a newcomer whose stem is taken gets a stem of its
  own (flagged). So merging into an existing OUT loses nothing, and merging again is a no-op.
- ``grades.csv`` lists the merged records in the order one run over the whole download would
  (the manifests' positions), after the records OUT already held; ``report.html`` is written
  afresh from every record in OUT (``--no-report`` skips it). The shards' own partial reports,
  roster joins and exports are not copied (``--roster`` makes the join again).
- Records are read twice (checked, then copied), never all held at once: memory stays flat.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import click

from bplab.grade.command import UsageProblem
from bplab.grade.identity import Identity
from bplab.grade.shard import Manifest, same_grading
from bplab.grade.store import Store, submission_from_results
from bplab.layout import Assignment, GradingDir


@dataclass(frozen=True)
class Piece:
    """One shard folder and its manifest."""

    folder: GradingDir
    manifest: Manifest

    def __str__(self) -> str:
        return f"shard {self.manifest.shard} ({self.folder.root})"


@dataclass(frozen=True)
class Entry:
    """What the checks keep of one record of a shard (a few strings)."""

    piece: Piece
    stem: str
    who: str
    key: str
    source: str
    position: float  # in the whole download; records a shard holds from elsewhere go last


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["extra_data"]["bplab"]["identity"]  # noqa: B018 - shape check
        return data
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageProblem(f"{path}: not a readable record ({exc}); grade that shard again") \
            from exc


def _pieces(inputs: list[Path], out: Path) -> list[Piece]:
    if GradingDir(out).shard_json.exists():
        raise UsageProblem(f"{out} is a shard folder; merge into a folder of its own")
    pieces = []
    for path in inputs:
        if path.resolve() == out.resolve():
            raise UsageProblem(f"{path} is both a shard and --out; merge into another folder")
        try:
            manifest = Manifest.read(GradingDir(path))
        except ValueError as exc:
            raise UsageProblem(str(exc)) from exc
        if manifest is None:
            raise UsageProblem(f"{path} is not a shard folder (no shard.json): grade it with "
                               "bplab grade --shard I/N")
        pieces.append(Piece(GradingDir(path), manifest))
    first = pieces[0]
    for p in pieces[1:]:
        differs = same_grading(first.manifest, p.manifest)
        if differs:
            raise UsageProblem(f"{first} and {p} differ in {', '.join(differs)}: merge shards "
                               "of one grading (the same download, image and options)")
    return pieces


def _missing(pieces: list[Piece]) -> list[str]:
    """Shards not given; refuses a shard given twice."""
    count = pieces[0].manifest.count
    seen = Counter(p.manifest.index for p in pieces)
    twice = sorted(i for i, n in seen.items() if n > 1)
    if twice:
        where = ", ".join(str(p.folder.root) for p in pieces if p.manifest.index == twice[0])
        raise UsageProblem(f"shard {twice[0]}/{count} is given more than once ({where})")
    return [f"{i}/{count}" for i in range(count) if i not in seen]


def _entries(pieces: list[Piece]) -> tuple[list[Entry], list[str]]:
    """Every record of every shard, checked; and the records shards owed but do not hold."""
    entries: list[Entry] = []
    absent: list[str] = []
    for piece in pieces:
        stems = set(piece.folder.results_stems())
        owed = piece.manifest.positions
        absent += [f"{stem} (shard {piece.manifest.shard})" for stem in sorted(owed)
                   if stem not in stems]
        for stem in sorted(stems):
            data = _read(piece.folder.results(stem))
            if not piece.folder.feedback(stem).is_file():
                raise UsageProblem(f"{piece.folder.feedback(stem)} is missing; grade "
                                   f"shard {piece.manifest.shard} again")
            ident = Identity.from_dict(data["extra_data"]["bplab"]["identity"])
            entries.append(Entry(piece, stem, ident.name or stem, ident.key, ident.source,
                                 owed.get(stem, float("inf"))))
    _refuse_collisions(entries)
    return entries, absent


def _refuse_collisions(entries: list[Entry]) -> None:
    """The same student in two shards: by stem (as stems compare), LMS id or source."""
    for what, value in (("stem", lambda e: e.stem.casefold()), ("LMS id", lambda e: e.key),
                        ("source", lambda e: e.source)):
        first: dict[str, Entry] = {}
        for e in entries:
            v = value(e)
            if not v:
                continue
            other = first.setdefault(v, e)
            if other.piece is not e.piece:
                raise UsageProblem(f"{e.who} is in two shards (the same {what}): {other.stem} "
                                   f"in {other.piece}, {e.stem} in {e.piece}")


def run_merge(inputs: list[Path], out: Path, *, allow_missing: bool = False,
              tests_dir: Path | None = None) -> list[str]:
    """Merge the shard folders ``inputs`` into ``out``; returns the warnings (nothing missing:
    none). Raises ``UsageProblem`` before writing anything."""
    from bplab.grade.suite import load_suite

    pieces = _pieces(inputs, out)
    missing = _missing(pieces)
    entries, absent = _entries(pieces)
    m = pieces[0].manifest
    warnings = []
    if missing or absent:
        owed = m.total - sum(len(p.manifest.positions) for p in pieces) + len(absent)
        what = "; ".join(x for x in (
            f"shard(s) {', '.join(missing)} not given" if missing else "",
            f"records missing: {', '.join(absent[:5])}{' ...' if len(absent) > 5 else ''}"
            if absent else "") if x)
        if not allow_missing:
            raise UsageProblem(f"{what} ({owed} of {m.total} submissions): grade them "
                               "(again), or pass --allow-missing")
        warnings.append(f"warning: merged without {what}: {owed} of {m.total} submissions "
                        "have no record here")
    positions = Counter(e.position for e in entries if e.position != float("inf"))
    if any(n > 1 for n in positions.values()) or not missing and not absent and \
            set(positions) != set(range(m.total)):
        raise UsageProblem("the shards do not split the download into one share each "
                           "(a manifest was edited?): grade them again")
    isolations = sorted({p.manifest.isolation for p in pieces if p.manifest.isolation})
    if len(isolations) > 1:
        warnings.append("note: the shards ran under different isolation (every record says "
                        "which): " + " | ".join(isolations))
    a = Assignment.named(m.assignment)
    suite = load_suite(m.assignment, tests_dir or a.tests_dir, a.solution, a.question_order())
    if suite.max_scores != m.questions or list(suite.max_scores) != list(m.questions):
        raise UsageProblem(f"this checkout's {m.assignment} has other questions or points than "
                           "the shards: merge with the image that graded them")
    store = Store(out, suite)
    if store.assignments - {m.assignment}:
        raise UsageProblem(f"{out} holds records of {', '.join(sorted(store.assignments))}; "
                           f"merge {m.assignment} into another --out")
    entries.sort(key=lambda e: (e.position, e.piece.manifest.index, e.stem))
    subs = []
    for e in entries:  # (identity and locators only: a few strings each)
        sub = submission_from_results(e.stem, _read(e.piece.folder.results(e.stem)))
        sub.stem, sub.wanted = "", e.stem
        subs.append(sub)
    store.place(subs)
    out.mkdir(parents=True, exist_ok=True)
    for e, sub in zip(entries, subs, strict=True):
        data = _read(e.piece.folder.results(e.stem))
        md = e.piece.folder.feedback(e.stem).read_text(encoding="utf-8")
        store.adopt(sub, data, md, e.stem)
    store.finish()
    return warnings


@click.command("merge")
@click.argument("shards", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The merged folder (grades.csv, results/, feedback/, report.html); an "
                   "existing one is merged into, as a re-grade.")
@click.option("--allow-missing", is_flag=True,
              help="Merge even if shards or records are missing (a warning lists them).")
@click.option("--no-report", is_flag=True, help="Do not write OUT/report.html.")
@click.option("--tests", "tests_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Test files folder (default: autograder/<assignment>).")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Roster: also writes OUT/grades_with_roster.csv (as bplab grade --roster).")
@click.option("--roster-id", metavar="COLUMN", help="A plain roster's id column.")
def merge(shards: tuple[Path, ...], out: Path, allow_missing: bool, no_report: bool,
          tests_dir: Path | None, roster: Path | None, roster_id: str | None) -> None:
    """Join the folders of `bplab grade --shard I/N` (all N of them) into OUT."""
    if roster_id and roster is None:
        raise click.UsageError("--roster-id needs --roster FILE")
    if roster is not None and no_report:
        raise click.UsageError("--roster writes the report's roster join; drop --no-report")
    if roster is not None:
        from bplab.roster import read_roster

        try:  # a roster that cannot be read is refused before anything is written
            read_roster(roster, roster_id)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise UsageProblem(str(exc)) from exc
    warnings = run_merge(list(shards), out, allow_missing=allow_missing, tests_dir=tests_dir)
    for w in warnings:
        click.echo(w, err=True)
    folder = GradingDir(out)
    click.echo(f"merged {len(shards)} shard(s): {len(folder.results_stems())} records in "
               f"{folder.results_dir}/, {folder.grades_csv}")
    code = 0
    if not no_report:
        from bplab.report import write_checked_report

        report = write_checked_report(out, roster, roster_id)
        click.echo(f"report: {report.path}")
        if report.warning:
            click.echo(report.warning, err=True)
        code = report.exit_code
    sys.exit(code)
