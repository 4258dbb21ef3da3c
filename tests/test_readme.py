"""The student README in four languages (issue 17): one template per language
(``bplab.readme``), each written into its release folder, in its language, with every
placeholder filled; a translation whose placeholders, header or English source differ is caught
(each check shown failing on a planted template) and never shipped."""

from __future__ import annotations

import re
import zipfile

import pytest
from bplab import i18n, readme
from bplab.build import build
from bplab.layout import Assignment
from i18n_release import release_folder

# A heading each translation must contain (and the English one must not): the README really is
# in that language, not the English fallback.
HEADINGS = {"en": "## Set up (once)", "bg": "## Инсталиране (веднъж)",
            "uk": "## Встановлення (один раз)", "ru": "## Установка (один раз)"}
HW1 = Assignment.named("hw1")


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return build(HW1, tmp_path_factory.mktemp("readme") / "dist")


def test_the_headings_cover_every_language():
    assert set(HEADINGS) == {"en", *i18n.LANGUAGES}


@pytest.mark.parametrize("language", ["en", *i18n.LANGUAGES])
def test_each_folder_gets_its_readme_in_its_language_filled_in(release, language):
    folder = release_folder(release.out_dir, language)
    text = (folder / "README.md").read_text(encoding="utf-8")
    assert HEADINGS[language] in text
    assert [h for lang, h in HEADINGS.items() if lang != language and h in text] == []
    assert not re.search(r"[{}]", text), "an unfilled placeholder"  # the templates have no braces
    assert "bplab-readme" not in text  # the stamp stays in the template
    assert text.startswith("# hw1") and "Python 3.10" in text and "numpy, matplotlib" in text
    assert f"`{folder.name}.zip`" in text  # the zip this folder came in, not always student.zip
    with zipfile.ZipFile(release.out_dir / f"{folder.name}.zip") as zf:
        assert zf.read("hw1/README.md").decode("utf-8") == text
    assert not [w for w in release.warnings if "README" in w]


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_each_template_is_current_with_the_english_placeholders(language):
    assert readme.problems(language) == []
    body = readme.template_path(language).read_text(encoding="utf-8").partition("\n")[2]
    assert readme.fields(body) == readme.fields(readme.SOURCE.read_text(encoding="utf-8"))


def test_the_english_template_uses_exactly_what_the_build_fills_in():
    english = readme.SOURCE.read_text(encoding="utf-8")
    assert readme.fields(english) == set(readme.values(HW1, "student.zip"))


def _planted(tmp_path, language="ru", edit=lambda text: text):
    path = tmp_path / f"student_README.{language}.md"
    path.write_text(edit(readme.template_path(language).read_text(encoding="utf-8")),
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("edit, kind", [
    (lambda t: t.replace("{python}", "{pyton}"), "fields"),    # a typo
    (lambda t: t.replace("{imports}", "numpy"), "fields"),     # a dropped placeholder
    (lambda t: t.replace("{zip}", "{zip} {extra}"), "fields"),  # one the build does not fill
    (lambda t: t + "A lone brace: {\n", "fields"),
    (lambda t: re.sub(r"en=[0-9a-f]+", "en=000000000000", t, count=1), "stale"),
    (lambda t: t.replace("language=ru", "language=uk", 1), "header"),
    (lambda t: t.partition("\n")[2], "header"),                # no stamp at all
])
def test_a_broken_translation_is_caught_with_its_reason(tmp_path, edit, kind):
    found = readme.problems("ru", _planted(tmp_path, edit=edit))
    assert [p.split(":")[0] for p in found] == [kind], found


def test_a_missing_template_is_caught(tmp_path):
    assert readme.problems("ru", tmp_path / "nowhere.md")[0].startswith("missing:")


def test_an_english_edit_makes_every_translation_stale(tmp_path, monkeypatch):
    source = tmp_path / "student_README.md"
    source.write_text(readme.SOURCE.read_text(encoding="utf-8") + "\nOne more line.\n",
                      encoding="utf-8")
    monkeypatch.setattr(readme, "SOURCE", source)
    for language in i18n.LANGUAGES:
        found = readme.problems(language, readme.TEMPLATES / f"student_README.{language}.md")
        assert [p.split(":")[0] for p in found] == ["stale"]


def test_a_broken_template_ships_the_english_readme_and_the_build_says_so(tmp_path, monkeypatch):
    planted = _planted(tmp_path, edit=lambda t: t.replace("{python}", "{pyton}"))
    real = readme.template_path
    monkeypatch.setattr(readme, "template_path",
                        lambda language: planted if language == "ru" else real(language))
    release = build(HW1, tmp_path / "dist")
    text = (i18n.student_dir(release.out_dir, "ru") / "README.md").read_text(encoding="utf-8")
    assert text == readme.render(HW1, "en", "student-ru.zip")[0]  # English, with its own zip
    assert HEADINGS["en"] in text
    assert [w for w in release.warnings if "README" in w] == [
        f"hw1 ru: README.md left in English: {readme.problems('ru', planted)[0]}"]
    bg = (i18n.student_dir(release.out_dir, "bg") / "README.md").read_text(encoding="utf-8")
    assert HEADINGS["bg"] in bg  # the other languages are untouched


def test_stamp_writes_the_header_that_problems_accepts(tmp_path):
    body = readme.template_path("uk").read_text(encoding="utf-8").partition("\n")[2]
    path = tmp_path / "student_README.uk.md"
    path.write_text(readme.stamp("uk", body), encoding="utf-8")
    assert readme.problems("uk", path) == []
