"""``bplab grade``: grade notebooks, folders and LMS downloads into an output folder.

Contract:
- Usage errors exit 2 with a one-line reason and write nothing: a path that does not exist, a
  named archive with no notebook, an unknown assignment (the known ones are listed; ``HW1`` is
  ``hw1``), notebooks whose metadata name another assignment (unless ``--force``), an output
  folder graded for another assignment, ``--regrade`` of a stem that is not in it.
- Every submission found gets exactly one record, written as soon as it is graded
  (``bplab.grade.store``); grading into an existing ``--out`` is a merge.
- ``--regrade STEM...`` grades those records again from the sources they were read from.
- ``--shard I/N`` grades the share ``I`` (0-based) of ``N`` of the submissions found and writes
  ``DIR/shard.json`` (``bplab.grade.shard``); ``bplab merge`` joins the shard folders. A shard
  folder takes only its own shard again (a retry), and a shard goes only into a fresh folder or
  its own: anything else is a usage error.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import click
from bplab_checks.i18n import LANGUAGES
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from bplab import REPO_ROOT
from bplab.grade.batch import Setup, default_jobs, grade_all
from bplab.grade.intake import (
    IntakeError,
    Submission,
    Unusable,
    find_submissions,
    from_folder,
    open_zips,
)
from bplab.grade.outputs import print_summary
from bplab.grade.record import Config, FaultCause, Record, Status
from bplab.grade.shard import (
    Manifest,
    Shard,
    ShardParam,
    build_fingerprint,
    config_dict,
    download_digest,
    same_grading,
    select,
)
from bplab.grade.store import Store, submission_from_results
from bplab.grade.suite import Suite, load_suite
from bplab.layout import Assignment, GradingDir


@dataclass(frozen=True)
class Outcome:
    """What the command line needs of a record once it is written (a few bytes each)."""

    stem: str
    status: Status
    cause: FaultCause | None


class UsageProblem(click.ClickException):
    """A usage error found after the arguments parsed: one line ``Error: ...``, exit 2."""

    exit_code = 2


def known_assignments() -> list[str]:
    """Assignments with test files in this checkout (``autograder/hw<N>/``)."""
    return sorted(p.name for p in (REPO_ROOT / "autograder").glob("hw*")
                  if p.is_dir() and re.fullmatch(r"hw\d+", p.name)
                  and Assignment.named(p.name).test_files())


def canonical_assignment(name: str, tests_dir: Path | None = None) -> str:
    """``HW1`` -> ``hw1``; an unknown name is a usage error listing the known ones."""
    canon = name.strip().casefold()
    if tests_dir is not None and re.fullmatch(r"hw\d+", canon):
        return canon
    known = known_assignments()
    if canon not in known:
        raise UsageProblem(f"unknown assignment {name!r}; known: {', '.join(known)}")
    return canon


def _named_assignment(data: bytes) -> str:
    try:
        meta = json.loads(data).get("metadata", {})
        return str(meta.get("otter", {}).get("assignment_name") or "").casefold()
    except (ValueError, AttributeError, UnicodeDecodeError):
        return ""


def check_assignment(subs: list[Submission], assignment: str) -> None:
    """Refuse when most notebooks say they are another assignment (the ``-a`` typo).

    Reads each notebook once and lets it go (memory stays flat). A minority naming another
    assignment is a student's wrong upload: graded, not refused (a student must not be able to
    stop the class's grading).
    """
    named: dict[str, int] = {}
    with open_zips() as zips:  # a download's directory parsed once, not once per notebook
        for sub in subs:
            try:
                name = _named_assignment(sub.read(assignment, zips))
            except Unusable:
                continue
            if name:
                named[name] = named.get(name, 0) + 1
    other = {k: v for k, v in named.items() if k != assignment}
    if other and sum(other.values()) * 2 >= sum(named.values()):
        top = max(other, key=other.__getitem__)
        raise UsageProblem(f"{sum(other.values())} of {sum(named.values())} notebooks say they "
                           f"are {top!r}, not {assignment!r}: check -a, or pass --force")


def _regrade_subs(out: Path, stems: list[str]) -> list[Submission]:
    subs = []
    for stem in stems:
        path = GradingDir(out).results(stem)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageProblem(f"--regrade {stem}: no readable record {path} ({exc})") from exc
        sub = submission_from_results(stem, data)
        gone = sorted({loc.path for loc in [*sub.notebooks.values(), sub.archive]
                       if loc is not None and not Path(loc.path).exists()})
        if gone:  # re-grading from nothing would replace a real grade with an error
            raise UsageProblem(f"--regrade {stem}: its source is gone ({', '.join(gone)}); "
                               "grade the new download into --out instead")
        subs.append(sub)
    return subs


def _plan_shard(out: Path, shard: Shard | None, regrade: bool, subs: list[Submission],
                setup: Setup, suite: Suite) -> tuple[Manifest | None, list[tuple[int, Submission]]]:
    """This run's manifest and its submissions with their positions in the download; refuses
    (``UsageProblem``) a shard into a folder that is not fresh or not its own, and a plain run
    into a shard folder."""
    folder = GradingDir(out)
    try:
        existing = Manifest.read(folder)
    except ValueError as exc:
        raise UsageProblem(str(exc)) from exc
    planned = list(enumerate(subs))
    if shard is None:
        if existing is not None and not regrade:
            raise UsageProblem(f"{out} holds shard {existing.shard} (shard.json): grade into it "
                               f"with --shard {existing.shard}, or join it with bplab merge")
        if existing is None:
            return None, planned
    if existing is None and folder.results_stems():
        raise UsageProblem(f"{out} holds records of an unsharded run; grade shard {shard} "
                           "into a folder of its own")
    share = shard or (existing.shard if existing is not None else None)
    assert share is not None  # (no shard and no manifest returned above)
    manifest = Manifest(
        index=share.index, count=share.count, assignment=setup.assignment,
        build=build_fingerprint(setup.tests_dir, setup.reference, setup.data_dir, setup.order),
        config=config_dict(setup.config, setup.use_bwrap), download=download_digest(subs),
        total=len(subs), questions=suite.max_scores)
    if existing is not None:
        if shard is not None and existing.shard != shard:
            raise UsageProblem(f"{out} holds shard {existing.shard}, not {shard}: give each "
                               "shard a folder of its own")
        differs = [d for d in same_grading(existing, manifest) if d != "download"]
        if differs:
            raise UsageProblem(f"{out}: shard {manifest.shard} was graded with another "
                               f"{', '.join(differs)}; grade it again into a fresh folder")
        if regrade:  # the stems re-graded keep their places
            existing.build, existing.config = manifest.build, manifest.config
            return existing, planned
    return manifest, select(subs, manifest.shard)


def run_grade(assignment: str, paths: list[Path], out: Path, *, jobs: int | None = None,
              tests_dir: Path | None = None, reference: Path | None = None,
              config: Config | None = None, single: bool = False,
              data_dir: Path | None = None, use_bwrap: bool | None = None,
              console: Console | None = None, quiet: bool = False, force: bool = False,
              regrade: list[str] | None = None, keep_records: bool = True,
              order: list[str] | None = None, shard: Shard | None = None) -> list:
    """Grade ``paths`` (or the ``regrade`` stems) into ``out``.

    Returns one entry per submission, in input order: its ``Record`` when ``keep_records``, else
    an ``Outcome`` (the CLI: no record is held once written). Raises ``UsageProblem`` before
    writing anything. With ``shard``, only that share of the submissions found is graded.
    """
    console = console or Console(stderr=True)
    assignment = canonical_assignment(assignment, tests_dir)
    a = Assignment.named(assignment)
    setup = Setup(assignment=assignment, tests_dir=tests_dir or a.tests_dir,
                  reference=reference if reference is not None else a.solution,
                  data_dir=data_dir if data_dir is not None else a.data_dir,
                  config=config or Config(), use_bwrap=use_bwrap,
                  order=tuple(order if order is not None else a.question_order()))
    try:
        suite = load_suite(assignment, setup.tests_dir, setup.reference, setup.order)
    except Exception as exc:  # noqa: BLE001 - a broken test file is our fault, not theirs
        suite, broken = Suite(assignment, []), f"{type(exc).__name__}: {exc}"
    else:
        broken = ""
    try:
        if regrade:
            subs = _regrade_subs(out, regrade)
        elif single:
            subs = [from_folder(p, p.name or "submission") if p.is_dir()
                    else find_submissions([p])[0] for p in paths]
        else:
            subs = find_submissions(paths)
    except IntakeError as exc:
        raise UsageProblem(str(exc)) from exc
    if not (force or regrade or single):  # --single is one student (Gradescope): never refused
        check_assignment(subs, assignment)  # on the whole download: every shard decides alike
    manifest, planned = _plan_shard(out, shard, bool(regrade), subs, setup, suite)
    subs = [s for _, s in planned]
    store = Store(out, suite)
    if store.assignments - {assignment}:
        raise UsageProblem(f"{out} holds records of {', '.join(sorted(store.assignments))}; "
                           f"grade {assignment} into another --out")
    store.place(subs)
    out.mkdir(parents=True, exist_ok=True)
    store.finish()  # grades.csv describes every record already in results/ from the start
    if manifest is not None and not regrade:
        manifest.positions = {s.stem: i for i, s in planned}
    if manifest is not None:  # before grading: a shard that dies still says what it owed
        manifest.write(GradingDir(out))
    progress = Progress("[progress.description]{task.description}", BarColumn(),
                        MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                        disable=quiet or len(subs) < 2, transient=True)
    kept: dict[int, Record | Outcome] = {}
    isolation = [""]

    def done(i: int, record: Record) -> None:
        store.write(subs[i], record)
        isolation[0] = record.isolation
        kept[i] = record if keep_records else Outcome(record.stem, record.status, record.cause)
        progress.advance(task)

    with progress:
        task = progress.add_task(f"grading {assignment}", total=len(subs))
        if broken:
            for i, s in enumerate(subs):
                done(i, Record(s.stem, s.origin, "grader_error").mark_grader_fault(
                    "test_files", f"the test files could not be loaded ({broken})",
                    suite.max_scores))
        else:
            grade_all(subs, setup, jobs or default_jobs(), on_done=done)
    store.finish()
    if manifest is not None:
        manifest.isolation = isolation[0] or manifest.isolation
        manifest.write(GradingDir(out))
    if broken:
        console.print(f"[red]error: the test files could not be loaded: {broken}[/red]")
    if not quiet:
        print_summary(store.dict_rows(), suite, console, isolation[0])
        if manifest is not None:
            console.print(f"shard {manifest.shard}: {len(manifest.positions)} of "
                          f"{manifest.total} submissions (join the shards with bplab merge)")
        folder = GradingDir(out)
        console.print(f"wrote {folder.grades_csv}, {folder.results_dir}/, {folder.feedback_dir}/")
    return [kept[i] for i in sorted(kept)]


@click.command("grade")
@click.option("--assignment", "-a", help="Assignment name, e.g. hw1 (not needed with --regrade).")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (grades.csv, results/, feedback/); an existing one is merged.")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=None,
              help="Submissions graded at once (default: number of cores).")
@click.option("--tests", "tests_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Test files folder (default: autograder/<assignment>).")
@click.option("--cell-timeout", type=float, default=Config.cell_timeout, show_default=True,
              help="Seconds one notebook cell may run.")
@click.option("--call-timeout", type=float, default=Config.call_timeout, show_default=True,
              help="Seconds one call into student code may run.")
@click.option("--submission-timeout", type=float, default=Config.submission_timeout,
              show_default=True, help="Seconds for a whole submission.")
@click.option("--single", is_flag=True,
              help="Each PATH is one submission (a folder is searched for its notebook).")
@click.option("--no-bwrap", is_flag=True, help="Do not use bubblewrap (reduced isolation).")
@click.option("--force", is_flag=True,
              help="Grade even if the notebooks' metadata name another assignment.")
@click.option("--regrade", multiple=True, metavar="STEM",
              help="Grade this record of OUT again from its source (repeatable; no PATH).")
@click.option("--report", "with_report", is_flag=True,
              help="Also write OUT/report.html (as `bplab report OUT`).")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Roster (Canvas gradebook, Moodle worksheet or CSV): also writes "
                   "OUT/grades_with_roster.csv (implies --report).")
@click.option("--roster-id", metavar="COLUMN", help="A plain roster's id column.")
@click.option("--lang", "language", type=click.Choice(LANGUAGES), default=None,
              help="Language of the feedback for every submission (default: the language "
                   "each notebook's release names, else English).")
@click.option("--shard", type=ShardParam(), default=None,
              help="Grade only share I of N (0-based: 0 <= I < N), e.g. "
                   "$JOB_COMPLETION_INDEX/8; join the shard folders with `bplab merge`.")
def grade(assignment: str | None, out: Path, paths: tuple[Path, ...], jobs: int | None,
          tests_dir: Path | None, cell_timeout: float, call_timeout: float,
          submission_timeout: float, single: bool, no_bwrap: bool, force: bool,
          regrade: tuple[str, ...], with_report: bool, roster: Path | None,
          roster_id: str | None, language: str | None, shard: Shard | None) -> None:
    """Grade submissions (notebooks, folders, LMS downloads) in a sandbox into OUT.

    PATH is a notebook, a folder of them, a Canvas/Moodle/Gradescope download (zip or
    folder), or an Otter export zip.
    """
    if regrade and paths:
        raise click.UsageError("--regrade takes stems of OUT's records, not PATHs")
    if not regrade and not paths:
        raise click.UsageError("give at least one PATH (or --regrade STEM)")
    if regrade and not assignment:
        assignment = _assignment_of(out)
    if not assignment:
        raise click.UsageError("missing option --assignment / -a")
    if roster_id and roster is None:
        raise click.UsageError("--roster-id needs --roster FILE")
    if shard is not None and (regrade or single):
        raise click.UsageError("--shard splits a download; it does not go with "
                               "--regrade or --single")
    if shard is not None and roster is not None:  # a share would match a share of the roster
        raise click.UsageError("--roster joins the whole class: give it to bplab merge, "
                               "not to --shard")
    if roster is not None:
        from bplab.roster import read_roster

        try:  # a roster that cannot be read is refused before anything is graded
            read_roster(roster, roster_id)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise UsageProblem(str(exc)) from exc
    config = Config(cell_timeout, call_timeout, submission_timeout, language=language)
    outcomes = run_grade(assignment, list(paths), out, jobs=jobs, tests_dir=tests_dir,
                         config=config, single=single, use_bwrap=False if no_bwrap else None,
                         force=force, regrade=list(regrade), keep_records=False, shard=shard)
    if not outcomes:
        manifest = Manifest.read(GradingDir(out)) if shard is not None else None
        if manifest is not None and manifest.total:  # an empty share of a class: still a shard
            click.echo(f"shard {shard}: none of the {manifest.total} submissions is in it",
                       err=True)
            sys.exit(0)
        click.echo("no submissions found", err=True)
        sys.exit(1)
    code = 0
    if with_report or roster is not None:
        # matplotlib loads only when a report is wanted
        from bplab.report import write_checked_report

        report = write_checked_report(out, roster, roster_id)
        click.echo(f"report: {report.path}")
        if report.warning:
            click.echo(report.warning, err=True)
        code = report.exit_code
    if all(o.cause == "test_files" for o in outcomes):
        code = 1  # records were written, but nothing could be graded
    sys.exit(code)


def _assignment_of(out: Path) -> str:
    folder = GradingDir(out)
    for path in map(folder.results, folder.results_stems()):
        try:
            return json.loads(path.read_text(encoding="utf-8"))["extra_data"]["bplab"][
                "assignment"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
    raise UsageProblem(f"{out} has no record to regrade; pass -a and PATHs")
