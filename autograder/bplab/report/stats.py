"""The numbers the report shows: score summary, per-question rates, diagnosis counts.

Statistics are over the submissions that graded normally; the others are listed on their own,
first, in the report. Diagnosis shares use the same denominator.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bplab.report.load import ClassResults, Submission

_EPS = 1e-9  # scores are rounded to 5 decimals by Otter; compare with a little slack


@dataclass(frozen=True)
class Summary:
    """Total scores of the normally graded submissions (``n == 0`` leaves the rest None)."""

    n: int
    max_score: float | None
    mean: float | None
    median: float | None
    std: float | None  # sample standard deviation; 0 for a single submission
    minimum: float | None
    maximum: float | None
    full_marks: int


@dataclass(frozen=True)
class QuestionStats:
    """One question over the ``n`` normally graded submissions that have a score for it."""

    question: str
    max_score: float | None
    n: int
    mean: float | None
    full_share: float | None  # score == max_score
    failed_share: float | None  # score == 0


@dataclass
class DiagnosisCount:
    """How many graded submissions one diagnosis code was given to, and which ones."""

    code: str
    questions: list[str]
    stems: list[str]
    share: float  # of the normally graded submissions


def summarize(results: ClassResults) -> Summary:
    scored = [(x, s.max_score) for s in results.graded if (x := s.score) is not None]
    scores = [x for x, _ in scored]
    maxima = {m for _, m in scored if m is not None}
    max_score = max(maxima) if maxima else None
    if not scores:
        return Summary(0, max_score, None, None, None, None, None, 0)
    return Summary(
        n=len(scores),
        max_score=max_score,
        mean=statistics.fmean(scores),
        median=statistics.median(scores),
        std=statistics.stdev(scores) if len(scores) > 1 else 0.0,
        minimum=min(scores),
        maximum=max(scores),
        full_marks=sum(m is not None and x >= m - _EPS for x, m in scored),
    )


def question_stats(results: ClassResults) -> list[QuestionStats]:
    out = []
    for q in results.questions:
        top = results.question_max.get(q)
        scores = [x for s in results.graded if (x := s.question_scores[q]) is not None]
        if not scores:
            out.append(QuestionStats(q, top, 0, None, None, None))
            continue
        full = sum(top is not None and x >= top - _EPS for x in scores)
        failed = sum(abs(x) <= _EPS for x in scores)
        out.append(
            QuestionStats(
                q, top, len(scores), statistics.fmean(scores), full / len(scores),
                failed / len(scores),
            )
        )
    return out


def diagnosis_counts(results: ClassResults) -> list[DiagnosisCount]:
    """Codes by the number of graded submissions they were given to (most common first).

    A submission given the same code on several questions counts once for that code.
    """
    graded = results.graded
    by_code: dict[str, DiagnosisCount] = {}
    for s in graded:
        for q, codes in s.diagnoses.items():
            for code in codes:
                entry = by_code.setdefault(code, DiagnosisCount(code, [], [], 0.0))
                if q not in entry.questions:
                    entry.questions.append(q)
                if s.stem not in entry.stems:
                    entry.stems.append(s.stem)
    order = {q: i for i, q in enumerate(results.questions)}
    for entry in by_code.values():
        entry.share = len(entry.stems) / len(graded)
        entry.questions.sort(key=lambda q: order.get(q, len(order)))
    return sorted(by_code.values(), key=lambda d: (-len(d.stems), d.code))


def needs_attention(s: Submission) -> bool:
    """Did not grade normally, or graded with a problem worth a look (e.g. unreadable results)."""
    return not s.graded or bool(s.reason)
