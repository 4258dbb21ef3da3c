"""Per-worker resource limits, the uid drop and the environment, applied between fork and exec.

Without cgroups nothing bounds a process *family*, so the limits are chosen as a budget: the
processes one submission may have (``RLIMIT_NPROC``, per uid: each submission has a uid of its
own when the grader runs as root) times the address space each may map (``RLIMIT_AS``) stays
within ``budget_bytes``. Memory that ``RLIMIT_AS`` does not count (memfd, SysV and POSIX shm)
is refused by the seccomp filter or lives on a sized tmpfs (``seccomp``, ``bwrap``).
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
from dataclasses import dataclass

PR_SET_PDEATHSIG = 1  # linux/prctl.h
NICE = 5  # workers yield the CPU to the grader processes that supervise them


@dataclass(frozen=True)
class Limits:
    """Per-worker resource limits (set with setrlimit before the worker starts).

    ``processes * memory_bytes <= budget_bytes`` is what a submission's whole process family
    can map without cgroups (tested); ``tmp_bytes`` sizes the sandbox's ``/tmp``.
    """

    memory_bytes: int = 2 * 1024**3
    cpu_seconds: int = 900
    processes: int = 4
    file_bytes: int = 16 * 1024**2
    open_files: int = 256
    tmp_bytes: int = 64 * 1024**2
    dev_bytes: int = 1024**2
    budget_bytes: int = 8 * 1024**3

    def describe(self) -> str:
        return (f"{self.processes} processes x {self.memory_bytes // 2**30} GiB "
                f"<= {self.budget_bytes // 2**30} GiB")


def as_root() -> bool:
    return os.geteuid() == 0


def env(home: str) -> dict[str, str]:
    """The worker's whole environment (nothing of the grader's leaks in)."""
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


def apply_limits(limits: Limits, uid: int | None, die_with_parent: bool = True) -> None:
    """Runs in the child between fork and exec (or, in a zygote's child, before the worker).

    RLIMIT_NPROC counts every process of the real uid, so it is set only when the worker ends
    up with a uid of its own (a root-run grader); root itself is exempt until the drop.
    A zygote's child passes ``die_with_parent=False``: its parent is a middle process that
    exits at once (the child is the init of its own pid namespace, killed with the zygote's).
    This module is also bound into the sandbox for the zygote: standard library only.
    """
    nproc = [(resource.RLIMIT_NPROC, limits.processes)] if as_root() else []
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
    try:
        os.nice(NICE)
    except OSError:
        pass
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    # Die with the grader (after the uid drop, which would clear it): a worker whose grader was
    # killed must not run on unsupervised, past every wall-clock deadline.
    if not die_with_parent:
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
