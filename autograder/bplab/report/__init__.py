"""The instructor's class report: ``bplab report DIR`` writes ``DIR/report.html``.

``write_report`` is the one entry point, for the CLI and for ``bplab grade --report``.
"""

from __future__ import annotations

from pathlib import Path

REPORT_NAME = "report.html"
ROSTER_JOIN_NAME = "grades_with_roster.csv"


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

    out_dir = Path(out_dir)
    results = load_grading_dir(out_dir)
    issues = None
    if roster is not None:
        if not roster_id:
            raise ValueError("a roster needs the name of its id column (roster_id)")
        rows = join_roster(out_dir / "grades.csv", roster, roster_id)
        write_rows(rows, out_dir / ROSTER_JOIN_NAME)
        issues = roster_issues(rows, roster_id)
    title = f"Class report: {out_dir.resolve().name}"
    path = out_dir / REPORT_NAME
    from bplab.similarity.render import report_section  # empty until `bplab similarity` ran

    path.write_text(render_html(results, title, issues, report_section(out_dir)),
                    encoding="utf-8")
    return path


__all__ = ["REPORT_NAME", "ROSTER_JOIN_NAME", "write_report"]
