"""The diagnosis tag ``(diagnosis: <code>)``: the one format, how to write it, how to find it.

Every diagnosis sentence a check writes ends with ``tag(code)``; the grader lists the codes of a
question's failed cases (``codes_in``), the class report counts them, and text that comes from
student code is ``defang``-ed first so that it cannot forge one. Codes are listed in
``bplab_checks.diagnose.CODES`` (docs/diagnoses.md).
"""

from __future__ import annotations

import re

PREFIX = "(diagnosis:"
FORMAT = PREFIX + " {code})"
# Looser than FORMAT on purpose (spaces, dots, dashes): reading must never miss a tag that was
# written, and defang() breaks PREFIX itself, which every match starts with.
_TAG = re.compile(re.escape(PREFIX) + r"\s*([A-Za-z0-9_.\-]+)\s*\)")


def tag(code: str) -> str:
    """The tag that ends every diagnosis sentence, e.g. ``(diagnosis: transposed)``."""
    return FORMAT.format(code=code)


def codes_in(text: str) -> list[str]:
    """The diagnosis codes tagged in ``text``, in order of first appearance, without repeats."""
    return list(dict.fromkeys(_TAG.findall(text)))


def defang(text: str) -> str:
    """``text`` with every tag broken (``(diagnosis -``), so no code can be read out of it."""
    return text.replace(PREFIX, "(diagnosis -")
