"""The bubblewrap command line, the probe that checks it works here, and what is in force.

Under bubblewrap the worker gets new pid, network, ipc, uts and mount namespaces; a root made
of read-only binds of only what Python and numpy need (``/usr``, the interpreter, the venv
with its site directories holding the runtime packages only: ``runtime``) plus the worker's
own four files; not the repository, the solutions or the test files. Every writable mount
is a tmpfs with a size (``/tmp``, also the working directory, and ``/dev/shm``); ``/dev`` is a
sized tmpfs of a few device nodes. The seccomp filter (``seccomp``) is loaded by bubblewrap
just before it executes the worker, so before any student code.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

from bplab.grade.sandbox import runtime, seccomp
from bplab.grade.sandbox.limits import Limits, apply_limits, as_root, env

HERE = Path(__file__).resolve().parent.parent  # bplab/grade
WORKER_FILES = {  # path inside the sandbox (under /opt/bplab) -> source file
    "worker.py": HERE / "worker.py",
    "codec.py": HERE / "codec.py",
    "mutation.py": HERE / "mutation.py",
    "stubs/otter/__init__.py": HERE / "stubs" / "otter" / "__init__.py",
}
# The zygote's program and the two grader modules it reuses (standard library only).
ZYGOTE_FILES = {
    "zygote_main.py": HERE / "zygote_main.py",
    "limits.py": HERE / "sandbox" / "limits.py",
    "seccomp.py": HERE / "sandbox" / "seccomp.py",
}
SANDBOX_DIR = "/opt/bplab"
ZYGOTE_DATA = "/opt/bplab-data"  # where a zygote sees the data folder; each child binds it on
DEVICES = ("null", "zero", "full", "random", "urandom")
PROBE = "import sys; sys.path[:0] = sys.argv[1:]; import numpy"


@dataclass(frozen=True)
class Isolation:
    """Which layers are in force; ``describe()`` is what outputs print."""

    bwrap: bool
    uid: bool
    note: str = ""
    layers: tuple[str, ...] = field(default=())
    seccomp: bool = False
    zygote: bool = False  # one sandbox per slot, a forked child per submission (``zygote``)

    def describe(self) -> str:
        text = ", ".join(self.layers)
        return f"{text} ({self.note})" if self.note else text


def python_dirs() -> list[str]:
    """Directories the interpreter and its packages live in (real paths, outermost first)."""
    dirs = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, sys.exec_prefix)}
    for key in ("purelib", "platlib", "stdlib", "platstdlib"):
        dirs.add(os.path.realpath(sysconfig.get_paths()[key]))
    exe = os.path.realpath(sys.executable)
    dirs.add(os.path.dirname(exe))
    out: list[str] = []
    for d in sorted(dirs, key=len):
        if not any(d == o or d.startswith(o + "/") for o in out) and not d.startswith("/usr/"):
            out.append(d)
    return out


def bwrap_args(limits: Limits, data_dir: Path | None, seccomp_fd: int | None = None,
               zygote: bool = False) -> list[str]:
    """The command line for one worker, or (``zygote``) for a slot's zygote.

    A zygote keeps CAP_SYS_ADMIN to make each child's namespaces and mounts; every child gives
    it up with root (``zygote_main``) and loads the seccomp filter itself.
    """
    args = ["bwrap"]
    caps = "CAP_SYS_ADMIN,CAP_SETUID,CAP_SETGID" if zygote else "CAP_SETUID,CAP_SETGID"
    if as_root():
        # No user namespace: the worker drops to a real unprivileged uid, so RLIMIT_NPROC holds.
        args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                 "--unshare-cgroup-try", "--cap-add", caps]
    else:
        args += ["--unshare-all"] + (["--cap-add", caps] if zygote else [])
    args += ["--die-with-parent", "--new-session", "--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    # /dev: a sized tmpfs of a few device nodes (what --dev would make, without its size).
    args += ["--proc", "/proc", "--perms", "0755", "--size", str(limits.dev_bytes),
             "--tmpfs", "/dev"]
    for dev in DEVICES:
        args += ["--dev-bind", f"/dev/{dev}", f"/dev/{dev}"]
    args += ["--symlink", "/proc/self/fd", "/dev/fd", "--perms", "1777",
             "--size", str(limits.dev_bytes), "--tmpfs", "/dev/shm"]
    # The private /tmp comes before the binds: a venv that lives under /tmp (a CI clone) must be
    # bound on top of it, not hidden by it.
    args += ["--perms", "1777", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp"]
    made: set[str] = {"/", "/usr", "/tmp", "/opt"}
    binds = [(d, d) for d in python_dirs()]
    files = {**WORKER_FILES, **ZYGOTE_FILES} if zygote else WORKER_FILES
    binds += [(str(src), f"{SANDBOX_DIR}/{dst}") for dst, src in files.items()]
    for _, dst in binds:
        parts = Path(dst).parent.parts
        for i in range(2, len(parts) + 1):
            anc = "/".join(parts[:i]).replace("//", "/")
            if anc not in made:
                args += ["--perms", "0755", "--dir", anc]
                made.add(anc)
    for src, dst in binds:
        args += ["--ro-bind", src, dst]
    args += _runtime_only()
    if data_dir is not None and data_dir.is_dir():
        args += ["--ro-bind", str(data_dir), ZYGOTE_DATA if zygote else "/tmp/data"]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    args += ["--chdir", "/tmp"]
    return args


def _runtime_only() -> list[str]:
    """Hide each site directory under an empty tmpfs, then bind back its runtime entries."""
    entries = runtime.runtime_entries()
    if entries is None:
        return []
    args: list[str] = []
    for site, names in entries.items():
        args += ["--perms", "0755", "--size", "65536", "--tmpfs", site]
        for name in names:
            path = os.path.join(site, name)
            args += ["--ro-bind", path, path]
    return args


@functools.lru_cache(maxsize=1)
def _site() -> tuple[str, ...]:
    return tuple(runtime.site_dirs())


def worker_site() -> list[str]:
    """The site directories the worker puts on ``sys.path`` inside bubblewrap (computed once:
    ``sysconfig`` is not free, and a grader spawns hundreds of workers)."""
    return list(_site())


def fallback(reason: str) -> Isolation:
    layers = ["process", "rlimits"]
    if as_root():
        layers.append("own uid")
    return Isolation(False, as_root(), f"no namespaces: {reason}", tuple(layers))


def zygote_isolation(limits: Limits, own_uid: bool, with_seccomp: bool, note: str) -> Isolation:
    """What a slot's zygote gives each child (``zygote_main``): the same layers as bubblewrap
    per submission, made fresh for every submission inside the slot's one sandbox."""
    layers = _layers(["bwrap zygote (a forked child per submission)",
                      "fresh pid+net+ipc+uts+mount namespaces per submission"],
                     limits, with_seccomp, own_uid)
    return Isolation(True, own_uid, note, layers, seccomp=with_seccomp, zygote=True)


def _layers(first: list[str], limits: Limits, with_seccomp: bool,
            own_uid: bool) -> tuple[str, ...]:
    """The isolation string's layers after ``first`` (the same for both bubblewrap modes)."""
    layers = [*first, *(["seccomp"] if with_seccomp else []), "sized tmpfs",
              f"rlimits ({limits.describe()})"]
    if runtime.runtime_entries() is not None:
        layers.append("runtime packages only")
    if own_uid:
        layers.append("own uid")
    return tuple(layers)


@functools.lru_cache(maxsize=4)
def probe(limits: Limits, own_uid: bool) -> Isolation:
    """Check once that bubblewrap (with the seccomp filter) starts Python with numpy here."""
    if shutil.which("bwrap") is None:
        return fallback("bwrap not installed")
    why_not = ""
    try:
        seccomp.program()
    except seccomp.SeccompUnavailable as exc:
        why_not = f"no seccomp filter: {exc}"
    error = _try(limits, with_seccomp=not why_not)
    if error and not why_not:  # the filter may be what fails: try once without it
        if _try(limits, with_seccomp=False) is None:
            why_not, error = f"no seccomp filter: bwrap refused it ({error})", None
    if error:
        return fallback(f"bwrap failed: {error}")
    layers = _layers(["bwrap per submission", "pid+net+ipc+uts+mount namespaces"], limits,
                     not why_not, own_uid)
    return Isolation(True, own_uid, why_not, layers, seccomp=not why_not)


def _try(limits: Limits, with_seccomp: bool) -> str | None:
    """None when bubblewrap runs the probe; else why not."""
    fd = seccomp.program_fd() if with_seccomp else None
    cmd = bwrap_args(limits, None, fd) + [sys.executable, "-I", "-S", "-c", PROBE,
                                          *worker_site()]
    try:
        res = subprocess.run(cmd, capture_output=True, timeout=60, env=env("/tmp"),
                             pass_fds=(fd,) if fd is not None else (),
                             preexec_fn=functools.partial(apply_limits, limits, None))
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    finally:
        if fd is not None:
            os.close(fd)
    if res.returncode != 0:
        err = res.stderr.decode(errors="replace").strip().splitlines()
        return err[-1] if err else str(res.returncode)
    return None
