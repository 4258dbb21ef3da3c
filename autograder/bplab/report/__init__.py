"""The instructor's class report: ``bplab report DIR`` writes ``DIR/report.html``.

``write_report`` is the one entry point, for the CLI and for ``bplab grade --report``.
"""

from __future__ import annotations

from pathlib import Path

from bplab.layout import GradingDir


def write_report(out_dir: Path, roster: Path | None = None, roster_id: str | None = None) -> Path:
    """Write ``out_dir/report.html`` from ``bplab grade``'s output and return its path.

    With ``roster`` (a CSV) and ``roster_id`` (its id column), also writes
    ``out_dir/grades_with_roster.csv`` (see ``bplab.roster``) and lists missing students and
    unsettled matches in the report.
    """
    # Imported here: matplotlib is slow to import and `bplab --help` should not wait for it.
    from bplab.report.load import load_grading_dir
    from bplab.report.render import render_html
    from bplab.roster import join_roster, roster_issues, write_rows

    folder = GradingDir(Path(out_dir))
    results = load_grading_dir(folder)
    issues = None
    if roster is not None:
        if not roster_id:
            raise ValueError("a roster needs the name of its id column (roster_id)")
        rows = join_roster(folder.grades_csv, roster, roster_id)
        write_rows(rows, folder.roster_csv)
        issues = roster_issues(rows, roster_id)
    title = f"Class report: {folder.root.resolve().name}"
    path = folder.report_html
    from bplab.similarity.render import report_section  # empty until `bplab similarity` ran

    path.write_text(render_html(results, title, issues, report_section(folder.root)),
                    encoding="utf-8")
    return path


__all__ = ["write_report"]
