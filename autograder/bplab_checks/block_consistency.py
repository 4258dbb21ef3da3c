"""The public check of a block's consistency, ``check_block_consistency``: shapes and
dtypes, the forward output against the contract's definition, the stated rules on mutation, and
backward against directional central differences of the definition with a random upstream
gradient.

``check_consistent`` is its body on given inputs; ``block_edges`` runs it on large inputs
under ``np.errstate(... "raise")`` (the stated rule on stability).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bplab_checks.block_harness import (
    Block,
    Shapes,
    backward_keeps_the_rules,
    direction_seed,
    inputs_text,
    random_inputs,
    random_upstream,
    upstream_function,
)
from bplab_checks.feedback import (
    assert_close,
    assert_directional,
    check_untouched,
    explanation,
    fail,
    shapes_text,
    snapshot,
)
from bplab_checks.gradcheck import directional_derivatives, rel_error
from bplab_checks.i18n import t
from bplab_checks.tolerances import GRAD_RTOL, REF_RTOL


def check_block_consistency(
    block,
    name: str,
    inputs: Shapes,
    out_shape: tuple,
    seed: int = 0,
    *,
    definition: Callable[..., np.ndarray] | None = None,
    elementwise: bool = False,
) -> None:
    """Public check: forward/backward shapes and dtypes, the forward output against the
    contract's ``definition``, the stated rules (forward and backward leave their inputs,
    ``dout`` and the cache alone: backward is called twice), and every gradient of backward
    against central differences of ``definition`` (the trusted forward pass) along random
    directions.

    With a random upstream gradient ``dout``, the gradient ``dA`` returned by backward is the
    gradient of ``f(A) = sum(definition(A, ...) * dout)``; for ``N_DIRECTIONS`` random unit
    directions v, ``<dA, v>`` must equal ``(f(A + h v) - f(A - h v)) / 2h``. Inputs are
    non-square and at least ``NUDGE`` away from 0 (ReLU kinks); the question files add a
    one-row batch for batch-wise blocks. Student code only ever gets the grader's copies.

    Args:
        block: the student's block (class or proxy).
        name: its name in messages.
        inputs: input names and shapes, e.g. ``{"A": (3, 4), "B": (4, 5)}``.
        out_shape: expected output shape, ``()`` for a scalar.
        seed: seed of the inputs, of dout and of the directions.
        definition: the forward pass as the contract writes it (e.g. ``lambda A, B: A @ B``),
            valid on these moderate inputs; without it the student's own forward is
            differenced (then a self-consistent pair of wrong passes would pass: every
            question file gives one).
        elementwise: the block acts entry by entry (no sum or mean inside), so diagnoses
            never explain a factor by a count.
    """
    student = Block(block, name, list(inputs), elementwise=elementwise)
    check_consistent(student, list(random_inputs(inputs, seed).values()), out_shape, seed,
                      definition)


def _quiet(definition: Callable[..., np.ndarray] | None) -> Callable[..., np.ndarray] | None:
    """``definition`` evaluated with numpy's warnings off: the contract's plain formulas are
    exact at |x| = LARGE (1 / (1 + inf) = 0) even where they overflow on the way."""
    if definition is None:
        return None

    def quiet(*xs):
        with np.errstate(all="ignore"):
            return definition(*xs)

    return quiet


def check_consistent(student: Block, xs: list[np.ndarray], out_shape: tuple, seed: int,
                      definition: Callable[..., np.ndarray] | None, *, strict: bool = False,
                      what_inputs: str = "") -> None:
    """The body of ``check_block_consistency`` on the inputs ``xs``; ``strict`` runs the
    student's forward under ``np.errstate(over/invalid/divide="raise")`` (the stated rule on
    stability), where the definition is evaluated quietly."""
    name, elementwise = student.name, student.elementwise
    if strict:
        definition = _quiet(definition)
    args = [x.copy() for x in xs]
    if strict:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            out, cache = student.forward(*args, out_shape=out_shape)
    else:
        out, cache = student.forward(*args, out_shape=out_shape)
    check_untouched(dict(zip(student.input_names, xs, strict=True)),
                    dict(zip(student.input_names, args, strict=True)), block=name,
                    during=f"{name}.forward")
    dout = random_upstream(out_shape, seed)
    context = what_inputs + inputs_text(student.input_names, xs, dout, seed)
    if definition is not None:
        expected = np.asarray(definition(*[x.copy() for x in xs]), dtype=np.float64)
        assert_close(
            out,
            expected,
            what="out",
            block=name,
            checked=t("{name}.forward against its definition in the assignment, {inputs} "
                      "(seed {seed}).", name=name, seed=seed, inputs=what_inputs + shapes_text(
                          dict(zip(student.input_names, xs, strict=True)))),
            rtol=REF_RTOL,
            reveal=True,
            diagnose_details={"inputs": tuple(xs), "elementwise": elementwise},
        )
    grads = snapshot(student.backward(np.array(dout) if np.ndim(dout) else dout, cache, xs))
    backward_keeps_the_rules(student, xs, args, cache, dout, grads, context)
    for gname, g in zip(student.grad_names, grads, strict=True):
        if not np.all(np.isfinite(g)):
            fail(explanation("nan_or_inf", block=name, what=gname,
                             fallback=f"{gname} contains nan or inf."),
                 t("Checked: {name}.backward on {context}.", name=name, context=context))
    checks = [
        directional_derivatives(upstream_function(student, xs, k, dout, out_shape, definition),
                                x, g, seed=direction_seed(seed, k))
        for k, (x, g) in enumerate(zip(xs, grads, strict=True))
    ]
    call_args = ", ".join(student.input_names)
    differenced = (t("the definition of {name}.forward in the assignment", name=name)
                   if definition is not None else t("your own {name}.forward", name=name))
    for k, (g, check) in enumerate(zip(grads, checks, strict=True)):
        if check.error <= GRAD_RTOL:
            continue
        others = [(student.grad_names[j], grads[j], checks[j])
                  for j in range(len(xs)) if j != k]
        assert_directional(
            g,
            check,
            what=student.grad_names[k],
            wrt=student.input_names[k],
            function=f"sum({name}.forward({call_args}) * dout)",
            block=name,
            checked=t("{name}.backward against central differences of {differenced}, "
                      "{context}.", name=name, differenced=differenced, context=context),
            rtol=GRAD_RTOL,
            diagnose_details={
                "inputs": tuple(xs),
                "dout": dout,
                "local": _verified_local(student, xs, k, g, out_shape, seed, definition),
                "others": others,
                "elementwise": elementwise,
                "out": expected if definition is not None and len(xs) == 1 else None,
            },
        )


def _verified_local(student: Block, xs, k: int, grad, out_shape: tuple, seed: int,
                    definition: Callable[..., np.ndarray] | None = None):
    """The student's k-th gradient for ``dout = ones`` when ``grad`` (for a random dout)
    equals it and it is right for ``dout = ones``: then dout was ignored. Else None."""
    local = student.local_grads(xs, out_shape)
    if local is None or rel_error(grad, local[k]) > GRAD_RTOL:
        return None
    ones = 1.0 if tuple(out_shape) == () else np.ones(out_shape)
    f = upstream_function(student, xs, k, ones, out_shape, definition)
    try:
        check = directional_derivatives(f, xs[k], local[k], seed=direction_seed(seed, k))
    except AssertionError:
        return None
    return local[k] if check.error <= GRAD_RTOL else None
