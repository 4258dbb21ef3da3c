"""The benchmarks' arithmetic and measuring (``benchmarks/benchstats.py``), never their speed.

Each arithmetic check is run against the real function and against a planted bug of it (the
ratio inverted, the cores not divided, ``at_most`` ignored, ...), which it must reject. The
measuring is checked on a tiny controlled tree whose CPU is known to be at least some amount.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("benchstats", ROOT / "benchmarks" / "benchstats.py")
assert _spec is not None and _spec.loader is not None
benchstats = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("benchstats", benchstats)  # its dataclass looks its module up there
_spec.loader.exec_module(benchstats)


def check_ratios(ratios: Callable) -> None:
    # ours 0.1 s and 0.2 s per submission against theirs 2.0 s and 2.0 s: 20x and 10x.
    assert ratios([0.1, 0.2], [2.0, 2.0]) == pytest.approx([20.0, 10.0])
    with pytest.raises(ValueError):
        ratios([0.1], [2.0, 2.0])  # unpaired rounds are a mistake, not a shorter list


def check_median(median: Callable) -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 2.0, 3.0]) == 2.5
    assert median([1.0, 2.0, 9.0]) == 2.0  # one slow round must not move it
    with pytest.raises(ValueError):
        median([])


def check_verdict(verdict: Callable) -> None:
    assert verdict(50.0, 50.0) == "PASS"  # "at least 50x" includes 50x
    assert verdict(49.9, 50.0) == "FAIL"
    assert verdict(19.9, 20.0, at_most=True) == "PASS"
    assert verdict(20.1, 20.0, at_most=True) == "FAIL"


def check_cpu_per_core(cpu_per_core: Callable) -> None:
    # 100 submissions took 8 s of CPU: 500 take 40 s, 20 s on each of 2 cores.
    assert cpu_per_core(8.0, 100) == pytest.approx(20.0)
    assert cpu_per_core(8.0, 100, submissions=1000, cores=4) == pytest.approx(20.0)
    with pytest.raises(ValueError):
        cpu_per_core(8.0, 0)


def check_flatness(flatness: Callable) -> None:
    assert flatness({100: 120.0, 2000: 132.0, 500: 500.0}) == pytest.approx(1.1)
    with pytest.raises(ValueError):
        flatness({})


def check_parse_task_clock(parse: Callable) -> None:
    line = "14588.28,msec,task-clock,14588280000,100.00,0.601,CPUs utilized\n"
    assert parse("# started on Wed Dec  2\n\n" + line) == pytest.approx(14.58828)
    assert parse("1500000000,ns,task-clock:u,1500000000,100.00,,\n") == pytest.approx(1.5)
    assert parse("<not supported>,msec,task-clock,0,100.00,,\n") is None
    assert parse("") is None


CHECKS = {
    "ratios": check_ratios, "median": check_median, "verdict": check_verdict,
    "cpu_per_core": check_cpu_per_core, "flatness": check_flatness,
    "parse_task_clock": check_parse_task_clock,
}
PLANTED: dict[str, Callable] = {
    "ratios": lambda ours, theirs: [o / t for o, t in zip(ours, theirs, strict=False)],
    "median": lambda values: sum(values) / len(values),
    "verdict": lambda value, target, at_most=False: "PASS" if value >= target else "FAIL",
    "cpu_per_core": lambda cpu, copies, submissions=500, cores=2: cpu * submissions / copies,
    "flatness": lambda peaks: max(peaks.values()) / min(peaks.values()),
    "parse_task_clock": lambda text: float(text.split(",")[0]) / 1000 if text else None,
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_arithmetic_is_right(name):
    CHECKS[name](getattr(benchstats, name))


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_each_check_rejects_its_planted_bug(name):
    with pytest.raises((AssertionError, ValueError, pytest.fail.Exception)):
        CHECKS[name](PLANTED[name])


def test_targets_are_the_issues():
    assert benchstats.SPEEDUP_TARGETS == {"hw1": 50.0, "hw2": 25.0}
    assert (benchstats.BUDGET_SUBMISSIONS, benchstats.BUDGET_CPU_PER_CORE,
            benchstats.BUDGET_CORES) == (500, 20.0, 2)


_BURN = ("import os, sys, time\n"
         "if os.fork() == 0:\n"  # an orphan: its parent exits at once, without waiting
         "    t = time.process_time()\n"
         "    while time.process_time() - t < 0.3: pass\n"
         "    os._exit(0)\n")


def test_measure_counts_an_orphaned_descendant():
    """The orphan's 0.3 s reach us as a subreaper; ``waited`` (wait4 alone) cannot see it."""
    m = benchstats.measure([sys.executable, "-c", _BURN])
    assert m.returncode == 0 and m.orphans >= 1
    assert m.rusage >= 0.3 > m.waited
    assert m.cpu == m.rusage and m.cpu_source == "rusage, a lower bound"


def test_measure_leaves_the_caller_as_it_was():
    """A subreaper only during the command: later orphans (other tests) must not come to us."""
    before = benchstats.subreaper(False)
    try:
        benchstats.measure([sys.executable, "-c", _BURN])
        assert benchstats.subreaper(False) is False
    finally:
        benchstats.subreaper(bool(before))


# A child auto-reaped (its parent ignores SIGCHLD), as the kernel does to a pid namespace whose
# pid 1 was SIGKILLed: its CPU is added to no one's rusage. os.wait() returns once it is gone.
_AUTOREAPED = ("import os, signal, time\n"
               "signal.signal(signal.SIGCHLD, signal.SIG_IGN)\n"
               "if os.fork() == 0:\n"
               "    t = time.process_time()\n"
               "    while time.process_time() - t < 0.3: pass\n"
               "    os._exit(0)\n"
               "try:\n"
               "    os.wait()\n"
               "except ChildProcessError:\n"
               "    pass\n")


@pytest.mark.skipif(not benchstats.perf_works(), reason="perf stat is not usable here")
def test_perf_counts_what_rusage_cannot():
    m = benchstats.measure([sys.executable, "-c", _AUTOREAPED], perf=True)
    assert m.returncode == 0 and m.task_clock is not None
    assert m.task_clock >= 0.3 > m.rusage
    assert m.cpu == m.task_clock and m.cpu_source == "perf task-clock"
