"""Checks of training utilities: optimizers (``Opt(**hyper).step(params, grads)`` updating the
dict ``params`` in place), learning-rate schedules and gradient clipping.

Only calls, attribute access and ``np.asarray`` touch student objects, so the same checks run
on grader proxies (in-place updates are written back to the caller's dict by the proxy).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from bplab_checks.cases import grads_dict
from bplab_checks.feedback import (
    as_float64,
    call,
    check_shape,
    check_untouched,
    checked_line,
    describe,
    element_text,
    explanation,
    fail,
    get_attr,
    snapshot,
    unpack_pair,
)
from bplab_checks.gradcheck import rel_error, worst_element
from bplab_checks.i18n import N_
from bplab_checks.i18n import t as tr
from bplab_checks.notes import note
from bplab_checks.tag import tag
from bplab_checks.tolerances import REF_RTOL

Params = dict[str, np.ndarray]


def _start_and_grads(seed: int, steps: int) -> tuple[Params, list[Params]]:
    """Parameters with three keys of different shapes, plus one gradient dict per step.

    The key ``c`` gets tiny gradients (1e-6): there ``eps`` is not negligible, so misplacing it
    (e.g. sqrt(v + eps)) shows.
    """
    start = grads_dict(seed)
    grads = []
    for t in range(steps):
        g = grads_dict(seed + 100 + t)
        g["c"] = g["c"] * 1e-6
        grads.append(g)
    return start, grads


def _rmsprop_eps_inside(start: Params, grads: Sequence[Params], hyper: Mapping) -> list[Params]:
    """RMSprop with ``sqrt(s + eps)``: the parameters after each step."""
    lr, beta, eps = hyper["lr"], hyper.get("beta", 0.9), hyper.get("eps", 1e-8)
    p = snapshot(start)
    s = {k: np.zeros_like(v) for k, v in p.items()}
    out = []
    for g in grads:
        for k in p:
            s[k] = beta * s[k] + (1 - beta) * g[k] ** 2
            p[k] = p[k] - lr * g[k] / np.sqrt(s[k] + eps)
        out.append(snapshot(p))
    return out


def _adam_eps_inside(start: Params, grads: Sequence[Params], hyper: Mapping) -> list[Params]:
    """Adam with ``sqrt(v_hat + eps)``: the parameters after each step."""
    lr, eps = hyper.get("lr", 1e-3), hyper.get("eps", 1e-8)
    b1, b2 = hyper.get("beta1", 0.9), hyper.get("beta2", 0.999)
    p = snapshot(start)
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(a) for k, a in p.items()}
    out = []
    for t, g in enumerate(grads, start=1):
        for k in p:
            m[k] = b1 * m[k] + (1 - b1) * g[k]
            v[k] = b2 * v[k] + (1 - b2) * g[k] ** 2
            p[k] = p[k] - lr * (m[k] / (1 - b1**t)) / np.sqrt(v[k] / (1 - b2**t) + eps)
        out.append(snapshot(p))
    return out


# The contract accepts eps inside the square root in these two (the lecture writes both). The
# two formulas differ a lot at small gradients, so each is compared tightly, never one loosely.
EPS_INSIDE = {"RMSprop": _rmsprop_eps_inside, "Adam": _adam_eps_inside}
EPS_NOTE = N_("Note: {name} puts eps inside the square root, sqrt(... + eps); the assignment "
            "writes sqrt(...) + eps and accepts both placements, no points lost.")


def _matches(actual: Params, expected: Params) -> bool:
    try:
        return all(rel_error(np.asarray(actual[k], dtype=np.float64), e) <= REF_RTOL
                   for k, e in expected.items())
    except (KeyError, ValueError, TypeError):
        return False


class _Optimizer:
    """A student optimizer instance with calls turned into feedback."""

    def __init__(self, cls, name: str, hyper: Mapping[str, float]):
        self.name = name
        self.instance = call(name, cls, **hyper)
        self._step = get_attr(self.instance, "step", f"{name} instance")

    def step(self, params: Params, grads: Params) -> None:
        before = snapshot(grads)
        call(f"{self.name}.step", self._step, params, grads)
        check_untouched({"grads": before}, {"grads": grads}, block=self.name,
                        during=f"{self.name}.step")


def _hyper_text(hyper: Mapping[str, float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in hyper.items()) or tr("default arguments")


def check_optimizer_step(
    Optimizer, name: str, hyper: Mapping[str, float], seed: int = 0,
    *, first_step: Callable[..., np.ndarray] | None = None,
    also_accepted: Mapping[str, Callable[..., np.ndarray]] | None = None,
) -> None:
    """Public check: one step updates every array of ``params`` in place (same keys, shapes,
    float64), leaves ``grads`` alone, moves every entry against its gradient, and lands where
    the assignment's update rule puts a fresh optimizer: ``first_step(theta, g, **hyper)``
    (e.g. ``lambda theta, g, lr: theta - lr * g``; defaults of the rule are the contract's).
    ``also_accepted`` names other first steps the contract accepts (e.g. eps inside the square
    root); a step that follows one of them exactly passes, with a note naming it
    (``bplab_checks.notes``)."""
    start, grads = _start_and_grads(seed, 1)
    opt = _Optimizer(Optimizer, name, hyper)
    params = snapshot(start)
    opt.step(params, snapshot(grads[0]))
    checked = tr("one step of {name}({hyper}) on params {{W (3, 4), b (4,), c (1,)}}.",
                 name=name, hyper=_hyper_text(hyper))
    for key in start:
        if key not in params:
            fail(f"{name}.step removed params[{key!r}].")
        arr = as_float64(params[key], f"params[{key!r}]", block=name)
        check_shape(arr, start[key].shape, f"params[{key!r}]", block=name)
        if not np.all(np.isfinite(arr)):
            fail(explanation("nan_or_inf", block=name, what=f"{name}.step",
                             where=tr("in {what} after one step", what=f"params[{key!r}]"),
                             fallback=tr("{name}.step produced nan or inf in {what}.", name=name,
                                         what=f"params[{key!r}]")),
                 tr("Is the step finished? A division by zero (e.g. 1 - beta ** 0 when t is used "
                    "before it is counted) or a placeholder left in gives nan."),
                 checked_line(checked))
        if np.array_equal(arr, start[key]):
            fail(f"{name}.step left params[{key!r}] unchanged: update the arrays of the dict "
                 "params in place (params[key] -= ...); a returned value is ignored.",
                 f"Checked: {checked}")
        moved = np.sign(arr - start[key])
        wrong = moved != -np.sign(grads[0][key])
        if wrong.any():
            idx = tuple(int(i) for i in np.argwhere(wrong)[0])
            fail(tr("{name}.step moved {what} in the direction of its gradient (or not at "
                    "all): a descent step goes against the gradient.", name=name,
                    what=f"params[{key!r}]{list(idx)}"),
                 checked_line(checked))
    if first_step is None:
        return
    for label, rule in (also_accepted or {}).items():
        if all(rel_error(np.asarray(params[k], dtype=np.float64) - start[k],
                         np.asarray(rule(start[k].copy(), grads[0][k].copy(), **hyper))
                         - start[k]) <= REF_RTOL for k in start):
            note(f"Note: the first step of {name} follows {label}; the assignment accepts it.")
            return
    for key in start:
        want = np.asarray(first_step(start[key].copy(), grads[0][key].copy(), **hyper),
                          dtype=np.float64)
        # The step itself is compared: a wrong step is small next to the params it moves.
        moved = np.asarray(params[key], dtype=np.float64) - start[key]
        err = rel_error(moved, want - start[key])
        if err > REF_RTOL:
            index, a_val, e_val = worst_element(moved, want - start[key])
            fail(tr("{name}.step: the first step of a new {name}({hyper}) does not follow the "
                    "update rule of the assignment (state starts at zero{t1}).", name=name,
                    hyper=_hyper_text(hyper), t1=", t = 1" if name == "Adam" else ""),
                 checked_line(checked),
                 tr("step of {what} (new value - old value): relative error {error} (allowed "
                    "{allowed}); ", what=f"params[{key!r}]", error=f"{err:.2e}",
                    allowed=f"{REF_RTOL:.0e}")
                 + element_text(f"step[{key!r}]", index, a_val, e_val, reveal=True) + ".")


def _compare_params(actual: Params, expected: Params, *, name: str, checked: str,
                    start: Params, diagnosis: Callable[[], str | None]) -> None:
    arrays = {}
    for key, exp in expected.items():
        if key not in actual:
            fail(f"{name}.step removed params[{key!r}].", f"Checked: {checked}")
        arr = as_float64(actual[key], f"params[{key!r}]", block=name)
        check_shape(arr, exp.shape, f"params[{key!r}]", block=name)
        if np.array_equal(arr, start[key]):
            fail(f"{name}.step left params[{key!r}] unchanged: update the arrays of the dict "
                 "params in place (params[key] -= ...); a returned value is ignored.",
                 f"Checked: {checked}")
        arrays[key] = arr
    # Report the key that is furthest off (a mistake may show mostly on one key).
    errors = {key: rel_error(arr, expected[key]) for key, arr in arrays.items()}
    key = max(errors, key=errors.__getitem__)
    arr, exp, err = arrays[key], expected[key], errors[key]
    if err > REF_RTOL:
        index, a_val, e_val = worst_element(arr, exp)
        fail(diagnosis(), checked_line(checked),
             tr("{what}: relative error {error} (allowed {allowed}); ", what=f"params[{key!r}]",
                error=f"{err:.2e}", allowed=f"{REF_RTOL:.0e}")
             + element_text(f"params[{key!r}]", index, a_val, e_val, reveal=False) + ".")


def _diagnose_optimizer(**kwargs) -> str | None:
    try:
        from bplab_checks.diagnose import diagnose_optimizer
    except Exception:  # noqa: BLE001 - diagnoses are optional
        return None
    try:
        return diagnose_optimizer(**kwargs)
    except Exception:  # noqa: BLE001
        return None


def check_optimizer_trajectory(
    Optimizer, reference, name: str, hyper: Mapping[str, float], steps: int = 5, seed: int = 1,
    *, accept_eps_inside: bool = False,
) -> None:
    """Hidden check: the parameters after each of ``steps`` steps equal the reference's
    (several keys and shapes, a new gradient every step, state kept per key). With
    ``accept_eps_inside`` (RMSprop, Adam: ``EPS_INSIDE``) a run that follows eps inside the
    square root at every step passes too, with a note (``bplab_checks.notes``)."""
    start, grads = _start_and_grads(seed, steps)
    opt = _Optimizer(Optimizer, name, hyper)
    ref = reference(**hyper)
    params, ref_params = snapshot(start), snapshot(start)
    inside = EPS_INSIDE[name](start, grads, hyper) if accept_eps_inside else None
    for t, g in enumerate(grads, start=1):
        opt.step(params, snapshot(g))
        ref.step(ref_params, snapshot(g))
        if inside is not None and not _matches(params, ref_params):
            if _matches(params, inside[t - 1]):
                if t == steps:
                    note(tr(EPS_NOTE, name=name))
                continue
        checked = tr("{n} step(s) of {name}({hyper}) on params {{W (3, 4), b (4,), c (1,)}}, a "
                     "new random gradient each step (seed {seed}).", n=t, name=name,
                     hyper=_hyper_text(hyper), seed=seed)
        def diagnosis(t: int = t) -> str | None:
            return _diagnose_optimizer(
                actual_params=snapshot(params), expected_params=snapshot(ref_params),
                optimizer=name, start=snapshot(start), grads=snapshot(grads[:t]),
                hyper=dict(hyper), reference_cls=reference)

        _compare_params(
            params, ref_params, name=name, checked=checked, start=start, diagnosis=diagnosis,
        )


def check_optimizer_instances(
    Optimizer, reference, name: str, hyper: Mapping[str, float], steps: int = 3, seed: int = 2,
    *, accept_eps_inside: bool = False,
) -> None:
    """Hidden check: two instances stepped alternately keep separate state (each ends where
    the reference does, and where the same instance stepped alone ends)."""
    starts, grads = zip(*(_start_and_grads(seed + k * 10, steps) for k in range(2)), strict=True)
    opts = [_Optimizer(Optimizer, name, hyper) for _ in range(2)]
    params = [snapshot(s) for s in starts]
    for t in range(steps):
        for k in range(2):
            opts[k].step(params[k], snapshot(grads[k][t]))
    for k in range(2):
        alone = _Optimizer(Optimizer, name, hyper)
        alone_params = snapshot(starts[k])
        for t in range(steps):
            alone.step(alone_params, snapshot(grads[k][t]))
        ref = reference(**hyper)
        ref_params = snapshot(starts[k])
        for t in range(steps):
            ref.step(ref_params, snapshot(grads[k][t]))
        if accept_eps_inside and not _matches(params[k], ref_params):
            inside = EPS_INSIDE[name](starts[k], list(grads[k]), hyper)[-1]
            if _matches(params[k], inside) and _matches(alone_params, inside):
                continue
        checked = tr("two {name}({hyper}) instances stepped alternately, {steps} steps each; "
                     "instance {k}.", name=name, hyper=_hyper_text(hyper), steps=steps, k=k + 1)
        # An unfinished step (nan, or nothing) is told as such, never as shared state.
        interfere = all(np.all(np.isfinite(np.asarray(params[k][key], dtype=np.float64)))
                        for key in starts[k]) and any(
            not np.array_equal(np.asarray(params[k][key]), np.asarray(alone_params[key]),
                               equal_nan=True)
            for key in starts[k]
        )
        def shared(k: int = k, interfere: bool = interfere,
                   ref_params: Params = ref_params) -> str | None:
            if interfere:
                return tr("Two {name} instances interfere: stepped alternately they end "
                         "elsewhere than stepped alone. Keep the optimizer's state on the "
                         "instance (e.g. self.v = {{}} in __init__), not on the class or in "
                         "globals", name=name) + f" {tag('state_shared')}."
            return _diagnose_optimizer(
                actual_params=snapshot(params[k]), expected_params=snapshot(ref_params),
                optimizer=name, start=snapshot(starts[k]), grads=snapshot(list(grads[k])),
                hyper=dict(hyper), reference_cls=reference)

        _compare_params(params[k], ref_params, name=name, checked=checked, start=starts[k],
                        diagnosis=shared)


def _scalar(fn, label: str, *args, **kwargs) -> float:
    return float(as_float64(call(label, fn, *args, **kwargs), f"{label} result",
                            block="lr_schedules", scalar=True))


def check_schedules_sane(step_decay, exponential_decay, cosine_annealing, linear_warmup) -> None:
    """Public check of the schedules' defining properties (values at the ends, constant
    ratios, monotonicity), each result a float."""

    def need(ok: bool | np.bool_, text: str) -> None:
        if not ok:
            fail(text)

    close = np.isclose
    lr0, gamma, size = 0.3, 0.5, 4
    s = [_scalar(step_decay, "step_decay", lr0, gamma, size, t) for t in range(9)]
    need(close(s[0], lr0) and close(s[size - 1], lr0),
         f"step_decay(lr0={lr0}, gamma={gamma}, step_size={size}, t) should stay lr0 for "
         f"t < step_size; got {s[0]:.4g} at t=0 and {s[size - 1]:.4g} at t={size - 1}.")
    need(close(s[size], lr0 * gamma) and close(s[2 * size], s[size] * gamma),
         f"step_decay should multiply by gamma at t = step_size, 2 step_size, ...; got "
         f"{s[size]:.4g} at t={size} and {s[2 * size]:.4g} at t={2 * size}.")
    e = [_scalar(exponential_decay, "exponential_decay", lr0, 0.9, t) for t in range(4)]
    need(close(e[0], lr0) and all(close(b, a * 0.9) for a, b in zip(e, e[1:], strict=False)),
         f"exponential_decay(lr0={lr0}, gamma=0.9, t) should start at lr0 and shrink by gamma "
         f"each step; got {', '.join(f'{v:.4g}' for v in e)} for t = 0..3.")
    T, hi, lo = 10, 0.5, 0.1
    c = [_scalar(cosine_annealing, "cosine_annealing", t, T, hi, lo) for t in range(T + 1)]
    need(close(c[0], hi) and close(c[T], lo) and close(c[T // 2], (hi + lo) / 2),
         f"cosine_annealing(t, T_max={T}, lr_max={hi}, lr_min={lo}) should be lr_max at t=0, "
         f"the midpoint at t=T_max/2 and lr_min at t=T_max; got {c[0]:.4g}, {c[T // 2]:.4g}, "
         f"{c[T]:.4g}.")
    need(all(b < a for a, b in zip(c, c[1:], strict=False)),
         "cosine_annealing should decrease from t=0 to t=T_max.")
    W, target = 4, 0.2
    w = [_scalar(linear_warmup, "linear_warmup", t, W, target) for t in range(W + 3)]
    steps = np.diff(w[: W + 1])
    need(close(w[0], 0.0) and close(w[W], target) and close(w[-1], target)
         and np.allclose(steps, steps[0]),
         f"linear_warmup(t, T_warmup={W}, lr_target={target}) should rise linearly from 0 at "
         "t=0 to lr_target at t=T_warmup and stay there; got "
         f"{', '.join(f'{v:.4g}' for v in w)} for t = 0..{W + 2}.")


def check_clip_grad_norm_sane(clip_grad_norm) -> None:
    """Public check: a new dict with the keys and shapes of grads, the input untouched, the
    joint norm reported, and clipped norm equal to max_norm when above it (unchanged below)."""
    for scale, max_norm in ((3.0, 1.0), (0.1, 5.0)):
        grads = grads_dict(90, scale)
        arg = snapshot(grads)
        result = call("clip_grad_norm", clip_grad_norm, arg, max_norm)
        check_untouched({"grads": grads}, {"grads": arg}, block="clip_grad_norm",
                        during="clip_grad_norm")
        clipped, total = unpack_pair(result, "clip_grad_norm", ("clipped", "total_norm"))
        total = float(as_float64(total, "clip_grad_norm: total_norm", block="clip_grad_norm",
                                 scalar=True))
        if not isinstance(clipped, dict) or set(clipped) != set(grads):
            fail(f"clip_grad_norm returned clipped {describe(clipped)}; expected a dict with "
                 f"the keys of grads {sorted(grads)}.")
        arrays = {}
        for key, g in grads.items():
            arrays[key] = as_float64(clipped[key], f"clipped[{key!r}]", block="clip_grad_norm")
            check_shape(arrays[key], g.shape, f"clipped[{key!r}]", block="clip_grad_norm")
        norm = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
        new_norm = float(np.sqrt(sum(np.sum(a**2) for a in arrays.values())))
        checked = (f"Checked: grads {{W (3, 4), b (4,), c (1,)}} with joint norm {norm:.4g}, "
                   f"max_norm={max_norm:g}.")
        if not np.isclose(total, norm, rtol=1e-9):
            fail(f"clip_grad_norm: total_norm is {total:.6g}; it should be the L2 norm of all "
                 "arrays together, sqrt(sum of every squared entry), before clipping.", checked)
        want = min(norm, max_norm)
        if not np.isclose(new_norm, want, rtol=1e-9):
            fail(f"clip_grad_norm: the clipped arrays have joint norm {new_norm:.6g}; "
                 f"expected {want:.6g} (scale every array by max_norm / total_norm only when "
                 "total_norm > max_norm).", checked)


def check_optimizer_cases(Optimizer, reference, name: str, hypers: Sequence[Mapping], *,
                          accept_eps_inside: bool = False) -> None:
    """Hidden check: ``check_optimizer_trajectory`` for several constructor arguments."""
    for k, hyper in enumerate(hypers):
        check_optimizer_trajectory(Optimizer, reference, name, hyper, seed=1 + k,
                                   accept_eps_inside=accept_eps_inside)
