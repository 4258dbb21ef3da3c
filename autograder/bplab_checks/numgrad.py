"""Full per-entry numerical gradients (central differences at every entry).

GRADER-ONLY: this module is the answer to hw1's ``numerical_gradient`` question, so
``bplab build`` never ships it to students (``bplab.build.GRADER_ONLY_CHECKS``). Nothing the
public test cases run may import it; public checks use ``gradcheck.directional_derivatives``
(a few random directions) instead. Hidden cases may import it inside their bodies, and the
project's own tests use it as an oracle.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from bplab_checks.gradcheck import _scalar, require_float64

__all__ = ["numerical_grad", "numerical_vjp"]


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
