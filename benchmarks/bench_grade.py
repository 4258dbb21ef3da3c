"""Seconds per submission: ``bplab grade`` (sandboxed, parallel) against ``otter run``.

    .venv/bin/python benchmarks/bench_grade.py --copies 500 --otter 3 -j 2

Grades K copies of the reference notebook (``examples/hw1/full.ipynb``) with ``bplab grade``
and a few with ``otter run`` (Otter's own autograder zip, built by ``bplab build``), checks
that every copy got full marks, and prints seconds (and CPU) per submission and the ratio.
``BPLAB_NO_ZYGOTE=1`` in the environment measures bwrap per submission instead of a zygote
per slot (``--otter 0`` skips otter). Targets: at
least 20x faster per submission than ``otter run``; 500 hw1 submissions in under 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bplab.grade.sandbox.reaping import become_subreaper
from bplab.layout import GradingDir

ROOT = Path(__file__).resolve().parents[1]
FULL = ROOT / "examples" / "hw1" / "full.ipynb"


def bench_bplab(copies: int, jobs: int, work: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (every process of the run, workers included)."""
    subs = work / "subs"
    subs.mkdir()
    for i in range(copies):
        shutil.copy(FULL, subs / f"s{i:04d}.ipynb")
    out = work / "out"
    start = time.perf_counter()
    cpu = _children_cpu()
    cli = [sys.executable, "-c", "from bplab.cli import main; main()"]
    subprocess.run([*cli, "grade", "-a", "hw1", "--out", str(out), "-j", str(jobs), str(subs)],
                   check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    _reap_orphans()
    cpu = _children_cpu() - cpu
    rows = GradingDir(out).grades_csv.read_text().splitlines()[1:]
    full = [r for r in rows if r.split(",")[2] == r.split(",")[3]]
    assert len(rows) == copies and len(full) == copies, f"{len(full)}/{copies} full marks"
    return seconds, cpu


def _reap_orphans(limit: float = 30.0) -> None:
    """Wait for every process of the run that was orphaned (a killed sandbox's processes die
    through ``--die-with-parent`` after their parent: as our subreaper's children, so their
    CPU counts in ``RUSAGE_CHILDREN`` whichever mode killed them)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.01)


def _children_cpu() -> float:
    """CPU seconds of every waited-for descendant (with ``become_subreaper``: all of them)."""
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def bench_otter(n: int, jobs: int, work: Path) -> float:
    from bplab.build import build
    from bplab.layout import Assignment
    from bplab.otter_run import otter_run_many

    release = build(Assignment.named("hw1"), work / "dist")
    notebooks = []
    for i in range(n):
        p = work / f"otter{i}" / "full.ipynb"
        p.parent.mkdir()
        shutil.copy(FULL, p)
        notebooks.append(p)
    start = time.perf_counter()
    results = otter_run_many(release.autograder_zip, notebooks, work / "otter-out", jobs=jobs)
    seconds = time.perf_counter() - start
    assert all(r.total == r.possible > 0 for r in results), [r.log[-500:] for r in results]
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=200, help="notebooks for bplab grade")
    parser.add_argument("--otter", type=int, default=2, help="notebooks for otter run")
    parser.add_argument("-j", "--jobs", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args()
    become_subreaper()  # the run's orphans become ours: their CPU is then counted
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ours, cpu = bench_bplab(args.copies, args.jobs, work)
        theirs = bench_otter(args.otter, args.jobs, work) if args.otter else float("nan")
    per_ours, per_theirs = ours / args.copies, theirs / max(args.otter, 1)
    print(f"cores: {len(os.sched_getaffinity(0))}, jobs: {args.jobs}")
    print(f"bplab grade: {args.copies} submissions in {ours:.1f} s = {per_ours:.3f} s each "
          f"(500 would take ~{500 * per_ours:.0f} s), CPU {cpu / args.copies * 1000:.0f} ms each")
    if args.otter:
        print(f"otter run:   {args.otter} submissions in {theirs:.1f} s = {per_theirs:.2f} s each")
        print(f"ratio: bplab grade is {per_theirs / per_ours:.0f}x faster per submission")


if __name__ == "__main__":
    main()
