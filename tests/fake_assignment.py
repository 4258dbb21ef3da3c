"""A throwaway copy of the repository's hw1 sources with one small test file of our own.

Build and rendering tests use it so that they depend neither on the real test files (written
separately) nor on the checkout's dist/ folder.
"""

import shutil
from pathlib import Path

from bplab import REPO_ROOT
from bplab.layout import Assignment

FAKE_MATMUL_TEST = '''\
from otter.test_files import test_case

OK_FORMAT = False
name = "MatMul"
points = 2


@test_case(hidden=False)
def forward_shape(MatMul):
    import numpy as np

    out, _ = MatMul.forward(np.ones((2, 3)), np.ones((3, 4)))
    assert np.shape(out) == (2, 4), f"forward returned shape {np.shape(out)}, expected (2, 4)"


# Compares the gradients with the reference on random inputs.
@test_case(hidden=True)
def matches_reference(MatMul):
    import numpy as np
    from solutions.hw1 import MatMul as reference

    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    dout = rng.standard_normal((2, 4))
    got = MatMul.backward(dout, MatMul.forward(A, B)[1])
    want = reference.backward(dout, reference.forward(A, B)[1])
    for g, w in zip(got, want, strict=True):
        assert np.shape(g) == np.shape(w) and np.allclose(g, w), "a gradient differs"
'''


def make_fake_repo(root: Path, with_data: bool = False) -> Assignment:
    """Copy what `bplab build hw1` reads into ``root`` and add the fake MatMul test file."""
    root.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(REPO_ROOT / "autograder" / "requirements", root / "autograder" / "requirements")
    shutil.copytree(REPO_ROOT / "solutions", root / "solutions", ignore=ignore)
    shutil.copytree(REPO_ROOT / "autograder" / "bplab_checks", root / "autograder" / "bplab_checks",
                    ignore=ignore)
    (root / "assignments" / "hw1").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "assignments" / "hw1" / "hw1.ipynb", root / "assignments" / "hw1")
    (root / "examples" / "hw1").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "examples" / "hw1" / "variants.py", root / "examples" / "hw1")
    tests = root / "autograder" / "hw1"
    tests.mkdir(parents=True)
    (tests / "MatMul.py").write_text(FAKE_MATMUL_TEST)
    if with_data:
        (root / "assignments" / "hw1" / "data").mkdir()
        (root / "assignments" / "hw1" / "data" / "points.csv").write_text("x,y\n1,2\n")
    return Assignment.named("hw1", root)
