"""Checks of ``(loss, grad)`` functions: the public ``check_loss_gradient`` (arguments left
alone, a float64 loss equal to the contract's definition, grad shaped like its argument and
against central differences of that definition), the public checks of the stated rule on
stability, ``check_loss_shift_invariant`` (losses of logits: a shift of every logit changes
nothing) and ``check_stable_loss_by_definition`` (extreme inputs: no overflow, the
definition's value), and the hidden ``check_stable_loss`` (the same rule against the
reference).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bplab_checks.cases import Case
from bplab_checks.feedback import (
    as_float64,
    assert_close,
    assert_directional,
    call,
    check_shape,
    check_untouched,
    checked_line,
    compare_value,
    explanation,
    fail,
    shapes_text,
    unpack_pair,
)
from bplab_checks.gradcheck import directional_derivatives, rel_error
from bplab_checks.i18n import t
from bplab_checks.reference_checks import checked_text, not_another_inputs_gradient
from bplab_checks.tolerances import GRAD_RTOL, LARGE, REF_RTOL


def check_loss_gradient(
    fn, name: str, case: Case, wrt: str, outputs: tuple[str, str],
    *, definition: Callable[..., float] | None = None,
) -> None:
    """Public check of a ``(loss, grad)`` function: the arguments left alone, loss a float64
    scalar equal to the contract's ``definition`` of it (e.g. ``lambda y_pred, y_true:
    np.mean((y_pred - y_true) ** 2)``, valid on the case's moderate inputs), grad shaped like
    argument ``wrt``, and grad against central differences of ``definition`` (the trusted
    loss, never the student's: a loss that is right at the case and wrong next to it cannot
    make a wrong gradient agree) along random directions.

    Without ``definition`` the student's own loss is differenced (then a zero loss with a zero
    gradient would be consistent: every question file gives one).
    """
    args, kwargs = case.copies()
    names = list(case.args)
    k = names.index(wrt)
    result = call(name, fn, *args, **kwargs)
    check_untouched(dict(case.args), dict(zip(names, args, strict=True)), block=name,
                    during=name)
    loss, grad = unpack_pair(result, name, outputs)
    loss = as_float64(loss, f"{name}: {outputs[0]}", block=name, scalar=True)
    grad = as_float64(grad, f"{name}: {outputs[1]}", block=name)
    not_another_inputs_gradient(name, outputs[1], grad, wrt, case.args)
    check_shape(grad, np.shape(case.args[wrt]), f"{name}: {outputs[1]}", block=name,
                context=t("The gradient has the shape of {wrt}.", wrt=wrt))
    if definition is not None:
        expected = np.asarray(definition(*case.copies()[0], **kwargs), dtype=np.float64)
        assert_close(loss, expected, what=outputs[0], block=name, rtol=REF_RTOL, reveal=True,
                     checked=t("{what} against its definition in the assignment, on "
                               "{inputs}.", what=outputs[0], inputs=shapes_text(case.args)),
                     diagnose_details={"inputs": tuple(case.args.values())})

    def f(z):
        call_args = case.copies()[0]
        call_args[k] = z
        if definition is not None:
            return float(np.asarray(definition(*call_args, **kwargs), dtype=np.float64))
        value = unpack_pair(call(name, fn, *call_args, **kwargs), name, outputs)[0]
        return as_float64(value, f"{name}: {outputs[0]}", block=name, scalar=True)

    differenced = (t("the definition of {what} in the assignment", what=outputs[0])
                   if definition is not None else t("your own {what}", what=outputs[0]))
    check = directional_derivatives(f, np.asarray(case.args[wrt]), grad, seed=k)
    assert_directional(
        grad, check, what=outputs[1], wrt=wrt, block=name, rtol=GRAD_RTOL,
        function=(t("{what}({args}) as the assignment defines it", what=outputs[0],
                    args=", ".join(names))
                  if definition is not None else
                  t("your {what} from {name}({args})", what=outputs[0], name=name,
                    args=", ".join(names))),
        checked=t("{what} against central differences of {differenced}, on {inputs}.",
                  what=outputs[1], differenced=differenced, inputs=shapes_text(case.args)),
        diagnose_details={"inputs": tuple(case.args.values())},
    )


def _loss_pair(fn, name: str, args: list, kwargs: dict, outputs: tuple[str, str], *,
               strict: bool) -> tuple[np.ndarray, np.ndarray]:
    """The student's (loss, grad) as float64, under ``np.errstate(raise)`` when ``strict``."""
    if strict:
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            result = call(name, fn, *args, **kwargs)
    else:
        result = call(name, fn, *args, **kwargs)
    loss, grad = unpack_pair(result, name, outputs)
    return (as_float64(loss, f"{name}: {outputs[0]}", block=name, scalar=True),
            as_float64(grad, f"{name}: {outputs[1]}", block=name))


def check_loss_shift_invariant(fn, name: str, case: Case, wrt: str, outputs: tuple[str, str],
                               *, definition: Callable[..., float],
                               shift: float = LARGE) -> None:
    """Public check of the stated rule on stability for losses of logits (softmax): the loss
    and gradient are right on ``case`` (``check_loss_gradient`` with ``definition``), and
    adding a constant of magnitude ``shift`` to every logit of a row changes neither of them
    and raises no overflow (numpy raises under ``np.errstate``). A stable implementation is
    exactly that invariant, so no stable formula is shown."""
    check_loss_gradient(fn, name, case, wrt, outputs, definition=definition)
    args, kwargs = case.copies()
    k = list(case.args).index(wrt)
    loss, grad = _loss_pair(fn, name, args, kwargs, outputs, strict=False)
    shifted, _ = case.copies()
    rows = np.asarray(shifted[k]).shape[0]
    offsets = np.where(np.arange(rows) % 2 == 0, shift, -shift).reshape(-1, 1)
    shifted[k] = np.asarray(shifted[k]) + offsets
    checked = (f"{name} on {shapes_text(case.args)} and on the same {wrt} with "
               f"+-{shift:g} added to each row (seed {case.note or 'fixed'}).")
    loss_s, grad_s = _loss_pair(fn, name, shifted, kwargs, outputs, strict=True)
    assert_close(loss_s, loss, what=outputs[0], block=name, rtol=REF_RTOL, reveal=True,
                 checked=checked + f" Adding a constant to a row of {wrt} changes nothing.")
    check_shape(grad_s, grad.shape, f"{name}: {outputs[1]}", block=name)
    assert_close(grad_s, grad, what=outputs[1], block=name, rtol=REF_RTOL, reveal=True,
                 checked=checked + f" Adding a constant to a row of {wrt} changes nothing.")


def check_stable_loss_by_definition(fn, name: str, case: Case, outputs: tuple[str, str],
                                    definition: Callable[..., float]) -> None:
    """Public check of the stated rule on stability at extreme inputs (e.g. probabilities
    exactly 0 and 1): no overflow, division by zero or invalid value (numpy raises under
    ``np.errstate``), the loss equal to the contract's ``definition`` and a finite gradient
    of the right shape. ``check_stable_loss`` is the same rule on other inputs."""
    args, kwargs = case.copies()
    loss, grad = _loss_pair(fn, name, args, kwargs, outputs, strict=True)
    with np.errstate(all="ignore"):
        expected = np.asarray(definition(*case.copies()[0], **kwargs), dtype=np.float64)
    checked = checked_text(name, case)
    assert_close(loss, expected, what=outputs[0], block=name, rtol=REF_RTOL, reveal=True,
                 checked=checked)
    first = next(iter(case.args))
    x = np.asarray(case.args[first], dtype=np.float64)
    check_shape(grad, x.shape, f"{name}: {outputs[1]}", block=name)
    if not np.all(np.isfinite(grad)):
        fail(explanation("nan_or_inf", block=name, what=outputs[1],
                         fallback=f"{outputs[1]} contains nan or inf."), f"Checked: {checked}")
    # Where the clip is inactive the gradient is the definition's (moving only those entries,
    # so no difference crosses the clip); at clipped entries the contract leaves it open.
    inside = (x > 1e-6) & (x < 1 - 1e-6)

    def f(z):
        call_args = case.copies()[0]
        full = np.array(call_args[0], dtype=np.float64)
        full[inside] = z
        call_args[0] = full
        return float(np.asarray(definition(*call_args, **kwargs), dtype=np.float64))

    check = directional_derivatives(f, x[inside], grad[inside], seed=7)
    assert_directional(
        grad[inside], check, what=outputs[1], wrt=first, block=name, rtol=GRAD_RTOL,
        function=t("{what} as the assignment defines it, moving only the unclipped {first}",
                   what=outputs[0], first=first),
        checked=t("{what} where {first} is not clipped, {checked}", what=outputs[1],
                  first=first, checked=checked),
    )


def _right_on(fn, reference: Callable, name: str, case: Case, outputs: tuple[str, str]) -> bool:
    """Whether ``fn`` gives the reference's loss and gradient on ``case`` (never raises)."""
    try:
        loss, grad = _loss_pair(fn, name, *case.copies(), outputs, strict=False)
        want = reference(*case.copies()[0], **case.kwargs)
        return (rel_error(loss, np.asarray(want[0], dtype=np.float64)) <= REF_RTOL
                and rel_error(grad, np.asarray(want[1], dtype=np.float64)) <= REF_RTOL)
    except (AssertionError, ValueError, TypeError):
        return False


def check_stable_loss(fn, reference: Callable, name: str, case: Case,
                      outputs: tuple[str, str], compare_grad_where: str = "all",
                      moderate: Case | None = None) -> None:
    """Hidden check: no overflow/divide/invalid (numpy raises) on extreme inputs, finite
    results equal to the reference's.

    With ``moderate`` (an ordinary case), a loss right there and wrong here is named as such
    (a clipped or epsilon-shifted log).
    ``compare_grad_where="unclipped"`` compares the gradient only where the first argument is
    inside (1e-12, 1 - 1e-12): at clipped probabilities the contract leaves dp open (0, the
    clip's own derivative, or the formula at the clipped value are all accepted).
    """
    args, kwargs = case.copies()
    expected = reference(*case.copies()[0], **kwargs)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss, grad = unpack_pair(call(name, fn, *args, **kwargs), name, outputs)
    checked = checked_text(name, case)
    loss_value = as_float64(loss, f"{name}: {outputs[0]}", block=name, scalar=True)
    if (moderate is not None and np.isfinite(loss_value)
            and rel_error(loss_value, np.asarray(expected[0], dtype=np.float64)) > REF_RTOL
            and _right_on(fn, reference, name, moderate, outputs)):
        fail(explanation(
            "wrong_at_extremes", block=name, what=outputs[0],
            fallback=t("{name}: {what} is right on moderate inputs and wrong at extreme ones.",
                       name=name, what=outputs[0]),
        ), checked_line(checked))
    compare_value(loss, expected[0], what=outputs[0], block=name, checked=checked, rtol=REF_RTOL)
    grad = as_float64(grad, f"{name}: {outputs[1]}", block=name)
    exp_grad = np.asarray(expected[1], dtype=np.float64)
    check_shape(grad, exp_grad.shape, f"{name}: {outputs[1]}", block=name)
    if not np.all(np.isfinite(grad)):
        compare_value(grad, exp_grad, what=outputs[1], block=name, checked=checked,
                      rtol=REF_RTOL)
    if compare_grad_where == "unclipped":
        first = np.asarray(next(iter(case.args.values())))
        inside = (first > 1e-12) & (first < 1 - 1e-12)
        grad, exp_grad = grad[inside], exp_grad[inside]
    compare_value(grad, exp_grad, what=outputs[1], block=name, checked=checked, rtol=REF_RTOL)
