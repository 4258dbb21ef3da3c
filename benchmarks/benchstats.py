"""The arithmetic and the measuring of the benchmarks: one source for both, no targets elsewhere.

Contract:
- ``measure(command)`` runs a command as a child and returns its wall time and the CPU time
  (user + system) of its whole process tree, sandboxed processes included. The figure to
  print is ``Measured.cpu``: ``perf stat -e task-clock`` of the tree (``perf=True``), whose
  counters are inherited by every descendant and summed as each one exits, whoever reaps it.
  rusage cannot be that figure here (measured with ``check_cpu_accounting.py``):
  - ``os.wait4`` of the command alone misses every sandbox: bubblewrap's outer process exits
    without reaping its pid-1 child, which becomes an orphan (``Measured.waited``);
  - as a subreaper (``PR_SET_CHILD_SUBREAPER``) the benchmark reaps those orphans and their
    accumulated CPU (``Measured.rusage``), but still misses what ran in a sandbox that was
    SIGKILLed, as the grader ends every worker: when a pid namespace's pid 1 dies, the kernel
    sets its SIGCHLD to SIG_IGN and auto-reaps the rest of the namespace
    (``zap_pid_ns_processes``), and an auto-reaped process's CPU is added to no one.
  So without perf, ``cpu`` falls back to ``rusage`` and is a lower bound (``cpu_source`` says).
- ``median``, ``ratios``, ``verdict``, ``cpu_per_core`` and ``flatness`` are plain arithmetic,
  checked by ``tests/test_benchmarks.py``. The issue's targets are the constants below; the
  benchmarks print PASS/FAIL against them and never assert them (speed on a shared machine is
  a measurement, not a test).
"""

from __future__ import annotations

import ctypes
import os
import resource
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER = 36, 37  # linux/prctl.h
# Issue 14's targets: bplab grade at least this many times faster per submission than otter run.
SPEEDUP_TARGETS = {"hw1": 50.0, "hw2": 25.0}
# 500 hw1 submissions in under this many seconds of CPU per core, on CORES cores.
BUDGET_SUBMISSIONS = 500
BUDGET_CPU_PER_CORE = 20.0
BUDGET_CORES = 2
# "Flat" memory: peak RSS at the largest batch at most this many times the smallest's.
FLAT_RATIO = 1.2


@dataclass(frozen=True)
class Measured:
    """One command's run: wall seconds, CPU seconds of its tree, peak RSS of one process."""

    wall: float
    user: float
    system: float
    maxrss_kib: int  # ru_maxrss of the reaped tree: its largest single process, not a sum
    returncode: int
    task_clock: float | None = None  # perf stat's task-clock of the tree, seconds
    waited: float = 0.0  # CPU that reached us through the command's own wait4 alone
    orphans: int = 0  # processes of the tree that ended as our children (orphans), reaped

    @property
    def rusage(self) -> float:
        """CPU reaped by us (the command and its orphans): a lower bound, see the docstring."""
        return self.user + self.system

    @property
    def cpu(self) -> float:
        """The tree's CPU: perf's task-clock when measured, else the rusage lower bound."""
        return self.task_clock if self.task_clock is not None else self.rusage

    @property
    def cpu_source(self) -> str:
        return "perf task-clock" if self.task_clock is not None else "rusage, a lower bound"


def perf_works() -> bool:
    """Whether ``perf stat -e task-clock`` runs here (perf installed and allowed)."""
    if shutil.which("perf") is None:
        return False
    try:
        done = subprocess.run(["perf", "stat", "-x,", "-e", "task-clock", "true"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and parse_task_clock(done.stderr) is not None


def parse_task_clock(text: str) -> float | None:
    """Seconds of task-clock in ``perf stat -x,`` output (``value,msec,task-clock,...``)."""
    for line in text.splitlines():
        fields = line.split(",")
        if len(fields) >= 3 and fields[2].startswith("task-clock"):
            try:
                value = float(fields[0])
            except ValueError:
                return None
            return value / 1000 if fields[1] == "msec" else value / 1e9
    return None


def _prctl(option: int, arg: object = 0) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    return int(libc.prctl(option, arg, 0, 0, 0))


def subreaper(on: bool) -> bool | None:
    """Set whether orphans of our descendants become our children; returns the state before.

    ``None`` when prctl is unavailable (then orphans go to init and ``rusage`` misses them).
    """
    try:
        before = ctypes.c_int(0)
        if _prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(before)) != 0:
            return None
        if _prctl(PR_SET_CHILD_SUBREAPER, int(on)) != 0:
            return None
        return bool(before.value)
    except (OSError, AttributeError):
        return None


def reap_orphans(deadline: float = 60.0) -> int:
    """Wait for every child left to us (orphans of the tree); SIGKILL what outlives ``deadline``.

    Returns how many were reaped. Only the benchmark's own descendants can be our children.
    """
    reaped, end = 0, time.monotonic() + deadline
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return reaped
        if pid:
            reaped += 1
        elif time.monotonic() > end:
            for child in _children():
                try:
                    os.kill(child, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        else:
            time.sleep(0.01)


def _children() -> list[int]:
    me, found = os.getpid(), []
    for entry in os.scandir("/proc"):
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == me:
                    found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def measure(command: Sequence[str], *, perf: bool = False, cwd: Path | None = None,
            stdout=subprocess.DEVNULL) -> Measured:
    """Run ``command`` to its end; its wall time and its whole tree's CPU (see the docstring)."""
    # A subreaper only for this command: orphans of anything else this process runs later
    # (a test session, a grader) must not pile up here as zombies.
    was = subreaper(True)
    try:
        return _measure(command, perf, cwd, stdout, was is not None)
    finally:
        if was is False:
            subreaper(False)


def _measure(command: Sequence[str], perf: bool, cwd: Path | None, stdout,
             reaping: bool) -> Measured:
    with tempfile.TemporaryDirectory() as tmp:
        perf_out = Path(tmp) / "perf.txt"
        argv = list(command)
        if perf:
            argv = ["perf", "stat", "-x,", "-e", "task-clock", "-o", str(perf_out), "--", *argv]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=stdout, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        orphans = reap_orphans() if reaping else 0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        clock = parse_task_clock(perf_out.read_text()) if perf and perf_out.is_file() else None
    return Measured(wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime,
                    usage.ru_maxrss, proc.returncode, clock,
                    waited=usage.ru_utime + usage.ru_stime, orphans=orphans)


def median(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("median of no values")
    return float(statistics.median(values))


def ratios(ours: Sequence[float], theirs: Sequence[float]) -> list[float]:
    """Per-round speedups ``theirs[i] / ours[i]`` (seconds per submission, paired by round)."""
    if len(ours) != len(theirs):
        raise ValueError(f"{len(ours)} rounds of ours against {len(theirs)} of theirs")
    return [t / o for o, t in zip(ours, theirs, strict=True)]


def verdict(value: float, target: float, *, at_most: bool = False) -> str:
    """``PASS`` when ``value`` reaches ``target`` (at least it; at most it with ``at_most``)."""
    ok = value <= target if at_most else value >= target
    return "PASS" if ok else "FAIL"


def cpu_per_core(cpu_seconds: float, copies: int, *, submissions: int = BUDGET_SUBMISSIONS,
                 cores: int = BUDGET_CORES) -> float:
    """CPU seconds per core that ``submissions`` would take, from ``copies`` measured.

    CPU-bound estimate: the tree's CPU scaled to ``submissions`` and spread over ``cores``. The
    command's fixed start-up is scaled with it, so a run of fewer copies overestimates.
    """
    if copies <= 0 or cores <= 0:
        raise ValueError("copies and cores must be positive")
    return cpu_seconds * submissions / copies / cores


def flatness(peaks: dict[int, float]) -> float:
    """Peak at the largest batch over the peak at the smallest (1.0: perfectly flat)."""
    if not peaks:
        raise ValueError("no peaks")
    return peaks[max(peaks)] / peaks[min(peaks)]


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"
