"""A bug costs points once: run a student's function with trusted versions of what it calls.

Hidden checks of a question whose code calls other graded definitions (linear regression calls
the blocks, ``two_layer_loss`` calls ``Add`` and ``bce_loss``, ``fit_linreg`` calls
``linreg_loss_and_grad``) run it with the reference versions of those definitions
(``trusted_callees``), so a bug in a block is charged to the block's question only. Public checks
use the student's own callees and, when one of them fails its own public check, say so first
(``callees_first``).

How the swap is done depends on where the student's code runs:

* in the same process (Otter, the in-process tests): the function's module globals (the
  notebook namespace) are patched for the duration, then restored;
* in ``bplab grade``'s sandboxed worker: the grader's proxy provides
  ``__bplab_with_globals__``, which installs stand-ins in the worker's namespace whose calls come
  back to the grader (the existing callback mechanism): the reference never enters the sandbox.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import Any

__all__ = ["callees_first", "trusted_argument", "trusted_callees"]


@contextmanager
def _patched_globals(fn, replacements: Mapping[str, Any]) -> Iterator[None]:
    namespace = getattr(fn, "__globals__", None)
    if not isinstance(namespace, dict):
        yield
        return
    missing = object()
    saved = {name: namespace.get(name, missing) for name in replacements}
    namespace.update(replacements)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def trusted_callees(fn, replacements: Mapping[str, Any] | None):
    """A context in which ``fn`` (a student function, or a grader proxy of one) calls the
    trusted ``replacements`` (name -> reference class or function) instead of the student's
    definitions of those names. ``None`` or ``{}`` changes nothing."""
    if not replacements:
        return nullcontext()
    hook = getattr(type(fn), "__bplab_with_globals__", None)
    if hook is not None:
        return hook(fn, dict(replacements))
    return _patched_globals(fn, replacements)


def trusted_argument(fn, obj):
    """``obj`` (a trusted object, e.g. the reference optimizer instance) as an argument that
    ``fn`` can be given: itself in the same process, a stand-in whose methods call back into
    the grader when ``fn`` is a proxy of code in the sandbox."""
    hook = getattr(type(fn), "__bplab_stand_in__", None)
    return obj if hook is None else hook(fn, obj)


def callees_first(check: Callable[[], None], callee_checks: Mapping[str, Callable[[], None]]):
    """Run a public ``check``; when it fails, run each callee's own public check and, for the
    first callee that fails its own, put "<name> fails its own check: fix it first." before
    the message (the dependent question is judged with the student's own callees here)."""
    try:
        check()
    except AssertionError as failure:
        for name, callee_check in callee_checks.items():
            try:
                callee_check()
            except AssertionError:
                raise AssertionError(
                    f"{name} fails its own check: fix it first (this check runs your {name}, "
                    f"so its mistake shows here too; the hidden checks of this question use a "
                    f"correct {name}).\n{failure}"
                ) from None
        raise
