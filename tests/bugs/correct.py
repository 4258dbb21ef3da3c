"""Correct solutions written differently from the reference: each must get full marks on its
question and no diagnosis (``code`` is None and unused)."""

from bugs import bug
from bugs.hw2 import _RMSPROP, _adam

CORRECT = [
    bug("hw1", "chain_rule", "dsin_x2 via the product rule spelled out", None, """
        def dsin_x2(x):
            u = np.multiply(x, x)
            return np.cos(u) * (x + x)
    """),
    bug("hw1", "numerical_gradient", "flat index loop over a copy", None, """
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
    bug("hw1", "MatMul", "einsum, list result", None, """
        class MatMul:
            @staticmethod
            def forward(A, B):
                return np.einsum("nd,dm->nm", A, B), {"A": A, "B": B}

            @staticmethod
            def backward(dout, cache):
                return [np.dot(dout, cache["B"].T), np.einsum("nd,nm->dm", cache["A"], dout)]
    """),
    bug("hw1", "Subtract", "views and negative", None, """
        class Subtract:
            @staticmethod
            def forward(A, B):
                return np.subtract(A, B), ()

            @staticmethod
            def backward(dout, cache):
                return dout, np.negative(dout)
    """),
    bug("hw1", "Square", "bare array for one input", None, """
        class Square:
            @staticmethod
            def forward(X):
                return X * X, X.copy()

            @staticmethod
            def backward(dout, cache):
                return 2.0 * dout * cache
    """),
    bug("hw1", "Sum", "0-d array forward, ones_like backward", None, """
        class Sum:
            @staticmethod
            def forward(X):
                return np.sum(X), np.zeros_like(X)

            @staticmethod
            def backward(dout, cache):
                return (np.ones_like(cache) * dout,)
    """),
    bug("hw1", "Sigmoid", "via tanh, caching X", None, """
        class Sigmoid:
            @staticmethod
            def forward(X):
                return 0.5 * (1 + np.tanh(X / 2)), X

            @staticmethod
            def backward(dout, cache):
                s = 0.5 * (1 + np.tanh(cache / 2))
                return (dout * s * (1 - s),)
    """),
    bug("hw1", "ReLU", "np.where with a float mask", None, """
        class ReLU:
            @staticmethod
            def forward(X):
                return np.where(X > 0, X, 0.0), (X > 0).astype(np.float64)

            @staticmethod
            def backward(dout, cache):
                return (np.where(cache > 0, dout, 0.0),)
    """),
    bug("hw2", "Add", "dout without a copy, sum via ones", None, """
        class Add:
            @staticmethod
            def forward(X, b):
                return X + b[None, :], X.shape[0]

            @staticmethod
            def backward(dout, cache):
                return dout, np.ones(cache) @ dout
    """),
    bug("hw2", "Tanh", "caching X and recomputing", None, """
        class Tanh:
            @staticmethod
            def forward(X):
                return np.tanh(X), X

            @staticmethod
            def backward(dout, cache):
                return (dout / np.cosh(cache) ** 2,)
    """),
    bug("hw2", "mse_loss", "np.sum / size", None, """
        def mse_loss(y_pred, y_true):
            d = y_pred - y_true
            n = d.shape[0] * d.shape[1]
            return float(np.sum(d * d) / n), (2.0 / n) * d
    """),
    bug("hw2", "SGD", "assigning new arrays into the dict", None, """
        class SGD:
            def __init__(self, lr):
                self.lr = lr

            def step(self, params, grads):
                for key, g in grads.items():
                    params[key] -= self.lr * g
    """),
    bug("hw2", "Momentum", "theta -= v with v accumulating +lr g", None, """
        class Momentum:
            def __init__(self, lr, momentum=0.9):
                self.lr, self.momentum, self.v = lr, momentum, {}

            def step(self, params, grads):
                for key in params:
                    v = self.v.get(key, 0.0)
                    self.v[key] = self.momentum * v + self.lr * grads[key]
                    params[key] -= self.v[key]
    """),
    # The contract accepts eps inside the square root in RMSprop and Adam.
    bug("hw2", "RMSprop", "eps inside the square root", None,
        _RMSPROP.format(update="self.lr * g / np.sqrt(self.s[key] + self.eps)")),
    bug("hw2", "Adam", "eps inside the square root", None,
        _adam().replace("m_hat / (np.sqrt(v_hat) + self.eps)",
                        "m_hat / np.sqrt(v_hat + self.eps)")),
]
