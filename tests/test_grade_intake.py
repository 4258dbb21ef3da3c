"""Finding submissions in notebooks, folders and zips; reading notebooks into cells."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from bplab.grade.cells import InvalidNotebook, parse_notebook
from bplab.grade.intake import find_submissions, from_folder

NB = json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "source": "x = 1",
                            "outputs": [], "execution_count": None}],
                 "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _summary(subs):
    return {(s.stem, s.status) for s in subs}


def test_notebook_folder_and_otter_export(tmp_path: Path):
    (tmp_path / "a.ipynb").write_bytes(NB)
    (tmp_path / "export.zip").write_bytes(_zip({"hw1.ipynb": NB, "hw1.pdf": b"%PDF"}))
    (tmp_path / "student_b").mkdir()
    (tmp_path / "student_b" / "work.ipynb").write_bytes(NB)
    (tmp_path / "student_c").mkdir()  # submitted nothing: still a record
    (tmp_path / "notes.txt").write_text("ignored")
    subs = find_submissions([tmp_path], "hw1")
    assert _summary(subs) == {("a", "ok"), ("export", "ok"), ("student_b", "ok"),
                              ("student_c", "no_notebook")}


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
    subs = find_submissions([tmp_path / "bulk.zip"], "hw1")
    assert _summary(subs) == {("submission_1", "ok"), ("submission_2", "ok"),
                              ("submission_3", "several_notebooks"),
                              ("submission_4", "no_notebook"), ("submission_5", "ok")}


def test_bad_zip_and_duplicate_stems(tmp_path: Path):
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    (tmp_path / "x" / "hw 1.ipynb").write_bytes(NB)
    (tmp_path / "y" / "hw 1.ipynb").write_bytes(NB)
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    subs = find_submissions([tmp_path / "x" / "hw 1.ipynb", tmp_path / "y" / "hw 1.ipynb",
                             tmp_path / "broken.zip"], "hw1")
    assert [s.stem for s in subs] == ["hw_1", "hw_1-2", "broken"]
    assert subs[2].status == "invalid_archive"


def test_folder_as_one_submission(tmp_path: Path):
    assert from_folder(tmp_path, "s", "hw1").status == "no_notebook"
    (tmp_path / "deep").mkdir()
    (tmp_path / "deep" / "mine.ipynb").write_bytes(NB)
    sub = from_folder(tmp_path, "s", "hw1")
    assert sub.status == "ok" and sub.data == NB


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
