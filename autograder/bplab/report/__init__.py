"""The instructor's class report: ``bplab report DIR`` writes ``DIR/report.html``.

``write_report`` is the one entry point, for the CLI and for ``bplab grade --report``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bplab.layout import GradingDir


@dataclass(frozen=True)
class Report:
    """What ``write_checked_report`` did: the page, and a warning if the roster join went badly."""

    path: Path
    warning: str = ""

    @property
    def exit_code(self) -> int:
        return 1 if self.warning else 0


def write_report(out_dir: Path, roster: Path | None = None, roster_id: str | None = None,
                 lang: str = "en") -> Path:
    """Write ``out_dir/report.html`` from ``bplab grade``'s output and return its path.

    ``lang`` (one of ``bplab_checks.i18n.LANGUAGES``) is the language of the page's labels; the
    data in it (codes, statuses, names, numbers) and the CSV files do not depend on it.

    With ``roster`` (a Canvas gradebook, a Moodle worksheet, or a CSV whose id column is
    ``roster_id``), also writes ``out_dir/grades_with_roster.csv`` (see ``bplab.roster``) and
    lists missing students, unsettled matches and a poor match in the report.
    """
    # Imported here: matplotlib is slow to import and `bplab --help` should not wait for it.
    from bplab_checks.i18n import check_language, t, use

    from bplab.report.load import load_grading_dir
    from bplab.report.render import render_html
    from bplab.roster import join_roster, read_roster, roster_issues, write_rows

    check_language(lang)  # before anything is written
    folder = GradingDir(Path(out_dir))
    results = load_grading_dir(folder)
    issues = None
    if roster is not None:
        id_column = read_roster(roster, roster_id).id_column
        rows = join_roster(folder.grades_csv, roster, roster_id)
        write_rows(rows, folder.roster_csv)
        issues = roster_issues(rows, id_column)
    path = folder.report_html
    from bplab.similarity.render import report_section  # empty until `bplab similarity` ran

    with use(lang):
        title = t("Class report: {name}", name=folder.root.resolve().name)
        page = render_html(results, title, issues, report_section(folder.root))
    path.write_text(page, encoding="utf-8")
    return path


def write_checked_report(out_dir: Path, roster: Path | None = None,
                         roster_id: str | None = None, lang: str = "en") -> Report:
    """``write_report``, plus a warning when fewer than half of the roster, or of the
    submissions, matched (``bplab.roster.poor_match``; the report shows it too)."""
    from bplab.roster import poor_match, read_join, read_roster

    path = write_report(out_dir, roster, roster_id, lang)
    warning = ""
    if roster is not None:
        rows = read_join(GradingDir(Path(out_dir)).roster_csv)
        warning = poor_match(rows, read_roster(roster, roster_id).id_column)
    return Report(path, f"warning: {warning}" if warning else "")


__all__ = ["Report", "write_checked_report", "write_report"]
