"""hw1's bank of variants: planted bugs (each with the diagnosis it must get) and correct
solutions written another way (full marks, no diagnosis). Format: ``bplab.variants``.

Read by path (``bplab.variants.load_variants``); `bplab examples hw1` writes one notebook per
entry with an ``example`` name. ``affects`` lists the other questions that lose points too:
their public cases call the buggy block and say "fix it first" (their hidden cases run with the
reference callees and keep their points).
"""

from bplab.variants import correct, planted

# The questions whose code calls the blocks (their public cases see a buggy block).
_LINREG = ["linreg_loss_and_grad", "fit_linreg"]
# numerical_gradient's first line: without it the function steps the caller's x itself.
_PRIVATE_COPY = ("    x = np.array(x, dtype=np.float64)  # a private copy: the caller's x is never "
                 "touched\n")

VARIANTS = [
    # ---- chain_rule ------------------------------------------------------------------------
    planted("chain_rule", "dsin_x2 without the inner derivative's 2", "missing_factor_2",
            define="dsin_x2",
            replace=[("return 2 * x * np.cos(x**2)", "return x * np.cos(x**2)")]),
    planted("chain_rule", "dcube with the wrong sign", "wrong_sign", define="dcube",
            replace=[("return 6 * x", "return -6 * x")]),
    planted("chain_rule", "dcube without the outer 3", "constant_factor", define="dcube",
            replace=[("return 6 * x", "return 2 * x")]),
    planted("chain_rule", "dcube without the inner derivative 2x", None, define="dcube",
            replace=[("return 6 * x * (x**2 + 1) ** 2", "return 3 * (x**2 + 1) ** 2")],
            example="bug_dcube_missing_inner_derivative",
            why="dcube forgets the inner derivative 2x of the chain rule"),
    planted("chain_rule", "grad_square_sum d/dy missing 2", "missing_factor_2",
            define="grad_square_sum", replace=[("return d, d", "return d, x + y")]),
    correct("chain_rule", "dsin_x2 via the product rule spelled out", define="dsin_x2",
            replace=[("return 2 * x * np.cos(x**2)",
                      "u = np.multiply(x, x)\n    return np.cos(u) * (x + x)")]),
    correct("chain_rule", "dsin_x2 as cos(x ** 2) * x * 2", define="dsin_x2",
            replace=[("return 2 * x * np.cos(x**2)", "return np.cos(np.square(x)) * x * 2")]),
    correct("chain_rule", "grad_square_sum with s * 2 and 2 * s", define="grad_square_sum",
            replace=[("d = 2 * (x + y)\n    return d, d", "s = x + y\n    return s * 2, 2 * s")]),
    # ---- numerical_gradient ----------------------------------------------------------------
    planted("numerical_gradient", "divides by h instead of 2h", "extra_factor_2",
            replace=[("(f_plus - f_minus) / (2 * h)", "(f_plus - f_minus) / h")]),
    planted("numerical_gradient", "steps x in place and never restores it", "mutates_input",
            replace=[(_PRIVATE_COPY, ""),
                     ("f_plus = float(f(x.copy()))", "f_plus = float(f(x))"),
                     ("f_minus = float(f(x.copy()))", "f_minus = float(f(x))"),
                     ("        x[i] = old\n", "")]),
    planted("numerical_gradient", "leaves x changed by 1e-3", "mutates_input",
            replace=[(_PRIVATE_COPY, ""),
                     ("        x[i] = old\n", "        x[i] = old + 1e-3  # not restored\n")]),
    planted("numerical_gradient", "forward differences", None,
            replace=[("x[i] = old + h", "x[i] = old + 1e-2"), ("x[i] = old - h", "x[i] = old"),
                     ("(f_plus - f_minus) / (2 * h)", "(f_plus - f_minus) / 1e-2")]),
    planted("numerical_gradient", "forward differences with step h", None,
            replace=[("x[i] = old - h", "x[i] = old"),
                     ("(f_plus - f_minus) / (2 * h)", "(f_plus - f_minus) / h")]),
    planted("numerical_gradient", "ignores h", None,
            replace=[("x = np.array(x, dtype=np.float64)",
                      "h = 1e-5\n    x = np.array(x, dtype=np.float64)")]),
    correct("numerical_gradient", "flat index loop over a copy", source="""
        def numerical_gradient(f, x, h=1e-5):
            x0 = np.asarray(x, dtype=np.float64)
            flat = x0.ravel().copy()
            out = np.empty_like(flat)
            for i in range(flat.size):
                e = np.zeros_like(flat)
                e[i] = h
                up, down = (flat + e).reshape(x0.shape), (flat - e).reshape(x0.shape)
                out[i] = (f(up) - f(down)) / (2 * h)
            return out.reshape(x0.shape)
    """),
    # ---- MatMul ----------------------------------------------------------------------------
    planted("MatMul", "dB transposed", "transposed",
            replace=[("dB = A.T @ dout", "dB = dout.T @ A")], affects=_LINREG,
            example="bug_matmul_db_transposed",
            why="MatMul.backward returns dB transposed: shape (M, D) instead of (D, M)"),
    planted("MatMul", "dB as (A.T @ dout).T", "transposed",
            replace=[("dB = A.T @ dout", "dB = (A.T @ dout).T")],
            affects=_LINREG),
    planted("MatMul", "dB doubled", "extra_factor_2",
            replace=[("dB = A.T @ dout", "dB = 2 * (A.T @ dout)")],
            affects=_LINREG),
    planted("MatMul", "gradients returned as (dB, dA)", "swapped",
            replace=[("return dA, dB", "return dB, dA")],
            affects=_LINREG),
    planted("MatMul", "dA divided by the batch size", "mean_instead_of_sum",
            replace=[("dA = dout @ B.T", "dA = dout @ B.T / A.shape[0]")]),
    planted("MatMul", "dout ignored", "upstream_ignored",
            replace=[("A, B = cache", "A, B = cache\n        dout = np.ones_like(dout)")],
            affects=_LINREG),
    planted("MatMul", "forward in float32", "low_precision",
            replace=[("out = A @ B\n", "out = A.astype(np.float32) @ B.astype(np.float32)\n")]),
    planted("MatMul", "both transposes forgotten (raises inside backward)", "shape_mismatch",
            replace=[("dA = dout @ B.T", "dA = dout @ B"), ("dB = A.T @ dout", "dB = A @ dout")],
            affects=_LINREG),
    planted("MatMul", "dA squeezed (only a one-row batch shows it)", "wrong_shape",
            replace=[("dA = dout @ B.T", "dA = np.squeeze(dout @ B.T)")]),
    correct("MatMul", "einsum, list result", source="""
        class MatMul:
            @staticmethod
            def forward(A, B):
                return np.einsum("nd,dm->nm", A, B), {"A": A, "B": B}

            @staticmethod
            def backward(dout, cache):
                return [np.dot(dout, cache["B"].T), np.einsum("nd,nm->dm", cache["A"], dout)]
    """),
    # ---- Subtract --------------------------------------------------------------------------
    planted("Subtract", "dB = +dout", "wrong_sign",
            replace=[("return dout.copy(), -dout", "return dout.copy(), dout.copy()")],
            affects=["fan_out"]),
    planted("Subtract", "dB = dout, no copies", "wrong_sign",
            replace=[("return dout.copy(), -dout", "return dout, dout")],
            affects=["fan_out"]),
    planted("Subtract", "negates dout in place", "mutates_dout",
            replace=[("return dout.copy(), -dout",
                      "dA = dout.copy()\n        dout *= -1\n        return dA, dout")]),
    planted("Subtract", "gradients returned as (dB, dA)", "swapped",
            replace=[("return dout.copy(), -dout", "return -dout, dout.copy()")],
            affects=[*_LINREG, "fan_out"]),
    correct("Subtract", "views and negative",
            replace=[("return A - B, None", "return np.subtract(A, B), ()"),
                     ("return dout.copy(), -dout", "return dout, np.negative(dout)")]),
    # ---- Square ----------------------------------------------------------------------------
    planted("Square", "dX = X * dout", "missing_factor_2",
            replace=[("return (2 * X * dout,)", "return (X * dout,)")],
            affects=_LINREG),
    planted("Square", "dX = 2 X (dout ignored)", "upstream_ignored",
            replace=[("return (2 * X * dout,)", "return (2 * X,)")]),
    planted("Square", "squares X in place", "mutates_input",
            replace=[("return X**2, X",
                      "X0 = X.copy()\n        np.square(X, out=X)\n        return X, X0")]),
    correct("Square", "bare array for one input",
            replace=[("return X**2, X", "return X * X, X.copy()"),
                     ("return (2 * X * dout,)", "return 2.0 * dout * X")]),
    # ---- Sum -------------------------------------------------------------------------------
    planted("Sum", "backward returns ones (dout ignored)", "upstream_ignored",
            replace=[("return (np.full(shape, float(dout)),)", "return (np.ones(shape),)")],
            # linreg starts the backward pass with dout = 1, so it cannot see this bug.
            example="bug_sum_backward_ignores_dout",
            why="Sum.backward returns ones instead of dout everywhere"),
    planted("Sum", "backward divides by the number of entries", "mean_instead_of_sum",
            replace=[("return (np.full(shape, float(dout)),)",
                      "return (np.full(shape, float(dout)) / np.prod(shape),)")],
            affects=[*_LINREG, "fan_out"]),
    planted("Sum", "forward sums over the batch axis only", "batch_not_summed",
            replace=[("return float(np.sum(X)), X.shape", "return np.sum(X, axis=0), X.shape"),
                     ("np.full(shape, float(dout))", "np.full(shape, float(np.sum(dout)))")],
            affects=[*_LINREG, "fan_out"]),
    correct("Sum", "0-d array forward, ones_like backward",
            replace=[("return float(np.sum(X)), X.shape", "return np.sum(X), np.zeros_like(X)"),
                     ("return (np.full(shape, float(dout)),)",
                      "return (np.ones_like(shape) * dout,)")]),
    # ---- Sigmoid ---------------------------------------------------------------------------
    planted("Sigmoid", "naive exp overflows", "overflow",
            replace=[("e = np.exp(-np.abs(X))\n"
                      "        out = np.where(X >= 0, 1 / (1 + e), e / (1 + e))",
                      "out = 1 / (1 + np.exp(-X))")]),
    planted("Sigmoid", "sigmoid applied to the cached output again", "applied_twice",
            replace=[("s = cache", "s = 1 / (1 + np.exp(-cache))")]),
    planted("Sigmoid", "backward with a minus sign", "wrong_sign",
            replace=[("return (dout * s * (1 - s),)", "return (-dout * s * (1 - s),)")],
            example="bug_sigmoid_backward_sign", why="Sigmoid.backward has the wrong sign"),
    planted("Sigmoid", "backward overwrites the cached output", "mutates_cache",
            replace=[("return (dout * s * (1 - s),)", "s *= 1 - s\n        return (dout * s,)")]),
    planted("Sigmoid", "backward without the (1 - s) factor", "missing_one_minus_s",
            replace=[("return (dout * s * (1 - s),)", "return (dout * s,)")]),
    correct("Sigmoid", "via tanh, caching X", source="""
        class Sigmoid:
            @staticmethod
            def forward(X):
                return 0.5 * (1 + np.tanh(X / 2)), X

            @staticmethod
            def backward(dout, cache):
                s = 0.5 * (1 + np.tanh(cache / 2))
                return (dout * s * (1 - s),)
    """),
    # ---- ReLU ------------------------------------------------------------------------------
    planted("ReLU", "gradient 1 at X == 0", "relu_at_zero",
            replace=[("return np.maximum(X, 0), X > 0", "return np.maximum(X, 0), X >= 0")],
            example="bug_relu_grad_at_zero",
            why="ReLU.backward lets the gradient through at X == 0 (relu'(0) must be 0)"),
    planted("ReLU", "backward returns the mask (dout ignored)", "upstream_ignored",
            replace=[("return (dout * mask,)", "return (mask.astype(np.float64),)")]),
    planted("ReLU", "zeroes dout in place", "mutates_dout",
            replace=[("return (dout * mask,)", "dout[~mask] = 0.0\n        return (dout,)")]),
    # A real student ReLU: the cache is X itself, and backward turns it into a 0/1 mask in
    # place, overwriting the caller's X (the contract: nothing modifies its inputs).
    planted("ReLU", "backward turns the cached X into a mask", "mutates_input",
            replace=[("return np.maximum(X, 0), X > 0\n\n    @staticmethod\n"
                      "    def backward(dout, cache):\n        mask = cache\n"
                      "        return (dout * mask,)",
                      "return np.maximum(X, 0), X\n\n    @staticmethod\n"
                      "    def backward(dout, cache):\n        X = cache\n        X[X <= 0] = 0\n"
                      "        X[X > 0] = 1\n        return (dout * X,)")],
            example="bug_relu_backward_masks_cached_x",
            why="ReLU.backward turns the X kept in its cache into a 0/1 mask, in place"),
    planted("ReLU", "forward zeroes X in place", "mutates_input",
            replace=[("return np.maximum(X, 0), X > 0",
                      "mask = X > 0\n        X[~mask] = 0\n        return X, mask")]),
    correct("ReLU", "np.where with a float mask", source="""
        class ReLU:
            @staticmethod
            def forward(X):
                return np.where(X > 0, X, 0.0), (X > 0).astype(np.float64)

            @staticmethod
            def backward(dout, cache):
                return (np.where(cache > 0, dout, 0.0),)
    """),
    # ---- fan_out (bplab_checks.fanout) -----------------------------------------------------
    planted("fan_out", "dx from the direct path only", "fan_out_path_dropped",
            define="fan_out_grad", replace=[("dx = dx_direct + dx_through_q", "dx = dx_direct")]),
    planted("fan_out", "dx assigned twice instead of summed", "fan_out_path_overwritten",
            define="fan_out_grad",
            replace=[("dx = dx_direct + dx_through_q", "dx = dx_through_q")],
            example="bug_fan_out_path_overwritten",
            why="fan_out_grad assigns dx twice instead of adding the two paths' gradients"),
    planted("fan_out", "Multiply returns (dout * A, dout * B)", "swapped", define="Multiply",
            replace=[("return dout * B, dout * A", "return dout * A, dout * B")]),
    planted("fan_out", "Multiply ignores dout", "upstream_ignored", define="Multiply",
            replace=[("return dout * B, dout * A", "return B.copy(), A.copy()")]),
    # ---- quiz (bplab_checks.quiz): wrong answers lose their items' points, no diagnosis ----
    planted("quiz", "two wrong answers", None, define="quiz_answers",
            replace=[('"q1": -1.8845', '"q1": 1.8845'), ('"q2": "b"', '"q2": "a"')]),
    # ---- linreg_loss_and_grad --------------------------------------------------------------
    planted("linreg_loss_and_grad", "returns the gradient of X", "gradient_of_other_input",
            replace=[("_, dtheta = MatMul.backward(dmu, c_mm)\n    return float(loss), dtheta",
                      "dX, _ = MatMul.backward(dmu, c_mm)\n    return float(loss), dX")],
            affects=["fit_linreg"]),
    planted("linreg_loss_and_grad", "mean instead of sum", "mean_instead_of_sum",
            replace=[("return float(loss), dtheta",
                      "return float(loss) / X.shape[0], dtheta / X.shape[0]")],
            affects=["fit_linreg"]),
    planted("linreg_loss_and_grad", "residual Y - X theta in the gradient", "wrong_sign",
            replace=[("return float(loss), dtheta", "return float(loss), -dtheta")],
            affects=["fit_linreg"]),
    planted("linreg_loss_and_grad", "gradient without the 2", "missing_factor_2",
            replace=[("return float(loss), dtheta", "return float(loss), dtheta / 2")],
            affects=["fit_linreg"]),
    planted("linreg_loss_and_grad", "dtheta flattened to (D,)", "wrong_shape",
            replace=[("return float(loss), dtheta", "return float(loss), dtheta.ravel()")],
            affects=["fit_linreg"]),
    # ---- fit_linreg ------------------------------------------------------------------------
    planted("fit_linreg", "steps uphill", None,
            replace=[("theta = theta - lr * g", "theta = theta + lr * g")]),
    planted("fit_linreg", "losses recorded after each step", None,
            replace=[("losses.append(loss)\n        theta = theta - lr * g",
                      "theta = theta - lr * g\n"
                      "        losses.append(linreg_loss_and_grad(theta, X, Y)[0])")]),
    planted("fit_linreg", "ignores the seed", None,
            replace=[("default_rng(seed)", "default_rng(seed + 1)")]),
    # ---- correct variants written entirely differently (tests/test_checks_variants.py mixes
    # them in one notebook) ---------------------------------------------------------------
    correct("MatMul", "MatMulEinsumList", source="""
class MatMul:
    @staticmethod
    def forward(A, B):
        return np.einsum("nd,dm->nm", A, B), {"A": A, "B": B}

    @staticmethod
    def backward(dout, cache):
        return [np.einsum("nm,dm->nd", dout, cache["B"]), np.einsum("nd,nm->dm", cache["A"], dout)]
"""),
    correct("MatMul", "MatMulLoops", source="""
class MatMul:
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
"""),
    correct("Square", "SquareBare", source="""
class Square:
    @staticmethod
    def forward(X):
        return X * X, X

    @staticmethod
    def backward(dout, cache):
        return 2.0 * cache * dout  # a bare array for a one-input block
"""),
    correct("Sum", "SumZeroD", source="""
class Sum:
    @staticmethod
    def forward(X):
        return np.array(X.sum()), X  # a 0-d array

    @staticmethod
    def backward(dout, cache):
        return [np.ones_like(cache) * dout]
"""),
    correct("Sum", "SumNumpyScalar", source="""
class Sum:
    @staticmethod
    def forward(X):
        return np.sum(X), X.shape  # a numpy float64 scalar

    @staticmethod
    def backward(dout, cache):
        return (np.broadcast_to(np.asarray(dout, dtype=float), cache).copy(),)
"""),
    correct("Sigmoid", "SigmoidTanh", source="""
class Sigmoid:
    @staticmethod
    def forward(X):
        return 0.5 * (1 + np.tanh(X / 2)), X

    @staticmethod
    def backward(dout, cache):
        s = 0.5 * (1 + np.tanh(cache / 2))
        return dout * s * (1 - s)
"""),
    correct("Sigmoid", "SigmoidWhere", source="""
class Sigmoid:
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
"""),
    correct("ReLU", "ReLUWhere", source="""
class ReLU:
    @staticmethod
    def forward(X):
        return X * (X > 0), X

    @staticmethod
    def backward(dout, cache):
        return [np.where(cache > 0, dout, 0.0)]
"""),
    correct("numerical_gradient", "numerical_gradient_flat", source="""
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.size)
    base = x.reshape(-1).copy()
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        grad[i] = (f((base + e).reshape(x.shape)) - f((base - e).reshape(x.shape))) / (2 * h)
    return grad.reshape(x.shape)
"""),
    correct("numerical_gradient", "numerical_gradient_nditer", source="""
def numerical_gradient(f, x, h=1e-5):
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
"""),
    correct("linreg_loss_and_grad", "linreg_direct", source="""
def linreg_loss_and_grad(theta, X, Y):
    r = X @ theta - Y
    return np.sum(r**2), 2 * X.T @ r
"""),
    correct("fit_linreg", "fit_linreg_array_losses", source="""
def fit_linreg(X, Y, lr, n_steps, seed=0):
    theta = np.random.default_rng(seed).standard_normal((X.shape[1], 1))
    losses = np.zeros(n_steps)
    for t in range(n_steps):
        r = X @ theta - Y
        losses[t] = np.sum(r * r)
        theta -= lr * 2 * X.T @ r  # theta is its own array: in place is fine
    return theta, list(losses)
"""),
]
