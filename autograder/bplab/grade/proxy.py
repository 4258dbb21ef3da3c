"""Grader-side stand-ins for the student's objects, and the errors their calls raise.

A ``StudentObject`` names an object that lives in the sandboxed worker. Attribute access and
calls are forwarded; so are the conversions checks use (``np.asarray``, ``float``, ``int``,
``len``, iteration, indexing), whose results cross back as plain data only. Comparisons and
arithmetic are *not* forwarded: a student object cannot answer ``==`` (or ``-``) for the
grader, so an always-equal object compares by identity here and fails. Dunder attributes are
never forwarded (numpy looks up ``__array_interface__`` and friends on anything it is given).
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from bplab.grade.record import FaultCause
from bplab.grade.text import neutralize


class WorkerLost(BaseException):  # noqa: N818 - a condition, not an error of the checks
    """The worker crashed, broke the protocol or ran past its deadline.

    A ``BaseException`` on purpose: checks catch ``Exception`` from student calls and turn it
    into feedback; this one must reach the grader, which fails the question and restarts.
    """

    def __init__(self, kind: str, detail: str):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind  # "timeout" | "crash" | "protocol" | "memory"
        self.detail = detail


class GraderFault(BaseException):  # noqa: N818
    """A fault of the grader itself (never charged to the student); ``cause`` says which."""

    def __init__(self, detail: str, cause: FaultCause = "sandbox"):
        super().__init__(detail)
        self.cause: FaultCause = cause


class StudentError(Exception):
    """An exception of a non-builtin type raised by student code (type name in the message)."""


def student_exception(typename: str, message: str) -> Exception:
    """The grader-side copy of an exception raised in the worker; tagged ``bplab_student``."""
    message = neutralize(str(message))
    cls = getattr(builtins, str(typename), None)
    exc: Exception | None = None
    if isinstance(cls, type) and issubclass(cls, Exception) and not issubclass(cls, Warning):
        try:
            exc = cls(message)
        except Exception:  # noqa: BLE001 - e.g. UnicodeDecodeError needs five arguments
            exc = None
    if exc is None:
        exc = StudentError(f"{typename}: {message}")
    exc.bplab_student = True  # type: ignore[attr-defined]
    return exc


class StudentObject:
    """A proxy for one object in the worker (see the module docstring)."""

    __slots__ = ("_session", "_handle", "_label", "_generation", "_attrs")

    def __init__(self, session, handle: int, label: str):
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_label", label)
        object.__setattr__(self, "_generation", session.generation)
        object.__setattr__(self, "_attrs", {})

    # -- forwarding
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        cached = self._attrs.get(name)
        if cached is not None:
            return cached
        value = self._session.getattr(self, name)
        # Methods and functions of classes are looked up once; data attributes every time.
        if isinstance(value, StudentObject) and value._label.startswith("c:"):
            self._attrs[name] = value
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("the grader does not set attributes of student objects")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._session.call(self, args, kwargs)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        arr = self._session.op(self, "__array__")
        if type(arr) is not np.ndarray:
            raise TypeError(f"{self._name} cannot be converted to a numeric array")
        return arr if dtype is None else arr.astype(dtype)

    def __float__(self) -> float:
        return float(self._plain("__float__", (float, int)))

    def __int__(self) -> int:
        return int(self._plain("__int__", (int,)))

    def __index__(self) -> int:
        return int(self._plain("__index__", (int,)))

    def __len__(self) -> int:
        return int(self._plain("__len__", (int,)))

    def __bool__(self) -> bool:
        return bool(self._plain("__bool__", (bool,)))

    def __iter__(self):
        items = self._session.op(self, "__iter__")
        if type(items) is not list:
            raise TypeError(f"{self._name} is not iterable")
        return iter(items)

    def __getitem__(self, key: Any) -> Any:
        return self._session.op(self, "__getitem__", key)

    # -- trusted callees (bplab_checks.callees): looked up on the class, never forwarded
    def __bplab_with_globals__(self, replacements: dict[str, Any]):
        return self._session.with_globals(replacements)

    def __bplab_stand_in__(self, obj: Any) -> StudentObject:
        return self._session.stand_in(obj)

    # -- local behaviour
    __hash__ = object.__hash__

    def __eq__(self, other: Any) -> bool:
        return self is other

    def __ne__(self, other: Any) -> bool:
        return self is not other

    def __repr__(self) -> str:
        return f"<student {self._name}>"

    __str__ = __repr__

    @property
    def _name(self) -> str:
        kind, _, name = self._label.partition(":")
        return f"{'callable' if kind == 'c' else 'object'} {name!r}"

    def _plain(self, op: str, types: tuple[type, ...]) -> Any:
        value = self._session.op(self, op)
        if type(value) not in types and not (
            isinstance(value, np.generic) and isinstance(value.item(), types)
        ):
            raise TypeError(f"{op} of {self._name} returned a {type(value).__name__}")
        return value


def apply_writeback(original: Any, new: Any) -> Any:
    """Write ``new`` (what the worker saw after a call) into ``original`` in place.

    Arrays are overwritten element-wise, dict and list items recursively (so arrays held in a
    caller's dict are updated in place, as an in-place optimizer step would). Returns the
    object to keep (``original`` when updated in place, else ``new``).
    """
    if isinstance(original, np.ndarray) and type(new) is np.ndarray:
        if original.shape == new.shape and original.flags.writeable:
            try:
                original[...] = new
                return original
            except (TypeError, ValueError):
                return new
        return new
    if isinstance(original, dict) and type(new) is dict:
        for key in [k for k in original if k not in new]:
            del original[key]
        for key, value in new.items():
            original[key] = apply_writeback(original[key], value) if key in original else value
        return original
    if isinstance(original, list) and type(new) is list:
        for i, value in enumerate(new[: len(original)]):
            original[i] = apply_writeback(original[i], value)
        if len(new) > len(original):
            original.extend(new[len(original) :])
        else:
            del original[len(new) :]
        return original
    if isinstance(original, tuple) and type(new) is tuple and len(original) == len(new):
        for o, n in zip(original, new, strict=True):
            apply_writeback(o, n)
        return original
    return new


def _is_path(path: Any) -> bool:
    return type(path) is tuple and len(path) <= 8 and all(type(k) in (int, str) for k in path)


def _follow(value: Any, path: tuple) -> Any:
    for key in path:
        if isinstance(value, tuple | list) and type(key) is int and 0 <= key < len(value):
            value = value[key]
        elif isinstance(value, dict) and type(key) in (str, int) and key in value:
            value = value[key]
        else:
            raise LookupError
    return value


def _replace(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    key, rest = path[0], path[1:]
    if type(value) is tuple:
        items = list(value)
        items[key] = _replace(items[key], rest, new)
        return tuple(items)
    value[key] = _replace(value[key], rest, new)  # a list or dict the decoder just built
    return value


def apply_aliases(result: Any, aliases: Any, args: tuple, kwargs: dict) -> Any:
    """``result`` with the grader's own argument arrays put back where the worker's result
    held an argument array itself (``aliases``: (result path, argument path) pairs).

    A cache that keeps X is then the caller's X, as in a same-process run, so an in-place
    change of the cache in a later call (written back by ``apply_writeback``) shows in X and
    the no-mutation checks of both graders agree. The worker is untrusted: an alias is used
    only when both paths exist and the two arrays are equal in dtype, shape and every byte
    (after the call's writeback), so it can never change a value the grader sees.
    """
    if type(aliases) is not list:
        return result
    for item in aliases[:64]:
        if type(item) is not tuple or len(item) != 2 or not all(_is_path(p) for p in item):
            continue
        rpath, apath = item
        if not apath:
            continue
        try:
            source = args[apath[0]] if type(apath[0]) is int else kwargs[apath[0]]
            mine = _follow(source, apath[1:])
            theirs = _follow(result, rpath)
        except (LookupError, IndexError, TypeError):
            continue
        if (isinstance(mine, np.ndarray) and type(theirs) is np.ndarray
                and mine.dtype == theirs.dtype and mine.shape == theirs.shape
                and mine.tobytes() == theirs.tobytes()):
            result = _replace(result, rpath, mine)
    return result
