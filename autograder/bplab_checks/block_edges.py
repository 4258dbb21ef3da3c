"""Checks of blocks on the inputs where a plain formula goes wrong: entries of ``+-LARGE``
(``check_block_stable_by_definition``, public; ``check_block_stable``, hidden: a quiet,
finite forward) and entries exactly 0 (``check_block_at_zero_by_definition``, public;
``check_block_at_zero``, hidden: the slope at ReLU's kink).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bplab_checks.block_consistency import check_consistent
from bplab_checks.block_harness import (
    Block,
    check_against_reference,
    direction_seed,
    magnitude_text,
    random_inputs,
    random_upstream,
    reference_pass,
)
from bplab_checks.feedback import (
    assert_close,
    assert_directional,
    explanation,
    fail,
)
from bplab_checks.gradcheck import directional_derivatives
from bplab_checks.i18n import t
from bplab_checks.tolerances import GRAD_RTOL, LARGE, REF_RTOL


def stable_input(shape: tuple, magnitude: float = LARGE, seed: int = 3) -> np.ndarray:
    """An input with entries of ``+-magnitude`` next to moderate values (both signs, both kinds)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    flat = x.reshape(-1)
    flat[0::3] = magnitude
    flat[1::3] = -magnitude
    return x


def check_block_stable_by_definition(
    block, name: str, shape: tuple, definition: Callable[..., np.ndarray],
    magnitude: float = LARGE, seed: int = 5, *, elementwise: bool = False,
) -> None:
    """Public check of the stated rule on stability: on an X with entries of ``+-magnitude``
    next to moderate ones, forward raises no overflow, invalid value or division by zero
    (numpy raises under ``np.errstate``), its output equals the contract's ``definition``
    (evaluated with warnings off, exact there), and backward is finite and agrees with central
    differences of the definition. ``check_block_stable`` is the same rule on other inputs."""
    student = Block(block, name, ["X"], elementwise=elementwise)
    check_consistent(student, [stable_input(shape, magnitude, seed)], shape, seed, definition,
                      strict=True, what_inputs=magnitude_text(magnitude))


def check_block_stable(
    block, name: str, reference, shape: tuple, magnitude: float = LARGE, seed: int = 3, *,
    elementwise: bool = False,
) -> None:
    """Hidden check: forward raises no overflow, invalid value or division by zero (numpy
    raises under ``np.errstate``) for inputs of magnitude ``magnitude``, and output and
    gradient equal the reference's there. Backward may warn (the contract only promises a
    quiet forward) but must still give the right, finite values."""
    student = Block(block, name, ["X"], elementwise=elementwise)
    x = stable_input(shape, magnitude, seed)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        check_against_reference(
            student,
            reference,
            [x],
            seed=seed,
            what_inputs=magnitude_text(magnitude),
            strict_forward=True,
        )


def _half_zero_input(shape: tuple, seed: int) -> np.ndarray:
    """Half the entries exactly 0, the others at least ``NUDGE`` from 0, of both signs."""
    x = random_inputs({"X": shape}, seed)["X"]
    x.reshape(-1)[::2] = 0.0
    return x


def check_block_at_zero_by_definition(
    block, name: str, shape: tuple, definition: Callable[..., np.ndarray],
    slope_at_zero: float, seed: int = 6, *, elementwise: bool = False,
) -> None:
    """Public check of the stated rule at the kink (``relu'(0) = 0``; LeakyReLU's slope at 0
    is ALPHA): on an X with half its entries exactly 0, the output equals ``definition``, dX is
    ``slope_at_zero * dout`` exactly where X == 0, after agreeing elsewhere with central
    differences of the definition along random directions that move only the nonzero entries
    (so no difference straddles the kink, and a slope wrong on all of X <= 0 is not reported
    as a mistake at 0 only). ``check_block_at_zero`` is the same rule on other
    inputs."""
    student = Block(block, name, ["X"], elementwise=elementwise)
    x = _half_zero_input(shape, seed)
    zero = x == 0
    dout = random_upstream(shape, seed)
    context = t("X {shape} with half its entries exactly 0, random dout (seed {seed})",
                shape=shape, seed=seed)
    out, cache = student.forward(x.copy(), out_shape=shape)
    assert_close(out, np.asarray(definition(x.copy()), dtype=np.float64), what="out",
                 block=name, rtol=REF_RTOL, reveal=True,
                 checked=t("{name}.forward against its definition in the assignment, "
                           "{context}.", name=name, context=context))
    (dx,) = student.backward(np.array(dout), cache, [x])

    def f(z):
        full = x.copy()
        full[~zero] = z
        return float(np.sum(np.asarray(definition(full), dtype=np.float64) * dout))

    check = directional_derivatives(f, x[~zero], dx[~zero], seed=direction_seed(seed, 0))
    assert_directional(
        dx[~zero], check, what="dX", wrt="X", block=name, rtol=GRAD_RTOL,
        function=t("sum({name}.forward(X) * dout) over the nonzero entries of X", name=name),
        checked=t("{name}.backward where X != 0 against central differences of the "
                  "definition of {name}.forward in the assignment, {context}.", name=name,
                  context=context),
        diagnose_details={"elementwise": elementwise},
    )
    at_zero = slope_at_zero * dout[zero]
    if not np.allclose(dx[zero], at_zero, rtol=REF_RTOL, atol=0.0):
        fail(
            explanation(
                "relu_at_zero",
                block=name,
                what="dX",
                fallback=f"{name}: dX is wrong exactly where X == 0. The contract treats "
                "X == 0 like X < 0.",
            ),
            t("Checked: {name}.backward where X == 0 (slope {slope} there), {context}.",
              name=name, slope=f"{slope_at_zero:g}", context=context),
        )


def check_block_at_zero(block, name: str, reference, shape: tuple, seed: int = 4, *,
                        elementwise: bool = False) -> None:
    """Hidden check for ReLU-like blocks: output and gradient on an X with half its entries
    exactly 0 and the others nonzero of both signs, against the reference's everywhere (a
    backward of zeros is right at the zeros only, and fails).

    ``relu'(0) = 0`` and LeakyReLU's slope at 0 is ALPHA: the reference decides.
    """
    student = Block(block, name, ["X"], elementwise=elementwise)
    x = _half_zero_input(shape, seed)
    zero = x == 0
    ref_out, dout, ref_grads = reference_pass(reference, name, [x], seed)
    out, cache = student.forward(x.copy(), out_shape=shape)
    (dx,) = student.backward(dout, cache, [x])
    for what, actual, expected in (("out", out, ref_out), ("dX", dx, ref_grads[0])):
        bad = ~np.isclose(actual, expected, rtol=REF_RTOL, atol=0.0)
        if bad.any() and not bad[~zero].any() and np.all(np.isfinite(actual)):
            fail(
                explanation(
                    "relu_at_zero",
                    block=name,
                    what=what,
                    fallback=f"{name}: {what} is wrong exactly where X == 0 (and right "
                    "elsewhere). Check the convention at 0: the contract treats X == 0 like "
                    "X < 0.",
                ),
                t("Checked: {name} on X {shape} with half its entries exactly 0, random dout.",
                  name=name, shape=shape),
            )
    check_against_reference(
        student, reference, [x], seed=seed, what_inputs=t("X with entries exactly 0, ")
    )
