"""Which way of counting CPU sees what ran inside a sandbox (why ``benchstats.cpu`` uses perf).

    .venv/bin/python benchmarks/check_cpu_accounting.py --sandboxes 6 --burn 0.5

Runs a controlled tree: a parent that starts SANDBOXES bubblewrap sandboxes one after the other
(``--unshare-pid --die-with-parent --new-session``, the flags that shape the grader's process
tree), each running a Python child that burns BURN s of CPU (its own ``process_time``). In mode
``exit`` the child then exits; in mode ``kill`` it waits and the parent SIGKILLs bubblewrap's
process group, as the grader ends every worker. For each mode it prints what the tree is known
to have burnt (at least SANDBOXES x BURN) against three counts of the tree (``benchstats``):
``os.wait4`` of the parent alone, rusage with the benchmark as a subreaper, perf task-clock.
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys

from benchstats import measure, perf_works

_TREE = """
import os, signal, subprocess, sys
n, burn, mode = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
child = ("import sys, time\\nt = time.process_time()\\n"
         "while time.process_time() - t < float(sys.argv[1]): pass\\n"
         "print('burnt', flush=True)\\ntime.sleep(60 if sys.argv[2] == 'kill' else 0)")
for _ in range(n):
    p = subprocess.Popen(["bwrap", "--unshare-pid", "--die-with-parent", "--new-session",
                          "--dev-bind", "/", "/", sys.executable, "-c", child, str(burn), mode],
                         stdout=subprocess.PIPE, start_new_session=True)
    p.stdout.readline()
    if mode == "kill":
        os.killpg(p.pid, signal.SIGKILL)
    p.wait()
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sandboxes", type=int, default=6)
    ap.add_argument("--burn", type=float, default=0.5, help="CPU seconds burnt in each")
    args = ap.parse_args()
    if isinstance(sys.stdout, io.TextIOWrapper):  # a log file follows each line as printed
        sys.stdout.reconfigure(line_buffering=True)
    if shutil.which("bwrap") is None:
        sys.exit("bwrap not found")
    perf = perf_works()
    known = args.sandboxes * args.burn
    print(f"{args.sandboxes} sandboxes x {args.burn} s burnt: at least {known:.2f} s CPU; "
          f"perf {'works' if perf else 'unavailable'}")
    for mode in ("exit", "kill"):
        m = measure([sys.executable, "-c", _TREE, str(args.sandboxes), str(args.burn), mode],
                    perf=perf)
        clock = f"{m.task_clock:.2f} s" if m.task_clock is not None else "n/a"
        print(f"  {mode:4s}: wait4 of the parent {m.waited:.2f} s, rusage as subreaper "
              f"{m.rusage:.2f} s ({m.orphans} orphans reaped), perf task-clock {clock}")


if __name__ == "__main__":
    main()
