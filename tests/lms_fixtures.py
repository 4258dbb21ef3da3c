"""LMS downloads as instructors get them, built from the bundled example notebooks.

- ``canvas_zip``: Canvas "Download submissions" (flat; ``_LATE_``; a re-upload ``-1``; a student
  with a PDF next to the notebook; a student who uploaded a zip);
- ``moodle_zip``: Moodle "Download all submissions" with folders (Cyrillic and accented names,
  an online-text folder next to the file folder);
- ``gradescope_zip``: Gradescope "Export submissions" with ``submission_metadata.yml``.
The rosters that go with them are the committed CSVs in ``tests/lms/``.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LMS = Path(__file__).resolve().parent / "lms"
HW1 = ROOT / "examples" / "hw1"


def notebook(name: str) -> bytes:
    return (HW1 / f"{name}.ipynb").read_bytes()


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


CANVAS = {  # user id -> (expected display name, late, example graded)
    "12345": ("smithjohn", False, "full"),
    "12346": ("núñezjosé", True, "bug_matmul_db_transposed"),
    "12347": ("leeann", False, "full"),
    "12348": ("okaforchidi", False, "blank"),
}


def canvas_zip(dest: Path) -> Path:
    dest.write_bytes(zip_bytes({
        "smithjohn_12345_67890_hw1.ipynb": notebook("full"),
        "núñezjosé_LATE_12346_67891_hw1-1.ipynb": notebook("bug_matmul_db_transposed"),
        "leeann_12347_67892_hw1.ipynb": notebook("full"),
        "leeann_12347_67893_notes.pdf": b"%PDF-1.4 not a notebook",
        "okaforchidi_12348_67894_hw1.zip": zip_bytes({"hw1/hw1.ipynb": notebook("blank")}),
    }))
    return dest


MOODLE = {  # participant id -> (display name, example)
    "1234567": ("Іван Петренко", "full"),
    "1234568": ("José Núñez", "bug_relu_grad_at_zero"),
}


def moodle_zip(dest: Path) -> Path:
    dest.write_bytes(zip_bytes({
        "Іван Петренко_1234567_assignsubmission_file_/hw1.ipynb": notebook("full"),
        "José Núñez_1234568_assignsubmission_file_/hw1.ipynb": notebook("bug_relu_grad_at_zero"),
        "José Núñez_1234568_assignsubmission_onlinetext_/onlinetext.html": b"<p>see file</p>",
    }))
    return dest


GRADESCOPE = {  # submission id -> (name, sid, email, example)
    "90001": ("Ann Lee", "3001", "ann@uni.example", "full"),
    "90002": ("Chidi Okafor", "3002", "chidi@uni.example", "bug_sum_backward_ignores_dout"),
    "90003": ("王芳", "3003", "fang@uni.example", "blank"),
}


def gradescope_zip(dest: Path) -> Path:
    entries = {"assignment_555_export/submission_metadata.yml":
               (LMS / "submission_metadata.yml").read_bytes()}
    for sub_id, (*_, example) in GRADESCOPE.items():
        entries[f"assignment_555_export/submission_{sub_id}/hw1.ipynb"] = notebook(example)
    dest.write_bytes(zip_bytes(entries))
    return dest
