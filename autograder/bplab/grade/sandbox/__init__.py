"""Start and kill the sandboxed worker processes: one ``Sandbox`` per grader slot.

What each part does (each module's docstring is its contract):

- ``zygote``: the preferred mode, one bubblewrap sandbox per slot running a zygote
  (``bplab.grade.zygote_main``) that forks a child per submission in namespaces, mounts, uid
  and seccomp filter of its own (the order, and where each limit is set, are in
  ``zygote_main``); the grader side holds each child's pidfd;
- ``bwrap``: the bubblewrap command line (namespaces, read-only binds, sized tmpfs), the
  probe that checks it works here, and ``Isolation``, the string every result carries;
- ``seccomp``: the filter loaded before any student code (compiled with libseccomp; loaded by
  bubblewrap for a worker of its own, by the zygote's child itself);
- ``limits``: rlimits chosen as a budget (processes x address space), the uid drop, the
  environment; ``cgroup``: the same bounds for the whole process tree where a group is
  delegated to the grader (never on these development machines);
- ``runtime``: the packages the sandbox may see (the runtime ones, never the test extra);
- ``reaping`` and ``uids``: killing leftovers, by parent or by a uid only this slot uses.

The mode is chosen once per slot: a zygote where namespaces nest inside bubblewrap (its first
child is the probe), else bubblewrap per submission, else a plain process; the isolation
string says which ran and why not the better one. Killing a zygote's child (the init of its
own pid namespace) or a bubblewrap sandbox's first process tears down the pid namespace, and
with it every process the submission started (daemons included); only bubblewrap per
submission adds a ``/proc`` scan by uid (its kill is asynchronous, through
``--die-with-parent``). Without bubblewrap, the worker runs as a plain process with the same
limits and uid and is killed by process group and by uid. Grading never refuses for want of
a layer.
"""

from __future__ import annotations

import dataclasses
import functools
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import weakref
from collections.abc import Callable
from pathlib import Path

from bplab.grade.sandbox import cgroup, runtime, seccomp
from bplab.grade.sandbox.bwrap import (
    HERE,
    SANDBOX_DIR,
    Isolation,
    bwrap_args,
    fallback,
    probe,
    worker_site,
    zygote_isolation,
)
from bplab.grade.sandbox.limits import Limits, apply_limits, as_root, env
from bplab.grade.sandbox.reaping import become_subreaper, kill_orphans, kill_uid
from bplab.grade.sandbox.uids import BASE_UID, UID_RANGE, claim_uids, uid_can_run
from bplab.grade.sandbox.zygote import Zygote, ZygoteLost, ZygoteWorker

__all__ = ["BASE_UID", "UID_RANGE", "Isolation", "Limits", "Sandbox", "Worker", "WorkerProcess",
           "ZygoteLost", "kill_uid", "wants_bwrap"]

NO_BWRAP = "BPLAB_NO_BWRAP"  # =1: never try bubblewrap (as --no-bwrap)
NO_ZYGOTE = "BPLAB_NO_ZYGOTE"  # =1: bubblewrap per submission, never a zygote
SPAWN_PROBE_TIMEOUT = 20.0
# Why no zygote could run here, per limits (once a process knows, its other slots do not retry).
_NO_ZYGOTE: dict[Limits, str] = {}


def wants_bwrap(use_bwrap: bool | None) -> bool:
    """Whether bubblewrap is to be tried: the caller's choice, else the environment's."""
    return use_bwrap if use_bwrap is not None else os.environ.get(NO_BWRAP) != "1"


class WorkerProcess:
    """One running worker: its process, and the two pipe ends the grader uses."""

    def __init__(self, proc: subprocess.Popen, to_worker: int, from_worker: int,
                 uid: int | None, tmpdir: str | None, group: cgroup.Group | None = None):
        self.proc = proc
        self.to_worker = to_worker
        self.from_worker = from_worker
        self.uid = uid
        self.tmpdir = tmpdir
        self.group = group
        self.closed = False
        # Which children of ours must survive this worker's kill (the slot's spare worker).
        self.keep: Callable[[], set[int]] = set
        self.reap = False  # set by a Sandbox that is the reaper of orphans (degraded mode)

    def grader_fault(self) -> str | None:
        """Why this worker's loss is the grader's: never, for a worker of its own sandbox."""
        return None

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
        if self.group is not None:
            self.group.kill()
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
        if self.group is not None:
            self.group.remove()
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)


Worker = WorkerProcess | ZygoteWorker


class Sandbox:
    """Spawns workers for one grader slot with the best isolation this machine allows.

    Where namespaces nest inside bubblewrap, the slot keeps one zygote (``zygote``): a worker
    is a fork of it, in namespaces of its own, with no interpreter or numpy to start. Else
    each worker is a bubblewrap sandbox of its own (and without bubblewrap, a plain process),
    and one fresh worker is kept started ahead (``prestart``): starting Python and numpy is
    most of a submission's cost there, and it overlaps the grading of the previous one. A
    spare has run no student code. The two workers of a slot alternate between two uids, so
    killing everything of one uid never touches the other.
    """

    def __init__(self, slot: int = 0, limits: Limits | None = None,
                 data_dir: Path | None = None, use_bwrap: bool | None = None,
                 prestart: bool = True, use_zygote: bool | None = None):
        self.limits = limits or Limits()
        self.data_dir = data_dir
        self.prestart = prestart
        self._claims: list[int] = []
        self.uids: tuple[int, ...] = tuple(claim_uids(2, self._claims)) if as_root() else ()
        want = wants_bwrap(use_bwrap)
        want_zygote = want and (use_zygote if use_zygote is not None
                                else os.environ.get(NO_ZYGOTE) != "1")
        first = self.uids[0] if self.uids else None
        self._site: str | None = None  # the degraded worker's sys.path (made when needed)
        self._site_paths: list[str] | None = None
        self.groups = cgroup.for_slot(slot, self.limits)
        self._zygote: list[Zygote] = []  # the slot's zygote (a list: the finalizer holds it)
        weakref.finalize(self, _close_zygotes, self._zygote)
        no_zygote = ""
        if want_zygote:
            no_zygote = self._first_zygote(first)
        if self._zygote:
            seccomp_note = "" if self._program() is not None else "no seccomp filter"
            self.isolation = zygote_isolation(self.limits, first is not None,
                                              not seccomp_note, seccomp_note)
        else:
            self.isolation = (probe(self.limits, first is not None) if want
                              else fallback("bwrap disabled"))
            if no_zygote and self.isolation.bwrap:
                note = "; ".join(x for x in (self.isolation.note, f"no zygote: {no_zygote}")
                                 if x)
                self.isolation = dataclasses.replace(self.isolation, note=note)
        if not self.isolation.bwrap and first is not None \
                and not uid_can_run(first, tuple(self._worker_site())):
            # The interpreter is not readable by other uids (e.g. under /root): keep ours.
            self.uids = ()
            self.isolation = Isolation(False, False, self.isolation.note + "; the interpreter "
                                       "is not readable by an unprivileged uid",
                                       tuple(x for x in self.isolation.layers if x != "own uid"))
        if self.groups is not None:
            self.isolation = dataclasses.replace(
                self.isolation, layers=(*self.isolation.layers, self.groups.describe()))
        self._turn = 0
        self._spare: WorkerProcess | None = None
        # bwrap's pid namespace already takes every process down with the worker; without it,
        # orphans are caught by becoming their reaper.
        self.subreaper = not self.isolation.bwrap and become_subreaper()

    @staticmethod
    def _program() -> bytes | None:
        try:
            return seccomp.program()
        except seccomp.SeccompUnavailable:
            return None

    def _first_zygote(self, uid: int | None) -> str:
        """Start the slot's zygote and fork one probe child; '' or why the zygote cannot run."""
        if self.groups is not None:
            return "a delegated cgroup is joined between fork and exec, per worker"
        if shutil.which("bwrap") is None:
            return "bwrap not installed"
        if self.limits in _NO_ZYGOTE:
            return _NO_ZYGOTE[self.limits]
        try:
            zygote = Zygote(self.limits, self.data_dir, self._program())
            try:
                code = zygote.spawn(uid, mode="probe").proc.wait(SPAWN_PROBE_TIMEOUT)
            except BaseException:
                zygote.close()
                raise
            if code != 0:
                zygote.close()
                raise ZygoteLost(f"its probe child ended with code {code}")
        except (OSError, subprocess.SubprocessError) as exc:
            _NO_ZYGOTE[self.limits] = str(exc) or type(exc).__name__
            return _NO_ZYGOTE[self.limits]
        self._zygote.append(zygote)
        return ""

    @property
    def zygote(self) -> Zygote | None:
        return self._zygote[0] if self._zygote else None

    def _next_uid(self) -> int | None:
        if not self.uids:
            return None
        uid = self.uids[self._turn % len(self.uids)]
        self._turn += 1
        return uid

    def spawn(self) -> Worker:
        """A started worker (its ``ready`` message may still be on the way).

        A zygote that died (it runs no student code: the grader's fault, which the session of
        its worker reports) is replaced here by a new one; ``ZygoteLost`` when that fails.
        """
        if self.isolation.zygote:
            if self._zygote and not self._zygote[0].alive():
                self._zygote.pop().close()
            if not self._zygote:
                self._zygote.append(Zygote(self.limits, self.data_dir, self._program()))
            return self._zygote[0].spawn(self._next_uid())
        worker, self._spare = self._spare, None
        if worker is None or worker.proc.poll() is not None:
            if worker is not None:
                worker.kill()
            worker = self._start()
        if self.prestart:
            self._spare = self._start()
        return worker

    def close(self) -> None:
        """Kill the spare worker and the zygote (call when this slot grades no more)."""
        if self._spare is not None:
            self._spare.kill()
            self._spare = None
        _close_zygotes(self._zygote)
        if self._site is not None:
            shutil.rmtree(self._site, ignore_errors=True)
            self._site = self._site_paths = None

    def _worker_site(self) -> list[str]:
        """Made once per slot, not at every spawn (it walks the runtime distributions)."""
        if self._site_paths is None:
            if self._site is None:
                self._site = tempfile.mkdtemp(prefix="bplab-site-")
                os.chmod(self._site, 0o755)  # read by the worker's uid
            self._site_paths = runtime.runtime_site(Path(self._site) / "site")
        return self._site_paths

    def _start(self) -> WorkerProcess:
        uid = self._next_uid()
        r1, w1 = os.pipe()  # grader -> worker
        r2, w2 = os.pipe()  # worker -> grader
        for fd in (w1, r2):
            os.set_inheritable(fd, False)
        passed = [r1, w2]
        tmpdir = None
        if self.isolation.bwrap:
            filter_fd = seccomp.program_fd() if self.isolation.seccomp else None
            if filter_fd is not None:
                passed.append(filter_fd)
            cmd = bwrap_args(self.limits, self.data_dir, filter_fd) + [
                sys.executable, "-I", "-S", f"{SANDBOX_DIR}/worker.py", str(r1), str(w2),
                str(uid if uid is not None else -1), *worker_site()]
            environ = env("/tmp")
            cwd = None
            child_uid = None  # the worker drops privileges itself, inside the namespaces
        else:
            tmpdir = tempfile.mkdtemp(prefix="bplab-worker-")
            if uid is not None:
                os.chown(tmpdir, uid, uid)
            if self.data_dir is not None and self.data_dir.is_dir():
                os.symlink(self.data_dir, os.path.join(tmpdir, "data"))
            cmd = [sys.executable, "-I", "-S", str(HERE / "worker.py"), str(r1), str(w2), "-1",
                   *self._worker_site()]
            environ = env(tmpdir)
            cwd = tmpdir
            child_uid = uid
        group = self.groups.new_group() if self.groups is not None else None
        try:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, pass_fds=tuple(passed), env=environ, cwd=cwd,
                start_new_session=True,
                preexec_fn=functools.partial(_child_setup, self.limits, child_uid, group),
            )
        except BaseException:
            for fd in (w1, r2):
                os.close(fd)
            if group is not None:
                group.remove()
            raise
        finally:
            for fd in passed:
                os.close(fd)
        worker = WorkerProcess(proc, w1, r2, uid, tmpdir, group)
        worker.keep, worker.reap = self._live_pids, self.subreaper
        return worker

    def _live_pids(self) -> set[int]:
        spare = self._spare
        return {spare.proc.pid} if spare is not None and not spare.closed else set()


def _close_zygotes(zygotes: list[Zygote]) -> None:
    while zygotes:
        zygotes.pop().close()


def _child_setup(limits: Limits, uid: int | None, group: cgroup.Group | None) -> None:
    """Between fork and exec: join the submission's cgroup (when there is one), then limits."""
    if group is not None:
        group.join()
    apply_limits(limits, uid)
