"""Feedback in the student's language (issue 17): the catalogues are complete and their
placeholders are the templates' own, the committed ``.mo`` are what the ``.po`` compile to, a
broken translation is caught by the checker and falls back to English at run time, and every
bug of the bug bank gets, in bg, uk and ru, the same diagnosis codes as in English, in sentences
that are translated (no English template text left in them)."""

from __future__ import annotations

import gettext
import io
import json
import os
import re
import string
from pathlib import Path
from unittest import mock

import nbformat
import pytest
from bplab import messages
from bplab.build import build
from bplab.cli import main
from bplab.grade.cells import notebook_language
from bplab.layout import Assignment
from bplab.variants import Variant, variants
from bplab_checks import i18n
from bplab_checks.tag import codes_in
from checks_env import ROOT, run_question, variant_env
from click.testing import CliRunner
from nbclient import NotebookClient


def bank_bugs() -> list[Variant]:
    """The bank's planted bugs, every homework (bplab.variants)."""
    return variants(correct=False)


@pytest.fixture(scope="module")
def template():
    return messages.extract()


# --- the catalogues ------------------------------------------------------------------------


@pytest.mark.parametrize("lang", i18n.TRANSLATED)
def test_catalogue_translates_every_template_with_its_placeholders(lang, template):
    assert len(template) > 100  # the diagnoses and the common check messages at least
    assert messages.problems(messages.read(lang), template) == []


@pytest.mark.parametrize("lang", i18n.TRANSLATED)
def test_committed_catalogues_are_what_the_code_and_the_po_give(lang, template):
    # The .po holds exactly today's templates; the .mo is the .po compiled (one source).
    assert messages.po_path(lang).read_bytes() == messages.po_bytes(
        messages.updated(lang, template)), "run: bplab i18n messages"
    assert messages.mo_path(lang).read_bytes() == messages.mo_bytes(messages.read(lang)), (
        "run: bplab i18n messages")


def _planted(lang: str, template, change) -> list[str]:
    catalog = messages.read(lang)
    message = next(m for m in catalog if m.id == "{what} from {block}.backward")
    message.string = change(message.string)
    return messages.problems(catalog, template)


@pytest.mark.parametrize(("change", "says"), [
    (lambda s: s.replace("{what}", "what"), "placeholders"),            # missing
    (lambda s: s.replace("{block}", "{blok}"), "placeholders"),         # misspelled
    (lambda s: s + " {extra}", "placeholders"),                         # extra
    (lambda s: "", "untranslated"),                                     # not translated
])
def test_a_broken_translation_is_caught(change, says, template):
    found = _planted("bg", template, change)
    assert len(found) == 1 and found[0].startswith(says), found


def test_a_missing_message_id_is_caught(template):
    catalog = messages.read("ru")
    del catalog["{what} from {block}.backward"]
    assert messages.problems(catalog, template) == ["missing: '{what} from {block}.backward'"]


class _Broken(gettext.NullTranslations):
    """A catalogue whose translations drop or misspell a placeholder (as a bad .mo would)."""

    def gettext(self, message: str) -> str:
        return message.replace("{block}", "{blok}").replace("{what}", "") + " (broken)"


def test_a_broken_translation_falls_back_to_english_at_run_time(monkeypatch):
    monkeypatch.setattr(i18n, "catalogue", lambda lang: _Broken())
    with i18n.use("bg"):
        assert i18n.t("{what} from {block}.backward", what="dA", block="MatMul") == (
            "dA from MatMul.backward")
        # A translation with the right placeholders is used as it is.
        assert i18n.t("plain {x}", x=1) == "plain 1 (broken)"


def test_the_tag_and_the_numbers_stay_outside_the_translations(template):
    for lang in i18n.TRANSLATED:
        for message in messages.read(lang):
            for text in messages._strings(message.string):
                assert "diagnosis" not in text, text
    for message in template:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        assert all("(diagnosis" not in i for i in ids), message.id


def test_language_order_and_bad_values(monkeypatch, tmp_path):
    monkeypatch.delenv(i18n.ENV, raising=False)
    assert i18n.current() == "en"
    monkeypatch.setenv(i18n.ENV, "uk")
    assert i18n.current() == "uk"
    with i18n.use("ru"):
        assert i18n.current() == "ru"  # explicit beats the environment
    monkeypatch.setenv(i18n.ENV, "xx")  # unknown: ignored, never an error in a check
    assert i18n.current() == "en"
    with pytest.raises(ValueError, match="unknown language"):
        with i18n.use("de"):
            pass


def test_plural_forms_follow_each_language():
    with i18n.use("ru"):
        assert [i18n.tn("after {n} step", "after {n} steps", n) for n in (1, 3, 5, 21)] == [
            "после 1 шага", "после 3 шагов", "после 5 шагов", "после 21 шага"]
    with i18n.use("en"):
        assert i18n.tn("after {n} step", "after {n} steps", 2) == "after 2 steps"


# --- the bug bank in every language --------------------------------------------------------


def _fragments(message_id) -> list[str]:
    """The literal text of a template between its placeholders, where it is long enough to be
    English prose (a translation never keeps such a piece)."""
    ids = message_id if isinstance(message_id, tuple) else (message_id,)
    out = []
    for text in ids:
        for literal, _, _, _ in string.Formatter().parse(text):
            piece = literal.strip(" ,.;:()")
            if len(piece) >= 24 and len(re.findall(r"[a-z]{3,}", piece)) >= 3:
                out.append(piece)
    return out


@pytest.fixture(scope="module")
def english_fragments(template) -> list[str]:
    return [f for m in template if m.id for f in _fragments(m.id)]


@pytest.fixture(scope="module")
def untranslated(english_fragments) -> dict[str, list[str]]:
    """Per language, the English fragments that no translation keeps: a formula such as
    "z1 = x W1 + b1, a1 = sigmoid(z1)" is the same in every language and is not left over."""
    out = {}
    for lang in i18n.TRANSLATED:
        kept = " ".join(s for m in messages.read(lang) for s in messages._strings(m.string))
        out[lang] = [f for f in english_fragments if f not in kept]
    return out


def _student_text(message: str) -> str:
    """An Otter failure without its frame: the header and the quoted source line of the test
    file (code, not feedback) are dropped."""
    return "\n".join(line for line in message.splitlines()
                     if line and not line.startswith(("❌", "Error at line", " ")))


def _failures(planted: Variant, lang: str) -> list[str]:
    with i18n.use(lang):
        test_file = run_question(planted.hw, planted.question, variant_env(planted))
    return [r.message for r in test_file.test_case_results if not r.passed]


def _tagged(messages_: list[str]) -> list[str]:
    return [line for m in messages_ for line in m.splitlines() if codes_in(line)]


@pytest.mark.parametrize("planted", [pytest.param(b, id=b.id, marks=getattr(pytest.mark, b.hw))
                                     for b in bank_bugs()])
def test_every_bank_bug_reads_in_each_language_with_the_same_diagnosis(planted, untranslated):
    english = _failures(planted, "en")
    english_codes = [c for m in english for c in codes_in(m)]
    if planted.code is not None:
        assert planted.code in english_codes
    for lang in i18n.TRANSLATED:
        translated = _failures(planted, lang)
        assert [c for m in translated for c in codes_in(m)] == english_codes, lang
        # Every diagnosis sentence is translated, and no template text is left in English.
        for en_line, line in zip(_tagged(english), _tagged(translated), strict=True):
            assert line != en_line, f"{lang}: not translated: {line}"
        text = "\n".join(_student_text(m) for m in translated)
        left = [f for f in untranslated[lang] if f in text]
        assert left == [], f"{lang}: English template text left: {left}"


def test_the_criterion_catches_an_untranslated_sentence(untranslated):
    # A planted English sentence in "translated" feedback is found (the check can fail).
    with i18n.use("en"):
        import numpy as np
        from bplab_checks.diagnose import diagnose
        sentence = diagnose(-np.ones((2, 3)), np.ones((2, 3)), block="MatMul", what="dA")
    assert sentence and [f for f in untranslated["bg"] if f in _student_text(sentence)]


def test_po_files_parse_as_gettext_reads_them():
    # The runtime reads the .mo with the standard library only (no Babel in a student's kernel).
    for lang in i18n.TRANSLATED:
        with messages.mo_path(lang).open("rb") as f:
            catalogue = gettext.GNUTranslations(io.BytesIO(f.read()))
        assert catalogue.gettext("{what} from {block}") != "{what} from {block}"


# --- bplab grade: --lang, the notebook's own language, the record ---------------------------

BUGGY = ROOT / "examples" / "hw1" / "bug_matmul_db_transposed.ipynb"


def _results(out: Path) -> dict:
    return json.loads((out / "results" / f"{BUGGY.stem}.json").read_text(encoding="utf-8"))


def _matmul_output(results: dict) -> str:
    return next(t["output"] for t in results["tests"] if t["name"] == "MatMul")


@pytest.mark.slow
def test_grade_lang_bg_writes_bulgarian_feedback_and_records_the_language(tmp_path):
    out = tmp_path / "bg"
    result = CliRunner().invoke(main, ["grade", "-a", "hw1", "--out", str(out), "-j", "1",
                                       "--lang", "bg", str(BUGGY)])
    assert result.exit_code == 0, result.output
    results = _results(out)
    assert results["extra_data"]["bplab"]["language"] == "bg"
    output = _matmul_output(results)
    assert "има форма (5, 4), транспонираната на очакваната (4, 5)" in output
    assert "(diagnosis: transposed)" in output  # the tag is never translated
    assert results["extra_data"]["bplab"]["diagnoses"]["MatMul"] == ["transposed"]
    feedback = (out / "feedback" / f"{BUGGY.stem}.md").read_text(encoding="utf-8")
    assert "Всеки градиент има формата на своя вход" in feedback


@pytest.mark.slow
def test_grade_takes_the_language_the_notebook_names_and_lang_overrides_it(tmp_path):
    nb = json.loads(BUGGY.read_text(encoding="utf-8"))
    nb.setdefault("metadata", {}).setdefault("bplab", {})["language"] = "uk"
    submission = tmp_path / "subs" / BUGGY.name
    submission.parent.mkdir()
    submission.write_text(json.dumps(nb), encoding="utf-8")
    for args, lang, words in (([], "uk", "транспоновану до очікуваної"),
                              (["--lang", "en"], "en", "the transpose of the expected")):
        out = tmp_path / lang
        result = CliRunner().invoke(main, ["grade", "-a", "hw1", "--out", str(out), "-j", "1",
                                           *args, str(submission)])
        assert result.exit_code == 0, result.output
        assert _results(out)["extra_data"]["bplab"]["language"] == lang
        assert words in _matmul_output(_results(out))


def test_grade_refuses_an_unknown_language_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["grade", "-a", "hw1", "--out", str(out), "--lang", "de",
                                       str(BUGGY)])
    assert result.exit_code == 2
    assert "--lang" in result.output and not out.exists()


@pytest.mark.parametrize(("meta", "lang"), [
    ({"bplab": {"language": "ru"}}, "ru"),
    ({"bplab": {"language": "xx"}}, None),           # unknown: ignored
    ({"bplab": {"language": ["bg"]}}, None),         # not a string
    ({"bplab": "bg"}, None),
    ({}, None),
])
def test_notebook_language_reads_only_a_known_language(meta, lang):
    assert notebook_language(json.dumps({"cells": [], "metadata": meta}).encode()) == lang
    assert notebook_language(b"\xff not json") is None


# --- grader.check in a translated release notebook -----------------------------------------


@pytest.mark.slow
def test_grader_check_in_the_bulgarian_release_speaks_bulgarian(tmp_path):
    """The bg release notebook alone (Colab, a JupyterHub upload): its first cell unpacks the
    embedded checks, whose language file says bg, and grader.check prints Bulgarian feedback."""
    release = build(Assignment.named("hw1"), tmp_path / "dist")
    bg_nb = nbformat.read(tmp_path / "dist" / "student-bg" / "hw1.ipynb", as_version=4)
    assert bg_nb.metadata["bplab"]["language"] == "bg"
    bug = next(b for b in bank_bugs() if b.id == "hw1/MatMul/dB transposed")
    setup = next(c for c in bg_nb.cells if c.cell_type == "code")
    bg_nb.cells = [setup, nbformat.v4.new_code_cell("import numpy as np\n" + bug.source),
                   nbformat.v4.new_code_cell('grader.check("MatMul")')]
    work = tmp_path / "alone"
    work.mkdir()
    nbformat.write(bg_nb, work / "hw1.ipynb")
    client = NotebookClient(bg_nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(work)}})
    env = {k: v for k, v in os.environ.items() if k != i18n.ENV}
    with mock.patch.dict(os.environ, env, clear=True):
        client.execute()
    first = "".join(o.get("text", "") for o in bg_nb.cells[0].outputs)
    assert "unpacked tests/ and bplab_checks/ from the copy embedded" in first
    printed = "".join(str(o.get("data", {}).get("text/plain", "")) + o.get("text", "")
                      for o in bg_nb.cells[2].outputs)
    assert "транспонираната на очакваната" in printed, printed[:2000]
    assert "(diagnosis: transposed)" in printed
    assert release.questions  # the English release is built beside it, unchanged
    assert not (tmp_path / "dist" / "student" / "bplab_checks" / "locale" / "LANGUAGE").exists()
