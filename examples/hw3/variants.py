"""hw3's bank of variants: planted bugs (each with the diagnosis it must get) and correct
solutions written another way (full marks, no diagnosis). Format: ``bplab.variants``.

Read by path (``bplab.variants.load_variants``); `bplab examples hw3` writes one notebook per
entry with an ``example`` name. No hw3 question calls another graded definition, so every bug
loses points on its own question only (``affects`` is empty throughout).
"""

from bplab.variants import correct, planted

# A new Graph.backward in place of the reference's (renamed out of the way, so the rest of the
# class follows the reference), with the helper every such backward ends with.
_INPUTS = '''
    def _inputs(self, grads):
        return {self.names[n]: np.asarray(grads.get(n, np.zeros_like(self.values[n])), float)
                for n in range(len(self.blocks)) if self.blocks[n] is None}
'''


def _backward(method: str) -> tuple[str, str]:
    """The edit that puts ``method`` (indented as a method) before the reference backward."""
    return ("    def backward(self):",
            method.strip("\n") + "\n" + _INPUTS + "\n    def _reference_backward(self):")


VARIANTS = [
    # ---- Graph ----------------------------------------------------------------------------
    planted("Graph", "gradient overwritten at fan-out (the last path wins)", "fanout_overwritten",
            replace=[("grads[parent] = grads[parent] + g if parent in grads else g",
                      "grads[parent] = g")],
            example="bug_graph_fanout_overwritten",
            why="Graph.backward overwrites a node's gradient at fan-out: the last path wins"),
    planted("Graph", "breadth-first walk from the output", "visit_order", replace=[_backward('''
    def backward(self):
        from collections import deque
        output = len(self.blocks) - 1
        grads, queue, seen = {output: 1.0}, deque([output]), {output}
        while queue:
            node = queue.popleft()
            if self.blocks[node] is None:
                continue
            local = self.blocks[node].backward(grads[node], self.caches[node])
            if not isinstance(local, tuple | list):
                local = (local,)
            for parent, g in zip(self.parents[node], local):
                grads[parent] = grads[parent] + g if parent in grads else g
                if parent not in seen:
                    seen.add(parent)
                    queue.append(parent)
        return self._inputs(grads)
''')]),
    planted("Graph", "one backward call per path (each use propagated on its own)",
            "backward_twice", replace=[_backward('''
    def backward(self):
        grads = {}

        def push(node, dout):
            if self.blocks[node] is None:
                grads[node] = grads[node] + dout if node in grads else dout
                return
            local = self.blocks[node].backward(dout, self.caches[node])
            if not isinstance(local, tuple | list):
                local = (local,)
            for parent, g in zip(self.parents[node], local):
                push(parent, g)

        push(len(self.blocks) - 1, 1.0)
        return self._inputs(grads)
''')]),
    planted("Graph", "forward pops the fed arrays out of the caller's dict", "mutates_input",
            replace=[("value, cache = feed[self.names[node]], None",
                      "value, cache = feed.pop(self.names[node]), None")]),
    planted("Graph", "backward walks the nodes in creation order, not reversed", "visit_order",
            replace=[("for node in reversed(order):", "for node in order:"),
                     ("grads = {output: 1.0}",
                      "grads = {n: 0.0 for n in range(len(self.blocks))}\n"
                      "        grads[output] = 1.0")]),
    planted("Graph", "gradients kept from the previous backward call", "stale_state",
            replace=[("grads = {output: 1.0}",
                      "grads = getattr(self, '_grads', {})\n        self._grads = grads\n"
                      "        grads[output] = 1.0")]),
    planted("Graph", "forward runs only the first time (stale values)", "stale_state",
            replace=[("self.values, self.caches = [], []",
                      "if self.values:\n            return self.values[-1]\n"
                      "        self.values, self.caches = [], []")]),
    planted("Graph", "the output's gradient starts at 0, not 1", "all_zeros",
            replace=[("grads = {output: 1.0}", "grads = {output: 0.0}")]),
    # ---- mlp_loss -------------------------------------------------------------------------
    planted("mlp_loss", "db averaged over the batch instead of summed", "mean_instead_of_sum",
            replace=[('dh, grads[f"b{l}"] = Add.backward(dz, c_add)',
                      'dh, _ = Add.backward(dz, c_add)\n'
                      '        grads[f"b{l}"] = dz.mean(axis=0)')],
            example="bug_mlp_db_mean_not_sum",
            why="mlp_loss averages dz over the batch for every db instead of summing"),
    planted("mlp_loss", "the hidden activation on the last layer too", None,
            replace=[("(act if l < L else Sigmoid).forward(z)", "act.forward(z)"),
                     ("act if l < L else Sigmoid))", "act))")]),
    planted("mlp_loss", "activation argument ignored (always ReLU)", None,
            replace=[("[activation]", '["relu"]')]),
    planted("mlp_loss", "init with Xavier's sqrt(1 / fan_in), not He's", "constant_factor",
            define="mlp_init", replace=[("np.sqrt(2 / fan_in)", "np.sqrt(1 / fan_in)")]),
    planted("mlp_loss", "init draws W_l with its shape transposed", "transposed",
            define="mlp_init", replace=[("rng.standard_normal((fan_in, sizes[l]))",
                                         "rng.standard_normal((sizes[l], fan_in))")]),
    planted("mlp_loss", "init draws every bias at random", None, define="mlp_init",
            replace=[('params[f"b{l}"] = np.zeros(sizes[l])',
                      'params[f"b{l}"] = rng.standard_normal(sizes[l]) * 0.01')]),
    # ---- gradient_norms -------------------------------------------------------------------
    planted("gradient_norms", "norms listed last layer first", None,
            replace=[("return norms[::-1]", "return norms")]),
    planted("gradient_norms", "loss summed over the batch, not averaged", "sum_instead_of_mean",
            replace=[("da = np.ones_like(a) / N", "da = np.ones_like(a)")],
            example="bug_norms_loss_summed",
            why="gradient_norms sums the loss over the batch instead of averaging it"),
    planted("gradient_norms", "weights drawn before the data", None,
            replace=[("X = rng.standard_normal((N, width))\n"
                      "    Ws = [rng.standard_normal((width, width)) * scale / np.sqrt(width) "
                      "for _ in range(depth)]",
                      "Ws = [rng.standard_normal((width, width)) * scale / np.sqrt(width) "
                      "for _ in range(depth)]\n    X = rng.standard_normal((N, width))")]),
    # ---- lr_range_test --------------------------------------------------------------------
    planted("lr_range_test", "stops against the first loss, not the best", None,
            replace=[("or loss > diverge * best:", "or loss > diverge * losses[0]:")],
            example="bug_lr_range_first_loss",
            why="lr_range_test stops against the first loss instead of the best one"),
    planted("lr_range_test", "a shallow copy, then steps in place", "mutates_input",
            replace=[("params = {key: np.array(value, dtype=np.float64) "
                      "for key, value in params.items()}", "params = dict(params)"),
                     ("params = {key: params[key] - lr * grads[key] for key in params}",
                      "for key in params:\n            params[key] -= lr * grads[key]")]),
    planted("lr_range_test", "suggest_lr returns the rate after the steepest step", None,
            define="suggest_lr",
            replace=[("lrs[int(np.argmin(slopes))]", "lrs[int(np.argmin(slopes)) + 1]")]),
    planted("lr_range_test", "suggest_lr picks the steepest rise", None, define="suggest_lr",
            replace=[("slopes[~np.isfinite(slopes)] = np.inf\n"
                      "    return float(lrs[int(np.argmin(slopes))])",
                      "slopes[~np.isfinite(slopes)] = -np.inf\n"
                      "    return float(lrs[int(np.argmax(slopes))])")]),
    # ==== correct variants: full marks, no diagnosis ========================================
    correct("Graph", "recursive topological sort, dict bookkeeping", replace=[_backward('''
    def backward(self):
        order, seen = [], set()

        def visit(node):
            if node in seen:
                return
            seen.add(node)
            for p in self.parents[node]:
                visit(p)
            order.append(node)

        output = len(self.blocks) - 1
        visit(output)
        grads = {output: 1.0}
        for node in reversed(order):
            if self.blocks[node] is None:
                continue
            local = self.blocks[node].backward(grads[node], self.caches[node])
            local = local if isinstance(local, tuple | list) else (local,)
            for p, g in zip(self.parents[node], local):
                grads[p] = grads.get(p, 0) + g
        return self._inputs(grads)
''')]),
    correct("Graph", "reverse creation order, list of zero gradients", replace=[_backward('''
    def backward(self):
        grads = [np.zeros_like(np.asarray(v, dtype=float)) for v in self.values]
        grads[-1] = np.ones_like(grads[-1])
        for node in range(len(self.blocks) - 1, -1, -1):
            if self.blocks[node] is None:
                continue
            local = self.blocks[node].backward(grads[node], self.caches[node])
            if not isinstance(local, (tuple, list)):
                local = [local]
            for p, g in zip(self.parents[node], local):
                grads[p] = grads[p] + g
        return {self.names[n]: grads[n] for n in range(len(self.blocks))
                if self.blocks[n] is None}
''')]),
    correct("Graph", "Kahn's algorithm: a node runs once all its consumers have",
            replace=[_backward('''
    def backward(self):
        output = len(self.blocks) - 1
        waiting = [0] * len(self.blocks)
        for node in range(len(self.blocks)):
            for p in set(self.parents[node]):
                waiting[p] += 1
        grads, ready = {output: 1.0}, [output]
        while ready:
            node = ready.pop()
            if self.blocks[node] is not None:
                local = self.blocks[node].backward(grads[node], self.caches[node])
                if not isinstance(local, tuple | list):
                    local = (local,)
                for p, g in zip(self.parents[node], local):
                    grads[p] = grads[p] + g if p in grads else g
                for p in set(self.parents[node]):
                    waiting[p] -= 1
                    if waiting[p] == 0:
                        ready.append(p)
        return self._inputs(grads)
''')]),
    correct("Graph", "nodes as dicts, np.add accumulation into fresh arrays", source='''
class Graph:
    def __init__(self):
        self.nodes = []

    def input(self, name):
        self.nodes.append({"name": name, "block": None, "parents": []})
        return len(self.nodes) - 1

    def apply(self, block, *parents):
        self.nodes.append({"name": None, "block": block, "parents": list(parents)})
        return len(self.nodes) - 1

    def forward(self, feed):
        for node in self.nodes:
            if node["block"] is None:
                node["value"], node["cache"] = np.array(feed[node["name"]], dtype=float), None
            else:
                ins = [self.nodes[p]["value"] for p in node["parents"]]
                node["value"], node["cache"] = node["block"].forward(*ins)
        return self.nodes[-1]["value"]

    def backward(self):
        for node in self.nodes:
            node["grad"] = None
        self.nodes[-1]["grad"] = np.float64(1.0)
        for node in reversed(self.nodes):
            if node["block"] is None or node["grad"] is None:
                continue
            out = node["block"].backward(node["grad"], node["cache"])
            out = list(out) if isinstance(out, (tuple, list)) else [out]
            for p, g in zip(node["parents"], out):
                prev = self.nodes[p]["grad"]
                self.nodes[p]["grad"] = np.add(prev, g) if prev is not None else np.copy(g)
        return {n["name"]: (n["grad"] if n["grad"] is not None else np.zeros_like(n["value"]))
                for n in self.nodes if n["block"] is None}
'''),
    correct("mlp_loss", "plain numpy loops, no blocks", source='''
def mlp_loss(params, X, y, activation="relu"):
    L = len([k for k in params if k[0] == "W"])
    acts = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
            "sigmoid": lambda z: 0.5 * (1 + np.tanh(z / 2))}
    ders = {"relu": lambda z, a: (z > 0) * 1.0, "tanh": lambda z, a: 1 - a * a,
            "sigmoid": lambda z, a: a * (1 - a)}
    a_list, z_list = [X], []
    for l in range(1, L + 1):
        z = a_list[-1] @ params["W%d" % l] + params["b%d" % l]
        z_list.append(z)
        a_list.append(acts[activation if l < L else "sigmoid"](z))
    p = a_list[-1]
    q = np.clip(p, 1e-12, 1 - 1e-12)
    loss = -np.mean(y * np.log(q) + (1 - y) * np.log(1 - q))
    da = (q - y) / (q * (1 - q)) / y.size
    grads = {}
    for l in range(L, 0, -1):
        name = activation if l < L else "sigmoid"
        dz = da * ders[name](z_list[l - 1], a_list[l])
        grads["W%d" % l] = a_list[l - 1].T @ dz
        grads["b%d" % l] = dz.sum(axis=0)
        da = dz @ params["W%d" % l].T
    return loss, grads
'''),
    correct("mlp_loss", "einsum and np.add.at for the bias", source='''
def mlp_loss(params, X, y, activation="relu"):
    act = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}[activation]
    L = max(int(k[1:]) for k in params if k.startswith("W"))
    layers, a = [], X
    for l in range(1, L + 1):
        z = np.einsum("nd,dm->nm", a, params[f"W{l}"]) + params[f"b{l}"]
        block = act if l < L else Sigmoid
        out, cache = block.forward(z)
        layers.append((a, block, cache))
        a = out
    loss, da = bce_loss(a, y)
    grads = {}
    for l in range(L, 0, -1):
        a_prev, block, cache = layers[l - 1]
        dz = block.backward(da, cache)
        dz = dz[0] if isinstance(dz, (tuple, list)) else dz
        grads[f"W{l}"] = np.einsum("nd,nm->dm", a_prev, dz)
        db = np.zeros(dz.shape[1])
        np.add.at(db, np.tile(np.arange(dz.shape[1]), dz.shape[0]), dz.ravel())
        grads[f"b{l}"] = db
        da = dz @ params[f"W{l}"].T
    return np.float64(loss), grads
'''),
    correct("mlp_loss", "init with a list of shapes and explicit loop", source='''
def mlp_init(sizes, seed=0):
    rng = np.random.default_rng(seed)
    shapes = list(zip(sizes[:-1], sizes[1:]))
    params = {}
    for l, (n_in, n_out) in enumerate(shapes, start=1):
        params["W" + str(l)] = np.sqrt(2.0 / n_in) * rng.standard_normal(size=(n_in, n_out))
        params["b" + str(l)] = np.zeros((n_out,))
    return params
'''),
    correct("gradient_norms", "explicit numpy derivatives, norms as sqrt of sums", source='''
def gradient_norms(depth, width, activation, scale, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((64, width))
    Ws = [scale * rng.standard_normal((width, width)) / np.sqrt(width) for _ in range(depth)]
    f = {"relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh,
         "sigmoid": lambda z: 1 / (1 + np.exp(-z))}[activation]
    acts, zs = [X], []
    for W in Ws:
        zs.append(acts[-1] @ W)
        acts.append(f(zs[-1]))
    g = np.full(acts[-1].shape, 1 / 64)
    out = [0.0] * depth
    for l in reversed(range(depth)):
        a = acts[l + 1]
        if activation == "relu":
            d = (zs[l] > 0).astype(float)
        elif activation == "tanh":
            d = 1 - a ** 2
        else:
            d = a * (1 - a)
        dz = g * d
        out[l] = float(np.sqrt(np.sum((acts[l].T @ dz) ** 2)))
        g = dz @ Ws[l].T
    return out
'''),
    correct("lr_range_test", "lr as lr_min * factor ** k, for-loop copy", source='''
def lr_range_test(loss_and_grad, params, lr_min=1e-6, lr_max=10.0, factor=1.1, diverge=4.0):
    current = {}
    for key in params:
        current[key] = params[key].copy()
    lrs, losses = [], []
    k = 0
    while lr_min * factor ** k <= lr_max:
        lr = lr_min * factor ** k
        loss, grads = loss_and_grad(current)
        lrs.append(lr)
        losses.append(float(loss))
        if not np.isfinite(loss) or loss > diverge * min(losses):
            break
        for key in current:
            current[key] = current[key] - lr * np.asarray(grads[key])
        k += 1
    return lrs, losses
'''),
    correct("lr_range_test", "suggest_lr with an explicit loop", source='''
def suggest_lr(lrs, losses):
    import math
    best_k, best_slope = 0, math.inf
    for k in range(len(lrs) - 1):
        try:
            slope = (losses[k + 1] - losses[k]) / (math.log(lrs[k + 1]) - math.log(lrs[k]))
        except (ZeroDivisionError, ValueError, OverflowError):
            continue
        if math.isfinite(slope) and slope < best_slope:
            best_k, best_slope = k, slope
    return lrs[best_k]
'''),
]
