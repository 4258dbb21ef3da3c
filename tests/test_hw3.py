"""hw3 end to end beyond the bank (tests/test_bug_bank.py): every planted bug fails a public
case, the Graph checks see visit order and call counts through both graders, and a grader block
class handed to student code stays callable across calls, and only through its static methods."""

from __future__ import annotations

import numpy as np
import pytest
from bplab.grade.proxy import StudentError
from bplab.grade.sandbox import Sandbox
from bplab.grade.session import Session
from bplab.layout import Assignment
from bplab.variants import variants
from bplab_checks.graph import Sin, check_visits, diamond_spec, traced
from checks_env import ROOT, make_env, run_question, variant_env

pytestmark = pytest.mark.hw3

BUGS = variants("hw3", correct=False)


@pytest.mark.parametrize("planted", [pytest.param(b, id=b.id) for b in BUGS])
def test_every_planted_bug_fails_a_public_case(planted):
    """The contract's promise: public checks state every rule, so no bank bug passes them all."""
    test_file = run_question("hw3", planted.question, variant_env(planted))
    assert any(not r.passed for r in test_file.test_case_results if not r.test_case.hidden)


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


JUNK = {
    "Graph": '''
class Graph:
    def __init__(self):
        self.n, self.names, self.values = 0, [], {}
    def input(self, name):
        self.names.append(name)
        self.n += 1
        return self.n - 1
    def apply(self, block, *parents):
        self.n += 1
        return self.n - 1
    def forward(self, feed):
        self.values = dict(feed)
        return 0.0
    def backward(self):
        return {k: np.zeros_like(v) for k, v in self.values.items()}
''',
    "mlp_loss": '''
def mlp_init(sizes, seed=0):
    return {f"{p}{l}": np.zeros((sizes[l - 1], sizes[l]) if p == "W" else sizes[l])
            for l in range(1, len(sizes)) for p in "Wb"}

def mlp_loss(params, X, y, activation="relu"):
    return 0.6931471805599453, {k: np.zeros_like(v) for k, v in params.items()}
''',
    "gradient_norms": '''
def gradient_norms(depth, width, activation, scale, seed=0):
    return [1.0] * depth
''',
    "lr_range_test": '''
def lr_range_test(loss_and_grad, params, lr_min=1e-6, lr_max=10.0, factor=1.1, diverge=4.0):
    lrs = [lr_min * factor ** k for k in range(10)]
    return lrs, [1.0] * 10

def suggest_lr(lrs, losses):
    return lrs[0]
''',
}


@pytest.mark.parametrize("question", sorted(JUNK))
def test_junk_answers_score_zero(question):
    test_file = run_question("hw3", question, make_env("hw3", sources=[JUNK[question]]))
    assert test_file.score == 0, [r.test_case.name for r in test_file.test_case_results
                                  if r.passed]


def test_the_sandboxed_grader_scores_the_variants_as_the_bank_does(tmp_path):
    """Every correct variant and the Graph bugs through `bplab grade` (grader blocks crossing
    into the sandbox): the same per-question score as the in-process bank run."""
    from bplab import notebook
    from bplab.grade.command import run_grade

    hw3 = Assignment.named("hw3", ROOT)
    full = notebook.render(notebook.read(hw3.notebook), hw3, "reference")
    chosen = variants("hw3", correct=True) + [b for b in BUGS if b.question == "Graph"]
    expected = {}
    for k, variant in enumerate(chosen):
        path = tmp_path / f"v{k:02d}.ipynb"
        cell = notebook.replace_definition(full, variant.define, variant.source)
        path.write_text(notebook.dumps(cell))
        in_process = run_question("hw3", variant.question, variant_env(variant))
        expected[path.stem] = (variant.id, variant.question, in_process.score)
    records = run_grade("hw3", sorted(tmp_path.glob("*.ipynb")), tmp_path / "out", jobs=2,
                        quiet=True)
    for record in records:
        vid, question, score = expected[record.stem]
        got = {q.name: q.score for q in record.questions}
        assert got[question] == pytest.approx(score, abs=1e-9), vid


@pytest.mark.parametrize("layout", ["files/solutions", "source/lib/solutions", "missing"])
def test_the_trusted_wdbc_copy_is_found_in_every_autograder_layout(tmp_path, monkeypatch, layout):
    import shutil

    from bplab_checks.lr_range import trusted_wdbc

    import solutions

    package = tmp_path / layout
    package.mkdir(parents=True)
    if layout == "files/solutions":  # otter run: files/data next to files/solutions
        shutil.copytree(ROOT / "assignments" / "hw2" / "data", tmp_path / "files" / "data")
    elif layout == "source/lib/solutions":  # the sandboxed Gradescope zip: source/data
        shutil.copytree(ROOT / "assignments" / "hw2" / "data", tmp_path / "source" / "data")
    monkeypatch.setattr(solutions, "__file__", str(package / "__init__.py"))
    if layout == "missing":
        with pytest.raises(FileNotFoundError, match="trusted WDBC"):
            trusted_wdbc()
    else:
        X_train, y_train, X_val, y_val = trusted_wdbc()
        assert X_train.shape == (456, 30) and X_val.shape == (113, 30)
