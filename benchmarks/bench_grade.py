"""Seconds and CPU per submission: ``bplab grade`` (sandboxed) against ``otter run``, paired.

    .venv/bin/python benchmarks/bench_grade.py -a hw1 -a hw2 --copies 100 --rounds 3 -j 2

For each assignment, grades COPIES copies of its reference notebook (``examples/hwN/full.ipynb``)
with one ``bplab grade -j J`` command, and OTTER copies with ``otter run`` (Otter's own
autograder zip, built by ``bplab build``: the same test files), J ``otter run`` processes at a
time. Each round runs both, alternating which goes first (bplab then otter, otter then bplab,
...), so drifting load on a shared machine hits both sides alike; every copy must get full
marks on both sides or the benchmark stops.

Printed: the load average at the start, after each round and at the end; per round and as
medians, wall seconds per submission and CPU per submission: user + system of the whole process
tree, sandboxed processes included, as ``perf stat -e task-clock`` counts it (rusage cannot see
what ran in a SIGKILLed sandbox: ``benchstats``; without perf the figure is rusage's, marked a
lower bound), with what rusage sees printed beside it; the per-round ratios otter/bplab and
their median; and PASS/FAIL against issue 14's targets (``benchstats.SPEEDUP_TARGETS``; 500 hw1
submissions in under ``BUDGET_CPU_PER_CORE`` s of CPU per core on 2 cores, the CPU-bound
estimate printed beside the wall time measured). Measurements, never asserted: read the
ratios, not the seconds, on a loaded machine.

Parallelism, the same on both sides: ``bplab grade -j J`` runs J grader processes, each with one
sandbox grading and its next one starting; otter runs J ``otter run`` processes at a time (each
with its own kernel). OTTER defaults to 2 x J, so no wave of otter runs is part-filled.
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from benchstats import (
    BUDGET_CORES,
    BUDGET_CPU_PER_CORE,
    BUDGET_SUBMISSIONS,
    SPEEDUP_TARGETS,
    Measured,
    cpu_per_core,
    load_average,
    measure,
    median,
    perf_works,
    ratios,
    verdict,
)

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c", "from bplab.cli import main; main()"]
# otter run, J at a time, in one child process so that os.wait4 sees the whole tree.
_OTTER = """
import json, sys
from pathlib import Path
from bplab.otter_run import otter_run_many
autograder_zip, out, jobs, summary, *notebooks = sys.argv[1:]
results = otter_run_many(Path(autograder_zip), [Path(n) for n in notebooks], Path(out),
                         jobs=int(jobs))
Path(summary).write_text(json.dumps([[r.total, r.possible, r.log[-800:]] for r in results]))
"""


@dataclass
class Side:
    """One grader's rounds: what each command cost, and how many submissions it graded."""

    submissions: int
    runs: list[Measured] = field(default_factory=list)

    def wall_each(self) -> list[float]:
        return [m.wall / self.submissions for m in self.runs]

    def cpu_each(self) -> list[float]:
        return [m.cpu / self.submissions for m in self.runs]

    def rusage_each(self) -> list[float]:
        return [m.rusage / self.submissions for m in self.runs]

    def source(self) -> str:
        return ", ".join(sorted({m.cpu_source for m in self.runs}))


def copies_of(notebook: Path, folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True)
    paths = [folder / f"s{i:04d}.ipynb" for i in range(n)]
    for p in paths:
        shutil.copy(notebook, p)
    return paths


def run_bplab(assignment: str, subs: Path, out: Path, jobs: int, perf: bool) -> Measured:
    m = measure([*CLI, "grade", "-a", assignment, "--out", str(out), "-j", str(jobs),
                 str(subs)], perf=perf)
    with (out / "grades.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    full = [r for r in rows
            if r["status"] == "graded" and float(r["score"]) == float(r["max_score"])]
    if m.returncode != 0 or not rows:
        sys.exit(f"bplab grade {assignment}: exit {m.returncode}, {len(rows)} records")
    if len(full) != len(rows):  # the reference losing points: timed, but said (load: timeouts?)
        lost = [f"{r['submission']}: {r['status']} {r['score']}/{r['max_score']} "
                f"({why_short(out, r['submission'])})" for r in rows if r not in full]
        print(f"  warning: bplab grade {assignment}: {len(full)}/{len(rows)} full marks; "
              + "; ".join(lost[:5]))
    return m


def why_short(out: Path, stem: str) -> str:
    """The first lost question of a record and the start of its output (for the warning)."""
    try:
        data = json.loads((out / "results" / f"{stem}.json").read_text())
    except (OSError, ValueError):
        return "no results file"
    lost = [t for t in data.get("tests", []) if t.get("score", 0) < t.get("max_score", 0)]
    reason = data.get("extra_data", {}).get("bplab", {}).get("reason", "")
    first = f"{lost[0].get('name')}: {str(lost[0].get('output', ''))[:160]!r}" if lost else ""
    return "; ".join(x for x in (str(reason)[:160], first) if x)


def run_otter(autograder_zip: Path, notebooks: list[Path], out: Path, jobs: int,
              perf: bool) -> Measured:
    summary = out.with_suffix(".json")
    m = measure([sys.executable, "-c", _OTTER, str(autograder_zip), str(out), str(jobs),
                 str(summary), *map(str, notebooks)], perf=perf)
    results = json.loads(summary.read_text()) if summary.is_file() else []
    full = [r for r in results if r[0] == r[1] > 0]
    if m.returncode != 0 or len(results) != len(notebooks):
        sys.exit(f"otter run: exit {m.returncode}, {len(results)} results")
    if len(full) != len(notebooks):  # as for bplab: timed, but said
        logs = " | ".join(r[2][-300:] for r in results if r not in full)
        print(f"  warning: otter run: {len(full)}/{len(notebooks)} full marks; {logs}")
    return m


def isolation_of(out: Path) -> str:
    first = next((out / "results").glob("*.json"))
    return str(json.loads(first.read_text())["extra_data"]["bplab"]["isolation"])


def bench(assignment: str, args: argparse.Namespace, work: Path, perf: bool) -> dict:
    from bplab.build import build
    from bplab.layout import Assignment

    full = ROOT / "examples" / assignment / "full.ipynb"
    work = work / assignment
    copies_of(full, work / "subs", args.copies)
    # Distinct stems: otter_run_many writes each notebook's results to OUT/<stem>/.
    otter_nbs = copies_of(full, work / "otter-in", args.otter)
    autograder_zip = build(Assignment.named(assignment), work / "dist").autograder_zip
    ours, theirs = Side(args.copies), Side(args.otter)
    loads = []
    print(f"\n== {assignment}: bplab grade {args.copies} copies, otter run {args.otter} copies, "
          f"{args.rounds} rounds (alternating which goes first)")
    for r in range(args.rounds):
        bplab = functools.partial(run_bplab, assignment, work / "subs", work / f"out{r}",
                                  args.jobs, perf)
        otter = functools.partial(run_otter, autograder_zip, otter_nbs, work / f"otter{r}",
                                  args.jobs, perf)
        for side, step in [(ours, bplab), (theirs, otter)][::1 if r % 2 == 0 else -1]:
            side.runs.append(step())
        loads.append(load_average())
        print(f"  round {r + 1}: bplab {ours.wall_each()[-1]:.3f} s/sub "
              f"(CPU {ours.cpu_each()[-1] * 1000:.0f} ms), otter {theirs.wall_each()[-1]:.2f} "
              f"s/sub (CPU {theirs.cpu_each()[-1] * 1000:.0f} ms), ratio "
              f"{theirs.wall_each()[-1] / ours.wall_each()[-1]:.1f}x; load {loads[-1]}")
    per_round = ratios(ours.wall_each(), theirs.wall_each())
    result = {
        "assignment": assignment, "isolation": isolation_of(work / "out0"),
        "bplab_wall_each": ours.wall_each(), "bplab_cpu_each": ours.cpu_each(),
        "bplab_rusage_each": ours.rusage_each(), "bplab_wall": [m.wall for m in ours.runs],
        "bplab_cpu": [m.cpu for m in ours.runs],
        "otter_wall_each": theirs.wall_each(), "otter_cpu_each": theirs.cpu_each(),
        "otter_rusage_each": theirs.rusage_each(), "ratios": per_round, "loads": loads,
        "cpu_source": ours.source(),
    }
    report(result, args)
    return result


def report(res: dict, args: argparse.Namespace) -> None:
    a = res["assignment"]
    ratio = median(res["ratios"])
    print(f"  isolation: {res['isolation']}")
    print(f"  bplab grade (-j {args.jobs}, {args.copies} per command): "
          f"{median(res['bplab_wall_each']):.3f} s/sub wall, "
          f"{median(res['bplab_cpu_each']) * 1000:.0f} ms/sub CPU (whole tree, "
          f"{res['cpu_source']})")
    print(f"  otter run   ({args.jobs} at a time, {args.otter} per round): "
          f"{median(res['otter_wall_each']):.2f} s/sub wall, "
          f"{median(res['otter_cpu_each']) * 1000:.0f} ms/sub CPU (whole tree)")
    for side in ("bplab", "otter"):  # what rusage sees of the same tree (see benchstats)
        print(f"  {side} CPU as rusage sees it: {median(res[f'{side}_rusage_each']) * 1000:.0f}"
              " ms/sub")
    rounds = ", ".join(f"{x:.1f}x" for x in res["ratios"])
    cpu_ratio = median(res["otter_cpu_each"]) / median(res["bplab_cpu_each"])
    line = (f"  ratio otter/bplab per submission: median {ratio:.1f}x (rounds: {rounds}); "
            f"CPU ratio {cpu_ratio:.1f}x")
    target = SPEEDUP_TARGETS.get(a)
    print(line + (f"; target >= {target:.0f}x: {verdict(ratio, target)}" if target else ""))
    if a == "hw1":
        cpu = median(res["bplab_cpu"])
        estimate = cpu_per_core(cpu, args.copies)
        wall = median(res["bplab_wall"]) * BUDGET_SUBMISSIONS / args.copies
        how = "measured" if args.copies == BUDGET_SUBMISSIONS else (
            f"scaled from {args.copies}; start-up counted {BUDGET_SUBMISSIONS / args.copies:.0f}"
            " times, an overestimate")
        print(f"  {BUDGET_SUBMISSIONS} hw1 submissions: {estimate:.1f} s CPU per core on "
              f"{BUDGET_CORES} cores (CPU-bound estimate, {how}); wall {wall:.1f} s with "
              f"-j {args.jobs} at this load; target < {BUDGET_CPU_PER_CORE:.0f} s: "
              f"{verdict(estimate, BUDGET_CPU_PER_CORE, at_most=True)}")


def git_head() -> str:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-a", "--assignment", action="append", choices=["hw1", "hw2", "hw3"],
                        help="repeatable (default: hw1)")
    parser.add_argument("--copies", type=int, default=100, help="notebooks per bplab grade run")
    parser.add_argument("--otter", type=int, default=None,
                        help="notebooks per otter round (default: 2 x jobs)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("-j", "--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--no-perf", action="store_true",
                        help="no perf stat (CPU is then rusage's lower bound)")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()
    if isinstance(sys.stdout, io.TextIOWrapper):  # a log file follows each line as printed
        sys.stdout.reconfigure(line_buffering=True)
    args.otter = args.otter or 2 * args.jobs
    if args.copies < 1 or args.otter < 1 or args.rounds < 1:
        parser.error("--copies, --otter and --rounds must be positive")
    if args.otter % args.jobs:  # a last, part-filled wave would charge otter for idle slots
        print(f"warning: --otter {args.otter} is not a multiple of -j {args.jobs}")
    perf = not args.no_perf and perf_works()
    print(f"command: {shlex.join([Path(sys.executable).name, *sys.argv])}")
    source = "perf task-clock" if perf else "rusage (a lower bound)"
    print(f"commit {git_head()}; cores {len(os.sched_getaffinity(0))}; -j {args.jobs} on both "
          f"sides; CPU from {source}; load average at start {load_average()}")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for assignment in args.assignment or ["hw1"]:
            results.append(bench(assignment, args, Path(tmp), perf))
    print(f"\nload average at end {load_average()}")
    if args.json:
        args.json.write_text(json.dumps({"argv": sys.argv, "results": results}, indent=1))


if __name__ == "__main__":
    main()
