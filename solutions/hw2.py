"""hw2 reference: a two-layer network and its training.

Every top-level definition below becomes one notebook cell. The lines between
``# BEGIN SOLUTION`` and ``# END SOLUTION`` are what students write; the build replaces them
with a stub. Keep each definition self-contained (no module-level helpers); a definition may
use the hw1 blocks (provided to hw2 students, already implemented) and the hw2 definitions of
earlier questions, as a student's notebook would.
"""

import numpy as np

# Provided to hw2 students as already-implemented code (one notebook cell), under the same names.
from solutions.hw1 import MatMul, ReLU, Sigmoid, Square, Subtract, Sum  # noqa: F401


class Add:
    """out = X + b, the bias b broadcast over the rows of X.

    forward(X, b): X (N, M), b (M,) -> out (N, M), cache
    backward(dout, cache): dout (N, M) -> (dX (N, M), db (M,))
    """

    @staticmethod
    def forward(X, b):
        # BEGIN SOLUTION
        return X + b, None
        # END SOLUTION

    @staticmethod
    def backward(dout, cache):
        # BEGIN SOLUTION
        # b was added to every row, so its gradient collects dout from every row.
        return dout.copy(), dout.sum(axis=0)
        # END SOLUTION


class Tanh:
    """out = tanh(X), elementwise.

    forward(X): X (N, M) -> out (N, M), cache
    backward(dout, cache): dout (N, M) -> (dX (N, M),), using tanh'(x) = 1 - tanh(x)^2
    """

    @staticmethod
    def forward(X):
        # BEGIN SOLUTION
        out = np.tanh(X)
        return out, out
        # END SOLUTION

    @staticmethod
    def backward(dout, cache):
        # BEGIN SOLUTION
        out = cache
        return (dout * (1 - out**2),)
        # END SOLUTION


class LeakyReLU:
    """out = X where X > 0, ALPHA * X where X <= 0, elementwise.

    The slope is ALPHA for X <= 0 (so the gradient at exactly 0 is ALPHA).

    forward(X): X (N, M) -> out (N, M), cache
    backward(dout, cache): dout (N, M) -> (dX (N, M),)
    """

    ALPHA = 0.01

    @staticmethod
    def forward(X):
        # BEGIN SOLUTION
        return np.where(X > 0, X, LeakyReLU.ALPHA * X), X > 0
        # END SOLUTION

    @staticmethod
    def backward(dout, cache):
        # BEGIN SOLUTION
        positive = cache
        return (dout * np.where(positive, 1.0, LeakyReLU.ALPHA),)
        # END SOLUTION


def mse_loss(y_pred, y_true):
    """Mean squared error over all entries and its gradient.

    loss = mean((y_pred - y_true) ** 2), the mean over all n entries.

    Args:
        y_pred: (N, K) predictions.
        y_true: (N, K) targets.

    Returns:
        (loss, dy_pred): loss a Python float; dy_pred (N, K) = 2 (y_pred - y_true) / n.
    """
    # BEGIN SOLUTION
    diff = y_pred - y_true
    loss = float(np.mean(diff**2))
    dy_pred = 2 * diff / diff.size
    return loss, dy_pred
    # END SOLUTION


def bce_loss(p, y):
    """Binary cross-entropy, the mean over all entries, and its gradient.

    With q = clip(p, 1e-12, 1 - 1e-12) (so that log never sees 0):
        loss = -mean(y log q + (1 - y) log(1 - q))
        dp   = (q - y) / (q (1 - q)) / n
    i.e. dp is the derivative of the formula with respect to p, evaluated at the clipped q.
    Clipped entries therefore keep a large, finite gradient pushing p the right way (the
    convention of torch's BCELoss), instead of the zero gradient of the clip itself.

    Args:
        p: (N, 1) predicted probabilities in [0, 1].
        y: (N, 1) targets in [0, 1] (usually 0 or 1).

    Returns:
        (loss, dp): loss a Python float; dp (N, 1).
    """
    # BEGIN SOLUTION
    eps = 1e-12
    q = np.clip(p, eps, 1 - eps)
    loss = -float(np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))
    dp = (q - y) / (q * (1 - q)) / q.size
    return loss, dp
    # END SOLUTION


def softmax_cross_entropy(logits, y):
    """Softmax followed by cross-entropy, the mean over the batch, and its gradient.

    probs = softmax(logits) row by row; loss = -mean_i log probs[i, y[i]].
    Stable for large logits: the row maximum is subtracted before exp.

    Args:
        logits: (N, C) unnormalised scores.
        y: (N,) integer class labels in [0, C).

    Returns:
        (loss, dlogits): loss a Python float; dlogits (N, C) = (probs - onehot(y)) / N.
    """
    # BEGIN SOLUTION
    N = logits.shape[0]
    labels = np.asarray(y).astype(np.int64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -float(np.mean(log_probs[np.arange(N), labels]))
    dlogits = np.exp(log_probs)
    dlogits[np.arange(N), labels] -= 1
    return loss, dlogits / N
    # END SOLUTION


def init_two_layer(D, H, seed=0):
    """Initial parameters of the two-layer network (He init for W1, 1/H scaling for W2).

    rng = np.random.default_rng(seed); W1 is drawn before W2.

    Args:
        D: input dimension.
        H: hidden width.
        seed: seed of the generator.

    Returns:
        params: dict with W1 (D, H), b1 (H,), W2 (H, 1), b2 (1,).
    """
    # BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    W1 = rng.standard_normal((D, H)) * np.sqrt(2 / D)
    b1 = np.zeros(H)
    W2 = rng.standard_normal((H, 1)) * np.sqrt(1 / H)
    b2 = np.zeros(1)
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    # END SOLUTION


def two_layer_loss(params, X, y):
    """BCE loss of the two-layer network and the gradient of every parameter.

    z1 = X W1 + b1 -> a1 = relu(z1) -> z2 = a1 W2 + b2 -> p = sigmoid(z2) -> loss = bce(p, y)

    Args:
        params: dict with W1 (D, H), b1 (H,), W2 (H, 1), b2 (1,).
        X: (N, D) inputs.
        y: (N, 1) binary targets.

    Returns:
        (loss, grads): loss a Python float; grads a dict with the keys and shapes of params.
    """
    # BEGIN SOLUTION
    h1, c_mm1 = MatMul.forward(X, params["W1"])
    z1, c_add1 = Add.forward(h1, params["b1"])
    a1, c_relu = ReLU.forward(z1)
    h2, c_mm2 = MatMul.forward(a1, params["W2"])
    z2, c_add2 = Add.forward(h2, params["b2"])
    p, c_sig = Sigmoid.forward(z2)
    loss, dp = bce_loss(p, y)

    (dz2,) = Sigmoid.backward(dp, c_sig)
    dh2, db2 = Add.backward(dz2, c_add2)
    da1, dW2 = MatMul.backward(dh2, c_mm2)
    (dz1,) = ReLU.backward(da1, c_relu)
    dh1, db1 = Add.backward(dz1, c_add1)
    _, dW1 = MatMul.backward(dh1, c_mm1)
    return float(loss), {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
    # END SOLUTION


def two_layer_predict(params, X):
    """Predicted probabilities of the two-layer network (the forward pass of two_layer_loss).

    Args:
        params: dict with W1 (D, H), b1 (H,), W2 (H, 1), b2 (1,).
        X: (N, D) inputs.

    Returns:
        p: (N, 1) probabilities sigmoid(relu(X W1 + b1) W2 + b2).
    """
    # BEGIN SOLUTION
    h1, _ = MatMul.forward(X, params["W1"])
    a1, _ = ReLU.forward(h1 + params["b1"])
    h2, _ = MatMul.forward(a1, params["W2"])
    p, _ = Sigmoid.forward(h2 + params["b2"])
    return p
    # END SOLUTION


class SGD:
    """Plain stochastic gradient descent: theta -= lr * g for every key.

    SGD(lr); step(params, grads) updates the arrays of the dict ``params`` in place
    (``grads`` has the same keys and shapes and is left untouched).
    """

    def __init__(self, lr):
        # BEGIN SOLUTION
        self.lr = lr
        # END SOLUTION

    def step(self, params, grads):
        # BEGIN SOLUTION
        for key in params:
            params[key] -= self.lr * grads[key]
        # END SOLUTION


class Momentum:
    """SGD with momentum: v = momentum * v - lr * g; theta += v.

    Momentum(lr, momentum=0.9); one velocity v per key, created as zeros (shaped like the
    parameter) the first time step sees that key. step(params, grads) updates the arrays
    of ``params`` in place.
    """

    def __init__(self, lr, momentum=0.9):
        # BEGIN SOLUTION
        self.lr = lr
        self.momentum = momentum
        self.v = {}
        # END SOLUTION

    def step(self, params, grads):
        # BEGIN SOLUTION
        for key in params:
            if key not in self.v:
                self.v[key] = np.zeros_like(params[key])
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]
        # END SOLUTION


class RMSprop:
    """RMSprop: s = beta * s + (1 - beta) * g ** 2; theta -= lr * g / (sqrt(s) + eps).

    RMSprop(lr, beta=0.9, eps=1e-8); one running mean s of squared gradients per key,
    created as zeros the first time step sees that key. step(params, grads) updates the
    arrays of ``params`` in place.
    """

    def __init__(self, lr, beta=0.9, eps=1e-8):
        # BEGIN SOLUTION
        self.lr = lr
        self.beta = beta
        self.eps = eps
        self.s = {}
        # END SOLUTION

    def step(self, params, grads):
        # BEGIN SOLUTION
        for key in params:
            g = grads[key]
            if key not in self.s:
                self.s[key] = np.zeros_like(params[key])
            self.s[key] = self.beta * self.s[key] + (1 - self.beta) * g**2
            params[key] -= self.lr * g / (np.sqrt(self.s[key]) + self.eps)
        # END SOLUTION


class Adam:
    """Adam with bias correction.

    Adam(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8); per key, first and second moments
    m and v start at zero (created the first time step sees that key); t counts calls
    of step from 1:
        m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g ** 2
        m_hat = m / (1 - beta1 ** t);  v_hat = v / (1 - beta2 ** t)
        theta -= lr * m_hat / (sqrt(v_hat) + eps)
    step(params, grads) updates the arrays of ``params`` in place.
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        # BEGIN SOLUTION
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.m = {}
        self.v = {}
        self.t = 0
        # END SOLUTION

    def step(self, params, grads):
        # BEGIN SOLUTION
        self.t += 1
        for key in params:
            g = grads[key]
            if key not in self.m:
                self.m[key] = np.zeros_like(params[key])
                self.v[key] = np.zeros_like(params[key])
            self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * g
            self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * g**2
            m_hat = self.m[key] / (1 - self.beta1**self.t)
            v_hat = self.v[key] / (1 - self.beta2**self.t)
            params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        # END SOLUTION


def step_decay(lr0, gamma, step_size, t):
    """Learning rate at step t, multiplied by gamma every step_size steps.

    Returns:
        lr0 * gamma ** (t // step_size), a float.
    """
    # BEGIN SOLUTION
    return float(lr0 * gamma ** (t // step_size))
    # END SOLUTION


def exponential_decay(lr0, gamma, t):
    """Learning rate at step t, multiplied by gamma every step.

    Returns:
        lr0 * gamma ** t, a float.
    """
    # BEGIN SOLUTION
    return float(lr0 * gamma**t)
    # END SOLUTION


def cosine_annealing(t, T_max, lr_max, lr_min=0.0):
    """Learning rate at step t, following half a cosine from lr_max (t = 0) to lr_min (t = T_max).

    Returns:
        lr_min + (lr_max - lr_min) * (1 + cos(pi * t / T_max)) / 2, a float.
    """
    # BEGIN SOLUTION
    return float(lr_min + (lr_max - lr_min) * (1 + np.cos(np.pi * t / T_max)) / 2)
    # END SOLUTION


def linear_warmup(t, T_warmup, lr_target):
    """Learning rate at step t, rising linearly from 0 to lr_target over T_warmup steps.

    Returns:
        lr_target * t / T_warmup while t < T_warmup, else lr_target, a float.
    """
    # BEGIN SOLUTION
    if t < T_warmup:
        return float(lr_target * t / T_warmup)
    return float(lr_target)
    # END SOLUTION


def clip_grad_norm(grads, max_norm):
    """Rescale gradients so that their joint L2 norm is at most max_norm.

    total_norm = sqrt(sum over keys of sum(g ** 2)). When total_norm > max_norm every array
    is multiplied by max_norm / total_norm; otherwise the arrays are copied unchanged.

    Args:
        grads: dict of arrays (any shapes). Left untouched.
        max_norm: positive float.

    Returns:
        (clipped, total_norm): clipped a new dict of new arrays with the keys and shapes of
        grads; total_norm the norm before clipping, a float.
    """
    # BEGIN SOLUTION
    total_norm = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    scale = max_norm / total_norm if total_norm > max_norm else 1.0
    clipped = {key: g * scale for key, g in grads.items()}
    return clipped, total_norm
    # END SOLUTION


def train_two_layer(X, y, hidden, optimizer, epochs, batch_size, seed=0):
    """Mini-batch training of the two-layer network.

    params = init_two_layer(D, hidden, seed) and a separate rng = np.random.default_rng(seed).
    Each epoch draws perm = rng.permutation(N) and walks it in consecutive mini-batches
    perm[0:batch_size], perm[batch_size:2 batch_size], ... (the last one may be smaller);
    for each: loss, grads = two_layer_loss(params, X[idx], y[idx]); optimizer.step(params, grads).

    Args:
        X: (N, D) inputs.
        y: (N, 1) binary targets.
        hidden: hidden width H.
        optimizer: an object with step(params, grads), e.g. SGD(0.1) or Adam(1e-2).
        epochs: number of passes over the data.
        batch_size: examples per mini-batch.
        seed: seed of both the initialisation and the shuffling.

    Returns:
        (params, history): the trained params dict; history the list of ``epochs`` floats,
        each the mean of that epoch's mini-batch losses.
    """
    # BEGIN SOLUTION
    N, D = X.shape
    params = init_two_layer(D, hidden, seed)
    rng = np.random.default_rng(seed)
    history = []
    for _ in range(epochs):
        perm = rng.permutation(N)
        batch_losses = []
        for start in range(0, N, batch_size):
            idx = perm[start : start + batch_size]
            loss, grads = two_layer_loss(params, X[idx], y[idx])
            optimizer.step(params, grads)
            batch_losses.append(loss)
        history.append(float(np.mean(batch_losses)))
    return params, history
    # END SOLUTION


# The concept questions (question ``quiz``): item ids, questions and choices are printed in the
# notebook; the items' sections and tolerances are in autograder/hw2/quiz.py. The answers below
# are the key: they reach only the solution notebook and the hidden checks, never the release.
quiz_answers = {
    # BEGIN SOLUTION
    "q1": 9.5367e-07,
    "q2": "c",
    "q3": 0.125,
    "q4": 0.39362,
    "q5": -0.3,
    "q6": "c",
    "q7": 3.0,
    "q8": 15.0,
    "q9": "d",
    # END SOLUTION
}
