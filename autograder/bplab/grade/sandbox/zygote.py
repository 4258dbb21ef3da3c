"""A zygote per grader slot: one bubblewrap sandbox, a freshly forked child per submission.

The grader side of ``bplab.grade.zygote_main`` (its docstring lists what each child gets, in
order, before any student code). ``Zygote`` starts the slot's bubblewrap running the zygote
(exec'd fresh: never a fork of the grader, which holds the hidden tests), and ``spawn()``
asks it for a child, passing the child's two fresh pipe ends over the control socket
(SCM_RIGHTS). The child's pid comes from the kernel (SCM_CREDENTIALS, translated into our pid
namespace: ``fork()`` inside bubblewrap returns bubblewrap's numbering), and a pidfd is held
for it at once, before the zygote may reap it, so a kill never reaches a reused pid.

Killing a child (the init of its own pid namespace) kills everything it started, and its
pidfd turns readable only once that namespace is empty: no ``/proc`` scan follows. Every wait
on the zygote has a deadline; a zygote that dies, refuses or misses one is a fault of the
grader (``ZygoteLost``), and the slot starts a new zygote for its next submission.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bplab.grade.sandbox.bwrap import (
    SANDBOX_DIR,
    ZYGOTE_DATA,
    bwrap_args,
    python_dirs,
    worker_site,
)
from bplab.grade.sandbox.limits import Limits, env

START_TIMEOUT = 60.0  # bubblewrap, the interpreter and numpy, once per slot
SPAWN_TIMEOUT = 20.0  # a fork and a few mounts: seconds only on a machine in trouble
KILL_TIMEOUT = 5.0
_UCRED = struct.Struct("iII")  # pid, uid, gid
_Cred = tuple[int, int, int]


class ZygoteLost(OSError):
    """The zygote died, refused, or did not answer in time (the grader's fault)."""


class _Child:
    """A zygote's child seen like a ``subprocess.Popen``: ``pid``, ``poll``, ``wait``, ``kill``."""

    def __init__(self, zygote: Zygote, seq: int, pid: int, pidfd: int):
        self.zygote, self.seq, self.pid, self.pidfd = zygote, seq, pid, pidfd
        self.returncode: int | None = None

    def _exited(self, timeout: float) -> bool:
        if self.pidfd < 0:
            return True
        return bool(select.select([self.pidfd], [], [], max(timeout, 0))[0])

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not self._exited(KILL_TIMEOUT if timeout is None else timeout):
                raise subprocess.TimeoutExpired("zygote child", timeout or KILL_TIMEOUT)
            try:
                status = self.zygote.reap(self.seq)
            finally:  # it has exited: the pidfd is of no more use, reaped or not
                if self.pidfd >= 0:
                    os.close(self.pidfd)
                    self.pidfd = -1
            self.returncode = os.waitstatus_to_exitcode(status) if status >= 0 else -9
        return self.returncode

    def poll(self) -> int | None:
        if self.returncode is None and not self._exited(0):
            return None
        try:
            return self.wait(0)
        except (subprocess.TimeoutExpired, ZygoteLost):
            return None if self.returncode is None else self.returncode

    def kill(self) -> None:
        if self.pidfd >= 0 and self.returncode is None:
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass


class ZygoteWorker:
    """One worker forked by a zygote: what ``sandbox.WorkerProcess`` is for a bwrap worker."""

    def __init__(self, proc: _Child, to_worker: int, from_worker: int, uid: int | None):
        self.proc = proc
        self.to_worker = to_worker
        self.from_worker = from_worker
        self.uid = uid
        self.closed = False

    def grader_fault(self) -> str | None:
        """Why this worker's loss is the grader's (its zygote died), or None."""
        return None if self.proc.zygote.alive() else "the sandbox's zygote died"

    def kill(self) -> None:
        """Kill the child's pid namespace (all it started) and reap it; safe to call twice."""
        if self.closed:
            return
        self.closed = True
        for fd in (self.to_worker, self.from_worker):
            try:
                os.close(fd)
            except OSError:
                pass
        self.proc.kill()
        try:
            self.proc.wait(KILL_TIMEOUT)
        except (subprocess.TimeoutExpired, ZygoteLost):
            self.proc.zygote.close()  # the child may live on: end the whole sandbox


class Zygote:
    """The zygote of one slot. ``omit`` names isolation steps to leave out: for tests only,
    which show that each check catches the missing step."""

    def __init__(self, limits: Limits, data_dir: Path | None, program: bytes | None,
                 omit: frozenset[str] = frozenset()):
        self.ctrl, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.ctrl.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self._seq = 0
        self._dead = False
        has_data = data_dir is not None and data_dir.is_dir()
        cmd = bwrap_args(limits, data_dir, None, zygote=True) + [
            sys.executable, "-I", "-S", f"{SANDBOX_DIR}/zygote_main.py", str(theirs.fileno())]
        try:
            # No rlimits on the zygote itself: it runs no student code; each child sets them.
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, pass_fds=(theirs.fileno(),), env=env("/tmp"),
                start_new_session=True)
        finally:
            theirs.close()
        config = {"limits": {k: getattr(limits, k) for k in limits.__dataclass_fields__},
                  "site": worker_site(), "seccomp": program.hex() if program else None,
                  "data": ZYGOTE_DATA if has_data else None, "omit": sorted(omit),
                  # The interpreter's directories that each child's fresh /tmp would hide (a
                  # venv in a CI clone under /tmp): bound again on top of it.
                  "keep": [d for d in python_dirs() if d == "/tmp" or d.startswith("/tmp/")]}
        try:
            self._send(b"C", config)
            tag, body, _ = self._receive(time.monotonic() + START_TIMEOUT)
        except ZygoteLost:
            self.close()
            raise
        if tag != b"R" or body.get("threads") != 1:
            self.close()
            raise ZygoteLost(f"the zygote did not start ({tag!r} {body})")
        self.threads = body["threads"]

    # ------------------------------------------------------------------ children
    def spawn(self, uid: int | None, mode: str = "worker") -> ZygoteWorker:
        """A forked child running the worker (its ``ready`` message may still be on the way)."""
        if not self.alive():
            raise ZygoteLost("the zygote is not running")
        self._seq += 1
        seq = self._seq
        r1, w1 = os.pipe()  # grader -> worker
        r2, w2 = os.pipe()  # worker -> grader
        try:
            self._send(b"S", {"seq": seq, "uid": -1 if uid is None else uid, "mode": mode},
                       [r1, w2])
        except BaseException:
            for fd in (w1, r2):
                os.close(fd)
            raise
        finally:
            os.close(r1)
            os.close(w2)
        try:
            tag, body, cred = self._receive(time.monotonic() + SPAWN_TIMEOUT)
            if tag != b"P" or body.get("seq") != seq or cred is None:
                raise ZygoteLost(f"the zygote could not start a worker: {body.get('error', tag)}")
            pid, child_uid, _ = cred
            if uid is not None and child_uid != uid:  # the kernel's word, not the child's
                raise ZygoteLost(f"a worker kept uid {child_uid}")
            pidfd = os.pidfd_open(pid)  # the zygote reaps it only when asked: never reused
        except BaseException:
            for fd in (w1, r2):
                os.close(fd)
            self.close()
            raise
        return ZygoteWorker(_Child(self, seq, pid, pidfd), w1, r2, uid)

    def reap(self, seq: int) -> int:
        """The wait status of an exited child (the zygote reaps it now)."""
        if not self.alive():
            raise ZygoteLost("the zygote is not running")
        self._send(b"W", {"seq": seq})
        tag, body, _ = self._receive(time.monotonic() + KILL_TIMEOUT)
        if tag != b"X" or body.get("seq") != seq:
            self.close()
            raise ZygoteLost("the zygote did not report a worker's end")
        return int(body["status"])

    # ------------------------------------------------------------------ lifecycle
    def alive(self) -> bool:
        if not self._dead and self.proc.poll() is not None:
            self._dead = True
        return not self._dead

    def close(self) -> None:
        """Kill the zygote, and with its pid namespace every child; safe to call twice."""
        self._dead = True
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.kill()
        try:
            self.proc.wait(timeout=KILL_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        self.ctrl.close()

    # ------------------------------------------------------------------ the wire
    def _send(self, tag: bytes, body: dict, fds: list[int] | None = None) -> None:
        data = tag + json.dumps(body).encode()
        try:
            if fds:
                socket.send_fds(self.ctrl, [data], fds)
            else:
                self.ctrl.send(data)
        except OSError as exc:
            self._dead = True
            raise ZygoteLost(f"the zygote is gone ({exc})") from None

    def _receive(self, deadline: float) -> tuple[bytes, dict[str, Any], _Cred | None]:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([self.ctrl], [], [], remaining)[0]:
            self._dead = True
            raise ZygoteLost("the zygote did not answer in time")
        try:
            msg, anc, _, _ = self.ctrl.recvmsg(65536, socket.CMSG_SPACE(_UCRED.size))
        except OSError as exc:
            self._dead = True
            raise ZygoteLost(f"the zygote is gone ({exc})") from None
        if not msg:
            self._dead = True
            raise ZygoteLost("the zygote ended")
        cred = None
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                cred = _UCRED.unpack(data[:_UCRED.size])
        try:
            body = json.loads(msg[1:])
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self._dead = True
            raise ZygoteLost("the zygote sent a malformed message")
        return msg[:1], body, cred
