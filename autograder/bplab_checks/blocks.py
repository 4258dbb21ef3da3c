"""Checks of blocks: classes with static ``forward(*inputs) -> (out, cache)`` and
``backward(dout, cache) -> grads``.

Inputs are described by name and shape, e.g. ``{"A": (3, 4), "B": (4, 5)}`` (names are the
ones used in messages: the gradient of ``A`` is ``dA``). A scalar output has shape ``()``.

Public check: ``check_block_consistency`` (shapes, dtypes, forward against the contract's
definition, the stated rules on mutation, backward vs directional central differences of the
contract's definition, with a random upstream gradient). Hidden checks:
``check_block_matches_reference``, ``check_block_no_mutation``, ``check_block_stable`` and
``check_block_at_zero``.

Every check that passes has looked at the values it computed: a block returning zeros, its
inputs or ``dout`` unchanged never passes one (``tests/test_junk_answers.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from bplab_checks.feedback import (
    StudentRaised,
    as_float64,
    assert_close,
    assert_directional,
    call,
    check_shape,
    check_untouched,
    explanation,
    fail,
    get_attr,
    normalize_grads,
    shapes_text,
    snapshot,
    unpack_pair,
)
from bplab_checks.gradcheck import directional_derivatives, rel_error
from bplab_checks.i18n import t
from bplab_checks.tolerances import GRAD_RTOL, LARGE, NUDGE, REF_RTOL

Shapes = Mapping[str, tuple]
# numpy's words for operands whose shapes do not fit (matmul, broadcasting, reshape).
_SHAPE_WORDS = re.compile(r"shape|broadcast|align|mismatch|dimension", re.IGNORECASE)


def random_inputs(shapes: Shapes, seed: int) -> dict[str, np.ndarray]:
    """Standard-normal float64 inputs, each entry moved at least ``NUDGE`` away from 0."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in shapes.items():
        x = rng.standard_normal(shape)
        out[name] = np.where(x >= 0, x + NUDGE, x - NUDGE)
    return out


def random_upstream(shape: tuple, seed: int):
    """A random upstream gradient; a Python float for a scalar output (never 1, never 0)."""
    rng = np.random.default_rng(seed + 7919)
    if tuple(shape) == ():
        return float(rng.uniform(0.5, 2.0) * rng.choice([-1.0, 1.0]))
    return rng.standard_normal(shape)


class _Block:
    """A student (or reference) block with every call turned into feedback."""

    def __init__(self, block, name: str, input_names: Sequence[str], *,
                 elementwise: bool = False):
        self.name = name
        self.elementwise = elementwise  # for diagnoses: no sum or mean inside the block
        self.input_names = list(input_names)
        self.grad_names = ["d" + n for n in self.input_names]
        self._forward = get_attr(block, "forward", name)
        self._backward = get_attr(block, "backward", name)

    def forward(self, *inputs, out_shape: tuple | None = None):
        label = f"{self.name}.forward"
        out, cache = unpack_pair(call(label, self._forward, *inputs), label, ("out", "cache"))
        scalar = out_shape is not None and tuple(out_shape) == ()
        out = as_float64(out, f"{label} output", block=self.name, scalar=scalar)
        if out_shape is not None:
            check_shape(
                out,
                out_shape,
                f"{label} output",
                block=self.name,
                context=t("Inputs: {inputs}.", inputs=shapes_text(
                    dict(zip(self.input_names, inputs, strict=True)))),
            )
        return out, cache

    def backward(self, dout, cache, inputs: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
        label = f"{self.name}.backward"
        try:
            raw = call(label, self._backward, dout, cache)
        except StudentRaised as raised:
            if isinstance(raised.exc, ValueError) and _SHAPE_WORDS.search(str(raised.exc)):
                fail(self._shape_mismatch(str(raised), dout, inputs))
            raise
        grads = normalize_grads(raw, len(inputs), self.grad_names, block=self.name)
        checked = []
        for k, (gname, g, x) in enumerate(zip(self.grad_names, grads, inputs, strict=True)):
            arr = as_float64(g, f"{label}: {gname}", block=self.name)
            check_shape(
                arr,
                np.shape(x),
                f"{label}: {gname}",
                block=self.name,
                context=t("Each gradient has the shape of its input. Inputs: {inputs}.",
                          inputs=shapes_text(dict(zip(self.input_names, inputs, strict=True)))),
                actual_shapes=[np.shape(np.asarray(v)) for v in grads],
                expected_shapes=[np.shape(v) for v in inputs],
                index=k,
                names=self.grad_names,
                dout=dout,
            )
            checked.append(arr)
        return tuple(checked)

    def _shape_mismatch(self, error: str, dout, inputs: Sequence[np.ndarray]) -> str:
        """A numpy shape error inside backward, told with the shapes that were given and the
        shapes the gradients must have (the error itself says where)."""
        given = shapes_text({"dout": np.asarray(dout), **dict(zip(self.input_names, inputs,
                                                                   strict=True))})
        wanted = ", ".join(f"{g} {tuple(np.shape(x))}"
                           for g, x in zip(self.grad_names, inputs, strict=True))
        return explanation(
            "shape_mismatch", block=self.name, what=f"{self.name}.backward", error=error,
            given=given, wanted=wanted,
            fallback=f"{error}. Given {given}; backward must return {wanted}: check which "
            "factor is transposed and the order of the factors.",
        )

    def local_grads(self, inputs: Sequence[np.ndarray], out_shape: tuple):
        """The block's gradients with an upstream gradient of ones (for diagnoses), or None."""
        try:
            _, cache = self.forward(*[np.array(x) for x in inputs])
            ones = 1.0 if tuple(out_shape) == () else np.ones(out_shape)
            return self.backward(ones, cache, inputs)
        except AssertionError:
            return None


def _magnitude_text(magnitude: float) -> str:
    return t("inputs with |X| = {magnitude}, ", magnitude=f"{magnitude:g}")


def _inputs_text(names: Sequence[str], inputs: Sequence, dout, seed: int | None) -> str:
    text = shapes_text(dict(zip(names, inputs, strict=True)))
    dout_text = (t("a random scalar dout") if np.ndim(dout) == 0
                 else t("random dout {shape}", shape=np.shape(dout)))
    return text + f", {dout_text}" + (t(" (seed {seed})", seed=seed) if seed is not None else "")


def _compare_grads(
    student: _Block,
    grads: Sequence[np.ndarray],
    expected: Sequence[np.ndarray],
    *,
    inputs: Sequence[np.ndarray],
    dout,
    out_shape: tuple,
    checked: str,
    rtol: float,
    reveal: bool,
    reference=None,
) -> None:
    """Compare every gradient; on the first mismatch, fail with the diagnosis first."""
    for k, (g, e) in enumerate(zip(grads, expected, strict=True)):
        if rel_error(g, e) <= rtol:
            continue
        local = student.local_grads(inputs, out_shape)
        assert_close(
            g,
            e,
            what=student.grad_names[k],
            block=student.name,
            checked=checked,
            rtol=rtol,
            reveal=reveal,
            diagnose_details={
                "inputs": tuple(inputs),
                "dout": dout,
                "reference": reference,
                "local": None if local is None else local[k],
                "actual_all": tuple(grads),
                "expected_all": tuple(expected),
                "index": k,
                "names": tuple(student.grad_names),
                "elementwise": student.elementwise,
            },
        )


def _upstream_function(student: _Block, xs: Sequence[np.ndarray], k: int, dout, out_shape,
                       definition: Callable[..., np.ndarray] | None = None):
    """``z -> sum(forward(..., z at position k, ...) * dout)``: its gradient is the k-th
    gradient backward returns for ``dout``. With ``definition`` the trusted forward pass is
    differenced, never the student's (a dishonest forward cannot make its backward agree)."""
    d = np.asarray(dout, dtype=np.float64)

    def f(z):
        args = [np.array(x) for x in xs]
        args[k] = z
        if definition is not None:
            out = np.asarray(definition(*args), dtype=np.float64)
        else:
            out = student.forward(*args, out_shape=out_shape)[0]
        return float(np.sum(out * d))

    return f


def _direction_seed(seed: int, k: int) -> int:
    return 1000 * seed + k  # one fixed set of directions per check seed and input


def _backward_keeps_the_rules(student: _Block, xs: Sequence[np.ndarray], args, cache, dout,
                              grads, context: str) -> None:
    """The stated rules of backward (contract): dout, the inputs (also when the cache holds
    them) and the cache are left alone. ``args`` are the arrays forward was given (the
    grader's copies of ``xs``), ``grads`` what the first backward call on ``cache`` returned
    for a copy of ``dout``; backward is called a second time here."""
    name = student.name
    dout_arg = np.array(dout) if np.ndim(dout) else dout
    again = student.backward(dout_arg, cache, xs)
    check_untouched({"dout": np.asarray(dout)}, {"dout": np.asarray(dout_arg)}, block=name,
                    during=f"{name}.backward", code="mutates_dout")
    check_untouched(dict(zip(student.input_names, xs, strict=True)),
                    dict(zip(student.input_names, args, strict=True)), block=name,
                    during=f"{name}.backward (through the cache)")
    changed = [student.grad_names[k] for k, (g1, g2) in enumerate(zip(grads, again, strict=True))
               if not np.array_equal(g1, g2, equal_nan=True)]
    if changed:
        fail(
            explanation(
                "mutates_cache",
                block=name,
                what=", ".join(changed),
                fallback=f"{name}.backward modified the cache in place: calling it twice on the "
                f"same cache gave different {', '.join(changed)}. Compute new arrays instead "
                "of updating cached ones (no *=, += or x[...] = on them).",
            ),
            t("Checked: backward called twice on one cache, {context}.", context=context),
        )


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
    student = _Block(block, name, list(inputs), elementwise=elementwise)
    _check_consistent(student, list(random_inputs(inputs, seed).values()), out_shape, seed,
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


def _check_consistent(student: _Block, xs: list[np.ndarray], out_shape: tuple, seed: int,
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
    context = what_inputs + _inputs_text(student.input_names, xs, dout, seed)
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
    _backward_keeps_the_rules(student, xs, args, cache, dout, grads, context)
    for gname, g in zip(student.grad_names, grads, strict=True):
        if not np.all(np.isfinite(g)):
            fail(explanation("nan_or_inf", block=name, what=gname,
                             fallback=f"{gname} contains nan or inf."),
                 t("Checked: {name}.backward on {context}.", name=name, context=context))
    checks = [
        directional_derivatives(_upstream_function(student, xs, k, dout, out_shape, definition),
                                x, g, seed=_direction_seed(seed, k))
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


def _verified_local(student: _Block, xs, k: int, grad, out_shape: tuple, seed: int,
                    definition: Callable[..., np.ndarray] | None = None):
    """The student's k-th gradient for ``dout = ones`` when ``grad`` (for a random dout)
    equals it and it is right for ``dout = ones``: then dout was ignored. Else None."""
    local = student.local_grads(xs, out_shape)
    if local is None or rel_error(grad, local[k]) > GRAD_RTOL:
        return None
    ones = 1.0 if tuple(out_shape) == () else np.ones(out_shape)
    f = _upstream_function(student, xs, k, ones, out_shape, definition)
    try:
        check = directional_derivatives(f, xs[k], local[k], seed=_direction_seed(seed, k))
    except AssertionError:
        return None
    return local[k] if check.error <= GRAD_RTOL else None


def _reference_pass(reference, name: str, xs: Sequence[np.ndarray], seed: int | None):
    """The reference's output, the random upstream gradient for it, and the gradients."""
    ref = _Block(reference, f"reference {name}", [f"x{k}" for k in range(len(xs))])
    out, cache = ref.forward(*[x.copy() for x in xs])
    dout = random_upstream(out.shape, 0 if seed is None else seed)
    return out, dout, ref.backward(dout, cache, xs)


def _check_against_reference(
    student: _Block,
    reference,
    xs: list[np.ndarray],
    *,
    seed: int | None,
    what_inputs: str,
    strict_forward: bool = False,
) -> None:
    """Compare output and gradients with the reference; ``strict_forward`` runs the student's
    forward under ``np.errstate(over/invalid/divide="raise")`` (the contract's promise)."""
    name = student.name
    ref_out, dout, ref_grads = _reference_pass(reference, name, xs, seed)
    out_shape = ref_out.shape
    if strict_forward:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            out, cache = student.forward(*[x.copy() for x in xs], out_shape=out_shape)
    else:
        out, cache = student.forward(*[x.copy() for x in xs], out_shape=out_shape)
    context = f"{what_inputs}{_inputs_text(student.input_names, xs, dout, seed)}"
    _compare_out(student, out, ref_out, xs=xs, reference=reference, context=context)
    grads = student.backward(dout, cache, xs)
    _compare_all_grads(student, grads, ref_grads, xs=xs, dout=dout, reference=reference,
                       context=context)


def _compare_out(student: _Block, out, ref_out, *, xs, reference, context: str) -> None:
    assert_close(
        out,
        ref_out,
        what="out",
        block=student.name,
        checked=t("{name}.forward output on {context}.", name=student.name, context=context),
        rtol=REF_RTOL,
        reveal=False,
        diagnose_details={"inputs": tuple(xs), "reference": reference,
                          "elementwise": student.elementwise},
    )


def _compare_all_grads(student: _Block, grads, ref_grads, *, xs, dout, reference,
                       context: str) -> None:
    _compare_grads(
        student,
        grads,
        ref_grads,
        inputs=xs,
        dout=dout,
        out_shape=np.shape(dout),
        checked=t("{name}.backward on {context}.", name=student.name, context=context),
        rtol=REF_RTOL,
        reveal=False,
        reference=reference,
    )


def check_block_matches_reference(
    block, name: str, reference, cases: Sequence[Shapes], seed: int = 1, *,
    elementwise: bool = False,
) -> None:
    """Hidden check: forward output and every gradient equal the reference's, on random
    non-square inputs, one seed per case.

    Args:
        block: the student's block.
        name: its name in messages.
        reference: the reference block.
        cases: input shapes per case (the names are the input names).
        seed: seed of the first case (the next cases use seed + 1, ...).
    """
    for k, shapes in enumerate(cases):
        student = _Block(block, name, list(shapes), elementwise=elementwise)
        xs = list(random_inputs(shapes, seed + k).values())
        _check_against_reference(student, reference, xs, seed=seed + k, what_inputs="")


def check_block_no_mutation(
    block, name: str, reference, inputs: Shapes, seed: int = 2, *, elementwise: bool = False
) -> None:
    """Hidden check: the rules of the public ``check_block_consistency`` on other inputs
    (forward leaves its inputs alone, backward leaves dout, the inputs and the cache alone:
    called twice on one cache it gives the same gradients twice), and the output and gradients
    so computed equal the reference's (a block that computes nothing leaves everything alone
    too, and must not pass).

    Args:
        block: the student's block.
        name: its name in messages.
        reference: the reference block.
        inputs: input names and shapes.
        seed: seed of the inputs and of dout.
        elementwise: the block acts entry by entry (for diagnoses).
    """
    student = _Block(block, name, list(inputs), elementwise=elementwise)
    xs = list(random_inputs(inputs, seed).values())
    ref_out, dout, ref_grads = _reference_pass(reference, name, xs, seed)
    args = [x.copy() for x in xs]
    out, cache = student.forward(*args, out_shape=ref_out.shape)
    check_untouched(dict(zip(student.input_names, xs, strict=True)),
                    dict(zip(student.input_names, args, strict=True)), block=name,
                    during=f"{name}.forward")
    out_before = snapshot(out)
    context = _inputs_text(student.input_names, xs, dout, seed)
    grads = snapshot(student.backward(np.array(dout) if np.ndim(dout) else dout, cache, xs))
    _backward_keeps_the_rules(student, xs, args, cache, dout, grads, context)
    if not np.array_equal(out, out_before, equal_nan=True):
        fail(
            explanation(
                "mutates_cache",
                block=name,
                what="out",
                fallback=f"{name}.backward modified the forward output it cached, in place. "
                "Compute new arrays instead of updating cached ones.",
            ),
            t("Checked: backward called twice, {context}.", context=context),
        )
    # Untouched is only worth points for values that are right.
    _compare_out(student, out_before, ref_out, xs=xs, reference=reference, context=context)
    _compare_all_grads(student, grads, ref_grads, xs=xs, dout=dout, reference=reference,
                       context=context)


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
    student = _Block(block, name, ["X"], elementwise=elementwise)
    _check_consistent(student, [stable_input(shape, magnitude, seed)], shape, seed, definition,
                      strict=True, what_inputs=_magnitude_text(magnitude))


def check_block_stable(
    block, name: str, reference, shape: tuple, magnitude: float = LARGE, seed: int = 3, *,
    elementwise: bool = False,
) -> None:
    """Hidden check: forward raises no overflow, invalid value or division by zero (numpy
    raises under ``np.errstate``) for inputs of magnitude ``magnitude``, and output and
    gradient equal the reference's there. Backward may warn (the contract only promises a
    quiet forward) but must still give the right, finite values."""
    student = _Block(block, name, ["X"], elementwise=elementwise)
    x = stable_input(shape, magnitude, seed)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        _check_against_reference(
            student,
            reference,
            [x],
            seed=seed,
            what_inputs=_magnitude_text(magnitude),
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
    student = _Block(block, name, ["X"], elementwise=elementwise)
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

    check = directional_derivatives(f, x[~zero], dx[~zero], seed=_direction_seed(seed, 0))
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
    student = _Block(block, name, ["X"], elementwise=elementwise)
    x = _half_zero_input(shape, seed)
    zero = x == 0
    ref_out, dout, ref_grads = _reference_pass(reference, name, [x], seed)
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
    _check_against_reference(
        student, reference, [x], seed=seed, what_inputs=t("X with entries exactly 0, ")
    )
