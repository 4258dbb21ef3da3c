"""Settings and fixtures shared by the whole suite (pytest loads this before any test module).

Hypothesis: one registered profile, ``bplab``, loaded here, so every ``@given`` test runs with
the same settings; a test only ever lowers or raises ``max_examples`` (and says why).

Otter: ``otter run`` is the slowest thing the suite does (a Jupyter kernel per notebook), so each
example notebook goes through it exactly once per session (``otter_results``), shared by the
end-to-end tests (test_otter_e2e.py) and the parity test of ``bplab grade``
(test_grade_cli.py). When a selected test needs those runs, they start in background threads at
the first test, and the tests that need them are moved to the end of the run: the otter
subprocesses work while the rest of the suite does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from bplab.build import build
from bplab.grade.batch import default_jobs
from bplab.layout import Assignment, GradingDir
from bplab.otter_run import OtterResult, otter_run
from click.testing import CliRunner
from hypothesis import HealthCheck, settings

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

OTTER_FIXTURE = "otter_results"
Key = tuple[str, str]  # (assignment, example stem)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that wait for the otter runs go last, so the runs overlap everything else."""
    items.sort(key=lambda item: OTTER_FIXTURE in getattr(item, "fixturenames", ()))


class OtterRuns:
    """``otter run`` of every example notebook of every assignment, ``jobs`` at a time."""

    def __init__(self, root: Path, jobs: int):
        self._pool = ThreadPoolExecutor(jobs, thread_name_prefix="otter-run")
        self._futures: dict[Key, Future[OtterResult]] = {}
        for assignment in Assignment.all():
            notebooks = assignment.example_notebooks()
            if not notebooks or not assignment.test_files():
                continue
            out = root / assignment.name
            release = build(assignment, out / "dist")
            for nb in notebooks:
                self._futures[(assignment.name, nb.stem)] = self._pool.submit(
                    otter_run, release.autograder_zip, nb, out / "runs" / nb.stem)

    def results(self) -> dict[Key, OtterResult]:
        return {key: future.result() for key, future in self._futures.items()}

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session", autouse=True)
def _otter_runs(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[OtterRuns | None]:
    """Starts the otter runs at the first test, when any selected test needs them."""
    if not any(OTTER_FIXTURE in getattr(i, "fixturenames", ()) for i in request.session.items):
        yield None
        return
    runs = OtterRuns(tmp_path_factory.mktemp("otter"), default_jobs())
    yield runs
    runs.close()


@pytest.fixture(scope="session")
def otter_results(_otter_runs: OtterRuns | None) -> dict[Key, OtterResult]:
    """``(assignment, example stem) -> OtterResult`` for every bundled example."""
    assert _otter_runs is not None, "the collection hook saw no test needing otter_results"
    return _otter_runs.results()


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
