"""Finding and killing what a submission left running: by parent (as subreaper) or by uid.

Used where the pid namespace cannot do it (degraded mode) and, for root-run graders, as a
second net after every worker: each grader slot's uids run nothing but its own workers.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time
from collections.abc import Callable

PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h


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


def kill_uid(uid: int) -> int:
    """SIGKILL every process whose real uid is ``uid`` (a uid only this grader slot uses)."""
    return _kill_until_none(lambda: [p for p in _pids_of(uid) if not _is_zombie(p)], reap=False)


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
