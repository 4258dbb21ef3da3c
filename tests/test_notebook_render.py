"""Rendering notebooks from solutions/: stubs, references, sync and the committed notebooks."""

import copy
import textwrap

import nbformat
import numpy as np
import pytest
from bplab import notebook
from bplab.definitions import FenceError, load_definitions, parse_definitions
from bplab.examples import example_variants, render_examples, stale_examples
from bplab.layout import Assignment
from bplab.notebook import NotebookError

HW1 = Assignment.named("hw1")
ASSIGNMENTS = Assignment.all()

SOURCE = textwrap.dedent('''
    import numpy as np


    @staticmethod_like
    def double(x):
        """Twice x."""
        # BEGIN SOLUTION
        y = 2 * x
        return y
        # END SOLUTION


    class Block:
        """A block."""

        ALPHA = 0.5

        @staticmethod
        def forward(X):
            # BEGIN SOLUTION
            return X * Block.ALPHA, X
            # END SOLUTION

        @staticmethod
        def backward(dout, cache):
            # BEGIN SOLUTION
            return (dout * Block.ALPHA,)
            # END SOLUTION
    ''')


def test_definitions_keep_decorators_and_order():
    defs = parse_definitions(SOURCE)
    assert list(defs) == ["double", "Block"]
    assert defs["double"].lines[0] == "@staticmethod_like"


def test_reference_drops_fence_lines_only():
    defs = parse_definitions(SOURCE)
    ref = defs["Block"].reference
    assert "SOLUTION" not in ref
    assert "        return X * Block.ALPHA, X" in ref
    assert "    ALPHA = 0.5" in ref
    assert defs["double"].solution_lines() == ["    y = 2 * x", "    return y"]


def test_stub_replaces_each_fence_at_its_indentation_and_names_the_method():
    defs = parse_definitions(SOURCE)
    stub = defs["Block"].stub
    assert "X * Block.ALPHA" not in stub and "ALPHA = 0.5" in stub
    assert '        # YOUR CODE HERE\n        raise NotImplementedError("Block.forward: not' in stub
    namespace = {}
    exec(stub, namespace)  # the stub is valid code that raises only when called
    with pytest.raises(NotImplementedError, match=r"^Block\.backward: not implemented yet$"):
        namespace["Block"].backward(1.0, None)
    assert 'raise NotImplementedError("double: not implemented yet")' in defs["double"].stub


@pytest.mark.parametrize(
    "bad, message",
    [
        ("def f():\n    # BEGIN SOLUTION\n    if 1:\n        # END SOLUTION\n        pass\n",
         "not indented like"),
        ("def f():\n    # BEGIN SOLUTION\n    return 1\n", "never closed"),
        ("def f():\n    # END SOLUTION\n    return 1\n", "without"),
        ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    x = 1\n    # END SOLUTION\n",
         "nested"),
        ("class C:\n    # BEGIN SOLUTION\n    A = 1\n    # END SOLUTION\n", "inside a function"),
        ("# BEGIN SOLUTION\nX = 1\n# END SOLUTION\n", "inside a graded definition"),
    ],
)
def test_malformed_fences_are_refused(bad, message):
    with pytest.raises(FenceError, match=message):
        parse_definitions(bad)


def test_hw1_stubs_raise_and_references_match_the_solution_module():
    from solutions import hw1

    defs = load_definitions(HW1.solution)
    stubs, refs = {"np": np}, {"np": np}
    for d in defs.values():
        exec(d.stub, stubs)
        exec(d.reference, refs)
    with pytest.raises(NotImplementedError, match="MatMul.backward"):
        stubs["MatMul"].backward(np.ones((2, 3)), None)
    with pytest.raises(NotImplementedError, match="fit_linreg"):
        stubs["fit_linreg"](np.ones((4, 2)), np.ones((4, 1)), 0.1, 3)
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((6, 3)), rng.standard_normal((6, 1))
    theta_ref, losses_ref = refs["fit_linreg"](X, Y, 0.01, 5)
    theta_sol, losses_sol = hw1.fit_linreg(X, Y, 0.01, 5)
    np.testing.assert_array_equal(theta_ref, theta_sol)
    assert losses_ref == losses_sol


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.name)
def test_committed_notebook_is_what_sync_writes(assignment):
    committed = assignment.notebook.read_text(encoding="utf-8")
    assert notebook.render_text(assignment) == committed, f"run `bplab sync {assignment.name}`"


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.name)
def test_rendering_is_idempotent_and_clean(assignment):
    nb = notebook.read(assignment.notebook)
    once = notebook.render(nb, assignment, "reference")
    twice = notebook.render(once, assignment, "reference")
    assert notebook.dumps(once) == notebook.dumps(twice)
    ids = [c.id for c in once.cells]
    assert len(ids) == len(set(ids))
    for cell in once.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert once.metadata.otter.assignment_name == assignment.name


def test_stale_cells_are_rewritten_and_outputs_dropped():
    nb = notebook.read(HW1.notebook)
    dirty = copy.deepcopy(nb)
    cell = next(c for c in dirty.cells if notebook.cell_role(c).get("define") == "MatMul")
    cell.source = "class MatMul: pass"
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi")]
    cell.execution_count = 7
    dirty.cells[0].id = dirty.cells[1].id  # a duplicate id gets replaced
    rendered = notebook.render(dirty, HW1, "stub")
    clean = notebook.render(nb, HW1)
    assert [c.source for c in rendered.cells] == [c.source for c in clean.cells]
    assert len({c.id for c in rendered.cells}) == len(rendered.cells)
    assert notebook.dumps(notebook.render(rendered, HW1)) == notebook.dumps(rendered)
    fixed = next(c for c in rendered.cells if notebook.cell_role(c).get("define") == "MatMul")
    assert "NotImplementedError" in fixed.source and fixed.outputs == []


def test_missing_and_duplicate_definition_cells_are_refused():
    nb = notebook.read(HW1.notebook)
    missing = copy.deepcopy(nb)
    missing.cells = [c for c in missing.cells if notebook.cell_role(c).get("define") != "Sum"]
    with pytest.raises(NotebookError, match="Sum"):
        notebook.render(missing, HW1)
    unknown = copy.deepcopy(nb)
    unknown.cells[2].metadata["bplab"] = {"define": "NoSuchBlock"}
    with pytest.raises(NotebookError, match="NoSuchBlock"):
        notebook.render(unknown, HW1)


def test_provide_cells_render_the_other_assignments_reference():
    hw2 = Assignment.named("hw2")
    if not hw2.notebook.is_file():
        pytest.skip("assignments/hw2/hw2.ipynb not written yet")
    nb = notebook.read(hw2.notebook)
    cell = next(c for c in nb.cells if "provide" in notebook.cell_role(c))
    cell.metadata["bplab"] = {"provide": ["MatMul", "Sum"], "from": "hw1"}
    rendered = notebook.render(nb, hw2, "stub")
    source = next(c for c in rendered.cells if "provide" in notebook.cell_role(c)).source
    refs = load_definitions(HW1.solution)
    assert refs["MatMul"].reference in source and refs["Sum"].reference in source
    assert "NotImplementedError" not in source and "Subtract" not in source
    cell.metadata["bplab"] = {"provide": ["NoSuchBlock"], "from": "hw1"}
    with pytest.raises(NotebookError, match="NoSuchBlock"):
        notebook.render(nb, hw2)


def test_hw1_notebook_layout():
    nb = notebook.read(HW1.notebook)
    first = nb.cells[0]
    assert first.cell_type == "code"
    assert 'grader = otter.Notebook("hw1.ipynb")' in first.source and "import numpy" in first.source
    # One check cell per question, each right after its definitions.
    roles = [notebook.cell_role(c) for c in nb.cells]
    defined = [role["define"] for role in roles if "define" in role]
    assert defined == list(load_definitions(HW1.solution))
    owners = notebook.question_of_definitions(nb)
    assert set(owners) == set(defined)
    assert {owners[n] for n in ("dsin_x2", "dcube", "grad_square_sum")} == {"chain_rule"}
    assert owners["MatMul"] == "MatMul"
    # The graders skip everything that is not setup, a definition or a check.
    for cell in nb.cells[1:]:
        role = notebook.cell_role(cell)
        if cell.cell_type == "code" and not role:
            assert "otter_ignore" in cell.metadata.get("tags", []), cell.source[:60]
    text = " ".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for topic in ("sin(x^2)", "(x^2 + 1)^3", "(x + y)^2", "upstream", "add up", "Delta",
                  "Transposes", "Signs", "Shapes", "cache", "batch-first"):
        assert topic in text, topic


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.name)
def test_question_cells_match_the_test_files(assignment):
    files = {p.stem for p in assignment.test_files()}
    if not files:
        pytest.skip(f"no test files in {assignment.tests_dir} yet")
    assert set(notebook.questions(notebook.read(assignment.notebook))) == files


@pytest.mark.parametrize(
    "assignment",
    [a for a in ASSIGNMENTS if a.example_notebooks()],
    ids=lambda a: a.name,
)
def test_examples_are_current(assignment):
    assert stale_examples(assignment) == [], f"run `bplab examples {assignment.name}`"


def test_each_bug_example_changes_exactly_one_cell():
    texts = render_examples(HW1)
    full = nbformat.reads(texts["full.ipynb"], as_version=4)
    bugs = example_variants(HW1)
    assert len(bugs) >= 3
    for stem, bug in bugs.items():
        buggy = nbformat.reads(texts[f"{stem}.ipynb"], as_version=4)
        changed = [
            notebook.cell_role(a).get("define")
            for a, b in zip(full.cells, buggy.cells, strict=True)
            if a.source != b.source
        ]
        assert changed == [bug.define], stem
