"""Late policies: one function that turns a score and a lateness into the score that counts.

A policy is written ``none``, ``per-day:P`` (P percent of the maximum lost per started day
late, never below 0), ``flat:P`` (P percent of the maximum lost once, however late, never
below 0) or ``cap:P`` (a late submission scores at most P percent of the maximum).
Lateness runs from the due date; a submission at or before it is on time. Every application is
recorded (``LateOutcome.as_dict``) so that the student and the instructor see what happened.

Used at build time for Gradescope (``bplab build --late-policy``, applied by the secure zip
from ``submission_metadata.json``); shared with the LMS export. Standard library only (the
secure zip runs it on Python 3.10).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

KINDS = ("none", "per-day", "flat", "cap")
DAY = timedelta(days=1)


@dataclass(frozen=True)
class LatePolicy:
    """``kind`` in ``KINDS``; ``percent`` of the maximum score (per day, or the cap)."""

    kind: str = "none"
    percent: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"late policy must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.kind != "none" and not 0 <= self.percent <= 100:
            raise ValueError(f"late policy percent must be within 0..100, got {self.percent}")

    @classmethod
    def parse(cls, text: str) -> LatePolicy:
        """``"none"``, ``"per-day:10"``, ``"flat:20"`` or ``"cap:50"`` (else ``ValueError``)."""
        kind, _, amount = text.strip().partition(":")
        if kind == "none" and not amount:
            return cls()
        if kind not in KINDS or kind == "none" or not amount:
            raise ValueError("late policy is none, per-day:PERCENT, flat:PERCENT or cap:PERCENT, "
                             f"got {text!r}")
        try:
            percent = float(amount.rstrip("%"))
        except ValueError:
            raise ValueError(f"late policy percent is not a number: {amount!r}") from None
        return cls(kind, percent)

    def __str__(self) -> str:
        return "none" if self.kind == "none" else f"{self.kind}:{self.percent:g}"


@dataclass(frozen=True)
class LateOutcome:
    """What the policy did to one submission."""

    policy: str
    score: float  # the score that counts
    raw_score: float  # before the policy
    days_late: int  # started days after the due date (0: on time)
    seconds_late: float
    penalty: float  # raw_score - score
    note: str  # one sentence for the student ("" when on time or without a policy)

    def as_dict(self) -> dict:
        return asdict(self)


def days_late(submitted: datetime, due: datetime) -> tuple[int, float]:
    """Started days and seconds after ``due`` (both 0 when on time). Both must be aware."""
    seconds = (submitted - due).total_seconds()
    if seconds <= 0:
        return 0, 0.0
    return math.ceil(seconds / DAY.total_seconds()), seconds


def apply(policy: LatePolicy, score: float, max_score: float, submitted: datetime | None,
          due: datetime | None) -> LateOutcome:
    """The score that counts for ``score`` out of ``max_score`` submitted at ``submitted``.

    Without a due date or a submission time nothing is late (the outcome says so).
    """
    if submitted is None or due is None:
        return LateOutcome(str(policy), score, score, 0, 0.0, 0.0,
                           "" if policy.kind == "none" else "no due date: late policy not applied")
    days, seconds = days_late(submitted, due)
    final = score
    if days and policy.kind == "per-day":
        final = max(0.0, score - days * policy.percent / 100 * max_score)
    elif days and policy.kind == "flat":
        final = max(0.0, score - policy.percent / 100 * max_score)
    elif days and policy.kind == "cap":
        final = min(score, policy.percent / 100 * max_score)
    final = round(final, 6)
    note = ""
    if days:
        hours = seconds / 3600
        note = f"Submitted {hours:.1f} h after the due date ({days} started day(s) late)"
        if policy.kind == "none":
            note += "; no late penalty applies."
        else:
            note += f"; late policy {policy}: {score:g} -> {final:g}."
    return LateOutcome(str(policy), final, score, days, seconds, round(score - final, 6), note)


def parse_time(text: str | None) -> datetime | None:
    """An ISO 8601 time as Gradescope writes it (``2018-07-31T23:00:00.000000-07:00``), aware;
    None for a missing or unreadable value. Python 3.10's ``fromisoformat`` lacks ``Z``."""
    if not text or not isinstance(text, str):
        return None
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
