"""hw1 reference: blocks and linear regression.

Every top-level definition below becomes one notebook cell. The lines between
``# BEGIN SOLUTION`` and ``# END SOLUTION`` are what students write; the build replaces them
with a stub. Keep each definition self-contained (no module-level helpers).
"""

import numpy as np


def dsin_x2(x):
    """Derivative of sin(x^2) with respect to x, elementwise.

    Args:
        x: float or array of any shape.

    Returns:
        d/dx sin(x^2) at every entry of ``x``, same shape as ``x``.
    """
    # BEGIN SOLUTION
    return 2 * x * np.cos(x**2)
    # END SOLUTION


def dcube(x):
    """Derivative of (x^2 + 1)^3 with respect to x, elementwise.

    Args:
        x: float or array of any shape.

    Returns:
        d/dx (x^2 + 1)^3 at every entry of ``x``, same shape as ``x``.
    """
    # BEGIN SOLUTION
    return 6 * x * (x**2 + 1) ** 2
    # END SOLUTION


def grad_square_sum(x, y):
    """Gradient of (x + y)^2 with respect to x and y, elementwise.

    Args:
        x, y: floats or arrays of the same shape.

    Returns:
        (d/dx (x + y)^2, d/dy (x + y)^2), each shaped like ``x``.
    """
    # BEGIN SOLUTION
    d = 2 * (x + y)
    return d, d
    # END SOLUTION


def numerical_gradient(f, x, h=1e-5):
    """Central-difference gradient of a scalar function ``f`` at every entry of ``x``.

    df/dx[i] ~= (f(x + h e_i) - f(x - h e_i)) / (2 h)

    Args:
        f: function taking an array shaped like ``x`` and returning a scalar.
        x: float64 array of any shape. It must be unchanged when this returns.
        h: step size.

    Returns:
        Array shaped like ``x``.
    """
    # BEGIN SOLUTION
    x = np.array(x, dtype=np.float64)  # a private copy: the caller's x is never touched
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = float(f(x.copy()))
        x[i] = old - h
        f_minus = float(f(x.copy()))
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad
    # END SOLUTION


class MatMul:
    """out = A @ B.

    forward(A, B): A (N, D), B (D, M) -> out (N, M), cache
    backward(dout, cache): dout (N, M) -> (dA (N, D), dB (D, M))
    """

    @staticmethod
    def forward(A, B):
        # BEGIN SOLUTION
        out = A @ B
        cache = (A, B)
        return out, cache
        # END SOLUTION

    @staticmethod
    def backward(dout, cache):
        # BEGIN SOLUTION
        A, B = cache
        dA = dout @ B.T
        dB = A.T @ dout
        return dA, dB
        # END SOLUTION


class Subtract:
    """out = A - B (same shapes).

    forward(A, B): A (N, M), B (N, M) -> out (N, M), cache
    backward(dout, cache): dout (N, M) -> (dA (N, M), dB (N, M))
    """

    @staticmethod
    def forward(A, B):
        # BEGIN SOLUTION
        return A - B, None
        # END SOLUTION

    @staticmethod
    def backward(dout, cache):
        # BEGIN SOLUTION
        return dout.copy(), -dout
        # END SOLUTION


class Square:
    """out = X ** 2, elementwise.

    forward(X): X (N, M) -> out (N, M), cache
    backward(dout, cache): dout (N, M) -> (dX (N, M),)
    """

    @staticmethod
    def forward(X):
        # BEGIN SOLUTION
        return X**2, X
        # END SOLUTION

    @staticmethod
    def backward(dout, cache):
        # BEGIN SOLUTION
        X = cache
        return (2 * X * dout,)
        # END SOLUTION


class Sum:
    """out = sum of all entries of X, a scalar.

    forward(X): X (N, M) -> out (a float or 0-d array), cache
    backward(dout, cache): dout scalar -> (dX (N, M),)
    """

    @staticmethod
    def forward(X):
        # BEGIN SOLUTION
        return float(np.sum(X)), X.shape
        # END SOLUTION

    @staticmethod
    def backward(dout, cache):
        # BEGIN SOLUTION
        shape = cache
        return (np.full(shape, float(dout)),)
        # END SOLUTION


class Sigmoid:
    """out = 1 / (1 + exp(-X)), elementwise, without overflow for |X| up to 1000.

    forward(X): X (N, M) -> out (N, M), cache
    backward(dout, cache): dout (N, M) -> (dX (N, M),)
    """

    @staticmethod
    def forward(X):
        # BEGIN SOLUTION
        # exp of a non-positive number never overflows: use exp(-|X|) on both branches.
        e = np.exp(-np.abs(X))
        out = np.where(X >= 0, 1 / (1 + e), e / (1 + e))
        return out, out
        # END SOLUTION

    @staticmethod
    def backward(dout, cache):
        # BEGIN SOLUTION
        s = cache
        return (dout * s * (1 - s),)
        # END SOLUTION


class ReLU:
    """out = max(X, 0), elementwise; the gradient is 0 where X <= 0.

    forward(X): X (N, M) -> out (N, M), cache
    backward(dout, cache): dout (N, M) -> (dX (N, M),)
    """

    @staticmethod
    def forward(X):
        # BEGIN SOLUTION
        return np.maximum(X, 0), X > 0
        # END SOLUTION

    @staticmethod
    def backward(dout, cache):
        # BEGIN SOLUTION
        mask = cache
        return (dout * mask,)
        # END SOLUTION


class Multiply:
    """out = A * B, elementwise (same shapes).

    forward(A, B): A (N, M), B (N, M) -> out (N, M), cache
    backward(dout, cache): dout (N, M) -> (dA (N, M), dB (N, M))
    """

    @staticmethod
    def forward(A, B):
        # BEGIN SOLUTION
        return A * B, (A, B)
        # END SOLUTION

    @staticmethod
    def backward(dout, cache):
        # BEGIN SOLUTION
        A, B = cache
        return dout * B, dout * A
        # END SOLUTION


def fan_out_grad(x, y):
    """f = sum((x - y) * x) and its gradients, by chaining Subtract, Multiply and Sum.

    Graph: q = x - y (Subtract), p = q * x (Multiply), f = sum(p) (Sum). ``x`` feeds two
    nodes (fan-out), so dx is the sum of the gradients that come back along both paths.

    Args:
        x, y: float64 arrays of the same shape (N, M).

    Returns:
        (f, dx, dy): f a Python float; dx and dy shaped like ``x``.
    """
    # BEGIN SOLUTION
    q, c_sub = Subtract.forward(x, y)
    p, c_mul = Multiply.forward(q, x)
    f, c_sum = Sum.forward(p)

    (dp,) = Sum.backward(1.0, c_sum)
    dq, dx_direct = Multiply.backward(dp, c_mul)
    dx_through_q, dy = Subtract.backward(dq, c_sub)
    dx = dx_direct + dx_through_q  # two paths reach x: their gradients add up
    return float(f), dx, dy
    # END SOLUTION


def linreg_loss_and_grad(theta, X, Y):
    """Squared-error loss of linear regression and its gradient, by chaining blocks.

    Graph: theta, X -> mu = X @ theta -> Delta = mu - Y -> Delta ** 2 -> L = sum.

    Args:
        theta: (D, 1) parameters.
        X: (N, D) inputs, one row per example.
        Y: (N, 1) targets.

    Returns:
        (loss, dtheta): loss a Python float; dtheta (D, 1).
    """
    # BEGIN SOLUTION
    mu, c_mm = MatMul.forward(X, theta)
    delta, c_sub = Subtract.forward(mu, Y)
    sq, c_sq = Square.forward(delta)
    loss, c_sum = Sum.forward(sq)

    (dsq,) = Sum.backward(1.0, c_sum)
    (ddelta,) = Square.backward(dsq, c_sq)
    dmu, _ = Subtract.backward(ddelta, c_sub)
    _, dtheta = MatMul.backward(dmu, c_mm)
    return float(loss), dtheta
    # END SOLUTION


def fit_linreg(X, Y, lr, n_steps, seed=0):
    """Full-batch gradient descent on the linear-regression loss.

    Args:
        X: (N, D) inputs.
        Y: (N, 1) targets.
        lr: learning rate.
        n_steps: number of gradient steps.
        seed: seed of ``np.random.default_rng`` that draws theta0 (D, 1) from a standard normal.

    Returns:
        (theta, losses): the final theta (D, 1) and the list of the ``n_steps`` losses, each
        computed before its step.
    """
    # BEGIN SOLUTION
    theta = np.random.default_rng(seed).standard_normal((X.shape[1], 1))
    losses = []
    for _ in range(n_steps):
        loss, g = linreg_loss_and_grad(theta, X, Y)
        losses.append(loss)
        theta = theta - lr * g
    return theta, losses
    # END SOLUTION


# The concept questions (question ``quiz``): item ids, questions and choices are printed in the
# notebook; the items' sections and tolerances are in autograder/hw1/quiz.py. The answers below
# are the key: they reach only the solution notebook and the hidden checks, never the release.
quiz_answers = {
    # BEGIN SOLUTION
    "q1": -1.8845,
    "q2": "b",
    "q3": -6.0,
    "q4": 5.0,
    "q5": "d",
    "q6": 4.0,
    "q7": 0.17745,
    "q8": 0.11111,
    # END SOLUTION
}
