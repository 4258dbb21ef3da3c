"""Inputs of the function-style checks, per question: lists of ``Case`` (named arguments).

Every array is float64 (labels of softmax_cross_entropy are int64), batch-first, with
batch >= 2 and non-square shapes. Cases are seeded, so a failure names a reproducible input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bplab_checks.tolerances import LARGE, NUDGE


@dataclass
class Case:
    """Named positional arguments of one call, plus keyword arguments and a note for messages."""

    args: dict[str, Any]
    kwargs: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def copies(self) -> tuple[list, dict]:
        """Fresh copies of the arguments (so no call sees another's mutations)."""
        return [_copy(v) for v in self.args.values()], {k: _copy(v) for k, v in self.kwargs.items()}


def _copy(value):
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


def _nudged(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    x = rng.standard_normal(shape)
    return np.where(x >= 0, x + NUDGE, x - NUDGE)


def chain_rule_cases(fn_name: str) -> list[Case]:
    """Arrays of several shapes (1-D to 3-D) and Python floats, for each chain_rule function."""
    rng = np.random.default_rng(11)
    arrays = [rng.uniform(-2, 2, s) for s in [(3, 4), (5,), (2, 3, 2)]]
    floats = [0.7, -1.3, 0.0, 2.5]
    if fn_name == "grad_square_sum":
        cases = [Case({"x": a, "y": rng.uniform(-2, 2, a.shape)}) for a in arrays]
        cases += [Case({"x": f, "y": -0.4 * f + 0.3}, note="Python floats") for f in floats]
        return cases
    cases = [Case({"x": a}) for a in arrays]
    return cases + [Case({"x": f}, note="a Python float") for f in floats]


def linreg_cases() -> list[Case]:
    """theta (D, 1), X (N, D), Y (N, 1) with N != D."""
    cases = []
    for seed, (n, d) in enumerate([(6, 3), (10, 4), (4, 7)], start=21):
        rng = np.random.default_rng(seed)
        cases.append(
            Case(
                {
                    "theta": rng.standard_normal((d, 1)),
                    "X": rng.standard_normal((n, d)),
                    "Y": rng.standard_normal((n, 1)),
                },
                note=f"seed {seed}",
            )
        )
    return cases


def fit_linreg_cases() -> list[Case]:
    """Small problems with a learning rate that converges, several step counts and seeds."""
    cases = []
    for seed, (n, d, steps, fit_seed) in enumerate(
        [(8, 3, 6, 0), (12, 2, 1, 5), (6, 4, 0, 1), (9, 3, 15, 7)], start=31
    ):
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((n, d))
        Y = X @ rng.standard_normal((d, 1)) + 0.1 * rng.standard_normal((n, 1))
        lr = 0.2 / float(np.linalg.norm(X, 2) ** 2)
        cases.append(
            Case(
                {"X": X, "Y": Y, "lr": lr, "n_steps": steps},
                {"seed": fit_seed},
                note=f"data seed {seed}",
            )
        )
    return cases


def regression_targets(seed: int, shape: tuple) -> Case:
    """y_pred and y_true of the same shape."""
    rng = np.random.default_rng(seed)
    return Case(
        {"y_pred": rng.standard_normal(shape), "y_true": rng.standard_normal(shape)},
        note=f"seed {seed}",
    )


def mse_cases() -> list[Case]:
    return [regression_targets(s, shape) for s, shape in [(41, (4, 3)), (42, (6, 1)), (43, (2, 5))]]


def probabilities(seed: int, shape: tuple, *, soft: bool = False) -> Case:
    """p in (0.05, 0.95) and targets y in {0, 1} (or soft targets in [0, 1])."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.95, shape)
    y = rng.uniform(0, 1, shape) if soft else (rng.uniform(0, 1, shape) < 0.5).astype(np.float64)
    return Case({"p": p, "y": y}, note=f"seed {seed}" + (", soft targets" if soft else ""))


def bce_cases() -> list[Case]:
    return [
        probabilities(51, (5, 1)),
        probabilities(52, (8, 1)),
        probabilities(53, (4, 3), soft=True),
    ]


def bce_edge_case(public: bool = False) -> Case:
    """p exactly 0 and 1 (clipped) next to ordinary values, with both targets; the public
    case and the hidden one differ only in their values."""
    if public:
        p = np.array([[1.0], [0.0], [0.6], [1.0], [0.0], [0.25]])
        y = np.array([[1.0], [0.0], [0.0], [0.0], [1.0], [1.0]])
    else:
        p = np.array([[0.0], [1.0], [0.0], [1.0], [0.3], [1e-15]])
        y = np.array([[0.0], [1.0], [1.0], [0.0], [1.0], [0.0]])
    return Case({"p": p, "y": y}, note="p exactly 0 and 1")


def logits_case(seed: int, n: int, c: int, *, scale: float = 1.0) -> Case:
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n, c)) * scale
    y = rng.integers(0, c, size=n).astype(np.int64)
    return Case({"logits": logits, "y": y}, note=f"seed {seed}")


def softmax_cases() -> list[Case]:
    return [logits_case(61, 4, 3), logits_case(62, 7, 5, scale=3.0), logits_case(63, 2, 6)]


def softmax_edge_case() -> Case:
    """Logits of magnitude ``LARGE`` (a naive exp overflows)."""
    case = logits_case(64, 4, 3)
    logits = case.args["logits"]
    logits[:, 0] = LARGE
    logits[1, 1] = -LARGE
    logits[2, :] = -LARGE
    case.note = f"logits up to |{LARGE:g}|"
    return case


def one_row_case(kind: str) -> Case:
    """A one-row batch (N = 1) for the batch-wise losses: a ``.squeeze()``, a hard-coded axis
    or a division by the wrong count shows here. ``kind``: "mse", "bce", "softmax", "linreg"."""
    if kind == "mse":
        return regression_targets(44, (1, 3))
    if kind == "bce":
        return probabilities(54, (1, 1))
    if kind == "softmax":
        return logits_case(65, 1, 4)
    if kind == "linreg":
        rng = np.random.default_rng(24)
        return Case({"theta": rng.standard_normal((3, 1)), "X": rng.standard_normal((1, 3)),
                     "Y": rng.standard_normal((1, 1))}, note="one row, seed 24")
    raise ValueError(f"no one-row case {kind!r}")


def two_layer_params(seed: int, d: int, h: int) -> dict[str, np.ndarray]:
    """Random parameters with nonzero biases (an init would hide a missing bias gradient)."""
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.standard_normal((d, h)) * 0.8,
        "b1": rng.standard_normal(h) * 0.5,
        "W2": rng.standard_normal((h, 1)) * 0.8,
        "b2": rng.standard_normal(1) * 0.5,
    }


def two_layer_data(seed: int, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """X (n, d) nudged from 0 and binary y (n, 1)."""
    rng = np.random.default_rng(seed)
    X = _nudged(rng, (n, d))
    y = (rng.uniform(0, 1, (n, 1)) < 0.5).astype(np.float64)
    return X, y


def two_layer_loss_cases() -> list[Case]:
    cases = []
    for seed, (n, d, h) in enumerate([(6, 4, 5), (9, 3, 7), (2, 5, 3)], start=71):
        X, y = two_layer_data(seed, n, d)
        cases.append(Case({"params": two_layer_params(seed, d, h), "X": X, "y": y},
                          note=f"seed {seed}"))
    return cases


def two_layer_predict_cases() -> list[Case]:
    return [Case({"params": c.args["params"], "X": c.args["X"]}, note=c.note)
            for c in two_layer_loss_cases()]


def init_two_layer_cases() -> list[Case]:
    return [
        Case({"D": 4, "H": 5}),
        Case({"D": 7, "H": 3}, {"seed": 3}),
        Case({"D": 2, "H": 6}, {"seed": 12}),
    ]


def grads_dict(seed: int, scale: float = 1.0) -> dict[str, np.ndarray]:
    """A gradient dict with a matrix, a vector and a (1,)-array (several keys, shapes)."""
    rng = np.random.default_rng(seed)
    return {
        "W": rng.standard_normal((3, 4)) * scale,
        "b": rng.standard_normal(4) * scale,
        "c": rng.standard_normal(1) * scale,
    }


def clip_cases() -> list[Case]:
    """Total norms well above, well below and exactly at ``max_norm``."""
    cases = []
    for seed, scale, max_norm in [(81, 3.0, 1.0), (82, 0.1, 5.0), (83, 1.0, 0.5)]:
        cases.append(Case({"grads": grads_dict(seed, scale), "max_norm": max_norm},
                          note=f"seed {seed}"))
    at = grads_dict(84)
    norm = float(np.sqrt(sum(np.sum(g**2) for g in at.values())))
    cases.append(Case({"grads": at, "max_norm": norm}, note="total norm equal to max_norm"))
    return cases


def schedule_cases(fn_name: str) -> list[Case]:
    """Many t, including 0, boundaries (t = step_size, T_max, T_warmup) and beyond."""
    ts = [0, 1, 2, 3, 4, 5, 7, 9, 10, 11, 17, 20, 33]
    if fn_name == "step_decay":
        return [Case({"lr0": 0.3, "gamma": 0.5, "step_size": 4, "t": t}) for t in ts] + [
            Case({"lr0": 1.0, "gamma": 0.9, "step_size": 3, "t": t}) for t in (0, 2, 3, 8, 9)
        ]
    if fn_name == "exponential_decay":
        return [Case({"lr0": 0.3, "gamma": 0.95, "t": t}) for t in ts]
    if fn_name == "cosine_annealing":
        return [Case({"t": t, "T_max": 20, "lr_max": 0.1}) for t in ts if t <= 20] + [
            Case({"t": t, "T_max": 10, "lr_max": 0.5}, {"lr_min": 0.05}) for t in (0, 3, 5, 10)
        ]
    if fn_name == "linear_warmup":
        return [Case({"t": t, "T_warmup": 10, "lr_target": 0.2}) for t in ts]
    raise ValueError(f"no schedule {fn_name!r}")
