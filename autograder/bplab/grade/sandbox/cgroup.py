"""cgroup v2 bounds for a submission's whole process tree, where the host delegates a group.

rlimits bound one process; a cgroup bounds the family: ``memory.max`` (shmem and tmpfs pages
included, swap off), ``pids.max``, and ``cpu.max`` so one submission cannot starve its
neighbours. Used only where a group is *delegated* to the grader, never guessed:

- systemd ``Delegate=yes`` marks the unit's group with the ``trusted.delegate`` (or
  ``user.delegate``) extended attribute; or
- the operator says so with ``BPLAB_CGROUP=delegated`` (a container with its own cgroup
  namespace, where the whole visible tree is the container's).

``BPLAB_CGROUP=off`` disables it. Finding the group only reads; nothing is created, joined or
changed until a delegated group was found. The grader then moves itself into a leaf
(``grader``: a group with processes cannot hand controllers to children), enables the
controllers, and makes one child group per worker, which the worker joins between fork and
exec (``Group.join``) and which is killed and removed with it. On the development machines
the tree is the supervisor's: this path is tested against a fake cgroupfs only.
"""

from __future__ import annotations

import itertools
import os
import signal
import time
from pathlib import Path

from bplab.grade.sandbox.limits import Limits

ROOT = Path("/sys/fs/cgroup")
SETTING = "BPLAB_CGROUP"
CONTROLLERS = ("cpu", "memory", "pids")
PIDS_PER_SUBMISSION = 32  # threads count too
CPU_MAX = "100000 100000"  # at most one CPU per submission


def find_delegated(root: Path = ROOT, self_cgroup: Path = Path("/proc/self/cgroup"),
                   environ: dict[str, str] | None = None) -> Path | None:
    """The cgroup v2 group delegated to this process, or None. Only reads."""
    setting = (os.environ if environ is None else environ).get(SETTING, "")
    if setting == "off":
        return None
    try:
        lines = self_cgroup.read_text().splitlines()
    except OSError:
        return None
    own = next((line[3:] for line in lines if line.startswith("0::")), None)
    if own is None or not (root / "cgroup.controllers").is_file():
        return None  # no unified (v2) hierarchy here
    group = root / own.lstrip("/")
    if setting != "delegated" and not _marked_delegated(group):
        return None
    try:
        available = set((group / "cgroup.controllers").read_text().split())
    except OSError:
        return None
    if not set(CONTROLLERS) <= available:
        return None
    if not all(os.access(group / f, os.W_OK) for f in ("cgroup.procs", "cgroup.subtree_control")):
        return None
    return group


def _marked_delegated(group: Path) -> bool:
    for name in ("trusted.delegate", "user.delegate"):
        try:
            if os.getxattr(group, name).strip() in (b"1", b"yes", b"true"):
                return True
        except OSError:
            continue
    return False


class Group:
    """One worker's cgroup: joined by the worker's child before exec, killed and removed."""

    def __init__(self, path: Path):
        self.path = path

    def join(self) -> None:
        """Move the calling process into this group (runs between fork and exec)."""
        with open(self.path / "cgroup.procs", "w") as f:
            f.write("0")  # "0": the writing process itself

    def pids(self) -> list[int]:
        try:
            text = (self.path / "cgroup.procs").read_text()
        except OSError:
            return []
        me = os.getpid()
        return [p for p in (int(x) for x in text.split() if x.isdigit()) if p > 1 and p != me]

    def kill(self) -> None:
        """SIGKILL every process of the group (``cgroup.kill`` where the kernel has it)."""
        try:
            with open(self.path / "cgroup.kill", "w") as f:
                f.write("1")
        except OSError:
            pass
        for _ in range(100):
            found = self.pids()
            if not found:
                return
            for pid in found:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.002)

    def remove(self) -> None:
        for _ in range(50):  # the kernel frees a group once its last process is reaped
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.01)


class Delegation:
    """The grader's delegated group, set up to hold one child group per worker."""

    def __init__(self, base: Path, slot: int, limits: Limits):
        self.base = base
        self.limits = limits
        self.prefix = f"w-{os.getpid()}-{slot}-"
        self._numbers = itertools.count(1)
        leaf = base / "grader"
        leaf.mkdir(exist_ok=True)
        with open(leaf / "cgroup.procs", "w") as f:
            f.write(str(os.getpid()))
        with open(base / "cgroup.subtree_control", "w") as f:
            f.write(" ".join(f"+{c}" for c in CONTROLLERS))

    def describe(self) -> str:
        return (f"cgroup v2 ({self.limits.memory_bytes // 2**30} GiB, "
                f"{PIDS_PER_SUBMISSION} pids, 1 CPU per submission)")

    def new_group(self) -> Group:
        path = self.base / f"{self.prefix}{next(self._numbers)}"
        path.mkdir()
        for name, value in (("memory.max", str(self.limits.memory_bytes)),
                            ("memory.swap.max", "0"), ("pids.max", str(PIDS_PER_SUBMISSION)),
                            ("cpu.max", CPU_MAX)):
            try:
                with open(path / name, "w") as f:
                    f.write(value)
            except OSError:
                if name != "memory.swap.max":  # no swap accounting: nothing to turn off
                    raise
        return Group(path)


def for_slot(slot: int, limits: Limits, root: Path = ROOT,
             self_cgroup: Path = Path("/proc/self/cgroup")) -> Delegation | None:
    """A ``Delegation`` when this process was given a group; else None (the usual case)."""
    base = find_delegated(root, self_cgroup)
    if base is None:
        return None
    try:
        return Delegation(base, slot, limits)
    except OSError:
        return None
