"""The course in four languages: translated student notebooks from one English source.

One source, four notebooks. ``assignments/hwN/hwN.ipynb`` is the English source. Its code cells
(stubs, ``grader.check`` cells, provided code) are language-neutral and are never translated, so
the graded cells of every language are byte-identical and one ``autograder.zip`` (and one secure
zip) grades all four. Its markdown cells are translated, per language, in

    assignments/hwN/i18n/<lang>.md      (lang in LANGUAGES)

one block per translated cell, keyed by the cell's nbformat id and stamped with a hash of the
English text it translates::

    <!-- bplab-i18n language=bg status=in-progress -->
    <!-- cell 3ea96432 en=1a2b3c4d5e6f -->
    # Домашно 1 ...

A markdown file (not a notebook cell) of the student release is translated the same way under
the key ``file:<name>``; its hash is of the English file's text. The README is the exception:
it is the same text for every assignment, so it has one template per language instead
(``bplab.readme``), and a ``file:README.md`` key is unknown.

Why a markdown file and not JSON or PO: the translated unit is a whole markdown cell (headings,
lists, LaTeX), which a translator edits best as plain markdown, with no escaping of backslashes
and quotes and with line-wise diffs in review. The English text is not copied into the file (the
notebook holds it); the hash is enough to tell that it changed. Short message templates (report
labels, and later feedback) belong in gettext catalogues instead, where Babel's tools apply.

Rules (``check``; the tests and ``bplab i18n status`` apply them):

- *stale*: the English cell changed since it was translated (hash differs). Always an error.
- *math*: the translation's math spans (``$...$``, ``$$...$$``, outside code) differ, as a
  multiset, from the English cell's; order may change with word order. Always an error.
- *unknown*: a key that names no English markdown cell (a deleted cell). Always an error.
- *missing*: an English markdown cell without translation. An error when the file says
  ``status=complete``; a warning while ``status=in-progress``: an untranslated cell shows the
  correct English text, which is incomplete but not wrong, and failing CI for it would keep every
  half-done translation out of the tree (or push translators to commit placeholders).

At build time a missing or stale cell falls back to the English text (a stale translation may
describe a signature that no longer exists), and the build warns.
"""

from __future__ import annotations

import copy
import hashlib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import click
from bplab_checks import i18n as checks_i18n
from nbformat import NotebookNode

from bplab import notebook, packaging
from bplab.layout import Assignment


class Release(Protocol):
    """What this module reads of ``bplab.build.Release`` (named structurally: build imports
    this module, so importing build here would make a cycle)."""

    assignment: Assignment
    out_dir: Path
    warnings: list[str]

    @property
    def student_dir(self) -> Path: ...

    @property
    def notebook(self) -> Path: ...

    def readme(self, language: str) -> str: ...

LANGUAGES: tuple[str, ...] = ("bg", "uk", "ru")  # the release's translated languages
SOURCE_LANGUAGE = "en"
STATUSES = ("complete", "in-progress")
FILE_PREFIX = "file:"
README = "README.md"  # written from its own template per language (bplab.readme)
HASH_CHARS = 12  # of sha256: enough to tell two versions of one cell apart

_HEADER = re.compile(r"<!-- bplab-i18n language=(?P<lang>[a-z]{2}) status=(?P<status>[a-z-]+) -->")
_MARKER = re.compile(r"^<!-- cell (?P<key>\S+) en=(?P<hash>[0-9a-f]+) -->$", re.MULTILINE)
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_MATH = re.compile(r"\$\$.+?\$\$|\$[^$]+?\$", re.DOTALL)


class TranslationError(ValueError):
    """A translation file that cannot be read (bad header, text before the first marker, a key
    translated twice). A marker line typed inside a translation starts a new entry, which the
    checks then report as unknown or duplicate."""


@dataclass(frozen=True)
class Entry:
    """One translated text and the stamp (``en_hash``) of the English text it translates."""

    en_hash: str
    text: str


@dataclass
class Translations:
    language: str
    status: str
    entries: dict[str, Entry] = field(default_factory=dict)


@dataclass
class Problems:
    """What ``check`` found in one language, each a list of keys in notebook order."""

    language: str
    status: str
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    math: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    @property
    def errors(self) -> dict[str, list[str]]:
        found = {"stale": self.stale, "math": self.math, "unknown": self.unknown}
        if self.status == "complete":
            found["missing"] = self.missing
        return {kind: keys for kind, keys in found.items() if keys}

    def lines(self) -> list[str]:
        kinds = {"missing": self.missing, "stale": self.stale, "math": self.math,
                 "unknown": self.unknown}
        return [f"{self.language}: {kind}: {', '.join(keys)}"
                for kind, keys in kinds.items() if keys]


def en_hash(text: str) -> str:
    """The stamp of an English text (a cell's source or a file's content)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_CHARS]


def math_spans(markdown: str) -> list[str]:
    """The sorted ``$...$`` and ``$$...$$`` spans of ``markdown`` (code blocks and spans
    excluded)."""
    prose = _INLINE_CODE.sub("", _FENCE.sub("", markdown))
    return sorted(_MATH.findall(prose))


def complete_languages(assignment: Assignment) -> tuple[str, ...]:
    """The languages whose translation of ``assignment`` says ``status=complete`` (then no cell
    may be missing: ``check``), in ``LANGUAGES`` order: the ones whose release must grade like
    English."""
    return tuple(lang for lang in LANGUAGES if load(assignment, lang).status == "complete")


def path(assignment: Assignment, language: str) -> Path:
    return assignment.i18n_dir / f"{language}.md"


def parse(text: str, where: str = "translation") -> Translations:
    """Read a translation file's text (format in the module docstring)."""
    first, _, body = text.partition("\n")
    header = _HEADER.fullmatch(first.strip())
    if header is None or header["status"] not in STATUSES:
        raise TranslationError(f"{where}: the first line must be '<!-- bplab-i18n language=xx "
                               f"status={'|'.join(STATUSES)} -->'")
    out = Translations(header["lang"], header["status"])
    markers = list(_MARKER.finditer(body))
    if body[: markers[0].start() if markers else len(body)].strip():
        raise TranslationError(f"{where}: text before the first cell marker")
    for marker, following in zip(markers, [*markers[1:], None][:len(markers)], strict=True):
        end = following.start() if following else len(body)
        key = marker["key"]
        if key in out.entries:
            raise TranslationError(f"{where}: {key} is translated twice")
        out.entries[key] = Entry(marker["hash"], body[marker.end():end].strip("\n"))
    return out


def dumps(translations: Translations) -> str:
    """The file text of ``translations`` (``parse`` reads it back unchanged)."""
    lines = [f"<!-- bplab-i18n language={translations.language} status={translations.status} -->"]
    for key, entry in translations.entries.items():
        lines += [f"<!-- cell {key} en={entry.en_hash} -->", entry.text, ""]
    return "\n".join(lines)


def load(assignment: Assignment, language: str) -> Translations:
    """The translations of ``assignment`` into ``language`` (none yet: empty, in progress)."""
    p = path(assignment, language)
    if not p.is_file():
        return Translations(language, "in-progress")
    found = parse(p.read_text(encoding="utf-8"), str(p))
    if found.language != language:
        raise TranslationError(f"{p}: says language={found.language}, expected {language}")
    return found


def english_texts(nb: NotebookNode, files: dict[str, str] | None = None) -> dict[str, str]:
    """Every translatable English text by key: markdown cells by id (notebook order), then
    ``file:<name>`` for each of ``files`` (name -> English text)."""
    texts = {c.id: c.source for c in nb.cells if c.cell_type == "markdown"}
    texts |= {FILE_PREFIX + name: text for name, text in (files or {}).items()}
    return texts


def check(english: dict[str, str], translations: Translations) -> Problems:
    """Compare one language's translations with the English texts (rules: module docstring)."""
    problems = Problems(translations.language, translations.status)
    for key, text in english.items():
        entry = translations.entries.get(key)
        if entry is None:
            problems.missing.append(key)
            continue
        if entry.en_hash != en_hash(text):
            problems.stale.append(key)
        if math_spans(entry.text) != math_spans(text):
            problems.math.append(key)
    problems.unknown = [k for k in translations.entries if k not in english]
    return problems


def usable(english: dict[str, str], translations: Translations) -> dict[str, str]:
    """The translated text of every key whose translation is present, current and math-equal;
    every other key keeps its English text."""
    bad = check(english, translations)
    rejected = set(bad.stale) | set(bad.math)
    return {key: (translations.entries[key].text if key in translations.entries
                  and key not in rejected else text) for key, text in english.items()}


def translate(nb: NotebookNode, texts: dict[str, str], language: str) -> NotebookNode:
    """A copy of ``nb`` whose markdown cells hold ``texts`` (by id) and whose metadata names the
    language; code cells are untouched."""
    out = copy.deepcopy(nb)
    for cell in out.cells:
        if cell.cell_type == "markdown" and cell.id in texts:
            cell.source = texts[cell.id]
    out.metadata.setdefault(notebook.KEY, {})["language"] = language  # beside the build's keys
    return out


def student_dir(release_out: Path, language: str) -> Path:
    """``dist/hwN/student-<lang>/`` (English stays ``student/``)."""
    return release_out / f"student-{language}"


def write_language(release: Release, language: str) -> list[str]:
    """Write ``student-<language>/`` and ``student-<language>.zip``: the English release with
    its notebook and translated files replaced. Returns the build warnings (texts that fell back
    to English)."""
    a: Assignment = release.assignment
    english_dir, out = release.student_dir, student_dir(release.out_dir, language)
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(english_dir.glob("*.md"))
             if p.name != README}  # the README has a template per language
    nb = notebook.read(release.notebook)
    english = english_texts(nb, files)
    translations = load(a, language)
    problems = check(english, translations)
    texts = usable(english, translations)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(english_dir, out)
    # The checks of this release speak its language (bplab_checks.i18n reads this file), here
    # and in the copy embedded in the notebook, which the first cell unpacks on Colab.
    language_file = out / "bplab_checks" / "locale" / checks_i18n.RELEASE_FILE.name
    language_file.write_text(language + "\n", encoding="utf-8")
    translated = translate(nb, texts, language)
    translated.metadata[notebook.KEY][notebook.EMBED_KEY] = notebook.embedded_checks(out, a.name)
    (out / release.notebook.name).write_text(notebook.dumps(translated), encoding="utf-8")
    (out / README).write_text(release.readme(language), encoding="utf-8")
    for name, english_text in files.items():
        text = texts[FILE_PREFIX + name]  # entries are stored stripped: end like the English
        end = "\n" if english_text.endswith("\n") and not text.endswith("\n") else ""
        (out / name).write_text(text + end, encoding="utf-8")
    packaging.write_zip(release.out_dir / f"{out.name}.zip",
                        packaging.tree_entries(out, a.name))  # as student.zip: under hwN/
    warnings = []
    left = set(problems.missing + problems.stale + problems.math)
    fallback = [key for key in english if key in left]  # notebook order
    if not translations.entries:
        warnings.append(f"{a.name} {language}: no translation yet ({path(a, language)}): "
                        "the release is in English")
    elif fallback:
        warnings.append(f"{a.name} {language}: {len(fallback)} text(s) left in English: "
                        f"{', '.join(fallback)} (see bplab i18n status {a.name})")
    if problems.unknown:
        warnings.append(f"{a.name} {language}: translations of no English text: "
                        f"{', '.join(problems.unknown)}")
    return warnings


def write_translated_releases(release: Release) -> None:
    """Called by ``bplab.build.build`` last: one student folder (and zip) per language."""
    for language in LANGUAGES:
        release.warnings.extend(write_language(release, language))


def assignment_problems(assignment: Assignment) -> list[Problems]:
    """``check`` of every language's notebook cells against the committed notebook. Files of
    the release (``file:`` keys) are generated by the build, so they are checked there
    (``write_language``), not here."""
    english = english_texts(notebook.read(assignment.notebook))
    found = []
    for language in LANGUAGES:
        problems = check(english, load(assignment, language))
        problems.unknown = [k for k in problems.unknown if not k.startswith(FILE_PREFIX)]
        found.append(problems)
    return found


@click.group("i18n")
def i18n_command() -> None:
    """Translations of the student notebooks (bg, uk, ru)."""


@i18n_command.command("status")
@click.argument("assignment")
def status_command(assignment: str) -> None:
    """List missing, stale, math-mismatched and unknown cells of ASSIGNMENT per language.

    Exit 1 when any language has an error (rules in ``bplab.i18n``), 0 otherwise."""
    try:
        hw = Assignment.named(assignment)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    failed = False
    total = len(english_texts(notebook.read(hw.notebook)))
    for problems in assignment_problems(hw):
        lines = problems.lines()
        done = total - len(problems.missing)
        click.echo(f"{problems.language} ({problems.status}): {done}/{total} cells translated"
                   + ("" if lines else ", all current"))
        for line in lines:
            click.echo(f"  {line}")
        failed |= bool(problems.errors)
    raise SystemExit(1 if failed else 0)


@i18n_command.command("stamp")
@click.argument("assignment")
@click.argument("language", type=click.Choice(LANGUAGES))
@click.argument("keys", nargs=-1, required=True)
def stamp_command(assignment: str, language: str, keys: tuple[str, ...]) -> None:
    """Record that the translations KEYS (cell ids) of LANGUAGE match today's English text.

    Run it after updating a stale translation; it refuses keys that name no English cell or that
    have no translation, and writes nothing then."""
    hw = Assignment.named(assignment)
    english = english_texts(notebook.read(hw.notebook))
    translations = load(hw, language)
    bad = [k for k in keys if k not in english or k not in translations.entries]
    if bad:
        raise click.UsageError(f"no English cell or no {language} translation for: "
                               f"{', '.join(bad)}")
    for key in keys:
        translations.entries[key] = Entry(en_hash(english[key]), translations.entries[key].text)
    order = [k for k in english if k in translations.entries]  # the file in notebook order
    order += [k for k in translations.entries if k not in english]
    translations.entries = {k: translations.entries[k] for k in order}
    path(hw, language).write_text(dumps(translations), encoding="utf-8")
    click.echo(f"{path(hw, language)}: stamped {len(keys)} cell(s)")


@i18n_command.command("messages")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 when a catalogue is not up to date with the code.")
def messages_command(check: bool) -> None:
    """Extract the feedback templates (bplab_checks.i18n), merge them into the bg/uk/ru
    catalogues and compile them (bplab.messages)."""
    from bplab import messages  # Babel: the translators' tool, never needed to grade

    messages.run(check)
