"""The course content of issue 15: fan-out, the concept quizzes, the documents' worked examples,
and notebooks that render cleanly to HTML (docs/course.md maps the documents to these cells)."""

from __future__ import annotations

import re
from typing import Any

import nbformat
import numpy as np
import pytest
from bplab.build import build
from bplab.layout import Assignment
from bplab.notebook import cell_role, render
from bplab_checks.fanout import fan_out_diagnosis, fan_out_inputs
from bplab_checks.quiz import Item, check_quiz_form, check_quiz_item, choice, number
from checks_env import ROOT, failures, make_env, run_question
from nbconvert import HTMLExporter

from solutions import hw1, hw2, hw3

HWS = ("hw1", "hw2", "hw3")
KEYS = {"hw1": hw1.quiz_answers, "hw2": hw2.quiz_answers, "hw3": hw3.quiz_answers}


# ---- fan_out (the reference and the stub: tests/test_question_files.py) --------------------


@pytest.mark.hw1
@pytest.mark.parametrize("shape", [(3, 4), (1, 5), (5, 2)])
def test_fan_out_diagnosis_names_the_path_and_never_a_right_answer(shape):
    x, y = fan_out_inputs(shape, 7)
    assert fan_out_diagnosis(2 * x - y, x, y) is None
    assert fan_out_diagnosis(2 * x - y + 1e-12, x, y) is None
    assert "fan_out_path_dropped" in fan_out_diagnosis(x - y, x, y)
    assert "fan_out_path_overwritten" in fan_out_diagnosis(x.copy(), x, y)
    assert fan_out_diagnosis(-(2 * x - y), x, y) is None
    assert fan_out_diagnosis("junk", x, y) is None
    assert fan_out_diagnosis(np.ones((9, 9)), x, y) is None


@pytest.mark.hw1
def test_fan_out_grad_reference_adds_both_paths():
    x, y = fan_out_inputs((4, 3), 1)
    f, dx, dy = hw1.fan_out_grad(x, y)
    assert np.isclose(f, np.sum((x - y) * x))
    assert np.allclose(dx, 2 * x - y) and np.allclose(dy, -x)
    assert np.allclose(hw1.numerical_gradient(lambda z: np.sum((z - y) * z), x), dx)


# ---- quiz ----------------------------------------------------------------------------------


def _items(hw: str) -> dict[str, Item]:
    module: dict[str, Any] = {}
    exec(compile((ROOT / "autograder" / hw / "quiz.py").read_text(), "quiz", "exec"), module)
    return module


@pytest.mark.parametrize("hw", HWS)
def test_quiz_key_form_points_and_items_agree(hw):
    module = _items(hw)
    items = module["ITEMS"]
    assert 6 <= len(items) <= 10
    assert list(items) == [f"q{k}" for k in range(1, len(items) + 1)]
    assert set(KEYS[hw]) == set(items)
    assert module["points"] == len(items)
    check_quiz_form(KEYS[hw], items.values())  # the key itself is well formed
    notebook = Assignment.named(hw).notebook.read_text()
    for item_id, item in items.items():
        assert f"**{item_id}**" in notebook, f"{hw}: {item_id} is not asked in the notebook"
        heading = item.section.split(":")[0]
        assert f"# {heading}" in notebook, f"{hw}: {item_id} names no heading ({heading!r})"


@pytest.mark.parametrize("hw", HWS)
def test_quiz_partial_credit_per_item_and_blank_zero(hw):
    right = run_question(hw, "quiz", make_env(hw, quiz_answers=dict(KEYS[hw])))
    assert right.grade == 1.0
    assert run_question(hw, "quiz", make_env(hw, "stub")).score == 0
    wrong = dict(KEYS[hw])
    items = _items(hw)["ITEMS"]
    for item_id in ("q1", "q2"):
        item = items[item_id]
        wrong[item_id] = ("a" if KEYS[hw][item_id] != "a" else "b") if item.choices \
            else -1.0 - 2 * float(KEYS[hw][item_id])
    graded = run_question(hw, "quiz", make_env(hw, quiz_answers=wrong))
    assert graded.score == graded.possible - 2
    messages = failures(graded)
    assert len(messages) == 2
    for message, item_id in zip(messages, ("q1", "q2"), strict=True):
        assert item_id in message and items[item_id].section in message
        value = KEYS[hw][item_id]
        shown = (repr(value), f'"{value}"') if isinstance(value, str) else (str(value),)
        assert not any(text in message for text in shown), message


def test_quiz_form_check_says_what_is_wrong_and_never_the_answer():
    items = [choice("q1", "Part 1"), number("q2", "Part 2")]
    for answers, text in [
        ({"q1": "b"}, "q2 is missing"),
        ({"q1": None, "q2": 1.0}, "q1 is not answered yet"),
        ({"q1": "f", "q2": 1.0}, 'one letter of "abcd"'),
        ({"q1": "b", "q2": float("nan")}, "finite number"),
        ({"q1": "b", "q2": True}, "finite number"),
        ({"q1": "b", "q2": [1.0]}, "finite number"),
        ({"q1": "b", "q2": 1.0, "q9": 1}, "unknown keys"),
        (["b", 1.0], "must be a dict"),
    ]:
        with pytest.raises(AssertionError, match=re.escape(text)):
            check_quiz_form(answers, items)
    check_quiz_form({"q1": " B ", "q2": "0.5"}, items)  # case, spaces, a numeric string
    check_quiz_form({"q1": "b", "q2": np.float64(0.5)}, items)  # computed with numpy
    check_quiz_form({"q1": "b", "q2": np.array(0.5)}, items)


def test_quiz_is_not_fooled_by_objects_that_claim_to_be_right():
    class Always(str):
        def __eq__(self, other):
            return True

        def strip(self, *args):
            return self

        def lower(self):
            return self

    class Close(float):
        def __sub__(self, other):
            return 0.0

    class Yes(dict):
        def __getitem__(self, key):
            return Always("a")

    with pytest.raises(AssertionError, match="not right yet|must be"):
        check_quiz_item({"q1": Always("z")}, choice("q1", "Part 1"), "c")
    with pytest.raises(AssertionError, match="finite number"):
        check_quiz_item({"q2": Close(99.0)}, number("q2", "Part 2"), 0.5)
    with pytest.raises(AssertionError, match="must be a dict"):
        check_quiz_item(Yes(q1="a"), choice("q1", "Part 1"), "c")


def test_quiz_item_tolerance_and_letters():
    item = number("q1", "Part 1", rtol=1e-2)
    check_quiz_item({"q1": -1.88}, item, -1.8845)
    with pytest.raises(AssertionError, match="not right yet"):
        check_quiz_item({"q1": -1.8}, item, -1.8845)
    near_zero = number("q2", "Part 2", atol=1e-6)
    check_quiz_item({"q2": 5e-7}, near_zero, 0.0)
    check_quiz_item({"q3": "(C)"}, choice("q3", "Part 3"), "c")
    with pytest.raises(AssertionError, match=r"Reread \"Part 3\""):
        check_quiz_item({"q3": "d"}, choice("q3", "Part 3"), "c")
    with pytest.raises(ValueError):
        choice("q4", "Part 4", choices="xyz")


@pytest.mark.parametrize("hw", HWS)
def test_quiz_key_is_not_in_the_student_release(hw, tmp_path):
    release = build(Assignment.named(hw), tmp_path / hw)
    student_quiz = (release.student_dir / "tests" / "quiz.py").read_text()
    assert "from solutions" not in student_quiz and "hidden=True" not in student_quiz
    texts = [p.read_text(errors="ignore") for p in release.student_dir.rglob("*")
             if p.is_file() and p.suffix in (".py", ".ipynb")]
    for key, value in KEYS[hw].items():
        for text in texts:
            assert f'"{key}": {value!r}' not in text and f'\\"{key}\\": {value!r}' not in text
            assert f'"{key}": "{value}"' not in text and f'\\"{key}\\": \\"{value}\\"' not in text


# ---- the documents' worked examples ----------------------------------------------------------


@pytest.mark.parametrize("hw", HWS)
def test_worked_examples_run_and_check_their_numbers_on_the_reference(hw):
    nb = nbformat.read(Assignment.named(hw).notebook, as_version=4)
    cells = [c for c in nb.cells if "worked_example" in c.metadata.get("tags", [])]
    assert cells, f"{hw} has no worked example"
    env = make_env(hw)
    for cell in cells:
        exec(compile(cell.source, f"<{hw} {cell.id}>", "exec"), env)  # asserts inside


@pytest.mark.hw1
def test_a_worked_example_fails_on_a_wrong_block():
    nb = nbformat.read(Assignment.named("hw1").notebook, as_version=4)
    cell = next(c for c in nb.cells if c.id == "worked-neuron")

    class WrongSigmoid(hw1.Sigmoid):
        @staticmethod
        def backward(dout, cache):
            return (-dout * cache * (1 - cache),)

    with pytest.raises(AssertionError):
        exec(compile(cell.source, "<neuron>", "exec"), make_env("hw1", Sigmoid=WrongSigmoid))


# ---- rendering to HTML -----------------------------------------------------------------------

RAW_TEXT_UNDERSCORE = re.compile(r"\\text\{[^}]*\\_[^}]*\}")
TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")


def _tables(markdown: str) -> list[list[str]]:
    """The markdown tables of a cell: lists of consecutive ``| ... |`` lines."""
    tables, current = [], []
    for line in markdown.splitlines() + [""]:
        if TABLE_ROW.match(line):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables


def _cells(row: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def rendering_problems(nb) -> list[str]:
    """Raw ``\\text{.._..}`` (a backslash under MathJax), math in table cells (breaks HTML/PDF
    exports), and tables that do not parse (uneven rows, no separator, no <table> in HTML)."""
    problems = []
    n_tables = 0
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for match in RAW_TEXT_UNDERSCORE.finditer(cell.source):
            problems.append(f"{cell.id}: raw {match.group(0)} shows a backslash under MathJax")
        for table in _tables(cell.source):
            n_tables += 1
            widths = {len(_cells(row)) for row in table}
            if len(table) < 2 or not re.fullmatch(r"[\s|:-]+", table[1]) or len(widths) != 1:
                problems.append(f"{cell.id}: broken table starting {table[0][:40]!r}")
            for row in table:
                if "$" in row:
                    problems.append(f"{cell.id}: math in a table cell: {row[:60]!r}")
    html, _ = HTMLExporter(template_name="classic").from_notebook_node(nb)
    if html.count("<table") < n_tables:
        problems.append(f"{n_tables} markdown tables but {html.count('<table')} HTML tables")
    return problems


@pytest.mark.parametrize("hw", HWS)
def test_notebooks_render_to_html_without_raw_tex_or_broken_tables(hw):
    assignment = Assignment.named(hw)
    nb = render(nbformat.read(assignment.notebook, as_version=4), assignment, "reference")
    assert rendering_problems(nb) == []


def test_the_rendering_check_catches_each_planted_problem():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(r"$$\text{max\_norm}$$", id="a"),
        nbformat.v4.new_markdown_cell("| a | b |\n|---|---|\n| $x^2$ | 2 |", id="b"),
        nbformat.v4.new_markdown_cell("| a | b |\n|---|---|\n| 1 | 2 | 3 |", id="c"),
    ]
    problems = rendering_problems(nb)
    assert any("raw" in p for p in problems)
    assert any("math in a table cell" in p for p in problems)
    assert any("broken table" in p for p in problems)
    nb.cells = [nbformat.v4.new_markdown_cell("| a | b |\n|---|---|\n| `x` | 2 |", id="d")]
    assert rendering_problems(nb) == []


def test_every_generated_quiz_cell_is_a_define_and_check_pair():
    for hw in HWS:
        nb = nbformat.read(Assignment.named(hw).notebook, as_version=4)
        roles = [cell_role(c) for c in nb.cells]
        i = roles.index({"define": "quiz_answers"})
        assert roles[i + 1] == {"check": "quiz"}
        stub = nb.cells[i].source
        assert "None" in stub and all(f'"{k}": None' in stub for k in KEYS[hw])


def test_test_names_keep_the_underscores_of_graded_names_and_messages_one_prefix():
    from bplab.definitions import load_definitions
    from bplab_checks.diagnose import explain

    names = set()
    for hw in HWS:
        names |= {n for n in load_definitions(ROOT / "solutions" / f"{hw}.py") if "_" in n}
    case_names = []
    for path in (ROOT / "autograder").glob("hw*/*.py"):
        case_names += re.findall(r'test_case\(name="([^"]+)"', path.read_text())
    assert case_names
    for case in case_names:
        for graded in names:
            assert graded.replace("_", " ") not in case, f"{case!r} spells {graded} with spaces"
    sentence = explain("wrong_dtype", block="linreg_loss_and_grad",
                       what="linreg_loss_and_grad: dtheta", dtype="float32")
    assert sentence.count("linreg_loss_and_grad") == 1, sentence


def test_answers_dict_definitions_stub_every_key_and_refuse_bad_fences():
    from bplab.definitions import FenceError, parse_definitions

    good = ('PLAIN = {"a": 1}\n\nanswers = {\n    # BEGIN SOLUTION\n    "q1": "b",\n'
            '    "q2": 2.5,\n    # END SOLUTION\n}\n')
    defs = parse_definitions(good)
    assert list(defs) == ["answers"]  # an unfenced dict is not graded
    assert defs["answers"].stub.splitlines() == [
        "answers = {", "    # YOUR CODE HERE", '    "q1": None,', '    "q2": None,', "}"]
    assert '"q1": "b",' in defs["answers"].reference
    assert defs["answers"].solution_lines() == ['    "q1": "b",', '    "q2": 2.5,']
    for bad in (good.replace("    # END SOLUTION\n", ""),
                good.replace('"q2"', "2"),
                good.replace("    # END SOLUTION", "  # END SOLUTION")):
        with pytest.raises(FenceError):
            parse_definitions(bad)
