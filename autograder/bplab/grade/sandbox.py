"""Start and kill the sandboxed worker processes.

The preferred layer is bubblewrap: new pid, network, ipc, uts and mount namespaces, a tmpfs as
``/tmp`` (also the working directory), read-only binds of only what Python and numpy need
(``/usr``, the interpreter, the venv) plus the worker's own three files; not the repository,
the solutions or the test files. Under it the worker runs with resource limits (address space,
CPU time, processes, file size, open files), as an unprivileged uid of its own when the grader
runs as root, and it dies with its parent. Killing the sandbox's first process tears down the
pid namespace, and with it every process the submission started (daemons included).

When bubblewrap is missing or does not work here, the worker runs as a plain process with the
same limits and uid and is killed by process group and by uid; the isolation string written in
every result says which layers were in force. Grading never refuses for want of a layer.
"""

from __future__ import annotations

import ctypes
import fcntl
import functools
import multiprocessing
import os
import resource
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKER_FILES = {  # path inside the sandbox (under /opt/bplab) -> source file
    "worker.py": HERE / "worker.py",
    "codec.py": HERE / "codec.py",
    "stubs/otter/__init__.py": HERE / "stubs" / "otter" / "__init__.py",
}
SANDBOX_DIR = "/opt/bplab"
BASE_UID = 61000  # root-run graders claim uids from here (no login, no files) ...
UID_RANGE = 2000  # ... up to BASE_UID + UID_RANGE
PR_SET_PDEATHSIG = 1  # linux/prctl.h
PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True)
class Limits:
    """Per-worker resource limits (set with setrlimit before the worker starts)."""

    memory_bytes: int = 3 * 1024**3
    cpu_seconds: int = 900
    processes: int = 64
    file_bytes: int = 16 * 1024**2
    open_files: int = 256
    tmp_bytes: int = 64 * 1024**2


@dataclass(frozen=True)
class Isolation:
    """Which layers are in force; ``describe()`` is what outputs print."""

    bwrap: bool
    uid: bool
    note: str = ""
    layers: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        parts = list(self.layers)
        text = ", ".join(parts)
        return f"{text} ({self.note})" if self.note else text


def _as_root() -> bool:
    return os.geteuid() == 0


def _python_dirs() -> list[str]:
    """Directories the interpreter and its packages live in (real paths, outermost first)."""
    dirs = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, sys.exec_prefix)}
    for key in ("purelib", "platlib", "stdlib", "platstdlib"):
        dirs.add(os.path.realpath(sysconfig.get_paths()[key]))
    exe = os.path.realpath(sys.executable)
    dirs.add(os.path.dirname(exe))
    out: list[str] = []
    for d in sorted(dirs, key=len):
        if not any(d == o or d.startswith(o + "/") for o in out) and not d.startswith("/usr/"):
            out.append(d)
    return out


def site_dirs() -> list[str]:
    """The package directories the worker puts on ``sys.path`` (it runs with ``-S``)."""
    paths = sysconfig.get_paths()
    return list(dict.fromkeys([paths["purelib"], paths["platlib"]]))


def _bwrap_args(limits: Limits, data_dir: Path | None) -> list[str]:
    args = ["bwrap"]
    if _as_root():
        # No user namespace: the worker drops to a real unprivileged uid, so RLIMIT_NPROC holds.
        args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                 "--unshare-cgroup-try", "--cap-add", "CAP_SETUID,CAP_SETGID"]
    else:
        args += ["--unshare-all"]
    args += ["--die-with-parent", "--new-session", "--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    # The private /tmp comes before the binds: a venv that lives under /tmp (a CI clone) must be
    # bound on top of it, not hidden by it.
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp",
             "--chmod", "1777", "/tmp"]
    made: set[str] = {"/", "/usr", "/tmp", "/opt"}
    binds = [(d, d) for d in _python_dirs()]
    binds += [(str(src), f"{SANDBOX_DIR}/{dst}") for dst, src in WORKER_FILES.items()]
    for _, dst in binds:
        parts = Path(dst).parent.parts
        for i in range(2, len(parts) + 1):
            anc = "/".join(parts[:i]).replace("//", "/")
            if anc not in made:
                args += ["--perms", "0755", "--dir", anc]
                made.add(anc)
    for src, dst in binds:
        args += ["--ro-bind", src, dst]
    if data_dir is not None and data_dir.is_dir():
        args += ["--ro-bind", str(data_dir), "/tmp/data"]
    args += ["--chdir", "/tmp"]
    return args


def _env(home: str) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{home}/.mpl",
        # One BLAS thread per worker: -j already uses every core, and threads cost startup.
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _set_limits(limits: Limits, uid: int | None) -> None:
    """Runs in the child between fork and exec.

    RLIMIT_NPROC counts every process of the real uid, so it is set only when the worker ends
    up with a uid of its own (a root-run grader); root itself is exempt until the drop.
    """
    nproc = [(resource.RLIMIT_NPROC, limits.processes)] if _as_root() else []
    for res, value in (
        *nproc,
        (resource.RLIMIT_AS, limits.memory_bytes),
        (resource.RLIMIT_CPU, limits.cpu_seconds),
        (resource.RLIMIT_FSIZE, limits.file_bytes),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    ):
        try:
            resource.setrlimit(res, (value, value))
        except (ValueError, OSError):
            pass
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    # Die with the grader (after the uid drop, which would clear it): a worker whose grader was
    # killed must not run on unsupervised, past every wall-clock deadline.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class WorkerProcess:
    """One running worker: its process, and the two pipe ends the grader uses."""

    def __init__(self, proc: subprocess.Popen, to_worker: int, from_worker: int,
                 uid: int | None, tmpdir: str | None):
        self.proc = proc
        self.to_worker = to_worker
        self.from_worker = from_worker
        self.uid = uid
        self.tmpdir = tmpdir
        self.closed = False
        # Which children of ours must survive this worker's kill (the slot's spare worker).
        self.keep: Callable[[], set[int]] = set
        self.reap = False  # set by a Sandbox that is the reaper of orphans (degraded mode)

    def kill(self) -> None:
        """Kill the worker and everything it started; safe to call twice."""
        if self.closed:
            return
        self.closed = True
        for fd in (self.to_worker, self.from_worker):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        if self.uid is not None:
            kill_uid(self.uid)
        if self.reap:
            kill_orphans(self.keep() | {p.pid for p in multiprocessing.active_children()
                                        if p.pid is not None})
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)




def become_subreaper() -> bool:
    """Make orphans of our workers' process trees our children instead of init's.

    A student's double-forked, setsid daemon then stays findable (its parent is us) even where
    neither a pid namespace nor a uid of its own is available to catch it.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def kill_orphans(keep: set[int]) -> int:
    """SIGKILL (and reap) every child of this process not in ``keep``, with its descendants.

    Our only legitimate children are workers and their bwrap parents; anything else that ended
    up under us is a leftover of student code.
    """
    def strays() -> list[int]:
        me = os.getpid()
        return [pid for pid, ppid in _parents().items() if ppid == me and pid not in keep]

    return _kill_until_none(strays, reap=True)


def _kill_until_none(find: Callable[[], list[int]], reap: bool) -> int:
    """SIGKILL whatever ``find`` returns until it returns nothing (they may fork meanwhile)."""
    killed = 0
    for _ in range(200):
        found = find()
        if not found:
            break
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
            if reap:  # our own children: wait, or they stay as zombies and look alive
                try:
                    os.waitpid(pid, 0)
                except ChildProcessError:
                    pass
        if not reap:
            time.sleep(0.002)
    return killed


def _parents() -> dict[int, int]:
    """pid -> parent pid for every process we can see."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    out[int(entry)] = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return out


def kill_uid(uid: int) -> int:
    """SIGKILL every process whose real uid is ``uid`` (a uid only this grader slot uses)."""
    return _kill_until_none(lambda: [p for p in _pids_of(uid) if not _is_zombie(p)], reap=False)


def _pids_of(uid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    found.append(int(entry))
            except OSError:
                continue
    return found


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
        return state in (b"Z", b"X")
    except (OSError, IndexError):
        return True


class Sandbox:
    """Spawns workers for one grader slot with the best isolation this machine allows.

    One fresh worker is kept started ahead (``prestart``): starting Python and numpy in a new
    sandbox is most of a submission's cost, and it overlaps the grading of the previous one.
    A spare has run no student code. The two workers of a slot alternate between two uids,
    so killing everything of one uid never touches the spare.
    """

    def __init__(self, slot: int = 0, limits: Limits | None = None,
                 data_dir: Path | None = None, use_bwrap: bool | None = None,
                 prestart: bool = True):
        self.limits = limits or Limits()
        self.data_dir = data_dir
        self.prestart = prestart
        self._claims: list[int] = []
        self.uids: tuple[int, ...] = tuple(self._claim_uids(2)) if _as_root() else ()
        want = use_bwrap if use_bwrap is not None else os.environ.get("BPLAB_NO_BWRAP") != "1"
        first = self.uids[0] if self.uids else None
        self.isolation = (probe(self.limits, first is not None) if want
                          else _fallback("bwrap disabled"))
        if not self.isolation.bwrap and first is not None and not _uid_can_run(first):
            # The interpreter is not readable by other uids (e.g. under /root): keep ours.
            self.uids = ()
            self.isolation = Isolation(False, False, self.isolation.note + "; the interpreter "
                                       "is not readable by an unprivileged uid",
                                       tuple(x for x in self.isolation.layers if x != "own uid"))
        self._turn = 0
        self._spare: WorkerProcess | None = None
        # bwrap's pid namespace already takes every process down with the worker; without it,
        # orphans are caught by becoming their reaper.
        self.subreaper = not self.isolation.bwrap and become_subreaper()

    def spawn(self) -> WorkerProcess:
        """A started worker (its ``ready`` message may still be on the way)."""
        worker, self._spare = self._spare, None
        if worker is None or worker.proc.poll() is not None:
            if worker is not None:
                worker.kill()
            worker = self._start()
        if self.prestart:
            self._spare = self._start()
        return worker

    def close(self) -> None:
        """Kill the spare worker (call when this slot grades no more)."""
        if self._spare is not None:
            self._spare.kill()
            self._spare = None

    def _claim_uids(self, n: int) -> list[int]:
        """``n`` uids no other grader on this machine uses while we hold their lock files.

        Graders kill every process of their uids after each submission, so two graders (two
        ``bplab grade`` runs, or a run and the test suite) must never share one.
        """
        lock_dir = Path("/run/bplab-uids") if os.access("/run", os.W_OK) else Path(
            tempfile.gettempdir()) / "bplab-uids"
        lock_dir.mkdir(mode=0o700, exist_ok=True)
        uids = []
        for uid in range(BASE_UID, BASE_UID + UID_RANGE):
            fd = os.open(lock_dir / f"{uid}.lock", os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self._claims.append(fd)  # held (and so claimed) until this process ends
            kill_uid(uid)  # leftovers of a grader that died are nobody's now
            uids.append(uid)
            if len(uids) == n:
                return uids
        raise RuntimeError("no free grader uid")

    def _start(self) -> WorkerProcess:
        uid = None
        if self.uids:
            uid = self.uids[self._turn % len(self.uids)]
            self._turn += 1
        r1, w1 = os.pipe()  # grader -> worker
        r2, w2 = os.pipe()  # worker -> grader
        for fd in (w1, r2):
            os.set_inheritable(fd, False)
        tmpdir = None
        if self.isolation.bwrap:
            cmd = _bwrap_args(self.limits, self.data_dir) + [
                sys.executable, "-I", "-S", f"{SANDBOX_DIR}/worker.py", str(r1), str(w2),
                str(uid if uid is not None else -1), *site_dirs()]
            env = _env("/tmp")
            cwd = None
            child_uid = None  # the worker drops privileges itself, inside the namespaces
        else:
            tmpdir = tempfile.mkdtemp(prefix="bplab-worker-")
            if uid is not None:
                os.chown(tmpdir, uid, uid)
            if self.data_dir is not None and self.data_dir.is_dir():
                os.symlink(self.data_dir, os.path.join(tmpdir, "data"))
            cmd = [sys.executable, "-I", "-S", str(HERE / "worker.py"), str(r1), str(w2), "-1",
                   *site_dirs()]
            env = _env(tmpdir)
            cwd = tmpdir
            child_uid = uid
        try:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, pass_fds=(r1, w2), env=env, cwd=cwd,
                start_new_session=True,
                preexec_fn=functools.partial(_set_limits, self.limits, child_uid),
            )
        except BaseException:
            for fd in (w1, r2):
                os.close(fd)
            raise
        finally:
            os.close(r1)
            os.close(w2)
        worker = WorkerProcess(proc, w1, r2, uid, tmpdir)
        worker.keep, worker.reap = self._live_pids, self.subreaper
        return worker

    def _live_pids(self) -> set[int]:
        spare = self._spare
        return {spare.proc.pid} if spare is not None and not spare.closed else set()


def _fallback(reason: str) -> Isolation:
    layers = ["process", "rlimits"]
    if _as_root():
        layers.append("own uid")
    return Isolation(False, _as_root(), f"no namespaces: {reason}", tuple(layers))


@functools.lru_cache(maxsize=64)
def _uid_can_run(uid: int) -> bool:
    cmd = [sys.executable, "-I", "-S", "-c",
           "import sys; sys.path[:0] = sys.argv[1:]; import numpy", *site_dirs()]
    try:
        res = subprocess.run(cmd, capture_output=True, timeout=60, env=_env("/tmp"), cwd="/",
                             preexec_fn=functools.partial(_set_limits, Limits(), uid))
    except (OSError, subprocess.SubprocessError):
        return False
    return res.returncode == 0


@functools.lru_cache(maxsize=4)
def probe(limits: Limits, own_uid: bool) -> Isolation:
    """Check once that bubblewrap can start Python with numpy here; else say why not."""
    if shutil.which("bwrap") is None:
        return _fallback("bwrap not installed")
    cmd = _bwrap_args(limits, None) + [sys.executable, "-I", "-S", "-c",
                                        "import sys; sys.path[:0] = sys.argv[1:]; import numpy",
                                        *site_dirs()]
    try:
        res = subprocess.run(cmd, capture_output=True, timeout=60, env=_env("/tmp"),
                             preexec_fn=functools.partial(_set_limits, limits, None))
    except (OSError, subprocess.TimeoutExpired) as exc:
        return _fallback(f"bwrap failed: {exc}")
    if res.returncode != 0:
        err = res.stderr.decode(errors="replace").strip().splitlines()
        return _fallback(f"bwrap failed: {err[-1] if err else res.returncode}")
    layers = ["bwrap", "pid+net+ipc+uts+mount namespaces", "rlimits"]
    if own_uid:
        layers.append("own uid")
    return Isolation(True, own_uid, "", tuple(layers))
