"""A zygote per grader slot: each isolation property of a forked child, each shown to fail on
the planted bug of leaving its step out (``Zygote(omit=...)``), the zygote's own crash as a
grader fault with the slot restarted, and the automatic fallback to bwrap per submission.

Every test here needs namespaces that nest inside bubblewrap; where they do not, the module
is skipped with the reason the sandbox gives (and the fallback keeps its tests elsewhere)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import pytest
from bplab.grade import record
from bplab.grade.proxy import GraderFault, WorkerLost
from bplab.grade.sandbox import Limits, Sandbox, reaping, seccomp
from bplab.grade.sandbox import zygote as zygote_mod
from bplab.grade.sandbox.zygote import Zygote, ZygoteWorker
from bplab.grade.session import Session

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sandbox():
    box = Sandbox(0, prestart=False)
    if not box.isolation.zygote:
        box.close()
        pytest.skip(f"no zygote on this machine: {box.isolation.describe()}")
    yield box
    box.close()


def _planted(sandbox: Sandbox, *omit: str) -> Sandbox:
    """``sandbox`` with its zygote replaced by one that leaves out the ``omit`` steps."""
    sandbox.close()
    sandbox._zygote.append(Zygote(sandbox.limits, None, seccomp.program(), frozenset(omit)))
    return sandbox


@pytest.fixture
def planted():
    boxes: list[Sandbox] = []

    def make(*omit: str) -> Sandbox:
        box = Sandbox(0, prestart=False)
        boxes.append(box)
        return _planted(box, *omit)

    yield make
    for box in boxes:
        box.close()


def _run(sandbox: Sandbox, source: str, name: str = "out"):
    session = Session(sandbox, call_timeout=10.0)
    session.start()
    try:
        error = session.exec_cell(1, source, 20)
        assert error is None, error
        return session.names([name])[name]
    finally:
        session.close()


# ------------------------------------------------------------------ what the string says
def test_the_isolation_string_says_which_ran(sandbox):
    text = sandbox.isolation.describe()
    assert "zygote" in text and "fresh pid+net+ipc+uts+mount namespaces" in text
    assert "seccomp" in text and "own uid" in text
    per = Sandbox(0, prestart=False, use_zygote=False)
    try:
        assert not per.isolation.zygote and "bwrap per submission" in per.isolation.describe()
        assert _run(per, "out = 6 * 7") == 42  # the fallback still grades
    finally:
        per.close()


def test_a_zygote_that_cannot_run_falls_back_to_bwrap_per_submission(monkeypatch):
    from bplab.grade import sandbox as sandbox_pkg

    def refuse(*args, **kwargs):
        raise zygote_mod.ZygoteLost("namespaces do not nest here (planted)")

    monkeypatch.setattr(sandbox_pkg, "Zygote", refuse)
    monkeypatch.setattr(sandbox_pkg, "_NO_ZYGOTE", {})
    box = Sandbox(0, prestart=False)
    try:
        assert not box.isolation.zygote
        text = box.isolation.describe()
        assert "bwrap per submission" in text and "no zygote: namespaces do not nest" in text
        assert _run(box, "out = 1 + 1") == 2
    finally:
        box.close()


# ------------------------------------------------------------------ before any student code
STATUS = """
fields = {}
for line in open('/proc/self/status'):
    key, _, value = line.partition(':')
    fields[key] = value.split()
out = {k: fields[k] for k in ('Uid', 'Gid', 'CapEff', 'CapPrm', 'CapAmb', 'NoNewPrivs',
                              'Seccomp')}
"""


def _status_is_locked_down(status: dict, uid: int) -> list[str]:
    wrong = []
    if status["Uid"] != [str(uid)] * 4 or status["Gid"] != [str(uid)] * 4:
        wrong.append("uid")
    if any(int(status[k][0], 16) for k in ("CapEff", "CapPrm", "CapAmb")):
        wrong.append("capabilities")
    if status["NoNewPrivs"] != ["1"]:
        wrong.append("no_new_privs")
    if status["Seccomp"] != ["2"]:  # SECCOMP_MODE_FILTER
        wrong.append("seccomp")
    return wrong


def test_uid_no_new_privs_and_seccomp_hold_from_the_first_cell(sandbox):
    status = _run(sandbox, STATUS)
    assert _status_is_locked_down(status, int(status["Uid"][0])) == []
    assert int(status["Uid"][0]) in sandbox.uids


def test_planted_no_seccomp_and_no_uid_drop_are_caught(planted):
    box = planted("seccomp")
    status = _run(box, STATUS)
    # no_new_privs holds regardless: bubblewrap sets it on the zygote, and children inherit it.
    assert _status_is_locked_down(status, box.uids[0]) == ["seccomp"]
    # A child that kept root is refused by the grader before it runs anything: the kernel's
    # credentials of its first message name the uid (and the status check would see it too).
    with pytest.raises(GraderFault, match="kept uid 0"):
        _run(planted("uid"), STATUS)


KERNEL_CALLS = r"""
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
def tried(rc):
    return "allowed" if rc == 0 else errno.errorcode[ctypes.get_errno()]
out = {
    "unshare_user": tried(libc.unshare(0x10000000)),
    "unshare_pid": tried(libc.unshare(0x20000000)),
    "mount": tried(libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)),
    "ptrace": tried(0 if libc.syscall(101, 0, 0, 0, 0) >= 0 else -1),  # PTRACE_TRACEME
    "setns": tried(0 if libc.syscall(308, os.open("/proc/self/ns/net", os.O_RDONLY), 0) >= 0
                   else -1),
}
"""


def test_unshare_mount_ptrace_setns_fail_in_the_child(sandbox):
    assert _run(sandbox, KERNEL_CALLS) == dict.fromkeys(
        ("unshare_user", "unshare_pid", "mount", "ptrace", "setns"), "EPERM")


def test_planted_no_seccomp_lets_a_call_through(planted):
    # Without the filter, an unprivileged uid may still trace itself (and make a user namespace
    # where the kernel allows them): the test above would see it.
    calls = _run(planted("seccomp"), KERNEL_CALLS)
    assert "allowed" in calls.values(), calls


OPEN_FDS = """
import os
out = {}
for fd in os.listdir('/proc/self/fd'):
    try:
        out[int(fd)] = os.readlink(f'/proc/self/fd/{fd}').split(':')[0]
    except OSError:
        pass  # the listing's own fd, closed already
"""


def test_no_fd_but_the_pipes_is_open(sandbox):
    fds = _run(sandbox, OPEN_FDS)
    assert [fds[i] for i in (0, 1, 2)] == ["/dev/null"] * 3
    others = sorted(v for k, v in fds.items() if k > 2)
    assert others == ["pipe", "pipe"], fds


def test_planted_kept_fds_are_caught(planted):
    fds = _run(planted("close_fds"), OPEN_FDS)
    assert "socket" in fds.values(), fds  # the control socket to the grader


# ------------------------------------------------------------------ between two children
DRAW = """
import numpy as np, random
out = (np.random.rand(4).tolist(), random.random())
"""


def test_two_children_draw_different_numbers(sandbox):
    first, second = _run(sandbox, DRAW), _run(sandbox, DRAW)
    assert first[0] != second[0] and first[1] != second[1]


def test_planted_no_reseed_repeats_numpys_draws(planted):
    box = planted("reseed")
    assert _run(box, DRAW)[0] == _run(box, DRAW)[0]


LEAVE_TRACES = f"""
import os, time
for path in ('/tmp/left', '/dev/shm/left'):
    open(path, 'w').write('x')
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv('/bin/sleep', ['sleep', '{os.getpid()}.4321'])
    os._exit(0)
time.sleep(0.2)
out = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
"""
LOOK = """
import os
out = (os.path.exists('/tmp/left'), os.path.exists('/dev/shm/left'),
       sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))
"""


def _sleepers() -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if f"{os.getpid()}.4321".encode() in f.read():
                        found.append(int(pid))
            except OSError:
                pass
    return found


def test_a_child_sees_no_file_or_process_of_the_one_before(sandbox, monkeypatch):
    # The pid namespace is the kill: no /proc scan by uid or by parent after a zygote child.
    def no_scan(*args):
        raise AssertionError("a /proc scan after a zygote child")

    from bplab.grade import sandbox as sandbox_pkg

    for module in (reaping, sandbox_pkg):
        monkeypatch.setattr(module, "kill_uid", no_scan)
        monkeypatch.setattr(module, "kill_orphans", no_scan)
    before = _run(sandbox, LEAVE_TRACES)
    assert len(before) >= 2 and before[0] == 1  # pid 1, its daemon: its own pid namespace
    assert _sleepers() == []  # gone when kill() returned, daemon included
    assert _run(sandbox, LOOK) == (False, False, [1])


def test_planted_shared_tmp_is_caught(planted):
    box = planted("tmpfs")
    _run(box, LEAVE_TRACES)
    assert _run(box, LOOK)[0] is True


def test_the_pid_is_the_kernels_and_in_our_namespace(sandbox):
    session = Session(sandbox, call_timeout=10.0)
    session.start()
    try:
        worker = session.worker
        assert isinstance(worker, ZygoteWorker)
        with open(f"/proc/{worker.proc.pid}/status") as f:
            status = dict(line.rstrip("\n").split(":\t", 1) for line in f)
        # NSpid: our number for it first, then bwrap's, then 1 in its own namespace.
        nspid = status["NSpid"].split()
        assert nspid[0] == str(worker.proc.pid) and nspid[-1] == "1" and len(nspid) >= 3
        assert status["Uid"].split()[0] == str(worker.uid)
    finally:
        session.close()
    assert session.worker.proc.returncode is not None


# ------------------------------------------------------------------ the zygote itself
def _zygote_pid(zygote: Zygote) -> int:
    """The zygote's pid: the one process in its bubblewrap's pid namespace (not a nested one)
    that is not bubblewrap, whatever its command line says."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != zygote.proc.pid and _descends(int(pid),
                                                                       zygote.proc.pid):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().split(b"\0")
                with open(f"/proc/{pid}/status") as f:
                    depth = [len(line.split()) - 1 for line in f if line.startswith("NSpid:")]
            except OSError:
                continue
            if cmd[0] != b"bwrap" and depth == [2]:
                found.append(int(pid))
    assert len(found) == 1, found
    return found[0]


def _descends(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                pid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except OSError:
            return False
    return False


def test_the_zygote_is_exec_fresh_and_single_threaded(sandbox):
    zygote = sandbox.zygote
    assert zygote is not None and zygote.threads == 1
    pid = _zygote_pid(zygote)
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        cmd = f.read().split(b"\0")
    # exec'd: its own command line (a fork of the grader would show pytest's), isolated
    assert cmd[:4] == [sys.executable.encode(), b"-I", b"-S", b"/opt/bplab/zygote_main.py"]
    assert len(os.listdir(f"/proc/{pid}/task")) == 1
    with open(f"/proc/{pid}/environ", "rb") as f:
        assert b"PYTEST" not in f.read()  # none of the grader's environment


def _kill_zygote_soon(zygote: Zygote, delay: float) -> threading.Thread:
    def kill():
        time.sleep(delay)
        os.kill(_zygote_pid(zygote), signal.SIGKILL)

    thread = threading.Thread(target=kill)
    thread.start()
    return thread


def test_a_zygote_crash_is_a_grader_fault_then_the_slot_restarts(sandbox):
    session = Session(sandbox, call_timeout=10.0)
    session.start()
    old = sandbox.zygote
    thread = _kill_zygote_soon(old, 0.5)
    with pytest.raises(GraderFault) as fault:
        session.exec_cell(1, "import time\ntime.sleep(5)", 10)
    thread.join()
    assert fault.value.cause == "sandbox" and "zygote" in str(fault.value)
    assert not session.alive
    # The grader's record of it: a fault of the grader, not the student's crash.
    rec = record.Record("s", "s.ipynb", "graded").mark_grader_fault(
        fault.value.cause, str(fault.value), {"q": 1.0})
    assert rec.status == "grader_error" and rec.cause == "sandbox"
    # The slot starts a new zygote for what comes next (a restart is a fork of it).
    session.restart()
    assert sandbox.zygote is not old and sandbox.zygote.alive()
    assert session.exec_cell(1, "x = 2", 5) is None and session.names(["x"]) == {"x": 2}
    zygote_now = sandbox.zygote
    session.restart()
    assert sandbox.zygote is zygote_now
    session.close()


def test_planted_unchecked_zygote_crash_would_blame_the_student(sandbox, monkeypatch):
    monkeypatch.setattr(ZygoteWorker, "grader_fault", lambda self: None)
    session = Session(sandbox, call_timeout=10.0)
    session.start()
    thread = _kill_zygote_soon(sandbox.zygote, 0.5)
    with pytest.raises(WorkerLost):  # what the check above prevents: the student's "crash"
        session.exec_cell(1, "import time\ntime.sleep(5)", 10)
    thread.join()
    session.close()


def test_a_crash_or_timeout_restart_is_a_fork(sandbox):
    session = Session(sandbox, call_timeout=1.0)
    session.start()
    zygote = sandbox.zygote
    first = session.worker.proc.pid
    with pytest.raises(WorkerLost):
        session.exec_cell(1, "while True: pass", 1.0)
    session.restart()
    with pytest.raises(WorkerLost) as lost:
        session.exec_cell(1, "import os\nos._exit(3)", 5)
    assert "code 3" in lost.value.detail  # the exit status, reaped by the zygote on request
    session.restart()
    assert sandbox.zygote is zygote and session.worker.proc.pid != first
    session.close()


GRADER_THEN_DIE = """
from bplab.grade.sandbox import Sandbox
from bplab.grade.session import Session
session = Session(Sandbox(0, prestart=False), call_timeout=5.0)
session.start()
print(session.worker.proc.pid, flush=True)
session.exec_cell(1, "while True: pass", 60)
"""


def test_a_child_dies_with_its_grader(sandbox):
    grader = subprocess.Popen([sys.executable, "-c", GRADER_THEN_DIE], stdout=subprocess.PIPE)
    assert grader.stdout is not None
    pid = int(grader.stdout.readline())
    assert os.path.exists(f"/proc/{pid}")
    time.sleep(0.3)
    grader.kill()
    grader.wait()
    deadline = time.monotonic() + 5
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{pid}")


def test_limits_are_those_of_the_child_not_the_zygote(sandbox):
    limits = Limits()
    out = _run(sandbox, "import resource\nout = [resource.getrlimit(r)[0] for r in "
                        "(resource.RLIMIT_AS, resource.RLIMIT_NPROC, resource.RLIMIT_NOFILE)]")
    assert out == [limits.memory_bytes, limits.processes, limits.open_files]


DATA = """
import os
text = open('/tmp/data/points.csv').read()
try:
    open('/tmp/data/new', 'w')
    wrote = 'allowed'
except OSError as exc:
    wrote = exc.errno
out = (text, wrote, os.getcwd())
"""


def test_the_data_folder_is_bound_read_only_into_each_fresh_tmp(sandbox, tmp_path):
    (tmp_path / "points.csv").write_text("1,2\n")
    tmp_path.chmod(0o755)  # readable by the child's uid (its parents are not on its path)
    box = Sandbox(0, prestart=False, data_dir=tmp_path)
    try:
        assert box.isolation.zygote
        assert _run(box, DATA) == ("1,2\n", 30, "/tmp")  # EROFS
        assert _run(box, DATA)[0] == "1,2\n"  # the next child's fresh /tmp has it too
    finally:
        box.close()

KEPT = """
import sys
sys.path.insert(0, {kept!r})
import kept_module
try:
    open({kept!r} + "/new.txt", "w")
    wrote = 0
except OSError as exc:
    wrote = exc.errno
out = (kept_module.VALUE, wrote)
"""


def test_interpreter_dirs_under_tmp_are_bound_again_on_each_fresh_tmp(monkeypatch):
    """A venv that lives under /tmp (a CI clone) stays visible, read-only, in every child,
    though each child mounts a fresh /tmp (found by a notebook importing matplotlib, which the
    zygote had not preloaded, in a clone under /tmp)."""
    from bplab.grade.sandbox import bwrap

    kept = tempfile.mkdtemp(prefix="bplab-venv-", dir="/tmp")
    os.chmod(kept, 0o755)
    with open(os.path.join(kept, "kept_module.py"), "w") as f:
        f.write("VALUE = 42\n")
    real = bwrap.python_dirs
    monkeypatch.setattr(bwrap, "python_dirs", lambda: [*real(), kept])
    monkeypatch.setattr(zygote_mod, "python_dirs", bwrap.python_dirs)
    box = Sandbox(0, prestart=False)
    try:
        assert box.isolation.zygote
        assert _run(box, KEPT.format(kept=kept)) == (42, 30)  # EROFS
        assert _run(box, KEPT.format(kept=kept)) == (42, 30)  # and in the next child's
    finally:
        box.close()
        shutil.rmtree(kept, ignore_errors=True)
