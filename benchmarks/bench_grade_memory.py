"""Peak memory of ``bplab grade`` against the number of submissions (issues 10 and 14).

    .venv/bin/python benchmarks/bench_grade_memory.py --sizes 100,500,1000,2000 -j 2

For each size N, grades N copies of one hw1 notebook (``--notebook full``: the reference, every
check run; ``blank``: the handed-out stubs, every question failing fast, for a quicker run),
padded with one output cell of ``--pad-kib`` KiB (real notebooks carry outputs; the copies are
hard links of one file, so 2,000 of them cost one file's disk) with one real ``bplab grade -j J``
command per size, and prints:

- the grader process's own peak RSS (``RUSAGE_SELF``, read in the command at exit): what must
  stay flat, since it is the one process that lives for the whole batch and collects records;
- the largest peak of a process reaped in its tree (``ru_maxrss`` of ``os.wait4``: the grader
  or a pool process; one process's peak, not a sum; not the sandboxes, whose processes the
  kernel auto-reaps when the grader kills them, see ``benchstats``);
- the peak of the tree's summed PSS, sampled from ``/proc`` every ``--every`` s (a sum that
  counts shared pages once; sandboxes included; a short peak between samples can be missed).

and the ratio of each between the largest and the smallest size, PASS when the grader's own
peak ratio is at most ``benchstats.FLAT_RATIO``. Every copy must get a record.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchstats import FLAT_RATIO, flatness, load_average, verdict

ROOT = Path(__file__).resolve().parents[1]
# The real CLI, with the process's own peaks written at exit (click's main ends in sys.exit).
_CHILD = """
import atexit, json, resource, sys
def peaks(path=sys.argv[1]):
    usage = lambda who: resource.getrusage(who).ru_maxrss
    with open(path, "w") as f:
        json.dump({"self": usage(resource.RUSAGE_SELF),
                   "children": usage(resource.RUSAGE_CHILDREN)}, f)
atexit.register(peaks)
sys.argv = ["bplab", *sys.argv[2:]]
from bplab.cli import main
main()
"""


def tree_pss_kib(root: int) -> int:
    """Summed PSS (KiB) of ``root`` and all its descendants, now (a process gone is skipped)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        except (OSError, StopIteration, ValueError):
            continue
    return total


def padded_notebook(name: str, pad_kib: int, dest: Path) -> Path:
    nb = json.loads((ROOT / "examples" / "hw1" / f"{name}.ipynb").read_text())
    nb["cells"].append({"cell_type": "code", "metadata": {}, "execution_count": 1,
                        "source": "print('x')", "outputs": [
                            {"output_type": "stream", "name": "stdout",
                             "text": "x" * (pad_kib * 1024)}]})
    dest.write_text(json.dumps(nb))
    return dest


def peaks_at(n: int, source: Path, jobs: int, every: float, work: Path) -> dict:
    subs = work / f"subs{n}"
    subs.mkdir()
    for i in range(n):
        os.link(source, subs / f"s{i:05d}.ipynb")
    out, peaks_file = work / f"out{n}", work / f"peaks{n}.json"
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(peaks_file), "grade", "-a", "hw1",
                             "--out", str(out), "-j", str(jobs), str(subs)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tree = [0]
    finished = threading.Event()

    def sample() -> None:
        while not finished.wait(every):
            tree[0] = max(tree[0], tree_pss_kib(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    finished.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    with (out / "grades.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    if proc.returncode != 0 or len(rows) != n:
        sys.exit(f"bplab grade: exit {proc.returncode}, {len(rows)} records for {n} submissions")
    own = json.loads(peaks_file.read_text())
    statuses = sorted({r["status"] for r in rows})
    return {"self": own["self"], "tree_max": usage.ru_maxrss, "tree_pss": tree[0],
            "wall": wall, "statuses": statuses}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,500,1000,2000",
                    help="comma-separated batch sizes")
    ap.add_argument("--notebook", choices=["full", "blank"], default="full")
    ap.add_argument("--pad-kib", type=int, default=1024, help="output cell size per notebook")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--every", type=float, default=0.5, help="seconds between /proc samples")
    args = ap.parse_args()
    if isinstance(sys.stdout, io.TextIOWrapper):  # a log file follows each line as printed
        sys.stdout.reconfigure(line_buffering=True)
    sizes = sorted({int(s) for s in args.sizes.split(",")})
    if not sizes or sizes[0] < 1:
        ap.error("--sizes must be positive integers")
    print(f"command: {shlex.join([Path(sys.executable).name, *sys.argv])}")
    print(f"grading hw1 {args.notebook}.ipynb + {args.pad_kib} KiB output, -j {args.jobs}; "
          f"load average at start {load_average()}")
    found: dict[int, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        source = padded_notebook(args.notebook, args.pad_kib, Path(tmp) / "source.ipynb")
        for n in sizes:
            r = found[n] = peaks_at(n, source, args.jobs, args.every, Path(tmp))
            print(f"  {n:5d} submissions: grader {r['self'] / 1024:.0f} MiB, largest process "
                  f"{r['tree_max'] / 1024:.0f} MiB, tree PSS {r['tree_pss'] / 1024:.0f} MiB; "
                  f"{r['wall']:.0f} s wall ({', '.join(r['statuses'])}); "
                  f"load {load_average()}")
    if len(sizes) > 1:
        big, small = sizes[-1], sizes[0]
        ratio = flatness({n: r["self"] for n, r in found.items()})
        tree_max = flatness({n: r["tree_max"] for n, r in found.items()})
        sampled = all(r["tree_pss"] for r in found.values())  # a run shorter than --every
        tree_pss = (f"{flatness({n: r['tree_pss'] for n, r in found.items()}):.2f}"
                    if sampled else "not sampled")
        print(f"ratio {big}/{small}: grader {ratio:.2f}, largest process {tree_max:.2f}, "
              f"tree PSS {tree_pss}; flat (grader <= {FLAT_RATIO}): "
              f"{verdict(ratio, FLAT_RATIO, at_most=True)}")
    print(f"load average at end {load_average()}")


if __name__ == "__main__":
    main()
