"""A mixed batch: honest submissions graded beside hostile ones (issue 10), against all honest.

    .venv/bin/python benchmarks/bench_hostile.py --honest 200 --hostile 20 -j 2

Grades HONEST copies of the reference notebook mixed with HOSTILE notebooks of the attack
classes of ``tests/adversarial`` (bad text, huge errors, IPython lines, forged names, a
worker that stops reading, resource probes, setsid spinners, memory and fork bombs, endless
loops), checks that the run ends, that every submission has its record, results and
feedback, and that every honest one has full marks; then grades the same number of honest
copies alone, and prints both times and their ratio. A benchmark, not a test: run it once.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from adversarial import FULL, HOSTILE, RESOURCE_PROBES, STOP_READING, Case, write  # noqa: E402
from bplab.layout import GradingDir  # noqa: E402

SPINNERS = ("import os\nfor _ in range(40):\n    try:\n        if os.fork() == 0:\n"
            "            os.setsid()\n            while True:\n                pass\n"
            "    except OSError:\n        break\n")
KINDS: dict[str, Case] = {
    "bad_text": HOSTILE["bad_text"],
    "huge_errors": HOSTILE["huge_errors"],
    "shell_lines": HOSTILE["shell_lines"],
    "forged_names": HOSTILE["forged_names"],
    "stop_reading": Case(append=[STOP_READING, "x = 1  # " + "y" * 300_000]),
    "resources": Case(prepend=[RESOURCE_PROBES]),
    "spinners": Case(prepend=[SPINNERS]),
    "memory_bomb": HOSTILE["memory_bomb"],
    "fork_bomb": HOSTILE["fork_bomb_and_daemon"],
    "infinite_loop": HOSTILE["infinite_loop"],
}
LIMITS = ["--cell-timeout", "4", "--call-timeout", "4", "--submission-timeout", "120"]


def grade(subs: Path, out: Path, jobs: int) -> float:
    cli = [sys.executable, "-c", "from bplab.cli import main; main()"]
    start = time.perf_counter()
    subprocess.run([*cli, "grade", "-a", "hw1", "--out", str(out), "-j", str(jobs), *LIMITS,
                    str(subs)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def check(out: Path, stems: list[str], honest: set[str]) -> None:
    layout = GradingDir(out)
    with open(layout.grades_csv, newline="") as f:
        rows = {r["submission"]: r for r in csv.DictReader(f)}
    assert set(rows) == set(stems), f"{len(rows)} rows for {len(stems)} submissions"
    for stem in stems:
        assert layout.results(stem).is_file() and layout.feedback(stem).is_file(), stem
    short = [s for s in honest if rows[s]["score"] != rows[s]["max_score"]]
    assert not short, f"honest submissions below full marks: {sorted(short)[:5]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--honest", type=int, default=200)
    parser.add_argument("--hostile", type=int, default=20)
    parser.add_argument("-j", "--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        mixed, alone = work / "mixed", work / "alone"
        mixed.mkdir()
        alone.mkdir()
        kinds = list(KINDS.items())
        hostile = []
        for i in range(args.hostile):
            name, case = kinds[i % len(kinds)]
            write(case, mixed / f"x{i:03d}-{name}.ipynb")
            hostile.append(f"x{i:03d}-{name}")
        honest = [f"s{i:04d}" for i in range(args.honest)]
        for stem in honest:
            shutil.copy(FULL, mixed / f"{stem}.ipynb")
        total = args.honest + args.hostile
        for i in range(total):
            shutil.copy(FULL, alone / f"s{i:04d}.ipynb")
        t_mixed = grade(mixed, work / "out-mixed", args.jobs)
        check(work / "out-mixed", honest + hostile, set(honest))
        t_alone = grade(alone, work / "out-alone", args.jobs)
        check(work / "out-alone", [f"s{i:04d}" for i in range(total)],
              {f"s{i:04d}" for i in range(total)})
    print(f"mixed batch ({args.honest} honest + {args.hostile} hostile, -j {args.jobs}): "
          f"{t_mixed:.1f} s, every record written, every honest one full marks")
    print(f"all honest ({total}, -j {args.jobs}): {t_alone:.1f} s")
    print(f"ratio mixed / all honest: {t_mixed / t_alone:.2f}")


if __name__ == "__main__":
    main()
