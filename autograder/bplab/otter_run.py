"""Grade notebooks with Otter's own ``otter run`` and read per-question scores from results.json.

This is the unsandboxed reference path (Otter executes the notebook in a local kernel): the demo
and the end-to-end tests use it to prove that ``autograder.zip`` works as Otter expects.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class OtterResult:
    """Scores of one notebook: question -> (score, max_score), as Otter reported them."""

    notebook: Path
    scores: dict[str, tuple[float, float]]
    returncode: int
    log: str
    results: dict

    @property
    def total(self) -> float:
        return sum(score for score, _ in self.scores.values())

    @property
    def possible(self) -> float:
        return sum(possible for _, possible in self.scores.values())

    def losing(self) -> set[str]:
        """Questions scored below their maximum."""
        return {q for q, (score, possible) in self.scores.items() if score < possible}


def question_scores(results: dict) -> dict[str, tuple[float, float]]:
    """Per-question ``(score, max_score)`` of Otter's Gradescope-style results.json."""
    return {
        test["name"]: (float(test["score"]), float(test["max_score"]))
        for test in results.get("tests", [])
        if "max_score" in test and "score" in test
    }


def otter_run(autograder_zip: Path, notebook: Path, out_dir: Path,
              timeout: float = 600) -> OtterResult:
    """Run ``otter run -a autograder_zip notebook`` and collect its results.

    Args:
        autograder_zip: an Otter autograder zip (``bplab build`` writes one).
        notebook: the submission.
        out_dir: where results.json goes (created; one folder per notebook).
        timeout: seconds before the run is abandoned (raises ``subprocess.TimeoutExpired``).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "otter", "run", "--no-logo", "-a", str(autograder_zip),
               "-o", str(out_dir), str(notebook)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    results_path = out_dir / "results.json"
    results = json.loads(results_path.read_text()) if results_path.is_file() else {}
    return OtterResult(notebook, question_scores(results), proc.returncode,
                       proc.stdout + proc.stderr, results)


def otter_run_many(autograder_zip: Path, notebooks: list[Path], out_dir: Path,
                   jobs: int = 2) -> list[OtterResult]:
    """``otter_run`` on several notebooks, ``jobs`` at a time; results in input order."""
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(otter_run, autograder_zip, nb, out_dir / nb.stem)
                   for nb in notebooks]
        return [f.result() for f in futures]
