"""The feedback catalogues: extract the message templates, update and compile the catalogues.

The runtime half is ``bplab_checks.i18n`` (standard-library gettext, shipped); this module is
the translators' half and uses Babel (a test dependency, like ruff: nothing at grading time
needs it). One source of truth per language: ``bplab_checks/locale/<lang>/LC_MESSAGES/bplab.po``.
The compiled ``bplab.mo`` beside it is committed, so that the checkout, the student release and
both zips read it without a build step; ``tests/test_feedback_i18n.py`` fails when a ``.mo`` is
not what its ``.po`` compiles to, or when the ``.po`` lacks a template of the code.

``bplab i18n messages`` runs the three steps: extract every template of ``autograder/`` (the
calls ``t``, ``tr``, ``tn``, ``t_map`` and ``N_`` with a literal first argument), merge them into
each ``.po`` (new templates get an empty translation, removed ones are dropped), and compile.
"""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import click
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from bplab_checks import i18n

# The marker functions of bplab_checks.i18n, and which arguments are the msgids (Babel's spec).
KEYWORDS: dict[str, tuple[int, ...] | None] = {
    "t": None, "tr": None, "t_map": None, "N_": None, "tn": (1, 2),
    "_say": (2,),  # bplab_checks.diagnose.common._say(subject, template, code, **fields)
}
PROJECT = "backprop-lab"


def sources_root() -> Path:
    """``autograder/``: the check library, the test files and the grader."""
    return i18n.LOCALE_DIR.parents[1]


def po_path(lang: str) -> Path:
    return i18n.LOCALE_DIR / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"


def mo_path(lang: str) -> Path:
    return po_path(lang).with_suffix(".mo")


# Fixed dates in the headers: a catalogue changes only when its messages do.
FIXED_DATE = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
# Only modules that import the markers are read.
MARKERS = ("from bplab_checks.i18n import", "_say,")


def template_files(root: Path | None = None) -> list[Path]:
    """The Python files under ``root`` (default ``autograder/``) that use the markers (a
    local ``t`` elsewhere, e.g. a loop variable, is not a template)."""
    root = root or sources_root()
    return [p for p in sorted(root.rglob("*.py"))
            if "__pycache__" not in p.parts
            and any(m in p.read_text(encoding="utf-8") for m in MARKERS)]


def extract(root: Path | None = None) -> Catalog:
    """Every template in ``template_files(root)``, with where it is used."""
    root = root or sources_root()
    template = Catalog(project=PROJECT, fuzzy=False, creation_date=FIXED_DATE)
    for path in template_files(root):
        for lineno, message, comments, context in extract_from_file(
            "python", str(path), keywords=KEYWORDS, comment_tags=("Translators:",),
            strip_comment_tags=True,
        ):
            where = (path.relative_to(root).as_posix(), lineno)
            template.add(message, None, [where], auto_comments=comments, context=context)
    return template


def read(lang: str) -> Catalog:
    """The ``.po`` of ``lang`` (an empty catalogue when there is none yet)."""
    path = po_path(lang)
    if not path.exists():
        return Catalog(locale=lang, project=PROJECT, fuzzy=False)
    with path.open("rb") as f:
        return read_po(f, locale=lang)


def po_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    # Locations name the file but not the line: an edit that only moves a message must not
    # make every catalogue stale (nor conflict on every merge).
    write_po(buffer, catalog, width=100, omit_header=False, ignore_obsolete=True,
             include_previous=False, sort_output=False, include_lineno=False)
    return buffer.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def updated(lang: str, template: Catalog) -> Catalog:
    """``lang``'s catalogue with exactly ``template``'s messages, keeping its translations."""
    catalog = read(lang)
    catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
    catalog.obsolete.clear()
    catalog.creation_date = catalog.revision_date = FIXED_DATE
    return catalog


def problems(catalog: Catalog, template: Catalog) -> list[str]:
    """What is wrong with ``catalog`` against the code's ``template``: a template without a
    translation, a translation whose placeholders differ from its template's (missing, extra or
    misspelled), a translation of no template. Empty when the catalogue is complete."""
    found = []
    wanted = {m.id for m in template if m.id}
    for message in catalog:
        if not message.id:
            continue
        if message.id not in wanted:
            found.append(f"translation of no template: {message.id!r}")
            continue
        strings = _strings(message.string)
        english = str(message.id[-1] if isinstance(message.id, tuple | list) else message.id)
        if not strings or not all(strings):
            found.append(f"untranslated: {message.id!r}")
            continue
        if isinstance(message.id, tuple) and len(strings) != catalog.num_plurals:
            found.append(f"{len(strings)} plural forms instead of {catalog.num_plurals}: "
                         f"{message.id!r}")
        for string in strings:
            if i18n.fields_of(string) != i18n.fields_of(english):
                found.append(f"placeholders {sorted(i18n.fields_of(string))} instead of "
                             f"{sorted(i18n.fields_of(english))}: {string!r}")
    have = {m.id for m in catalog if m.id}
    found += [f"missing: {msgid!r}" for msgid in wanted - have]
    return found


def run(check: bool) -> None:
    """``bplab i18n messages``: extract, merge into the bg/uk/ru catalogues, compile."""
    template = extract()
    stale = []
    for lang in i18n.TRANSLATED:
        catalog = updated(lang, template)
        po, mo = po_bytes(catalog), mo_bytes(catalog)
        missing = [m.id for m in catalog if m.id and not any(_strings(m.string))]
        for path, data in ((po_path(lang), po), (mo_path(lang), mo)):
            current = path.read_bytes() if path.exists() else b""
            if current != data:
                stale.append(str(path))
                if not check:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
        click.echo(f"{lang}: {len(template)} templates, {len(missing)} untranslated")
    if check and stale:
        click.echo("not up to date: " + ", ".join(stale), err=True)
        raise SystemExit(1)


def _strings(string: str | tuple[str, ...] | list[str] | None) -> list[str]:
    """A message's translation(s): one string, or one per plural form."""
    return [string] if isinstance(string, str) else list(string or ())
