"""The hidden check of a function against the reference, ``check_matches_reference``, and
the two texts every function check shares: ``checked_text`` (what was checked, on which
inputs) and ``not_another_inputs_gradient`` (the feedback when a gradient has the shape of
another argument: that argument's gradient was returned).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from bplab_checks.callees import trusted_callees
from bplab_checks.cases import Case
from bplab_checks.feedback import (
    call,
    check_untouched,
    compare_value,
    describe,
    explanation,
    fail,
    shapes_text,
    snapshot,
)
from bplab_checks.i18n import t
from bplab_checks.tolerances import REF_RTOL


def checked_text(name: str, case: Case, what: str = "") -> str:
    named = {**case.args, **case.kwargs}
    note = f" ({case.note})" if case.note else ""
    return t("{what} on {inputs}{note}.", what=what or name, inputs=shapes_text(named), note=note)


def not_another_inputs_gradient(name: str, what: str, value, wrt: str,
                                 named: Mapping[str, object]) -> None:
    """Feedback when the gradient ``what`` (of argument ``wrt``) has the shape of another array
    argument instead of ``wrt``'s: the gradient of that argument was returned (e.g. the first
    output of ``MatMul.backward``, dX, taken for dtheta)."""
    try:
        shape = np.shape(np.asarray(value))
    except Exception:  # noqa: BLE001 - not an array: other checks say so
        return
    if shape == np.shape(np.asarray(named[wrt])):
        return
    for other, arg in named.items():
        if other != wrt and isinstance(arg, np.ndarray) and arg.shape == shape:
            fail(explanation(
                "gradient_of_other_input", block=name, what=what, other=other, wrt=wrt,
                shape=shape, expected_shape=np.shape(np.asarray(named[wrt])),
                fallback=t("{what} has the shape of {other} {shape}: you took the gradient of "
                           "{other}, not of {wrt}.", what=what, other=other, shape=shape,
                           wrt=wrt),
            ))


def check_matches_reference(
    fn,
    reference: Callable,
    name: str,
    cases: Sequence[Case],
    outputs: Sequence[str] | None = None,
    rtol: float = REF_RTOL,
    *,
    elementwise: bool = False,
    callees: Mapping[str, object] | None = None,
) -> None:
    """Hidden check: ``fn`` returns what ``reference`` returns on every case, and leaves its
    arguments untouched.

    Args:
        fn: the student's function.
        reference: the reference function.
        name: the function's name in messages.
        cases: the inputs.
        outputs: names of the returned values when ``fn`` returns a tuple, e.g.
            ``("loss", "dy_pred")``; None for a single value.
        rtol: largest accepted relative error.
        elementwise: ``fn`` acts entry by entry (for diagnoses: a factor is never a count).
        callees: name -> reference of the graded definitions ``fn`` calls; ``fn`` runs with
            them (``callees.trusted_callees``), so a bug in one is charged to its own question.
    """
    for case in cases:
        ref_args, ref_kwargs = case.copies()
        expected = reference(*ref_args, **ref_kwargs)
        args, kwargs = case.copies()
        named = dict(zip(case.args, args, strict=True))
        before = snapshot(named)
        with trusted_callees(fn, callees):
            actual = call(name, fn, *args, **kwargs)
        checked = checked_text(name, case)
        details = {"inputs": tuple(args), "elementwise": elementwise}
        if outputs is None:
            compare_value(actual, expected, what="result", block=name, checked=checked, rtol=rtol,
                          diagnose_details=details)
        else:
            if not isinstance(actual, tuple | list) or len(actual) != len(outputs):
                fail(f"{name} returned {describe(actual)}; expected "
                     f"({', '.join(outputs)}).", f"Checked: {checked}")
            for what, a, e in zip(outputs, actual, expected, strict=True):
                if what[:1] == "d" and what[1:] in named:
                    not_another_inputs_gradient(name, what, a, what[1:], named)
                compare_value(a, e, what=what, block=name, checked=checked, rtol=rtol,
                              diagnose_details=details)
        check_untouched(before, named, block=name, during=name)
