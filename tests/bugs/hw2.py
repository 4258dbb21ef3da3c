"""Planted hw2 mistakes and the diagnosis each must get (see tests/bugs/__init__.py)."""

from bugs import bug

_ADD = """
class Add:
    @staticmethod
    def forward(X, b):
        return X + b, None

    @staticmethod
    def backward(dout, cache):
        return {grads}
"""

_TANH = """
class Tanh:
    @staticmethod
    def forward(X):
        out = {forward}
        return out, out

    @staticmethod
    def backward(dout, cache):
        out = cache
        return ({dx},)
"""

_LEAKY = """
class LeakyReLU:
    ALPHA = 0.01

    @staticmethod
    def forward(X):
        return np.where(X > 0, X, LeakyReLU.ALPHA * X), {mask}

    @staticmethod
    def backward(dout, cache):
        return (dout * np.where(cache, 1.0, {alpha}),)
"""

_MSE = """
def mse_loss(y_pred, y_true):
    diff = y_pred - y_true
    return {loss}, {grad}
"""

_BCE = """
def bce_loss(p, y):
    q = {q}
    loss = -float(np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))
    return loss, {dp}
"""

_SOFTMAX = """
def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    shifted = {shifted}
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -float(np.mean(log_probs[np.arange(N), y]))
    d = np.exp(log_probs)
    {onehot}
    return loss, {dlogits}
"""

_TWO_LAYER = """
def two_layer_loss(params, X, y):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    z1 = X @ W1 + b1
    a1 = np.maximum(z1, 0)
    z2 = a1 @ W2 + b2
    p, c_sig = Sigmoid.forward(z2)
    loss, dp = bce_loss(p, y)
    (dz2,) = Sigmoid.backward(dp, c_sig)
    dW2 = a1.T @ dz2
    db2 = dz2.sum(axis=0)
    da1 = dz2 @ W2.T
    dz1 = da1 * (z1 > 0)
    dW1 = {dW1}
    db1 = {db1}
    return float(loss), {{"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}}
"""

_SGD = """
class SGD:
    def __init__(self, lr):
        self.lr = lr

    def step(self, params, grads):
        for key in params:
            {update}
"""

_MOMENTUM = """
class Momentum:
    def __init__(self, lr, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = {{}}

    def step(self, params, grads):
        {reset}
        for key in params:
            if key not in self.v:
                self.v[key] = np.zeros_like(params[key])
            self.v[key] = {velocity}
            params[key] += {sign}self.v[key]
"""

_RMSPROP = """
class RMSprop:
    def __init__(self, lr, beta=0.9, eps=1e-8):
        self.lr = lr
        self.beta = beta
        self.eps = eps
        self.s = {{}}

    def step(self, params, grads):
        for key in params:
            g = grads[key]
            if key not in self.s:
                self.s[key] = np.zeros_like(params[key])
            self.s[key] = self.beta * self.s[key] + (1 - self.beta) * g**2
            params[key] -= {update}
"""

_ADAM = """
class Adam:
    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m, self.v, self.t = {{}}, {{}}, 0

    def step(self, params, grads):
        {t_step}
        for key in params:
            {t_key}
            g = grads[key]
            if key not in self.m:
                self.m[key] = np.zeros_like(params[key])
                self.v[key] = np.zeros_like(params[key])
            self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * g
            self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * g**2
            m_hat = {m_hat}
            v_hat = {v_hat}
            params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
"""

_M_HAT = "self.m[key] / (1 - self.beta1**self.t)"
_V_HAT = "self.v[key] / (1 - self.beta2**self.t)"


def _adam(t_step="self.t += 1", t_key="", m_hat=_M_HAT, v_hat=_V_HAT) -> str:
    return _ADAM.format(t_step=t_step, t_key=t_key, m_hat=m_hat, v_hat=v_hat)


_TANH_OK = {"forward": "np.tanh(X)", "dx": "dout * (1 - out**2)"}
_MSE_OK = {"loss": "float(np.mean(diff**2))", "grad": "2 * diff / diff.size"}
_BCE_OK = {"q": "np.clip(p, 1e-12, 1 - 1e-12)", "dp": "(q - y) / (q * (1 - q)) / q.size"}
_SOFTMAX_OK = {"shifted": "logits - logits.max(axis=1, keepdims=True)",
               "onehot": "d[np.arange(N), y] -= 1", "dlogits": "d / N"}
_TWO_OK = {"dW1": "X.T @ dz1", "db1": "dz1.sum(axis=0)"}
_MOM_OK = {"reset": "", "velocity": "self.momentum * self.v[key] - self.lr * grads[key]",
           "sign": ""}

BUGS = [
    # ---- Add -------------------------------------------------------------------------------
    bug("hw2", "Add", "db not summed over the batch", "batch_not_summed",
        _ADD.format(grads="dout.copy(), dout.copy()")),
    bug("hw2", "Add", "db summed over axis 1", "wrong_axis",
        _ADD.format(grads="dout.copy(), dout.sum(axis=1)")),
    bug("hw2", "Add", "db averaged over the batch", "mean_instead_of_sum",
        _ADD.format(grads="dout.copy(), dout.mean(axis=0)")),
    bug("hw2", "Add", "gradients returned as (db, dX)", "swapped",
        _ADD.format(grads="dout.sum(axis=0), dout.copy()")),
    bug("hw2", "Add", "db = -sum(dout)", "wrong_sign",
        _ADD.format(grads="dout.copy(), -dout.sum(axis=0)")),
    # ---- Tanh ------------------------------------------------------------------------------
    bug("hw2", "Tanh", "tanh applied to the cached output again", "applied_twice",
        _TANH.format(**{**_TANH_OK, "dx": "dout * (1 - np.tanh(out) ** 2)"})),
    bug("hw2", "Tanh", "dout ignored", "upstream_ignored",
        _TANH.format(**{**_TANH_OK, "dx": "1 - out**2"})),
    bug("hw2", "Tanh", "forward in float32", "low_precision",
        _TANH.format(**{**_TANH_OK, "forward": "np.tanh(X.astype(np.float32))"})),
    bug("hw2", "Tanh", "derivative 1 - out instead of 1 - out**2", None,
        _TANH.format(**{**_TANH_OK, "dx": "dout * (1 - out)"})),
    # ---- LeakyReLU -------------------------------------------------------------------------
    bug("hw2", "LeakyReLU", "slope 1 at X == 0", "relu_at_zero",
        _LEAKY.format(mask="X >= 0", alpha="LeakyReLU.ALPHA")),
    bug("hw2", "LeakyReLU", "backward forgets the leak", None,
        _LEAKY.format(mask="X > 0", alpha="0.0")),
    bug("hw2", "LeakyReLU", "slope computed as out / X (0 / 0 at X == 0)", "nan_or_inf", """
        class LeakyReLU:
            ALPHA = 0.01

            @staticmethod
            def forward(X):
                out = np.where(X > 0, X, LeakyReLU.ALPHA * X)
                return out, (X, out)

            @staticmethod
            def backward(dout, cache):
                X, out = cache
                with np.errstate(invalid="ignore"):
                    return (dout * (out / X),)
    """),
    # ---- mse_loss --------------------------------------------------------------------------
    bug("hw2", "mse_loss", "gradient not divided by n", "sum_instead_of_mean",
        _MSE.format(**{**_MSE_OK, "grad": "2 * diff"})),
    bug("hw2", "mse_loss", "gradient without the 2", "missing_factor_2",
        _MSE.format(**{**_MSE_OK, "grad": "diff / diff.size"})),
    bug("hw2", "mse_loss", "loss summed", "sum_instead_of_mean",
        _MSE.format(**{**_MSE_OK, "loss": "float(np.sum(diff**2))"})),
    bug("hw2", "mse_loss", "gradient of y_true - y_pred", "wrong_sign",
        _MSE.format(**{**_MSE_OK, "grad": "-2 * diff / diff.size"})),
    bug("hw2", "mse_loss", "gradient divided by N only", "sum_instead_of_mean",
        _MSE.format(**{**_MSE_OK, "grad": "2 * diff / diff.shape[0]"})),
    # ---- bce_loss --------------------------------------------------------------------------
    bug("hw2", "bce_loss", "no clipping: log(0)", "overflow",
        _BCE.format(**{**_BCE_OK, "q": "p"})),
    bug("hw2", "bce_loss", "dp not divided by n", "sum_instead_of_mean",
        _BCE.format(**{**_BCE_OK, "dp": "(q - y) / (q * (1 - q))"})),
    bug("hw2", "bce_loss", "dp with the wrong sign", "wrong_sign",
        _BCE.format(**{**_BCE_OK, "dp": "(y - q) / (q * (1 - q)) / q.size"})),
    # ---- softmax_cross_entropy -------------------------------------------------------------
    bug("hw2", "softmax_cross_entropy", "log(p + 1e-12): wrong only at large logits",
        "wrong_at_extremes", """
        def softmax_cross_entropy(logits, y):
            z = logits - logits.max(axis=1, keepdims=True)
            p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
            n = len(y)
            loss = -np.mean(np.log(p[np.arange(n), y] + 1e-12))
            d = p.copy()
            d[np.arange(n), y] -= 1
            return float(loss), d / n
    """),
    bug("hw2", "softmax_cross_entropy", "no max subtraction: exp overflows", "overflow",
        _SOFTMAX.format(**{**_SOFTMAX_OK, "shifted": "logits"})),
    bug("hw2", "softmax_cross_entropy", "dlogits not divided by N", "sum_instead_of_mean",
        _SOFTMAX.format(**{**_SOFTMAX_OK, "dlogits": "d"})),
    bug("hw2", "softmax_cross_entropy", "one-hot not subtracted", None,
        _SOFTMAX.format(**{**_SOFTMAX_OK, "onehot": "pass"})),
    # ---- two_layer_loss --------------------------------------------------------------------
    bug("hw2", "two_layer_loss", "db1 not summed over the batch", "batch_not_summed",
        _TWO_LAYER.format(**{**_TWO_OK, "db1": "dz1"})),
    bug("hw2", "two_layer_loss", "dW1 transposed", "transposed",
        _TWO_LAYER.format(**{**_TWO_OK, "dW1": "dz1.T @ X"})),
    bug("hw2", "two_layer_loss", "ReLU backward skipped", None,
        _TWO_LAYER.format(**{**_TWO_OK, "dW1": "X.T @ da1", "db1": "da1.sum(axis=0)"})),
    bug("hw2", "two_layer_loss", "dz1 squeezed before db1 (only a one-row batch shows it)",
        "wrong_shape", _TWO_LAYER.format(**{**_TWO_OK, "db1": "np.squeeze(dz1).sum(axis=0)"})),
    # ---- optimizers ------------------------------------------------------------------------
    bug("hw2", "SGD", "steps uphill", "optimizer_wrong_sign",
        _SGD.format(update="params[key] += self.lr * grads[key]")),
    bug("hw2", "SGD", "lr applied twice", "optimizer_step_scale",
        _SGD.format(update="params[key] -= self.lr * self.lr * grads[key]")),
    bug("hw2", "Momentum", "velocity reset every step", "state_reset",
        _MOMENTUM.format(**{**_MOM_OK, "reset": "self.v = {}"})),
    bug("hw2", "Momentum", "velocity accumulates +lr g", "optimizer_wrong_sign",
        _MOMENTUM.format(**{**_MOM_OK,
                            "velocity": "self.momentum * self.v[key] + self.lr * grads[key]"})),
    bug("hw2", "Momentum", "velocities kept on the class", "state_shared", """
        class Momentum:
            v = {}

            def __init__(self, lr, momentum=0.9):
                self.lr = lr
                self.momentum = momentum

            def step(self, params, grads):
                for key in params:
                    v = Momentum.v.get(key, np.zeros_like(params[key]))
                    Momentum.v[key] = self.momentum * v - self.lr * grads[key]
                    params[key] += Momentum.v[key]
    """),
    bug("hw2", "RMSprop", "update with g ** 2", None,
        _RMSPROP.format(update="self.lr * g**2 / (np.sqrt(self.s[key]) + self.eps)")),
    bug("hw2", "Adam", "no bias correction", "no_bias_correction",
        _adam(m_hat="self.m[key]", v_hat="self.v[key]")),
    bug("hw2", "Adam", "only m bias-corrected", "partial_bias_correction",
        _adam(v_hat="self.v[key]")),
    bug("hw2", "Adam", "t advanced once per key", "step_count_per_key",
        _adam(t_step="", t_key="self.t += 1")),
    bug("hw2", "Adam", "t counted from 2 (off by one)", "adam_t_off_by_one",
        _adam(t_step="self.t += 2 if self.t == 0 else 1")),
    bug("hw2", "Adam", "eps added to v_hat and outside the root", None,
        _adam(v_hat="self.v[key] / (1 - self.beta2**self.t) + self.eps")),
    bug("hw2", "Adam", "t used before it is counted (0 / 0 at the first step)", "nan_or_inf",
        _adam(t_step="", t_key="").replace(
            "params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)",
            "params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)\n"
            "        self.t += 1")),
    bug("hw2", "Adam", "moments reset every step", "state_reset",
        _adam(t_step="self.t += 1; self.m, self.v = {}, {}")),
    # ---- clip_grad_norm --------------------------------------------------------------------
    bug("hw2", "clip_grad_norm", "scales the input arrays in place", "mutates_input", """
        def clip_grad_norm(grads, max_norm):
            total = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
            if total > max_norm:
                for g in grads.values():
                    g *= max_norm / total
            return {k: g.copy() for k, g in grads.items()}, total
    """),
]
