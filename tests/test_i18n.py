"""The course in four languages (``bplab.i18n``): translation files, the checks that keep them
true (each shown failing on a planted defect), the translated releases, and one autograder for
all four notebooks."""

from __future__ import annotations

import base64
import io
import json
import re
import warnings
import zipfile

import pytest
from bplab import REPO_ROOT, i18n, notebook
from bplab.build import build
from bplab.cli import main
from bplab.examples import BLANK, FULL
from bplab.grade.command import run_grade
from bplab.grade.record import GRADED
from bplab.layout import Assignment
from click.testing import CliRunner
from fake_assignment import make_fake_repo
from i18n_release import KINDS, stem, write_submissions

HW = [Assignment.named(p.name) for p in sorted((REPO_ROOT / "assignments").glob("hw*"))
      if Assignment.named(p.name).notebook.is_file()]
# Fully translated (assignment, language) pairs: each must stay so (a new assignment starts in
# progress; bplab.i18n.complete_languages reads the same status from the files).
FINISHED = [
    *[("hw1", language) for language in i18n.LANGUAGES],
    *[("hw2", language) for language in i18n.LANGUAGES],
    ("hw3", "bg"),
    ("hw3", "uk"),
    ("hw3", "ru"),
]
# What the parity tests grade: every language a file marks complete, found afresh from the
# files (a translation marked complete after a merge is graded without editing this list).
COMPLETE_PAIRS = [(a, language) for a in HW for language in i18n.complete_languages(a)]
HW1 = Assignment.named("hw1")
# The documents' own terms (the course documents, see docs/course.md): 000 (bg) writes
# "веригово правило" and "загубна функция", 002 (uk) "правило ланцюга" and "функція втрат",
# 003 (ru) "цепное правило", "функция потерь" and "upstream-градиент" (used in all three: the
# Russian lecture's term for the gradient that arrives from above). 000 also writes
# "автоматично диференциране" (autograd, hw3's engine); uk and ru keep the words of their hw1
# translations, "автоматичне диференціювання" and "автоматическое дифференцирование", which no
# document names. Patterns allow inflection.
TERMS = {  # English pattern -> the documents' term per language
    r"chain rule": {"bg": r"веригов\w* правил", "uk": r"правил\w* ланцюга",
                    "ru": r"цепн\w* правил"},
    r"\bloss": {"bg": r"загубн\w* функци", "uk": r"функці\w* втрат", "ru": r"функци\w* потерь"},
    r"upstream gradient": {"bg": r"upstream-градиент", "uk": r"upstream-градієнт",
                           "ru": r"upstream-градиент"},
    r"computational graph": {"bg": r"изчислителн\w* граф", "uk": r"обчислювальн\w* граф",
                             "ru": r"вычислительн\w* граф"},
    r"autograd|automatic differentiation": {"bg": r"автоматичн\w* диференциран",
                                            "uk": r"автоматичн\w* диференціюван",
                                            "ru": r"автоматическ\w* дифференцирован"},
}


SAMPLE = """\
<!-- bplab-i18n language=bg status=in-progress -->
<!-- cell a en=0123456789ab -->
# Заглавие $x^2$

<!-- cell b en=ba9876543210 -->
текст
"""


# --- the file format -------------------------------------------------------------------------

def test_parse_reads_keys_hashes_and_text_and_dumps_round_trips():
    t = i18n.parse(SAMPLE)
    assert (t.language, t.status) == ("bg", "in-progress")
    assert t.entries["a"] == i18n.Entry("0123456789ab", "# Заглавие $x^2$")
    assert t.entries["b"].text == "текст"
    assert i18n.parse(i18n.dumps(t)) == t


def test_a_file_with_a_header_only_has_no_entries():
    """A file just started (header, no cell yet) once crashed parse (zip of unequal lengths)."""
    empty = i18n.Translations("ru", "in-progress")
    assert i18n.parse(i18n.dumps(empty)) == empty


@pytest.mark.parametrize("text, says", [
    ("# no header\n", "first line"),
    (SAMPLE.replace("in-progress", "done"), "first line"),
    (SAMPLE.replace("<!-- cell b en=ba9876543210", "<!-- cell a en=ba9876543210"), "twice"),
    (SAMPLE.replace("-->\n<!-- cell a", "-->\nstray text\n<!-- cell a"), "before the first"),
])
def test_a_malformed_file_is_refused_with_its_reason(text, says):
    with pytest.raises(i18n.TranslationError, match=says):
        i18n.parse(text)


def test_math_spans_ignore_code_and_keep_display_math_whole():
    md = "a $x$ and $$\\sum_i y_i$$ but `$not$` and\n```\n$nor$\n```\nend $x$"
    assert i18n.math_spans(md) == sorted(["$x$", "$x$", "$$\\sum_i y_i$$"])


# --- the checks, each failing on a planted defect ----------------------------------------------

ENGLISH = {"c1": "Hello $a + b$ and $$c^2$$", "c2": "Plain text", "c3": "Third $z$"}


def _complete(status: str = "complete") -> i18n.Translations:
    texts = {"c1": "Здравей $$c^2$$ и $a + b$", "c2": "Обикновен текст", "c3": "Трети $z$"}
    return i18n.Translations("bg", status, {
        k: i18n.Entry(i18n.en_hash(ENGLISH[k]), v) for k, v in texts.items()})


def test_a_complete_current_translation_has_no_problems():
    assert i18n.check(ENGLISH, _complete()).errors == {}


def test_a_missing_cell_fails_a_complete_translation_and_only_warns_in_progress():
    for status, fails in (("complete", True), ("in-progress", False)):
        t = _complete(status)
        del t.entries["c2"]
        problems = i18n.check(ENGLISH, t)
        assert problems.missing == ["c2"]
        assert ("missing" in problems.errors) is fails


def test_changed_math_fails_and_names_the_cell():
    t = _complete()
    t.entries["c1"] = i18n.Entry(t.entries["c1"].en_hash, "Здравей $$c^3$$ и $a + b$")
    assert i18n.check(ENGLISH, t).errors == {"math": ["c1"]}
    t.entries["c1"] = i18n.Entry(t.entries["c1"].en_hash, "Здравей и $a + b$")  # a dropped span
    assert i18n.check(ENGLISH, t).errors == {"math": ["c1"]}


def test_an_english_edit_makes_exactly_that_cell_stale():
    edited = dict(ENGLISH, c3="Third $z$, edited")
    assert i18n.check(edited, _complete()).errors == {"stale": ["c3"]}


def test_a_translation_of_a_deleted_cell_is_unknown():
    english = {k: v for k, v in ENGLISH.items() if k != "c2"}
    assert i18n.check(english, _complete()).errors == {"unknown": ["c2"]}


def test_stale_and_mismatched_cells_fall_back_to_english():
    t = _complete()
    t.entries["c1"] = i18n.Entry(t.entries["c1"].en_hash, "Без математика")
    t.entries["c3"] = i18n.Entry("000000000000", t.entries["c3"].text)
    del t.entries["c2"]
    assert i18n.usable(ENGLISH, t) == ENGLISH


# --- the committed translations -----------------------------------------------------------------

@pytest.mark.parametrize("assignment", HW, ids=[a.name for a in HW])
@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_committed_translations_are_current(assignment, language):
    """Stale, math-changed and unknown cells fail; missing cells fail once a language is marked
    complete (while in progress, they are listed as a warning)."""
    english = i18n.english_texts(notebook.read(assignment.notebook))
    problems = i18n.check(english, i18n.load(assignment, language))
    assert problems.errors == {}, "\n".join(problems.lines())
    if problems.missing:  # in progress: listed in pytest's warnings summary
        warnings.warn("; ".join(problems.lines()), stacklevel=1)


@pytest.mark.parametrize("assignment", HW, ids=[a.name for a in HW])
@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_a_complete_translation_uses_the_documents_terms(assignment, language):
    """Each term the English text uses appears, in the documents' wording, in the translation."""
    translations = i18n.load(assignment, language)
    if translations.status != "complete":
        pytest.skip(f"{assignment.name} {language} is in progress")
    english = "\n".join(i18n.english_texts(notebook.read(assignment.notebook)).values()).lower()
    text = "\n".join(e.text for e in translations.entries.values()).lower()
    assert _missing_terms(english, text, language) == []


def _missing_terms(english: str, translated: str, language: str) -> list[str]:
    # A term wrapped over two lines is one term in the rendered markdown.
    english, translated = (re.sub(r"\s+", " ", text) for text in (english, translated))
    used = [terms[language] for en, terms in TERMS.items() if re.search(en, english)]
    assert used, "the English text uses none of the terms"
    return [t for t in used if not re.search(t, translated)]


def test_a_translation_with_another_term_is_caught():
    english = "the chain rule multiplies; the loss falls"
    assert _missing_terms(english, "цепное правило; функция потерь падает", "ru") == []
    assert _missing_terms(english, "правило цепочки; функция потерь падает", "ru") == [
        TERMS["chain rule"]["ru"]]
    assert _missing_terms("the chain\nrule", "цепное\nправило", "ru") == []  # wrapped lines


@pytest.mark.parametrize("hw, language", FINISHED, ids=[f"{h}-{lang}" for h, lang in FINISHED])
def test_finished_translations_stay_complete(hw, language):
    """Marking a finished translation in progress again would hide missing cells (and take it
    out of the parity tests)."""
    assert i18n.load(Assignment.named(hw), language).status == "complete"
    assert language in i18n.complete_languages(Assignment.named(hw))


def test_complete_languages_reads_the_status_of_each_file(tmp_path):
    hw = make_fake_repo(tmp_path)
    assert i18n.complete_languages(hw) == ()  # no file yet: in progress
    hw.i18n_dir.mkdir(parents=True, exist_ok=True)
    for language, status in (("bg", "in-progress"), ("ru", "complete")):
        i18n.path(hw, language).write_text(i18n.dumps(i18n.Translations(language, status)),
                                           encoding="utf-8")
    assert i18n.complete_languages(hw) == ("ru",)


def test_the_status_command_names_stale_cells_and_exits_1(monkeypatch):
    english = i18n.english_texts(notebook.read(HW1.notebook))
    key = list(english)[3]
    planted = i18n.load(HW1, "bg")
    planted.entries[key] = i18n.Entry("000000000000", planted.entries[key].text)
    real_load = i18n.load
    monkeypatch.setattr(i18n, "load",
                        lambda a, lang: planted if lang == "bg" else real_load(a, lang))
    result = CliRunner().invoke(main, ["i18n", "status", "hw1"])
    assert result.exit_code == 1, result.output
    assert f"bg: stale: {key}\n" in result.output


def test_stamp_refuses_a_key_without_english_cell_and_writes_nothing():
    before = i18n.path(HW1, "bg").read_bytes()
    result = CliRunner().invoke(main, ["i18n", "stamp", "hw1", "bg", "3ea96432", "no-such-cell"])
    assert result.exit_code == 2 and "no-such-cell" in result.output
    assert i18n.path(HW1, "bg").read_bytes() == before


def test_the_status_command_on_the_checkout():
    result = CliRunner().invoke(main, ["i18n", "status", "hw1"])
    assert result.exit_code == 0, result.output
    assert re.search(r"^bg \(complete\): (\d+)/\1 cells translated, all current$", result.output,
                     re.MULTILINE), result.output
    assert CliRunner().invoke(main, ["i18n", "status", "homework1"]).exit_code == 2


# --- the releases: four notebooks, one autograder ----------------------------------------------

def _zip(b64: str) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(b64))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return build(HW1, tmp_path_factory.mktemp("i18n") / "dist")


def test_each_language_gets_its_release_with_identical_code_cells(release):
    english = notebook.read(release.notebook)
    for language in i18n.LANGUAGES:
        folder = i18n.student_dir(release.out_dir, language)
        translated = notebook.read(folder / release.notebook.name)
        meta, english_meta = dict(translated.metadata["bplab"]), dict(english.metadata["bplab"])
        assert meta.pop("language") == language
        # The embedded checks are the English release's plus the file naming the language
        # (the feedback's, bplab_checks.i18n); the assignment name is kept.
        checks, english_checks = _zip(meta.pop("checks")), _zip(english_meta.pop("checks"))
        assert checks.pop("hw1/bplab_checks/locale/LANGUAGE") == f"{language}\n".encode()
        assert checks == english_checks
        assert meta == english_meta
        assert (release.out_dir / f"{folder.name}.zip").is_file()
        assert [c.id for c in translated.cells] == [c.id for c in english.cells]
        for en, tr in zip(english.cells, translated.cells, strict=True):
            if en.cell_type == "code":
                assert tr.source == en.source
        changed = [c.id for c, e in zip(translated.cells, english.cells, strict=True)
                   if c.cell_type == "markdown" and c.source != e.source]
        texts = i18n.usable(i18n.english_texts(english), i18n.load(HW1, language))
        assert changed == [c.id for c in english.cells
                           if c.cell_type == "markdown" and texts[c.id] != c.source]
        if i18n.load(HW1, language).status == "complete":
            assert len(changed) == len(texts)
        shipped = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                         if p.is_file() and p.suffix != ".ipynb")
        # The same files as the English release, and the one naming the feedback language.
        assert shipped == sorted([p.relative_to(release.student_dir).as_posix()
                                  for p in release.student_dir.rglob("*")
                                  if p.is_file() and p.suffix != ".ipynb"]
                                 + ["bplab_checks/locale/LANGUAGE"])


def test_a_stale_cell_ships_in_english_and_the_build_says_so(tmp_path):
    hw = make_fake_repo(tmp_path)
    english = i18n.english_texts(notebook.read(hw.notebook))
    keys = list(english)
    hw.i18n_dir.mkdir(parents=True, exist_ok=True)
    entries = {keys[0]: i18n.Entry("000000000000", "ОСТАРЯЛ ПРЕВОД")}
    i18n.path(hw, "bg").write_text(i18n.dumps(i18n.Translations("bg", "in-progress", entries)),
                                   encoding="utf-8")
    release = build(hw, tmp_path / "dist")
    nb = json.loads((i18n.student_dir(release.out_dir, "bg") / "hw1.ipynb").read_text("utf-8"))
    assert "ОСТАРЯЛ" not in json.dumps(nb, ensure_ascii=False)
    assert any(w.startswith("hw1 bg:") and keys[0] in w for w in release.warnings)


def test_a_notebook_left_in_english_is_not_taken_for_a_translation():
    english = notebook.read(HW1.notebook)
    assert not _is_translated(english, HW1)
    bg = i18n.translate(english, i18n.usable(i18n.english_texts(english), i18n.load(HW1, "bg")),
                        "bg")
    assert _is_translated(bg, HW1)
    key = next(c.id for c in english.cells if c.cell_type == "markdown")
    half = i18n.translate(bg, {key: i18n.english_texts(english)[key]}, "bg")  # one cell planted
    assert not _is_translated(half, HW1)


TRANSLATED = [a for a in HW if i18n.complete_languages(a)]


@pytest.mark.slow
@pytest.mark.parametrize("hw", TRANSLATED, ids=[a.name for a in TRANSLATED])
def test_one_autograder_grades_every_language_the_same(hw, tmp_path):
    """The reference filled into each complete translation's notebook gets full marks, the blank
    0, with the same per-question scores as English (bplab grade, the trusted grader)."""
    release = build(hw, tmp_path / "dist")
    languages = ("en", *i18n.complete_languages(hw))
    paths = []
    for language in languages:
        paths += write_submissions(hw, release.out_dir, language, tmp_path / "subs")
        if language != "en":  # the graded notebook really is the translated one
            full = notebook.read(tmp_path / "subs" / f"{stem(FULL, language)}.ipynb")
            assert _is_translated(full, hw), language
    records = {r.stem: r for r in run_grade(hw.name, paths, tmp_path / "out", jobs=2, quiet=True)}
    scores = {s: {q.name: q.score for q in r.questions} for s, r in records.items()}
    assert _disagreements(scores, languages) == []
    full = records[stem(FULL, "en")]
    assert full.status == GRADED, full.reason
    assert full.score == sum(q.max_score for q in full.questions) > 0
    assert records[stem(BLANK, "en")].score == 0


@pytest.mark.slow
@pytest.mark.parametrize("hw, language", COMPLETE_PAIRS,
                         ids=[f"{a.name}-{lang}" for a, lang in COMPLETE_PAIRS])
def test_otter_run_grades_each_complete_language_like_english(otter_results, hw, language):
    """``otter run`` (conftest ``otter_results``, one pool for the session) on the reference and
    the blank made from the translated release: the same per-question scores as the English
    examples, full marks and 0. (English ``otter run`` equals ``bplab grade`` per question:
    test_grade_cli.py; translated ``bplab grade`` equals English: the test above.)"""
    scores = {s: otter_results[(hw.name, s)].scores
              for s in (FULL, BLANK, stem(FULL, language), stem(BLANK, language))}
    assert _disagreements(scores, ("en", language)) == []
    full, blank = otter_results[(hw.name, stem(FULL, language))], scores[stem(BLANK, language)]
    assert full.scores and full.losing() == set(), full.log[-3000:]
    assert set(full.scores) == {p.stem for p in hw.test_files()}
    assert all(score == 0 for score, _ in blank.values()), blank


def _is_translated(nb, hw) -> bool:
    """Every markdown cell of ``nb`` differs from the English one (a complete translation)."""
    english = i18n.english_texts(notebook.read(hw.notebook))
    return all(c.source != english[c.id] for c in nb.cells if c.cell_type == "markdown")


def _disagreements(scores: dict[str, dict], languages) -> list[tuple[str, str]]:
    """(kind, language) whose per-question scores differ from English's; English's own stems
    are either ``full``/``blank`` (the bundled examples) or ``full-en``/``blank-en``."""
    def english(kind):
        return scores[kind] if kind in scores else scores[stem(kind, "en")]
    return [(kind, lang) for kind in KINDS for lang in languages if lang != "en"
            and scores[stem(kind, lang)] != english(kind)]


def test_a_language_that_grades_differently_is_named():
    same = {"q": (1.0, 1.0)}
    scores = {FULL: same, BLANK: {"q": (0.0, 1.0)}, stem(FULL, "ru"): same,
              stem(BLANK, "ru"): {"q": (1.0, 1.0)}}  # planted: the blank ru scores a point
    assert _disagreements(scores, ("en", "ru")) == [(BLANK, "ru")]
    scores[stem(BLANK, "ru")] = scores[BLANK]
    assert _disagreements(scores, ("en", "ru")) == []


def test_a_release_file_is_translated_by_its_own_key(tmp_path):
    """``file:<name>``: a markdown file of the English release is replaced by its translation
    when current; after an English edit it ships in English with a warning. The README is not
    such a file (its template per language: test_readme.py): ``file:README.md`` is unknown."""
    hw = make_fake_repo(tmp_path)
    release = build(hw, tmp_path / "dist")
    notes = release.student_dir / "NOTES.md"  # planted: the build writes no other .md today
    notes.write_text("# Notes\n\nOpen `hw1.ipynb`.\n", encoding="utf-8")
    hw.i18n_dir.mkdir(parents=True, exist_ok=True)
    entries = {"file:NOTES.md": i18n.Entry(i18n.en_hash(notes.read_text("utf-8")),
                                           "# Бележки\n\nОтворете `hw1.ipynb`."),
               "file:README.md": i18n.Entry("000000000000", "# ПРЕВОД ОТ ДРУГО МЯСТО")}
    i18n.path(hw, "bg").write_text(i18n.dumps(i18n.Translations("bg", "in-progress", entries)),
                                   encoding="utf-8")
    warnings_ = i18n.write_language(release, "bg")
    folder = i18n.student_dir(release.out_dir, "bg")
    assert (folder / "NOTES.md").read_text("utf-8") == "# Бележки\n\nОтворете `hw1.ipynb`.\n"
    assert "ПРЕВОД" not in (folder / "README.md").read_text("utf-8")
    assert any("translations of no English text: file:README.md" in w for w in warnings_)
    notes.write_text("# Notes, edited\n", encoding="utf-8")
    warnings_ = i18n.write_language(release, "bg")
    assert (folder / "NOTES.md").read_text("utf-8") == "# Notes, edited\n"
    assert any("file:NOTES.md" in w and "left in English" in w for w in warnings_)


# LaTeX written in non-raw Python strings loses "\t" and "\a" (\top, \theta, \text -> a tab;
# \approx -> BEL): the English cells must hold none (hw1 549838a1 and hw2 5ee00ea6 once did).
def test_english_markdown_has_no_control_characters():
    bad = {(a.name, c.id) for a in HW for c in notebook.read(a.notebook).cells
           if c.cell_type == "markdown" and re.search(r"[\x00-\x08\x0b-\x1f\t]", c.source)}
    assert not bad, sorted(bad)
