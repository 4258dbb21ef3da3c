"""diagnose_optimizer: the usual optimizer mistake behind wrong parameters after a few steps
(wrong sign, state reset or shared, bias correction, a step scale)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from bplab_checks.diagnose.common import MATCH_RTOL, _as_float_array, _fits, _say, tag
from bplab_checks.gradcheck import rel_error
from bplab_checks.i18n import N_, tn
from bplab_checks.i18n import t as tr


def diagnose_optimizer(
    actual_params: Mapping[str, np.ndarray],
    expected_params: Mapping[str, np.ndarray],
    *,
    optimizer: str,
    start: Mapping[str, np.ndarray],
    grads: Sequence[Mapping[str, np.ndarray]],
    hyper: Mapping[str, float] | None = None,
    reference_cls: Callable | None = None,
) -> str | None:
    """Name the usual optimizer mistake behind wrong parameters after a few steps.

    Args:
        actual_params: the student's parameters after ``len(grads)`` steps from ``start``.
        expected_params: the reference parameters after the same steps.
        optimizer: "SGD", "Momentum", "RMSprop" or "Adam".
        start: the parameters before the first step (never modified here).
        grads: the gradients of each step, dicts with the keys of ``start``.
        hyper: the constructor keywords used (e.g. ``{"lr": 0.1, "momentum": 0.9}``).
        reference_cls: the reference optimizer class (hidden tests) or None; with it, state
            mistakes are rebuilt by driving fresh reference instances.

    Returns:
        One sentence ending in "(diagnosis: <code>)", or None.
    """
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return _diagnose_optimizer(actual_params, expected_params, optimizer=optimizer,
                                       start=start, grads=grads, hyper=dict(hyper or {}),
                                       reference_cls=reference_cls)
    except Exception:  # noqa: BLE001
        return None


def _flat(params: Mapping, keys: list[str]) -> np.ndarray | None:
    parts = []
    for k in keys:
        v = _as_float_array(params.get(k)) if isinstance(params, Mapping) else None
        if v is None:
            return None
        parts.append(v.ravel())
    return np.concatenate(parts) if parts else None


def _diagnose_optimizer(actual_params, expected_params, *, optimizer, start, grads, hyper,
                        reference_cls) -> str | None:
    keys = list(start)
    s = _flat(start, keys)
    a = _flat(actual_params, keys)
    e = _flat(expected_params, keys)
    if s is None or a is None or e is None or a.shape != e.shape or not np.all(np.isfinite(e)):
        return None
    subject = f"{optimizer}.step"
    n = len(grads)
    steps = tn("after {n} step", "after {n} steps", n)
    if not np.all(np.isfinite(a)):
        return _say(subject, "produced nan or inf parameters {steps}", "nan_or_inf",
                    steps=steps)
    da, de = a - s, e - s
    if float(np.linalg.norm(de)) == 0.0 or rel_error(a, e) <= MATCH_RTOL:
        return None
    if _fits(da, -de, de):
        return _say(subject, "moves the parameters the wrong way {steps}: a step subtracts "
                    "lr times the update (theta -= ...)", "optimizer_wrong_sign", steps=steps)
    variants = _optimizer_variants(optimizer, start, grads, hyper, reference_cls, keys)
    for code, text, params in variants:
        # Compare updates, not parameters: a wrong update is small next to the parameters.
        cand = _flat(params, keys) if params is not None else None
        if cand is not None and _fits(da, cand - s, de):
            return f"{subject} {tr(text)} ({steps}) {tag(code)}"
    c = float(np.sum(da * de)) / float(np.sum(de * de))
    if c != 0.0 and _fits(da, c * de, de):
        factor = f"{c:.4g}"
        return _say(subject, "makes updates {factor} times the expected ones {steps}: check "
                    "where the learning rate enters (once, as lr * ...)", "optimizer_step_scale",
                    factor=factor, steps=steps)
    return None


def _copy_params(p: Mapping) -> dict[str, np.ndarray]:
    return {k: np.array(v, dtype=np.float64) for k, v in p.items()}


def _optimizer_variants(optimizer, start, grads, hyper, reference_cls, keys):
    """(code, sentence, params) for each mistake that applies to this optimizer."""
    out = []
    if reference_cls is not None:
        # State not kept between steps: a fresh optimizer for every step.
        p = _copy_params(start)
        for g in grads:
            reference_cls(**hyper).step(p, _copy_params(g))
        out.append(("state_reset", N_("forgets its state between steps: create the state "
                    "once (e.g. in __init__ or on the first step) and update it in place"), p))
        # t advanced per key: one instance, stepped on one key at a time.
        p = _copy_params(start)
        opt = reference_cls(**hyper)
        for g in grads:
            for k in keys:
                sub = {k: p[k]}
                opt.step(sub, {k: np.array(g[k], dtype=np.float64)})
                p[k] = sub[k]
        out.append(("step_count_per_key", N_("advances its step counter once per parameter: "
                    "count steps once per call of step"), p))
        # One state for all parameters: every key stepped under the same name.
        p = _copy_params(start)
        opt = reference_cls(**hyper)
        shared_ok = True
        for g in grads:
            for k in keys:
                sub = {"_shared": p[k]}
                try:
                    opt.step(sub, {"_shared": np.array(g[k], dtype=np.float64)})
                except Exception:  # noqa: BLE001 - shapes differ: this mistake would crash
                    shared_ok = False
                    break
                p[k] = sub["_shared"]
            if not shared_ok:
                break
        if shared_ok:
            out.append(("state_shared", N_("shares one state between all parameters: keep "
                        "one state array per parameter key"), p))
    if optimizer == "Adam":
        for variant, code, text in (
            ({"correct_m": False, "correct_v": False}, "no_bias_correction",
             N_("skips the bias correction: divide m by (1 - beta1 ** t) and v by "
                "(1 - beta2 ** t), with t counted from 1")),
            ({"correct_v": False}, "partial_bias_correction",
             N_("corrects only the first moment m: divide v by (1 - beta2 ** t) as well")),
            ({"correct_m": False}, "partial_bias_correction",
             N_("corrects only the second moment v: divide m by (1 - beta1 ** t) as well")),
            ({"reset": True}, "state_reset", N_("starts m and v from zero at every step: create "
                                                "them once per parameter and keep them between "
                                                "steps")),
            ({"t_offset": 1}, "adam_t_off_by_one", N_("counts its steps from 2, not 1: t must "
                                                      "be 1 in the bias correction of the first "
                                                      "step (start at 0, add 1 before using "
                                                      "it)")),
        ):
            out.append((code, text, _adam_variant(start, grads, hyper, **variant)))
    return out


def _adam_variant(start, grads, hyper, *, correct_m: bool = True, correct_v: bool = True,
                  reset: bool = False, t_offset: int = 0) -> dict:
    """Adam with the bias correction of m and/or v left out, or its moments reset at every
    step while t keeps counting, or its step counter off by ``t_offset`` (wrong answers to
    compare with)."""
    lr = float(hyper.get("lr", 1e-3))
    b1 = float(hyper.get("beta1", 0.9))
    b2 = float(hyper.get("beta2", 0.999))
    eps = float(hyper.get("eps", 1e-8))
    p = _copy_params(start)
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v2 = {k: np.zeros_like(v) for k, v in p.items()}
    for t, g in enumerate(grads, start=1 + t_offset):
        if reset:
            m = {k: np.zeros_like(v) for k, v in p.items()}
            v2 = {k: np.zeros_like(v) for k, v in p.items()}
        for k in p:
            gk = np.asarray(g[k], dtype=np.float64)
            m[k] = b1 * m[k] + (1 - b1) * gk
            v2[k] = b2 * v2[k] + (1 - b2) * gk**2
            mh = m[k] / (1 - b1**t) if correct_m else m[k]
            vh = v2[k] / (1 - b2**t) if correct_v else v2[k]
            p[k] = p[k] - lr * mh / (np.sqrt(vh) + eps)
    return p
