"""Grade many submissions in parallel: ``jobs`` trusted grader processes, each driving one
sandboxed worker at a time (one sandbox per submission)."""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from bplab.grade.intake import Submission
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


class Grader:
    """A suite and a sandbox slot: grades one submission at a time."""

    def __init__(self, setup: Setup, slot: int = 0):
        self.setup = setup
        self.suite = load_suite(setup.assignment, setup.tests_dir, setup.reference)
        data_dir = setup.data_dir if setup.data_dir and setup.data_dir.is_dir() else None
        self.sandbox = Sandbox(slot, data_dir=data_dir, use_bwrap=setup.use_bwrap)

    def grade(self, sub: Submission) -> Record:
        if sub.status != "ok" or sub.data is None:
            return terminal_record(sub, self.suite, self.sandbox.isolation.describe())
        return grade_notebook(sub.stem, sub.origin, sub.data, self.suite, self.sandbox,
                              self.setup.config)


def terminal_record(sub: Submission, suite: Suite, isolation: str) -> Record:
    """The record of a submission that has nothing to run."""
    # "ok" without bytes cannot come out of intake; if it ever did, nothing could be read.
    status: Status = "invalid_notebook" if sub.status == "ok" else sub.status
    record = Record(sub.stem, sub.origin, status, sub.reason, isolation)
    record.questions = empty_questions(suite.max_scores, "not_graded",
                                       f"not graded: {sub.reason}")
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
              on_done: Callable[[Record], None] | None = None) -> list[Record]:
    """A record for every submission, in input order."""
    done = on_done or (lambda r: None)
    records: dict[int, Record] = {}
    local = Grader(setup, 0)
    try:
        return _grade_all(subs, setup, jobs, done, records, local)
    finally:
        local.sandbox.close()


def _grade_all(subs, setup, jobs, done, records, local) -> list[Record]:
    todo = []
    for i, sub in enumerate(subs):
        if sub.status != "ok":
            records[i] = local.grade(sub)
            done(records[i])
        else:
            todo.append(i)
    jobs = max(1, min(jobs, len(todo)))
    if jobs == 1:
        for i in todo:
            records[i] = local.grade(subs[i])
            done(records[i])
    else:
        for _attempt in range(2):
            todo = _pool_pass(subs, todo, setup, jobs, records, done)
            if not todo:
                break
        for i in todo:  # broke the pool twice: a fault on our side, reported as such
            records[i] = Record(subs[i].stem, subs[i].origin, "grader_error",
                                isolation=local.sandbox.isolation.describe()).mark_grader_fault(
                "grader_process", "a grader process died", local.suite.max_scores)
            done(records[i])
    return [records[i] for i in range(len(subs))]


def _pool_pass(subs, todo, setup, jobs, records, done) -> list[int]:
    ctx = multiprocessing.get_context("fork")
    counter = ctx.Value("i", 0)
    failed = []
    with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init,
                             initargs=(setup, counter)) as pool:
        futures = {pool.submit(_grade_in_pool, subs[i]): i for i in todo}
        for fut in as_completed(futures):
            i = futures[fut]
            try:
                records[i] = fut.result()
            except BrokenProcessPool:
                failed.append(i)
                continue
            done(records[i])
    return sorted(failed)


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
