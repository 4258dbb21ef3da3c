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

Where they live: the harness (``Block``, inputs, texts, comparisons) in ``block_harness``,
the public consistency check in ``block_consistency``, the checks on large inputs and at 0 in
``block_edges``; the hidden comparisons with the reference here. Every check is importable
from here (and from ``bplab_checks``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bplab_checks.block_consistency import check_block_consistency
from bplab_checks.block_edges import (
    check_block_at_zero,
    check_block_at_zero_by_definition,
    check_block_stable,
    check_block_stable_by_definition,
    stable_input,
)
from bplab_checks.block_harness import (
    Block,
    Shapes,
    backward_keeps_the_rules,
    check_against_reference,
    compare_all_grads,
    compare_out,
    inputs_text,
    random_inputs,
    random_upstream,
    reference_pass,
)
from bplab_checks.feedback import (
    check_untouched,
    explanation,
    fail,
    snapshot,
)
from bplab_checks.i18n import t

__all__ = [
    "check_block_at_zero",
    "check_block_at_zero_by_definition",
    "check_block_consistency",
    "check_block_matches_reference",
    "check_block_no_mutation",
    "check_block_stable",
    "check_block_stable_by_definition",
    "random_inputs",
    "random_upstream",
    "stable_input",
]


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
        student = Block(block, name, list(shapes), elementwise=elementwise)
        xs = list(random_inputs(shapes, seed + k).values())
        check_against_reference(student, reference, xs, seed=seed + k, what_inputs="")


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
    student = Block(block, name, list(inputs), elementwise=elementwise)
    xs = list(random_inputs(inputs, seed).values())
    ref_out, dout, ref_grads = reference_pass(reference, name, xs, seed)
    args = [x.copy() for x in xs]
    out, cache = student.forward(*args, out_shape=ref_out.shape)
    check_untouched(dict(zip(student.input_names, xs, strict=True)),
                    dict(zip(student.input_names, args, strict=True)), block=name,
                    during=f"{name}.forward")
    out_before = snapshot(out)
    context = inputs_text(student.input_names, xs, dout, seed)
    grads = snapshot(student.backward(np.array(dout) if np.ndim(dout) else dout, cache, xs))
    backward_keeps_the_rules(student, xs, args, cache, dout, grads, context)
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
    compare_out(student, out_before, ref_out, xs=xs, reference=reference, context=context)
    compare_all_grads(student, grads, ref_grads, xs=xs, dout=dout, reference=reference,
                       context=context)
