"""hw3 reference: a small autograd engine, deep networks, and what goes wrong in them.

Every top-level definition below becomes one notebook cell. The lines between
``# BEGIN SOLUTION`` and ``# END SOLUTION`` are what students write; the build replaces them
with a stub. Keep each definition self-contained (no module-level helpers); a definition may use
the provided hw1 blocks, hw2 blocks and losses (already implemented in the notebook), as a
student's notebook would.

No graded definition calls another graded one (``mlp_loss`` is written with the provided blocks,
``gradient_norms`` has its own set-up, ``lr_range_test`` is handed its loss function), so a bug
costs points on its own question only.
"""

import numpy as np

# Provided to hw3 students as already-implemented code (notebook cells), under the same names.
from solutions.hw1 import MatMul, Multiply, ReLU, Sigmoid, Square, Subtract, Sum  # noqa: F401
from solutions.hw2 import Add, LeakyReLU, Tanh, bce_loss, mse_loss, softmax_cross_entropy  # noqa: F401


class Graph:
    """A computation graph of blocks: record it, run it forward, backpropagate through it.

        g = Graph()
        x = g.input("x")              # node ids are ints, in creation order
        h = g.apply(Tanh, x)          # any block: forward(*inputs) -> (out, cache)
        f = g.apply(Sum, g.apply(Multiply, h, x))
        value = g.forward({"x": X})   # runs every node in creation order; returns the last one
        grads = g.backward()          # {"x": df/dX}, shaped like X

    input(name) -> node; apply(block, *parents) -> node, the parents being earlier nodes (one
    node may appear several times); forward(feed) -> the value of the last node created (the
    output, a scalar), feed mapping every input name to its array; backward() -> dict from input
    name to the gradient of the output with respect to that input.

    backward calls each node's block backward exactly once, in reverse topological order (every
    consumer of a node before the node), with the sum of the gradients that reached the node
    along all of its uses; the output's gradient is 1.0. forward may be called again with new
    values; backward then gives the new gradients. Nothing fed in is modified.
    """

    def __init__(self):
        # BEGIN SOLUTION
        self.blocks = []  # node -> its block, or None for an input
        self.parents = []  # node -> tuple of parent nodes, in argument order
        self.names = []  # node -> input name, or None for a block
        self.values = []
        self.caches = []
        # END SOLUTION

    def input(self, name):
        """A new input node fed as feed[name] by forward; returns its id (an int)."""
        # BEGIN SOLUTION
        self.blocks.append(None)
        self.parents.append(())
        self.names.append(name)
        return len(self.blocks) - 1
        # END SOLUTION

    def apply(self, block, *parents):
        """A new node computing block.forward(*values of parents); returns its id (an int)."""
        # BEGIN SOLUTION
        self.blocks.append(block)
        self.parents.append(tuple(parents))
        self.names.append(None)
        return len(self.blocks) - 1
        # END SOLUTION

    def forward(self, feed):
        """Run every node in creation order; return the value of the last node created."""
        # BEGIN SOLUTION
        self.values, self.caches = [], []
        for node, block in enumerate(self.blocks):
            if block is None:
                value, cache = feed[self.names[node]], None
            else:
                value, cache = block.forward(*[self.values[p] for p in self.parents[node]])
            self.values.append(value)
            self.caches.append(cache)
        return self.values[-1]
        # END SOLUTION

    def backward(self):
        """Gradients of the output with respect to every input: {name: array shaped like it}."""
        # BEGIN SOLUTION
        # Depth-first search from the output: a node joins `order` once all of its parents have,
        # so `order` is topological and its reverse visits every consumer before its inputs.
        output = len(self.blocks) - 1
        order, done, stack = [], set(), [(output, False)]
        while stack:
            node, parents_done = stack.pop()
            if parents_done:
                order.append(node)
            elif node not in done:
                done.add(node)
                stack.append((node, True))
                stack.extend((p, False) for p in self.parents[node] if p not in done)
        grads = {output: 1.0}
        for node in reversed(order):
            block = self.blocks[node]
            if block is None:
                continue
            local = block.backward(grads[node], self.caches[node])
            if not isinstance(local, tuple | list):
                local = (local,)
            for parent, g in zip(self.parents[node], local, strict=True):
                # Fan-out: a node used several times gets the sum over all of its uses.
                grads[parent] = grads[parent] + g if parent in grads else g
        return {
            self.names[n]: np.asarray(grads.get(n, np.zeros_like(self.values[n])), dtype=float)
            for n in range(len(self.blocks))
            if self.blocks[n] is None
        }
        # END SOLUTION


def mlp_init(sizes, seed=0):
    """Initial parameters of an L-layer network, L = len(sizes) - 1 (He initialisation).

    rng = np.random.default_rng(seed); for l = 1..L in that order:
    W{l} = rng.standard_normal((sizes[l-1], sizes[l])) * sqrt(2 / sizes[l-1]); b{l} = zeros.

    Args:
        sizes: layer widths [D, H1, ..., 1], len(sizes) >= 2.
        seed: seed of the generator.

    Returns:
        params: dict with "W1" (sizes[0], sizes[1]), "b1" (sizes[1],), ..., "WL", "bL".
    """
    # BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(sizes)):
        fan_in = sizes[l - 1]
        params[f"W{l}"] = rng.standard_normal((fan_in, sizes[l])) * np.sqrt(2 / fan_in)
        params[f"b{l}"] = np.zeros(sizes[l])
    return params
    # END SOLUTION


def mlp_loss(params, X, y, activation="relu"):
    """BCE loss of an L-layer network and the gradient of every parameter.

    a0 = X; z_l = a_{l-1} W_l + b_l; a_l = act(z_l) for l < L; p = sigmoid(z_L);
    loss = bce(p, y) (the mean over the batch). L is the number of W keys in params.

    Args:
        params: dict with W1 (D, H1), b1 (H1,), ..., WL (H_{L-1}, 1), bL (1,).
        X: (N, D) inputs.
        y: (N, 1) binary targets.
        activation: "relu", "tanh" or "sigmoid", used by every layer but the last.

    Returns:
        (loss, grads): loss a Python float; grads a dict with the keys and shapes of params.
    """
    # BEGIN SOLUTION
    act = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}[activation]
    L = sum(1 for key in params if key.startswith("W"))
    a, caches = X, []
    for l in range(1, L + 1):
        h, c_mm = MatMul.forward(a, params[f"W{l}"])
        z, c_add = Add.forward(h, params[f"b{l}"])
        a, c_act = (act if l < L else Sigmoid).forward(z)
        caches.append((c_mm, c_add, c_act, act if l < L else Sigmoid))
    loss, da = bce_loss(a, y)

    grads = {}
    for l in range(L, 0, -1):
        c_mm, c_add, c_act, block = caches[l - 1]
        (dz,) = block.backward(da, c_act)
        dh, grads[f"b{l}"] = Add.backward(dz, c_add)
        da, grads[f"W{l}"] = MatMul.backward(dh, c_mm)
    return float(loss), grads
    # END SOLUTION


def gradient_norms(depth, width, activation, scale, seed=0):
    """Norm of dL/dW_l for every layer of a deep stack: vanishing and exploding gradients.

    The set-up (docs/contract.md, hw3): rng = np.random.default_rng(seed) draws, in this order,
    X = rng.standard_normal((64, width)) and, for l = 1..depth,
    W_l = rng.standard_normal((width, width)) * scale / sqrt(width). No biases.
    a_0 = X; a_l = act(a_{l-1} W_l) for l = 1..depth (act on every layer, the last included);
    L = sum(a_depth) / 64 (the batch mean of the sum of the last layer's outputs).

    Args:
        depth: number of layers.
        width: width of every layer (and of X).
        activation: "relu", "tanh" or "sigmoid".
        scale: gain of the initialisation (sqrt(2) is He's for ReLU).
        seed: seed of the generator.

    Returns:
        A list of depth Python floats: the Frobenius norm of dL/dW_l for l = 1..depth.
    """
    # BEGIN SOLUTION
    act = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}[activation]
    rng = np.random.default_rng(seed)
    N = 64
    X = rng.standard_normal((N, width))
    Ws = [rng.standard_normal((width, width)) * scale / np.sqrt(width) for _ in range(depth)]
    a, caches = X, []
    for W in Ws:
        h, c_mm = MatMul.forward(a, W)
        a, c_act = act.forward(h)
        caches.append((c_mm, c_act))
    da = np.ones_like(a) / N
    norms = []
    for c_mm, c_act in reversed(caches):
        (dh,) = act.backward(da, c_act)
        da, dW = MatMul.backward(dh, c_mm)
        norms.append(float(np.linalg.norm(dW)))
    return norms[::-1]
    # END SOLUTION


def lr_range_test(loss_and_grad, params, lr_min=1e-6, lr_max=10.0, factor=1.1, diverge=4.0):
    """The learning-rate range test: train with a learning rate that grows every step.

    Start from a copy of params with lr = lr_min. While lr <= lr_max:
    loss, grads = loss_and_grad(params); record (lr, loss); best = the smallest loss so far;
    stop when loss is not finite or loss > diverge * best; otherwise take the step
    params = params - lr * grads (per key) and multiply lr by factor.
    The params passed in are left untouched.

    Args:
        loss_and_grad: function params -> (loss, grads), grads with the keys of params.
        params: dict of arrays, the starting point.
        lr_min: first learning rate.
        lr_max: largest learning rate tried.
        factor: multiplicative step of the learning rate (> 1).
        diverge: stop once the loss exceeds diverge times the best loss seen.

    Returns:
        (lrs, losses): two lists of Python floats of the same length; losses[k] is the loss
        before the step taken with lrs[k] (the last entry is where the test stopped).
    """
    # BEGIN SOLUTION
    params = {key: np.array(value, dtype=np.float64) for key, value in params.items()}
    lrs, losses = [], []
    best = np.inf
    lr = lr_min
    while lr <= lr_max:
        loss, grads = loss_and_grad(params)
        loss = float(loss)
        lrs.append(float(lr))
        losses.append(loss)
        best = min(best, loss)
        if not np.isfinite(loss) or loss > diverge * best:
            break
        params = {key: params[key] - lr * grads[key] for key in params}
        lr *= factor
    return lrs, losses
    # END SOLUTION


def suggest_lr(lrs, losses):
    """The learning rate at the steepest descent of the loss in an lr_range_test run.

    slope[k] = (losses[k+1] - losses[k]) / (log(lrs[k+1]) - log(lrs[k])) for k = 0..n-2 (the
    change made by the step taken with lrs[k]); non-finite slopes count as +inf. Returns
    lrs[k] for the most negative slope (the first one on a tie).

    Args:
        lrs: n >= 2 increasing learning rates.
        losses: the n losses recorded with them.

    Returns:
        A Python float, one of lrs.
    """
    # BEGIN SOLUTION
    lrs = np.asarray(lrs, dtype=np.float64)
    losses = np.asarray(losses, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        slopes = np.diff(losses) / np.diff(np.log(lrs))
    slopes[~np.isfinite(slopes)] = np.inf
    return float(lrs[int(np.argmin(slopes))])
    # END SOLUTION


# The concept questions (question ``quiz``): item ids, questions and choices are printed in the
# notebook; the items' sections and tolerances are in autograder/hw3/quiz.py. The answers below
# are the key: they reach only the solution notebook and the hidden checks, never the release.
quiz_answers = {
    # BEGIN SOLUTION
    "q1": 7.0,
    "q2": 3.0,
    "q3": "c",
    "q4": 641.0,
    "q5": -0.24863,
    "q6": "b",
    "q7": 0.25,
    "q8": "b",
    "q9": "a",
    # END SOLUTION
}
