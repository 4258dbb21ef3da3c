"""The stated rule that student code leaves its arguments alone: ``snapshot`` (a deep copy of
the arrays inside dicts, tuples and lists), ``unchanged`` (still equal to it, exactly and
nan-aware) and ``check_untouched`` (feedback naming the first argument modified in place).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bplab_checks.feedback_text import (
    explanation,
    fail,
)
from bplab_checks.i18n import t


def snapshot(value):
    """A deep copy of arrays inside dicts/tuples/lists, for no-mutation checks."""
    if isinstance(value, Mapping):
        return {k: snapshot(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return type(value)(snapshot(v) for v in value)
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


def unchanged(before, after) -> bool:
    """Whether ``after`` still equals the ``snapshot`` ``before`` (exactly, nan-aware)."""
    if isinstance(before, Mapping):
        return (
            isinstance(after, Mapping)
            and set(before) == set(after)
            and all(unchanged(before[k], after[k]) for k in before)
        )
    if isinstance(before, tuple | list):
        return (
            isinstance(after, tuple | list)
            and len(before) == len(after)
            and all(unchanged(b, a) for b, a in zip(before, after, strict=True))
        )
    if isinstance(before, np.ndarray):
        after_arr = np.asarray(after)
        return after_arr.shape == before.shape and bool(
            np.array_equal(after_arr, before, equal_nan=True)
        )
    return before == after


def check_untouched(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    block: str,
    during: str,
    code: str = "mutates_input",
) -> None:
    """Feedback naming the first argument that ``during`` modified in place."""
    for name in before:
        if not unchanged(before[name], after[name]):
            fail(
                explanation(
                    code,
                    block=block,
                    what=name,
                    fallback=t("{during} modified its argument {name} in place; work on a "
                               "copy (e.g. x = x.copy() or x = x * 1.0) instead.",
                               during=during, name=name),
                )
            )
