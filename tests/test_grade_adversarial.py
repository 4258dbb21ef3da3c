"""Hostile and broken submissions against the real sandbox: every one gets a record, hostile
code never gains a point, honest code beside it keeps its points, nothing hidden leaks, and
no process a submission started outlives it."""

from __future__ import annotations

import fcntl
import json
import os
import re
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest
from adversarial import (
    BROKEN_FILES,
    HOSTILE,
    HW1_POINTS,
    MARKER,
    RESOURCE_PROBES,
    SECRETS,
    STOP_READING,
    write,
)
from bplab.grade.command import run_grade
from bplab.grade.proxy import WorkerLost
from bplab.grade.record import Config
from bplab.grade.sandbox import BASE_UID, UID_RANGE, Limits, Sandbox
from bplab.grade.session import Session
from bplab.layout import Assignment, GradingDir

pytestmark = [pytest.mark.hw1, pytest.mark.slow]

# Short limits keep the infinite loops cheap; honest hw1 code needs a fraction of a second.
CONFIG = Config(cell_timeout=4.0, call_timeout=4.0, submission_timeout=90.0)


class _Listener:
    """A loopback TCP server that records whether anything connected."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


def _processes_with(text: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if text.encode() in f.read():
                        found.append(int(pid))
            except OSError:
                pass
    return found


def _processes_of_free_grader_uids() -> list[int]:
    """Processes running under a grader uid that no live grader holds (there must be none)."""
    lock_dirs = [Path("/run/bplab-uids"), Path(tempfile.gettempdir()) / "bplab-uids"]
    by_uid: dict[int, list[int]] = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                uid = os.stat(f"/proc/{pid}").st_uid
            except OSError:
                continue
            if BASE_UID <= uid < BASE_UID + UID_RANGE:
                by_uid.setdefault(uid, []).append(int(pid))
    leftover = []
    for uid, pids in by_uid.items():
        for lock_dir in lock_dirs:
            lock = lock_dir / f"{uid}.lock"
            if not lock.exists():
                continue
            fd = os.open(lock, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                break  # a live grader holds this uid: its processes are its own business
            finally:
                os.close(fd)
            leftover += pids
            break
    return leftover


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    subs = tmp_path_factory.mktemp("subs")
    out = tmp_path_factory.mktemp("out")
    listener = _Listener()
    try:
        for name, case in HOSTILE.items():
            case.define = {k: v.replace("__PORT__", str(listener.port))
                           for k, v in case.define.items()}
            write(case, subs / f"{name}.ipynb")
        for name, (data, _) in BROKEN_FILES.items():
            (subs / name).write_bytes(data)
        records = run_grade("hw1", [subs], out, jobs=2, config=CONFIG, quiet=True)
    finally:
        listener.close()
    return {r.stem: r for r in records}, out, listener


def _scores(record):
    return {q.name: q.score for q in record.questions}


def test_every_submission_has_a_record(graded):
    records, out, _ = graded
    expected = set(HOSTILE) | {n.removesuffix(".ipynb") for n in BROKEN_FILES}
    assert set(records) == expected
    rows = GradingDir(out).grades_csv.read_text().splitlines()
    assert len(rows) == 1 + len(expected)
    for stem in expected:
        data = json.loads(GradingDir(out).results(stem).read_text())
        # every question, in notebook order (layout.check_order)
        assert [t["name"] for t in data["tests"]] == Assignment.named("hw1").question_order()
        assert GradingDir(out).feedback(stem).is_file()


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_outcome(graded, name):
    records, _, _ = graded
    case, record = HOSTILE[name], records[name]
    assert record.status == "graded", record.reason
    scores = _scores(record)
    for q in case.zero:
        assert scores[q] == 0, f"{name}: {q} should score 0"
    for q in case.below_max:
        assert scores[q] < HW1_POINTS[q], f"{name}: {q} should lose points"
    keep = case.full if case.full is not None else set(HW1_POINTS) - case.zero - case.below_max
    for q in keep:
        assert scores[q] == HW1_POINTS[q], f"{name}: honest {q} lost points: {record.questions}"
    notes = "\n".join(record.cell_notes)
    for text in case.notes:
        assert text in notes, f"{name}: expected {text!r} in the notes {record.cell_notes}"


@pytest.mark.parametrize("name", sorted(BROKEN_FILES))
def test_broken_file_gets_its_status(graded, name):
    records, _, _ = graded
    record = records[name.removesuffix(".ipynb")]
    assert record.status == BROKEN_FILES[name][1]
    assert record.reason
    assert record.score == 0


def test_nothing_hidden_in_any_output(graded):
    _, out, _ = graded
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            for secret in SECRETS:
                assert secret not in text, f"{secret!r} leaked into {path}"


def test_forged_diagnosis_and_results_do_not_count(graded):
    records, out, _ = graded
    forged = records["forged_results"]
    assert all("forged_code" not in q.diagnoses for q in forged.questions)
    assert "(diagnosis: forged_code)" not in json.dumps(forged.to_dict(), ensure_ascii=False)
    data = json.loads(GradingDir(out).results("forged_results").read_text())
    assert data["score"] == forged.score < sum(HW1_POINTS.values())
    assert not (out / "results.json").exists()


def test_no_network(graded):
    _, _, listener = graded
    assert listener.connections == 0


def test_no_process_survives(graded):
    assert _processes_with(MARKER.split("-")[-1]) == []
    if os.geteuid() == 0:
        assert _processes_of_free_grader_uids() == []


def test_isolation_is_reported(graded):
    records, _, _ = graded
    isolation = records["canary"].isolation
    assert isolation == Sandbox(0).isolation.describe()
    assert "rlimits" in isolation


# --------------------------------------------------------------------------- issue 10's classes
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def test_text_from_the_worker_is_clean_printable_utf8(graded):
    # Class 2 and 8: a lone surrogate once crashed the results writer; escapes were kept raw.
    records, out, _ = graded
    record = records["bad_text"]
    for text in _strings(record.to_dict()):
        assert not _UNPRINTABLE.search(text), repr(text)
    # The message itself reached the record, without its escape sequences.
    assert any("RuntimeError: \ufffd" in n and "lone red" in n for n in record.cell_notes)
    for path in (GradingDir(out).results("bad_text"), GradingDir(out).feedback("bad_text")):
        path.read_bytes().decode("utf-8")  # strict: valid UTF-8


def test_student_sizes_stay_the_students_problem(graded):
    # Class 4: uncapped error text filled MBs; grown IPython lines became a grader fault.
    records, out, _ = graded
    for stem in ("huge_errors", "shell_lines"):
        assert records[stem].status == "graded", records[stem].reason
        assert GradingDir(out).results(stem).stat().st_size < 400_000
        assert GradingDir(out).feedback(stem).stat().st_size < 400_000
    assert len(records["shell_lines"].cell_notes) < 100


def test_student_names_cannot_forge_a_diagnosis(graded):
    # Class 6: an exception type's __name__ and an object's __name__ reach grader messages.
    records, out, _ = graded
    record = records["forged_names"]
    assert not [q.diagnoses for q in record.questions if q.diagnoses
                and any(c.startswith("forged") for c in q.diagnoses)]
    assert "(diagnosis: forged" not in json.dumps(record.to_dict(), ensure_ascii=False)
    written = json.loads(GradingDir(out).results("forged_names").read_text())
    codes = [c for cs in written["extra_data"]["bplab"]["diagnoses"].values() for c in cs]
    assert not [c for c in codes if "forged" in c], codes


def test_continuation_lines_survive_the_ipython_rewrite(graded):
    # Class 7: a continuation line starting with `!=` or `%` used to become `pass`.
    records, _, _ = graded
    record = records["continuation_lines"]
    assert _scores(record) == HW1_POINTS
    assert not [n for n in record.cell_notes if "IPython" in n], record.cell_notes


def _session(**kw):
    sandbox = Sandbox(0, prestart=False)
    session = Session(sandbox, call_timeout=kw.pop("call_timeout", 3.0), **kw)
    session.start()
    return session



def test_a_worker_that_stops_reading_is_a_timeout_not_a_hang():
    # Class 1: a send of more than a pipe's buffer used to block the grader forever.
    session = _session()
    assert session.exec_cell(1, STOP_READING, 5) is None
    started = time.monotonic()
    with pytest.raises(WorkerLost) as lost:
        session.exec_cell(2, "x = 1  # " + "y" * 300_000, 2.0)
    assert lost.value.kind == "timeout" and time.monotonic() - started < 10
    session.close()


def test_the_submission_deadline_bounds_every_wait():
    session = _session(call_timeout=600.0, deadline=time.monotonic() + 4)
    assert session.exec_cell(1, STOP_READING, 600) is None
    started = time.monotonic()
    with pytest.raises(WorkerLost):
        session.exec_cell(2, "x = 1  # " + "y" * 300_000, 600)
    assert time.monotonic() - started < 10
    session.close()



def test_whole_submission_resources_are_bounded():
    # Class 5 (and 8's torch): memfd/shm outside RLIMIT_AS, new namespaces, kernel surface.
    session = _session()
    error = session.exec_cell(1, RESOURCE_PROBES, 20)
    assert error is None, error
    probe = session.names(["probe"])["probe"]
    session.close()
    limits = Limits()
    assert probe.pop("forks") < limits.processes
    assert probe.pop("torch") == "absent"
    full = ("refused 28", "refused 13")  # ENOSPC: a sized tmpfs; EACCES: not writable at all
    assert probe.pop("fill_dev_shm") in full and probe.pop("fill_tmp") in full
    # Refused by the filter: EPERM before the kernel looks at the (dummy) arguments.
    assert {k: v for k, v in probe.items() if v != "refused 1"} == {}
    assert limits.processes * limits.memory_bytes <= limits.budget_bytes
    isolation = Sandbox(0, prestart=False).isolation.describe()
    assert "seccomp" in isolation and "sized tmpfs" in isolation


CALLBACKS = """
saved = []
def keep(cb):
    saved.append(cb)
    return 1
def use_saved(cb):
    return saved[0]()
"""


def test_a_stale_callback_cannot_call_a_later_requests_function():
    # Class 8: callback ids restarted per request, so an old stub reached the new callable.
    session = _session()
    assert session.exec_cell(1, CALLBACKS, 5) is None
    e = session.names(["keep", "use_saved"])
    called = []
    assert e["keep"](lambda: called.append("first")) == 1
    # Callbacks live as long as the worker (hw3's Graph calls grader blocks in later calls), so
    # the kept stub reaches only the function it was given, never the later request's one.
    e["use_saved"](lambda: called.append("second") or 2)
    assert called == ["first"]
    session.close()


# Student code writes its own reply frame: a fast-path tuple of float64 arrays that lies. The
# grader must refuse it as a protocol violation (never crash, never hang, never build it).
FORGE = """
import sys
_m = sys.modules['__main__']
def forge(payload):
    _m.codec.write_frame(_m.FD_OUT, payload)
    return 1
"""
_FAST_LIES = {
    "count past the frame": b"A\xff\xff\xff\xff\x00",
    "rank 200": b"A\x00\x00\x00\x01\xc8" + b"\x01" * 64,
    "negative dimension": b"A\x00\x00\x00\x01\x01" + (-5).to_bytes(8, "little", signed=True),
    "claims more data than sent": b"A\x00\x00\x00\x01\x01" + (10**6).to_bytes(8, "little"),
    "a reply of 2**32 - 1 bytes": None,
}


@pytest.mark.parametrize("name", sorted(_FAST_LIES))
def test_a_forged_fast_path_reply_loses_the_worker(name):
    session = _session()
    assert session.exec_cell(1, FORGE, 5) is None
    forge = session.names(["forge"])["forge"]
    lie = _FAST_LIES[name]
    started = time.monotonic()
    with pytest.raises(WorkerLost) as lost:
        if lie is None:  # a length prefix past MAX_FRAME, then nothing
            session.exec_cell(2, "import os, sys\n_m = sys.modules['__main__']\n"
                                 "os.write(_m.FD_OUT, b'\\xff\\xff\\xff\\xff')\n", 5)
        else:
            forge(b"t\x00\x00\x00\x02s\x00\x00\x00\x02ok" + lie)  # (OK, <the lie>)
    assert lost.value.kind == "protocol" and time.monotonic() - started < 10
    assert not session.alive
    session.close()
