"""CPU per proxy round trip, and round trips per submission (issue 14, "cheaper round trips").

    .venv/bin/python benchmarks/bench_roundtrip.py --repeats 5 --calls 400

Part 1 times the round trips a hw1 submission makes most (the shapes counted in part 2): a
block's forward and backward with small float64 arrays, a call whose dict argument the student
updates in place, a numerical gradient calling back into the grader, an attribute look-up. For
each it prints the median over ``--repeats`` runs of ``--calls`` round trips of the grader's CPU
and of the worker's CPU (the worker runs without bubblewrap here, so its CPU can be read from
``/proc``). Part 2 grades the reference notebook of hw1 (and hw2 with ``--hw2``) once in this
process and counts its round trips by kind, callbacks into the grader included.

Old against new cannot be measured in one run of one checkout: run it once on each, e.g.
``PYTHONPATH=/path/to/other/checkout/autograder .venv/bin/python benchmarks/bench_roundtrip.py``
(the script uses only ``Session``, ``Sandbox`` and the runner, which both have). A benchmark,
never a test.
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from bplab.grade import session as session_module
from bplab.grade.batch import Grader, Setup
from bplab.grade.record import Config
from bplab.grade.runner import grade_notebook
from bplab.grade.sandbox import Sandbox
from bplab.grade.session import Session
from bplab.layout import Assignment

STUDENT = '''
import numpy as np

class MatMul:
    ALPHA = 0.01
    @staticmethod
    def forward(A, B):
        return A @ B, (A, B)
    @staticmethod
    def backward(dout, cache):
        A, B = cache
        return dout @ B.T, A.T @ dout

def step(params, grads, lr=0.1):
    for k in params:
        params[k] -= lr * grads[k]

def numgrad(f, x, h=1e-5):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x); e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g
'''


def _worker_cpu(session: Session) -> float:
    """Seconds of CPU the worker process has used (``/proc/PID/schedstat``, in ns)."""
    assert session.worker is not None
    with open(f"/proc/{session.worker.proc.pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


def _cases(e: dict[str, Any]) -> dict[str, tuple[Callable[[], Any], int]]:
    """name -> (one operation, round trips it makes)."""
    rng = np.random.default_rng(0)
    a, b, dout = rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=(5, 3))
    x = rng.normal(size=(3, 4))
    params = {"W": rng.normal(size=(4, 3)), "b": rng.normal(size=3)}
    grads = {"W": np.ones((4, 3)), "b": np.ones(3)}
    cls = e["MatMul"]
    forward, backward = cls.forward, cls.backward  # methods are looked up once, data every time
    _, cache = forward(a, b)
    return {
        "forward (A, B) -> (out, (A, B))": (lambda: forward(a, b), 1),
        "backward (dout, (A, B)) -> (dA, dB)": (lambda: backward(dout, cache), 1),
        "step(params, grads): dicts, in place": (lambda: e["step"](params, grads), 1),
        "callback f(x) -> float (numgrad, 3x4)": (
            lambda: e["numgrad"](lambda z: float(np.sum(z ** 2)), x), 1 + 2 * x.size),
        "getattr: a data attribute": (lambda: cls.ALPHA, 1),
    }


def per_round_trip(repeats: int, calls: int) -> None:
    sandbox = Sandbox(0, use_bwrap=False, prestart=False)
    session = Session(sandbox, call_timeout=30.0)
    session.start()
    try:
        assert session.exec_cell(1, STUDENT, 30) is None
        e = session.names(["MatMul", "step", "numgrad"])
        cases = _cases(e)
        print(f"{'round trip':42s} {'grader us':>10s} {'worker us':>10s}   (median of "
              f"{repeats} x {calls} round trips)")
        for name, (op, trips) in cases.items():
            grader, worker = [], []
            n = max(1, calls // trips)
            for _ in range(repeats):
                op()  # warm
                g0, w0 = time.thread_time(), _worker_cpu(session)
                for _ in range(n):
                    op()
                g1, w1 = time.thread_time(), _worker_cpu(session)
                grader.append((g1 - g0) / (n * trips) * 1e6)
                worker.append((w1 - w0) / (n * trips) * 1e6)
            print(f"{name:42s} {statistics.median(grader):10.1f} {statistics.median(worker):10.1f}")
    finally:
        session.close()
        sandbox.close()


def per_submission(hw: str) -> None:
    a = Assignment.named(hw)
    setup = Setup(hw, a.tests_dir, a.solution, a.data_dir, Config(), None,
                  tuple(a.question_order()))
    grader = Grader(setup, 0)
    counts: collections.Counter[str] = collections.Counter()
    request, serve = Session._request, Session._serve_callback

    def counted_request(self: Session, msg: tuple, timeout: float) -> tuple:
        counts[str(msg[0])] += 1
        return request(self, msg, timeout)

    def counted_callback(self: Session, msg: tuple) -> None:
        counts["callback"] += 1
        serve(self, msg)

    session_module.Session._request = counted_request  # type: ignore[method-assign]
    session_module.Session._serve_callback = counted_callback  # type: ignore[method-assign]
    try:
        data = (a.examples_dir / "full.ipynb").read_bytes()
        grade_notebook("warm", "warm", data, grader.suite, grader.sandbox, setup.config)
        counts.clear()
        c0 = time.process_time()
        record = grade_notebook("s", "s", data, grader.suite, grader.sandbox, setup.config)
        cpu = time.process_time() - c0
    finally:
        session_module.Session._request = request  # type: ignore[method-assign]
        session_module.Session._serve_callback = serve  # type: ignore[method-assign]
        grader.sandbox.close()
    score = sum(q.score for q in record.questions)
    total = sum(counts.values())
    kinds = ", ".join(f"{k} {v}" for k, v in counts.most_common())
    print(f"{hw}: {total} round trips per submission ({kinds}); score {score:g}; "
          f"grader CPU {cpu * 1000:.0f} ms (one run)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--calls", type=int, default=400, help="round trips per repeat")
    parser.add_argument("--hw2", action="store_true", help="count hw2's round trips too")
    args = parser.parse_args()
    print(f"code: {os.path.dirname(session_module.__file__)}")
    per_round_trip(args.repeats, args.calls)
    for hw in ("hw1", "hw2") if args.hw2 else ("hw1",):
        per_submission(hw)


if __name__ == "__main__":
    main()
