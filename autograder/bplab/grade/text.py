"""Text from the sandbox, made safe to store: the one cleaning every string from a worker gets.

Contract of ``clean(text)``: the result is valid, printable UTF-8 text. Lone surrogates become
U+FFFD; terminal escape sequences (ANSI CSI, OSC, DCS/APC/PM/SOS strings, their 8-bit forms)
are removed whole; every other C0/C1 control except newline and tab is removed, and so are the
bidirectional overrides (they make a line read differently from what it holds). Last, no
student text can carry a diagnosis tag: ``neutralize`` breaks every tag with
``bplab_checks.tag.defang`` (the one home of the tag's format), after the removals above, so
no tag can be assembled from pieces that a removal joins.

``cap(text, limit)`` bounds one item; ``TextBudget`` bounds everything a submission's worker
may add to its record (see ``session``): the sizes the student controls stay the student's.
"""

from __future__ import annotations

import re

from bplab_checks.tag import defang

ITEM_LIMIT = 4000  # characters of one message (a cell error, an exception, a warning)
LABEL_LIMIT = 120  # characters of a name (an exception type, a handle's label)
RECORD_LIMIT = 60_000  # characters of student text one submission may add to its record
CUT = " ...[truncated]"
SPENT = "[more text from your code was cut: this submission already sent too much]"

_ESCAPES = re.compile(
    r"\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC ... BEL or ST
    r"|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"  # DCS, SOS, PM, APC strings
    r"|\x1b\[[0-?]*[ -/]*[@-~]?"  # CSI
    r"|\x1b[ -/]*[0-~]?"  # other escapes (and a lone ESC)
    r"|\x9b[0-?]*[ -/]*[@-~]?"  # 8-bit CSI
    r"|[\x9d\x90\x98\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x9c)?"  # 8-bit OSC, DCS, SOS, PM, APC
)
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    """``text`` as valid printable UTF-8 with no diagnosis tag (see the module docstring)."""
    if text.isascii() and text.isprintable() and "(" not in text:
        return text  # the common case, cheaply
    text = _SURROGATE.sub("\ufffd", text)
    text = _ESCAPES.sub("", text)
    text = _UNPRINTABLE.sub("", text)
    return neutralize(text)


def neutralize(text: str) -> str:
    """Student-made text cannot forge a diagnosis tag (reports count those)."""
    return defang(text)


def cap(text: str, limit: int = ITEM_LIMIT) -> str:
    """At most ``limit`` characters (plus a marker saying it was cut)."""
    return text if len(text) <= limit else text[:limit] + CUT


class TextBudget:
    """How much student text one submission may still add to its record."""

    def __init__(self, total: int = RECORD_LIMIT):
        self.left = total
        self.spent = False

    def take(self, text: str, limit: int = ITEM_LIMIT) -> str:
        """``text`` cleaned and capped, charged to the budget; past it, one short note, then ""."""
        if self.left <= 0:
            spent, self.spent = not self.spent, True
            return SPENT if spent else ""
        text = cap(clean(text), min(limit, self.left))
        self.left -= len(text)
        return text
