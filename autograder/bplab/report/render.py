"""The report as one self-contained HTML page: inline CSS, inline JS, PNG charts as data URIs.

Every string that came from a submission (stems, statuses, reasons) is escaped with
:func:`html.escape`, row anchors are numbered rather than named after students, and a
Content-Security-Policy allows only this page's own script and style (by hash), images from data
URIs and nothing from the network, so a slip in escaping still cannot run a student's script.

Labels (headings, column headers, buttons, sentences) are English templates translated with
``bplab_checks.i18n.t``/``tn`` into the current language (``write_report`` wraps the rendering
in ``i18n.use(lang)``); the data (stems, statuses, codes, question names, numbers, ``data-*``
attributes) never goes through a translation, so it is the same in every language.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape
from urllib.parse import quote

from bplab_checks.i18n import current, t, tn

from bplab.report import plots
from bplab.report.labels import label_for
from bplab.report.load import ClassResults, Submission
from bplab.report.stats import (
    DiagnosisCount,
    QuestionStats,
    Summary,
    diagnosis_counts,
    needs_attention,
    question_stats,
    summarize,
)
from bplab.roster import RosterIssue

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem;
       padding: 0 1rem; color: #1b1b1b; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .6rem 0; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #e4e4e4; text-align: left;
         vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.bad { color: #b71c1c; font-weight: 600; } .muted { color: #666; }
.ok { color: #2e7d32; }
img { max-width: 100%; height: auto; }
th button { font: inherit; font-weight: 600; border: 0; background: none; cursor: pointer;
            padding: 0; }
th[aria-sort=ascending] button::after { content: " \\25B2"; }
th[aria-sort=descending] button::after { content: " \\25BC"; }
tr:target { background: #fff59d; }
.scroll { overflow-x: auto; }
/* The students table fits a 1400 px laptop screen: question headers run upwards, numbers and
   statuses never wrap, the name and diagnoses columns wrap within their widths. */
#student-table { font-size: 13px; width: 100%; }
#student-table th, #student-table td { padding: .2rem .35rem; }
#student-table td.num, #student-table td.st { white-space: nowrap; }
#student-table th.q { vertical-align: bottom; }
#student-table th.q button { writing-mode: vertical-rl; transform: rotate(180deg);
                             white-space: nowrap; }
#student-table td.who { min-width: 9rem; max-width: 15rem; overflow-wrap: anywhere; }
#student-table td.diag { min-width: 12rem; font-size: 12px; }
.tag { font-size: 11px; border: 1px solid #b71c1c; color: #b71c1c; border-radius: 3px;
       padding: 0 .2rem; }
"""

# Sorts the students table on a header click; numbers by data-v (empty cells last), text else.
_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var heads = table.querySelectorAll("thead th");
  heads.forEach(function (th, col) {
    var button = th.querySelector("button");
    if (!button) return;
    button.addEventListener("click", function () {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var numeric = th.classList.contains("num");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      function key(row) {
        var cell = row.cells[col];
        if (!numeric) return cell.textContent.trim().toLowerCase();
        var v = cell.getAttribute("data-v");
        return v === null || v === "" ? null : parseFloat(v);
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (x === y) return 0;
        if (x === null) return 1;
        if (y === null) return -1;
        return (x < y ? -1 : 1) * (asc ? 1 : -1);
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _num(x: float | None, digits: int = 2) -> str:
    if x is None:
        return "–"
    return f"{round(x, digits):g}"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def _student_link(index: dict[str, int], stem: str) -> str:
    return f'<a href="#s{index[stem]}">{escape(stem)}</a>'


def _attention_section(results: ClassResults, index: dict[str, int]) -> str:
    flagged = [s for s in results.submissions if needs_attention(s)]
    total = len(results.submissions)
    heading = '<h2 id="attention">' + t("Did not grade normally") + '</h2>'
    if not flagged:
        # Translators: English keeps one form ("All 1 submissions"), as the report always did.
        return heading + '<p class="ok">' + tn("All {n} submissions graded normally.",
                                               "All {n} submissions graded normally.",
                                               total) + "</p>"
    no_reason = '<span class="muted">' + t("no reason given") + '</span>'
    rows = "".join(
        f'<tr><td>{_student_link(index, s.stem)}</td><td class="bad">{escape(s.status)}</td>'
        f"<td>{escape(s.reason) or no_reason}</td></tr>"
        for s in sorted(flagged, key=lambda s: (s.graded, s.status, s.stem))
    )
    not_graded = sum(not s.graded for s in flagged)
    more = len(flagged) - not_graded
    return (
        heading + "<p>"
        + tn("{not_graded} of {n} submissions did not grade normally",
             "{not_graded} of {n} submissions did not grade normally", total,
             not_graded=not_graded)
        + (t(" ({more} more graded with a problem)", more=more) if more else "")
        + t(". They are not in the statistics below.") + "</p>"
        "<table><thead><tr><th>" + t('submission') + "</th><th>" + t('status') + "</th>"
        "<th>" + t('reason') + f"</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _roster_section(issues: list[RosterIssue] | None) -> str:
    if issues is None:
        return ""
    heading = '<h2 id="roster">' + t("Roster") + '</h2>'
    if not issues:
        return heading + '<p class="ok">' + t(
            "Every roster student has exactly one submission and every submission matched a "
            "student.") + "</p>"
    rows = "".join(
        f"<tr><td class=\"bad\">{escape(i.kind)}</td><td>{escape(i.who)}</td>"
        f"<td>{escape(i.detail)}</td></tr>"
        for i in issues
    )
    counts = {k: sum(i.kind == k for i in issues)
              for k in ("poor match", "missing", "ambiguous", "unmatched")}
    summary = ", ".join(f"{n} {k}" for k, n in counts.items() if n)  # kinds are data
    return (heading + "<p>" + t("{summary} (see {csv}).", summary=summary,
                                csv="grades_with_roster.csv") + "</p>"
            "<table><thead><tr><th>" + t('issue') + "</th><th>" + t('who') + "</th>"
            "<th>" + t('detail') + f"</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def _scores_section(summary: Summary, scores: list[float]) -> str:
    heading = '<h2 id="scores">' + t("Scores") + '</h2>'
    if not summary.n:
        return heading + '<p class="muted">' + t("No submission graded normally.") + '</p>'
    img = plots.score_histogram(scores, summary.max_score)
    cells = [
        (t("graded normally"), str(summary.n)),
        (t("max score"), _num(summary.max_score)),
        (t("mean"), _num(summary.mean)),
        (t("median"), _num(summary.median)),
        (t("standard deviation"), _num(summary.std)),
        (t("min"), _num(summary.minimum)),
        (t("max"), _num(summary.maximum)),
        (t("full marks"), f"{summary.full_marks} ({_pct(summary.full_marks / summary.n)})"),
    ]
    table = "".join(f'<tr><th>{k}</th><td class="num">{v}</td></tr>' for k, v in cells)
    return (heading
            + '<img alt="' + escape(t("histogram of total scores")) + f'" '
            f'src="data:image/png;base64,{img}">'
            f'<table id="summary">{table}</table>')


def _questions_section(stats: list[QuestionStats]) -> str:
    if not any(s.n for s in stats):
        return ""
    img = plots.question_chart(stats)
    rows = "".join(
        f"<tr><td>{escape(s.question)}</td><td class=\"num\">{_num(s.max_score)}</td>"
        f"<td class=\"num\">{_num(s.mean)}</td><td class=\"num\">{_pct(s.full_share)}</td>"
        f"<td class=\"num\">{_pct(s.failed_share)}</td></tr>"
        for s in stats
    )
    return (
        '<h2 id="questions">' + t("Questions") + '</h2>'
        '<img alt="' + escape(t("per question: share with full marks, partial and zero")) + f'" '
        f'src="data:image/png;base64,{img}">'
        f'<table id="question-table"><thead><tr><th>' + t("question") + '</th>'
        '<th class="num">' + t("points") + '</th><th class="num">' + t("mean") + '</th>'
        '<th class="num">' + t("full marks") + '</th><th class="num">' + t("zero") + f'</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


_INLINE_LINKS = 8  # more students than this under one diagnosis fold into a <details>


def _folded(links: str, n: int) -> str:
    # Translators: English keeps one form, as the report always did.
    return ("<details><summary>" + tn("{n} students", "{n} students", n) + "</summary>"
            + links + "</details>")


def _diagnoses_section(counts: list[DiagnosisCount], n_graded: int,
                       index: dict[str, int]) -> str:
    head = '<h2 id="diagnoses">' + t("What the class got wrong") + '</h2>'
    if not counts:
        return head + '<p class="muted">' + t("No diagnoses were given.") + '</p>'
    # Translators: English keeps one form, as the report always did.
    intro = tn("Share of the {n} normally graded submissions given each diagnosis (a submission "
               "counts once per diagnosis).",
               "Share of the {n} normally graded submissions given each diagnosis (a submission "
               "counts once per diagnosis).", n_graded)
    items = []
    for d in counts:
        links = ", ".join(_student_link(index, stem) for stem in sorted(d.stems))
        items.append(
            f'<tr class="diagnosis" data-code="{escape(d.code)}">'
            f'<td class="num">{_pct(d.share)}</td>'
            f'<td class="num">{len(d.stems)}</td>'
            f"<td>{escape(label_for(d.code))} <code class=\"muted\">{escape(d.code)}</code></td>"
            f"<td>{escape(', '.join(d.questions))}</td>"
            f"<td>{links if len(d.stems) <= _INLINE_LINKS else _folded(links, len(d.stems))}"
            "</td></tr>"
        )
    return (
        head + "<p>" + intro + "</p>"
        '<table id="diagnosis-table"><thead><tr><th class="num">' + t("share") + '</th>'
        '<th class="num">' + t("count") + '</th><th>' + t("diagnosis") + '</th>'
        '<th>' + t("questions") + '</th><th>' + t("students") + f'</th></tr>'
        f"</thead><tbody>{''.join(items)}</tbody></table>"
    )


def _students_section(results: ClassResults, index: dict[str, int]) -> str:
    qs = results.questions
    head = "".join(
        f'<th class="num q"><button type="button">{escape(q)}</button></th>' for q in qs
    )

    def score_cell(x: float | None) -> str:
        return f'<td class="num" data-v="{"" if x is None else repr(float(x))}">{_num(x)}</td>'

    def row(position: int, s: Submission) -> str:
        name = escape(s.stem)
        if s.feedback:
            name += (f' <a class="muted" href="{escape(quote(s.feedback))}">'
                     f'' + t("feedback") + '</a>')
        if s.name and s.name != s.stem:
            name += f'<br><span class="muted">{escape(s.name)}</span>'
        if s.late:
            name += ' <span class="tag">' + t("late") + '</span>'
        if s.flags:
            name += f' <span class="tag" title="{escape(s.flags)}">' + t("flagged") + '</span>'
        codes = sorted({c for cs in s.diagnoses.values() for c in cs})
        diag = ", ".join(escape(label_for(c)) for c in codes)
        status_class = "" if s.graded else " bad"
        return (
            f'<tr id="s{position}"><td class="who">{name}</td>'
            f'<td class="st{status_class}">{escape(s.status)}</td>'
            + score_cell(s.score) + score_cell(s.max_score)
            + "".join(score_cell(s.question_scores.get(q)) for q in qs)
            + f'<td class="diag">{diag}</td></tr>'
        )

    order = sorted(enumerate(results.submissions), key=lambda p: p[1].stem)
    body = "".join(row(position, s) for position, s in order)
    return (
        '<h2 id="students">' + t("Students") + '</h2>'
        '<p class="muted">' + t("Click a column header to sort.") + '</p>'
        '<div class="scroll"><table id="student-table" class="sortable"><thead><tr>'
        '<th><button type="button">' + t("submission") + '</button></th>'
        '<th><button type="button">' + t("status") + '</button></th>'
        '<th class="num"><button type="button">' + t("score") + '</button></th>'
        '<th class="num"><button type="button">' + t("max") + f'</button></th>'
        f'{head}<th><button type="button">' + t("diagnoses") + f'</button></th></tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def render_html(results: ClassResults, title: str,
                roster_issues: list[RosterIssue] | None = None, similarity: str = "") -> str:
    """The whole report page. ``roster_issues`` adds a Roster section when a roster was joined;
    ``similarity`` is the section ``bplab.similarity.render.report_section`` made (already HTML)."""
    # Row anchors are positions (never student text); a stem links to its first row.
    index: dict[str, int] = {}
    for i, s in enumerate(results.submissions):
        index.setdefault(s.stem, i)
    summary = summarize(results)
    scores = [s.score for s in results.graded if s.score is not None]
    csp = (f"default-src 'none'; img-src data:; style-src {_csp_hash(_STYLE)}; "
           f"script-src {_csp_hash(_SCRIPT)}; base-uri 'none'; form-action 'none'")
    return (
        f'<!DOCTYPE html>\n<html lang="{current()}"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        # Translators: English keeps one form, as the report always did.
        "<p>" + tn("{n} submissions, {graded} graded normally.",
                   "{n} submissions, {graded} graded normally.",
                   len(results.submissions), graded=summary.n) + " "
        '<a href="#attention">' + t("not graded") + '</a> · '
        '<a href="#scores">' + t("scores") + '</a> · '
        '<a href="#questions">' + t("questions") + '</a> · '
        '<a href="#diagnoses">' + t("diagnoses") + '</a> · '
        '<a href="#students">' + t("students") + '</a>'
        + (' · <a href="#similarity">' + t("similarity") + '</a>' if similarity else "") + "</p>"
        + _attention_section(results, index)
        + _roster_section(roster_issues)
        + _scores_section(summary, scores)
        + _questions_section(question_stats(results))
        + _diagnoses_section(diagnosis_counts(results), len(results.graded), index)
        + _students_section(results, index)
        + similarity
        + f"<script>{_SCRIPT}</script></body></html>\n"
    )
