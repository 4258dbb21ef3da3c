"""hw3 end to end beyond the bank: a planted bug costs points on its own question only, the
Graph checks see visit order and call counts through both graders, and a grader block class
handed to student code stays callable across calls, and only through its static methods."""

from __future__ import annotations

import numpy as np
import pytest
from bplab.grade.proxy import StudentError
from bplab.grade.sandbox import Sandbox
from bplab.grade.session import Session
from bplab.layout import Assignment
from bplab_checks.graph import Sin, check_visits, diamond_spec, traced
from bugs import ROOT, environment, run_question
from bugs.hw3 import BUGS

pytestmark = pytest.mark.hw3

QUESTIONS = [p.stem for p in Assignment.named("hw3", ROOT).test_files()]


@pytest.mark.parametrize("planted", [pytest.param(b, id=b.id) for b in BUGS])
def test_a_bug_costs_points_on_its_own_question_only(planted):
    env = environment("hw3", planted.source)
    for question in QUESTIONS:
        if question != planted.question:
            test_file = run_question("hw3", question, env)
            assert test_file.grade == 1.0, f"{planted.id} also cost points on {question}"


def test_visit_check_accepts_any_valid_order_and_names_a_wrong_one():
    spec = diamond_spec()

    class Built:
        pass

    built = Built()
    built.spec = spec
    for order in (["out", "m", "e", "s"],):
        built.log = list(order)
        check_visits(built, 0)
    built.log = ["out", "m", "s", "e"]  # s before its consumer e
    with pytest.raises(AssertionError, match=r"diagnosis: visit_order"):
        check_visits(built, 0)
    built.log = ["out", "m", "e", "s", "s"]
    with pytest.raises(AssertionError, match=r"diagnosis: backward_twice"):
        check_visits(built, 0)
    built.log = ["out", "m", "e"]
    with pytest.raises(AssertionError, match="never called"):
        check_visits(built, 0)


STUDENT = '''
import numpy as np

class Keep:
    def __init__(self):
        self.blocks = []
    def add(self, block):
        self.blocks.append(block)
        return len(self.blocks) - 1
    def run(self, k, x):
        out, cache = self.blocks[k].forward(x)
        return out, self.blocks[k].backward(np.ones_like(out), cache)
    def poke(self, k, name):
        return getattr(self.blocks[k], name)()
    def call(self, k):
        return self.blocks[k]()
'''


@pytest.fixture(scope="module")
def worker():
    sandbox = Sandbox(0)
    session = Session(sandbox, call_timeout=5.0)
    session.start()
    assert session.exec_cell(1, STUDENT, 10) is None
    yield session.names(["Keep"])["Keep"]
    session.close()
    sandbox.close()


def test_a_grader_block_stays_callable_across_calls(worker):
    log: list[str] = []
    keep = worker()
    k = keep.add(traced(Sin, "s", log))  # one call ...
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    out, (dx,) = keep.run(k, x)  # ... the block is used in a later one
    assert np.allclose(out, np.sin(x)) and np.allclose(dx, np.cos(x))
    assert log == ["s"]
    out, _ = keep.run(keep.add(traced(Sin, "t", log)), x)  # a second block, its own id
    assert log == ["s", "t"]


def test_student_code_reaches_only_the_static_methods_of_a_grader_block(worker):
    keep = worker()
    k = keep.add(traced(Sin, "s", []))
    # "mro" is refused by the grader; underscore names never leave the worker (whose own stub
    # object answers them: student code only ever reaches its own process there).
    for name in ("mro", "__subclasses__", "__init__"):
        with pytest.raises((AttributeError, TypeError, StudentError)):
            keep.poke(k, name)
    with pytest.raises(Exception):  # noqa: B017 - calling the class builds an unsendable object
        keep.call(k)
