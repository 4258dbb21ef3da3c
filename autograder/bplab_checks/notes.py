"""Notes of passing checks: a sentence for the student that costs no points.

``note(text)`` prints ``text`` (so ``grader.check`` shows it in the notebook) and, inside
``collecting()``, also keeps it, so ``bplab grade`` can put it in the question's feedback
(``QuestionResult.note``). Otter has no such channel: a passing Otter case carries no message.
A note is the grader's own text (e.g. the eps placement of an optimizer), never the student's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

_active: list[list[str]] = []


def note(text: str) -> None:
    """Print ``text`` and keep it in the innermost ``collecting()`` block, if any."""
    print(text)
    if _active:
        _active[-1].append(text)


@contextmanager
def collecting() -> Iterator[list[str]]:
    """The notes given inside this block, in order (nested blocks keep their own)."""
    notes: list[str] = []
    _active.append(notes)
    try:
        yield notes
    finally:
        _active.pop()
