"""Issue 14, shards for clusters: ``bplab grade --shard I/N`` and ``bplab merge``.

One small class download (Canvas and Gradescope exports from ``lms_fixtures``, and two plain
``bob.ipynb`` from two folders, which clash on their stem) is graded once as one run and once as
three shards, in the real sandbox (module fixture ``graded``); the tests compare, refuse, retry
and merge into existing folders from copies of those folders. The shard assignment itself is
tested without grading.
"""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from bplab.cli import main
from bplab.grade.identity import Identity, assign_stems, source_tag
from bplab.grade.intake import Submission, find_submissions
from bplab.grade.shard import Manifest, Shard, parse_shard, select, shard_key, shard_of
from bplab.layout import GradingDir
from click.testing import CliRunner
from lms_fixtures import canvas_zip, gradescope_zip, notebook

N = 3
TIMING = {"seconds"}  # Record fields that measure time; results/ must hold none of them


def bplab(*args: str | Path):
    return CliRunner().invoke(main, [str(a) for a in args])


def download(root: Path) -> list[Path]:
    """The class: a Canvas and a Gradescope export, and two plain folders with a bob.ipynb each."""
    root.mkdir(parents=True, exist_ok=True)
    paths = [canvas_zip(root / "canvas.zip"), gradescope_zip(root / "gradescope.zip")]
    for name, example in (("a", "full"), ("b", "blank")):
        (root / name).mkdir()
        (root / name / "bob.ipynb").write_bytes(notebook(example))
        paths.append(root / name)
    return paths


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("shards")
    paths = download(tmp / "download")
    one = tmp / "one"
    result = bplab("grade", "-a", "hw1", "--out", one, "-j", "2", *paths)
    assert result.exit_code == 0, result.output
    shards = []
    for i in range(N):
        shards.append(tmp / f"shard{i}")
        result = bplab("grade", "-a", "hw1", "--out", shards[-1], "-j", "1",
                       "--shard", f"{i}/{N}", *paths)
        assert result.exit_code == 0, result.output
    merged = tmp / "merged"
    result = bplab("merge", *shards, "--out", merged)
    assert result.exit_code == 0, result.output
    return {"tmp": tmp, "paths": paths, "one": one, "shards": shards, "merged": merged}


def records(folder: Path) -> dict[str, dict]:
    return {stem: json.loads(GradingDir(folder).results(stem).read_text(encoding="utf-8"))
            for stem in GradingDir(folder).results_stems()}


def without_timing(data: object) -> object:
    if isinstance(data, dict):
        return {k: without_timing(v) for k, v in data.items() if k not in TIMING}
    if isinstance(data, list):
        return [without_timing(v) for v in data]
    return data


def files(folder: Path) -> dict[str, bytes]:
    """Every feedback file and grades.csv, by relative path."""
    root = GradingDir(folder)
    out = {p.relative_to(folder).as_posix(): p.read_bytes()
           for p in sorted(root.feedback_dir.iterdir())}
    out["grades.csv"] = root.grades_csv.read_bytes()
    return out


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --- three shards merged == one run ------------------------------------------------------------

def test_three_shards_merged_equal_one_run(graded):
    one, merged = graded["one"], graded["merged"]
    assert len(records(one)) == 9
    # The fixture splits the class for real: no shard holds everyone.
    sizes = [len(GradingDir(s).results_stems()) for s in graded["shards"]]
    assert sum(sizes) == 9 and max(sizes) < 9 and sizes.count(0) == 0, sizes
    # Records: equal as JSON once timing fields are dropped (there are none to drop today:
    # results/ keeps no time, so they are equal as they are).
    assert records(merged) == records(one)
    assert without_timing(records(merged)) == records(merged)
    # grades.csv byte for byte (rows in one run's order, from the manifests' positions), and
    # every feedback file byte for byte.
    assert files(merged) == files(one)
    assert GradingDir(merged).report_html.is_file()
    # The stem clash of the two bobs is decided as in one run: neither is plain "bob".
    bobs = [s for s in records(one) if s.startswith("bob")]
    assert len(bobs) == 2 and "bob" not in bobs


def test_a_naive_merge_would_be_caught(graded):
    """The comparison above can fail: shards' grades.csv rows concatenated in shard order (the
    merge one might write first) are not one run's grades.csv."""
    tables = [GradingDir(s).grades_csv.read_text(encoding="utf-8").splitlines(keepends=True)
              for s in graded["shards"]]
    naive = "".join([tables[0][0], *(line for t in tables for line in t[1:])])
    one = GradingDir(graded["one"]).grades_csv.read_text(encoding="utf-8")
    assert sorted(naive.splitlines()) == sorted(one.splitlines())  # the same rows ...
    assert naive != one  # ... in another order: byte equality sees it


def test_each_shard_holds_its_share_and_says_so(graded):
    subs = find_submissions(graded["paths"])
    for i, folder in enumerate(graded["shards"]):
        m = Manifest.read(GradingDir(folder))
        assert m is not None and m.shard == Shard(i, N) and m.total == len(subs) == 9
        mine = {s.wanted.casefold() for _, s in select(subs, m.shard)}
        stems = GradingDir(folder).results_stems()
        assert {s.casefold().split("-")[0] for s in stems} == mine
        assert set(m.positions) == set(stems)
        assert "bwrap" in m.isolation or "no namespaces" in m.isolation


# --- the assignment: a partition, deterministic, stable ----------------------------------------

Assign = Callable[[list[Submission], int], list[int]]


def by_key(subs: list[Submission], n: int) -> list[int]:
    return [shard_of(shard_key(s), n) for s in subs]


def by_position(subs: list[Submission], n: int) -> list[int]:  # a planted bug: list order
    return [i % n for i in range(len(subs))]


def class_of(k: int, seed: int = 0) -> list[Submission]:
    rng = random.Random(seed)
    names = ["smithjohn", "Іван Петренко", "王芳", "José Núñez", "bob", "Bob", "ann"]
    subs = []
    for i in range(k):
        uid = str(10_000 + rng.randrange(90_000))
        name = rng.choice(names)
        subs.append(Submission(f"{name.replace(' ', '_')}_{uid}" if i % 5 else name,
                               Identity(name=name, lms="canvas", user_id=uid,
                                        source=f"dl.zip:{name}_{uid}_{i}")))
    return subs


def check_partition(assign: Assign) -> None:
    """Every submission in exactly one shard; the same shards whatever the order; a newcomer
    moves nobody; submissions that want one stem share a shard."""
    subs = class_of(60)
    for n in range(1, 8):
        got = assign(subs, n)
        assert all(0 <= g < n for g in got)
        held = [[s.identity.source for s, g in zip(subs, got, strict=True) if g == i]
                for i in range(n)]
        assert sorted(x for h in held for x in h) == sorted(s.identity.source for s in subs)
        again = dict(zip((s.identity.source for s in subs), assign(subs, n), strict=True))
        assert again == dict(zip((s.identity.source for s in subs), got, strict=True))
        shuffled = subs[:]
        random.Random(n).shuffle(shuffled)
        moved = dict(zip((s.identity.source for s in shuffled), assign(shuffled, n),
                         strict=True))
        assert moved == again, "the order of the download moved submissions"
        late = [Submission("latecomer_99999", Identity(lms="canvas", user_id="99999")),
                *subs]
        after = assign(late, n)[1:]
        assert after == got, "a new submission moved others"
        by_stem: dict[str, set[int]] = {}
        for s, g in zip(subs, got, strict=True):
            by_stem.setdefault(s.wanted.casefold(), set()).add(g)
        assert all(len(v) == 1 for v in by_stem.values())


def test_the_assignment_is_a_stable_partition():
    check_partition(by_key)


def test_a_position_based_assignment_fails_the_partition_check():
    with pytest.raises(AssertionError):
        check_partition(by_position)


def test_the_key_is_pinned():
    """A shard retried with a newer release must get the same share: the hash may not change
    (``KEY_SCHEME`` is in every manifest; changing it needs a new scheme name)."""
    assert shard_of("smithjohn_12345", 3) == 2 and shard_of("bob", 3) == 0
    assert shard_of("ann_lee_3001", 3) == 1


def shard_stems(subs: list[Submission], n: int, key: Callable[[Submission], str]) -> list[str]:
    """Each submission's stem when every shard (by ``key``) assigns stems on its own."""
    stems = [""] * len(subs)
    for i in range(n):
        mine = [j for j, s in enumerate(subs) if shard_of(key(s), n) == i]
        for j, (stem, _) in zip(mine, assign_stems([(subs[j].wanted, subs[j].origin)
                                                    for j in mine], set()), strict=True):
            stems[j] = stem
    return stems


def clashing_class() -> list[Submission]:
    """Eight ``bob.ipynb`` from eight folders, two forgers who ask for the stems their tags
    make (``bob-<tag>``, ``Bob-<tag>-2``), and twenty others."""
    bobs = [Submission("bob", Identity(lms="plain", source=f"/class/{d}/bob.ipynb"))
            for d in "abcdefgh"]
    forgers = [Submission(f"bob-{source_tag('/class/a/bob.ipynb')}",
                          Identity(lms="plain", source="/class/x/forged.ipynb")),
               Submission(f"Bob-{source_tag('/class/b/bob.ipynb')}-2",
                          Identity(lms="plain", source="/class/y/forged.ipynb"))]
    return [*bobs, *class_of(20), *forgers]


def test_every_stem_is_unique_even_against_forged_tags():
    """Attack (issue 14): a student names a file after another bob's clash tag. Before, the
    forger took the tag plainly and the bob got it too: one record overwrote the other."""
    subs = clashing_class()
    stems = [stem.casefold() for stem, _ in assign_stems([(s.wanted, s.origin) for s in subs],
                                                          set())]
    assert len(set(stems)) == len(stems)


def test_shards_give_the_stems_of_one_run_and_other_keys_would_not():
    subs = clashing_class()
    one_run = [stem for stem, _ in assign_stems([(s.wanted, s.origin) for s in subs], set())]
    for n in range(1, 8):
        assert shard_stems(subs, n, shard_key) == one_run
    # Planted bugs: by source, the bobs spread over shards and some get a plain "bob"; by the
    # stem without removing tags, a forger's shard does not see the clash its stem imitates.
    assert any(shard_stems(subs, n, lambda s: s.origin) != one_run for n in range(2, 8))
    assert any(shard_stems(subs, n, lambda s: s.wanted.casefold()) != one_run
               for n in range(2, 8))


# --- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["3/2", "0/0", "a/b", "3/3", "-1/3", "1/3/4", "１/3", "",
                                   "1", "1/", "/3", "0/10001", " 1 / 3"])
def test_a_bad_shard_is_a_usage_error_and_writes_nothing(tmp_path, value):
    full = Path(__file__).resolve().parents[1] / "examples" / "hw1" / "full.ipynb"
    out = tmp_path / "out"
    result = bplab("grade", "-a", "hw1", "--out", out, f"--shard={value}", full)
    assert result.exit_code == 2, result.output
    assert "--shard" in result.output
    assert not out.exists()


def test_parse_shard_takes_both_array_conventions_only_0_based():
    assert parse_shard("0/1") == Shard(0, 1) and parse_shard(" 7/8 ") == Shard(7, 8)
    with pytest.raises(ValueError, match="I-1"):
        parse_shard("8/8")  # a 1-based array's last task


ROSTER = Path(__file__).resolve().parent / "lms" / "canvas_gradebook.csv"


@pytest.mark.parametrize("extra", [["--single"], ["--regrade", "x"], ["--roster", ROSTER]])
def test_shard_does_not_go_with_single_regrade_or_roster(tmp_path, extra):
    full = Path(__file__).resolve().parents[1] / "examples" / "hw1" / "full.ipynb"
    out = tmp_path / "out"
    args = extra if extra[0] == "--regrade" else [*extra, full]
    result = bplab("grade", "-a", "hw1", "--out", out, "--shard", "0/2", *args)
    assert result.exit_code == 2 and "--shard" in result.output, result.output
    assert not out.exists()


# --- merge refusals -----------------------------------------------------------------------------

def copies(graded, tmp_path: Path) -> list[Path]:
    out = []
    for s in graded["shards"]:
        out.append(tmp_path / s.name)
        shutil.copytree(s, out[-1])
    return out


def edit_manifest(folder: Path, **changes) -> None:
    path = GradingDir(folder).shard_json
    data = json.loads(path.read_text(encoding="utf-8"))
    for k, v in changes.items():
        if isinstance(v, dict):
            data[k].update(v)
        else:
            data[k] = v
    path.write_text(json.dumps(data), encoding="utf-8")


def plant_record(src: Path, dest: Path, stem: str, new_stem: str | None = None) -> None:
    a, b = GradingDir(src), GradingDir(dest)
    new_stem = new_stem or stem
    shutil.copy(a.results(stem), b.results(new_stem))
    shutil.copy(a.feedback(stem), b.feedback(new_stem))


REFUSALS = {
    "missing": (lambda s: [s[0], s[2]], "shard(s) 1/3 not given"),
    "twice": (lambda s: [s[0], s[1], s[1], s[2]], "shard 1/3 is given more than once"),
    "count": (lambda s: (edit_manifest(s[1], count=4), s)[1], "differ in shard count N"),
    "config": (lambda s: (edit_manifest(s[2], config={"call_timeout": 5.0}), s)[1],
               "differ in config"),
    "build": (lambda s: (edit_manifest(s[1], build="0" * 64), s)[1],
              "differ in autograder build"),
    "download": (lambda s: (edit_manifest(s[0], total=10), s)[1], "differ in download"),
    "incomplete": (lambda s: (GradingDir(s[2]).results(
        GradingDir(s[2]).results_stems()[0]).unlink(), s)[1], "records missing: "),
    "not a shard": (lambda s: (GradingDir(s[1]).shard_json.unlink(), s)[1],
                    "is not a shard folder"),
    "unreadable record": (lambda s: (GradingDir(s[0]).results(
        GradingDir(s[0]).results_stems()[0]).write_text("{"), s)[1], "not a readable record"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_merge_refuses_and_writes_nothing(graded, tmp_path, case):
    make, message = REFUSALS[case]
    shards = make(copies(graded, tmp_path))
    out = tmp_path / "out"
    result = bplab("merge", *shards, "--out", out)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.output
    assert not out.exists()


def test_merge_refuses_a_student_in_two_shards_naming_them(graded, tmp_path):
    shards = copies(graded, tmp_path)
    stem = GradingDir(shards[0]).results_stems()[0]
    who = records(shards[0])[stem]["extra_data"]["bplab"]["identity"]["name"]
    plant_record(shards[0], shards[1], stem)
    out = tmp_path / "out"
    result = bplab("merge", *shards, "--out", out)
    assert result.exit_code == 2 and f"{who} is in two shards" in result.output, result.output
    assert str(shards[0]) in result.output and str(shards[1]) in result.output
    assert not out.exists()
    # Under another stem it is still the same student (the same LMS id and source).
    shutil.rmtree(shards[1])
    shutil.copytree(graded["shards"][1], shards[1])
    plant_record(shards[0], shards[1], stem, "someone_else")
    result = bplab("merge", *shards, "--out", out)
    assert result.exit_code == 2 and "is in two shards" in result.output, result.output
    assert not out.exists()


def test_merge_refuses_its_own_inputs_as_out(graded, tmp_path):
    shards = copies(graded, tmp_path)
    before = snapshot(shards[0])
    for out in (shards[0], shards[1]):
        result = bplab("merge", *shards, "--out", out)
        assert result.exit_code == 2, result.output
    assert snapshot(shards[0]) == before


def test_allow_missing_merges_what_is_there_and_says_what_is_not(graded, tmp_path):
    out = tmp_path / "out"
    s = graded["shards"]
    result = bplab("merge", s[0], s[2], "--out", out, "--allow-missing", "--no-report")
    assert result.exit_code == 0, result.output
    assert "warning: merged without shard(s) 1/3" in result.output
    assert set(records(out)) == set(records(s[0])) | set(records(s[2]))
    assert not GradingDir(out).report_html.exists()


# --- merging into an existing folder is a re-grade: nothing lost --------------------------------

def test_merging_again_or_over_one_run_changes_nothing(graded, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(graded["merged"], out)
    before = snapshot(out)
    assert bplab("merge", *graded["shards"], "--out", out).exit_code == 0
    after = snapshot(out)
    # grades.csv: the same rows; a folder's own records come first in stem order (``Store``,
    # as for every re-grade), so it is compared sorted. Every other file: byte for byte.
    unordered = ("report.html", "grades.csv")
    assert {k: v for k, v in after.items() if k not in unordered} == \
        {k: v for k, v in before.items() if k not in unordered}
    assert sorted(after["grades.csv"].splitlines()) == sorted(before["grades.csv"].splitlines())
    over = tmp_path / "over"
    shutil.copytree(graded["one"], over)
    before = snapshot(over)
    assert bplab("merge", *graded["shards"], "--out", over, "--no-report").exit_code == 0
    after = snapshot(over)
    assert {k: v for k, v in after.items() if k != "grades.csv"} == \
        {k: v for k, v in before.items() if k != "grades.csv"}
    assert sorted(after["grades.csv"].splitlines()) == sorted(before["grades.csv"].splitlines())


def test_merging_into_a_folder_with_another_students_stem_keeps_both(graded, tmp_path):
    """The folder already holds a plain ``smithjohn_12345.ipynb`` (not the Canvas student): it
    stays byte for byte, the shard's record gets a flagged stem of its own and its feedback
    says so in its title."""
    out = tmp_path / "out"
    impostor = tmp_path / "smithjohn_12345.ipynb"
    impostor.write_bytes(notebook("blank"))
    assert bplab("grade", "-a", "hw1", "--out", out, impostor).exit_code == 0
    kept = snapshot(out)
    result = bplab("merge", *graded["shards"], "--out", out, "--no-report")
    assert result.exit_code == 0, result.output
    after = snapshot(out)
    assert all(after[k] == v for k, v in kept.items() if k.startswith(("results/", "feedback/")))
    recs = records(out)
    assert len(recs) == 10
    renamed = [s for s in recs if s.startswith("smithjohn_12345-")]
    assert len(renamed) == 1 and "stem clash" in recs[renamed[0]]["extra_data"]["bplab"]["flags"]
    md = GradingDir(out).feedback(renamed[0]).read_text(encoding="utf-8")
    assert md.startswith(f"# hw1 feedback: smithjohn ({renamed[0]})")
    # Apart from its title, the feedback is the one the shard wrote.
    original = next(GradingDir(s).feedback("smithjohn_12345") for s in graded["shards"]
                    if GradingDir(s).feedback("smithjohn_12345").is_file())
    assert md.split("\n", 1)[1] == original.read_text(encoding="utf-8").split("\n", 1)[1]
    assert f"feedback: {renamed[0]}</title>" in \
        GradingDir(out).feedback_html(renamed[0]).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(GradingDir(out).grades_csv.read_text())))
    assert [r["submission"] for r in rows][0] == "smithjohn_12345" and len(rows) == 10


# --- shard folders: retries, and what they refuse ----------------------------------------------

def test_a_shard_retried_into_its_folder_regrades_in_place(graded, tmp_path):
    s1 = tmp_path / "s1"
    shutil.copytree(graded["shards"][1], s1)
    before = records(s1)
    result = bplab("grade", "-a", "hw1", "--out", s1, "--shard", f"1/{N}", *graded["paths"])
    assert result.exit_code == 0, result.output
    assert records(s1) == before
    assert Manifest.read(GradingDir(s1)) == Manifest.read(GradingDir(graded["shards"][1]))


@pytest.mark.parametrize("target, shard, message", [
    ("shard0", "1/3", "holds shard 0/3, not 1/3"),
    ("shard0", None, "holds shard 0/3 (shard.json)"),
    ("one", "0/3", "holds records of an unsharded run"),
])
def test_a_shard_goes_only_into_a_fresh_folder_or_its_own(graded, tmp_path, target, shard,
                                                          message):
    folder = tmp_path / target
    shutil.copytree(graded["shards"][0] if target == "shard0" else graded["one"], folder)
    before = snapshot(folder)
    args = ["--shard", shard] if shard else []
    result = bplab("grade", "-a", "hw1", "--out", folder, *args, *graded["paths"])
    assert result.exit_code == 2 and message in result.output, result.output
    assert snapshot(folder) == before


def test_an_empty_share_is_still_a_shard(graded, tmp_path):
    subs = find_submissions(graded["paths"])
    n = 40
    empty = next(i for i in range(n) if not select(subs, Shard(i, n)))
    out = tmp_path / "out"
    result = bplab("grade", "-a", "hw1", "--out", out, "--shard", f"{empty}/{n}",
                   *graded["paths"])
    assert result.exit_code == 0, result.output
    m = Manifest.read(GradingDir(out))
    assert m is not None and m.positions == {} and m.total == 9
    assert GradingDir(out).results_stems() == []


def test_shards_under_different_isolation_merge_with_a_note(graded, tmp_path):
    """Isolation is the node's, not a setting: the records say it, the merge points it out."""
    shards = copies(graded, tmp_path)
    edit_manifest(shards[1], isolation="process, rlimits (no namespaces: bwrap failed: x)")
    result = bplab("merge", *shards, "--out", tmp_path / "out", "--no-report")
    assert result.exit_code == 0, result.output
    assert "note: the shards ran under different isolation" in result.output
    assert "bwrap failed: x" in result.output


def test_checking_a_download_opens_its_zip_once(tmp_path, monkeypatch):
    """Every shard checks the whole download's notebooks (the ``-a`` typo check): with the zip
    opened once, not once per notebook (each open parses the whole directory: n^2 for n
    students). Counted, not timed."""
    import zipfile

    from bplab.grade.command import check_assignment

    path = canvas_zip(tmp_path / "canvas.zip")
    subs = find_submissions([path])
    opened: list[str] = []
    real = zipfile.ZipFile.__init__

    def counting(self, file, *args, **kwargs):
        if isinstance(file, str | Path) and Path(file) == path:
            opened.append(str(file))
        real(self, file, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "__init__", counting)
    for sub in subs:  # the counter sees what reading one by one costs ...
        sub.read("hw1")
    assert len(subs) == 4 and len(opened) >= 4  # (a zip inside the zip: two reads)
    opened.clear()
    check_assignment(subs, "hw1")  # ... and the check opens it once
    assert len(opened) == 1
