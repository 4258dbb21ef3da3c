"""Gradient checking: relative errors and central-difference gradients (numpy only, float64).

Everything here is trusted grader code, shipped to students with the release. The functions
take plain callables, so they work the same on real student objects and on grader proxies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from bplab_checks.tolerances import GRAD_RTOL

__all__ = [
    "GRAD_RTOL",
    "directional_check",
    "numerical_grad",
    "numerical_vjp",
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


def numerical_grad(f: Callable[[np.ndarray], float], x, h: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of a scalar function at every entry of ``x``.

    df/dx[i] ~= (f(x + h e_i) - f(x - h e_i)) / (2 h)

    Args:
        f: takes an array shaped like ``x``, returns a scalar (float or 0-d/size-1 array).
        x: float64 array of any shape; it is never modified (``f`` sees private copies).
        h: step size.

    Returns:
        float64 array shaped like ``x``.
    """
    x0 = require_float64(x, "x")
    xp = np.array(x0, dtype=np.float64)  # private work copy
    grad = np.zeros_like(xp)
    for i in np.ndindex(xp.shape):
        old = xp[i]
        xp[i] = old + h
        f_plus = _scalar(f(xp.copy()), "f")
        xp[i] = old - h
        f_minus = _scalar(f(xp.copy()), "f")
        xp[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def numerical_vjp(
    f: Callable[..., np.ndarray], inputs: Sequence, dout, h: float = 1e-6
) -> list[np.ndarray]:
    """Numerical vector-Jacobian product: gradients of ``sum(f(*inputs) * dout)``.

    Args:
        f: takes the inputs positionally and returns an array (or scalar) shaped like ``dout``.
        inputs: sequence of float64 arrays; none of them is modified.
        dout: upstream gradient, shaped like ``f``'s output.
        h: step size.

    Returns:
        One float64 array per input, shaped like that input.
    """
    arrays = [np.array(require_float64(a, f"input {k}"), dtype=np.float64)
              for k, a in enumerate(inputs)]
    d = np.asarray(dout, dtype=np.float64)
    grads = []
    for k in range(len(arrays)):

        def g(xk, k=k):
            args = [a.copy() for a in arrays]
            args[k] = xk
            return float(np.sum(np.asarray(f(*args), dtype=np.float64) * d))

        grads.append(numerical_grad(g, arrays[k], h))
    return grads


def directional_check(
    f: Callable[[np.ndarray], float],
    x,
    grad,
    *,
    n_dirs: int = 3,
    h: float = 1e-6,
    seed: int = 0,
) -> float:
    """Cheap gradient check for large tensors along a few random directions.

    For unit random directions v, compares ``(f(x + h v) - f(x - h v)) / 2h`` with
    ``<grad, v>``: 2 calls of ``f`` per direction instead of 2 per entry.

    Args:
        f: scalar function of an array shaped like ``x``.
        x: float64 array; never modified.
        grad: claimed gradient of ``f`` at ``x``, shaped like ``x``.
        n_dirs: number of random directions.
        h: step size.
        seed: seed of the directions.

    Returns:
        The relative error (``rel_error``) between the numerical and the claimed directional
        derivatives, taken as vectors over the directions.
    """
    x0 = np.array(require_float64(x, "x"), dtype=np.float64)
    g = np.asarray(grad, dtype=np.float64)
    if g.shape != x0.shape:
        raise ValueError(f"grad has shape {g.shape}, x has shape {x0.shape}")
    rng = np.random.default_rng(seed)
    numeric, claimed = [], []
    for _ in range(n_dirs):
        v = rng.standard_normal(x0.shape)
        v /= max(float(np.linalg.norm(v)), 1e-300)
        f_plus = _scalar(f(x0 + h * v), "f")
        f_minus = _scalar(f(x0 - h * v), "f")
        numeric.append((f_plus - f_minus) / (2 * h))
        claimed.append(float(np.sum(g * v)))
    return rel_error(np.array(claimed), np.array(numeric))


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
