"""The grader's data model: what is known about one submission, and the limits it ran under.

Plain data only (no otter, numpy or sandbox import), so the writers of outputs, the report and
the tests can use these types without loading the grading engine; records cross process pools
(pickled) and are written as JSON (``Record.to_dict``).

Statuses are closed sets (``Literal``; the tuples below are derived from them, never spelled a
second time). A fault of the grader itself is told apart by ``Record.cause`` (a ``FaultCause``),
never by the English text of ``Record.reason``; ``Record.mark_grader_fault`` is the one way to
make such a record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

Status = Literal[
    "graded",  # every question was graded
    "invalid_notebook",  # the file is empty, truncated, not JSON or not a notebook
    "no_notebook",  # the submission holds no .ipynb
    "several_notebooks",  # more than one .ipynb and none named after the assignment
    "invalid_archive",  # a zip that cannot be read
    "timed_out",  # the submission deadline passed before every question was graded
    "grader_error",  # a fault of the grader, not of the student (see ``cause``)
]
STATUSES: tuple[Status, ...] = get_args(Status)
GRADED: Status = "graded"

QuestionStatus = Literal[
    "passed",  # every point
    "partial",  # some points
    "failed",  # no points, every case ran
    "crashed",  # the student's code stopped the worker during this question
    "timed_out",  # the student's code ran past its time limit during this question
    "not_graded",  # nothing to run, or the submission ran out of time before it
    "grader_error",  # a fault of the grader: the question is blank, not 0
]
QUESTION_STATUSES: tuple[QuestionStatus, ...] = get_args(QuestionStatus)

FaultCause = Literal[
    "test_files",  # the test files could not be loaded: nothing at all can be graded
    "sandbox",  # the sandbox would not start or never said it was ready
    "test_inputs",  # a test file passed an input the wire protocol cannot carry
    "grader_bug",  # an unexpected exception in the grader's own code
    "grader_process",  # a grader process died twice on this submission
]
FAULT_CAUSES: tuple[FaultCause, ...] = get_args(FaultCause)
FAULT_PREFIX = "grader fault (not the student's): "


@dataclass
class Config:
    """Time limits (seconds) of one submission, and the language of its feedback.

    ``language`` forces one language (``bplab grade --lang``); when it is None, each
    submission's feedback is in the language its notebook names (``metadata.bplab.language``,
    written by ``bplab build`` into ``student-<lang>/``), else in ``default_language`` (the
    build's default for the secure zip, English otherwise). Values: ``bplab_checks.i18n``.
    """

    cell_timeout: float = 20.0
    call_timeout: float = 20.0
    submission_timeout: float = 300.0
    language: str | None = None
    default_language: str = "en"


@dataclass
class CaseOutcome:
    """One Otter test case of a question, as the student's feedback shows it."""

    name: str
    hidden: bool
    passed: bool
    points: float
    message: str


@dataclass
class QuestionResult:
    """One question (one test file): its points and why."""

    name: str
    score: float
    max_score: float
    status: QuestionStatus
    cases: list[CaseOutcome] = field(default_factory=list)
    note: str = ""
    diagnoses: list[str] = field(default_factory=list)


def empty_questions(max_scores: Mapping[str, float], status: QuestionStatus,
                    note: str) -> list[QuestionResult]:
    """A zero-score result for each question (``name -> max score``, in grading order)."""
    return [QuestionResult(name, 0.0, float(possible), status, note=note)
            for name, possible in max_scores.items()]


@dataclass
class Record:
    """Everything known about one submission; plain data (crosses process pools, JSON)."""

    stem: str
    origin: str
    status: Status
    reason: str = ""
    isolation: str = ""
    questions: list[QuestionResult] = field(default_factory=list)
    cell_notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cause: FaultCause | None = None  # set (only) by mark_grader_fault
    language: str = "en"  # of the feedback (Config: --lang, the notebook's, the default)

    @property
    def score(self) -> float:
        return sum(q.score for q in self.questions)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def mark_grader_fault(self, cause: FaultCause, detail: str,
                          max_scores: Mapping[str, float]) -> Record:
        """Make this a ``grader_error`` record caused by ``cause`` and return it.

        Questions already graded keep their results; every other question of ``max_scores``
        gets status ``grader_error`` (blank in grades.csv, never the student's 0).
        """
        if cause not in FAULT_CAUSES:
            raise ValueError(f"unknown grader fault cause {cause!r}")
        self.status, self.cause = "grader_error", cause
        self.reason = FAULT_PREFIX + detail
        done = {q.name for q in self.questions}
        self.questions += [q for q in empty_questions(max_scores, "grader_error", self.reason)
                           if q.name not in done]
        return self
