"""Planted hw1 mistakes and the diagnosis each must get (see tests/bugs/__init__.py)."""

from bugs import bug

BUGS = [
    # ---- chain_rule ------------------------------------------------------------------------
    bug("hw1", "chain_rule", "dsin_x2 without the inner derivative's 2", "missing_factor_2", """
        def dsin_x2(x):
            return x * np.cos(x**2)
    """),
    bug("hw1", "chain_rule", "dcube with the wrong sign", "wrong_sign", """
        def dcube(x):
            return -6 * x * (x**2 + 1) ** 2
    """),
    bug("hw1", "chain_rule", "dcube without the outer 3", "constant_factor", """
        def dcube(x):
            return 2 * x * (x**2 + 1) ** 2
    """),
    bug("hw1", "chain_rule", "grad_square_sum d/dy missing 2", "missing_factor_2", """
        def grad_square_sum(x, y):
            return 2 * (x + y), x + y
    """),
    # ---- numerical_gradient ----------------------------------------------------------------
    bug("hw1", "numerical_gradient", "divides by h instead of 2h", "extra_factor_2", """
        def numerical_gradient(f, x, h=1e-5):
            x = np.array(x, dtype=np.float64)
            grad = np.zeros_like(x)
            for i in np.ndindex(x.shape):
                old = x[i]
                x[i] = old + h
                fp = float(f(x.copy()))
                x[i] = old - h
                fm = float(f(x.copy()))
                x[i] = old
                grad[i] = (fp - fm) / h
            return grad
    """),
    bug("hw1", "numerical_gradient", "steps x in place and never restores it", "mutates_input",
        """
        def numerical_gradient(f, x, h=1e-5):
            grad = np.zeros_like(x)
            for i in np.ndindex(x.shape):
                old = x[i]
                x[i] = old + h
                fp = float(f(x))
                x[i] = old - h
                fm = float(f(x))
                grad[i] = (fp - fm) / (2 * h)
            return grad
    """),
    bug("hw1", "numerical_gradient", "forward differences", None, """
        def numerical_gradient(f, x, h=1e-5):
            x = np.array(x, dtype=np.float64)
            grad = np.zeros_like(x)
            f0 = float(f(x.copy()))
            for i in np.ndindex(x.shape):
                xp = x.copy()
                xp[i] += 1e-2
                grad[i] = (float(f(xp)) - f0) / 1e-2
            return grad
    """),
    # ---- MatMul ----------------------------------------------------------------------------
    bug("hw1", "MatMul", "dB transposed", "transposed", """
        class MatMul:
            @staticmethod
            def forward(A, B):
                return A @ B, (A, B)

            @staticmethod
            def backward(dout, cache):
                A, B = cache
                return dout @ B.T, dout.T @ A
    """),
    bug("hw1", "MatMul", "gradients returned as (dB, dA)", "swapped", """
        class MatMul:
            @staticmethod
            def forward(A, B):
                return A @ B, (A, B)

            @staticmethod
            def backward(dout, cache):
                A, B = cache
                return A.T @ dout, dout @ B.T
    """),
    bug("hw1", "MatMul", "dA divided by the batch size", "mean_instead_of_sum", """
        class MatMul:
            @staticmethod
            def forward(A, B):
                return A @ B, (A, B)

            @staticmethod
            def backward(dout, cache):
                A, B = cache
                return dout @ B.T / A.shape[0], A.T @ dout
    """),
    bug("hw1", "MatMul", "dout ignored", "upstream_ignored", """
        class MatMul:
            @staticmethod
            def forward(A, B):
                return A @ B, (A, B)

            @staticmethod
            def backward(dout, cache):
                A, B = cache
                ones = np.ones_like(dout)
                return ones @ B.T, A.T @ ones
    """),
    bug("hw1", "MatMul", "forward in float32", "low_precision", """
        class MatMul:
            @staticmethod
            def forward(A, B):
                return (A.astype(np.float32) @ B.astype(np.float32)), (A, B)

            @staticmethod
            def backward(dout, cache):
                A, B = cache
                return dout @ B.T, A.T @ dout
    """),
    # ---- Subtract --------------------------------------------------------------------------
    bug("hw1", "Subtract", "dB = +dout", "wrong_sign", """
        class Subtract:
            @staticmethod
            def forward(A, B):
                return A - B, None

            @staticmethod
            def backward(dout, cache):
                return dout.copy(), dout.copy()
    """),
    bug("hw1", "Subtract", "negates dout in place", "mutates_dout", """
        class Subtract:
            @staticmethod
            def forward(A, B):
                return A - B, None

            @staticmethod
            def backward(dout, cache):
                dA = dout.copy()
                dout *= -1
                return dA, dout
    """),
    bug("hw1", "Subtract", "gradients returned as (dB, dA)", "swapped", """
        class Subtract:
            @staticmethod
            def forward(A, B):
                return A - B, None

            @staticmethod
            def backward(dout, cache):
                return -dout, dout.copy()
    """),
    # ---- Square ----------------------------------------------------------------------------
    bug("hw1", "Square", "dX = X * dout", "missing_factor_2", """
        class Square:
            @staticmethod
            def forward(X):
                return X**2, X

            @staticmethod
            def backward(dout, cache):
                return (cache * dout,)
    """),
    bug("hw1", "Square", "dX = 2 X (dout ignored)", "upstream_ignored", """
        class Square:
            @staticmethod
            def forward(X):
                return X**2, X

            @staticmethod
            def backward(dout, cache):
                return (2 * cache,)
    """),
    bug("hw1", "Square", "squares X in place", "mutates_input", """
        class Square:
            @staticmethod
            def forward(X):
                X0 = X.copy()
                np.square(X, out=X)
                return X, X0

            @staticmethod
            def backward(dout, cache):
                return (2 * cache * dout,)
    """),
    # ---- Sum -------------------------------------------------------------------------------
    bug("hw1", "Sum", "backward returns ones (dout ignored)", "upstream_ignored", """
        class Sum:
            @staticmethod
            def forward(X):
                return float(np.sum(X)), X.shape

            @staticmethod
            def backward(dout, cache):
                return (np.ones(cache),)
    """),
    bug("hw1", "Sum", "backward divides by the number of entries", "mean_instead_of_sum", """
        class Sum:
            @staticmethod
            def forward(X):
                return float(np.sum(X)), X.shape

            @staticmethod
            def backward(dout, cache):
                return (np.full(cache, float(dout)) / np.prod(cache),)
    """),
    bug("hw1", "Sum", "forward sums over the batch axis only", "batch_not_summed", """
        class Sum:
            @staticmethod
            def forward(X):
                return np.sum(X, axis=0), X.shape

            @staticmethod
            def backward(dout, cache):
                return (np.full(cache, float(np.sum(dout))),)
    """),
    # ---- Sigmoid ---------------------------------------------------------------------------
    bug("hw1", "Sigmoid", "naive exp overflows", "overflow", """
        class Sigmoid:
            @staticmethod
            def forward(X):
                s = 1 / (1 + np.exp(-X))
                return s, s

            @staticmethod
            def backward(dout, cache):
                return (dout * cache * (1 - cache),)
    """),
    bug("hw1", "Sigmoid", "sigmoid applied to the cached output again", "applied_twice", """
        class Sigmoid:
            @staticmethod
            def forward(X):
                e = np.exp(-np.abs(X))
                s = np.where(X >= 0, 1 / (1 + e), e / (1 + e))
                return s, s

            @staticmethod
            def backward(dout, cache):
                s = 1 / (1 + np.exp(-cache))
                return (dout * s * (1 - s),)
    """),
    bug("hw1", "Sigmoid", "backward with a minus sign", "wrong_sign", """
        class Sigmoid:
            @staticmethod
            def forward(X):
                e = np.exp(-np.abs(X))
                s = np.where(X >= 0, 1 / (1 + e), e / (1 + e))
                return s, s

            @staticmethod
            def backward(dout, cache):
                return (-dout * cache * (1 - cache),)
    """),
    bug("hw1", "Sigmoid", "backward overwrites the cached output", "mutates_cache", """
        class Sigmoid:
            @staticmethod
            def forward(X):
                e = np.exp(-np.abs(X))
                s = np.where(X >= 0, 1 / (1 + e), e / (1 + e))
                return s, s

            @staticmethod
            def backward(dout, cache):
                s = cache
                s *= 1 - s
                return (dout * s,)
    """),
    # ---- ReLU ------------------------------------------------------------------------------
    bug("hw1", "ReLU", "gradient 1 at X == 0", "relu_at_zero", """
        class ReLU:
            @staticmethod
            def forward(X):
                return np.maximum(X, 0), X >= 0

            @staticmethod
            def backward(dout, cache):
                return (dout * cache,)
    """),
    bug("hw1", "ReLU", "backward returns the mask (dout ignored)", "upstream_ignored", """
        class ReLU:
            @staticmethod
            def forward(X):
                return np.maximum(X, 0), X > 0

            @staticmethod
            def backward(dout, cache):
                return (cache.astype(np.float64),)
    """),
    bug("hw1", "ReLU", "zeroes dout in place", "mutates_dout", """
        class ReLU:
            @staticmethod
            def forward(X):
                return np.maximum(X, 0), X > 0

            @staticmethod
            def backward(dout, cache):
                dout[~cache] = 0.0
                return (dout,)
    """),
    bug("hw1", "ReLU", "backward turns the cached X into a mask", "mutates_input", """
        class ReLU:
            @staticmethod
            def forward(X):
                return np.maximum(X, 0), X

            @staticmethod
            def backward(dout, cache):
                X = cache
                X[X <= 0] = 0
                X[X > 0] = 1
                return (dout * X,)
    """),
    bug("hw1", "MatMul", "both transposes forgotten (raises inside backward)", "shape_mismatch",
        """
        class MatMul:
            @staticmethod
            def forward(A, B):
                return A @ B, (A, B)

            @staticmethod
            def backward(dout, cache):
                A, B = cache
                return dout @ B, A @ dout
    """),
    bug("hw1", "MatMul", "dA squeezed (only a one-row batch shows it)", "wrong_shape", """
        class MatMul:
            @staticmethod
            def forward(A, B):
                return A @ B, (A, B)

            @staticmethod
            def backward(dout, cache):
                A, B = cache
                return np.squeeze(dout @ B.T), A.T @ dout
    """),
    bug("hw1", "Sigmoid", "backward without the (1 - s) factor", "missing_one_minus_s", """
        class Sigmoid:
            @staticmethod
            def forward(X):
                s = np.exp(-np.logaddexp(0.0, -X))
                return s, s

            @staticmethod
            def backward(dout, cache):
                return (dout * cache,)
    """),
    # ---- fan_out (bplab_checks.fanout) -----------------------------------------------------
    bug("hw1", "fan_out", "dx from the direct path only", "fan_out_path_dropped", """
        def fan_out_grad(x, y):
            q, c_sub = Subtract.forward(x, y)
            p, c_mul = Multiply.forward(q, x)
            f, c_sum = Sum.forward(p)
            (dp,) = Sum.backward(1.0, c_sum)
            dq, dx = Multiply.backward(dp, c_mul)
            _, dy = Subtract.backward(dq, c_sub)
            return float(f), dx, dy
    """),
    bug("hw1", "fan_out", "dx assigned twice instead of summed", "fan_out_path_overwritten", """
        def fan_out_grad(x, y):
            q, c_sub = Subtract.forward(x, y)
            p, c_mul = Multiply.forward(q, x)
            f, c_sum = Sum.forward(p)
            (dp,) = Sum.backward(1.0, c_sum)
            dq, dx = Multiply.backward(dp, c_mul)
            dx, dy = Subtract.backward(dq, c_sub)
            return float(f), dx, dy
    """),
    bug("hw1", "fan_out", "Multiply returns (dout * A, dout * B)", "swapped", """
        class Multiply:
            @staticmethod
            def forward(A, B):
                return A * B, (A, B)

            @staticmethod
            def backward(dout, cache):
                A, B = cache
                return dout * A, dout * B
    """),
    bug("hw1", "fan_out", "Multiply ignores dout", "upstream_ignored", """
        class Multiply:
            @staticmethod
            def forward(A, B):
                return A * B, (A, B)

            @staticmethod
            def backward(dout, cache):
                A, B = cache
                return B.copy(), A.copy()
    """),
    # ---- quiz (bplab_checks.quiz): wrong answers lose their items' points, no diagnosis ----
    bug("hw1", "quiz", "two wrong answers", None, """
        quiz_answers = {"q1": 1.8845, "q2": "a", "q3": -6.0, "q4": 5.0, "q5": "d", "q6": 4.0,
                        "q7": 0.17745, "q8": 0.11111}
    """),
    # ---- linreg_loss_and_grad --------------------------------------------------------------
    bug("hw1", "linreg_loss_and_grad", "returns the gradient of X", "gradient_of_other_input",
        """
        def linreg_loss_and_grad(theta, X, Y):
            mu, c_mm = MatMul.forward(X, theta)
            delta, c_sub = Subtract.forward(mu, Y)
            sq, c_sq = Square.forward(delta)
            loss, c_sum = Sum.forward(sq)
            (dsq,) = Sum.backward(1.0, c_sum)
            (ddelta,) = Square.backward(dsq, c_sq)
            dmu, _ = Subtract.backward(ddelta, c_sub)
            dX, _ = MatMul.backward(dmu, c_mm)
            return float(loss), dX
    """),
    bug("hw1", "linreg_loss_and_grad", "mean instead of sum", "mean_instead_of_sum", """
        def linreg_loss_and_grad(theta, X, Y):
            r = X @ theta - Y
            return float(np.sum(r**2)) / X.shape[0], 2 * X.T @ r / X.shape[0]
    """),
    bug("hw1", "linreg_loss_and_grad", "residual Y - X theta in the gradient", "wrong_sign", """
        def linreg_loss_and_grad(theta, X, Y):
            r = X @ theta - Y
            return float(np.sum(r**2)), 2 * X.T @ (Y - X @ theta)
    """),
    bug("hw1", "linreg_loss_and_grad", "gradient without the 2", "missing_factor_2", """
        def linreg_loss_and_grad(theta, X, Y):
            r = X @ theta - Y
            return float(np.sum(r**2)), X.T @ r
    """),
    bug("hw1", "linreg_loss_and_grad", "dtheta flattened to (D,)", "wrong_shape", """
        def linreg_loss_and_grad(theta, X, Y):
            r = X @ theta - Y
            return float(np.sum(r**2)), (2 * X.T @ r).ravel()
    """),
    # ---- fit_linreg ------------------------------------------------------------------------
    bug("hw1", "fit_linreg", "steps uphill", None, """
        def fit_linreg(X, Y, lr, n_steps, seed=0):
            theta = np.random.default_rng(seed).standard_normal((X.shape[1], 1))
            losses = []
            for _ in range(n_steps):
                loss, g = linreg_loss_and_grad(theta, X, Y)
                losses.append(loss)
                theta = theta + lr * g
            return theta, losses
    """),
]
