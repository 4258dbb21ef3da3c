"""The student release's README.md, one template per language.

    templates/student_README.md          English, the source
    templates/student_README.<lang>.md   its translation (lang in ``i18n.LANGUAGES``)

Every template is ``str.format`` text with the same placeholders (``values``: the assignment,
the minimum Python, what a submission may import, the zip the folder came in), filled in by the
build for each assignment. The README is the same for every assignment but for these values, so
it is translated once per language here, not once per assignment in ``assignments/hwN/i18n/``.

A translation's first line stamps the English template it translates::

    <!-- bplab-readme language=ru en=1a2b3c4d5e6f -->

(``en`` is ``i18n.en_hash`` of the English template's text; the line is not shipped). Rules,
applied by ``problems`` (the tests fail on any; the build warns and ships the English README in
that language's folder, as ``bplab.i18n`` does with a stale cell):

- *missing*: no template for the language;
- *header*: the first line is not the stamp above, or names another language;
- *stale*: the English template changed since the translation was stamped;
- *fields*: the placeholders differ from the English template's (a translator's ``{hws}`` or a
  dropped ``{python}``), or the text is not valid ``str.format`` text (a lone brace).
"""

from __future__ import annotations

import re
import string
from pathlib import Path

from bplab import packaging
from bplab.i18n import en_hash
from bplab.layout import Assignment

TEMPLATES = Path(__file__).with_name("templates")
SOURCE = TEMPLATES / "student_README.md"

_HEADER = re.compile(r"<!-- bplab-readme language=(?P<lang>[a-z]{2}) en=(?P<hash>[0-9a-f]+) -->")


def template_path(language: str) -> Path:
    return SOURCE.with_name(f"student_README.{language}.md")


def fields(template: str) -> set[str]:
    """The placeholder names of ``template`` (raises ``ValueError`` on invalid format text)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _split(text: str) -> tuple[re.Match[str] | None, str]:
    first, _, body = text.partition("\n")
    return _HEADER.fullmatch(first.strip()), body


def stamp(language: str, body: str) -> str:
    """The file text of a translation ``body`` stamped with today's English template."""
    english = SOURCE.read_text(encoding="utf-8")
    return f"<!-- bplab-readme language={language} en={en_hash(english)} -->\n{body}"


def problems(language: str, template_file: Path | None = None) -> list[str]:
    """What is wrong with ``language``'s template (rules in the module docstring); [] if
    nothing."""
    path = template_file or template_path(language)
    if not path.is_file():
        return [f"missing: no {path.name}"]
    header, body = _split(path.read_text(encoding="utf-8"))
    found = []
    english = SOURCE.read_text(encoding="utf-8")
    if header is None or header["lang"] != language:
        found.append(f"header: the first line of {path.name} must be "
                     f"'<!-- bplab-readme language={language} en=<hash> -->'")
    elif header["hash"] != en_hash(english):
        found.append(f"stale: {path.name} translates an older {SOURCE.name} (update the "
                     f"translation, then its header to en={en_hash(english)})")
    try:
        names = fields(body)
    except ValueError as exc:
        found.append(f"fields: {path.name} is not valid format text ({exc}; write a literal "
                     "brace as {{ or }})")
    else:
        if names != fields(english):
            found.append(f"fields: {path.name} has {{{', '.join(sorted(names))}}}, "
                         f"{SOURCE.name} has {{{', '.join(sorted(fields(english)))}}}")
    return found


def values(assignment: Assignment, zip_name: str) -> dict[str, str]:
    """What the build fills into every template, by placeholder name."""
    major, minor = packaging.MIN_PYTHON
    imports = ", ".join(packaging.requirement_name(r) for r in
                        packaging.requirement_lines(assignment.root, packaging.SUBMISSION))
    return {"hw": assignment.name, "python": f"{major}.{minor}", "imports": imports,
            "zip": zip_name}


def render(assignment: Assignment, language: str, zip_name: str) -> tuple[str, list[str]]:
    """The README of ``assignment`` in ``language`` (``"en"`` for the source) for a folder
    handed out as ``zip_name``, and the problems that made it fall back to English."""
    found = [] if language == "en" else problems(language)
    if language == "en" or found:
        template = SOURCE.read_text(encoding="utf-8")
    else:
        template = _split(template_path(language).read_text(encoding="utf-8"))[1]
    return template.format(**values(assignment, zip_name)), found
