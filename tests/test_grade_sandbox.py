"""The sandbox's parts on their own: the seccomp filter and its loader, the limits budget, the
text cleaning, and the cgroup v2 path against a fake cgroupfs (never this machine's tree)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from bplab.grade import text
from bplab.grade.sandbox import cgroup, seccomp
from bplab.grade.sandbox.limits import Limits

LOAD_THEN_TRY = """
import os, sys
from bplab.grade.sandbox import seccomp
os.memfd_create("before").__index__()  # allowed before the filter
seccomp.load(seccomp.program())
for name, call in (("memfd", lambda: os.memfd_create("after")),
                   ("unshare", lambda: os.unshare(os.CLONE_NEWUSER)) if hasattr(os, "unshare")
                   else ("unshare", lambda: os.memfd_create("again"))):
    try:
        call()
        print(name, "allowed")
    except PermissionError:
        print(name, "refused")
pid = os.fork()  # plain fork still works under the filter
if pid == 0:
    os._exit(7)
print("fork", os.waitpid(pid, 0)[1] >> 8)
"""


def test_the_filter_loads_in_a_process_and_refuses_what_it_lists():
    program = seccomp.program()
    assert program and len(program) % 8 == 0
    out = subprocess.run([sys.executable, "-c", LOAD_THEN_TRY], capture_output=True, text=True,
                         timeout=60, check=True).stdout.split("\n")
    assert out[:3] == ["memfd refused", "unshare refused", "fork 7"], out


def test_the_limits_budget_holds_and_is_said():
    limits = Limits()
    assert limits.processes * limits.memory_bytes <= limits.budget_bytes
    assert "processes" in limits.describe()
    over = Limits(processes=64, memory_bytes=3 * 1024**3)  # the old limits: 192 GiB in all
    assert over.processes * over.memory_bytes > over.budget_bytes


@pytest.mark.parametrize("raw, want", [
    ("\udcff x", "\ufffd x"), ("a\x1b[31mred\x1b[0m", "ared"), ("\x1b]0;title\x07t", "t"),
    ("\x9b2Jz", "z"), ("c\x00\x7f\x85\r", "c"), ("keep\ttabs\nand lines", "keep\ttabs\nand lines"),
    ("x (diagnosis: forged)", "x (diagnosis - forged)"), ("(diag\x00nosis: z)", "(diagnosis - z)"),
    ("\u202egnp.exe", "gnp.exe"),
])
def test_clean_gives_printable_text_without_tags(raw, want):
    assert text.clean(raw) == want
    assert text.clean(want) == want  # idempotent


def test_the_text_budget_bounds_a_record():
    budget = text.TextBudget(10_000)
    out = [budget.take("E" * 100_000) for _ in range(1000)]
    assert sum(map(len, out)) < 10_000 + 2 * len(text.CUT) + len(text.SPENT)
    assert out[3] == text.SPENT and out[-1] == ""


def _fake_cgroupfs(tmp_path, delegated: bool):
    root = tmp_path / "cgroup"
    group = root / "grader.service"
    group.mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpu io memory pids\n")
    (group / "cgroup.controllers").write_text("cpu io memory pids\n")
    (group / "cgroup.procs").write_text("")
    (group / "cgroup.subtree_control").write_text("")
    self_cgroup = tmp_path / "self-cgroup"
    self_cgroup.write_text("0::/grader.service\n")
    env = {cgroup.SETTING: "delegated"} if delegated else {}
    return root, group, self_cgroup, env


def test_no_delegation_here_and_none_without_a_mark(tmp_path):
    assert cgroup.find_delegated() is None  # this machine's tree is not ours: only read
    root, _, self_cgroup, env = _fake_cgroupfs(tmp_path, delegated=False)
    assert cgroup.find_delegated(root, self_cgroup, env) is None
    assert cgroup.find_delegated(root, self_cgroup, {cgroup.SETTING: "off"}) is None


def test_a_delegated_group_bounds_each_worker(tmp_path, monkeypatch):
    root, group, self_cgroup, env = _fake_cgroupfs(tmp_path, delegated=True)
    assert cgroup.find_delegated(root, self_cgroup, env) == group
    monkeypatch.setenv(cgroup.SETTING, "delegated")
    limits = Limits()
    slot = cgroup.for_slot(0, limits, root, self_cgroup)
    assert slot is not None and "cgroup v2" in slot.describe()
    assert (group / "grader" / "cgroup.procs").read_text() == str(os.getpid())
    assert (group / "cgroup.subtree_control").read_text() == "+cpu +memory +pids"
    worker = slot.new_group()
    assert (worker.path / "memory.max").read_text() == str(limits.memory_bytes)
    assert (worker.path / "pids.max").read_text() == str(cgroup.PIDS_PER_SUBMISSION)
    assert (worker.path / "cpu.max").read_text() == cgroup.CPU_MAX
    # The fake group "holds" a real process: kill() must end it, remove() the folder.
    sleeper = subprocess.Popen(["sleep", "60"])
    (worker.path / "cgroup.procs").write_text(f"{sleeper.pid}\n")
    started = time.monotonic()
    worker.kill()
    assert sleeper.wait(timeout=5) == -9 and time.monotonic() - started < 5
    assert (worker.path / "cgroup.kill").read_text() == "1"
    for f in worker.path.iterdir():  # a real cgroupfs drops these by itself
        f.unlink()
    worker.remove()
    assert not worker.path.exists()
