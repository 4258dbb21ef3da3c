"""``bplab grade``: grade notebooks, folders and zips of submissions into an output folder."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from bplab.grade.batch import Setup, default_jobs, grade_all
from bplab.grade.intake import find_submissions, from_folder
from bplab.grade.outputs import print_summary, write_outputs
from bplab.grade.record import Config, Record
from bplab.grade.suite import Suite, load_suite
from bplab.layout import Assignment, GradingDir


def run_grade(assignment: str, paths: list[Path], out: Path, *, jobs: int | None = None,
              tests_dir: Path | None = None, reference: Path | None = None,
              config: Config | None = None, single: bool = False,
              data_dir: Path | None = None,
              use_bwrap: bool | None = None, console: Console | None = None,
              quiet: bool = False) -> list:
    """Grade ``paths`` into ``out``; returns the records (one per submission found)."""
    console = console or Console(stderr=True)
    a = Assignment.named(assignment)
    setup = Setup(
        assignment=assignment,
        tests_dir=tests_dir or a.tests_dir,
        reference=reference if reference is not None else a.solution,
        data_dir=data_dir if data_dir is not None else a.data_dir,
        config=config or Config(),
        use_bwrap=use_bwrap,
    )
    try:
        suite = load_suite(assignment, setup.tests_dir, setup.reference)
    except Exception as exc:  # noqa: BLE001 - a broken test file is our fault, not theirs
        suite, broken = Suite(assignment, []), f"{type(exc).__name__}: {exc}"
    else:
        broken = ""
    if single:
        subs = [from_folder(p, p.name or "submission", assignment) if p.is_dir()
                else find_submissions([p], assignment)[0] for p in paths]
    else:
        subs = find_submissions(paths, assignment)
    out.mkdir(parents=True, exist_ok=True)
    progress = Progress("[progress.description]{task.description}", BarColumn(),
                        MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                        disable=quiet or len(subs) < 2, transient=True)
    if broken:
        records = [Record(s.stem, s.origin, "grader_error").mark_grader_fault(
            "test_files", f"the test files could not be loaded ({broken})", suite.max_scores)
            for s in subs]
    else:
        with progress:
            task = progress.add_task(f"grading {assignment}", total=len(subs))
            records = grade_all(subs, setup, jobs or default_jobs(),
                                on_done=lambda r: progress.advance(task))
    folder = GradingDir(out)
    write_outputs(records, suite, folder)
    if broken:
        console.print(f"[red]error: the test files could not be loaded: {broken}[/red]")
    if not quiet:
        isolation = records[0].isolation if records else ""
        print_summary(records, suite, console, isolation)
        console.print(f"wrote {folder.grades_csv}, {folder.results_dir}/, {folder.feedback_dir}/")
    return records


@click.command("grade")
@click.option("--assignment", "-a", required=True, help="Assignment name, e.g. hw1.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (grades.csv, results/, feedback/).")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
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
@click.option("--report", "with_report", is_flag=True,
              help="Also write OUT/report.html (as `bplab report OUT`).")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Class roster CSV: also writes OUT/grades_with_roster.csv (implies --report).")
@click.option("--roster-id", metavar="COLUMN", help="The roster's id column; needed with --roster.")
def grade(assignment: str, out: Path, paths: tuple[Path, ...], jobs: int | None,
          tests_dir: Path | None, cell_timeout: float, call_timeout: float,
          submission_timeout: float, single: bool, no_bwrap: bool, with_report: bool,
          roster: Path | None, roster_id: str | None) -> None:
    """Grade submissions (notebooks, folders, zips) in a sandbox into OUT.

    PATH is a notebook, a folder of them, an Otter export zip or a bulk-download zip.
    """
    if (roster is None) != (roster_id is None):
        raise click.UsageError("--roster and --roster-id go together")
    config = Config(cell_timeout, call_timeout, submission_timeout)
    records = run_grade(assignment, list(paths), out, jobs=jobs, tests_dir=tests_dir,
                        config=config, single=single, use_bwrap=False if no_bwrap else None)
    if not records:
        click.echo("no submissions found", err=True)
        sys.exit(1)
    if with_report or roster is not None:
        from bplab.report import write_report  # matplotlib loads only when a report is wanted

        click.echo(f"report: {write_report(out, roster, roster_id)}")
    if all(r.cause == "test_files" for r in records):
        sys.exit(1)  # records were written, but nothing could be graded
