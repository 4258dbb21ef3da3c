"""What the sandbox may import: the project's runtime packages, never its test extra.

The worker's ``sys.path`` (and, under bubblewrap, what is mounted at all of the site
directories) holds only the distributions the project needs at run time: the closure of
``backprop-lab``'s requirements without extras, as installed. So a notebook that imports
``torch`` (a test oracle, installed beside the grader for the tests) fails here as it would
on Gradescope, whose environment holds the runtime packages only. The grader itself
(``backprop-lab``) is left out too: the worker needs none of it.
"""

from __future__ import annotations

import functools
import importlib.metadata as md
import os
import re
import sysconfig
from pathlib import Path

from packaging.requirements import Requirement

PROJECT = "backprop-lab"


def site_dirs() -> list[str]:
    """The package directories of this interpreter (purelib, platlib)."""
    paths = sysconfig.get_paths()
    return list(dict.fromkeys([paths["purelib"], paths["platlib"]]))


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_distributions() -> dict[str, md.Distribution] | None:
    """The project's runtime closure (name -> distribution); None when it is not installed."""
    try:
        md.distribution(PROJECT)
    except md.PackageNotFoundError:
        return None
    seen: dict[str, md.Distribution] = {}
    todo = [Requirement(PROJECT)]
    while todo:
        req = todo.pop()
        if _key(req.name) in seen:
            continue
        try:
            dist = md.distribution(req.name)
        except md.PackageNotFoundError:
            continue  # an optional or platform-only requirement that is not installed
        seen[_key(req.name)] = dist
        for text in dist.requires or []:
            sub = Requirement(text)
            extras = [""] + sorted(req.extras)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in extras):
                todo.append(sub)
    return seen


@functools.lru_cache(maxsize=1)
def runtime_entries() -> dict[str, tuple[str, ...]] | None:
    """Site directory -> the top-level names in it that belong to runtime distributions.

    None when the project is not installed as a distribution (then every site dir is used).
    """
    dists = runtime_distributions()
    if dists is None:
        return None
    sites = {os.path.realpath(d): d for d in site_dirs()}
    out: dict[str, set[str]] = {d: set() for d in sites.values()}
    for key, dist in dists.items():
        if key == PROJECT:
            continue
        base = os.path.realpath(str(dist.locate_file("")))
        if base not in sites:
            continue
        for f in dist.files or []:
            top = Path(str(f)).parts[0] if Path(str(f)).parts else ""
            if not top or top == ".." or top.endswith(".pth") or top.startswith("__editable__"):
                continue
            if os.path.lexists(os.path.join(base, top)):
                out[sites[base]].add(top)
    return {d: tuple(sorted(names)) for d, names in out.items()}


def runtime_site(dest: Path) -> list[str]:
    """A folder of symlinks to the runtime entries only (the degraded worker's ``sys.path``).

    Without a mount namespace this only keeps the test extra off ``sys.path``; under
    bubblewrap the test extra is not mounted at all (``bwrap``).
    """
    entries = runtime_entries()
    if entries is None:
        return site_dirs()
    dest.mkdir(parents=True, exist_ok=True)
    for site, names in entries.items():
        for name in names:
            link = dest / name
            if not link.exists():
                os.symlink(os.path.join(site, name), link)
    return [str(dest)]
