"""The harness every block check runs on (the checks themselves: ``blocks``,
``block_consistency``, ``block_edges``).

``Block`` wraps a student's (or the reference's) block so that every call of ``forward`` and
``backward`` is turned into feedback: a raised exception, a wrong type, dtype or shape fails
with a message naming the block, never with a traceback of the grader. Around it: the grader's
random inputs and upstream gradients (``random_inputs``, ``random_upstream``: one fixed set per
seed), the texts that say what was checked on which inputs, the stated rules of backward
(``backward_keeps_the_rules``) and the comparison with the reference
(``check_against_reference``, ``compare_out``, ``compare_all_grads``: the diagnosis first on
a mismatch). Nothing here passes or fails a question on its own account.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from bplab_checks.feedback import (
    StudentRaised,
    as_float64,
    assert_close,
    call,
    check_shape,
    check_untouched,
    explanation,
    fail,
    get_attr,
    normalize_grads,
    shapes_text,
    unpack_pair,
)
from bplab_checks.gradcheck import rel_error
from bplab_checks.i18n import t
from bplab_checks.tolerances import NUDGE, REF_RTOL

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


class Block:
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


def magnitude_text(magnitude: float) -> str:
    return t("inputs with |X| = {magnitude}, ", magnitude=f"{magnitude:g}")


def inputs_text(names: Sequence[str], inputs: Sequence, dout, seed: int | None) -> str:
    text = shapes_text(dict(zip(names, inputs, strict=True)))
    dout_text = (t("a random scalar dout") if np.ndim(dout) == 0
                 else t("random dout {shape}", shape=np.shape(dout)))
    return text + f", {dout_text}" + (t(" (seed {seed})", seed=seed) if seed is not None else "")


def compare_grads(
    student: Block,
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


def upstream_function(student: Block, xs: Sequence[np.ndarray], k: int, dout, out_shape,
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


def direction_seed(seed: int, k: int) -> int:
    return 1000 * seed + k  # one fixed set of directions per check seed and input


def backward_keeps_the_rules(student: Block, xs: Sequence[np.ndarray], args, cache, dout,
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

def reference_pass(reference, name: str, xs: Sequence[np.ndarray], seed: int | None):
    """The reference's output, the random upstream gradient for it, and the gradients."""
    ref = Block(reference, f"reference {name}", [f"x{k}" for k in range(len(xs))])
    out, cache = ref.forward(*[x.copy() for x in xs])
    dout = random_upstream(out.shape, 0 if seed is None else seed)
    return out, dout, ref.backward(dout, cache, xs)


def check_against_reference(
    student: Block,
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
    ref_out, dout, ref_grads = reference_pass(reference, name, xs, seed)
    out_shape = ref_out.shape
    if strict_forward:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            out, cache = student.forward(*[x.copy() for x in xs], out_shape=out_shape)
    else:
        out, cache = student.forward(*[x.copy() for x in xs], out_shape=out_shape)
    context = f"{what_inputs}{inputs_text(student.input_names, xs, dout, seed)}"
    compare_out(student, out, ref_out, xs=xs, reference=reference, context=context)
    grads = student.backward(dout, cache, xs)
    compare_all_grads(student, grads, ref_grads, xs=xs, dout=dout, reference=reference,
                       context=context)


def compare_out(student: Block, out, ref_out, *, xs, reference, context: str) -> None:
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


def compare_all_grads(student: Block, grads, ref_grads, *, xs, dout, reference,
                       context: str) -> None:
    compare_grads(
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
