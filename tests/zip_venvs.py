"""Venvs made from a requirements.txt with a given interpreter, cached between runs.

A venv lives in ``.venv/zip-venvs/<python version>-<hash of the requirements>/`` and is reused
while its requirements are byte-for-byte the same (pip's wheel cache makes a rebuild quicker
still). The pyenv interpreters are found under ``$(pyenv root)/versions/``; a missing one is
``None`` and its tests skip, saying which.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from bplab import REPO_ROOT

CACHE = REPO_ROOT / ".venv" / "zip-venvs"
VERSIONS = ("3.10", "3.11", "3.12", "3.13")


def pyenv_root() -> Path:
    env = os.environ.get("PYENV_ROOT")
    if env:
        return Path(env)
    try:
        out = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=30)
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return Path.home() / ".pyenv"


def interpreter(version: str) -> Path | None:
    """The newest pyenv ``pythonX.Y`` of ``version``, or None."""
    found = sorted(pyenv_root().glob(f"versions/{version}.*/bin/python{version}"))
    return found[-1] if found else None


def venv_from(python: Path, requirements: str, timeout: float = 1500) -> Path:
    """A venv of ``python`` with ``requirements`` installed (cached); its interpreter path."""
    digest = hashlib.sha256(requirements.encode()).hexdigest()[:12]
    target = CACHE / f"{python.parent.parent.name}-{digest}"
    done = target / ".bplab-complete"
    if done.is_file():
        return target / "bin" / "python"
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(python), "-m", "venv", str(target)], check=True, timeout=300)
    (target / "requirements.txt").write_text(requirements)
    pip = [str(target / "bin" / "python"), "-m", "pip", "install", "-q"]
    result = subprocess.run(pip + ["-r", str(target / "requirements.txt")], capture_output=True,
                            text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"pip install with {python} failed:\n{result.stderr[-3000:]}")
    done.write_text(requirements)
    return target / "bin" / "python"
