"""Seconds for ``bplab similarity`` on a generated hw1 class (issue 18: "500 in seconds").

    .venv/bin/python benchmarks/bench_similarity.py --students 500

Generates N students with tests/similarity_class.py (independent variants, planted bugs, and
the three kinds of copies), writes their notebooks and a grading folder, then runs the command
(``bplab similarity OUT -a hw1 --submissions SUBS``) in a fresh process, once for N/5 and once
for N students. Prints wall and CPU seconds of each run (interpreter start included; CPU time
is the number to compare on a loaded machine), CPU milliseconds per submission, the CPU ratio
of the two runs (pairs grow with N**2, so a ratio near 5 says the per-student work dominates)
and the load average, and checks that the three copy pairs rank first over the whole notebook.
Target: 500 submissions in under 30 s of CPU on the 2-core development machine.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from similarity_class import make_class, write_class  # noqa: E402


def bench(n: int, work: Path) -> tuple[float, float]:
    students, copies = make_class(n_independent=n - 3)
    subs, out = write_class(work / f"n{n}", students)
    cli = [sys.executable, "-c", "from bplab.cli import main; main()"]
    start, cpu = time.perf_counter(), _children_cpu()
    subprocess.run([*cli, "similarity", str(out), "-a", "hw1", "--submissions", str(subs)],
                   check=True, stdout=subprocess.DEVNULL)
    seconds, cpu = time.perf_counter() - start, _children_cpu() - cpu
    with open(out / "similarity.csv", newline="") as f:
        top = [(r["a"], r["b"]) for r in csv.DictReader(f) if r["question"] == "*"][:3]
    assert {tuple(sorted(p)) for p in top} == {tuple(sorted(p)) for p in copies}, top
    return seconds, cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=500)
    args = parser.parse_args()
    small = max(10, args.students // 5)
    with tempfile.TemporaryDirectory() as tmp:
        t_small, c_small = bench(small, Path(tmp))
        t_big, c_big = bench(args.students, Path(tmp))
    for n, seconds, cpu in ((small, t_small, c_small), (args.students, t_big, c_big)):
        print(f"{n} submissions: {seconds:.2f} s wall, {cpu:.2f} s CPU "
              f"({1000 * cpu / n:.1f} ms CPU each)")
    print(f"CPU ratio {c_big / c_small:.2f} for {args.students / small:.0f}x the students; "
          f"load average {os.getloadavg()[0]:.1f}; copy pairs ranked first in both")


if __name__ == "__main__":
    main()
