"""Helpers for tests of the question test files: notebook-like environments and runners.

An environment is what Otter hands to test files: the globals of an executed notebook. It is
built from the reference definitions (``solutions/hwN.py``) rendered as the build renders them:
the reference for the solution notebook, the stub (``raise NotImplementedError``) for the blank
one; hw2 notebooks also get the provided hw1 blocks.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
from bplab.definitions import load_definitions
from otter.test_files import ExceptionTestFile

ROOT = Path(__file__).resolve().parents[1]

QUESTIONS = {
    "hw1": [
        "chain_rule",
        "numerical_gradient",
        "MatMul",
        "Subtract",
        "Square",
        "Sum",
        "Sigmoid",
        "ReLU",
        "fan_out",
        "linreg_loss_and_grad",
        "fit_linreg",
        "quiz",
    ],
    "hw2": [
        "Add",
        "Tanh",
        "LeakyReLU",
        "mse_loss",
        "bce_loss",
        "softmax_cross_entropy",
        "two_layer_loss",
        "SGD",
        "Momentum",
        "RMSprop",
        "Adam",
        "lr_schedules",
        "clip_grad_norm",
        "quiz",
    ],
}
ALL_QUESTIONS = [(hw, q) for hw, qs in QUESTIONS.items() for q in qs]


def question_file(hw: str, question: str) -> Path:
    return ROOT / "autograder" / hw / f"{question}.py"


@cache
def _definitions(hw: str):
    return load_definitions(ROOT / "solutions" / f"{hw}.py")


@cache
def _provided(hw: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The notebook's provided cells: (origin homework, names) per ``provide`` cell."""
    import nbformat

    nb = nbformat.read(ROOT / "assignments" / hw / f"{hw}.ipynb", as_version=4)
    roles = [c.metadata.get("bplab", {}) for c in nb.cells]
    return tuple((r["from"], tuple(r["provide"])) for r in roles if "provide" in r)


def make_env(hw: str, mode: str = "reference", **overrides) -> dict:
    """Globals of a notebook where every graded definition is the reference (``mode=
    "reference"``) or the stub (``mode="stub"``), then ``overrides`` replace names (planted
    bugs, alternative correct solutions). Definitions see each other through these globals,
    as in a notebook (so an override is used by later functions, too)."""
    env: dict = {"np": np, "__name__": "__notebook__"}
    for origin, names in _provided(hw):
        theirs = _definitions(origin)
        for name in names:
            exec(compile(theirs[name].reference, f"<provided {name}>", "exec"), env)
    for name, definition in _definitions(hw).items():
        source = definition.reference if mode == "reference" else definition.stub
        exec(compile(source, f"<cell {name}>", "exec"), env)
    env.update(overrides)
    return env


def run_question(hw: str, question: str, env: dict) -> ExceptionTestFile:
    """Load a question's test file fresh and run it on ``env``."""
    test_file = ExceptionTestFile.from_file(str(question_file(hw, question)))
    test_file.run(env)
    return test_file


def failures(test_file: ExceptionTestFile) -> list[str]:
    """Messages of the failed cases."""
    return [r.message for r in test_file.test_case_results if not r.passed]
