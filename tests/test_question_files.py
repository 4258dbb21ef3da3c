"""The question test files: full marks for the reference, zero for the blank stubs, lost points
for planted bugs, and the shape every file must have (names, hidden cases, short bodies)."""

from __future__ import annotations

import ast
import re

import numpy as np
import pytest
from checks_env import ALL_QUESTIONS, failures, make_env, question_file, run_question

from solutions import hw1, hw2

MARK = {"hw1": pytest.mark.hw1, "hw2": pytest.mark.hw2}
PARAMS = [pytest.param(hw, q, marks=MARK[hw], id=f"{hw}-{q}") for hw, q in ALL_QUESTIONS]


@pytest.mark.parametrize(("hw", "question"), PARAMS)
def test_reference_gets_full_points(hw, question):
    result = run_question(hw, question, make_env(hw))
    assert failures(result) == []
    assert result.possible > 0
    assert result.score == result.possible


@pytest.mark.parametrize(("hw", "question"), PARAMS)
def test_blank_stub_fails_every_case_saying_not_implemented(hw, question):
    result = run_question(hw, question, make_env(hw, mode="stub"))
    assert result.score == 0
    for message in failures(result):
        assert "(diagnosis: not_implemented)" in message
        assert "NotImplementedError" in message or "not" in message
    assert len(failures(result)) == len(result.test_cases)


@pytest.mark.parametrize(("hw", "question"), PARAMS)
def test_file_layout(hw, question):
    """Named after its question; public and hidden cases; the reference only inside hidden
    bodies; hidden bodies are one call (Otter prints the failing line to students)."""
    path = question_file(hw, question)
    tree = ast.parse(path.read_text())
    assigned = {
        t.id: n.value for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
    }
    assert ast.literal_eval(assigned["name"]) == question
    assert ast.literal_eval(assigned["points"]) > 0
    assert ast.literal_eval(assigned["OK_FORMAT"]) is False
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            assert "solutions" not in ast.unparse(node), "reference imported at module level"
    hidden_flags = []
    for fn in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        if not fn.decorator_list:  # a module-level definition from the contract (public)
            assert "solutions" not in ast.unparse(fn), f"{fn.name} uses the reference"
            continue
        (decorator,) = fn.decorator_list
        hidden = any(
            k.arg == "hidden" and ast.literal_eval(k.value) for k in decorator.keywords
        )
        hidden_flags.append(hidden)
        uses_solutions = "solutions" in ast.unparse(fn)
        if hidden:
            statements = [s for s in fn.body if not isinstance(s, ast.ImportFrom)]
            assert len(statements) == 1, f"{fn.name}: keep hidden bodies to one helper call"
        else:
            assert not uses_solutions, f"public case {fn.name} uses the reference"
    assert False in hidden_flags and True in hidden_flags


def _messages_of(hw, question, **overrides) -> tuple[float, float, list[str], list[str]]:
    result = run_question(hw, question, make_env(hw, **overrides))
    hidden = [
        r.message for r in result.test_case_results if not r.passed and r.test_case.hidden
    ]
    return result.score, result.possible, failures(result), hidden


# ---------------------------------------------------------------------------------------------
# Planted bugs: each must cost points on its question, with the named diagnosis where given.
# ---------------------------------------------------------------------------------------------


class MatMulDBTransposed(hw1.MatMul):
    @staticmethod
    def backward(dout, cache):
        A, B = cache
        return dout @ B.T, (A.T @ dout).T


class MatMulDBScaled(hw1.MatMul):
    @staticmethod
    def backward(dout, cache):
        A, B = cache
        return dout @ B.T, 2 * (A.T @ dout)


class SubtractSignWrong(hw1.Subtract):
    @staticmethod
    def backward(dout, cache):
        return dout, dout


class SquareIgnoresDout(hw1.Square):
    @staticmethod
    def backward(dout, cache):
        return (2 * cache,)


class SumIgnoresDout(hw1.Sum):
    @staticmethod
    def backward(dout, cache):
        return (np.ones(cache),)


class SigmoidWrongSign(hw1.Sigmoid):
    @staticmethod
    def backward(dout, cache):
        return (-dout * cache * (1 - cache),)


class SigmoidNaive(hw1.Sigmoid):
    @staticmethod
    def forward(X):
        s = 1 / (1 + np.exp(-X))
        return s, s


class SigmoidMutatesCache(hw1.Sigmoid):
    @staticmethod
    def backward(dout, cache):
        cache *= 1 - cache
        return (dout * cache,)


class ReLUGradAtZero(hw1.ReLU):
    @staticmethod
    def forward(X):
        return np.maximum(X, 0), X >= 0


class ReLUMutatesDout(hw1.ReLU):
    @staticmethod
    def backward(dout, cache):
        dout[~cache] = 0
        return (dout,)


class ReLUMutatesInput(hw1.ReLU):
    @staticmethod
    def forward(X):
        mask = X > 0
        X[~mask] = 0
        return X, mask


def dsin_x2_missing_2(x):
    return x * np.cos(x**2)


def grad_square_sum_one_sided(x, y):
    return 2 * (x + y), x + y


def numerical_gradient_forward_difference(f, x, h=1e-5):
    x = np.array(x, dtype=float)
    g = np.zeros_like(x)
    f0 = f(x.copy())
    for i in np.ndindex(x.shape):
        xp = x.copy()
        xp[i] += h
        g[i] = (f(xp) - f0) / h
    return g


def numerical_gradient_ignores_h(f, x, h=1e-5):
    return hw1.numerical_gradient(f, x)


def numerical_gradient_leaves_x_changed(f, x, h=1e-5):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        fp = f(x)
        x[i] = old - h
        fm = f(x)
        x[i] = old + 1e-3  # not restored
        g[i] = (fp - fm) / (2 * h)
    return g


def linreg_half_gradient(theta, X, Y):
    loss, g = hw1.linreg_loss_and_grad(theta, X, Y)
    return loss, g / 2


def fit_linreg_loss_after_step(X, Y, lr, n_steps, seed=0):
    theta = np.random.default_rng(seed).standard_normal((X.shape[1], 1))
    losses = []
    for _ in range(n_steps):
        _, g = hw1.linreg_loss_and_grad(theta, X, Y)
        theta = theta - lr * g
        losses.append(hw1.linreg_loss_and_grad(theta, X, Y)[0])
    return theta, losses


def fit_linreg_ignores_seed(X, Y, lr, n_steps, seed=0):
    return hw1.fit_linreg(X, Y, lr, n_steps, seed=seed + 1)


class AddDbNotSummed(hw2.Add):
    @staticmethod
    def backward(dout, cache):
        return dout, dout.mean(axis=0)


class TanhWrongDerivative(hw2.Tanh):
    @staticmethod
    def forward(X):
        return np.tanh(X), X

    @staticmethod
    def backward(dout, cache):
        return (dout * (1 - cache**2),)


class TanhNaive(hw2.Tanh):
    @staticmethod
    def forward(X):
        e, f = np.exp(X), np.exp(-X)
        out = (e - f) / (e + f)
        return out, out


class LeakyReLUSlopeAtZero(hw2.LeakyReLU):
    @staticmethod
    def forward(X):
        return np.where(X >= 0, X, 0.01 * X), X >= 0


def mse_sum_not_mean(y_pred, y_true):
    loss, d = hw2.mse_loss(y_pred, y_true)
    return loss, d * y_pred.size


def bce_unclipped(p, y):
    loss = -float(np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    return loss, (p - y) / (p * (1 - p)) / p.size


def bce_dp_wrong_sign(p, y):
    loss, dp = hw2.bce_loss(p, y)
    return loss, -dp


def softmax_unstable(logits, y):
    e = np.exp(logits)
    probs = e / e.sum(axis=1, keepdims=True)
    n = logits.shape[0]
    loss = -float(np.mean(np.log(probs[np.arange(n), y])))
    d = probs.copy()
    d[np.arange(n), y] -= 1
    return loss, d / n


def softmax_not_divided_by_n(logits, y):
    loss, d = hw2.softmax_cross_entropy(logits, y)
    return loss, d * logits.shape[0]


def init_two_layer_w2_first(D, H, seed=0):
    rng = np.random.default_rng(seed)
    W2 = rng.standard_normal((H, 1)) * np.sqrt(1 / H)
    W1 = rng.standard_normal((D, H)) * np.sqrt(2 / D)
    return {"W1": W1, "b1": np.zeros(H), "W2": W2, "b2": np.zeros(1)}


def two_layer_loss_db1_not_summed(params, X, y):
    loss, grads = hw2.two_layer_loss(params, X, y)
    return loss, {**grads, "b1": grads["b1"] / X.shape[0]}


def two_layer_predict_no_sigmoid(params, X):
    return np.maximum(X @ params["W1"] + params["b1"], 0) @ params["W2"] + params["b2"]


class AdamStepPerKey(hw2.Adam):
    def step(self, params, grads):
        for k in params:
            self.t += 1  # counted once per parameter: the bug
            g = grads[k]
            m = self.beta1 * self.m.get(k, 0.0) + (1 - self.beta1) * g
            v = self.beta2 * self.v.get(k, 0.0) + (1 - self.beta2) * g**2
            self.m[k], self.v[k] = m, v
            m_hat = m / (1 - self.beta1**self.t)
            v_hat = v / (1 - self.beta2**self.t)
            params[k] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class SGDWrongSign(hw2.SGD):
    def step(self, params, grads):
        for k in params:
            params[k] += self.lr * grads[k]


class SGDNotInPlace(hw2.SGD):
    def step(self, params, grads):
        return {k: params[k] - self.lr * grads[k] for k in params}


class MomentumForgetsState(hw2.Momentum):
    def step(self, params, grads):
        for k in params:
            v = -self.lr * grads[k]
            params[k] += v


class MomentumClassState:
    v: dict = {}  # shared by every instance: the bug

    def __init__(self, lr, momentum=0.9):
        self.lr, self.momentum = lr, momentum

    def step(self, params, grads):
        for k in params:
            old = MomentumClassState.v.get(k, np.zeros_like(params[k]))
            MomentumClassState.v[k] = self.momentum * old - self.lr * grads[k]
            params[k] += MomentumClassState.v[k]


class RMSpropEpsTwice(hw2.RMSprop):
    # eps inside the root is accepted (contract); inside and outside at once is not.
    def step(self, params, grads):
        for k in params:
            g = grads[k]
            s = self.s.get(k, np.zeros_like(params[k]))
            self.s[k] = self.beta * s + (1 - self.beta) * g**2
            params[k] -= self.lr * g / (np.sqrt(self.s[k] + self.eps) + self.eps)


class AdamNoBiasCorrection(hw2.Adam):
    def step(self, params, grads):
        for k in params:
            g = grads[k]
            m = self.m.get(k, np.zeros_like(params[k]))
            v = self.v.get(k, np.zeros_like(params[k]))
            self.m[k] = self.beta1 * m + (1 - self.beta1) * g
            self.v[k] = self.beta2 * v + (1 - self.beta2) * g**2
            params[k] -= self.lr * self.m[k] / (np.sqrt(self.v[k]) + self.eps)


def step_decay_float_division(lr0, gamma, step_size, t):
    return lr0 * gamma ** (t / step_size)


def cosine_with_sin(t, T_max, lr_max, lr_min=0.0):
    return lr_min + (lr_max - lr_min) * (1 + np.sin(np.pi * t / T_max)) / 2


def linear_warmup_off_by_one(t, T_warmup, lr_target):
    return lr_target * min(t + 1, T_warmup) / T_warmup


def clip_per_array(grads, max_norm):
    out = {}
    for k, g in grads.items():
        n = np.linalg.norm(g)
        out[k] = g * (max_norm / n) if n > max_norm else g.copy()
    total = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    return out, total


def clip_in_place(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    if total > max_norm:
        for g in grads.values():
            g *= max_norm / total
    return dict(grads), total


# (hw, question, overrides, diagnosis code(s) of which one must appear, or None). Where two
# readings of a bug are fair (dB = dA is also a sign error), either code is accepted.
PLANTED = [
    ("hw1", "MatMul", {"MatMul": MatMulDBTransposed}, ("wrong_shape", "transposed")),
    ("hw1", "MatMul", {"MatMul": MatMulDBScaled}, "extra_factor_2"),
    ("hw1", "Subtract", {"Subtract": SubtractSignWrong}, ("swapped", "wrong_sign")),
    ("hw1", "Square", {"Square": SquareIgnoresDout}, "upstream_ignored"),
    ("hw1", "Sum", {"Sum": SumIgnoresDout}, "upstream_ignored"),
    ("hw1", "Sigmoid", {"Sigmoid": SigmoidWrongSign}, "wrong_sign"),
    ("hw1", "Sigmoid", {"Sigmoid": SigmoidNaive}, "overflow"),
    ("hw1", "Sigmoid", {"Sigmoid": SigmoidMutatesCache}, "mutates_cache"),
    ("hw1", "ReLU", {"ReLU": ReLUGradAtZero}, "relu_at_zero"),
    ("hw1", "ReLU", {"ReLU": ReLUMutatesDout}, "mutates_dout"),
    ("hw1", "ReLU", {"ReLU": ReLUMutatesInput}, "mutates_input"),
    ("hw1", "chain_rule", {"dsin_x2": dsin_x2_missing_2}, "missing_factor_2"),
    ("hw1", "chain_rule", {"grad_square_sum": grad_square_sum_one_sided}, None),
    ("hw1", "numerical_gradient", {"numerical_gradient": numerical_gradient_forward_difference},
     None),
    ("hw1", "numerical_gradient", {"numerical_gradient": numerical_gradient_ignores_h}, None),
    ("hw1", "numerical_gradient", {"numerical_gradient": numerical_gradient_leaves_x_changed},
     "mutates_input"),
    ("hw1", "linreg_loss_and_grad", {"linreg_loss_and_grad": linreg_half_gradient},
     "missing_factor_2"),
    ("hw1", "fit_linreg", {"fit_linreg": fit_linreg_loss_after_step}, None),
    ("hw1", "fit_linreg", {"fit_linreg": fit_linreg_ignores_seed}, None),
    ("hw2", "Add", {"Add": AddDbNotSummed}, None),
    ("hw2", "Tanh", {"Tanh": TanhWrongDerivative}, None),
    ("hw2", "Tanh", {"Tanh": TanhNaive}, "overflow"),
    ("hw2", "LeakyReLU", {"LeakyReLU": LeakyReLUSlopeAtZero}, "relu_at_zero"),
    ("hw2", "mse_loss", {"mse_loss": mse_sum_not_mean}, None),
    ("hw2", "bce_loss", {"bce_loss": bce_unclipped}, "overflow"),
    ("hw2", "bce_loss", {"bce_loss": bce_dp_wrong_sign}, "wrong_sign"),
    ("hw2", "softmax_cross_entropy", {"softmax_cross_entropy": softmax_unstable}, "overflow"),
    ("hw2", "softmax_cross_entropy", {"softmax_cross_entropy": softmax_not_divided_by_n}, None),
    ("hw2", "two_layer_loss", {"init_two_layer": init_two_layer_w2_first}, None),
    ("hw2", "two_layer_loss", {"two_layer_loss": two_layer_loss_db1_not_summed}, None),
    ("hw2", "two_layer_loss", {"two_layer_predict": two_layer_predict_no_sigmoid}, None),
    ("hw2", "Adam", {"Adam": AdamStepPerKey}, "step_count_per_key"),
    ("hw2", "SGD", {"SGD": SGDWrongSign}, "optimizer_wrong_sign"),
    ("hw2", "SGD", {"SGD": SGDNotInPlace}, None),
    ("hw2", "Momentum", {"Momentum": MomentumForgetsState}, "state_reset"),
    ("hw2", "Momentum", {"Momentum": MomentumClassState}, "state_shared"),
    ("hw2", "RMSprop", {"RMSprop": RMSpropEpsTwice}, None),
    ("hw2", "Adam", {"Adam": AdamNoBiasCorrection}, "no_bias_correction"),
    ("hw2", "lr_schedules", {"step_decay": step_decay_float_division}, None),
    ("hw2", "lr_schedules", {"cosine_annealing": cosine_with_sin}, None),
    ("hw2", "lr_schedules", {"linear_warmup": linear_warmup_off_by_one}, None),
    ("hw2", "clip_grad_norm", {"clip_grad_norm": clip_per_array}, None),
    ("hw2", "clip_grad_norm", {"clip_grad_norm": clip_in_place}, "mutates_input"),
]


def _planted_id(p) -> str:
    hw, question, overrides, _ = p
    value = next(iter(overrides.values()))
    return f"{hw}-{question}-{getattr(value, '__name__', 'bug')}"


EXPECTED_VALUE = re.compile(r"\(expected -?[0-9.]")


@pytest.mark.parametrize(
    ("hw", "question", "overrides", "code"),
    [pytest.param(*p, marks=MARK[p[0]], id=_planted_id(p)) for p in PLANTED],
)
def test_planted_bug_loses_points(hw, question, overrides, code):
    score, possible, messages, hidden_messages = _messages_of(hw, question, **overrides)
    assert score < possible
    text = "\n".join(messages)
    if code is not None:
        codes = (code,) if isinstance(code, str) else code
        assert any(f"(diagnosis: {c})" in text for c in codes), text
    for message in hidden_messages:
        # Hidden feedback never shows an expected value.
        assert not EXPECTED_VALUE.search(message), message
    assert "Traceback" not in text
