"""Concept questions: a ``quiz_answers`` dict checked item by item (numpy only; shipped).

A quiz is a list of :class:`Item`: an id (``"q1"``...), the notebook section that teaches it,
and either the letters a choice item accepts or the tolerance of a numeric item. A test file
(``autograder/hwN/quiz.py``) declares its items at module level, where students may read them,
and grades them with

* one public case, :func:`check_quiz_form`: every item is answered and well formed (a valid
  letter, or a finite number); it awards no points and knows no answer;
* one hidden case per item, :func:`check_quiz_item`, worth that item's points (partial credit
  per item), which takes the key from the reference (``solutions.hwN.quiz_answers``) inside
  the hidden case only.

Feedback on a wrong item names the item and the section to reread, never the answer, nor how
far off the answer was (a "too large" would leak it one bisection step at a time).

Answers may be grader proxies' plain values (docs/architecture.md): only values of the exact
types ``str``, ``int``, ``float``, numpy scalars and 0-d arrays (and numeric strings for numeric
items) are accepted; anything else, subclasses included, is a form error, never a call into
student code.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bplab_checks.feedback import fail
from bplab_checks.i18n import t
from bplab_checks.tag import tag

# Numeric answers are compared with this relative tolerance unless an item sets its own: the
# notebook asks for three significant digits, and 1% accepts any correct rounding of them.
QUIZ_RTOL = 1e-2
LETTERS = "abcde"


@dataclass(frozen=True)
class Item:
    """One concept question.

    Attributes:
        id: the key in ``quiz_answers`` ("q1", ...).
        section: the notebook section that teaches it, as its heading reads.
        choices: the letters a multiple-choice item accepts (e.g. "abcd"); "" for a number.
        rtol: relative tolerance of a numeric item.
        atol: absolute tolerance of a numeric item (for answers near 0).
    """

    id: str
    section: str
    choices: str = ""
    rtol: float = QUIZ_RTOL
    atol: float = 0.0

    def __post_init__(self) -> None:
        if self.choices and not set(self.choices) <= set(LETTERS):
            raise ValueError(f"{self.id}: choices must be letters from {LETTERS!r}")

    @property
    def kind(self) -> str:
        return f'one letter of "{self.choices}"' if self.choices else "a number"


def choice(id: str, section: str, choices: str = "abcd") -> Item:  # noqa: A002 - the item's id
    """A multiple-choice item."""
    return Item(id, section, choices=choices)


def number(id: str, section: str, rtol: float = QUIZ_RTOL, atol: float = 0.0) -> Item:  # noqa: A002
    """A numeric item."""
    return Item(id, section, rtol=rtol, atol=atol)


def _letter(value) -> str | None:
    if type(value) is not str:
        return None
    text = value.strip().lower().strip("()").strip()
    return text if len(text) == 1 else None


# Exact types only: a subclass could redefine comparison or conversion. numpy scalars and 0-d
# arrays are numbers too (an answer computed with np.cos is an np.float64).
_NUMBER_TYPES = (int, float, np.float64, np.float32, np.float16, np.int64, np.int32)


def _number(value) -> float | None:
    if type(value) is np.ndarray and value.shape == () and value.dtype.kind in "fi":
        x = float(value.item())
    elif type(value) in _NUMBER_TYPES:
        x = float(value)
    elif type(value) is str:
        try:
            x = float(value.strip())
        except ValueError:
            return None
    else:
        return None  # bool, None, containers, numpy objects, student objects: not a number
    return x if math.isfinite(x) else None


def form_error(answers, item: Item) -> str | None:
    """Why ``answers[item.id]`` is not a well-formed answer, or None when it is."""
    if item.id not in answers:
        return f"{item.id} is missing: keep every key of quiz_answers"
    value = answers[item.id]
    if value is None:
        return f"{item.id} is not answered yet (None): give {item.kind}"
    if item.choices:
        letter = _letter(value)
        if letter is None or letter not in item.choices:
            return f"{item.id} must be {item.kind}, got {_shown(value)}"
        return None
    if _number(value) is None:
        return f"{item.id} must be a finite number, got {_shown(value)}"
    return None


def _shown(value) -> str:
    if type(value) in (*_NUMBER_TYPES, bool) or value is None:
        return repr(value)
    if type(value) is str:
        return repr(value[:20] + ("..." if len(value) > 20 else ""))
    return f"a value of type {type(value).__name__}"


def _as_dict(answers, name: str) -> Mapping:
    # A plain dict only: a subclass could redefine lookup (what crosses from the sandbox is one).
    if type(answers) is not dict:
        fail(f"{name} must be a dict from item ids to answers, got {_shown(answers)}.")
    return answers


def check_quiz_form(answers, items: Sequence[Item], name: str = "quiz_answers") -> None:
    """Public check: every item has a well-formed answer. Knows no answer and says none."""
    answers = _as_dict(answers, name)
    problems = [p for p in (form_error(answers, item) for item in items) if p]
    known = {item.id for item in items}
    extra = sorted(str(k) for k in answers if k not in known)
    if extra:
        problems.append(f"unknown keys {extra[:5]}: the items are {', '.join(sorted(known))}")
    if problems:
        # A quiz left as the stub (every answer None) is "not written yet", like a stub's
        # NotImplementedError: reports count it with the same tag.
        blank = all(answers.get(item.id) is None for item in items)
        fail(f"{name}: {len(problems)} problem(s) with the form of your answers "
             "(this check looks only at the form, not at whether they are right)"
             + (f": no item is answered yet {tag('not_implemented')}" if blank else ":"),
             *(f"- {p}" for p in problems))


def is_right(value, key, item: Item) -> bool:
    """Whether a well-formed answer ``value`` matches the ``key`` of ``item``."""
    if item.choices:
        return _letter(value) == _letter(key)
    x, k = _number(value), _number(key)
    if x is None or k is None:
        return False
    return abs(x - k) <= item.atol + item.rtol * abs(k)


def check_quiz_item(answers, item: Item, key, name: str = "quiz_answers") -> None:
    """Hidden check of one item against its ``key``; the feedback names the section only."""
    answers = _as_dict(answers, name)
    problem = form_error(answers, item)
    if problem:
        unanswered = item.id in answers and answers[item.id] is None
        fail(f"{name}: {problem} {tag('not_implemented')}" if unanswered else f"{name}: {problem}.")
    if not is_right(answers[item.id], key, item):
        fail(t("{name}: {item} is not right yet. Reread \"{section}\" in the notebook, which "
               "teaches it, and work the item out again.", name=name, item=item.id,
               section=item.section))


def items_by_id(items: Sequence[Item]) -> dict[str, Item]:
    """``{item.id: item}``; refuses duplicate ids."""
    out: dict[str, Item] = {}
    for item in items:
        if item.id in out:
            raise ValueError(f"two quiz items have the id {item.id!r}")
        out[item.id] = item
    return out


__all__ = [
    "LETTERS",
    "QUIZ_RTOL",
    "Item",
    "check_quiz_form",
    "check_quiz_item",
    "choice",
    "form_error",
    "is_right",
    "items_by_id",
    "number",
]
