"""Grades that cannot be gamed: a junk answer scores exactly 0 on its question.

Junk is code that computes nothing right: zeros, ones or random values of the right shapes,
its inputs (or ``dout``) handed back unchanged, a right forward pass with a junk backward (and
the reverse), a right value next to a junk gradient, an optimizer step that does nothing or
goes the wrong way, a schedule stuck at its first value, a clip that returns its input.
Every case of a question's test file must look at the values it computed, so none of these
gets a single point (the reference's full marks: tests/test_question_files.py; the correct
variants': tests/test_bug_bank.py, in the same environments).

Junk is generated from the reference: calling it gives the shapes and the structure
(tuples, dicts, lists) that a junk answer fills with junk leaves.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest
from checks_env import ALL_QUESTIONS, make_env, question_file, run_question

from solutions import hw1, hw2

REFERENCE = {"hw1": hw1, "hw2": hw2}
QUESTIONS = [(hw, q) for hw, q in ALL_QUESTIONS if hw in REFERENCE]
# The graded definitions of each question (the question's own name when it is one).
NAMES = {
    "chain_rule": ("dsin_x2", "dcube", "grad_square_sum"),
    "two_layer_loss": ("init_two_layer", "two_layer_loss", "two_layer_predict"),
    "lr_schedules": ("step_decay", "exponential_decay", "cosine_annealing", "linear_warmup"),
}


# --------------------------------------------------------------------------- junk leaves


def _rng() -> np.random.Generator:
    return np.random.default_rng(20240)


RNG = _rng()  # the random junk's values (one stream, so no two calls agree)


def _zeros(value, args):
    return np.zeros_like(np.asarray(value, dtype=np.float64))


def _ones(value, args):
    return np.ones_like(np.asarray(value, dtype=np.float64))


def _random(value, args):
    return RNG.standard_normal(np.shape(value))


def _passthrough(value, args):
    """The first argument with the value's shape (an input handed back), else zeros."""
    for arg in args:
        if isinstance(arg, np.ndarray | float | int) and np.shape(arg) == np.shape(value):
            return np.array(arg, dtype=np.float64)
    return _zeros(value, args)


def _scalar_leaf(leaf):
    def junk(value, args):
        out = leaf(value, args)
        return float(out) if np.ndim(value) == 0 and not isinstance(value, np.ndarray) else out

    return junk


LEAVES = {
    "zeros": _scalar_leaf(_zeros),
    "ones": _scalar_leaf(_ones),
    "random": _scalar_leaf(_random),
    "inputs": _scalar_leaf(_passthrough),
}


def _fill(value, leaf, args):
    """``value``'s structure (tuple, list, dict) with every number or array replaced by junk."""
    if isinstance(value, dict):
        return {k: _fill(v, leaf, args) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return type(value)(_fill(v, leaf, args) for v in value)
    return leaf(value, args)


def _copies(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


# --------------------------------------------------------------------------- junk functions


def _junk_function(reference, leaf, keep: int | None = None):
    """A function returning the reference's structure filled with junk leaves; ``keep`` is the
    index of one output of a tuple result left right (a right value next to junk ones)."""

    def junk(*args, **kwargs):
        expected = reference(*_copies(args), **kwargs)
        out = _fill(expected, leaf, args)
        if keep is not None:
            pairs = enumerate(zip(expected, out, strict=True))
            out = type(out)(e if k == keep else o for k, (e, o) in pairs)
        return out

    junk.__name__ = reference.__name__
    return junk


# Functions returning a pair (a value and its gradient, theta and losses, clipped and norm).
PAIRS = {"linreg_loss_and_grad", "fit_linreg", "mse_loss", "bce_loss", "softmax_cross_entropy",
         "clip_grad_norm"}
# ... of which a value and its gradient.
GRADIENT_PAIRS = {"linreg_loss_and_grad", "mse_loss", "bce_loss", "softmax_cross_entropy"}


def _dishonest_function(reference):
    """Right at the first arguments it sees, the same answer for any other arguments; a
    gradient next to it is zeros (consistent with a constant value)."""
    seen = []

    def dishonest(*args, **kwargs):
        if not seen:
            seen.append(reference(*_copies(args), **kwargs))
        first = seen[0]
        return first[0], np.zeros_like(np.asarray(first[1], dtype=np.float64))

    dishonest.__name__ = reference.__name__
    return dishonest


def _function_junk(reference) -> dict:
    variants = {name: _junk_function(reference, leaf) for name, leaf in LEAVES.items()}
    if reference.__name__ in GRADIENT_PAIRS:
        variants["right once then constant"] = _dishonest_function(reference)
    if reference.__name__ in PAIRS:
        for keep in range(2):
            for name in ("zeros", "random"):
                variants[f"output {keep} right, others {name}"] = _junk_function(
                    reference, LEAVES[name], keep
                )
    return variants


# --------------------------------------------------------------------------- junk blocks


def _named_like(reference, cls):
    """``cls`` with the reference's name and its constants (e.g. LeakyReLU.ALPHA)."""
    for attr, value in vars(reference).items():
        if attr.isupper():
            setattr(cls, attr, value)
    cls.__name__ = reference.__name__
    return cls


def _junk_block(reference, forward_leaf=None, backward_leaf=None, backward_dout=False):
    """A block whose forward is the reference's (``forward_leaf`` None) or junk, and whose
    backward is the reference's (``backward_leaf`` None and not ``backward_dout``), junk
    leaves shaped like the inputs, or ``dout`` handed back for every input."""

    class Junk:
        @staticmethod
        def forward(*xs):
            out, cache = reference.forward(*_copies(xs))
            if forward_leaf is not None:
                out = _fill(out, forward_leaf, xs)
            return out, ([np.shape(x) for x in xs], cache)

        @staticmethod
        def backward(dout, cache):
            shapes, ref_cache = cache
            if backward_dout:
                return tuple(dout for _ in shapes)
            if backward_leaf is None:
                return reference.backward(dout, ref_cache)
            return tuple(backward_leaf(np.zeros(s), (dout,)) for s in shapes)

    return _named_like(reference, Junk)


def _block_junk(reference) -> dict:
    variants = {}
    for name, leaf in LEAVES.items():
        variants[f"forward {name}, backward {name}"] = _junk_block(reference, leaf, leaf)
        variants[f"right forward, backward {name}"] = _junk_block(reference, None, leaf)
        variants[f"forward {name}, right backward"] = _junk_block(reference, leaf, None)
    variants["forward inputs, backward dout"] = _junk_block(reference, LEAVES["inputs"],
                                                             backward_dout=True)
    variants["right forward, backward dout"] = _junk_block(reference, None, backward_dout=True)
    variants["forward right once then constant, backward zeros"] = _dishonest_block(reference)
    variants["backward zeroes dout in place and returns it"] = _dout_zeroing_block(reference, True)
    variants["backward zeroes dout in place, returns zeros"] = _dout_zeroing_block(reference, False)
    return variants


def _dishonest_block(reference):
    """A forward right at the first input it sees and constant afterwards (so central
    differences of it are 0), with a backward of zeros: consistent with itself, right nowhere."""

    class Dishonest:
        first = None

        @staticmethod
        def forward(*xs):
            if Dishonest.first is None:
                Dishonest.first = reference.forward(*_copies(xs))[0]
            return np.array(Dishonest.first), [np.shape(x) for x in xs]

        @staticmethod
        def backward(dout, cache):
            return tuple(np.zeros(s) for s in cache)

    return _named_like(reference, Dishonest)


def _dout_zeroing_block(reference, return_dout: bool):
    """A right forward and a backward that zeroes the caller's dout in place, then returns it
    (for every input of its shape) or zeros: the grader's own dout must not be the one used."""

    class Zeroing:
        @staticmethod
        def forward(*xs):
            return reference.forward(*_copies(xs))[0], [np.shape(x) for x in xs]

        @staticmethod
        def backward(dout, cache):
            if np.ndim(dout):
                dout[...] = 0.0
            if return_dout:
                return tuple(dout if np.shape(dout) == s else np.zeros(s) for s in cache)
            return tuple(np.zeros(s) for s in cache)

    return _named_like(reference, Zeroing)


# --------------------------------------------------------------------------- junk optimizers


def _junk_optimizer(update):
    class Junk:
        def __init__(self, lr=1e-3, *args, **kwargs):
            self.lr = lr
            self.rng = _rng()

        def step(self, params, grads):
            for key in params:
                update(self, params, key, grads[key])

    return Junk


def _set(params, key, value):
    params[key][...] = value


OPTIMIZER_JUNK = {
    "does nothing": lambda self, p, k, g: None,
    "wrong sign": lambda self, p, k, g: _set(p, k, p[k] + self.lr * g),
    "sets zeros": lambda self, p, k, g: _set(p, k, 0.0),
    "sets random values": lambda self, p, k, g: _set(p, k, self.rng.standard_normal(g.shape)),
    "ignores lr": lambda self, p, k, g: _set(p, k, p[k] - g),
    "steps by lr * sign(g)": lambda self, p, k, g: _set(p, k, p[k] - self.lr * np.sign(g)),
    "steps by a tiny constant against g": lambda self, p, k, g: _set(p, k, p[k] - 1e-9 * g),
}


# --------------------------------------------------------------------------- per question


def _all_junk(hw: str, question: str) -> dict:
    """For a question of several functions: each variant makes all of them junk the same way
    (one right function would rightly earn its own cases)."""
    refs = {n: getattr(REFERENCE[hw], n) for n in NAMES[question]}
    return {
        name: {n: _junk_function(r, leaf) for n, r in refs.items()} for name, leaf in LEAVES.items()
    }


def _schedule_junk() -> dict:
    variants = _all_junk("hw2", "lr_schedules")
    variants["stuck at the first value"] = {
        "step_decay": lambda lr0, gamma, step_size, t: lr0,
        "exponential_decay": lambda lr0, gamma, t: lr0,
        "cosine_annealing": lambda t, T_max, lr_max, lr_min=0.0: lr_max,
        "linear_warmup": lambda t, T_warmup, lr_target: lr_target,
    }
    return variants


def _clip_junk() -> dict:
    def total(grads):
        return float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))

    variants = {n: {"clip_grad_norm": f} for n, f in _function_junk(hw2.clip_grad_norm).items()}
    variants["returns the input dict"] = {
        "clip_grad_norm": lambda grads, max_norm: (grads, total(grads))
    }
    variants["returns an unclipped copy"] = {
        "clip_grad_norm": lambda grads, max_norm: ({k: g.copy() for k, g in grads.items()},
                                                   total(grads))
    }
    variants["always scales to max_norm"] = {
        "clip_grad_norm": lambda grads, max_norm: (
            {k: g * max_norm / total(grads) for k, g in grads.items()}, total(grads))
    }
    return variants


def _numerical_gradient_junk() -> dict:
    ref = hw1.numerical_gradient
    variants = {name: {"numerical_gradient": f} for name, f in _function_junk(ref).items()}
    variants["f(x) everywhere"] = {
        "numerical_gradient": lambda f, x, h=1e-5: np.full(np.shape(x), float(f(x.copy())))
    }
    return variants


def _train_junk() -> dict:
    def init(X, hidden, seed):
        return hw2.init_two_layer(X.shape[1], hidden, seed)

    def flat_history(X, y, hidden, optimizer, epochs, batch_size, seed=0):
        return init(X, hidden, seed), [0.0] * epochs

    def fake_history(X, y, hidden, optimizer, epochs, batch_size, seed=0):
        return init(X, hidden, seed), [1.0 / (e + 1) for e in range(epochs)]

    def true_loss_history(X, y, hidden, optimizer, epochs, batch_size, seed=0):
        params = init(X, hidden, seed)
        return params, [hw2.two_layer_loss(params, X, y)[0]] * epochs

    def zero_params(X, y, hidden, optimizer, epochs, batch_size, seed=0):
        params = {k: np.zeros_like(v) for k, v in init(X, hidden, seed).items()}
        return params, [0.5 ** e for e in range(epochs)]

    def random_params(X, y, hidden, optimizer, epochs, batch_size, seed=0):
        rng = np.random.default_rng(seed)
        params = {k: rng.standard_normal(v.shape) for k, v in init(X, hidden, seed).items()}
        return params, list(rng.random(epochs))

    def zero_history(X, y, hidden, optimizer, epochs, batch_size, seed=0):
        params, _ = hw2.train_two_layer(X, y, hidden, optimizer, epochs, batch_size, seed)
        return params, [0.0] * epochs

    def returns_init(X, y, hidden, optimizer, epochs, batch_size, seed=0):
        _, history = hw2.train_two_layer(X, y, hidden, optimizer, epochs, batch_size, seed)
        return init(X, hidden, seed), history

    junk = (flat_history, fake_history, true_loss_history, zero_params, random_params,
            zero_history, returns_init)
    return {f.__name__: {"train_two_layer": f} for f in junk}


def _chain_rule_junk() -> dict:
    variants = _all_junk("hw1", "chain_rule")
    variants["the functions instead of their derivatives"] = {
        "dsin_x2": lambda x: np.sin(x**2),
        "dcube": lambda x: (x**2 + 1) ** 3,
        "grad_square_sum": lambda x, y: ((x + y) ** 2, (x + y) ** 2),
    }
    return variants


def _two_layer_junk() -> dict:
    variants = _all_junk("hw2", "two_layer_loss")
    # A coin flip that agrees with itself: p = 0.5, its BCE log 2, nothing to learn.
    variants["coin flip"] = {
        "init_two_layer": lambda D, H, seed=0: {
            "W1": np.random.default_rng(seed).standard_normal((D, H)), "b1": np.zeros(H),
            "W2": np.random.default_rng(seed + 1).standard_normal((H, 1)), "b2": np.zeros(1)},
        "two_layer_loss": lambda params, X, y: (
            float(np.log(2)), {k: np.zeros_like(v) for k, v in params.items()}),
        "two_layer_predict": lambda params, X: np.full((X.shape[0], 1), 0.5),
    }
    # Right at the first call, the same loss afterwards with zero gradients (consistent with
    # a constant loss, if the check differenced the student's own loss).
    seen: list[float] = []

    def first_loss(params, X, y):
        if not seen:
            seen.append(hw2.two_layer_loss(params, X, y)[0])
        return seen[0], {k: np.zeros_like(v) for k, v in params.items()}

    variants["right once then constant"] = {
        "init_two_layer": lambda D, H, seed=0: {k: np.zeros_like(v) for k, v in
                                                hw2.init_two_layer(D, H, seed).items()},
        "two_layer_loss": first_loss,
        "two_layer_predict": lambda params, X: np.full((X.shape[0], 1), 0.5),
    }
    return variants


def _fan_out_junk() -> dict:
    """Multiply and fan_out_grad junk together (a right Multiply earns its own cases), and a
    fan_out_grad that returns the single-path gradients next to a junk Multiply."""
    variants = {
        name: {"Multiply": _junk_block(hw1.Multiply, leaf, leaf),
               "fan_out_grad": _junk_function(hw1.fan_out_grad, leaf)}
        for name, leaf in LEAVES.items()
    }
    variants["one path each, junk Multiply"] = {
        "Multiply": _junk_block(hw1.Multiply, LEAVES["zeros"], LEAVES["zeros"]),
        "fan_out_grad": lambda x, y: (float(np.sum((x - y) * x)), x - y, x.copy()),
    }
    return variants


def _quiz_junk(hw: str) -> dict:
    """Every letter "a" (no key item is "a") with one constant for every number."""
    items: dict[str, Any] = {}
    exec(compile(question_file(hw, "quiz").read_text(), "quiz", "exec"), items)  # noqa: S102
    return {
        f"all a, numbers {value}": {"quiz_answers": {
            k: "a" if item.choices else value for k, item in items["ITEMS"].items()}}
        for value in (0.0, 1.0, -1.0, 1e6)
    }


def junk_answers(hw: str, question: str) -> dict[str, dict]:
    """Junk variants of ``question``: name -> the definitions they replace."""
    module = REFERENCE[hw]
    if question == "lr_schedules":
        return _schedule_junk()
    if question == "clip_grad_norm":
        return _clip_junk()
    if question == "numerical_gradient":
        return _numerical_gradient_junk()
    if question == "train_two_layer":
        return _train_junk()
    if question == "chain_rule":
        return _chain_rule_junk()
    if question == "two_layer_loss":
        return _two_layer_junk()
    if question == "fan_out":
        return _fan_out_junk()
    if question == "quiz":
        return _quiz_junk(hw)
    ref = getattr(module, question)
    if inspect.isclass(ref) and hasattr(ref, "step"):
        return {k: {question: _junk_optimizer(u)} for k, u in OPTIMIZER_JUNK.items()}
    if inspect.isclass(ref):
        return {k: {question: v} for k, v in _block_junk(ref).items()}
    return {k: {question: v} for k, v in _function_junk(ref).items()}


JUNK = [
    pytest.param(hw, question, name, overrides, marks=getattr(pytest.mark, hw),
                 id=f"{hw}-{question}-{name}")
    for hw, question in QUESTIONS
    for name, overrides in junk_answers(hw, question).items()
]


@pytest.mark.parametrize(("hw", "question", "name", "overrides"), JUNK)
def test_junk_scores_zero(hw, question, name, overrides):
    result = run_question(hw, question, make_env(hw, **overrides))
    passed = [r.test_case.name for r in result.test_case_results if r.passed]
    assert result.score == 0, f"{name} got points from {passed}"


def test_junk_is_plenty_and_covers_every_question():
    per_question = {}
    for p in JUNK:
        hw, question = p.values[:2]
        per_question[(hw, question)] = per_question.get((hw, question), 0) + 1
    assert set(per_question) == set(QUESTIONS)
    assert min(per_question.values()) >= 4
    assert len(JUNK) >= 150


# --------------------------------------------------------------------------- the new value checks
# Each check that now looks at values fails, by itself, on wrong code that the rest of its case
# used to let through, and says what it checked.


class SigmoidWrongSign(hw1.Sigmoid):
    @staticmethod
    def backward(dout, cache):
        return (-dout * cache * (1 - cache),)


class ReLUZerosBackward(hw1.ReLU):
    @staticmethod
    def backward(dout, cache):
        return (np.zeros_like(dout),)


class SquareZeros:
    @staticmethod
    def forward(X):
        return np.zeros_like(X), X.shape

    @staticmethod
    def backward(dout, cache):
        return (np.zeros(cache),)


def mse_zeros(y_pred, y_true):
    return 0.0, np.zeros_like(y_pred)


def fit_linreg_loss_after_step(X, Y, lr, n_steps, seed=0):
    theta = np.random.default_rng(seed).standard_normal((X.shape[1], 1))
    losses = []
    for _ in range(n_steps):
        theta = theta - lr * hw1.linreg_loss_and_grad(theta, X, Y)[1]
        losses.append(hw1.linreg_loss_and_grad(theta, X, Y)[0])
    return theta, losses


def fit_linreg_half_steps(X, Y, lr, n_steps, seed=0):
    return hw1.fit_linreg(X, Y, lr / 2, n_steps, seed)


def init_uniform(D, H, seed=0):
    rng = np.random.default_rng(seed)
    return {"W1": rng.random((D, H)), "b1": np.zeros(H), "W2": rng.random((H, 1)),
            "b2": np.zeros(1)}


def two_layer_loss_zero(params, X, y):
    return 0.0, {k: np.zeros_like(v) for k, v in params.items()}


def two_layer_predict_logits(params, X):
    return np.maximum(X @ params["W1"] + params["b1"], 0) @ params["W2"] + params["b2"]


def train_history_times_10(X, y, hidden, optimizer, epochs, batch_size, seed=0):
    params, history = hw2.train_two_layer(X, y, hidden, optimizer, epochs, batch_size, seed)
    return params, [10 * h for h in history]


VALUE_CHECKS = [
    # (hw, question, overrides, failing case name, text of its message)
    ("hw1", "Sigmoid", {"Sigmoid": SigmoidWrongSign}, "leaves inputs dout and cache alone",
     "Sigmoid.backward on"),
    ("hw1", "ReLU", {"ReLU": ReLUZerosBackward}, "leaves inputs dout and cache alone",
     "ReLU.backward on"),
    ("hw1", "ReLU", {"ReLU": ReLUZerosBackward}, "exact zero inputs", "entries exactly 0"),
    ("hw1", "Square", {"Square": SquareZeros}, "forward and backward are consistent",
     "against its definition"),
    ("hw2", "mse_loss", {"mse_loss": mse_zeros}, "central differences", "against its definition"),
    ("hw1", "fit_linreg", {"fit_linreg": fit_linreg_loss_after_step}, "runs and decreases",
     "losses[0] is"),
    ("hw1", "fit_linreg", {"fit_linreg": fit_linreg_half_steps}, "runs and decreases",
     "(theta_0 - theta_1) / lr"),
    ("hw2", "two_layer_loss", {"init_two_layer": init_uniform}, "init has the right shapes",
     "standard deviation"),
    ("hw2", "two_layer_loss", {"two_layer_loss": two_layer_loss_zero}, "grads match central",
     "network and loss defined in the assignment"),
    ("hw2", "SGD", {"SGD": _junk_optimizer(OPTIMIZER_JUNK["ignores lr"])}, "step updates",
     "update rule of the assignment"),
    ("hw2", "Adam", {"Adam": _junk_optimizer(OPTIMIZER_JUNK["steps by lr * sign(g)"])},
     "step updates", "update rule of the assignment"),
    ("hw2", "train_two_layer", {"train_two_layer": train_history_times_10}, "train_two_layer - 1",
     "the last history entry is"),
    ("hw2", "train_two_layer", {"train_two_layer": _train_junk()["returns_init"]
                                ["train_two_layer"]}, "train_two_layer - 3",
     "not below"),
]


@pytest.mark.parametrize(
    ("hw", "question", "overrides", "case", "text"),
    [pytest.param(*v, marks=getattr(pytest.mark, v[0]), id=f"{v[1]}-{v[3]}-{k}")
     for k, v in enumerate(VALUE_CHECKS)],
)
def test_value_check_fails_wrong_code(hw, question, overrides, case, text):
    result = run_question(hw, question, make_env(hw, **overrides))
    (found,) = [r for r in result.test_case_results if case in r.test_case.name]
    assert not found.passed
    assert text in found.message, found.message
