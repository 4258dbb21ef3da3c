"""Feedback in the student's language: message templates translated through gettext.

Contract:

- ``t(template, **fields)`` is how a check writes a sentence: ``template`` is the English text
  with *named* placeholders (``"{subject} has shape {actual} instead of {expected}"``); it is
  translated into the current language, then formatted with ``fields``. Numbers, shapes, names
  and the ``(diagnosis: <code>)`` tag are fields or are appended after formatting
  (``bplab_checks.diagnose.common._say``), so nothing a translator writes can change them.
- A translation whose placeholders differ from its template's (a typo, a missing or extra
  field) never crashes a check: that one sentence falls back to English. The catalogue tests
  (tests/test_feedback_i18n.py) fail on such a translation long before it ships.
- ``tn(singular, plural, n, **fields)`` is the same with a count (``ngettext``: Bulgarian has
  two forms, Ukrainian and Russian three).
- ``N_(template)`` marks a template kept in a constant (extracted, translated where used).
- The current language: ``use(lang)`` (a context manager; ``bplab grade`` wraps each
  submission), else the environment variable ``BPLAB_LANG``, else the release's
  ``locale/LANGUAGE`` file (``bplab build`` writes it into ``student-<lang>/bplab_checks/``, so
  ``grader.check`` in a translated notebook speaks its language), else English.

Catalogues: ``locale/<lang>/LC_MESSAGES/bplab.po`` (the source of truth, edited by translators)
and the ``bplab.mo`` compiled from it, which this module reads with the standard library's
``gettext``: the package stays numpy-only and ships to students and into the Otter zip as is.
``bplab i18n messages`` (Babel) extracts the templates and compiles the catalogues; a test fails
when a committed ``.mo`` is not what its ``.po`` compiles to.
"""

from __future__ import annotations

import contextlib
import contextvars
import gettext
import os
import string
from collections.abc import Iterator, Mapping
from functools import cache, lru_cache
from pathlib import Path

LANGUAGES: tuple[str, ...] = ("en", "bg", "uk", "ru")  # English first: the source language
TRANSLATED: tuple[str, ...] = LANGUAGES[1:]
DOMAIN = "bplab"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
RELEASE_FILE = LOCALE_DIR / "LANGUAGE"  # one line, e.g. "bg": the release's language
ENV = "BPLAB_LANG"

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("bplab_lang", default=None)


def N_(template: str) -> str:  # noqa: N802 - the gettext convention for "extract, translate later"
    """``template`` unchanged; marks it for extraction (translated where it is used)."""
    return template


def _valid(lang: object) -> str | None:
    return lang if isinstance(lang, str) and lang in LANGUAGES else None


def current() -> str:
    """The language of the feedback now (see the module docstring for the order)."""
    explicit = _current.get()
    if explicit:
        return explicit
    env = _valid(os.environ.get(ENV, "").strip().lower())
    if env:
        return env
    return _release_language()


@lru_cache(maxsize=1)
def _release_language() -> str:
    try:
        return _valid(RELEASE_FILE.read_text(encoding="utf-8").strip()) or "en"
    except OSError:
        return "en"


def check_language(lang: str) -> str:
    """``lang`` if it is one of ``LANGUAGES``, else ValueError naming them."""
    if _valid(lang) is None:
        raise ValueError(f"unknown language {lang!r}: use one of {', '.join(LANGUAGES)}")
    return lang


@contextlib.contextmanager
def use(lang: str) -> Iterator[None]:
    """Feedback written inside the block is in ``lang`` (one of ``LANGUAGES``)."""
    token = _current.set(check_language(lang))
    try:
        yield
    finally:
        _current.reset(token)


@cache
def catalogue(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``lang``; English (and a missing catalogue) is the identity."""
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, str(LOCALE_DIR), languages=[lang], fallback=True)


def fields_of(template: str) -> set[str]:
    """The named placeholders of ``template`` (``{name}``, ``{name:.3g}`` -> ``name``)."""
    names = set()
    for _, name, _, _ in string.Formatter().parse(template):
        if name is not None:
            names.add(name)
    return names


def _format(translated: str, template: str, fields: dict[str, object]) -> str:
    if translated is not template and fields_of(translated) == fields_of(template):
        try:
            return translated.format(**fields)
        except (KeyError, IndexError, ValueError, AttributeError):
            pass  # a broken translation: English below, never a crash in a check
    return template.format(**fields)


def t(template: str, **fields: object) -> str:
    """``template`` in the current language, formatted with ``fields``."""
    lang = current()
    translated = template if lang == "en" else catalogue(lang).gettext(template)
    return _format(translated, template, fields)


def tn(singular: str, plural: str, n: int, **fields: object) -> str:
    """``t`` for a sentence about ``n`` things (``n`` is a field too)."""
    lang = current()
    english = singular if n == 1 else plural
    translated = english if lang == "en" else catalogue(lang).ngettext(singular, plural, n)
    return _format(translated, english, {"n": n, **fields})


def t_map(template: str, mapping: Mapping[str, object]) -> str:
    """``t`` with ``str.format_map``: ``mapping`` may fill missing fields (a defaults dict)."""
    lang = current()
    translated = template if lang == "en" else catalogue(lang).gettext(template)
    if translated is not template and fields_of(translated) == fields_of(template):
        try:
            return translated.format_map(mapping)
        except (KeyError, IndexError, ValueError, AttributeError):
            pass
    return template.format_map(mapping)
