"""Checks of function-style questions: derivatives, numerical gradients, losses, linear
regression, the two-layer network.

Public checks use only the student's own functions, the values the assignment defines (a loss,
the network's forward pass) and trusted numerics (central differences along a few random
directions, ``gradcheck.directional_derivatives``, or exact derivatives of known functions);
hidden checks compare with the reference on ``bplab_checks.cases`` inputs. Every check that
passes has looked at the values it computed (``tests/test_junk_answers.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from bplab_checks.callees import trusted_callees
from bplab_checks.cases import Case, two_layer_data, two_layer_params
from bplab_checks.feedback import (
    as_float64,
    assert_close,
    assert_directional,
    call,
    check_shape,
    check_untouched,
    checked_line,
    compare_value,
    describe,
    explanation,
    fail,
    shapes_text,
    snapshot,
    unpack_pair,
)
from bplab_checks.gradcheck import directional_derivatives, rel_error
from bplab_checks.i18n import t
from bplab_checks.tolerances import GRAD_RTOL, LARGE, REF_RTOL


def _checked(name: str, case: Case, what: str = "") -> str:
    named = {**case.args, **case.kwargs}
    note = f" ({case.note})" if case.note else ""
    return t("{what} on {inputs}{note}.", what=what or name, inputs=shapes_text(named), note=note)


def _not_another_inputs_gradient(name: str, what: str, value, wrt: str,
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
        checked = _checked(name, case)
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
                    _not_another_inputs_gradient(name, what, a, what[1:], named)
                compare_value(a, e, what=what, block=name, checked=checked, rtol=rtol,
                              diagnose_details=details)
        check_untouched(before, named, block=name, during=name)


def check_derivatives_numerically(
    fn, name: str, f: Callable, arg_names: Sequence[str] = ("x",), shape: tuple = (3, 4),
    seed: int = 0,
) -> None:
    """Public check of an elementwise derivative against central differences of ``f``.

    ``fn(*args)`` returns the derivative (one argument) or the tuple of partial derivatives
    (several), each shaped like the arguments; ``f`` is the elementwise function itself.
    """
    rng = np.random.default_rng(seed)
    xs = [rng.uniform(-1.5, 1.5, shape) for _ in arg_names]
    result = call(name, fn, *[x.copy() for x in xs])
    if len(arg_names) == 1:
        results = [result]
    elif isinstance(result, tuple | list) and len(result) == len(arg_names):
        results = list(result)
    else:
        fail(f"{name} returned {describe(result)}; expected "
             f"{len(arg_names)} partial derivatives (one per argument).")
    # For an elementwise f, the gradient of sum(f) is the elementwise derivative.
    for k, (arg, r) in enumerate(zip(arg_names, results, strict=True)):
        what = f"d/d{arg}"
        arr = as_float64(r, f"{name}: {what}", block=name)
        check_shape(arr, shape, f"{name}: {what}", block=name)

        def total(z, k=k):
            args = [x.copy() for x in xs]
            args[k] = z
            return float(np.sum(np.asarray(f(*args), dtype=np.float64)))

        check = directional_derivatives(total, xs[k], arr, seed=1000 * seed + k)
        assert_directional(
            arr, check, what=what, wrt=arg, block=name, rtol=GRAD_RTOL,
            function=t("the sum over all entries of the function whose derivative {name} "
                       "returns", name=name),
            checked=t("{name} against central differences of the function on {inputs} "
                      "(seed {seed}).", name=name, seed=seed,
                      inputs=", ".join(f"{a} {shape}" for a in arg_names)),
            diagnose_details={"inputs": tuple(xs), "elementwise": True},
        )


def _probe(
    shape: tuple, seed: int
) -> tuple[np.ndarray, Callable[[np.ndarray], float], np.ndarray]:
    """A smooth scalar test function of an array shaped ``shape``, a point, and the exact
    gradient of the function at that point."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(shape)
    x = rng.uniform(-1.5, 1.5, shape)

    def f(z):
        z = np.asarray(z, dtype=np.float64)
        # Strongly curved, so a one-sided difference (error ~ h f'' / 2) is 10x off tolerance.
        return float(np.sum(w * np.sin(3 * z)) + 0.5 * np.sum(z**3 * w))

    return x, f, 3 * w * np.cos(3 * x) + 1.5 * w * x**2


def check_numerical_gradient(numerical_gradient, shape: tuple = (3, 4), seed: int = 0) -> None:
    """Public check: the shape, ``x`` unchanged, and values within ``GRAD_RTOL`` of the exact
    gradient of a known smooth ``f`` (sums of ``w sin(3 x)`` and ``w x**3 / 2``) with the
    default ``h = 1e-5``: central differences are that close, one-sided ones are not."""
    x, f, exact = _probe(shape, seed)
    x_arg = x.copy()
    result = call("numerical_gradient", numerical_gradient, f, x_arg)
    check_untouched({"x": x}, {"x": x_arg}, block="numerical_gradient",
                    during="numerical_gradient")
    arr = as_float64(result, "numerical_gradient result", block="numerical_gradient")
    check_shape(arr, shape, "numerical_gradient result", block="numerical_gradient")
    assert_close(arr, exact, what="grad", block="numerical_gradient", rtol=GRAD_RTOL,
                 reveal=True,
                 checked=t("your central differences (default h) of the smooth f(x) = "
                           "sum(w * sin(3 x)) + sum(w * x**3) / 2 at x {shape} against its exact "
                           "gradient 3 w cos(3 x) + 1.5 w x**2.", shape=shape))


def check_numerical_gradient_matches(
    numerical_gradient, reference: Callable, shapes: Sequence[tuple] = ((5,), (2, 3, 4)),
    h: float = 1e-2, seed: int = 5,
) -> None:
    """Hidden check: any shape, the given ``h`` honoured (a large h makes its effect visible),
    ``x`` unchanged."""
    for k, shape in enumerate(shapes):
        for step in (None, h):
            x, f, _ = _probe(shape, seed + k)
            kwargs = {} if step is None else {"h": step}
            expected = reference(f, x.copy(), **kwargs)
            x_arg = x.copy()
            result = call("numerical_gradient", numerical_gradient, f, x_arg, **kwargs)
            check_untouched({"x": x}, {"x": x_arg}, block="numerical_gradient",
                            during="numerical_gradient")
            what = t("default h") if step is None else f"h={step:g}"
            compare_value(result, expected, what="grad", block="numerical_gradient",
                          rtol=GRAD_RTOL,
                          checked=t("numerical_gradient of a smooth f at x {shape} with {h}.",
                                    shape=shape, h=what))


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
    _not_another_inputs_gradient(name, outputs[1], grad, wrt, case.args)
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
    checked = _checked(name, case)
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
    checked = _checked(name, case)
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


def check_fit_linreg_runs(fit_linreg, seed: int = 0) -> None:
    """Public check: theta (D, 1), ``n_steps`` scalar losses that go down with a small learning
    rate, inputs untouched, and the run self-consistent (``_check_fit_linreg_steps``)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((8, 3))
    Y = X @ rng.standard_normal((3, 1))
    lr = 0.2 / float(np.linalg.norm(X, 2) ** 2)
    n_steps = 5
    named = {"X": X.copy(), "Y": Y.copy()}
    result = call("fit_linreg", fit_linreg, named["X"], named["Y"], lr, n_steps)
    check_untouched({"X": X, "Y": Y}, named, block="fit_linreg", during="fit_linreg")
    theta, losses = unpack_pair(result, "fit_linreg", ("theta", "losses"))
    theta = as_float64(theta, "fit_linreg: theta", block="fit_linreg")
    check_shape(theta, (3, 1), "fit_linreg: theta", block="fit_linreg")
    if isinstance(losses, np.ndarray) and losses.ndim == 1:
        losses = list(losses)
    if not isinstance(losses, tuple | list) or len(losses) != n_steps:
        fail(f"fit_linreg returned losses {describe(losses)}; expected a list of "
             f"n_steps = {n_steps} losses.")
    values = [float(as_float64(v, f"fit_linreg: losses[{i}]", block="fit_linreg", scalar=True))
              for i, v in enumerate(losses)]
    if not all(b < a for a, b in zip(values, values[1:], strict=False)):
        fail(t("fit_linreg: the losses should go down at every step with a small learning rate "
               "(lr = {lr}); got {losses}.", lr=f"{lr:.3g}",
               losses=", ".join(f"{v:.4g}" for v in values)),
             t("Checked: X (8, 3), Y (8, 1), n_steps=5. Is each loss computed before its step, "
               "and theta updated with theta - lr * g?"))
    _check_fit_linreg_steps(fit_linreg, X, Y, lr, theta, values)


def _linreg_loss(theta: np.ndarray, X: np.ndarray, Y: np.ndarray) -> float:
    """The loss of the assignment, ``sum((X @ theta - Y) ** 2)``."""
    return float(np.sum((X @ theta - Y) ** 2))


def _check_fit_linreg_steps(fit_linreg, X, Y, lr: float, theta_last, losses) -> None:
    """Each loss is the loss of the theta reached after that many steps (``theta_k`` from
    ``fit_linreg(X, Y, lr, k)``, ``theta_0`` drawn as the assignment says), and each step
    ``theta_k -> theta_k+1`` is ``-lr`` times the gradient of that loss (checked along random
    directions: central differences of the loss, no gradient formula)."""
    n_steps = len(losses)
    D = X.shape[1]
    thetas = [np.random.default_rng(0).standard_normal((D, 1))]
    for k in range(1, n_steps):
        result = call("fit_linreg", fit_linreg, X.copy(), Y.copy(), lr, k)
        theta_k = unpack_pair(result, "fit_linreg", ("theta", "losses"))[0]
        theta_k = as_float64(theta_k, "fit_linreg: theta", block="fit_linreg")
        check_shape(theta_k, (D, 1), "fit_linreg: theta", block="fit_linreg")
        thetas.append(theta_k)
    thetas.append(theta_last)
    checked = f"Checked: X {X.shape}, Y {Y.shape}, lr = {lr:.3g}, seed = 0."
    for k in range(n_steps):
        want = _linreg_loss(thetas[k], X, Y)
        if not np.isclose(losses[k], want, rtol=REF_RTOL, atol=0.0):
            start = ("theta0 = np.random.default_rng(seed).standard_normal((D, 1))" if k == 0
                     else f"the theta that fit_linreg(X, Y, lr, n_steps={k}) returns")
            fail(f"fit_linreg: losses[{k}] is {losses[k]:.6g}, but the loss "
                 f"sum((X @ theta - Y) ** 2) of {start} is {want:.6g}. losses[k] is the loss "
                 "computed right before step k + 1.", checked)
        step = (thetas[k] - thetas[k + 1]) / lr

        def f(z):
            return _linreg_loss(z, X, Y)

        check = directional_derivatives(f, thetas[k], step, seed=k)
        assert_directional(
            step, check, what=f"(theta_{k} - theta_{k + 1}) / lr", wrt="theta",
            block="fit_linreg", rtol=GRAD_RTOL, function="sum((X @ theta - Y) ** 2)",
            checked=f"step {k + 1} of fit_linreg: theta_{k + 1} = theta_{k} - lr * dtheta, "
            f"with theta_k from fit_linreg(X, Y, lr, n_steps=k), X {X.shape}, Y {Y.shape}.",
        )


def check_init_two_layer(init_two_layer) -> None:
    """Public check: keys, shapes, float64, zero biases, weights distributed as the assignment
    says (mean and standard deviation), reproducible for a seed and different for another
    seed."""
    D, H = 4, 5
    shapes = {"W1": (D, H), "b1": (H,), "W2": (H, 1), "b2": (1,)}
    p0 = call("init_two_layer", init_two_layer, D, H, seed=0)
    if not isinstance(p0, dict) or set(p0) != set(shapes):
        fail(f"init_two_layer returned {describe(p0)}; expected a dict with keys "
             f"{sorted(shapes)}.")
    for key, shape in shapes.items():
        arr = as_float64(p0[key], f"init_two_layer: {key}", block="init_two_layer")
        check_shape(arr, shape, f"init_two_layer: {key}", block="init_two_layer",
                    context=f"Checked: init_two_layer(D={D}, H={H}).")
        if key.startswith("b") and np.any(arr != 0):
            fail(f"init_two_layer: {key} should start at zeros.")
    _check_init_scale(init_two_layer)
    again = call("init_two_layer", init_two_layer, D, H, seed=0)
    other = call("init_two_layer", init_two_layer, D, H, seed=1)
    if not np.array_equal(np.asarray(again["W1"]), np.asarray(p0["W1"])):
        fail("init_two_layer: two calls with seed=0 gave different W1; draw from "
             "np.random.default_rng(seed), not from global random state.")
    if np.array_equal(np.asarray(other["W1"]), np.asarray(p0["W1"])):
        fail("init_two_layer: seed=0 and seed=1 gave the same W1; use the seed argument.")


def _check_init_scale(init_two_layer, D: int = 60, H: int = 400) -> None:
    """W1 and W2 look like standard normals times sqrt(2 / D) and sqrt(1 / H): mean 0 and that
    standard deviation, within a few standard errors (thousands of entries: a uniform draw,
    ones or a missing scale all fail, a right draw never does)."""
    params = call("init_two_layer", init_two_layer, D, H, seed=0)
    for key, shape, std, rule in (("W1", (D, H), np.sqrt(2 / D), "sqrt(2 / D)"),
                                  ("W2", (H, 1), np.sqrt(1 / H), "sqrt(1 / H)")):
        arr = as_float64(params[key], f"init_two_layer: {key}", block="init_two_layer")
        check_shape(arr, shape, f"init_two_layer: {key}", block="init_two_layer",
                    context=f"Checked: init_two_layer(D={D}, H={H}).")
        n = arr.size
        # Standard errors of a normal sample's mean and standard deviation, times 6.
        if abs(arr.mean()) > 6 * std / np.sqrt(n) or abs(arr.std() / std - 1) > 6 / np.sqrt(2 * n):
            fail(f"init_two_layer(D={D}, H={H}): {key} has mean {arr.mean():.4g} and standard "
                 f"deviation {arr.std():.4g}; expected standard normal draws times {rule}, "
                 f"mean 0 and standard deviation {std:.4g}.")


def two_layer_probabilities(params, X: np.ndarray) -> np.ndarray:
    """The network's forward pass as the assignment defines it: p (N, 1) for X (N, D)."""
    z1 = X @ params["W1"] + params["b1"]
    z2 = np.maximum(z1, 0) @ params["W2"] + params["b2"]
    return np.exp(-np.logaddexp(0.0, -z2))  # sigmoid, without overflow, exact in the tails


def bce(p: np.ndarray, y: np.ndarray) -> float:
    """Mean binary cross-entropy with p clipped to [1e-12, 1 - 1e-12], as the assignment says."""
    q = np.clip(p, 1e-12, 1 - 1e-12)
    return -float(np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def _two_layer_inputs(seed: int, n: int = 6):
    params = two_layer_params(seed, 4, 5)
    X, y = two_layer_data(seed, n, 4)
    context = f"params {{{shapes_text(params)}}}, X {X.shape}, y {y.shape} (seed {seed})"
    return params, X, y, context


def _two_layer_loss_value(two_layer_loss, params, X, y) -> tuple[float, object]:
    """The student's loss and grads for copies of the arguments, which must stay untouched."""
    given = {"params": snapshot(params), "X": X.copy(), "y": y.copy()}
    result = call("two_layer_loss", two_layer_loss, *given.values())
    check_untouched({"params": params, "X": X, "y": y}, given, block="two_layer_loss",
                    during="two_layer_loss")
    loss, grads = unpack_pair(result, "two_layer_loss", ("loss", "grads"))
    loss = float(as_float64(loss, "two_layer_loss: loss", block="two_layer_loss", scalar=True))
    return loss, grads


def check_two_layer_gradients(two_layer_loss, seed: int = 0, n: int = 6) -> None:
    """Public check: params, X and y left alone, loss a scalar equal to the assignment's
    network and BCE, grads with the keys and shapes of params, and every gradient against
    central differences of that trusted loss along random directions. ``n`` is the batch size
    (the question file adds a one-row batch)."""
    params, X, y, context = _two_layer_inputs(seed, n)
    loss, grads = _two_layer_loss_value(two_layer_loss, params, X, y)
    if not isinstance(grads, dict) or set(grads) != set(params):
        fail(f"two_layer_loss returned grads {describe(grads)}; expected a dict with the keys "
             f"of params {sorted(params)}.")
    checked = []
    for key in params:
        g = as_float64(grads[key], f"two_layer_loss: d{key}", block="two_layer_loss")
        check_shape(g, params[key].shape, f"grads[{key!r}]", block="two_layer_loss",
                    context=t("Each gradient has the shape of its parameter."))
        checked.append(g)
    assert_close(np.asarray(loss), np.asarray(bce(two_layer_probabilities(params, X), y)),
                 what="loss", block="two_layer_loss", rtol=REF_RTOL, reveal=True,
                 checked=t("two_layer_loss's loss against the network and loss defined in the "
                           "assignment, {context}.", context=context))
    for k, (key, g) in enumerate(zip(params, checked, strict=True)):

        def f(z, key=key):
            p = snapshot(params)
            p[key] = z
            return bce(two_layer_probabilities(p, X), y)

        check = directional_derivatives(f, params[key], g, seed=1000 * seed + k)
        assert_directional(
            g, check, what=f"d{key}", wrt=key, block="two_layer_loss", rtol=GRAD_RTOL,
            function="the loss of the network defined in the assignment",
            checked=t("{what} against central differences of the network's loss as the "
                      "assignment defines it, {context}.", what=f"grads[{key!r}]",
                      context=context),
            diagnose_details={"inputs": (X, params[key])},
        )


def check_two_layer_predict(two_layer_loss, two_layer_predict, seed: int = 0) -> None:
    """Public check: predict gives (N, 1) probabilities, the loss is their BCE (the two
    functions run the same forward pass), and they are the network's as the assignment
    defines it."""
    params, X, y, context = _two_layer_inputs(seed)
    p = as_float64(call("two_layer_predict", two_layer_predict, snapshot(params), X.copy()),
                   "two_layer_predict result", block="two_layer_predict")
    check_shape(p, (X.shape[0], 1), "two_layer_predict result", block="two_layer_predict")
    loss, _ = _two_layer_loss_value(two_layer_loss, params, X, y)
    assert_close(np.asarray(loss), np.asarray(bce(p, y)), what="loss", block="two_layer_loss",
                 rtol=REF_RTOL, reveal=True,
                 checked=f"two_layer_loss's loss against the BCE of two_layer_predict's "
                 f"probabilities, {context} (the two must agree).")
    assert_close(p, two_layer_probabilities(params, X), what="p", block="two_layer_predict",
                 rtol=REF_RTOL, reveal=True,
                 checked=f"two_layer_predict against the network defined in the assignment, "
                 f"{context}.")
