"""Proxy semantics (docs/architecture.md, "The two graders") against a real sandboxed worker."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from bplab.grade.proxy import StudentError, StudentObject, WorkerLost
from bplab.grade.sandbox import Sandbox
from bplab.grade.session import Session
from bplab.variants import variants

STUDENT = '''
import numpy as np

class Block:
    ALPHA = 0.01
    @staticmethod
    def forward(X):
        return X * 2, {"X": X, "note": object()}
    @staticmethod
    def backward(dout, cache):
        return (2 * dout,)

class SGD:
    def __init__(self, lr):
        self.lr = lr
    def step(self, params, grads):
        for k in params:
            params[k] -= self.lr * grads[k]

def mutate(x):
    x[0, 0] = 42.0
    return None

def numgrad(f, x, h=1e-5):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x); e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g

def overflow(x):
    return np.exp(x)

def warn():
    import warnings
    warnings.warn("careful", RuntimeWarning)
    return 1

def raise_key():
    raise KeyError("missing")

class Custom(Exception):
    pass

def raise_custom():
    raise Custom("mine (diagnosis: fake_code)")

def loop():
    while True:
        pass

def die():
    import os
    os._exit(3)

class Weird:
    def __eq__(self, other):
        return True
    def __array__(self, dtype=None, copy=None):
        return np.ones(3)

weird = Weird()
'''


@pytest.fixture(scope="module")
def env():
    sandbox = Sandbox(0)
    session = Session(sandbox, call_timeout=3.0)
    session.start()
    assert session.exec_cell(1, STUDENT, 10) is None
    names = ["Block", "SGD", "mutate", "numgrad", "overflow", "warn", "raise_key",
             "raise_custom", "loop", "die", "weird", "absent"]
    yield session, session.names(names)
    session.close()
    sandbox.close()


def test_attributes_and_calls_are_forwarded(env):
    _, e = env
    assert "absent" not in e
    assert e["Block"].ALPHA == 0.01
    x = np.arange(6.0).reshape(2, 3)
    out, cache = e["Block"].forward(x)
    assert type(out) is np.ndarray and np.array_equal(out, 2 * x)
    assert isinstance(cache["note"], StudentObject)  # non-plain values stay in the worker
    (dx,) = e["Block"].backward(np.ones((2, 3)), cache)
    assert np.array_equal(dx, 2 * np.ones((2, 3)))


def test_in_place_updates_are_written_back(env):
    _, e = env
    w = np.ones((2, 2))
    params = {"W": w}
    e["SGD"](0.5).step(params, {"W": np.ones((2, 2))})
    assert params["W"] is w and np.allclose(w, 0.5)
    x = np.zeros((2, 2))
    e["mutate"](x)
    assert x[0, 0] == 42.0


def test_callables_become_callbacks(env):
    _, e = env
    calls = []

    def f(z):
        calls.append(1)
        return float(np.sum(z ** 2))

    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    g = e["numgrad"](f, x)
    assert np.allclose(g, 2 * x, atol=1e-6) and len(calls) == 8


def test_errstate_and_warnings_cross(env):
    _, e = env
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        e["overflow"](np.array([1000.0]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert e["warn"]() == 1
    assert [type(w.message) for w in caught] == [RuntimeWarning]


def test_exceptions_keep_builtin_types_and_lose_forged_tags(env):
    _, e = env
    with pytest.raises(KeyError):
        e["raise_key"]()
    with pytest.raises(StudentError) as info:
        e["raise_custom"]()
    assert "Custom" in str(info.value) and "(diagnosis:" not in str(info.value)


def test_student_objects_cannot_answer_comparisons(env):
    _, e = env
    weird = e["weird"]
    assert (weird == 3) is False
    assert np.array_equal(np.asarray(weird), np.ones(3))  # conversions cross as plain data
    with pytest.raises(AttributeError):
        weird.__array_interface__  # noqa: B018 - numpy looks this up: never forwarded


def test_timeout_and_crash_lose_the_worker_then_restart_works():
    sandbox = Sandbox(0, prestart=False)
    session = Session(sandbox, call_timeout=1.0)
    session.start()
    session.exec_cell(1, STUDENT, 10)
    e = session.names(["loop", "die", "Block"])
    with pytest.raises(WorkerLost) as lost:
        e["loop"]()
    assert lost.value.kind == "timeout" and not session.alive
    session.restart()
    session.exec_cell(1, STUDENT, 10)
    e2 = session.names(["die", "Block"])
    with pytest.raises(WorkerLost) as lost:
        e2["die"]()
    assert lost.value.kind == "crash"
    with pytest.raises(WorkerLost):  # a proxy of the dead worker is not usable
        e2["Block"].forward(np.ones(2))
    session.close()


def test_degraded_isolation_still_grades_and_says_so():
    sandbox = Sandbox(0, use_bwrap=False, prestart=False)
    assert "no namespaces" in sandbox.isolation.describe()
    session = Session(sandbox, call_timeout=5.0)
    session.start()
    session.exec_cell(1, STUDENT, 10)
    out, _ = session.names(["Block"])["Block"].forward(np.ones(3))
    assert np.array_equal(out, 2 * np.ones(3))
    session.close()


DAEMON = """
import os, time
def start_daemon(tag):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv('/bin/sleep', ['sleep', tag])
        os._exit(0)
    time.sleep(0.2)
    return 1.0
"""


def test_degraded_isolation_leaves_no_daemon_behind():
    tag = f"{os.getpid()}.4242"
    sandbox = Sandbox(0, use_bwrap=False, prestart=False)
    session = Session(sandbox, call_timeout=5.0)
    session.start()
    session.exec_cell(1, DAEMON, 10)
    assert session.names(["start_daemon"])["start_daemon"](tag) == 1.0
    assert _processes_running(tag), "the planted daemon should be running before the kill"
    session.close()
    assert _processes_running(tag) == []


def _processes_running(arg: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if arg.encode() in f.read().split(b"\0"):
                    found.append(int(pid))
        except OSError:
            pass
    return found


def test_private_tmp_is_mounted_before_the_binds(monkeypatch):
    # A venv under /tmp (a CI clone) must be bound on top of the sandbox's tmpfs, not hidden by it.
    from bplab.grade.sandbox import bwrap
    from bplab.grade.sandbox.limits import Limits

    monkeypatch.setattr(bwrap, "python_dirs", lambda: ["/tmp/clone/.venv", "/opt/python"])
    args = bwrap.bwrap_args(Limits(), None)
    tmpfs = args.index("/tmp") - 1
    assert args[tmpfs] == "--tmpfs"
    binds = [i for i, a in enumerate(args) if a == "--ro-bind" and args[i + 1] != "/usr"]
    assert binds and all(i > tmpfs for i in binds), args


GRADER_THEN_DIE = """
import os, sys, time
from bplab.grade.sandbox import Sandbox
from bplab.grade.session import Session
session = Session(Sandbox(0, use_bwrap=False, prestart=False), call_timeout=5.0)
session.start()
print(session.worker.proc.pid, flush=True)
session.exec_cell(1, "while True: pass", 60)  # busy: it never notices a closed pipe
"""


def test_a_worker_dies_with_its_grader():
    # Student code that kills its grader must not leave the worker running unsupervised.
    import subprocess
    import sys
    import time

    grader = subprocess.Popen([sys.executable, "-c", GRADER_THEN_DIE], stdout=subprocess.PIPE)
    worker_pid = int(grader.stdout.readline())
    assert _alive(worker_pid)
    time.sleep(0.5)  # let the worker enter its endless loop
    grader.kill()
    grader.wait()
    deadline = time.monotonic() + 5
    while _alive(worker_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(worker_pid)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except OSError:
        return False


# The real student ReLU of the bug bank: backward turns the X kept in its cache into a 0/1 mask.
MASKING_RELU = "import numpy as np\n\n" + next(
    b.source for b in variants("hw1") if b.name == "backward turns the cached X into a mask")


def test_a_cache_that_keeps_an_input_is_the_callers_array():
    # A real student ReLU: backward turns the X kept in its cache into a 0/1 mask. Run in one
    # process this overwrites the caller's X; through the proxy the cache must be the caller's
    # array too, so the in-place change lands in it (and the no-mutation checks see it).
    sandbox = Sandbox(0)
    session = Session(sandbox, call_timeout=5.0)
    session.start()
    try:
        _masking_relu_writes_through(session)
    finally:
        session.close()
        sandbox.close()


def _masking_relu_writes_through(session):
    assert session.exec_cell(1, MASKING_RELU, 10) is None
    relu = session.names(["ReLU"])["ReLU"]
    x = np.array([[-1.0, 2.0], [3.0, -4.0]])
    out, cache = relu.forward(x)
    assert cache is x and out is not x
    relu.backward(np.ones((2, 2)), cache)
    assert np.array_equal(x, [[0.0, 1.0], [1.0, 0.0]])


def test_aliases_from_the_worker_never_change_a_value():
    from bplab.grade.proxy import apply_aliases

    x, y = np.ones(3), np.zeros(3)
    result = (np.ones(3), {"c": np.zeros(3)})
    same = apply_aliases(result, [((0,), (0,)), ((1, "c"), (1,))], (x, y), {})
    assert same[0] is x and same[1]["c"] is y
    # A lying worker: unequal values, bad paths, wrong types: each alias is ignored.
    lies = [((0,), (1,)), ((5,), (0,)), ((0,), (7,)), ((0,), ()), ("x", (0,)), ((0,), ("k",)),
            ((0,) * 20, (0,)), 3]
    kept = apply_aliases(result, lies, (x, np.full(3, 2.0)), {})
    assert kept[0] is not x and kept[1]["c"] is result[1]["c"]
    assert apply_aliases(result, "nonsense", (x,), {}) is result


CALLER = '''
import numpy as np

class Double:
    @staticmethod
    def forward(X):
        return X * 0, None

def uses_double(X):
    return Double.forward(X)[0] + 1

def trains(params, optimizer):
    optimizer.step(params, {"w": np.ones(2)})
    return params["w"]
'''


class TrustedDouble:
    @staticmethod
    def forward(X):
        return X * 2, None


class TrustedSGD:
    def step(self, params, grads):
        for k in params:
            params[k] -= 0.5 * grads[k]


def test_trusted_callees_and_stand_ins_stay_in_the_grader():
    # bplab_checks.callees: a student function runs with the grader's version of what it
    # calls (each call comes back to the grader), and a grader object handed to student code
    # updates the student's arrays in place through its stand-in.
    from bplab_checks.callees import trusted_argument, trusted_callees

    sandbox = Sandbox(0)
    session = Session(sandbox, call_timeout=5.0)
    session.start()
    try:
        assert session.exec_cell(1, CALLER, 10) is None
        e = session.names(["uses_double", "trains", "Double"])
        x = np.arange(3.0)
        with trusted_callees(e["uses_double"], {"Double": TrustedDouble}):
            assert np.array_equal(e["uses_double"](x), 2 * x + 1)
        assert np.array_equal(e["uses_double"](x), np.ones(3))  # restored
        optimizer = trusted_argument(e["trains"], TrustedSGD())
        assert isinstance(optimizer, StudentObject)
        assert np.array_equal(e["trains"]({"w": np.zeros(2)}, optimizer), [-0.5, -0.5])
    finally:
        session.close()
        sandbox.close()


# In-place changes the write-back must see, each as a same-process run (Otter's) sees it.
MUTATORS = '''
import numpy as np

def on_a_view(X):
    X[:, 0] *= 2

def in_a_tuple(cache):
    cache[1][0, 0] = 7.0

def in_a_dict(params):
    params["W"][1] += 1.0

def changed_then_restored(X):
    X[0, 0] += 1.0
    X[0, 0] -= 1.0

def to_minus_zero(X):
    X[X == 0] *= -1.0

def swapped(X):
    X[[0, -1]] = X[[-1, 0]]

def rebound(params):
    params["W"] = params["W"] * 2

def kept_in_its_cache(X):
    return X.sum(), (X,)

def through_the_cache(cache):
    cache[0][...] = 0.0
'''


@pytest.fixture(scope="module")
def mut():
    # A session of its own: the earlier tests of this file leave env's worker gone (a test
    # that kills a grader's workers by uid), and these need a live one.
    sandbox = Sandbox(0)
    session = Session(sandbox, call_timeout=5.0)
    session.start()
    assert session.exec_cell(1, STUDENT, 10) is None
    assert session.exec_cell(2, MUTATORS, 10) is None
    yield session
    session.close()
    sandbox.close()


def _fresh():
    x = np.array([[0.0, 1.5, -2.0], [3.0, 0.0, 4.5]])
    return x, (x.copy(), x.copy()), {"W": x.copy(), "b": np.zeros(3)}


def _run_mutator(name, fn):
    x, cache, params = _fresh()
    arg = {"in_a_tuple": cache, "in_a_dict": params, "rebound": params}.get(name, x)
    fn(arg)
    return [a.tobytes() for a in (x, *cache, *params.values())] + [sorted(params)]


@pytest.mark.parametrize("name", ["on_a_view", "in_a_tuple", "in_a_dict",
                                  "changed_then_restored", "to_minus_zero", "swapped",
                                  "rebound"])
def test_in_place_changes_reach_the_caller_as_in_one_process(mut, name):
    student = mut.names([name])[name]
    namespace: dict = {}
    exec(MUTATORS, namespace)  # noqa: S102 - our own fixture code, run as Otter runs it
    assert _run_mutator(name, student) == _run_mutator(name, namespace[name])
    if name != "changed_then_restored":  # every other one changes something
        assert _run_mutator(name, student) != _run_mutator(name, lambda a: None)


def test_a_change_through_a_kept_cache_reaches_the_callers_array(mut):
    e = mut.names(["kept_in_its_cache", "through_the_cache"])
    x = np.ones((2, 2))
    _, cache = e["kept_in_its_cache"](x)
    assert cache[0] is x
    e["through_the_cache"](cache)
    assert not x.any()


def _sent_errstates(monkeypatch):
    sent = []
    request = Session._request

    def spy(self, msg, timeout):
        if msg[0] == "call":
            sent.append(msg[4])
        return request(self, msg, timeout)

    monkeypatch.setattr(Session, "_request", spy)
    return sent


def test_the_errstate_crosses_only_when_it_changes(mut, monkeypatch):
    e = mut.names(["overflow"])
    sent = _sent_errstates(monkeypatch)
    big = np.array([1000.0])
    with np.errstate(over="raise"):
        for _ in range(2):
            with pytest.raises(FloatingPointError):
                e["overflow"](big)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isinf(e["overflow"](big)).all()  # the worker has the grader's errstate again
        assert np.isinf(e["overflow"](big)).all()
    assert [s if s is None else s["over"] for s in sent] == ["raise", None, "warn", None]


def test_a_stale_errstate_cache_would_be_caught(mut, monkeypatch):
    # A planted bug: the grader believes the worker has its errstate when it does not; the
    # overflow check above then fails (the worker raises where the grader asked it not to).
    session, e = mut, mut.names(["overflow"])
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        e["overflow"](np.array([1000.0]))
    monkeypatch.setattr(session, "_errstate", np.geterr())
    with pytest.raises(FloatingPointError):
        e["overflow"](np.array([1000.0]))
    monkeypatch.setattr(session, "_errstate", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isinf(e["overflow"](np.array([1000.0]))).all()


def test_a_worker_has_one_poll_object_per_direction(mut, monkeypatch):
    import select

    e = mut.names(["Block"])
    made = []
    poll = select.poll
    monkeypatch.setattr(select, "poll", lambda: made.append(1) or poll())
    for _ in range(5):
        e["Block"].forward(np.ones((2, 2)))
    assert made == []
