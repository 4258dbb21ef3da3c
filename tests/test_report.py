"""`bplab report`: the class report built from a realistic grading directory.

The fixture writes what `bplab grade --out DIR` writes (docs/architecture.md, "Grading
outputs"): five graded submissions (one with a hostile name), one invalid, one timed out.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import re
from contextlib import contextmanager
from html import escape
from pathlib import Path
from typing import Any

import pytest
from bplab.cli import main
from bplab.layout import GradingDir
from bplab.report import write_report
from bplab.report.labels import label_for
from bplab_checks.tag import tag
from click.testing import CliRunner

QUESTIONS = {"MatMul": 4.0, "Sum": 2.0, "ReLU": 2.0}
HOSTILE = '<img src=x onerror="alert(1)">&amp;'
HOSTILE_REASON = "</script><script>alert('reason')</script>"

# stem -> (status, {question: score} or None, {question: [codes]}, reason)
CLASS = {
    "alice": ("graded", {"MatMul": 4, "Sum": 2, "ReLU": 2}, {}, ""),
    "bob": ("graded", {"MatMul": 0, "Sum": 2, "ReLU": 1},
            {"MatMul": ["transposed"], "ReLU": ["relu_at_zero"]}, ""),
    "carol": ("graded", {"MatMul": 4, "Sum": 1, "ReLU": 1},
              {"Sum": ["wrong_sign"], "ReLU": ["relu_at_zero"]}, ""),
    "dave": ("graded", {"MatMul": 0, "Sum": 0, "ReLU": 0},
             {"MatMul": ["wrong_sign"], "Sum": ["wrong_sign"]}, ""),
    HOSTILE: ("graded", {"MatMul": 4, "Sum": 0, "ReLU": 1},
              {"ReLU": ["relu_at_zero"], "Sum": ["made_up_code"]}, ""),
    "eve": ("invalid_notebook", None, {}, "not a notebook: " + HOSTILE_REASON),
    "frank": ("timed_out", None, {}, "timed out after 60 s"),
}
GRADED_TOTALS = [8, 3, 6, 0, 5]  # alice, bob, carol, dave, HOSTILE


def _results_json(status, scores, diagnoses, reason, *, with_diagnoses_key=True) -> dict:
    tests: list[dict[str, Any]] = [
        {"name": "Public Tests", "visibility": "visible", "output": "...", "status": "passed"}]
    for q, top in QUESTIONS.items():
        if scores is None:
            continue
        tags = " ".join(f"{q} went wrong {tag(c)}." for c in diagnoses.get(q, []))
        tests.append({"name": q, "score": scores[q], "max_score": top,
                      "visibility": "hidden", "output": tags or "passed"})
    bplab = {"status": status, "reason": reason, "isolation": "bwrap"}
    if with_diagnoses_key:
        bplab["diagnoses"] = diagnoses
    return {"score": sum(scores.values()) if scores else 0, "tests": tests,
            "extra_data": {"bplab": bplab}}


def write_grading_dir(root: Path, klass: dict = CLASS, tags_only: tuple[str, ...] = ()) -> Path:
    """A grading directory for ``klass``; stems in ``tags_only`` carry their diagnoses only as
    tags in test outputs (no ``extra_data.bplab.diagnoses``)."""
    GradingDir(root).make_dirs()
    with GradingDir(root).grades_csv.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["submission", "status", "score", "max_score", *QUESTIONS])
        for stem, (status, scores, diagnoses, reason) in klass.items():
            total = sum(scores.values()) if scores else ""
            cells = [scores[q] for q in QUESTIONS] if scores else [""] * len(QUESTIONS)
            w.writerow([stem, status, total, sum(QUESTIONS.values()), *cells])
            data = _results_json(status, scores, diagnoses, reason,
                                 with_diagnoses_key=stem not in tags_only)
            GradingDir(root).results(stem).write_text(json.dumps(data))
            GradingDir(root).feedback(stem).write_text(f"# Feedback\n{reason}\n")
    return root


@pytest.fixture
def report(tmp_path) -> str:
    path = write_report(write_grading_dir(tmp_path / "grades"))
    assert path == GradingDir(tmp_path / "grades").report_html
    return path.read_text()


def _section(html: str, anchor: str) -> str:
    """The HTML from the <h2 id=anchor> to the next <h2>."""
    start = html.index(f'<h2 id="{anchor}">')
    end = html.find("<h2 ", start + 1)
    return html[start:end if end != -1 else len(html)]


def _row_anchor(html: str, stem: str) -> str:
    """The id of the students-table row whose first cell is ``stem``."""
    m = re.search(r'<tr id="(s\d+)"><td class="who">' + re.escape(escape(stem)) + r"[ <]", html)
    assert m, f"no table row for {stem!r}"
    return m.group(1)


def test_summary_statistics(report):
    summary = _section(report, "scores")
    values = dict(re.findall(r"<tr><th>([^<]+)</th><td class=\"num\">([^<]+)</td></tr>", summary))
    # GRADED_TOTALS = [8, 3, 6, 0, 5]: mean 4.4, median 5, sample std sqrt(37.2 / 4) = 3.0496
    assert values == {
        "graded normally": "5", "max score": "8", "mean": "4.4", "median": "5",
        "standard deviation": "3.05", "min": "0", "max": "8", "full marks": "1 (20%)",
    }


def test_question_table(report):
    rows = re.findall(r"<tr><td>(\w+)</td>((?:<td class=\"num\">[^<]*</td>){4})</tr>",
                      _section(report, "questions"))
    table = {q: re.findall(r">([^<]*)<", cells)[::2] for q, cells in rows}
    # MatMul: 4, 0, 4, 0, 4 of 4; Sum: 2, 2, 1, 0, 0 of 2; ReLU: 2, 1, 1, 0, 1 of 2
    assert table == {
        "MatMul": ["4", "2.4", "60%", "40%"],
        "Sum": ["2", "1", "40%", "40%"],
        "ReLU": ["2", "1", "20%", "20%"],
    }


def test_not_graded_listed_first_with_reason(report):
    attention = _section(report, "attention")
    assert report.index('id="attention"') < report.index('id="scores"')
    assert "2 of 7 submissions did not grade normally" in attention
    assert re.search(r">eve</a></td><td class=\"bad\">invalid_notebook</td><td>not a notebook",
                     attention)
    assert re.search(r">frank</a></td><td class=\"bad\">timed_out</td><td>timed out after 60 s",
                     attention)
    for stem in ("alice", "bob", "carol", "dave"):
        assert f">{stem}</a>" not in attention


def test_diagnosis_counts_and_links(report):
    diagnoses = _section(report, "diagnoses")
    rows = re.findall(r'<tr class="diagnosis" data-code="([^"]+)">'
                      r'<td class="num">([^<]+)</td><td class="num">(\d+)</td>(.*?)</tr>',
                      diagnoses)
    counts = {code: (share, int(n)) for code, share, n, _ in rows}
    # wrong_sign: carol (Sum), dave (MatMul and Sum, counted once); relu_at_zero: bob, carol,
    # HOSTILE; transposed: bob; made_up_code: HOSTILE. Shares are of the 5 graded.
    assert counts == {"relu_at_zero": ("60%", 3), "wrong_sign": ("40%", 2),
                      "made_up_code": ("20%", 1), "transposed": ("20%", 1)}
    assert [code for code, *_ in rows][:2] == ["relu_at_zero", "wrong_sign"]  # most common first
    relu = next(rest for code, *_, rest in rows if code == "relu_at_zero")
    assert escape(label_for("relu_at_zero")) in relu
    assert label_for("made_up_code") == "made up code"  # unknown codes are still shown
    links = set(re.findall(r'href="#(s\d+)"', relu))
    assert links == {_row_anchor(report, s) for s in ("bob", "carol", HOSTILE)}


def test_diagnoses_from_tags_when_grader_lists_none(tmp_path):
    html = write_report(write_grading_dir(tmp_path, tags_only=("bob", "carol"))).read_text()
    counts = dict(re.findall(r'data-code="(\w+)"><td class="num">[^<]+</td>'
                             r'<td class="num">(\d+)</td>', html))
    assert counts["relu_at_zero"] == "3" and counts["transposed"] == "1"


def test_student_text_is_escaped(report):
    assert HOSTILE not in report
    assert HOSTILE_REASON not in report
    assert "<img src=x" not in report and "<script>alert" not in report
    assert escape(HOSTILE) in report
    assert report.count("<script") == 1  # only the report's own sorting script
    # the feedback link is URL-quoted too: no quote or angle bracket leaks into the href
    hrefs = re.findall(r'href="(feedback/[^"]*)"', report)
    assert len(hrefs) == len(CLASS) and all("<" not in h and "'" not in h for h in hrefs)


def test_students_table_has_every_submission(report):
    students = _section(report, "students")
    body = students[students.index("<tbody>"):]
    assert body.count("<tr ") == len(CLASS)
    header = re.findall(r"<button type=\"button\">([^<]+)</button>", students)
    assert header == ["submission", "status", "score", "max", *QUESTIONS, "diagnoses"]
    row = re.search(r'<tr id="s\d+"><td class="who">carol .*?</tr>', body).group(0)
    assert re.findall(r'data-v="([^"]*)"', row) == ["6.0", "8.0", "4.0", "1.0", "1.0"]
    eve = re.search(r'<tr id="s\d+"><td class="who">eve .*?</tr>', body).group(0)
    assert re.findall(r'data-v="([^"]*)"', eve) == ["", "8.0", "", "", ""]


def test_self_contained_with_valid_png_and_csp(report):
    assert not re.search(r"(src|href)=\"(https?:)?//", report)
    assert "<link" not in report
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', report)
    assert len(images) == 2
    assert all(base64.b64decode(i).startswith(b"\x89PNG\r\n\x1a\n") for i in images)
    # The CSP admits the page's script by hash: a stale hash would silently disable sorting.
    script = re.search(r"<script>(.*?)</script>", report, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in report


def test_problems_are_listed_not_dropped(tmp_path):
    root = write_grading_dir(tmp_path, {k: CLASS[k] for k in ("alice", "bob")})
    GradingDir(root).results("bob").write_text("{not json")
    GradingDir(root).results("ghost").write_text(json.dumps(
        _results_json("grader_error", None, {}, "worker died")))
    attention = _section(write_report(root).read_text(), "attention")
    assert re.search(r">bob</a></td><td class=\"bad\">graded</td><td>results file unreadable",
                     attention)
    assert re.search(r">ghost</a></td><td class=\"bad\">grader_error</td><td>worker died; "
                     r"results file without a row in grades.csv", attention)


def test_nobody_graded(tmp_path):
    root = write_grading_dir(tmp_path, {k: CLASS[k] for k in ("eve", "frank")})
    html = write_report(root).read_text()
    assert "No submission graded normally." in html
    assert "2 of 2 submissions did not grade normally" in html


def test_cli_prints_path_and_checks_roster_flags(tmp_path):
    root = write_grading_dir(tmp_path / "g")
    result = CliRunner().invoke(main, ["report", str(root)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(GradingDir(root).report_html)
    bad = CliRunner().invoke(main, ["report", str(root),
                                    "--roster", str(GradingDir(root).grades_csv)])
    assert bad.exit_code != 0 and "--roster-id" in bad.output
    empty = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert empty.exit_code != 0 and GradingDir(root).grades_csv.name in empty.output


def test_cli_roster_join_lists_missing_students(tmp_path):
    root = write_grading_dir(tmp_path / "g")
    roster = tmp_path / "roster.csv"
    roster.write_text("email,name\nalice,Alice A\nbob,Bob B\nzoe,Zoe Z\n")
    result = CliRunner().invoke(
        main, ["report", str(root), "--roster", str(roster), "--roster-id", "email"])
    # 2 of 7 submissions found a student: written, but a warning and a non-zero exit
    assert result.exit_code == 1, result.output
    assert "only 2 of 3 roster students and 2 of 7 submissions matched" in result.output
    rows = list(csv.DictReader(GradingDir(root).roster_csv.open()))
    assert [(r["email"], r["status"]) for r in rows[:3]] == [
        ("alice", "graded"), ("bob", "graded"), ("zoe", "missing")]
    roster_section = _section(GradingDir(root).report_html.read_text(), "roster")
    assert re.search(r"<td class=\"bad\">missing</td><td>zoe</td>", roster_section)
    assert "1 missing" in roster_section and "unmatched" in roster_section
    assert "only 2 of 3 roster students" in roster_section


# --- in a real browser ------------------------------------------------------------------------
# Chromium through chromedriver's W3C WebDriver HTTP API, with the standard library only.
# `make test` installs both (Debian: apt-get install chromium chromium-driver), so a missing
# browser fails these tests instead of skipping them; BPLAB_SKIP_BROWSER=1 skips them on purpose.

_CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1400,900",  # a laptop screen
]


def _webdriver(tmp_path: Path):
    import os
    import shutil
    import socket
    import subprocess
    import time
    import urllib.request

    if os.environ.get("BPLAB_SKIP_BROWSER") == "1":
        pytest.skip("BPLAB_SKIP_BROWSER=1")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    assert chromium and driver, "chromium and chromedriver are missing: run `make test`"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([driver, f"--port={port}"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"

    def call(method: str, path: str, body: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())["value"]

    for _ in range(100):
        try:
            call("GET", "/status")
            break
        except OSError:
            time.sleep(0.1)
    caps = {"browserName": "chrome", "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {"binary": chromium, "args": [
                *_CHROMIUM_ARGS, f"--user-data-dir={tmp_path / 'profile'}"]}}
    session = call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})["sessionId"]
    return proc, lambda method, path, body=None: call(method, f"/session/{session}{path}", body)


@contextmanager
def browser(tmp_path: Path, page: Path):
    """A WebDriver session showing ``page``: yields ``call(method, path, body=None)``."""
    proc, call = _webdriver(tmp_path)
    try:
        call("POST", "/url", {"url": page.as_uri()})
        yield call
    finally:
        try:
            call("DELETE", "")
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.mark.slow
def test_report_in_chromium_sorts_without_console_errors(tmp_path):
    path = write_report(write_grading_dir(tmp_path / "grades"))
    with browser(tmp_path, path) as call:

        def first_column() -> list[str]:
            return call("POST", "/execute/sync", {"script": """
                return Array.from(document.querySelectorAll('#student-table tbody tr'))
                            .map(r => r.cells[0].firstChild.textContent.trim());""",
                                                  "args": []})

        def click_header(label: str) -> None:
            call("POST", "/execute/sync", {"script": """
                Array.from(document.querySelectorAll('#student-table thead button'))
                     .find(b => b.textContent === arguments[0]).click();""", "args": [label]})

        images = call("POST", "/execute/sync", {"script": """
            return Array.from(document.images).map(i => i.complete && i.naturalWidth > 0);""",
                                                "args": []})
        assert images == [True, True]
        click_header("score")  # ascending: ungraded (no score) last
        assert first_column() == ["dave", "bob", HOSTILE, "carol", "alice", "eve", "frank"]
        click_header("score")  # descending
        assert first_column()[:2] == ["alice", "carol"]
        click_header("submission")
        assert first_column()[0] == HOSTILE  # '<' sorts before letters
        # An alert from the hostile name would have made every command above fail with
        # "unexpected alert open"; a CSP refusal or a script error shows in the console log.
        logs = call("POST", "/se/log", {"type": "browser"})
        assert [entry for entry in logs if entry["level"] in ("SEVERE", "WARNING")] == []


def write_wide_grading_dir(root: Path) -> Path:
    """A class as wide as the report gets: every hw2 question, long names in two scripts, every
    diagnosis label, a flagged and a late submission, identity columns as `bplab grade` writes."""
    from bplab.grade.identity import IDENTITY_COLUMNS
    from bplab.layout import Assignment
    from bplab_checks.diagnose import CODES

    questions = [p.stem for p in Assignment.named("hw2").test_files()]
    codes = sorted(CODES)
    folder = GradingDir(root)
    folder.make_dirs()
    names = ["Александра Константинопольская-Вознесенская", "María José Fernández-Villaverde",
             "Nguyễn Thị Minh Khai", "李小龙", "Zoë Brontë"]
    with folder.grades_csv.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["submission", "status", "score", "max_score", *questions, *IDENTITY_COLUMNS])
        for i in range(12):
            name = names[i % len(names)]
            stem = f"{name.replace(' ', '_')}_{1234560 + i}"
            scores = {q: (i + j) % 4 for j, q in enumerate(questions)}
            ident = {"name": name, "lms": "moodle", "user_id": str(1234560 + i),
                     "late": "late" if i % 3 == 0 else "", "source": f"/d/{stem}",
                     "flags": "stem clash: x" if i == 5 else ""}
            w.writerow([stem, "graded", sum(scores.values()), 3 * len(questions),
                        *scores.values(), *(ident.get(c, "") for c in IDENTITY_COLUMNS)])
            diagnoses = {q: codes[(i + j) % len(codes):(i + j) % len(codes) + 2]
                         for j, q in enumerate(questions)}
            tests = [{"name": q, "score": scores[q], "max_score": 3, "output": ""}
                     for q in questions]
            folder.results(stem).write_text(json.dumps({
                "score": sum(scores.values()), "tests": tests,
                "extra_data": {"bplab": {"status": "graded", "reason": "", "isolation": "x",
                                         "diagnoses": diagnoses}}}), encoding="utf-8")
    return root


@pytest.mark.slow
def test_students_table_fits_a_laptop_screen(tmp_path):
    path = write_report(write_wide_grading_dir(tmp_path / "wide"))
    with browser(tmp_path, path) as call:
        sizes = call("POST", "/execute/sync", {"script": """
            var box = document.getElementById('student-table').parentElement;
            return [window.innerWidth, document.documentElement.scrollWidth,
                    box.scrollWidth, box.clientWidth,
                    document.querySelectorAll('#student-table tbody tr').length];""",
                                               "args": []})
        inner, page, table, box, rows = sizes
        assert inner <= 1400 and rows == 12
        assert page <= inner, f"the page scrolls sideways: {page} px in {inner} px"
        assert table <= box, f"the students table scrolls sideways: {table} px in {box} px"
        # ...and stays legible: no score, status or question name is broken over lines.
        broken = call("POST", "/execute/sync", {"script": """
            var cells = document.querySelectorAll(
                '#student-table td.num, #student-table td.st, #student-table th button');
            return Array.from(cells).filter(function (c) {
                var r = document.createRange(); r.selectNodeContents(c);
                return r.getClientRects().length > 1;
            }).map(function (c) { return c.textContent; });""", "args": []})
        assert broken == []
        call("POST", "/execute/sync", {"script": """
            document.getElementById('students').scrollIntoView();""", "args": []})
        shot = base64.b64decode(call("GET", "/screenshot"))
        (tmp_path / "report.png").write_bytes(shot)  # look at it: pytest --basetemp=DIR
        assert shot.startswith(b"\x89PNG")
