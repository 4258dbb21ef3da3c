"""`bplab report --lang`: the labels are translated, the data is the same in every language.

The grading directory is test_report's fixture (five graded, one invalid, one timed out, one
hostile name). Completeness of the catalogues (every msgid translated, placeholders kept) is
tests/test_feedback_i18n.py's job; these tests check what the page does with them.
"""

from __future__ import annotations

import gettext
import html
import re

import pytest
from bplab.cli import main
from bplab.layout import GradingDir
from bplab.report import write_report
from bplab_checks import i18n
from click.testing import CliRunner
from test_report import CLASS, write_grading_dir

# Labels that sit inside data cells (next to a stem or in place of an empty reason).
_CELL_LABELS = ("feedback", "late", "flagged")


def _label(lang: str, text: str) -> str:
    with i18n.use(lang):
        return i18n.t(text)


def _skeleton(page: str) -> list[str]:
    """Every tag with its attributes, in order, without text and without the two attributes
    that carry labels (an image's alt text, and its PNG, whose axis labels are translated), and
    with the page's own ``lang``."""
    tags = re.findall(r"<[^>]+>", page)
    tags = [re.sub(r' (alt|src)="[^"]*"', "", tag) for tag in tags]
    return [re.sub(r'^<html lang="[a-z]+">$', "<html>", tag) for tag in tags]


def _cells(page: str) -> list[str]:
    return re.findall(r"<td[^>]*>(.*?)</td>", page, flags=re.S)


def data_differences(english: str, other: str, lang: str) -> list[str]:
    """What differs between two renderings of one class other than the labels: the tags and
    attributes (ids, hrefs, data-v, data-code, classes) and every table cell's content, in
    which only the in-cell labels may be translated."""
    problems = []
    if _skeleton(english) != _skeleton(other):
        problems.append("tags or attributes differ")
    en_cells, other_cells = _cells(english), _cells(other)
    if len(en_cells) != len(other_cells):
        return [*problems, f"{len(en_cells)} cells in English, {len(other_cells)} in {lang}"]
    no_reason = "no reason given"
    for en, cell in zip(en_cells, other_cells, strict=True):
        expected = en.replace(f">{no_reason}<", f">{_label(lang, no_reason)}<")
        for label in _CELL_LABELS:
            expected = expected.replace(f">{label}</", f">{_label(lang, label)}</")
        if cell != expected:
            problems.append(f"cell {en!r} became {cell!r}")
    return problems


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, str]:
    """The same grading directory's report in every language (the directory is rewritten
    from scratch for each, so nothing carries over)."""
    out = {}
    for lang in i18n.LANGUAGES:
        root = write_grading_dir(tmp_path_factory.mktemp(lang) / "grades")
        out[lang] = write_report(root, lang=lang).read_text(encoding="utf-8")
    return out  # every directory is named "grades", so the titles differ only in language


@pytest.mark.parametrize("lang", i18n.TRANSLATED)
def test_labels_translated_data_identical(pages, lang):
    english, page = pages["en"], pages[lang]
    assert f'<html lang="{lang}">' in page and '<html lang="en">' in english
    for label in ("Did not grade normally", "Scores", "Questions", "What the class got wrong",
                  "Students", "submission", "status", "diagnosis", "full marks"):
        translated = _label(lang, label)
        assert translated != label and translated in page, label
    for heading in ("Did not grade normally", "What the class got wrong", "Click a column"):
        assert heading not in page
    assert data_differences(english, page, lang) == []


def test_bulgarian_numbers_and_codes_equal_english(pages):
    """The per-question rows, the students' data-v values and the diagnosis codes, spelled
    out, so that a change in them shows here even if the skeleton check changed."""
    def question_rows(page: str) -> list[tuple[str, ...]]:
        section = page[page.index('<h2 id="questions">'):page.index('<h2 id="diagnoses">')]
        return re.findall(r'<tr><td>(\w+)</td><td class="num">([^<]*)</td><td class="num">'
                          r'([^<]*)</td><td class="num">([^<]*)</td><td class="num">([^<]*)</td>',
                          section)

    en, bg = pages["en"], pages["bg"]
    assert question_rows(bg) == question_rows(en) == [
        ("MatMul", "4", "2.4", "60%", "40%"), ("Sum", "2", "1", "40%", "40%"),
        ("ReLU", "2", "1", "20%", "20%")]
    assert re.findall(r'data-v="([^"]*)"', bg) == re.findall(r'data-v="([^"]*)"', en)
    codes = re.findall(r'data-code="([^"]*)"', en)
    assert codes and re.findall(r'data-code="([^"]*)"', bg) == codes
    for status in ("timed_out", "invalid_notebook", "graded"):
        assert bg.count(f">{status}<") == en.count(f">{status}<") > 0
    assert html.escape(next(s for s in CLASS if "<" in s)) in bg  # the hostile stem, escaped


def test_charts_are_translated(pages):
    en_images = re.findall(r'src="data:image/png;base64,([^"]+)"', pages["en"])
    bg_images = re.findall(r'src="data:image/png;base64,([^"]+)"', pages["bg"])
    assert len(en_images) == len(bg_images) == 2
    assert all(a != b for a, b in zip(en_images, bg_images, strict=True))


class _DataTranslating(gettext.NullTranslations):
    """A catalogue that also "translates" a status: only code that sends data through the
    catalogue would show it."""

    def gettext(self, message: str) -> str:
        return {"timed_out": "изтекло време", "Scores": "Точки"}.get(message, message)


def test_planted_bug_translating_data_is_caught(tmp_path, monkeypatch):
    """The check above fails when the page sends a status through the translation."""
    import bplab.report.render as render

    root = write_grading_dir(tmp_path / "grades")
    english = write_report(root).read_text(encoding="utf-8")
    monkeypatch.setattr(i18n, "catalogue", lambda lang: _DataTranslating())
    monkeypatch.setattr(render, "escape", lambda s, quote=True: html.escape(i18n.t(s)
                                                                           if "{" not in s
                                                                           else s, quote))
    planted = write_report(root, lang="bg").read_text(encoding="utf-8")
    assert "изтекло време" in planted
    problems = data_differences(english, planted, "bg")
    assert any("timed_out" in p for p in problems), problems


@pytest.mark.parametrize("extra", [[], ["--roster", "ROSTER"]])
def test_cli_lang_bad_value_exits_2_and_writes_nothing(tmp_path, extra):
    root = write_grading_dir(tmp_path / "grades")
    args = [a.replace("ROSTER", str(GradingDir(root).grades_csv)) for a in extra]
    if args:
        args += ["--roster-id", "submission"]
    result = CliRunner().invoke(main, ["report", str(root), "--lang", "xx", *args])
    assert result.exit_code == 2, result.output
    assert "xx" in result.output and "bg" in result.output
    assert not GradingDir(root).report_html.exists()
    assert not GradingDir(root).roster_csv.exists()


def test_write_report_rejects_unknown_language_before_writing(tmp_path):
    root = write_grading_dir(tmp_path / "grades")
    with pytest.raises(ValueError, match="unknown language"):
        write_report(root, lang="de")
    assert not GradingDir(root).report_html.exists()


def test_cli_lang_bg_writes_translated_page_and_same_roster_csv(tmp_path):
    """The CSV beside the page does not depend on the language."""
    csvs = {}
    for lang in ("en", "bg"):
        root = write_grading_dir(tmp_path / lang)
        grades = GradingDir(root).grades_csv
        result = CliRunner().invoke(main, ["report", str(root), "--lang", lang,
                                           "--roster", str(grades), "--roster-id", "submission"])
        assert result.exit_code in (0, 1), result.output
        assert str(GradingDir(root).report_html) in result.output
        page = GradingDir(root).report_html.read_text(encoding="utf-8")
        assert f'<html lang="{lang}">' in page
        assert _label(lang, "Roster") in page
        csvs[lang] = GradingDir(root).roster_csv.read_bytes()
    assert csvs["en"] == csvs["bg"]
