"""Grade many submissions in parallel: ``jobs`` trusted grader processes, each driving one
sandboxed worker at a time (a fork of the slot's zygote, or a sandbox per submission: ``sandbox``).

Records are handed to ``on_done(index, record)`` as each submission finishes and are not kept
here, and each notebook is read (``Submission.read``) by the process that grades it, when its
turn comes: memory stays flat with the number of submissions.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from bplab.grade.intake import Submission, Unusable
from bplab.grade.record import Config, Record, Status, empty_questions
from bplab.grade.runner import grade_notebook
from bplab.grade.sandbox import Sandbox
from bplab.grade.suite import Suite, load_suite


@dataclass(frozen=True)
class Setup:
    """What every grader process needs to load the same suite and sandbox."""

    assignment: str
    tests_dir: Path
    reference: Path | None
    data_dir: Path | None
    config: Config
    use_bwrap: bool | None = None
    order: tuple[str, ...] = ()  # questions in notebook order (``bplab.layout.check_order``)


class Grader:
    """A suite and a sandbox slot: grades one submission at a time."""

    def __init__(self, setup: Setup, slot: int = 0):
        self.setup = setup
        self.suite = load_suite(setup.assignment, setup.tests_dir, setup.reference, setup.order)
        data_dir = setup.data_dir if setup.data_dir and setup.data_dir.is_dir() else None
        self.sandbox = Sandbox(slot, data_dir=data_dir, use_bwrap=setup.use_bwrap)

    def grade(self, sub: Submission) -> Record:
        try:
            data = sub.read(self.setup.assignment)
        except Unusable as why:
            return terminal_record(sub, self.suite, self.sandbox.isolation.describe(),
                                   why.status, why.reason)
        return grade_notebook(sub.stem, sub.origin, data, self.suite, self.sandbox,
                              self.setup.config)


def terminal_record(sub: Submission, suite: Suite, isolation: str, status: Status,
                    reason: str) -> Record:
    """The record of a submission that has nothing to run."""
    record = Record(sub.stem, sub.origin, status, reason, isolation)
    record.questions = empty_questions(suite.max_scores, "not_graded", f"not graded: {reason}")
    return record


_GRADER: Grader | None = None


def _init(setup: Setup, counter) -> None:
    global _GRADER
    with counter.get_lock():
        counter.value += 1
        slot = counter.value
    _GRADER = Grader(setup, slot)
    # Pool processes end with os._exit: multiprocessing's finalizers run, atexit's do not.
    multiprocessing.util.Finalize(None, _GRADER.sandbox.close, exitpriority=10)


def _grade_in_pool(sub: Submission) -> Record:
    assert _GRADER is not None
    return _GRADER.grade(sub)


def grade_all(subs: list[Submission], setup: Setup, jobs: int,
              on_done: Callable[[int, Record], None]) -> None:
    """Grade every submission; ``on_done(index in subs, record)`` once for each, in any order."""
    local = Grader(setup, 0)
    try:
        _grade_all(subs, setup, jobs, on_done, local)
    finally:
        local.sandbox.close()


def _grade_all(subs, setup, jobs, done, local) -> None:
    todo = []
    for i, sub in enumerate(subs):
        if sub.status != "ok":
            done(i, local.grade(sub))
        else:
            todo.append(i)
    jobs = max(1, min(jobs, len(todo)))
    if jobs == 1:
        for i in todo:
            done(i, local.grade(subs[i]))
        return
    for _attempt in range(2):
        todo = _pool_pass(subs, todo, setup, jobs, done)
        if not todo:
            break
    for i in todo:  # broke the pool twice: a fault on our side, reported as such
        done(i, Record(subs[i].stem, subs[i].origin, "grader_error",
                       isolation=local.sandbox.isolation.describe()).mark_grader_fault(
            "grader_process", "a grader process died", local.suite.max_scores))


def _pool_pass(subs, todo, setup, jobs, done) -> list[int]:
    ctx = multiprocessing.get_context("fork")
    counter = ctx.Value("i", 0)
    failed = []
    with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init,
                             initargs=(setup, counter)) as pool:
        # A bounded window of work in flight, each future dropped once its record is handed on:
        # neither queued submissions nor finished records pile up with the batch size.
        queue = list(reversed(todo))
        futures: dict = {}
        while queue or futures:
            while queue and len(futures) < 2 * jobs:
                i = queue.pop()
                try:
                    futures[pool.submit(_grade_in_pool, subs[i])] = i
                except BrokenProcessPool:
                    failed.append(i)
            finished, _ = wait(futures, return_when=FIRST_COMPLETED)
            for fut in finished:
                i = futures.pop(fut)
                try:
                    record = fut.result()
                except BrokenProcessPool:
                    failed.append(i)
                    continue
                done(i, record)
    return sorted(failed)


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
