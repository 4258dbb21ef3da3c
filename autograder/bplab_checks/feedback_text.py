"""The words of feedback, the layer every check's message is made with: ``fail`` (raise the
student's feedback), ``explanation`` (the sentence for a behavioural finding, with its
``(diagnosis: <code>)`` tag either way), ``diagnosis`` and ``directional_diagnosis`` (the
sentence of ``bplab_checks.diagnose`` for a mismatch, or None: a diagnosis is a bonus, never a
crash), and ``describe`` / ``shapes_text`` (values told by shape, never by their contents).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import numpy as np

from bplab_checks import diagnose
from bplab_checks.gradcheck import Directional


def _sentence(find: Callable[..., Any], *args, **details) -> str | None:
    """What a diagnose entry point says, or None: a diagnosis is a bonus, never a crash."""
    try:
        sentence = find(*args, **details)
    except Exception:  # noqa: BLE001
        return None
    return sentence if isinstance(sentence, str) and sentence else None


def diagnosis(actual, expected, **details) -> str | None:
    """The diagnosis sentence for a value mismatch, or None (never raises)."""
    return _sentence(diagnose.diagnose, actual, expected, **details)


def directional_diagnosis(actual, check: Directional, **details) -> str | None:
    """The diagnosis sentence for a failed directional check, or None (never raises)."""
    return _sentence(diagnose.diagnose_directional, actual, check, **details)


def explanation(code: str, *, block: str, what: str = "", fallback: str, **details) -> str:
    """The sentence explaining a behavioural finding ``code``; ``fallback`` if none is available.

    The fallback always ends with the same ``(diagnosis: <code>)`` tag, so reports can count
    the finding either way.
    """
    sentence = _sentence(diagnose.explain, code, block=block, what=what, **details)
    return sentence or f"{fallback} {diagnose.tag(code)}"


def fail(*lines: str | None) -> NoReturn:
    """Raise the feedback made of the non-empty ``lines``."""
    raise AssertionError("\n".join(line for line in lines if line))


def describe(value) -> str:
    """Short description of a value for messages: its shape, never its contents."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {describe(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple | list):
        return "(" + ", ".join(describe(v) for v in value) + ")"
    if isinstance(value, bool | int | float):
        return type(value).__name__
    try:
        arr = np.asarray(value)
    except Exception:  # noqa: BLE001
        return type(value).__name__
    if arr.dtype == object:
        return type(value).__name__
    return f"array {arr.shape} {arr.dtype}" if arr.ndim else f"0-d {arr.dtype}"


def shapes_text(named: Mapping[str, Any]) -> str:
    """``"A (3, 4), B (4, 5), lr=0.1"``: arrays by shape, numbers by value, dicts by keys."""
    parts = []
    for name, value in named.items():
        if isinstance(value, Mapping):
            parts.append(f"{name} {{{shapes_text(value)}}}")
        elif isinstance(value, bool | int | float | np.integer | np.floating):
            parts.append(f"{name}={value:g}" if isinstance(value, float) else f"{name}={value}")
        elif callable(value):
            parts.append(f"{name} (a function)")
        else:
            arr = np.asarray(value)
            parts.append(f"{name} {tuple(arr.shape)}" if arr.ndim else f"{name} scalar")
    return ", ".join(parts)
