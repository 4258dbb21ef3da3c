"""Gradient checking: relative errors and directional central differences (numpy only, float64).

Everything here is trusted grader code, shipped to students with the release. The functions
take plain callables, so they work the same on real student objects and on grader proxies.

Only *directional* checks live here (a few random directions per input): full per-entry
numerical gradients are the answer to hw1's ``numerical_gradient`` question, so they live in
the grader-only ``bplab_checks.numgrad``, which is never shipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bplab_checks.tolerances import GRAD_RTOL, N_DIRECTIONS

__all__ = [
    "GRAD_RTOL",
    "Directional",
    "directional_check",
    "directional_derivatives",
    "random_directions",
    "rel_error",
    "require_float64",
    "worst_element",
]


def require_float64(x, what: str = "array") -> np.ndarray:
    """Return ``x`` as a float64 ndarray, or raise TypeError saying which value is not float64.

    Python floats and ints (and 0-d arrays of them) count as float64 scalars; integer arrays
    are refused, because a step of 1e-6 is lost in them.
    """
    if isinstance(x, float | int) and not isinstance(x, bool):
        return np.asarray(x, dtype=np.float64)
    arr = np.asarray(x)
    if arr.dtype != np.float64:
        raise TypeError(f"{what} must be float64, got dtype {arr.dtype} with shape {arr.shape}")
    return arr


def rel_error(actual, expected) -> float:
    """Norm-wise relative error ``||a - e|| / max(||a|| + ||e||, tiny)``.

    Symmetric, in [0, 1] for finite inputs, 0 when both are exactly 0, and nan-safe in the
    sense that a nan or inf anywhere gives ``inf`` (never a silent pass).

    Args:
        actual, expected: arrays (or scalars) of the same shape.

    Returns:
        A Python float.
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        raise ValueError(f"rel_error: shapes differ, {a.shape} vs {e.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(e))):
        return float("inf")
    num = float(np.linalg.norm((a - e).ravel()))
    den = float(np.linalg.norm(a.ravel()) + np.linalg.norm(e.ravel()))
    if num == 0.0:
        return 0.0
    return num / max(den, np.finfo(np.float64).tiny)


def _scalar(value, what: str) -> float:
    arr = np.asarray(value, dtype=np.float64)
    if arr.size != 1:
        raise ValueError(f"{what} must return a scalar, got shape {arr.shape}")
    return float(arr.reshape(()))


@dataclass(frozen=True)
class Directional:
    """A claimed gradient against central differences along a few random unit directions.

    Attributes:
        directions: (n_dirs, *x.shape) unit directions v_j.
        numeric: (n_dirs,) central differences ``(f(x + h v_j) - f(x - h v_j)) / 2h``.
        claimed: (n_dirs,) directional derivatives ``<grad, v_j>`` of the claimed gradient.
        error: ``rel_error(claimed, numeric)``.
        h: the step size used.
        seed: the seed of the directions.
    """

    directions: np.ndarray
    numeric: np.ndarray
    claimed: np.ndarray
    error: float
    h: float
    seed: int

    def along(self, grad) -> np.ndarray:
        """Directional derivatives ``<grad, v_j>`` of another candidate gradient, (n_dirs,).

        A candidate of another shape gives nan everywhere (so it never fits).
        """
        g = np.asarray(grad, dtype=np.float64)
        if g.shape != self.directions.shape[1:]:
            return np.full(len(self.directions), np.nan)
        return self.directions.reshape(len(self.directions), -1) @ g.reshape(-1)


def random_directions(shape: tuple, n_dirs: int, seed: int) -> np.ndarray:
    """``n_dirs`` standard-normal directions of ``shape``, each scaled to unit norm.

    Returns:
        float64 array (n_dirs, *shape).
    """
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n_dirs, *shape))
    norms = np.linalg.norm(v.reshape(n_dirs, -1), axis=1)
    return v / np.maximum(norms, 1e-300).reshape((n_dirs,) + (1,) * len(shape))


def directional_derivatives(
    f: Callable[[np.ndarray], float],
    x,
    grad,
    *,
    n_dirs: int = N_DIRECTIONS,
    h: float = 1e-6,
    seed: int = 0,
) -> Directional:
    """Check a claimed gradient of ``f`` at ``x`` along ``n_dirs`` random unit directions.

    For each direction v, compares ``(f(x + h v) - f(x - h v)) / 2h`` with ``<grad, v>``:
    2 calls of ``f`` per direction, whatever the size of ``x``. A wrong gradient fails for
    almost every set of random directions (its error would have to be orthogonal to all).

    Args:
        f: scalar function of an array shaped like ``x``.
        x: float64 array; never modified (``f`` gets new arrays).
        grad: claimed gradient of ``f`` at ``x``, shaped like ``x``.
        n_dirs: number of random directions.
        h: step size.
        seed: seed of the directions.

    Returns:
        A ``Directional`` (its ``error`` is the relative error of the claimed directional
        derivatives, taken as vectors over the directions).
    """
    x0 = np.array(require_float64(x, "x"), dtype=np.float64)
    g = np.asarray(grad, dtype=np.float64)
    if g.shape != x0.shape:
        raise ValueError(f"grad has shape {g.shape}, x has shape {x0.shape}")
    directions = random_directions(x0.shape, n_dirs, seed)
    # The whole x moves along v at once: never one entry at a time (that would be hw1's
    # numerical_gradient answer, which the release must not contain).
    numeric = np.array(
        [(_scalar(f(x0 + h * v), "f") - _scalar(f(x0 - h * v), "f")) / (2 * h) for v in directions]
    )
    claimed = directions.reshape(n_dirs, -1) @ g.reshape(-1)
    return Directional(directions, numeric, claimed, rel_error(claimed, numeric), h, seed)


def directional_check(
    f: Callable[[np.ndarray], float],
    x,
    grad,
    *,
    n_dirs: int = N_DIRECTIONS,
    h: float = 1e-6,
    seed: int = 0,
) -> float:
    """The relative error of ``directional_derivatives(f, x, grad, ...)`` alone."""
    return directional_derivatives(f, x, grad, n_dirs=n_dirs, h=h, seed=seed).error


def worst_element(actual, expected) -> tuple[tuple[int, ...], float, float]:
    """Where two same-shaped arrays differ most.

    Returns:
        (index, actual value, expected value) at the largest absolute difference; a nan or
        inf in either array is reported first. For 0-d inputs the index is ``()``.
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        raise ValueError(f"worst_element: shapes differ, {a.shape} vs {e.shape}")
    if a.size == 0:
        return (), float("nan"), float("nan")
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - e)
    diff = np.where(np.isfinite(diff), diff, np.inf)
    flat = int(np.argmax(diff))
    idx = tuple(int(i) for i in np.unravel_index(flat, a.shape))
    return idx, float(a[idx]), float(e[idx])
