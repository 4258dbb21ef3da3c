"""hw2's bank of variants: planted bugs (each with the diagnosis it must get) and correct
solutions written another way (full marks, no diagnosis). Format: ``bplab.variants``.

Read by path (``bplab.variants.load_variants``); `bplab examples hw2` writes one notebook per
entry with an ``example`` name. ``affects`` lists the other questions that lose points too
(their public cases call the buggy definition and say "fix it first").
"""

from bplab.variants import correct, planted

_ADAM_UPDATE = "params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)"
_M_HAT = "m_hat = self.m[key] / (1 - self.beta1**self.t)"
_V_HAT = "v_hat = self.v[key] / (1 - self.beta2**self.t)"

VARIANTS = [
    # ---- Add -------------------------------------------------------------------------------
    planted("Add", "db not summed over the batch", "batch_not_summed",
            replace=[("dout.sum(axis=0)", "dout.copy()")],
            affects=["two_layer_loss", "train_two_layer"]),
    planted("Add", "db summed over axis 1", "wrong_axis",
            replace=[("dout.sum(axis=0)", "dout.sum(axis=1)")],
            affects=["two_layer_loss", "train_two_layer"]),
    planted("Add", "db averaged over the batch", "mean_instead_of_sum",
            replace=[("dout.sum(axis=0)", "dout.mean(axis=0)")], affects=["two_layer_loss"],
            example="bug_add_db_mean_not_sum",
            why="Add.backward averages dout over the rows for db instead of summing"),
    planted("Add", "db averaged, dX not copied", "mean_instead_of_sum",
            replace=[("return dout.copy(), dout.sum(axis=0)", "return dout, dout.mean(axis=0)")],
            affects=["two_layer_loss"]),
    planted("Add", "gradients returned as (db, dX)", "swapped",
            replace=[("return dout.copy(), dout.sum(axis=0)",
                      "return dout.sum(axis=0), dout.copy()")],
            affects=["two_layer_loss", "train_two_layer"]),
    planted("Add", "db = -sum(dout)", "wrong_sign",
            replace=[("dout.sum(axis=0)", "-dout.sum(axis=0)")],
            affects=["two_layer_loss"]),
    correct("Add", "dout without a copy, sum via ones",
            replace=[("return X + b, None", "return X + b[None, :], X.shape[0]"),
                     ("return dout.copy(), dout.sum(axis=0)",
                      "return dout, np.ones(cache) @ dout")]),
    # ---- Tanh ------------------------------------------------------------------------------
    planted("Tanh", "tanh applied to the cached output again", "applied_twice",
            replace=[("(1 - out**2)", "(1 - np.tanh(out) ** 2)")]),
    planted("Tanh", "dout ignored", "upstream_ignored",
            replace=[("return (dout * (1 - out**2),)", "return (1 - out**2,)")]),
    planted("Tanh", "forward in float32", "low_precision",
            replace=[("out = np.tanh(X)", "out = np.tanh(X.astype(np.float32))")]),
    planted("Tanh", "derivative 1 - out instead of 1 - out**2", None,
            replace=[("(1 - out**2)", "(1 - out)")]),
    planted("Tanh", "derivative 1 - X**2 of the cached X", None,
            replace=[("return out, out", "return out, X")]),
    planted("Tanh", "naive exp overflows", "overflow",
            replace=[("out = np.tanh(X)",
                      "e, f = np.exp(X), np.exp(-X)\n        out = (e - f) / (e + f)")]),
    correct("Tanh", "caching X and recomputing", source="""
        class Tanh:
            @staticmethod
            def forward(X):
                return np.tanh(X), X

            @staticmethod
            def backward(dout, cache):
                return (dout / np.cosh(cache) ** 2,)
    """),
    # ---- LeakyReLU -------------------------------------------------------------------------
    planted("LeakyReLU", "slope 1 at X == 0", "relu_at_zero",
            replace=[("LeakyReLU.ALPHA * X), X > 0", "LeakyReLU.ALPHA * X), X >= 0")]),
    planted("LeakyReLU", "backward forgets the leak", None,
            replace=[("np.where(positive, 1.0, LeakyReLU.ALPHA)", "np.where(positive, 1.0, 0.0)")]),
    planted("LeakyReLU", "slope computed as out / X (0 / 0 at X == 0)", "nan_or_inf",
            replace=[("return np.where(X > 0, X, LeakyReLU.ALPHA * X), X > 0",
                      "out = np.where(X > 0, X, LeakyReLU.ALPHA * X)\n"
                      "        return out, (X, out)"),
                     ("positive = cache\n        return (dout * np.where(positive, 1.0, "
                      "LeakyReLU.ALPHA),)",
                      'X, out = cache\n        with np.errstate(invalid="ignore"):\n'
                      "            return (dout * (out / X),)")]),
    # ---- mse_loss --------------------------------------------------------------------------
    planted("mse_loss", "gradient not divided by n", "sum_instead_of_mean",
            replace=[("dy_pred = 2 * diff / diff.size", "dy_pred = 2 * diff")]),
    planted("mse_loss", "gradient without the 2", "missing_factor_2",
            replace=[("dy_pred = 2 * diff / diff.size", "dy_pred = diff / diff.size")]),
    planted("mse_loss", "loss summed", "sum_instead_of_mean",
            replace=[("loss = float(np.mean(diff**2))", "loss = float(np.sum(diff**2))")]),
    planted("mse_loss", "gradient of y_true - y_pred", "wrong_sign",
            replace=[("dy_pred = 2 * diff", "dy_pred = -2 * diff")]),
    planted("mse_loss", "gradient divided by N only", "sum_instead_of_mean",
            replace=[("2 * diff / diff.size", "2 * diff / diff.shape[0]")]),
    correct("mse_loss", "np.sum / size", source="""
        def mse_loss(y_pred, y_true):
            d = y_pred - y_true
            n = d.shape[0] * d.shape[1]
            return float(np.sum(d * d) / n), (2.0 / n) * d
    """),
    # ---- bce_loss --------------------------------------------------------------------------
    planted("bce_loss", "no clipping: log(0)", "overflow",
            replace=[("q = np.clip(p, eps, 1 - eps)", "q = p")]),
    planted("bce_loss", "dp not divided by n", "sum_instead_of_mean",
            replace=[("dp = (q - y) / (q * (1 - q)) / q.size", "dp = (q - y) / (q * (1 - q))")],
            affects=["two_layer_loss"]),
    planted("bce_loss", "dp with the wrong sign", "wrong_sign",
            replace=[("dp = (q - y)", "dp = (y - q)")],
            affects=["two_layer_loss", "train_two_layer"]),
    # ---- softmax_cross_entropy -------------------------------------------------------------
    planted("softmax_cross_entropy", "log(p + 1e-12): wrong only at large logits",
            "wrong_at_extremes",
            replace=[("loss = -float(np.mean(log_probs[np.arange(N), labels]))",
                      "p = np.exp(log_probs)\n"
                      "    loss = -float(np.mean(np.log(p[np.arange(N), labels] + 1e-12)))")]),
    planted("softmax_cross_entropy", "no max subtraction: exp overflows", "overflow",
            replace=[("shifted = logits - logits.max(axis=1, keepdims=True)", "shifted = logits")],
            example="bug_softmax_not_shifted",
            why="softmax_cross_entropy does not subtract the row maximum: overflow for large "
                "logits"),
    planted("softmax_cross_entropy", "dlogits not divided by N", "sum_instead_of_mean",
            replace=[("return loss, dlogits / N", "return loss, dlogits")]),
    planted("softmax_cross_entropy", "one-hot not subtracted", None,
            replace=[("    dlogits[np.arange(N), labels] -= 1\n", "")]),
    # ---- two_layer_loss --------------------------------------------------------------------
    planted("two_layer_loss", "db1 not summed over the batch", "batch_not_summed",
            replace=[("dh1, db1 = Add.backward(dz1, c_add1)",
                      "dh1, _ = Add.backward(dz1, c_add1)\n    db1 = dz1")],
            affects=["train_two_layer"]),
    planted("two_layer_loss", "db1 divided by the batch size", "mean_instead_of_sum",
            replace=[('"b1": db1', '"b1": db1 / X.shape[0]')]),
    planted("two_layer_loss", "dW1 transposed", "transposed",
            replace=[("_, dW1 = MatMul.backward(dh1, c_mm1)",
                      "_, dW1 = MatMul.backward(dh1, c_mm1)\n    dW1 = dW1.T")],
            affects=["train_two_layer"]),
    planted("two_layer_loss", "ReLU backward skipped", None,
            replace=[("(dz1,) = ReLU.backward(da1, c_relu)", "dz1 = da1")]),
    planted("two_layer_loss", "dz1 squeezed before db1 (only a one-row batch shows it)",
            "wrong_shape",
            replace=[("dh1, db1 = Add.backward(dz1, c_add1)",
                      "dh1, _ = Add.backward(dz1, c_add1)\n"
                      "    db1 = np.squeeze(dz1).sum(axis=0)")]),
    planted("two_layer_loss", "init draws W2 before W1", None, define="init_two_layer",
            replace=[("W1 = rng.standard_normal((D, H)) * np.sqrt(2 / D)\n    b1 = np.zeros(H)\n"
                      "    W2 = rng.standard_normal((H, 1)) * np.sqrt(1 / H)",
                      "W2 = rng.standard_normal((H, 1)) * np.sqrt(1 / H)\n"
                      "    W1 = rng.standard_normal((D, H)) * np.sqrt(2 / D)\n"
                      "    b1 = np.zeros(H)")]),
    planted("two_layer_loss", "predict returns the logits (no sigmoid)", None,
            define="two_layer_predict",
            replace=[('p, _ = Sigmoid.forward(h2 + params["b2"])\n    return p',
                      'return h2 + params["b2"]')]),
    # ---- optimizers ------------------------------------------------------------------------
    planted("SGD", "steps uphill", "optimizer_wrong_sign",
            replace=[("params[key] -= self.lr", "params[key] += self.lr")],
            affects=["train_two_layer"]),
    planted("SGD", "lr applied twice", "optimizer_step_scale",
            replace=[("self.lr * grads[key]", "self.lr * self.lr * grads[key]")],
            affects=["train_two_layer"]),
    planted("SGD", "returns new params instead of updating in place", None,
            replace=[("for key in params:\n            params[key] -= self.lr * grads[key]",
                      "return {key: params[key] - self.lr * grads[key] for key in params}")],
            affects=["train_two_layer"]),
    correct("SGD", "assigning new arrays into the dict",
            replace=[("for key in params:\n            params[key] -= self.lr * grads[key]",
                      "for key, g in grads.items():\n            params[key] -= self.lr * g")]),
    planted("Momentum", "velocity reset every step", "state_reset",
            replace=[("    def step(self, params, grads):\n",
                      "    def step(self, params, grads):\n        self.v = {}\n")]),
    planted("Momentum", "velocity forgets the previous step", "state_reset",
            replace=[("self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]",
                      "self.v[key] = -self.lr * grads[key]")]),
    planted("Momentum", "velocity accumulates +lr g", "optimizer_wrong_sign",
            replace=[("- self.lr * grads[key]", "+ self.lr * grads[key]")]),
    planted("Momentum", "velocities kept on the class", "state_shared",
            replace=[("        self.v = {}\n", ""),
                     ("    def __init__(self, lr, momentum=0.9):",
                      "    v = {}  # one dict for every instance\n\n"
                      "    def __init__(self, lr, momentum=0.9):")]),
    correct("Momentum", "theta -= v with v accumulating +lr g", source="""
        class Momentum:
            def __init__(self, lr, momentum=0.9):
                self.lr, self.momentum, self.v = lr, momentum, {}

            def step(self, params, grads):
                for key in params:
                    v = self.v.get(key, 0.0)
                    self.v[key] = self.momentum * v + self.lr * grads[key]
                    params[key] -= self.v[key]
    """),
    planted("RMSprop", "update with g ** 2", None,
            replace=[("self.lr * g / (", "self.lr * g**2 / (")]),
    planted("RMSprop", "eps inside and outside the square root", None,
            replace=[("np.sqrt(self.s[key]) + self.eps",
                      "np.sqrt(self.s[key] + self.eps) + self.eps")]),
    # The contract accepts eps inside the square root in RMSprop and Adam.
    correct("RMSprop", "eps inside the square root",
            replace=[("self.lr * g / (np.sqrt(self.s[key]) + self.eps)",
                      "self.lr * g / np.sqrt(self.s[key] + self.eps)")]),
    planted("Adam", "no bias correction", "no_bias_correction",
            replace=[(_M_HAT, "m_hat = self.m[key]"), (_V_HAT, "v_hat = self.v[key]")]),
    planted("Adam", "only v bias-corrected", "partial_bias_correction",
            replace=[(_M_HAT, "m_hat = self.m[key]")],
            example="bug_adam_no_bias_correction",
            why="Adam forgets the bias correction of the first moment"),
    planted("Adam", "only m bias-corrected", "partial_bias_correction",
            replace=[(_V_HAT, "v_hat = self.v[key]")]),
    planted("Adam", "t advanced once per key", "step_count_per_key",
            replace=[("        self.t += 1\n        for key in params:\n",
                      "        for key in params:\n            self.t += 1\n")]),
    planted("Adam", "t counted from 2 (off by one)", "adam_t_off_by_one",
            replace=[("self.t += 1", "self.t += 2 if self.t == 0 else 1")]),
    planted("Adam", "eps added to v_hat and outside the root", None,
            replace=[(_V_HAT, _V_HAT + " + self.eps")]),
    planted("Adam", "t used before it is counted (0 / 0 at the first step)", "nan_or_inf",
            replace=[("        self.t += 1\n", ""),
                     (_ADAM_UPDATE, _ADAM_UPDATE + "\n        self.t += 1")]),
    planted("Adam", "moments reset every step", "state_reset",
            replace=[("self.t += 1\n", "self.t += 1\n        self.m, self.v = {}, {}\n")]),
    correct("Adam", "eps inside the square root",
            replace=[("m_hat / (np.sqrt(v_hat) + self.eps)", "m_hat / np.sqrt(v_hat + self.eps)")]),
    # ---- lr_schedules ----------------------------------------------------------------------
    planted("lr_schedules", "step_decay with t / step_size", None, define="step_decay",
            replace=[("float(lr0 * gamma ** (t // step_size))",
                      "float(lr0 * gamma ** (t / step_size))")]),
    # The checks read (1 + sin) / 2 at t = 0 as half the right rate: what they say today.
    planted("lr_schedules", "cosine_annealing with sin", "missing_factor_2",
            define="cosine_annealing",
            replace=[("np.cos(np.pi * t / T_max)", "np.sin(np.pi * t / T_max)")]),
    planted("lr_schedules", "linear_warmup one step ahead", None, define="linear_warmup",
            replace=[("if t < T_warmup:\n        return float(lr_target * t / T_warmup)",
                      "if t + 1 < T_warmup:\n"
                      "        return float(lr_target * (t + 1) / T_warmup)")]),
    # ---- clip_grad_norm --------------------------------------------------------------------
    planted("clip_grad_norm", "scales the input arrays in place", "mutates_input",
            replace=[("clipped = {key: g * scale for key, g in grads.items()}",
                      "clipped = {key: np.multiply(g, scale, out=g) for key, g in grads.items()}")],
            example="bug_clip_grad_norm_in_place",
            why="clip_grad_norm scales the caller's arrays in place"),
    planted("clip_grad_norm", "scales in place and returns the same arrays", "mutates_input",
            replace=[("clipped = {key: g * scale for key, g in grads.items()}",
                      "for g in grads.values():\n        g *= scale\n    clipped = dict(grads)")]),
    planted("clip_grad_norm", "clips each array on its own", "constant_factor", source="""
        def clip_grad_norm(grads, max_norm):
            out = {}
            for k, g in grads.items():
                n = np.linalg.norm(g)
                out[k] = g * (max_norm / n) if n > max_norm else g.copy()
            total = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
            return out, total
    """),
    # ---- correct variants written entirely differently (tests/test_checks_variants.py) ----
    correct("Add", "AddEinsum", source="""
class Add:
    @staticmethod
    def forward(X, b):
        return X + b[None, :], X.shape[0]

    @staticmethod
    def backward(dout, cache):
        return dout * 1.0, np.einsum("nm->m", dout)
"""),
    correct("Tanh", "TanhCosh", source="""
class Tanh:
    @staticmethod
    def forward(X):
        return np.tanh(X), X

    @staticmethod
    def backward(dout, cache):
        # cosh overflows (a warning) at |X| = 1000, but 1 / inf**2 = 0 is the right value.
        with np.errstate(over="ignore"):
            return (dout / np.cosh(cache) ** 2,)
"""),
    correct("LeakyReLU", "LeakyReLUMax", source="""
class LeakyReLU:
    ALPHA = 0.01

    @staticmethod
    def forward(X):
        return np.maximum(X, 0.01 * X), X

    @staticmethod
    def backward(dout, cache):
        return np.where(cache > 0, dout, 0.01 * dout)
"""),
    correct("mse_loss", "mse_alt", source="""
def mse_loss(y_pred, y_true):
    d = y_pred - y_true
    return np.mean(np.square(d)), (2.0 / d.size) * d
"""),
    correct("bce_loss", "bce_zero_grad_when_clipped", source="""
def bce_loss(p, y):
    q = np.clip(p, 1e-12, 1 - 1e-12)
    loss = -np.mean(y * np.log(q) + (1 - y) * np.log1p(-q))
    dp = -(y / q - (1 - y) / (1 - q)) / p.size
    return float(loss), np.where((p > 1e-12) & (p < 1 - 1e-12), dp, 0.0)
"""),
    correct("softmax_cross_entropy", "softmax_onehot", source="""
def softmax_cross_entropy(logits, y):
    n, c = logits.shape
    z = logits - np.max(logits, axis=1)[:, None]
    logsum = np.log(np.sum(np.exp(z), axis=1))
    onehot = np.eye(c)[y]
    loss = np.mean(logsum - np.sum(z * onehot, axis=1))
    probs = np.exp(z - logsum[:, None])
    return loss, (probs - onehot) / n
"""),
    correct("two_layer_loss", "two_layer_loss_direct", source="""
def two_layer_loss(params, X, y):
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
"""),
    correct("SGD", "SGDRebind", source="""
class SGD:
    def __init__(self, lr):
        self.lr = lr

    def step(self, params, grads):
        for key, g in grads.items():
            params[key] = params[key] - self.lr * g  # rebinding the dict item is allowed
"""),
    correct("Momentum", "MomentumInPlaceState", source="""
class Momentum:
    def __init__(self, lr, momentum=0.9):
        self.lr, self.momentum, self.state = lr, momentum, {}

    def step(self, params, grads):
        for key, p in params.items():
            v = self.state.setdefault(key, np.zeros_like(p))
            v *= self.momentum
            v -= self.lr * grads[key]
            p += v
"""),
    correct("Adam", "AdamTuple", source="""
class Adam:
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
"""),
    correct("lr_schedules", "step_decay_np", source="""
def step_decay(lr0, gamma, step_size, t):
    return np.float64(lr0) * np.power(gamma, t // step_size)
"""),
    correct("lr_schedules", "cosine_math", source="""
def cosine_annealing(t, T_max, lr_max, lr_min=0.0):
    import math

    return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * t / T_max))
"""),
    correct("lr_schedules", "linear_warmup_min", source="""
def linear_warmup(t, T_warmup, lr_target):
    return lr_target * min(t / T_warmup, 1.0)
"""),
    correct("clip_grad_norm", "clip_concat", source="""
def clip_grad_norm(grads, max_norm):
    total = np.linalg.norm(np.concatenate([g.ravel() for g in grads.values()]))
    scale = min(1.0, max_norm / total)
    return {k: g * scale for k, g in grads.items()}, total
"""),
]
