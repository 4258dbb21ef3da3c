"""Finding submissions in notebooks, folders and zips; reading notebooks into cells."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from bplab.grade.cells import InvalidNotebook, parse_notebook
from bplab.grade.identity import assign_stems, safe_stem
from bplab.grade.intake import IntakeError, Unusable, find_submissions, from_folder
from lms_fixtures import (
    CANVAS,
    GRADESCOPE,
    MOODLE,
    canvas_zip,
    gradescope_zip,
    moodle_zip,
    notebook,
)

NB = json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "source": "x = 1",
                            "outputs": [], "execution_count": None}],
                 "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _found(paths, assignment="hw1", taken=()):
    """Submissions with stems placed as ``bplab grade`` places them (nothing in OUT yet)."""
    subs = find_submissions(paths)
    for sub, (stem, flag) in zip(subs, assign_stems([(s.wanted, s.origin) for s in subs],
                                                    set(taken)), strict=True):
        sub.stem, sub.flags = stem, flag
    return subs


def _status(sub, assignment="hw1"):
    try:
        sub.read(assignment)
    except Unusable as why:
        return why.status
    return "ok"


def _summary(subs):
    return {(s.stem, _status(s)) for s in subs}


def test_notebook_folder_and_otter_export(tmp_path: Path):
    (tmp_path / "a.ipynb").write_bytes(NB)
    (tmp_path / "export.zip").write_bytes(_zip({"hw1.ipynb": NB, "hw1.pdf": b"%PDF"}))
    (tmp_path / "student_b").mkdir()
    (tmp_path / "student_b" / "work.ipynb").write_bytes(NB)
    (tmp_path / "student_c").mkdir()  # submitted nothing: still a record
    (tmp_path / "notes.txt").write_text("ignored")
    subs = _found([tmp_path])
    assert _summary(subs) == {("a", "ok"), ("export", "ok"), ("student_b", "ok"),
                              ("student_c", "no_notebook")}
    otter = _found([tmp_path / "export.zip"])  # named on the command line: an Otter export
    assert [(s.stem, s.identity.lms, _status(s)) for s in otter] == [("export", "otter", "ok")]


def test_bulk_download_zip(tmp_path: Path):
    bulk = _zip({
        "hw1_export/submission_1/hw1.ipynb": NB,
        "hw1_export/submission_2/hw1.ipynb": NB,
        "hw1_export/submission_2/old.ipynb": NB,  # the one named hw1.ipynb wins
        "hw1_export/submission_3/a.ipynb": NB,
        "hw1_export/submission_3/b.ipynb": NB,
        "hw1_export/submission_4/readme.txt": b"no notebook",
        "hw1_export/submission_5.zip": _zip({"hw1.ipynb": NB}),
        "hw1_export/__MACOSX/submission_1/._hw1.ipynb": b"junk",
        "hw1_export/submission_1/.ipynb_checkpoints/hw1-checkpoint.ipynb": NB,
    })
    (tmp_path / "bulk.zip").write_bytes(bulk)
    subs = _found([tmp_path / "bulk.zip"])
    assert _summary(subs) == {("submission_1", "ok"), ("submission_2", "ok"),
                              ("submission_3", "several_notebooks"),
                              ("submission_4", "no_notebook"), ("submission_5", "ok")}
    assert {s.stem: s.read("hw1") for s in subs if _status(s) == "ok"}["submission_2"] == NB


def test_bad_zip_and_duplicate_stems_take_no_plain_stem(tmp_path: Path):
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    (tmp_path / "x" / "hw 1.ipynb").write_bytes(NB)
    (tmp_path / "y" / "hw 1.ipynb").write_bytes(NB)
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    subs = _found([tmp_path / "x" / "hw 1.ipynb", tmp_path / "y" / "hw 1.ipynb",
                   tmp_path / "broken.zip"])
    stems = [s.stem for s in subs]
    # Neither of the two takes the plain stem by order: each is tagged by its own source.
    assert stems[0] != stems[1] and all(s.startswith("hw_1-") for s in stems[:2])
    assert all("stem clash" in s.flags for s in subs[:2])
    assert [s.stem for s in _found([tmp_path / "y" / "hw 1.ipynb",
                                    tmp_path / "x" / "hw 1.ipynb"])][::-1] == stems[:2]
    assert stems[2] == "broken" and subs[2].status == "invalid_archive"


def test_missing_path_and_empty_archive_are_usage_errors(tmp_path: Path):
    with pytest.raises(IntakeError, match="no such file"):
        find_submissions([tmp_path / "nope"])
    (tmp_path / "empty.zip").write_bytes(_zip({"readme.txt": b"x"}))
    with pytest.raises(IntakeError, match="holds no notebook"):
        find_submissions([tmp_path / "empty.zip"])


def test_folder_as_one_submission(tmp_path: Path):
    assert from_folder(tmp_path, "s").status == "no_notebook"
    (tmp_path / "deep").mkdir()
    (tmp_path / "deep" / "mine.ipynb").write_bytes(NB)
    sub = from_folder(tmp_path, "s")
    assert _status(sub) == "ok" and sub.read("hw1") == NB and sub.stem == "s"


def test_canvas_flat_zip_late_reupload_pdf_and_zip_upload(tmp_path: Path):
    subs = _found([canvas_zip(tmp_path / "submissions.zip")])
    by_uid = {s.identity.user_id: s for s in subs}
    assert set(by_uid) == set(CANVAS)  # one submission per student, the PDF is not one
    for uid, (name, late, example) in CANVAS.items():
        sub = by_uid[uid]
        assert (sub.identity.lms, sub.identity.name, sub.identity.late) == ("canvas", name, late)
        assert sub.stem == f"{name}_{uid}" and not sub.flags
        assert sub.read("hw1") == notebook(example)
    assert by_uid["12346"].identity.original_name == "hw1.ipynb"  # "-1" of the re-upload
    assert by_uid["12346"].identity.submission_id == "67891"
    assert "núñezjosé_LATE_12346_67891_hw1-1.ipynb" in by_uid["12346"].origin


def test_moodle_folders_keep_cyrillic_and_accented_names(tmp_path: Path):
    subs = _found([moodle_zip(tmp_path / "moodle.zip")])
    assert [(s.identity.name, s.identity.user_id, s.stem) for s in subs] == [
        ("Іван Петренко", "1234567", "Іван_Петренко_1234567"),
        ("José Núñez", "1234568", "José_Núñez_1234568"),
    ]
    for s in subs:
        assert s.read("hw1") == notebook(MOODLE[s.identity.user_id][1])
        assert s.identity.folder.endswith("_assignsubmission_file_")


def test_moodle_flat_download_and_a_forged_file_name(tmp_path: Path):
    # A flat download prefixes every file; a student naming a file like another participant
    # must stay themself (the name is read up to the first marker).
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "Bob Ray_222_assignsubmission_file_hw1.ipynb").write_bytes(NB)
    (tmp_path / "flat" / "Eve Ox_333_assignsubmission_file_Bob Ray_222_assignsubmission_file_"
     "x.ipynb").write_bytes(NB)
    subs = _found([tmp_path / "flat"])
    assert sorted((s.identity.name, s.identity.user_id) for s in subs) == [
        ("Bob Ray", "222"), ("Eve Ox", "333")]


def test_gradescope_export_metadata(tmp_path: Path):
    subs = _found([gradescope_zip(tmp_path / "export.zip")])
    got = {s.identity.submission_id: s for s in subs}
    assert set(got) == set(GRADESCOPE)
    for sub_id, (name, sid, email, example) in GRADESCOPE.items():
        ident = got[sub_id].identity
        assert (ident.lms, ident.name, ident.sid, ident.email) == ("gradescope", name, sid, email)
        assert ident.submitted_at.startswith("2026-")
        assert got[sub_id].read("hw1") == notebook(example)
    assert got["90003"].stem == "王芳_3003"


def test_zip_inside_a_folder_is_one_submission_not_a_bulk_download(tmp_path: Path):
    """Issue 10, identity: a student's zip of forged folders cannot become other students."""
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "bob.ipynb").write_bytes(NB)
    (tmp_path / "subs" / "mallory.zip").write_bytes(_zip({
        "bob/hw1.ipynb": b"forged", "alice/hw1.ipynb": b"forged"}))
    (tmp_path / "subs" / "bob!.ipynb").write_bytes(NB)
    subs = _found([tmp_path / "subs"])
    assert sorted(s.stem for s in subs) == ["bob", "bob_", "mallory"]
    mallory = next(s for s in subs if s.stem == "mallory")
    assert _status(mallory) == "several_notebooks"  # one submission, both notebooks its own


@pytest.mark.parametrize("name, stem", [
    ("José Núñez", "José_Núñez"), ("bob!", "bob_"), ("bob", "bob"),
    ("../../etc/passwd", "_._.._etc_passwd"), (".hidden", "_hidden"), ("-rf", "_rf"),
    ("CON", "_CON"), ("", "submission"),
    ("a\u0301", "á"),  # NFC: one form of each name
])
def test_safe_stem(name, stem):
    assert safe_stem(name) == stem


def test_stems_taken_in_the_output_folder_are_never_reused(tmp_path: Path):
    (tmp_path / "bob.ipynb").write_bytes(NB)
    (sub,) = _found([tmp_path / "bob.ipynb"], taken={"Bob"})  # case folds (macOS, Windows)
    assert sub.stem.startswith("bob-") and "already in the output folder" in sub.flags


def test_cells_skip_ignored_and_neutralize_magics():
    nb = json.loads(NB)
    nb["cells"] = [
        {"cell_type": "markdown", "metadata": {}, "source": "# title"},
        {"cell_type": "code", "metadata": {"tags": ["otter_ignore"]}, "source": "train()",
         "outputs": [], "execution_count": None},
        {"cell_type": "code", "metadata": {"otter": {"ignore": True}}, "source": "plot()",
         "outputs": [], "execution_count": None},
        {"cell_type": "code", "metadata": {}, "source": ["%matplotlib inline\n", "y = 2\n",
                                                         "if y:\n", "    !pip install x"],
         "outputs": [], "execution_count": None},
    ]
    cells = parse_notebook(json.dumps(nb).encode())
    assert [c.number for c in cells] == [4]
    assert cells[0].source.splitlines()[1] == "y = 2"
    assert compile(cells[0].source, "<cell>", "exec")
    assert len(cells[0].notes) == 2


@pytest.mark.parametrize("data, why", [
    (b"", "empty"), (b"\xff\xfe\x00garbage", "not text"), (b'{"cells": [', "not valid JSON"),
    (b"[1, 2]", "JSON list"), (b'{"a": 1}', "no 'cells'"),
])
def test_invalid_notebooks_say_why(data, why):
    with pytest.raises(InvalidNotebook, match=why):
        parse_notebook(data)


# The fast path (bplab.grade.cells._plain_v4): a version 4 notebook of the usual shape is read
# from its JSON without nbformat's second parse and validation; the cells must be exactly those
# nbformat's path gives, and every unusual notebook must fail or be repaired exactly as there.
def _variants() -> dict[str, bytes]:
    from bplab.layout import Assignment

    out = {f"{a.name}/{p.name}": p.read_bytes() for a in Assignment.all()
           for p in a.example_notebooks()}
    base = json.loads(out["hw1/full.ipynb"])
    code = next(i for i, c in enumerate(base["cells"]) if c["cell_type"] == "code")

    def edit(fn) -> bytes:
        nb = json.loads(json.dumps(base))
        fn(nb, nb["cells"][code])
        return json.dumps(nb).encode()

    out.update({
        "a cell without metadata": edit(lambda nb, c: c.pop("metadata")),
        "a source line that is a number": edit(lambda nb, c: c.update(source=["x = 1\n", 2])),
        "a source that is a number": edit(lambda nb, c: c.update(source=3)),
        "a minor version that is text": edit(lambda nb, c: nb.update(nbformat_minor="5")),
        "version 4.0": edit(lambda nb, c: nb.update(nbformat=4.0)),
        "version 3": edit(lambda nb, c: nb.update(nbformat=3)),
        "no notebook metadata": edit(lambda nb, c: nb.pop("metadata")),
        "output text of numbers": edit(lambda nb, c: c.update(outputs=[
            {"output_type": "stream", "name": "stdout", "text": [1, 2]}])),
        "outputs of lines": edit(lambda nb, c: c.update(outputs=[
            {"output_type": "stream", "name": "stdout", "text": ["a\n", "b"]},
            {"output_type": "display_data", "metadata": {}, "data": {"text/plain": ["1", "2"]}}])),
        "an output that is a list": edit(lambda nb, c: c.update(outputs=[[1]])),
        "attachments": edit(lambda nb, c: c.update(attachments={"a.png": {"image/png": "AA"}})),
        "a cell id that is a list": edit(lambda nb, c: c.update(id=["x"])),
        "a cell that is a string": edit(lambda nb, c: nb["cells"].append("cell")),
        "duplicate cell ids": edit(lambda nb, c: [d.update(id="same") for d in nb["cells"]]),
    })
    return out


VARIANTS = _variants()


def _outcome(data: bytes):
    try:
        return [(c.number, c.source, c.notes) for c in parse_notebook(data)]
    except InvalidNotebook as exc:
        return f"invalid: {exc}"


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_the_fast_path_reads_what_nbformat_reads(name, monkeypatch):
    from bplab.grade import cells

    data = VARIANTS[name]
    fast = _outcome(data)
    monkeypatch.setattr(cells, "_plain_v4", lambda raw: False)
    assert fast == _outcome(data)
    if "/" in name:  # the examples of the course take the fast path
        monkeypatch.undo()
        assert cells._plain_v4(json.loads(data))


def test_a_fast_path_that_takes_every_notebook_would_be_caught(monkeypatch):
    # A planted bug: accepting every version 4 dict grades notebooks nbformat cannot read.
    from bplab.grade import cells

    slow = {name: _outcome(data) for name, data in VARIANTS.items() if "/" not in name}
    monkeypatch.setattr(cells, "_plain_v4", lambda raw: raw.get("nbformat") == 4)
    differ = [name for name, data in VARIANTS.items() if "/" not in name
              and _outcome(data) != slow[name]]
    assert "a cell without metadata" in differ and "a source line that is a number" in differ
