"""``bplab grade`` end to end: the command line, its outputs, and parity with ``otter run``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from bplab.cli import main
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples" / "hw1").glob("*.ipynb"))

pytestmark = pytest.mark.hw1


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = tmp_path_factory.mktemp("grade")
    result = CliRunner().invoke(main, ["grade", "--assignment", "hw1", "--out", str(out),
                                       "-j", "2", *map(str, EXAMPLES)])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_writes_one_row_result_and_feedback_per_submission(graded):
    out, output = graded
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert [r["submission"] for r in rows] == [p.stem for p in EXAMPLES]
    assert list(rows[0])[:4] == ["submission", "status", "score", "max_score"]
    by_stem = {r["submission"]: r for r in rows}
    assert by_stem["full"]["score"] == by_stem["full"]["max_score"]
    assert float(by_stem["blank"]["score"]) == 0
    for p in EXAMPLES:
        data = json.loads((out / "results" / f"{p.stem}.json").read_text())
        assert {"score", "tests", "extra_data"} <= set(data)
        assert set(data["extra_data"]["bplab"]) == {"status", "reason", "isolation", "diagnoses"}
        for t in data["tests"]:
            assert set(t) == {"name", "score", "max_score", "status", "output", "visibility"}
        assert (out / "feedback" / f"{p.stem}.md").read_text().startswith("# hw1 feedback")
    assert "isolation:" in output


def test_diagnoses_are_collected_per_question(graded):
    out, _ = graded
    data = json.loads((out / "results" / "bug_matmul_db_transposed.json").read_text())
    assert "MatMul" in data["extra_data"]["bplab"]["diagnoses"]
    blank = json.loads((out / "results" / "blank.json").read_text())
    assert all(codes == ["not_implemented"]
               for codes in blank["extra_data"]["bplab"]["diagnoses"].values())


@pytest.mark.slow
def test_same_scores_as_otter_run(graded, tmp_path):
    from bplab.build import build
    from bplab.layout import Assignment
    from bplab.otter_run import otter_run_many

    out, _ = graded
    release = build(Assignment.named("hw1"), tmp_path / "dist")
    otter = otter_run_many(release.autograder_zip, EXAMPLES, tmp_path / "otter", jobs=2)
    for path, result in zip(EXAMPLES, otter, strict=True):
        ours = json.loads((out / "results" / f"{path.stem}.json").read_text())
        mine = {t["name"]: (t["score"], t["max_score"]) for t in ours["tests"]}
        assert result.scores, result.log[-2000:]
        assert mine.keys() == result.scores.keys()
        for q, (score, possible) in result.scores.items():
            # Otter rounds scores in results.json to a few decimals.
            assert mine[q] == pytest.approx((score, possible), abs=1e-4), f"{path.stem}: {q}"
