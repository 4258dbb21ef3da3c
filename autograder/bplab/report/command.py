"""``bplab report DIR [--roster FILE --roster-id COLUMN] [--lang bg|uk|ru|en]``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from bplab_checks.i18n import LANGUAGES

from bplab.layout import GradingDir
from bplab.report import write_checked_report


@click.command()
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Canvas gradebook, Moodle grading worksheet or CSV roster: writes "
                   "DIR/grades_with_roster.csv, one row per student.")
@click.option("--roster-id", metavar="COLUMN",
              help="A plain roster's id column (e.g. email); not needed for Canvas/Moodle.")
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True,
              help="Language of the report's labels; the data and CSV files are the same in "
                   "every language.")
def report(out_dir: Path, roster: Path | None, roster_id: str | None, lang: str) -> None:
    """Write OUT_DIR/report.html from `bplab grade --out OUT_DIR` and print its path.

    A submission matches a roster id when its file stem equals the id or contains it as a whole
    token (see docs/report.md); students with no submission get status "missing".
    """
    if roster_id and roster is None:
        raise click.UsageError("--roster-id needs --roster FILE")
    try:
        report = write_checked_report(out_dir, roster, roster_id, lang)
    except (FileNotFoundError, ValueError) as e:
        raise click.ClickException(str(e)) from e
    if roster is not None:
        click.echo(f"roster join: {GradingDir(out_dir).roster_csv}", err=True)
    click.echo(str(report.path))
    if report.warning:
        click.echo(report.warning, err=True)
        sys.exit(report.exit_code)
