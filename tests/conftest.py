"""Settings and fixtures shared by the whole suite (pytest loads this before any test module).

Hypothesis: one registered profile, ``bplab``, loaded here, so every ``@given`` test runs with
the same settings; a test only ever lowers or raises ``max_examples`` (and says why).

Otter: ``otter run`` is the slowest thing the suite does (a Jupyter kernel per notebook), so each
example notebook goes through it exactly once per session (``otter_results``), shared by the
end-to-end tests (test_otter_e2e.py) and the parity test of ``bplab grade``
(test_grade_cli.py); likewise ``bplab_graded`` grades each assignment's examples once. The same
pool runs the reference and the blank of every complete translation (two notebooks per language,
test_i18n.py), not every example again: the code cells are identical across languages.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from bplab import i18n
from bplab.build import build
from bplab.grade.batch import default_jobs
from bplab.layout import Assignment, GradingDir
from bplab.otter_run import OtterResult, otter_run
from click.testing import CliRunner
from hypothesis import HealthCheck, settings
from i18n_release import write_submissions

# derandomize: CI runs the same examples every time, so a red build is reproducible and never
# a new random draw (HYPOTHESIS_PROFILE=explore searches afresh, for local bug hunting).
# deadline=None: 8 engineers share 2 cores here and CI runners are noisy; a per-example time
# limit would fail on load, not on a bug (speed targets live in benchmarks/).
# too_slow suppressed for the same reason; database=None: nothing written into a clean clone.
settings.register_profile(
    "bplab", derandomize=True, deadline=None, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", settings.get_profile("bplab"), derandomize=False,
                          max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "bplab"))

Key = tuple[str, str]  # (assignment, example stem)


@pytest.fixture(scope="session")
def otter_results(tmp_path_factory: pytest.TempPathFactory) -> dict[Key, OtterResult]:
    """``(assignment, example stem) -> OtterResult``: every bundled example of every assignment
    through ``otter run`` once, all assignments in one pool of ``default_jobs()`` runs; and,
    under ``(assignment, i18n_release.stem(kind, language))``, the reference and the blank made
    from each complete language's release notebook (``i18n.complete_languages``).

    In the foreground on purpose: with reduced isolation the sandbox makes the test process the
    reaper of its orphans and SIGKILLs every child it did not start (grade/sandbox.py), so an
    otter run left going in the background while sandbox tests run is killed mid-way.
    """
    root = tmp_path_factory.mktemp("otter")
    jobs: list[tuple[Key, Path, Path, Path]] = []
    for assignment in Assignment.all():
        notebooks = assignment.example_notebooks()
        if not notebooks or not assignment.test_files():
            continue
        out = root / assignment.name
        release = build(assignment, out / "dist")
        for language in i18n.complete_languages(assignment):
            notebooks += write_submissions(assignment, release.out_dir, language, out / "i18n")
        jobs += [((assignment.name, nb.stem), release.autograder_zip, nb, out / "runs" / nb.stem)
                 for nb in notebooks]
    with ThreadPoolExecutor(default_jobs()) as pool:
        futures = {key: pool.submit(otter_run, zip_path, nb, out)
                   for key, zip_path, nb, out in jobs}
        return {key: future.result() for key, future in futures.items()}


GradeRun = tuple[GradingDir, str]  # the output folder and what the command printed


@pytest.fixture(scope="session")
def bplab_graded(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], GradeRun]:
    """``bplab_graded(hw)``: every example of ``hw`` graded once by the command line."""
    from bplab.cli import main

    done: dict[str, GradeRun] = {}

    def graded(hw: str) -> GradeRun:
        if hw not in done:
            out = tmp_path_factory.mktemp(f"grade-{hw}")
            notebooks = Assignment.named(hw).example_notebooks()
            result = CliRunner().invoke(main, ["grade", "--assignment", hw, "--out", str(out),
                                               "-j", "2", *map(str, notebooks)])
            assert result.exit_code == 0, result.output
            done[hw] = (GradingDir(out), result.output)
        return done[hw]

    return graded
