"""Peak memory of the ``bplab grade`` process against the number of submissions (issue 10).

    .venv/bin/python benchmarks/bench_grade_memory.py --small 20 --large 200 -j 2

Grades SMALL and then LARGE copies of the reference notebook (``examples/hw1/full.ipynb``)
padded with a 1 MB output cell each (real notebooks carry outputs), each batch in its own
process, and prints that process's peak RSS (``ru_maxrss``) for both and their ratio. Target:
flat, i.e. a ratio near 1 (records and notebook bytes are not held once written).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bplab.layout import GradingDir

ROOT = Path(__file__).resolve().parents[1]
FULL = ROOT / "examples" / "hw1" / "full.ipynb"
_CHILD = """
import resource, sys
from pathlib import Path
from bplab.grade.command import run_grade
run_grade("hw1", [Path(sys.argv[1])], Path(sys.argv[2]), jobs=int(sys.argv[3]), quiet=True,
          keep_records=False)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_kib(copies: int, jobs: int, work: Path) -> int:
    nb = json.loads(FULL.read_text())
    nb["cells"].append({"cell_type": "code", "metadata": {}, "execution_count": 1,
                        "source": "print('x')", "outputs": [
                            {"output_type": "stream", "name": "stdout", "text": "x" * 2**20}]})
    subs = work / f"subs{copies}"
    subs.mkdir()
    data = json.dumps(nb)
    for i in range(copies):
        (subs / f"s{i:04d}.ipynb").write_text(data)
    out = work / f"out{copies}"
    done = subprocess.run([sys.executable, "-c", _CHILD, str(subs), str(out), str(jobs)],
                          check=True, capture_output=True, text=True)
    rows = GradingDir(out).grades_csv.read_text().splitlines()[1:]
    assert len(rows) == copies, f"{len(rows)} rows for {copies} submissions"
    return int(done.stdout.split()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", type=int, default=20)
    ap.add_argument("--large", type=int, default=200)
    ap.add_argument("-j", "--jobs", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small = peak_kib(args.small, args.jobs, Path(tmp))
        large = peak_kib(args.large, args.jobs, Path(tmp))
    print(f"peak RSS of the grading process: {args.small} submissions {small / 1024:.0f} MiB, "
          f"{args.large} submissions {large / 1024:.0f} MiB, ratio {large / small:.2f}")


if __name__ == "__main__":
    main()
