"""A generated hw1 class for the similarity tests and benchmark (task: similarity, issue 18).

Every graded fence of ``solutions/hw1.py`` has three independent ways of writing it (VARIANTS;
a fence without variants, such as the quiz's answers, is the reference for everyone);
an independent student picks one per fence at random, with comments and blank lines of their
own. Planted bugs (BUGS) replace one fence by a wrong body and give the diagnosis code the
grader would. Copies (``renamed_copy``, ``copy_with_bug``) start from another student's code.
``write_class`` writes the notebooks and a grading folder as ``bplab grade --out`` would
(grades.csv, results/<stem>.json with ``extra_data.bplab.diagnoses``); no grading runs.
"""

from __future__ import annotations

import copy
import csv
import functools
import json
import random
import re
from pathlib import Path

from bplab import notebook
from bplab.definitions import load_definitions
from bplab.layout import Assignment, GradingDir

HW1 = Assignment.named("hw1")

# (definition, fence index) -> three independent bodies (indentation added when filled in)
VARIANTS: dict[tuple[str, int], list[str]] = {
    ("dsin_x2", 0): ["return 2 * x * np.cos(x**2)",
                     "return np.cos(x ** 2) * (2 * x)",
                     "u = x * x\ndu = 2 * x\nreturn np.cos(u) * du"],
    ("dcube", 0): ["return 6 * x * (x**2 + 1) ** 2",
                   "inner = x**2 + 1\nreturn 3 * inner**2 * 2 * x",
                   "u = x * x + 1\nreturn 6 * x * u * u"],
    ("grad_square_sum", 0): ["d = 2 * (x + y)\nreturn d, d",
                             "s = x + y\nreturn 2 * s, 2 * s",
                             "g = 2 * x + 2 * y\ngx = g\ngy = g\nreturn gx, gy"],
    ("numerical_gradient", 0): [
        "x = np.array(x, dtype=np.float64)\ngrad = np.zeros_like(x)\n"
        "for i in np.ndindex(x.shape):\n    old = x[i]\n    x[i] = old + h\n"
        "    f_plus = float(f(x.copy()))\n    x[i] = old - h\n    f_minus = float(f(x.copy()))\n"
        "    x[i] = old\n    grad[i] = (f_plus - f_minus) / (2 * h)\nreturn grad",
        "x = np.array(x, dtype=float)\ngrad = np.zeros(x.shape)\nflat = x.reshape(-1)\n"
        "g = grad.reshape(-1)\nfor k in range(flat.size):\n    saved = flat[k]\n"
        "    flat[k] = saved + h\n    up = float(f(x.copy()))\n    flat[k] = saved - h\n"
        "    down = float(f(x.copy()))\n    flat[k] = saved\n    g[k] = (up - down) / (2 * h)\n"
        "return grad",
        "x = np.array(x, dtype=np.float64)\nout = np.zeros_like(x)\n"
        "it = np.nditer(x, flags=['multi_index'])\nwhile not it.finished:\n"
        "    idx = it.multi_index\n    step = np.zeros_like(x)\n    step[idx] = h\n"
        "    out[idx] = (float(f(x + step)) - float(f(x - step))) / (2 * h)\n"
        "    it.iternext()\nreturn out"],
    ("MatMul", 0): ["out = A @ B\ncache = (A, B)\nreturn out, cache",
                    "return np.dot(A, B), (A, B)",
                    "C = np.matmul(A, B)\nreturn C, (A.copy(), B.copy())"],
    ("MatMul", 1): ["A, B = cache\ndA = dout @ B.T\ndB = A.T @ dout\nreturn dA, dB",
                    "A, B = cache\nreturn dout @ B.T, A.T @ dout",
                    "A, B = cache\ndA = np.dot(dout, B.T)\ndB = np.dot(A.T, dout)\nreturn dA, dB"],
    ("Subtract", 0): ["return A - B, None",
                      "out = A - B\nreturn out, None",
                      "return np.subtract(A, B), ()"],
    ("Subtract", 1): ["return dout.copy(), -dout",
                      "dA = dout.copy()\ndB = -1.0 * dout\nreturn dA, dB",
                      "return np.array(dout, copy=True), np.negative(dout)"],
    ("Square", 0): ["return X**2, X", "out = X * X\nreturn out, X",
                    "return np.square(X), X.copy()"],
    ("Square", 1): ["X = cache\nreturn (2 * X * dout,)", "return (dout * 2 * cache,)",
                    "X = cache\ndX = 2.0 * X\ndX = dX * dout\nreturn (dX,)"],
    ("Sum", 0): ["return float(np.sum(X)), X.shape",
                 "total = X.sum()\nreturn float(total), X.shape",
                 "return float(np.add.reduce(X, axis=None)), np.shape(X)"],
    ("Sum", 1): ["shape = cache\nreturn (np.full(shape, float(dout)),)",
                 "return (np.ones(cache) * dout,)",
                 "dX = np.empty(cache)\ndX.fill(float(dout))\nreturn (dX,)"],
    ("Sigmoid", 0): [
        "e = np.exp(-np.abs(X))\nout = np.where(X >= 0, 1 / (1 + e), e / (1 + e))\n"
        "return out, out",
        "out = np.empty_like(X, dtype=float)\npos = X >= 0\nout[pos] = 1 / (1 + np.exp(-X[pos]))\n"
        "ez = np.exp(X[~pos])\nout[~pos] = ez / (1 + ez)\nreturn out, out",
        "s = 0.5 * (1 + np.tanh(0.5 * X))\nreturn s, s"],
    ("Sigmoid", 1): ["s = cache\nreturn (dout * s * (1 - s),)",
                     "return (dout * cache * (1.0 - cache),)",
                     "s = cache\nlocal = s - s**2\nreturn (local * dout,)"],
    ("ReLU", 0): ["return np.maximum(X, 0), X > 0",
                  "mask = X > 0\nreturn X * mask, mask",
                  "out = np.where(X > 0, X, 0.0)\nreturn out, (X > 0)"],
    ("ReLU", 1): ["mask = cache\nreturn (dout * mask,)",
                  "return (np.where(cache, dout, 0.0),)",
                  "dX = dout.copy()\ndX[~cache] = 0\nreturn (dX,)"],
    ("Multiply", 0): ["return A * B, (A, B)", "out = A * B\nreturn out, (A, B)",
                      "return np.multiply(A, B), (A.copy(), B.copy())"],
    ("Multiply", 1): ["A, B = cache\nreturn dout * B, dout * A",
                      "A, B = cache\ndA = dout * B\ndB = dout * A\nreturn dA, dB",
                      "return dout * cache[1], dout * cache[0]"],
    ("fan_out_grad", 0): [
        "q, c_sub = Subtract.forward(x, y)\np, c_mul = Multiply.forward(q, x)\n"
        "f, c_sum = Sum.forward(p)\n\n(dp,) = Sum.backward(1.0, c_sum)\n"
        "dq, dx_direct = Multiply.backward(dp, c_mul)\n"
        "dx_through_q, dy = Subtract.backward(dq, c_sub)\ndx = dx_direct + dx_through_q\n"
        "return float(f), dx, dy",
        "diff, c1 = Subtract.forward(x, y)\nprod, c2 = Multiply.forward(diff, x)\n"
        "total, c3 = Sum.forward(prod)\ng = Sum.backward(1.0, c3)[0]\n"
        "g_diff, g_x1 = Multiply.backward(g, c2)\ng_x2, g_y = Subtract.backward(g_diff, c1)\n"
        "return float(total), g_x1 + g_x2, g_y",
        "f = float(np.sum((x - y) * x))\ndx = 2 * x - y\ndy = -x\nreturn f, dx, dy"],
    ("linreg_loss_and_grad", 0): [
        "mu, c_mm = MatMul.forward(X, theta)\ndelta, c_sub = Subtract.forward(mu, Y)\n"
        "sq, c_sq = Square.forward(delta)\nloss, c_sum = Sum.forward(sq)\n\n"
        "(dsq,) = Sum.backward(1.0, c_sum)\n(ddelta,) = Square.backward(dsq, c_sq)\n"
        "dmu, _ = Subtract.backward(ddelta, c_sub)\n_, dtheta = MatMul.backward(dmu, c_mm)\n"
        "return float(loss), dtheta",
        "caches = []\npred, c = MatMul.forward(X, theta)\ncaches.append(c)\n"
        "r, c = Subtract.forward(pred, Y)\ncaches.append(c)\ns, c = Square.forward(r)\n"
        "caches.append(c)\ntotal, c = Sum.forward(s)\ncaches.append(c)\ng = 1.0\n"
        "g = Sum.backward(g, caches[3])[0]\ng = Square.backward(g, caches[2])[0]\n"
        "g = Subtract.backward(g, caches[1])[0]\ng = MatMul.backward(g, caches[0])[1]\n"
        "return float(total), g",
        "residual = MatMul.forward(X, theta)[0] - Y\nloss = float(np.sum(residual ** 2))\n"
        "grad = MatMul.backward(2 * residual, (X, theta))[1]\nreturn loss, grad"],
    ("fit_linreg", 0): [
        "theta = np.random.default_rng(seed).standard_normal((X.shape[1], 1))\nlosses = []\n"
        "for _ in range(n_steps):\n    loss, g = linreg_loss_and_grad(theta, X, Y)\n"
        "    losses.append(loss)\n    theta = theta - lr * g\nreturn theta, losses",
        "rng = np.random.default_rng(seed)\ntheta = rng.standard_normal((X.shape[1], 1))\n"
        "history = []\nstep = 0\nwhile step < n_steps:\n"
        "    value, grad = linreg_loss_and_grad(theta, X, Y)\n    history.append(value)\n"
        "    theta -= lr * grad\n    step += 1\nreturn theta, history",
        "theta = np.random.default_rng(seed).standard_normal(size=(X.shape[1], 1))\n"
        "losses = [0.0] * n_steps\nfor i in range(n_steps):\n"
        "    losses[i], g = linreg_loss_and_grad(theta, X, Y)\n    theta = theta + (-lr) * g\n"
        "return theta, losses"],
}

# name -> (fence index, wrong body, question, diagnosis code the grader gives)
BUGS: dict[str, tuple[str, int, str, str, str]] = {
    "matmul_db_transposed": ("MatMul", 1, "A, B = cache\nreturn dout @ B.T, dout.T @ A",
                             "MatMul", "transposed"),
    "sigmoid_sign": ("Sigmoid", 1, "s = cache\nreturn (-dout * s * (1 - s),)", "Sigmoid",
                     "wrong_sign"),
    "sum_ignores_dout": ("Sum", 1, "return (np.ones(cache),)", "Sum", "upstream_ignored"),
    "relu_at_zero": ("ReLU", 0, "return np.maximum(X, 0), X >= 0", "ReLU", "relu_at_zero"),
    "square_factor": ("Square", 1, "X = cache\nreturn (X * dout,)", "Square",
                      "missing_factor_2"),
    "subtract_sign": ("Subtract", 1, "return dout.copy(), dout.copy()", "Subtract",
                      "wrong_sign"),
}
_COMMENTS = ["# forward pass", "# TODO tidy", "# chain rule", "# see lecture 3", "# works"]


class Student:
    """One generated student: a body per fence and the diagnoses the grader would give."""

    def __init__(self, bodies: dict[tuple[str, int], str], diagnoses: dict[str, list[str]]):
        self.bodies = dict(bodies)
        self.diagnoses = {q: list(c) for q, c in diagnoses.items()}

    def with_bug(self, bug: str) -> Student:
        name, fence, body, question, code = BUGS[bug]
        out = Student(self.bodies, self.diagnoses)
        out.bodies[(name, fence)] = body
        out.diagnoses.setdefault(question, []).append(code)
        return out


def independent(rng: random.Random) -> Student:
    """Each fence written one of three ways, with the student's own comments and blank lines."""
    bodies = {}
    for key, options in VARIANTS.items():
        lines = rng.choice(options).split("\n")
        if rng.random() < 0.3:
            lines.insert(rng.randrange(len(lines)), rng.choice(_COMMENTS))
        bodies[key] = "\n".join(lines)
    return Student(bodies, {})


_RENAME = {"out": "result", "cache": "stash", "dA": "grad_left", "dB": "grad_right",
           "grad": "gradient", "mask": "keep", "theta": "weights", "losses": "curve",
           "loss": "value", "s": "sig", "d": "twice", "u": "inner_sq", "g": "grd"}


def renamed_copy(original: Student) -> Student:
    """The same code with its variables renamed, comments added and spacing changed."""
    pattern = re.compile(r"(?<![.\w])(" + "|".join(map(re.escape, _RENAME)) + r")\b")
    bodies = {}
    for key, body in original.bodies.items():
        lines = []
        for line in body.split("\n"):
            line = pattern.sub(lambda m: _RENAME[m.group(1)], line)
            lines += [line.replace(" = ", "  =  "), ""]
        bodies[key] = "# my own work\n" + "\n".join(lines)
    return Student(bodies, original.diagnoses)


@functools.cache
def _definitions() -> dict:
    return load_definitions(HW1.solution)


def fill(name: str, bodies: dict[tuple[str, int], str]) -> str:
    """The definition ``name`` of hw1 with each fenced region replaced by the student's body."""
    definition = _definitions()[name]
    out, i = [], 0
    for k, fence in enumerate(definition.fences):
        out.extend(definition.lines[i:fence.begin])
        if (name, k) in bodies:
            out += [fence.indent + line if line else "" for line in bodies[(name, k)].split("\n")]
        else:  # no variants (the quiz's answers dict): everyone writes the reference
            out.extend(definition.lines[fence.begin + 1:fence.end])
        i = fence.end + 1
    out.extend(definition.lines[i:])
    return "\n".join(out)


@functools.cache
def _released() -> notebook.NotebookNode:
    return notebook.render(notebook.read(HW1.notebook), HW1, "stub")


def notebook_text(student: Student) -> str:
    """The released hw1 notebook with each graded cell holding the student's code."""
    nb = copy.deepcopy(_released())
    for cell in nb.cells:
        name = notebook.cell_role(cell).get("define")
        if name:
            cell.source = fill(name, student.bodies)
    return notebook.dumps(nb)


def independents(n: int, seed: int = 0) -> dict[str, Student]:
    """``n`` independent correct students, ``ind000`` ... (seeded)."""
    rng = random.Random(seed)
    return {f"ind{i:03d}": independent(rng) for i in range(n)}


def make_class(n_independent: int = 27, seed: int = 0) -> tuple[dict[str, Student], set]:
    """``(students by stem, copy pairs)``: independents (some with planted bugs, two sharing
    one bug), a renamed-and-commented copy, a copy with one bug added, a copy of a buggy one."""
    students = independents(n_independent, seed)
    bugs = list(BUGS)
    for k, bug in enumerate([*bugs, "square_factor"]):  # two independents share one bug
        stem = f"ind{n_independent - 1 - k:03d}"
        students[stem] = students[stem].with_bug(bug)
    buggy = f"ind{n_independent - 1:03d}"  # has bugs[0]
    students["copy_renamed"] = renamed_copy(students["ind000"])
    students["copy_plus_bug"] = students["ind001"].with_bug("sigmoid_sign")
    students["copy_of_buggy"] = Student(students[buggy].bodies, students[buggy].diagnoses)
    pairs = {("ind000", "copy_renamed"), ("ind001", "copy_plus_bug"), (buggy, "copy_of_buggy")}
    return students, pairs


def write_class(root: Path, students: dict[str, Student]) -> tuple[Path, Path]:
    """Write ``root/subs/<stem>.ipynb`` and a grading folder ``root/out``; both paths."""
    subs, out = root / "subs", GradingDir(root / "out")
    out.make_dirs()
    subs.mkdir(parents=True)
    with open(out.grades_csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(GradingDir.GRADES_COLUMNS)
        for stem, s in students.items():
            (subs / f"{stem}.ipynb").write_text(notebook_text(s), encoding="utf-8")
            w.writerow([stem, "graded", 10, 29])
            results = {"score": 10, "tests": [], "extra_data": {"bplab": {
                "status": "graded", "reason": "", "diagnoses": s.diagnoses}}}
            out.results(stem).write_text(json.dumps(results))
    return subs, out.root
