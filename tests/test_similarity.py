"""`bplab similarity`: template-aware, winnowed similarity of notebook submissions (issue 18).

The class of 30 comes from tests/similarity_class.py: 27 independent students (each fence of
hw1 written one of three ways; seven with planted bugs, two of them the same bug), a renamed and
commented copy, a copy with one bug added and a copy of a buggy notebook.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bplab.cli import main
from bplab.layout import GradingDir
from bplab.similarity import compare as compare_module
from bplab.similarity import fingerprint as fp
from bplab.similarity.extract import MAX_CELL_CHARS, extract, load_template, written_lines
from bplab.similarity.store import CSV_COLUMNS, store_path
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st
from oracle_helpers import FAST
from similarity_class import (
    BUGS,
    HW1,
    Student,
    independents,
    make_class,
    notebook_text,
    write_class,
)

pytestmark = pytest.mark.hw1


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, ["similarity", *map(str, args)], catch_exceptions=False)


def rows(out: Path, question: str = "*") -> list[dict[str, str]]:
    with open(out / "similarity.csv", newline="", encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["question"] == question]


@pytest.fixture(scope="module")
def klass(tmp_path_factory) -> tuple[Path, Path, set, dict]:
    students, copies = make_class()
    subs, out = write_class(tmp_path_factory.mktemp("class"), students)
    result = run(out, "-a", "hw1", "--submissions", subs)
    assert result.exit_code == 0, result.output
    return subs, out, copies, students


# --- the "done when" ------------------------------------------------------------------

def _check_ranking(out: Path, copies: set) -> list[dict[str, str]]:
    ranked = rows(out)
    is_copy = [(r["a"], r["b"]) in copies or (r["b"], r["a"]) in copies for r in ranked]
    assert sum(is_copy) == len(copies), f"copy pairs found: {sum(is_copy)} of {len(copies)}"
    last_copy = max(i for i, c in enumerate(is_copy) if c)
    first_other = min((i for i, c in enumerate(is_copy) if not c), default=len(ranked))
    assert last_copy < first_other, (
        f"an independent pair ({ranked[first_other]['a']}, {ranked[first_other]['b']}, "
        f"{ranked[first_other]['similarity']}) ranks above a copy pair "
        f"({ranked[last_copy]['a']}, {ranked[last_copy]['b']}, {ranked[last_copy]['similarity']})")
    return ranked


def test_class_of_30_ranks_every_copy_above_every_independent_pair(klass):
    _, out, copies, students = klass
    assert len(students) == 30
    ranked = _check_ranking(out, copies)
    first = ranked[0]
    assert {first["a"], first["b"]} == {"ind026", "copy_of_buggy"}
    assert first["shared_diagnosis"] == "MatMul:transposed"
    # Two independent students with the same planted bug share a rare diagnosis, not the code.
    same_bug = [r for r in ranked if {r["a"], r["b"]} == {"ind022", "ind020"}]
    assert same_bug and same_bug[0]["shared_diagnosis"] == "Square:missing_factor_2"
    assert float(same_bug[0]["similarity"]) < float(ranked[2]["similarity"])


def test_ranking_check_fails_without_identifier_normalisation(tmp_path, monkeypatch):
    """Planted bug: names kept as written. The renamed copy then drops below independents, so
    the ranking check above can fail."""
    real = fp._norm
    monkeypatch.setattr(fp, "_norm", lambda kind, value, prev: value if kind == "name"
                        else real(kind, value, prev))
    students, copies = make_class()
    subs, out = write_class(tmp_path, students)
    assert run(out, "-a", "hw1", "--submissions", subs).exit_code == 0
    with pytest.raises(AssertionError, match="ranks above a copy pair"):
        _check_ranking(out, copies)


def test_csv_columns_and_per_question_rows(klass):
    _, out, _, _ = klass
    with open(out / "similarity.csv", newline="") as f:
        reader = csv.reader(f)
        assert tuple(next(reader)) == CSV_COLUMNS
        body = list(reader)
    questions = {r[2] for r in body}
    assert "*" in questions and "MatMul" in questions and questions <= {"*", *load_template(
        HW1).questions}
    assert all(0.0 <= float(r[3]) <= 1.0 and int(r[4]) > 0 for r in body)
    matmul = [r for r in body if r[2] == "MatMul" and {r[0], r[1]} == {"ind026", "copy_of_buggy"}]
    assert matmul[0][5] == "transposed"


# --- template removal, tokens, fingerprints ---------------------------------------------------

def test_an_untouched_template_has_nothing_to_compare():
    template = load_template(HW1)
    stub = extract(HW1.notebook.read_bytes(), template)
    assert set(stub.snippets) == set(template.questions)
    assert all(not s.written for s in stub.snippets.values()), "template lines count as written"
    mine = extract(notebook_text(independents(1)["ind000"]).encode(), template)
    assert all(s.written for s in mine.snippets.values())


def test_written_lines_are_what_the_student_added():
    stub = "def f(x):\n    '''Doc.'''\n    # YOUR CODE HERE\n    raise NotImplementedError\n"
    mine = "def f(x):\n    '''Doc.'''\n    y = x + 1\n\n    return y\n"
    assert written_lines(mine, stub) == {2, 4}


def test_renaming_and_comments_do_not_change_tokens_but_api_calls_do():
    a = fp.tokens("total = np.sum(values)  # add\nreturn total * 2\n")
    b = fp.tokens("# mine\ns   =   np.sum( xs )\n\nreturn s * 3\n")
    c = fp.tokens("total = np.mean(values)\nreturn total * 2\n")
    assert [t.kind for t in a] == [t.kind for t in b]
    assert [t.kind for t in a] != [t.kind for t in c]


def test_broken_syntax_falls_back_to_the_regex_lexer():
    text = "x = (1 +\n  'unterminated\n   y = x @ z\n"
    kinds = [t.kind for t in fp.tokens(text)]
    assert kinds[:4] == ["V", "=", "(", "N"] and "@" in kinds
    assert all(text[t.start:t.end] for t in fp.tokens(text))


_STABILITY_CODE = """
import sys
sys.path.insert(0, sys.argv[1])
from bplab.similarity import fingerprint as f
texts = [open(sys.argv[2]).read(), 'x = f"a{b + 1:>{w}}c" + rb"s"\\nreturn x\\n',
         "def f(:\\n  'unterminated\\n    y = x @ z\\n"]
print([f.fingerprints(f.tokens(t)) for t in texts])
"""


def _other_pythons() -> list[str]:
    """Other CPython versions on this machine (pyenv), to compare fingerprints with."""
    import shutil

    pyenv = shutil.which("pyenv")
    if not pyenv:
        return []
    root = Path(subprocess.run([pyenv, "root"], capture_output=True, text=True).stdout.strip())
    found = []
    for minor in ("3.10", "3.12", "3.13"):
        found += sorted(str(p) for p in root.glob(f"versions/{minor}*/bin/python{minor}"))[-1:]
    return found


def test_fingerprints_do_not_depend_on_the_process_or_the_python_version():
    """Stored fingerprints are compared with later cohorts: no salted hash, and the same
    tokens from every Python that lexes f-strings differently (3.12+ gives their parts)."""
    import bplab

    args = [_STABILITY_CODE, str(Path(bplab.__file__).parents[1]), str(HW1.solution)]
    outs = {}
    for python, seed in [(sys.executable, "1"), (sys.executable, "2"),
                         *((p, "0") for p in _other_pythons())]:
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outs[(python, seed)] = subprocess.run([python, "-c", *args], env=env,
                                              capture_output=True, text=True, check=True).stdout
    assert len(set(outs.values())) == 1, {k: v[:80] for k, v in outs.items()}
    assert outs[(sys.executable, "1")].startswith("[[(")


@FAST
@given(st.lists(st.sampled_from(["x", "+", "(", ")", "1", "np", ".", "sum", "*", "\n"]),
                min_size=0, max_size=30),
       st.lists(st.sampled_from(["a", "-", "2", "@", "\n"]), min_size=0, max_size=30),
       st.lists(st.sampled_from(["b", "/", "3", "@", "\n"]), min_size=0, max_size=30))
def test_winnowing_finds_every_long_shared_passage(passage, left, right):
    """Any passage of at least W + K - 1 tokens shared by two texts shares a fingerprint."""
    shared = " ".join(["z", "=", "q", "*", "w", "+", "y", "-", "v", *passage])
    one, two = fp.tokens(" ".join(left) + "\n" + shared), fp.tokens(shared + "\n" + " ".join(right))
    assert {h for h, _ in fp.fingerprints(one)} & {h for h, _ in fp.fingerprints(two)}


# --- hostile submissions ----------------------------------------------------------------------

def _nb(cells: list[dict]) -> bytes:
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                       "nbformat_minor": 5}).encode()


def _code(source, define: str | None = None) -> dict:
    meta = {"bplab": {"define": define}} if define else {}
    return {"cell_type": "code", "source": source, "metadata": meta, "outputs": []}


def test_hostile_notebooks_are_read_as_capped_text():
    template = load_template(HW1)
    huge = "class MatMul:\n" + "    x = 1\n" * 200_000
    got = extract(_nb([_code(huge, "MatMul")]), template).snippets["MatMul"]
    assert len(got.text) == MAX_CELL_CHARS and "cut at" in got.note
    assert len(compare_module.prepare(got, set()).prints) > 100
    deep = extract(_nb([_code("class MatMul:\n    x = " + "(" * 50_000, "MatMul")]), template)
    assert compare_module.prepare(deep.snippets["MatMul"], set()).tokens  # lexed, capped
    assert extract(b"\xff\xfe{not json", template).problem == "not a JSON notebook"
    assert extract(b"[1, 2]", template).problem == "no cells"
    odd = _nb([{"cell_type": "code", "source": [1, None], "metadata": "x"}, "junk", None])
    assert extract(odd, template).snippets == {}
    invalid_utf8 = _nb([_code("class MatMul:\n    s = 'caf\udcff'\n", "MatMul")])
    assert "MatMul" in extract(invalid_utf8.replace(b"\\udcff", b"\xff"), template).snippets
    # a cell without metadata still counts for what it defines; the last definition wins
    cells = [_code("class MatMul:\n    first = 1\n"), _code("class MatMul:\n    last = 2\n")]
    assert "last" in extract(_nb(cells), template).snippets["MatMul"].text


def test_html_in_code_and_names_is_escaped(tmp_path):
    students = independents(6)
    evil = Student(students["ind000"].bodies, {})
    evil.bodies[("MatMul", 0)] = "s = '</pre><script>alert(1)</script>'\nreturn A @ B, s"
    students = {**students, "copy": Student(evil.bodies, {}), "evil": evil}
    subs, out = write_class(tmp_path, students)
    assert run(out, "-a", "hw1", "--submissions", subs).exit_code == 0
    # A hostile stem (grade never writes one; a hand-edited folder or store might).
    hostile = '<img src=x onerror="alert(1)">'
    for path in (GradingDir(out).grades_csv, store_path(out)):
        path.write_text(path.read_text().replace("evil", hostile.replace('"', "'")))
    result = run(out)
    assert result.exit_code == 0, result.output
    pages = [out / "similarity.html", *(out / "similarity").glob("pair-*.html")]
    assert len(pages) > 1
    for page in pages:
        text = page.read_text()
        assert "<script>" not in text and "<img" not in text
    assert any("&lt;/pre&gt;&lt;script&gt;" in p.read_text() for p in pages)
    assert any("&lt;img src=x" in p.read_text() for p in pages)


def test_export_for_jplag_and_dolos(klass, tmp_path):
    _, out, _, students = klass
    for tool in ("jplag", "dolos"):
        dest = tmp_path / tool
        assert run(out, "--export-for", tool, dest).exit_code == 0
        folders = sorted(p.name for p in (dest / "students").iterdir())
        assert folders == sorted(students)
        assert (dest / "students" / "ind000" / "MatMul.py").read_text().startswith("class MatMul")
        assert (dest / "template" / "MatMul.py").is_file() if tool == "jplag" else (
            dest / "template.py").is_file()
    result = run(out, "--export-for", "jplag", tmp_path / "jplag")
    assert result.exit_code == 2 and "not empty" in result.output


def test_export_keeps_stems_apart_on_case_insensitive_disks(tmp_path):
    from bplab.similarity.store import export_for

    a = compare_module.Student("Bob", {}, {})
    b = compare_module.Student("bob", {}, {})
    export_for("dolos", tmp_path, [a, b], load_template(HW1))
    assert sorted(p.name for p in (tmp_path / "students").iterdir()) == ["Bob", "bob-2"]


# --- an earlier cohort, usage errors ----------------------------------------------------------

def test_against_an_earlier_cohort(klass, tmp_path):
    _, earlier, _, old = klass
    new = {"new_copy": Student(old["ind005"].bodies, {}), **independents(4, seed=7)}
    subs, out = write_class(tmp_path, new)
    result = run(out, "-a", "hw1", "--submissions", subs, "--against", earlier)
    assert result.exit_code == 0, result.output
    ranked = rows(out)
    cohort = earlier.resolve().name
    assert (ranked[0]["a"], ranked[0]["b"]) == ("new_copy", f"{cohort}/ind005")
    assert not any(r["a"].startswith(cohort + "/") and r["b"].startswith(cohort + "/")
                   for r in ranked), "pairs within the earlier cohort are not this class's"


def test_bad_inputs_are_usage_errors_and_write_nothing(klass, tmp_path):
    subs, earlier, _, students = klass
    _, out = write_class(tmp_path / "new", {"x": students["ind000"]})
    assert run(out).exit_code == 2  # no code anywhere, no assignment
    result = run(out, "-a", "hw1")
    assert result.exit_code == 2 and "--submissions" in result.output
    assert run(out, "-a", "hw99", "--submissions", subs).exit_code == 2
    stale = tmp_path / "stale"
    store_path(stale).parent.mkdir(parents=True)
    store_path(stale).write_text(json.dumps({"scheme": "copydetect-salted", "students": {}}))
    result = run(out, "-a", "hw1", "--submissions", subs, "--against", stale)
    assert result.exit_code == 2 and "scheme" in result.output
    assert not (out / "similarity.csv").exists() and not store_path(out).exists()


def test_a_second_run_reuses_the_store(klass):
    _, out, copies, _ = klass
    before = (out / "similarity.csv").read_text()
    assert run(out).exit_code == 0
    assert (out / "similarity.csv").read_text() == before


# --- the report ---------------------------------------------------------------------------------

def test_report_has_the_similarity_section_with_links(klass):
    from bplab.report import write_report

    _, out, _, _ = klass
    html = write_report(out).read_text()
    section = html[html.index('<h2 id="similarity">'):]
    assert "never a verdict" in section and 'href="similarity.html"' in section
    assert 'href="similarity/pair-1.html"' in section and "MatMul:transposed" in section
    assert '<a href="#similarity">' in html
    assert (out / "similarity" / "pair-1.html").is_file()


@pytest.mark.slow
def test_similarity_pages_in_chromium(klass, tmp_path):
    from test_report import _webdriver

    _, out, _, _ = klass
    from bplab.report import write_report

    report = write_report(out)
    proc, call = _webdriver(tmp_path)
    try:
        def script(js: str):
            return call("POST", "/execute/sync", {"script": js, "args": []})

        call("POST", "/url", {"url": report.as_uri()})
        links = script("return Array.from(document.querySelectorAll('#similarity-table a'))"
                       ".map(a => a.getAttribute('href'));")
        assert links[0] == "similarity/pair-1.html"
        call("POST", "/url", {"url": (out / links[0]).as_uri()})
        got = script("""return {
            title: document.title,
            marks: document.querySelectorAll('mark:not(.common)').length,
            sides: Array.from(document.querySelectorAll('.sides')).map(
                d => d.children.length),
            disclaimer: getComputedStyle(document.querySelector('.disclaimer')).borderLeftWidth,
            side: document.querySelector('.sides > div').getBoundingClientRect().width};""")
        assert got["title"] == "ind026 and copy_of_buggy"
        assert got["marks"] > 20 and set(got["sides"]) == {2}
        assert got["disclaimer"] == "4px", "the page's style was refused (CSP hash?)"
        assert 300 < got["side"] < 700, "the two snippets are not side by side"
        call("POST", "/url", {"url": (out / "similarity.html").as_uri()})
        assert script("return document.querySelectorAll('table').length") > 1
        logs = call("POST", "/se/log", {"type": "browser"})
        assert [e for e in logs if e["level"] in ("SEVERE", "WARNING")] == []
    finally:
        try:
            call("DELETE", "")
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def test_bug_table_codes_are_known():
    from bplab_checks.diagnose import CODES

    assert {code for *_, code in BUGS.values()} <= set(CODES)


def test_code_from_the_source_path_a_record_names(tmp_path):
    """When the grader records ``extra_data.bplab.source``, no --submissions is needed."""
    students = {**independents(3), "twin": Student(independents(1)["ind000"].bodies, {})}
    subs, out = write_class(tmp_path, students)
    folder = GradingDir(out)
    for stem in students:
        data = json.loads(folder.results(stem).read_text())
        data["extra_data"]["bplab"]["source"] = str(subs / f"{stem}.ipynb")
        data["extra_data"]["bplab"]["assignment"] = "hw1"
        folder.results(stem).write_text(json.dumps(data))
    result = run(out)  # the assignment too comes from the records
    assert result.exit_code == 0, result.output
    assert {rows(out)[0]["a"], rows(out)[0]["b"]} == {"ind000", "twin"}


def test_two_earlier_folders_of_the_same_name_stay_apart(klass, tmp_path):
    _, earlier, _, old = klass
    import shutil

    second = tmp_path / "x" / earlier.name
    shutil.copytree(earlier, second)
    subs, out = write_class(tmp_path / "new", {"late": Student(old["ind003"].bodies, {})})
    result = run(out, "-a", "hw1", "--submissions", subs, "--against", earlier, "--against",
                 second)
    assert result.exit_code == 0, result.output
    partners = {r["b"] for r in rows(out) if r["a"] == "late"}
    assert {f"{earlier.name}/ind003", f"{earlier.name}-2/ind003"} <= partners


@pytest.mark.slow
def test_after_a_real_grade_the_shared_bug_is_named(tmp_path):
    """`bplab grade` then `bplab similarity` on the same paths: stems match and the grader's
    own diagnosis marks the copied bug."""
    from bplab.grade.command import run_grade

    students = independents(4, seed=3)
    students["buggy"] = students.pop("ind003").with_bug("matmul_db_transposed")
    students["copy"] = Student(students["buggy"].bodies, {})
    subs = tmp_path / "subs"
    subs.mkdir()
    for stem, s in students.items():
        (subs / f"{stem}.ipynb").write_text(notebook_text(s), encoding="utf-8")
    out = tmp_path / "out"
    records = run_grade("hw1", [subs], out, jobs=2, quiet=True)
    assert {r.stem for r in records} == set(students)
    result = run(out, "-a", "hw1", "--submissions", subs)
    assert result.exit_code == 0, result.output
    first = rows(out)[0]
    assert {first["a"], first["b"]} == {"buggy", "copy"}
    assert "MatMul:transposed" in first["shared_diagnosis"].split("; ")


def _two_different_students(tmp_path: Path) -> Path:
    from similarity_class import VARIANTS

    students = {name: Student({k: v[i] for k, v in VARIANTS.items()}, {})
                for i, name in enumerate(("first", "second"))}
    subs, out = write_class(tmp_path, students)
    assert run(out, "-a", "hw1", "--submissions", subs).exit_code == 0
    return out


def test_the_shared_template_does_not_make_independent_students_similar(tmp_path):
    # Measured: 0.35 with the template removed, 0.47 when it is compared too (docstrings are
    # one token each, so the template weighs less in tokens than in lines).
    whole = rows(_two_different_students(tmp_path))
    assert not whole or float(whole[0]["similarity"]) < 0.4, whole


def test_template_check_fails_when_the_template_is_compared(tmp_path, monkeypatch):
    """Planted bug: every line counts as written and template k-grams are kept."""
    from bplab.similarity import command, extract

    monkeypatch.setattr(extract, "written_lines",
                        lambda text, template: frozenset(range(text.count("\n") + 1)))
    monkeypatch.setattr(command, "template_hashes", lambda stub: set())
    with pytest.raises(AssertionError):
        test_the_shared_template_does_not_make_independent_students_similar(tmp_path)


def test_submissions_meet_their_records_by_source_when_intake_leaves_stems_open(
        tmp_path, monkeypatch):
    """An intake that names no stems (they depend on the grading folder) and reads lazily:
    each submission takes the stem of the record graded from the same source."""
    from types import SimpleNamespace

    from bplab.grade import intake
    from bplab.similarity.sources import from_paths

    students = {"alice": independents(1)["ind000"], "bob": independents(2, seed=9)["ind001"]}
    subs, out = write_class(tmp_path, students)
    folder = GradingDir(out)
    for stem in students:  # the records say where they came from, under other stems
        data = json.loads(folder.results(stem).read_text())
        data["extra_data"]["bplab"]["identity"] = {"source": f"upload-of-{stem}"}
        folder.results(stem).write_text(json.dumps(data))

    def find_submissions(paths):
        return [SimpleNamespace(stem="", wanted=f"wanted-{stem}", origin=f"upload-of-{stem}",
                                read=lambda assignment, stem=stem: (subs / f"{stem}.ipynb")
                                .read_bytes()) for stem in students]

    monkeypatch.setattr(intake, "find_submissions", find_submissions)
    found = from_paths([subs], "hw1", folder)
    assert sorted(found) == ["alice", "bob"] and all(found.values())
    assert sorted(from_paths([subs], "hw1")) == ["wanted-alice", "wanted-bob"]


def test_a_record_added_after_the_store_is_read_from_its_source(tmp_path):
    students = independents(3, seed=4)
    subs, out = write_class(tmp_path, students)
    assert run(out, "-a", "hw1", "--submissions", subs).exit_code == 0
    late = tmp_path / "late.ipynb"
    late.write_text(notebook_text(students["ind002"]), encoding="utf-8")
    folder = GradingDir(out)
    with open(folder.grades_csv, "a", newline="") as f:
        csv.writer(f).writerow(["late", "graded", 10, 29])
    folder.results("late").write_text(json.dumps({"score": 10, "tests": [], "extra_data": {
        "bplab": {"status": "graded", "source": str(late)}}}))
    assert run(out).exit_code == 0
    assert {rows(out)[0]["a"], rows(out)[0]["b"]} == {"ind002", "late"}
