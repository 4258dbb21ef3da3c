"""Public checks of derivatives against trusted numerics: ``check_derivatives_numerically``
(a student's derivative functions against central differences of the given ``f``) and
``check_numerical_gradient`` (a student's central differences against the exact gradient of
a known smooth function); hidden: ``check_numerical_gradient_matches`` (any shape, the given
``h`` honoured, against the reference).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from bplab_checks.feedback import (
    as_float64,
    assert_close,
    assert_directional,
    call,
    check_shape,
    check_untouched,
    compare_value,
    describe,
    fail,
)
from bplab_checks.gradcheck import directional_derivatives
from bplab_checks.i18n import t
from bplab_checks.tolerances import GRAD_RTOL


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
