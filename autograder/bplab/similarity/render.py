"""The similarity pages: ``OUT/similarity.html``, one pair view per listed pair, a report section.

Same rules as the class report (``bplab.report.render``): one self-contained page each, its
style and no script, everything from a submission escaped with :func:`html.escape`, file names
and anchors numbered (never student text), and a Content-Security-Policy that allows only the
page's own style, so a slip in escaping still cannot run a student's HTML. Every page says that
similarity is evidence for a human to weigh, never a verdict.

A pair view shows, for each question, the two students' cells side by side: template lines
greyed, passages covered by shared fingerprints marked (``<mark>``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from pathlib import Path

from bplab.report.render import _STYLE as REPORT_STYLE
from bplab.report.render import _csp_hash
from bplab.similarity.compare import RARE_BONUS, WHOLE, Code, Comparison, Pair
from bplab.similarity.store import FOLDER

PAGE_NAME = "similarity.html"
SUMMARY_NAME = "summary.json"
TOP_WHOLE, TOP_QUESTION, TOP_REPORT = 50, 10, 10
DISCLAIMER = ("Similarity is evidence for a human to weigh, never a verdict: correct answers to "
              "small blocks converge, students may work together where that is allowed, and "
              "a high score only says where to look.")
_STYLE = REPORT_STYLE + """
.disclaimer { background: #fff8e1; border-left: 4px solid #f9a825; padding: .5rem .8rem; }
.sides { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
pre { background: #fafafa; border: 1px solid #e4e4e4; padding: .5rem; overflow-x: auto;
      font-size: 13px; white-space: pre; }
pre .tpl { color: #9e9e9e; } mark { background: #ffcc80; } mark.common { background: #eceff1; }
.sides > div { min-width: 0; }
"""


def _page(title: str, body: str) -> str:
    csp = (f"default-src 'none'; style-src {_csp_hash(_STYLE)}; base-uri 'none'; "
           "form-action 'none'")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
            f"<h1>{escape(title)}</h1><p class=\"disclaimer\">{escape(DISCLAIMER)}</p>"
            f"{body}</body></html>\n")


def _char_spans(code: Code, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Character ranges of the tokens in ``spans``, joined only within a line (the template
    lines between two kept tokens are never marked)."""
    toks, text = code.tokens, code.snippet.text
    out: list[tuple[int, int]] = []
    for first, stop in spans:
        for tok in toks[first:min(stop, len(toks))]:
            if tok.kind == ";":  # a line end: marking it would mark the next line's indent
                continue
            if out and out[-1][1] <= tok.start and "\n" not in text[out[-1][1]:tok.start]:
                out[-1] = (out[-1][0], tok.end)
            else:
                out.append((tok.start, tok.end))
    return out


def code_html(code: Code, spans: list[tuple[int, int]],
              common: Sequence[tuple[int, int]] = ()) -> str:
    """The snippet as ``<pre>`` lines: template lines greyed, token ``spans`` marked, and
    ``common`` spans (shared, but with much of the class) marked lightly."""
    text, written = code.snippet.text, code.snippet.written
    marks = sorted([(a, b, "") for a, b in _char_spans(code, spans)]
                   + [(a, b, ' class="common"') for a, b in _char_spans(code, list(common))])
    lines, pos = [], 0
    for number, line in enumerate(text.split("\n")):
        start, end = pos, pos + len(line)
        pieces, cursor = [], start
        for a, b, cls in marks:
            a, b = max(a, start), min(b, end)
            if a >= b or b <= cursor:
                continue
            a = max(a, cursor)
            pieces.append(escape(text[cursor:a]) + f"<mark{cls}>{escape(text[a:b])}</mark>")
            cursor = b
        pieces.append(escape(text[cursor:end]))
        cls = "" if number in written else ' class="tpl"'
        lines.append(f"<span{cls}>{''.join(pieces)}</span>")
        pos = end + 1
    note = f'<p class="muted">{escape(code.snippet.note)}</p>' if code.snippet.note else ""
    return f"{note}<pre>{chr(10).join(lines)}</pre>"


def _dx(pair: Pair) -> str:
    return escape("; ".join(pair.shared_diagnosis)) or '<span class="muted">–</span>'


def pair_page(comparison: Comparison, whole: Pair, rows: dict[str, Pair]) -> str:
    """The pair view of two students: every question either wrote, side by side."""
    a, b = comparison.students[whole.a], comparison.students[whole.b]
    parts = [f"<p>Whole notebook: similarity {whole.similarity:.2f}, {whole.matched_tokens} "
             f"matched tokens; rare diagnoses both were given: {_dx(whole)}.</p>"
             '<p class="muted">Grey lines: the released template. <mark>Marked</mark>: '
             'passages both wrote. <mark class="common">Lightly marked</mark>: passages both '
             "wrote that much of the class wrote too (they count nowhere).</p>"]
    for n, q in enumerate(comparison.questions):
        ca, cb = a.codes.get(q), b.codes.get(q)
        if ca is None and cb is None:
            continue
        (sa, sb), (ca_common, cb_common) = comparison.spans(whole, q)
        row = rows.get(q)
        head = (f"similarity {row.similarity:.2f}, {row.matched_tokens} matched tokens"
                if row else "no shared passage listed")
        sides = "".join(
            f"<div><h3>{escape(s.label)}</h3>"
            + (code_html(c, sp, cs) if c else '<p class="muted">no cell for this question</p>')
            + "</div>" for s, c, sp, cs in ((a, ca, sa, ca_common), (b, cb, sb, cb_common)))
        parts.append(f'<h2 id="q{n}">{escape(q)}</h2><p class="muted">{head}</p>'
                     f'<div class="sides">{sides}</div>')
    return _page(f"{a.label} and {b.label}", "".join(parts))


def _table(comparison: Comparison, pairs: list[Pair], pages: dict[tuple[int, int], str],
           prefix: str = "") -> str:
    body = []
    for p in pairs:
        page = pages.get((p.a, p.b))
        view = f'<a href="{prefix}{page}">view</a>' if page else ""
        body.append(
            f"<tr><td>{escape(comparison.students[p.a].label)}</td>"
            f"<td>{escape(comparison.students[p.b].label)}</td>"
            f'<td class="num">{p.similarity:.2f}</td><td class="num">{p.matched_tokens}</td>'
            f"<td>{_dx(p)}</td><td>{view}</td></tr>")
    return ('<table><thead><tr><th>a</th><th>b</th><th class="num">similarity</th>'
            '<th class="num">matched tokens</th><th>same rare diagnosis</th><th></th></tr>'
            f"</thead><tbody>{''.join(body)}</tbody></table>")


def write_pages(out: Path, comparison: Comparison, title: str) -> Path:
    """Write ``OUT/similarity.html``, the pair views and the report's summary; the page's path."""
    out = Path(out)
    folder = out / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("pair-*.html"):
        old.unlink()
    by_question: dict[str, list[Pair]] = {}
    for p in comparison.pairs:
        by_question.setdefault(p.question, []).append(p)
    whole = by_question.get(WHOLE, [])
    shown = whole[:TOP_WHOLE]
    listed = {(p.a, p.b) for q, ps in by_question.items() for p in ps[:TOP_QUESTION]}
    listed |= {(p.a, p.b) for p in shown}
    rows: dict[tuple[int, int], dict[str, Pair]] = {}
    for p in comparison.pairs:
        if (p.a, p.b) in listed:
            rows.setdefault((p.a, p.b), {})[p.question] = p
    pages: dict[tuple[int, int], str] = {}
    rank: dict[tuple[int, int], int] = {}
    for p in comparison.pairs:  # pages are numbered in ranking order, whole-notebook rows first
        rank.setdefault((p.a, p.b), len(rank))
    for k, key in enumerate(sorted(listed, key=rank.__getitem__)):
        pair_rows = rows[key]
        top = pair_rows.get(WHOLE) or Pair(*key, WHOLE, 0.0, 0, [])
        pages[key] = f"pair-{k + 1}.html"
        (folder / pages[key]).write_text(pair_page(comparison, top, pair_rows), encoding="utf-8")
    n_current = sum(not s.cohort for s in comparison.students)
    n_earlier = len(comparison.students) - n_current
    against = f" and {n_earlier} of earlier cohorts" if n_earlier else ""
    body = [f"<p>{n_current} submissions of this class{against}. Only what students wrote is "
            "compared: the released template, and passages more than half of the class share, "
            "count nowhere. A pair that shares a rare diagnosis (both lost points with the "
            f"same uncommon mistake) ranks as if {RARE_BONUS:.0%} more similar. All ranked "
            "pairs are in similarity.csv.</p>",
            '<h2 id="whole">Whole notebook</h2>',
            _table(comparison, shown, pages, f"{FOLDER}/") if shown
            else '<p class="muted">No pair shares a passage.</p>']
    for q in comparison.questions:
        ps = by_question.get(q, [])[:TOP_QUESTION]
        if ps:
            body += [f"<h2>{escape(q)}</h2>", _table(comparison, ps, pages, f"{FOLDER}/")]
    path = out / PAGE_NAME
    path.write_text(_page(title, "".join(body)), encoding="utf-8")
    summary = [{"a": comparison.students[p.a].label, "b": comparison.students[p.b].label,
                "similarity": p.similarity, "matched_tokens": p.matched_tokens,
                "shared_diagnosis": p.shared_diagnosis, "page": pages.get((p.a, p.b))}
               for p in whole[:TOP_REPORT]]
    (folder / SUMMARY_NAME).write_text(json.dumps({"students": n_current, "pairs": summary}),
                                       encoding="utf-8")
    return path


def report_section(out: Path) -> str:
    """The class report's section: the most similar pairs and links (empty if never run)."""
    path = Path(out) / FOLDER / SUMMARY_NAME
    head = '<h2 id="similarity">Similarity</h2>'
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        pairs = [p for p in data["pairs"] if isinstance(p, dict)]
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    rows = []
    for p in pairs:
        page = str(p.get("page") or "")
        safe_page = page if page.startswith("pair-") and page[5:-5].isdigit() else ""
        view = f'<a href="{FOLDER}/{safe_page}">view</a>' if safe_page else ""
        dx = "; ".join(str(c) for c in p.get("shared_diagnosis") or [])
        try:
            float(p.get("similarity", 0)), int(p.get("matched_tokens", 0))
        except (TypeError, ValueError):
            continue  # a hand-edited summary: skip the row rather than break the report
        rows.append(f"<tr><td>{escape(str(p.get('a')))}</td><td>{escape(str(p.get('b')))}</td>"
                    f'<td class="num">{float(p.get("similarity", 0)):.2f}</td>'
                    f'<td class="num">{int(p.get("matched_tokens", 0))}</td>'
                    f"<td>{escape(dx)}</td><td>{view}</td></tr>")
    table = ('<table id="similarity-table"><thead><tr><th>a</th><th>b</th>'
             '<th class="num">similarity</th><th class="num">matched tokens</th>'
             f"<th>same rare diagnosis</th><th></th></tr></thead><tbody>{''.join(rows)}"
             "</tbody></table>") if rows else '<p class="muted">No pair shares a passage.</p>'
    return (f'{head}<p class="muted">{escape(DISCLAIMER)}</p>'
            f'<p>The most similar pairs over the whole notebook; all of them in '
            f'<a href="{PAGE_NAME}">{PAGE_NAME}</a> and similarity.csv.</p>{table}')
