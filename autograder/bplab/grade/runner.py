"""Grade one submission: run its cells in a sandboxed worker, then every question's test file
in this (trusted) process against proxies of the student's objects.

Failure policy (docs/grading.md):
- a cell that raises is reported (cell number, line) and the next cells still run;
- a cell that runs past ``cell_timeout`` or kills the worker is skipped: a fresh worker replays
  the cells that came before it and execution goes on;
- a crash, protocol violation or timeout inside a question scores that question 0; a fresh
  worker replays the notebook and the remaining questions are graded;
- past the submission deadline the remaining questions are not graded (status ``timed_out``);
- a fault of the grader itself (sandbox will not start, a test file cannot send its inputs)
  gives ``grader_error``: reported as ours, never as the student's.
"""

from __future__ import annotations

import time
import traceback
import warnings
from typing import Any

from bplab_checks import i18n
from bplab_checks.i18n import t
from bplab_checks.notes import collecting
from bplab_checks.tag import codes_in
from otter.test_files.abstract_test import TestCaseResult

from bplab.grade.cells import Cell, InvalidNotebook, notebook_language, parse_notebook
from bplab.grade.proxy import GraderFault, WorkerLost
from bplab.grade.record import (
    CaseOutcome,
    Config,
    QuestionResult,
    QuestionStatus,
    Record,
    empty_questions,
)
from bplab.grade.sandbox import Sandbox
from bplab.grade.session import Session
from bplab.grade.suite import Suite

MAX_MESSAGE = 3000


def grade_notebook(stem: str, origin: str, data: bytes, suite: Suite, sandbox: Sandbox,
                   config: Config) -> Record:
    """Grade one notebook file's bytes; never raises (every outcome is a ``Record``)."""
    started = time.monotonic()
    record = Record(stem, origin, "graded", isolation=sandbox.isolation.describe())
    record.language = config.language or config.default_language
    try:
        cells = parse_notebook(data)  # first: it bounds what notebook_language reads
    except InvalidNotebook as exc:
        record.status, record.reason = "invalid_notebook", str(exc)
        record.questions = empty_questions(suite.max_scores, "not_graded",
                                           "the notebook could not be read")
        return record
    record.language = config.language or notebook_language(data) or config.default_language
    session = Session(sandbox, config.call_timeout, started + config.submission_timeout)
    try:
        with i18n.use(record.language):  # the checks write the feedback in this language
            _grade(cells, suite, session, config, record)
    except GraderFault as fault:
        record.mark_grader_fault(fault.cause, str(fault), suite.max_scores)
    except Exception as exc:  # noqa: BLE001 - a bug of ours must not lose the submission
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        record.mark_grader_fault("grader_bug", tb, suite.max_scores)
    finally:
        session.close()
        record.seconds = round(time.monotonic() - started, 3)
    _redact(record, suite)
    return record


class _Notebook:
    """Runs the cells in the session; after a loss, replays them into a fresh worker."""

    def __init__(self, session: Session, cells: list[Cell], config: Config, notes: list[str]):
        self.session = session
        self.cells = cells
        self.config = config
        self.notes = notes
        self.skipped: set[int] = set()  # cells that timed out or killed the worker
        self.reported: set[int] = set()  # cells whose error is already in the notes

    def run(self) -> None:
        for cell in self.cells:
            self.notes.extend(f"cell {cell.number}, {note}" for note in cell.notes)
        self.session.start()
        self._run_all()

    def restart(self) -> None:
        self.session.restart()
        self._run_all()

    def _run_all(self) -> None:
        while True:
            current = None
            try:
                for cell in self.cells:
                    if cell.number in self.skipped or not cell.source.strip():
                        continue
                    if time.monotonic() >= self.session.deadline:
                        raise WorkerLost("timeout", "the submission ran out of time in its cells")
                    current = cell
                    error = self.session.exec_cell(cell.number, cell.source,
                                                   self.config.cell_timeout)
                    if error and cell.number not in self.reported:
                        self.reported.add(cell.number)
                        self.notes.append(error)
                return
            except WorkerLost as lost:
                if current is None or time.monotonic() >= self.session.deadline:
                    raise
                self.skipped.add(current.number)
                # Whole sentences per case: a verb agrees with its subject in uk/ru.
                if lost.kind == "timeout":
                    note = t("cell {n} ran past its time limit of {seconds} s; it was skipped, "
                             "and the other cells were run again in a fresh worker",
                             n=current.number, seconds=f"{self.config.cell_timeout:g}")
                else:
                    note = t("cell {n} stopped the worker ({detail}); it was skipped, and the "
                             "other cells were run again in a fresh worker", n=current.number,
                             detail=lost.detail)
                self.notes.append(note)
                self.session.restart()


def _grade(cells: list[Cell], suite: Suite, session: Session, config: Config,
           record: Record) -> None:
    notebook = _Notebook(session, cells, config, record.cell_notes)
    try:
        notebook.run()
    except WorkerLost:
        pass  # the deadline passed while running cells: the questions below say so
    params = suite.param_names()
    env: dict[str, Any] | None = None
    for tf in suite.files:
        if time.monotonic() >= session.deadline:
            record.status = "timed_out"
            record.reason = f"the submission's time limit ({config.submission_timeout:g} s) passed"
            record.questions.append(QuestionResult(
                tf.name, 0.0, float(tf.possible), "not_graded",
                note=t("not graded: the submission ran out of time")))
            continue
        try:
            if not session.alive:
                notebook.restart()
                env = None
            if env is None:
                env = session.names(params)
            record.questions.append(_run_question(tf, env))
        except WorkerLost as lost:
            env = None
            timed_out = lost.kind == "timeout"
            status: QuestionStatus = "timed_out" if timed_out else "crashed"
            what = (t("ran past its time limit") if timed_out
                    else t("stopped the worker ({detail})", detail=lost.detail))
            record.questions.append(QuestionResult(
                tf.name, 0.0, float(tf.possible), status,
                note=t("your code {what} during this question, so it scores 0", what=what)))


def _run_question(tf, env: dict[str, Any]) -> QuestionResult:
    """Otter's ``ExceptionTestFile.run`` with the exceptions kept (same results, same points).

    The notes of passing cases (``bplab_checks.notes``, e.g. the eps placement an optimizer
    follows) become the question's note, which Otter cannot show."""
    tf.test_case_results = []
    outcomes = []
    notes: list[str] = []
    for tc in tf.test_cases:
        passed, message = True, ""
        try:
            with warnings.catch_warnings(), collecting() as case_notes:
                warnings.simplefilter("ignore")  # student warnings re-emitted here stay quiet
                tc.body.call_func(env)
            notes += [n for n in dict.fromkeys(case_notes) if n not in notes]
        except Exception as exc:  # noqa: BLE001 - as Otter: any exception fails the case
            passed, message = False, _case_message(exc)
        tf.test_case_results.append(TestCaseResult(test_case=tc, message=message, passed=passed))
        outcomes.append(CaseOutcome(tc.name, bool(tc.hidden), passed, float(tc.points), message))
    score, possible = float(tf.score), float(tf.possible)
    status: QuestionStatus = ("passed" if score >= possible
                              else "partial" if score > 0 else "failed")
    diagnoses = sorted({code for o in outcomes if not o.passed for code in codes_in(o.message)})
    note = _capped("\n".join(notes))
    return QuestionResult(tf.name, score, possible, status, outcomes, note=note,
                          diagnoses=diagnoses)


def _case_message(exc: Exception) -> str:
    if getattr(exc, "bplab_student", False):
        text = t("your code raised {error}: {message}", error=type(exc).__name__, message=exc)
    elif isinstance(exc, AssertionError):
        text = str(exc) or t("a check failed")
    else:
        text = f"{type(exc).__name__}: {exc}"
    return _capped(text)


def _capped(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + " ...[truncated]"


def _redact(record: Record, suite: Suite) -> None:
    record.reason = suite.redact(record.reason)
    record.cell_notes = [suite.redact(n) for n in record.cell_notes]
    for q in record.questions:
        q.note = suite.redact(q.note)
        for c in q.cases:
            c.message = suite.redact(c.message)
