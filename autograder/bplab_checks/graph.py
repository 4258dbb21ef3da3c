"""Checks of hw3's ``Graph``: a student's autograd engine driven with the grader's own blocks.

Every check builds a graph through the student's ``Graph`` API (``input``, ``apply``,
``forward``, ``backward``) out of *traced* blocks: each node gets its own wrapper class
(``traced``) around a trusted block, which logs every backward call under the node's label.
So a check sees the values the engine returns *and* the order and number of the backward calls.

Public checks use the test blocks below (``Sin``, ``Exp``, ``Mix``, ``Inner``): trusted, and the
answer to no homework question. Hidden checks also wrap the reference hw1/hw2/hw3 blocks, passed
in by the test file. Gradients are checked against central differences of the trusted function
the graph computes, along random directions, with a random upstream gradient (``Inner(., R)``
with a random ``R`` fed as an input); when a gradient is wrong, it is compared with the sum over
every *subset* of its paths, which names a fan-out overwritten (the last path wins) or a node
visited before all of its consumers. Under ``bplab grade`` the traced blocks stay in the grader:
the student's engine calls them back (``block.forward(...)``, ``block.backward(...)``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bplab_checks.feedback import (
    as_float64,
    assert_directional,
    call,
    check_shape,
    check_untouched,
    checked_line,
    describe,
    fail,
    get_attr,
    snapshot,
)
from bplab_checks.gradcheck import directional_derivatives, rel_error
from bplab_checks.i18n import N_, t
from bplab_checks.tag import tag
from bplab_checks.tolerances import GRAD_RTOL, REF_RTOL

NAME = "Graph"
# A wrong gradient "is" one of its partial path sums when it matches that tightly.
PATH_MATCH_RTOL = 1e-8


class Sin:
    """Test block: out = sin(X), elementwise; dX = dout * cos(X)."""

    @staticmethod
    def forward(X):
        return np.sin(X), X

    @staticmethod
    def backward(dout, cache):
        return (dout * np.cos(cache),)


class Exp:
    """Test block: out = exp(X), elementwise; dX = dout * out."""

    @staticmethod
    def forward(X):
        out = np.exp(X)
        return out, out

    @staticmethod
    def backward(dout, cache):
        return (dout * cache,)


class Mix:
    """Test block: out = A * sin(B), elementwise (same shapes)."""

    @staticmethod
    def forward(A, B):
        return A * np.sin(B), (A, B)

    @staticmethod
    def backward(dout, cache):
        A, B = cache
        return dout * np.sin(B), dout * A * np.cos(B)


class Inner:
    """Test block: out = sum(X * R), a float: R is the random upstream gradient of X."""

    @staticmethod
    def forward(X, R):
        return float(np.sum(X * R)), (X, R)

    @staticmethod
    def backward(dout, cache):
        X, R = cache
        return float(dout) * R, float(dout) * X


def traced(block, label: str, log: list[str]):
    """A new block class that runs ``block`` and appends ``label`` to ``log`` at each backward."""

    def forward(*inputs):
        return block.forward(*inputs)

    def backward(dout, cache):
        log.append(label)
        return block.backward(dout, cache)

    return type(label, (), {"forward": staticmethod(forward), "backward": staticmethod(backward)})


@dataclass
class Spec:
    """A graph to build: inputs by name and shape, then (label, block, parent labels) in order.

    ``f(**inputs)`` is the trusted value of the output; ``paths(**inputs)`` gives, per input
    name, the gradient contributions of its separate paths (their sum is the true gradient).
    """

    title: str
    shapes: dict[str, tuple]
    nodes: Sequence[tuple[str, object, tuple[str, ...]]]
    f: Callable[..., float]
    paths: Callable[..., dict[str, list[np.ndarray]]]

    def feed(self, seed: int) -> dict[str, np.ndarray]:
        """Seeded inputs in [-1.5, 1.5] (every spec is smooth: no kink to nudge away from)."""
        rng = np.random.default_rng(seed)
        return {name: rng.uniform(-1.5, 1.5, shape) for name, shape in self.shapes.items()}


def diamond_spec() -> Spec:
    """s = sin(x) feeds Exp and Mix: f = sum(R * s * sin(exp(s))). s's consumers sit at
    different depths below the output, so a breadth-first walk visits s too early."""
    def f(x, R):
        s = np.sin(x)
        return float(np.sum(R * s * np.sin(np.exp(s))))

    def paths(x, R):
        s, c = np.sin(x), np.cos(x)
        e = np.exp(s)
        return {"x": [R * np.sin(e) * c, R * s * np.cos(e) * e * c], "R": [s * np.sin(e)]}

    nodes = [("s", Sin, ("x",)), ("e", Exp, ("s",)), ("m", Mix, ("s", "e")),
             ("out", Inner, ("m", "R"))]
    return Spec(t("a diamond: s = Sin(x) used by Exp(s) and by Mix(s, Exp(s))"),
                {"x": (3, 4), "R": (3, 4)}, nodes, f, paths)


def triple_use_spec() -> Spec:
    """x used three times, twice by one block: q = Mix(x, x), t = Mix(q, x)."""
    def f(x, R):
        return float(np.sum(R * x * np.sin(x) ** 2))

    def paths(x, R):
        s, c = np.sin(x), np.cos(x)
        return {"x": [R * s * s, R * s * x * c, R * x * s * c], "R": [x * s * s]}

    nodes = [("q", Mix, ("x", "x")), ("t", Mix, ("q", "x")), ("out", Inner, ("t", "R"))]
    return Spec(t("x used three times: q = Mix(x, x), t = Mix(q, x)"),
                {"x": (2, 5), "R": (2, 5)}, nodes, f, paths)


def chain_spec(depth: int = 12) -> Spec:
    """A chain Sin -> Sin -> ... -> Inner(., R): one path, many nodes."""
    def f(x, R):
        for _ in range(depth):
            x = np.sin(x)
        return float(np.sum(R * x))

    def paths(x, R):
        g, h = np.ones_like(x), x
        for _ in range(depth):
            g, h = g * np.cos(h), np.sin(h)
        return {"x": [R * g], "R": [h]}

    nodes: list[tuple[str, object, tuple[str, ...]]] = [("h1", Sin, ("x",))]
    nodes += [(f"h{k}", Sin, (f"h{k - 1}",)) for k in range(2, depth + 1)]
    nodes.append(("out", Inner, (f"h{depth}", "R")))
    return Spec(t("a chain of {depth} Sin blocks", depth=depth), {"x": (1, 6), "R": (1, 6)},
                nodes, f, paths)


@dataclass
class Built:
    """A student graph built from a spec: the graph object, node ids, and the call log."""

    spec: Spec
    graph: object
    log: list[str]
    forward: Callable
    backward: Callable


def build(Graph, spec: Spec, blocks: Mapping[str, object] | None = None) -> Built:
    """Build ``spec`` with the student's ``Graph`` and traced blocks (``blocks`` overrides the
    block of a label, e.g. the reference MatMul)."""
    g = call("Graph()", Graph)
    log: list[str] = []
    ids: dict[str, object] = {}
    for name in spec.shapes:
        ids[name] = call(f"Graph.input({name!r})", get_attr(g, "input", "Graph.input"), name)
    apply = get_attr(g, "apply", "Graph.apply")
    for label, block, parents in spec.nodes:
        block = (blocks or {}).get(label, block)
        ids[label] = call(f"Graph.apply({label})", apply, traced(block, label, log),
                          *[ids[p] for p in parents])
    ints = [v for v in ids.values() if isinstance(v, int | np.integer) and not isinstance(v, bool)]
    if len(ints) != len(ids) or len(set(map(int, ints))) != len(ids):
        fail(f"Graph.input and Graph.apply must each return a new int node id; got "
             f"{describe(list(ids.values()))} for the {len(ids)} nodes of {spec.title}.")
    return Built(spec, g, log, get_attr(g, "forward", "Graph.forward"),
                 get_attr(g, "backward", "Graph.backward"))


def _consumers(spec: Spec) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {label: [] for label, _, _ in spec.nodes}
    for label, _, parents in spec.nodes:
        for p in parents:
            if p in out and label not in out[p]:
                out[p].append(label)
    return out


def check_visits(built: Built, start: int) -> None:
    """The backward calls logged since ``start``: each node once, consumers before inputs."""
    spec, calls = built.spec, built.log[start:]
    labels = [label for label, _, _ in spec.nodes]
    for label in labels:
        n = calls.count(label)
        if n > 1:
            fail(t("Graph.backward called the backward of node {node} {n} times in one "
                   "backward pass ({title}); it must call each node's block backward exactly "
                   "once, with the sum of the gradients from all of its consumers: accumulate "
                   "first, then call backward once per node.", node=repr(label), n=n,
                   title=spec.title) + f" {tag('backward_twice')}",
                 t("Order of the backward calls: {calls}.", calls=calls))
        if n == 0:
            fail(t("Graph.backward never called the backward of node {node} ({title}); "
                   "every block between the inputs and the output must be visited.",
                   node=repr(label), title=spec.title),
                 t("Order of the backward calls: {calls}.", calls=calls))
    position = {label: calls.index(label) for label in labels}
    for parent, consumers in _consumers(spec).items():
        for child in consumers:
            if position[child] > position[parent]:
                fail(t("Graph.backward ran the backward of node {node} before that of its "
                       "consumer {child} ({title}): {node} had not yet received all of its "
                       "gradient. Visit the nodes in reverse topological order (every consumer "
                       "before the nodes it uses).", node=repr(parent), child=repr(child),
                       title=spec.title) + f" {tag('visit_order')}",
                     t("Order of the backward calls: {calls}.", calls=calls))


def _path_diagnosis(actual: np.ndarray, contributions: Sequence[np.ndarray], name: str,
                    spec: Spec) -> str | None:
    """Name a gradient that is the sum of only some of its paths."""
    if len(contributions) < 2:
        return None
    total = sum(contributions)
    for r in range(1, len(contributions)):
        for subset in itertools.combinations(range(len(contributions)), r):
            partial = sum(contributions[i] for i in subset)
            if rel_error(actual, partial) < PATH_MATCH_RTOL and rel_error(partial, total) > 1e-3:
                return t("d{name} holds the gradient of only {r} of the {total} paths from "
                         "{name} to the output ({title}): where a node is used several times, "
                         "its gradients must be summed (grads[node] += ...), not overwritten, "
                         "and a node may only pass its gradient on once all of its consumers "
                         "have.", name=name, r=r, total=len(contributions), title=spec.title
                         ) + f" {tag('fanout_overwritten')}"
    return None


STALE = N_("Graph keeps state from the previous forward/backward: every forward must run all "
           "nodes on the new feed (replacing the values and caches), and every backward must "
           "start from fresh gradients, not add to the last call's.")


def _stale() -> str:
    return f"{t(STALE)} {tag('stale_state')}"


def _history_matters(built: Built, feed: dict[str, np.ndarray], name: str, first) -> bool:
    """Whether running the same feed forward and backward once more changes d``name``."""
    try:
        built.forward({k: v.copy() for k, v in feed.items()})
        again = np.asarray(built.backward()[name], dtype=np.float64)
        return again.shape == np.shape(first) and rel_error(again, first) > 1e-10
    except Exception:  # noqa: BLE001 - a diagnosis never fails a check by itself
        return False


def run_and_check(built: Built, seed: int, during: str = "",
                  previous: dict[str, np.ndarray] | None = None) -> None:
    """One forward and one backward of ``built`` on a seeded feed: the output value, every
    input's gradient (central differences), the visits, and the feed left untouched.
    ``previous`` is the feed of the run before (its leftovers are named ``stale_state``)."""
    spec = built.spec
    feed = spec.feed(seed)
    before = snapshot(feed)
    arg = {k: v.copy() for k, v in feed.items()}
    checked = t("{title}, inputs {inputs} (seed {seed}){during}", title=spec.title, seed=seed,
                inputs=", ".join(f"{k} {v}" for k, v in spec.shapes.items()), during=during)
    value = call("Graph.forward", built.forward, arg)
    out = as_float64(value, "Graph.forward result", block=NAME, scalar=True)
    expected_value = spec.f(**feed)
    if rel_error(out, expected_value) > REF_RTOL:
        old_value = None if previous is None else spec.f(**previous)
        if old_value is not None and rel_error(out, old_value) < 1e-8:
            fail(_stale(), t("Graph.forward returned the output of the previous feed. Checked: "
                             "{checked}.", checked=checked))
        fail(t("Graph.forward returned {got}, but the output of {title} is {want}: run the "
               "nodes in creation order, each block on the values of its parents in argument "
               "order, and return the value of the last node created.", got=f"{float(out):.6g}",
               title=spec.title, want=f"{expected_value:.6g}"),
             checked_line(checked + "."))
    start = len(built.log)
    grads = call("Graph.backward", built.backward)
    check_untouched({"feed": before}, {"feed": arg}, block=NAME, during="Graph.forward/backward")
    check_visits(built, start)
    if not isinstance(grads, Mapping) or set(map(str, grads)) != set(spec.shapes):
        fail(f"Graph.backward returned {describe(grads)}; expected a dict keyed by the input "
             f"names {sorted(spec.shapes)}.", checked_line(checked + "."))
    paths = spec.paths(**feed)
    for name, shape in spec.shapes.items():
        what = f"grads[{name!r}]"
        g = as_float64(grads[name], f"Graph.backward {what}", block=NAME)
        check_shape(g, shape, f"Graph.backward {what}", block=NAME,
                    context=t("Each gradient has the shape of its input. Checked: {checked}.",
                              checked=checked))

        def f(z, name=name):
            return spec.f(**{**feed, name: z})

        check = directional_derivatives(f, feed[name], g, seed=seed + 17)
        if check.error > GRAD_RTOL:
            if _history_matters(built, feed, name, g):
                fail(_stale(), t("d{name} changed when the same feed was run again. Checked: "
                                 "{checked}.", name=name, checked=checked))
            sentence = _path_diagnosis(g, paths[name], name, spec)
            if sentence:
                fail(sentence, checked_line(checked + "."))
        assert_directional(g, check, what=f"d{name}", wrt=name, block=NAME, rtol=GRAD_RTOL,
                           function=t("the output of {title}", title=spec.title),
                           checked=checked + t("; the output is sum(... * R) with a random R, "
                                               "so R is the upstream gradient"))


def check_graph(Graph, specs: Sequence[Spec], seeds: Sequence[int] = (0,),
                blocks: Mapping[str, object] | None = None) -> None:
    """Build each spec once, then run forward/backward for every seed (new values each time)."""
    for spec in specs:
        built = build(Graph, spec, blocks)
        for k, seed in enumerate(seeds):
            during = "" if k == 0 else t(", after {k} earlier forward/backward on other values",
                                         k=k)
            run_and_check(built, seed, during, spec.feed(seeds[k - 1]) if k else None)


def check_graph_public(Graph) -> None:
    """Public: a chain, a diamond and a triple use, each run twice with new values."""
    check_graph(Graph, [chain_spec(), diamond_spec(), triple_use_spec()], seeds=(1, 2))


def reference_specs(MatMul, Subtract, Square, Sum, Tanh, Sigmoid, Multiply) -> list[Spec]:
    """Hidden: graphs of the reference blocks (passed in by the test file): hw1's linear
    regression as a chain, and the diamond x -> Tanh, Sigmoid -> Multiply."""
    def linreg(theta, X, Y):
        return float(np.sum((X @ theta - Y) ** 2))

    def linreg_paths(theta, X, Y):
        r = X @ theta - Y
        return {"theta": [2 * X.T @ r], "X": [2 * r @ theta.T], "Y": [-2 * r]}

    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    def diamond(x, R):
        return float(np.sum(R * np.tanh(x) * sigmoid(x)))

    def diamond_paths(x, R):
        th, s = np.tanh(x), sigmoid(x)
        return {"x": [R * s * (1 - th**2), R * th * s * (1 - s)], "R": [th * s]}

    return [
        Spec(t("hw1's linear regression, MatMul(X, theta) -> Subtract(., Y) -> Square -> Sum"),
             {"theta": (3, 1), "X": (5, 3), "Y": (5, 1)},
             [("mm", MatMul, ("X", "theta")), ("d", Subtract, ("mm", "Y")),
              ("sq", Square, ("d",)), ("out", Sum, ("sq",))], linreg, linreg_paths),
        Spec(t("a diamond: Multiply(Tanh(x), Sigmoid(x)) * R, summed"),
             {"x": (4, 3), "R": (4, 3)},
             [("t", Tanh, ("x",)), ("s", Sigmoid, ("x",)), ("m", Multiply, ("t", "s")),
              ("r", Multiply, ("m", "R")), ("out", Sum, ("r",))], diamond, diamond_paths),
    ]


def check_graph_linreg(Graph, spec: Spec, linreg_loss_and_grad, seed: int = 5) -> None:
    """Hidden: the linear-regression chain gives hw1's loss and dtheta (reference)."""
    built = build(Graph, spec)
    feed = spec.feed(seed)
    value = call("Graph.forward", built.forward, {k: v.copy() for k, v in feed.items()})
    grads = call("Graph.backward", built.backward)
    loss, dtheta = linreg_loss_and_grad(feed["theta"], feed["X"], feed["Y"])
    checked = t("{title} against hw1's linreg_loss_and_grad (seed {seed}).", title=spec.title,
                seed=seed)
    got = as_float64(value, "Graph.forward result", block=NAME, scalar=True)
    if rel_error(got, loss) > REF_RTOL:
        fail(f"Graph.forward returned {float(got):.6g} for the linear-regression loss.",
             checked_line(checked))
    if not isinstance(grads, Mapping) or "theta" not in grads:
        fail(f"Graph.backward returned {describe(grads)}; expected a dict with key 'theta'.")
    g = as_float64(grads["theta"], "grads['theta']", block=NAME)
    check_shape(g, np.shape(dtheta), "grads['theta']", block=NAME)
    if rel_error(g, dtheta) > REF_RTOL:
        fail(f"Graph.backward()['theta'] differs from hw1's dtheta (relative error "
             f"{rel_error(g, dtheta):.2e}).", checked_line(checked))
