"""The grader uids: claimed by lock file, so two graders on one machine never share one.

Graders kill every process of their uids after each submission, so two graders (two
``bplab grade`` runs, or a run and the test suite) must never hold the same uid.
"""

from __future__ import annotations

import fcntl
import functools
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bplab.grade.sandbox.limits import Limits, apply_limits, env
from bplab.grade.sandbox.reaping import kill_uid

BASE_UID = 61000  # root-run graders claim uids from here (no login, no files) ...
UID_RANGE = 2000  # ... up to BASE_UID + UID_RANGE


def lock_dir() -> Path:
    return Path("/run/bplab-uids") if os.access("/run", os.W_OK) else Path(
        tempfile.gettempdir()) / "bplab-uids"


def claim_uids(n: int, claims: list[int]) -> list[int]:
    """``n`` uids no other grader uses while this process holds their lock files.

    The lock fds are appended to ``claims``: a uid stays claimed until they are closed (at the
    latest, when this process ends). Leftovers of a grader that died are killed on claiming.
    """
    folder = lock_dir()
    folder.mkdir(mode=0o700, exist_ok=True)
    uids = []
    for uid in range(BASE_UID, BASE_UID + UID_RANGE):
        fd = os.open(folder / f"{uid}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        claims.append(fd)
        kill_uid(uid)
        uids.append(uid)
        if len(uids) == n:
            return uids
    raise RuntimeError("no free grader uid")


@functools.lru_cache(maxsize=64)
def uid_can_run(uid: int, site: tuple[str, ...]) -> bool:
    """Whether an unprivileged ``uid`` can start the interpreter with numpy (degraded mode)."""
    cmd = [sys.executable, "-I", "-S", "-c",
           "import sys; sys.path[:0] = sys.argv[1:]; import numpy", *site]
    try:
        res = subprocess.run(cmd, capture_output=True, timeout=60, env=env("/tmp"), cwd="/",
                             preexec_fn=functools.partial(apply_limits, Limits(), uid))
    except (OSError, subprocess.SubprocessError):
        return False
    return res.returncode == 0
