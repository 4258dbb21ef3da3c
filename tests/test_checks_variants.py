"""Correct solutions written many ways always get full marks (einsum, loops, np.dot, views,
copies, float or 0-d scalars, list or tuple, bare arrays, warnings in backward)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from checks_env import failures, make_env, run_question
from hypothesis import given, settings
from hypothesis import strategies as st

# ------------------------------------------------------------------------------------ hw1


class MatMulEinsumList:
    @staticmethod
    def forward(A, B):
        return np.einsum("nd,dm->nm", A, B), {"A": A, "B": B}

    @staticmethod
    def backward(dout, cache):
        return [np.einsum("nm,dm->nd", dout, cache["B"]), np.einsum("nd,nm->dm", cache["A"], dout)]


class MatMulLoops:
    @staticmethod
    def forward(A, B):
        out = np.zeros((A.shape[0], B.shape[1]))
        for i in range(A.shape[0]):
            for j in range(B.shape[1]):
                out[i, j] = sum(A[i, k] * B[k, j] for k in range(A.shape[1]))
        return out, (A.copy(), B.copy())

    @staticmethod
    def backward(dout, cache):
        A, B = cache
        return np.dot(dout, B.T), np.dot(A.T, dout)


class SubtractViews:
    @staticmethod
    def forward(A, B):
        return np.subtract(A, B), ()

    @staticmethod
    def backward(dout, cache):
        return dout, np.negative(dout)  # dA is dout itself: a view is fine, nothing mutates it


class SquareBare:
    @staticmethod
    def forward(X):
        return X * X, X

    @staticmethod
    def backward(dout, cache):
        return 2.0 * cache * dout  # a bare array for a one-input block


class SumZeroD:
    @staticmethod
    def forward(X):
        return np.array(X.sum()), X  # a 0-d array

    @staticmethod
    def backward(dout, cache):
        return [np.ones_like(cache) * dout]


class SumNumpyScalar:
    @staticmethod
    def forward(X):
        return np.sum(X), X.shape  # a numpy float64 scalar

    @staticmethod
    def backward(dout, cache):
        return (np.broadcast_to(np.asarray(dout, dtype=float), cache).copy(),)


class SigmoidTanh:
    @staticmethod
    def forward(X):
        return 0.5 * (1 + np.tanh(X / 2)), X

    @staticmethod
    def backward(dout, cache):
        s = 0.5 * (1 + np.tanh(cache / 2))
        return dout * s * (1 - s)


class SigmoidWhere:
    @staticmethod
    def forward(X):
        out = np.empty_like(X)
        pos = X >= 0
        out[pos] = 1 / (1 + np.exp(-X[pos]))
        e = np.exp(X[~pos])
        out[~pos] = e / (1 + e)
        return out, out.copy()

    @staticmethod
    def backward(dout, cache):
        return (dout * (cache - cache**2),)


class ReLUWhere:
    @staticmethod
    def forward(X):
        return X * (X > 0), X

    @staticmethod
    def backward(dout, cache):
        return [np.where(cache > 0, dout, 0.0)]


def dsin_x2_alt(x):
    return np.cos(np.square(x)) * x * 2


def grad_square_sum_alt(x, y):
    s = x + y
    return s * 2, 2 * s


def numerical_gradient_flat(f, x, h=1e-5):
    grad = np.zeros(x.size)
    base = x.reshape(-1).copy()
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        grad[i] = (f((base + e).reshape(x.shape)) - f((base - e).reshape(x.shape))) / (2 * h)
    return grad.reshape(x.shape)


def numerical_gradient_nditer(f, x, h=1e-5):
    x = x.astype(float)  # a copy
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        fp = f(x)
        x[i] = old - h
        fm = f(x)
        x[i] = old
        grad[i] = (fp - fm) / (2 * h)
        it.iternext()
    return grad


def linreg_direct(theta, X, Y):
    r = X @ theta - Y
    return np.sum(r**2), 2 * X.T @ r


def fit_linreg_array_losses(X, Y, lr, n_steps, seed=0):
    theta = np.random.default_rng(seed).standard_normal((X.shape[1], 1))
    losses = np.zeros(n_steps)
    for t in range(n_steps):
        r = X @ theta - Y
        losses[t] = np.sum(r * r)
        theta -= lr * 2 * X.T @ r  # theta is its own array: in place is fine
    return theta, list(losses)


HW1_VARIANTS = {
    "MatMul": [MatMulEinsumList, MatMulLoops],
    "Subtract": [SubtractViews],
    "Square": [SquareBare],
    "Sum": [SumZeroD, SumNumpyScalar],
    "Sigmoid": [SigmoidTanh, SigmoidWhere],
    "ReLU": [ReLUWhere],
    "dsin_x2": [dsin_x2_alt],
    "grad_square_sum": [grad_square_sum_alt],
    "numerical_gradient": [numerical_gradient_flat, numerical_gradient_nditer],
    "linreg_loss_and_grad": [linreg_direct],
    "fit_linreg": [fit_linreg_array_losses],
}

# ------------------------------------------------------------------------------------ hw2


class AddEinsum:
    @staticmethod
    def forward(X, b):
        return X + b[None, :], X.shape[0]

    @staticmethod
    def backward(dout, cache):
        return dout * 1.0, np.einsum("nm->m", dout)


class TanhCosh:
    @staticmethod
    def forward(X):
        return np.tanh(X), X

    @staticmethod
    def backward(dout, cache):
        # cosh overflows (a warning) at |X| = 1000, but 1 / inf**2 = 0 is the right value.
        with np.errstate(over="ignore"):
            return (dout / np.cosh(cache) ** 2,)


class LeakyReLUMax:
    ALPHA = 0.01

    @staticmethod
    def forward(X):
        return np.maximum(X, 0.01 * X), X

    @staticmethod
    def backward(dout, cache):
        return np.where(cache > 0, dout, 0.01 * dout)


def mse_alt(y_pred, y_true):
    d = y_pred - y_true
    return np.mean(np.square(d)), (2.0 / d.size) * d


def bce_zero_grad_when_clipped(p, y):
    q = np.clip(p, 1e-12, 1 - 1e-12)
    loss = -np.mean(y * np.log(q) + (1 - y) * np.log1p(-q))
    dp = -(y / q - (1 - y) / (1 - q)) / p.size
    return float(loss), np.where((p > 1e-12) & (p < 1 - 1e-12), dp, 0.0)


def softmax_onehot(logits, y):
    n, c = logits.shape
    z = logits - np.max(logits, axis=1)[:, None]
    logsum = np.log(np.sum(np.exp(z), axis=1))
    onehot = np.eye(c)[y]
    loss = np.mean(logsum - np.sum(z * onehot, axis=1))
    probs = np.exp(z - logsum[:, None])
    return loss, (probs - onehot) / n


def two_layer_loss_direct(params, X, y):
    z1 = X @ params["W1"] + params["b1"]
    a1 = np.maximum(z1, 0)
    z2 = a1 @ params["W2"] + params["b2"]
    p = 1 / (1 + np.exp(-z2))
    q = np.clip(p, 1e-12, 1 - 1e-12)
    n = y.shape[0]
    loss = -np.mean(y * np.log(q) + (1 - y) * np.log(1 - q))
    dz2 = (q - y) / (q * (1 - q)) / n * p * (1 - p)
    dW2 = a1.T @ dz2
    dz1 = (dz2 @ params["W2"].T) * (z1 > 0)
    return loss, {"W1": X.T @ dz1, "b1": dz1.sum(0), "W2": dW2, "b2": dz2.sum(0)}


class SGDRebind:
    def __init__(self, lr):
        self.lr = lr

    def step(self, params, grads):
        for key, g in grads.items():
            params[key] = params[key] - self.lr * g  # rebinding the dict item is allowed


class MomentumInPlaceState:
    def __init__(self, lr, momentum=0.9):
        self.lr, self.momentum, self.state = lr, momentum, {}

    def step(self, params, grads):
        for key, p in params.items():
            v = self.state.setdefault(key, np.zeros_like(p))
            v *= self.momentum
            v -= self.lr * grads[key]
            p += v


class AdamTuple:
    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.hyper = (lr, beta1, beta2, eps)
        self.moments = {}
        self.steps = 0

    def step(self, params, grads):
        lr, b1, b2, eps = self.hyper
        self.steps += 1
        for key in params:
            m, v = self.moments.get(key, (0.0, 0.0))
            g = grads[key]
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            self.moments[key] = (m, v)
            mh = m / (1 - b1**self.steps)
            vh = v / (1 - b2**self.steps)
            params[key] -= lr * mh / (np.sqrt(vh) + eps)


def step_decay_np(lr0, gamma, step_size, t):
    return np.float64(lr0) * np.power(gamma, t // step_size)


def cosine_math(t, T_max, lr_max, lr_min=0.0):
    return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * t / T_max))


def linear_warmup_min(t, T_warmup, lr_target):
    return lr_target * min(t / T_warmup, 1.0)


def clip_concat(grads, max_norm):
    total = np.linalg.norm(np.concatenate([g.ravel() for g in grads.values()]))
    scale = min(1.0, max_norm / total)
    return {k: g * scale for k, g in grads.items()}, total


HW2_VARIANTS = {
    "Add": [AddEinsum],
    "Tanh": [TanhCosh],
    "LeakyReLU": [LeakyReLUMax],
    "mse_loss": [mse_alt],
    "bce_loss": [bce_zero_grad_when_clipped],
    "softmax_cross_entropy": [softmax_onehot],
    "two_layer_loss": [two_layer_loss_direct],
    "SGD": [SGDRebind],
    "Momentum": [MomentumInPlaceState],
    "Adam": [AdamTuple],
    "step_decay": [step_decay_np],
    "cosine_annealing": [cosine_math],
    "linear_warmup": [linear_warmup_min],
    "clip_grad_norm": [clip_concat],
}

QUESTION_OF = {
    "dsin_x2": "chain_rule",
    "grad_square_sum": "chain_rule",
    "step_decay": "lr_schedules",
    "cosine_annealing": "lr_schedules",
    "linear_warmup": "lr_schedules",
}

CASES = [
    pytest.param(
        hw, name, variant, marks=getattr(pytest.mark, hw), id=f"{hw}-{name}-{variant.__name__}"
    )
    for hw, table in (("hw1", HW1_VARIANTS), ("hw2", HW2_VARIANTS))
    for name, variants in table.items()
    for variant in variants
]


@pytest.mark.parametrize(("hw", "name", "variant"), CASES)
def test_correct_variant_gets_full_points(hw, name, variant):
    question = QUESTION_OF.get(name, name)
    result = run_question(hw, question, make_env(hw, **{name: variant}))
    assert failures(result) == []
    assert result.score == result.possible


@pytest.mark.hw1
@settings(max_examples=8)  # the shared profile (conftest.py); each example grades a question
@given(st.data())
def test_any_mix_of_correct_hw1_variants_gets_full_points(data):
    """A notebook mixing variants (later cells use earlier ones, e.g. linreg uses the blocks)."""
    # A bare-array backward is fine for grading the block, but the reference linreg unpacks
    # (dX,) = Square.backward(...), as a student's own chain would have to match their block.
    mixable = {n: [v for v in vs if v is not SquareBare] for n, vs in HW1_VARIANTS.items()}
    overrides = {
        name: data.draw(st.sampled_from([None, *variants]), label=name)
        for name, variants in mixable.items()
    }
    env = make_env("hw1", **{k: v for k, v in overrides.items() if v is not None})
    for question in ("MatMul", "Sum", "linreg_loss_and_grad", "fit_linreg", "chain_rule"):
        result = run_question("hw1", question, env)
        assert failures(result) == [], question
