"""A failure explained once: failed test cases grouped by the explanation they share.

A value bug fails several cases of a question with the same explanation (the diagnosis sentence
or the mismatch line); only the inputs, in their "Checked:" lines, differ. Feedback shows the
explanation once, with the cases it affects listed after it (``group_failures``). Used by the
grader's feedback writer (``bplab.grade.outputs``).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["explanation_of", "group_failures"]

# Otter's own lines around the check's message, and the lines that only describe the inputs.
_FRAME_PREFIXES = ("❌ Test case failed", "Error at line ", "AssertionError: ", "Checked: ")


def explanation_of(message: str) -> str:
    """The first line of the check's own message: Otter's header, the failing source line and
    the "Checked:" context stripped (the same mistake reads the same in every case)."""
    lines = [line.strip() for line in message.splitlines()]
    for i, line in enumerate(lines):
        if line.startswith("AssertionError: "):
            return line[len("AssertionError: "):].strip()
        if line.startswith("Error at line "):
            # Otter's header: the next line is the test's own source line, then the exception.
            continue
        if i and lines[i - 1].startswith("Error at line "):
            continue
        if line and not line.startswith(_FRAME_PREFIXES):
            return line
    return message.strip()


def group_failures(failed: Sequence[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """``(case name, message)`` of failed cases, in order -> ``(message, [case names])``: one
    entry per explanation, the message of its first case, the names of every case it explains
    (in order). Messages with no shared explanation stay on their own."""
    groups: dict[str, tuple[str, list[str]]] = {}
    for name, message in failed:
        key = explanation_of(message)
        if key in groups:
            groups[key][1].append(name)
        else:
            groups[key] = (message, [name])
    return list(groups.values())
