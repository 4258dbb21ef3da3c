"""Calling student code safely: every exception it raises becomes feedback (``call``,
``get_attr``), never a traceback of the grader. ``NotImplementedYet`` is the blank stub,
``StudentRaised`` any other exception (kept as ``exc`` for the checks that explain it), and
``student_line`` the line of student code that raised.
"""

from __future__ import annotations

import traceback

from bplab_checks.feedback_text import (
    explanation,
    fail,
)
from bplab_checks.i18n import t


class NotImplementedYet(AssertionError):
    """The student's code still raises NotImplementedError (the blank stub)."""


class StudentRaised(AssertionError):
    """The student's code raised ``exc`` (feedback already in the message)."""

    def __init__(self, message: str, exc: BaseException):
        super().__init__(message)
        self.exc = exc


def student_line(exc: BaseException) -> str:
    """" at line N: <code>" of the innermost frame of student code in ``exc``'s traceback, or
    "" (frames of numpy, of the checks and of the grader are skipped; under ``bplab grade`` the
    worker has already put the line into the message)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not any(part in f.filename for part in
                         ("bplab_checks", "site-packages", "/bplab/", "/numpy/", "/otter/"))]
    if not frames:
        return ""
    f = frames[-1]
    return t(" at line {line}", line=f.lineno) + (f": {f.line.strip()[:160]}" if f.line else "")


def call(label: str, fn, *args, **kwargs):
    """Call student code ``fn`` and turn every exception into feedback.

    NotImplementedError becomes "not implemented yet"; FloatingPointError (raised under the
    checks' ``np.errstate``) an overflow finding; anything else names the exception.
    """
    if fn is None:
        fail(t("{label} is not defined: run the cell that defines it (and keep the name from "
               "the assignment).", label=label))
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as exc:
        raise NotImplementedYet(
            explanation(
                "not_implemented",
                block=label.split(".")[0],
                what=label,
                fallback=t("{label} is not implemented yet (it raised NotImplementedError).",
                           label=label),
            )
        ) from exc
    except FloatingPointError as exc:
        fail(
            explanation(
                "overflow",
                block=label.split(".")[0],
                what=label,
                warning=str(exc).replace("encountered in", "in"),
                fallback=t("{label} overflowed or divided by zero ({error}) on large inputs; "
                           "use a numerically stable formula.", label=label, error=exc),
            ),
        )
    except AssertionError:
        raise
    except Exception as exc:  # noqa: BLE001 - any student error is feedback, not a crash
        raise StudentRaised(t("{label} raised {error}{where}: {message}", label=label,
                              error=type(exc).__name__, where=student_line(exc), message=exc),
                            exc) from None


def get_attr(obj, name: str, label: str):
    """``getattr`` on a student object with feedback when the attribute is missing."""
    if obj is None:
        fail(t("{label} is not defined: run the cell that defines it.", label=label))
    try:
        return getattr(obj, name)
    except Exception as exc:  # noqa: BLE001
        fail(t("{label} has no attribute {name} ({error}).", label=label, name=repr(name),
               error=type(exc).__name__))
