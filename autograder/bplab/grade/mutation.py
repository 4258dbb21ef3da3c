"""What a call did to the arguments it was given: the in-place changes to write back, and the
argument arrays its result keeps.

Both sides use it on arguments the codec has just decoded: the worker for a grader ``call`` (a
student function that mutates its inputs), the grader for a callback (a trusted optimizer that
updates the worker's arrays). Like ``codec``, this file is copied into the sandbox and imported
there stand-alone: it depends on nothing but the standard library and numpy.

The write-back rule (unchanged from when every argument was encoded before and after the call):
an argument is written back when it was plain data before the call (an array, or a tuple, list
or dict holding only plain values and, on the grader side, ``refs``) and its encoding after the
call differs from its encoding before: one byte of an array, an item added, removed, replaced
or moved, a dtype or a shape. A bare argument array compares shape and bytes only (what the
grader can write back into its own array). Anything else (a handle, a number) is never written
back.

Cheaply: ``snapshot`` keeps one copy of each array's bytes and, for each container, its items
as they were (a shallow copy); ``changed`` walks the argument again and compares items by
identity first, so an untouched argument costs one ``tobytes`` per array and no encoding.
Where an item was replaced it compares encodings (``encode``), so a replacement by an equal
value is, as before, no change. The walk follows the snapshot, so it ends even if the call
made the argument cyclic or deep.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

MAX_DEPTH = 40  # codec.MAX_DEPTH: a deeper argument could not be encoded, so is not plain
MAX_ALIASES = 64
ALIAS_DEPTH = 6
_LEAVES = frozenset({type(None), bool, int, float, complex, str, bytes, slice, type(Ellipsis)})
_KEYS = frozenset({str, int, float, bool, tuple, type(None)})  # codec's dict key types


class Opaque(Exception):  # noqa: N818 - a condition of the walk, caught in this module
    """The value holds something that is not plain data (a handle, another object)."""


class Args:
    """The arguments of one call, as they were before it (see the module docstring).

    ``whole``: every argument is compared by its whole encoding, a bare array's dtype too
    (the grader's rule for what its callbacks change); ``refs``: types that are plain here
    (the grader's proxies of worker objects), compared by encoding, never looked into.
    """

    def __init__(self, args: tuple, kwargs: dict, refs: tuple[type, ...] = (),
                 whole: bool = False):
        self.args, self.kwargs = args, kwargs
        self.before = [_top(a, refs, whole) for a in args]
        self.before_kw = {k: _top(v, refs, whole) for k, v in kwargs.items()}

    def changed(self, encode: Callable[[Any], bytes]) -> list[tuple[int | str, Any]]:
        """``(position or keyword, value now)`` of every argument the call changed."""
        out: list[tuple[int | str, Any]] = [
            (i, a) for i, (a, b) in enumerate(zip(self.args, self.before, strict=True))
            if b is not None and not _same_top(b, a, encode)]
        out += [(k, v) for k, v in self.kwargs.items()
                if self.before_kw[k] is not None and not _same_top(self.before_kw[k], v, encode)]
        return out


class _Array:
    """An array inside a container as it was: the fields its encoding holds."""

    __slots__ = ("shape", "dtype", "data")

    def __init__(self, a: np.ndarray):
        self.shape, self.dtype, self.data = a.shape, a.dtype.str, a.tobytes()


class _Items:
    """A tuple, list or dict as it was: its type and its items (dict: key, value pairs)."""

    __slots__ = ("kind", "items", "twins")

    def __init__(self, kind: type, items: list, twins: list):
        self.kind, self.items, self.twins = kind, items, twins


def _top(v: Any, refs: tuple[type, ...], whole: bool) -> Any:
    """The snapshot of one argument, or None when it is never written back."""
    t = type(v)
    if t is np.ndarray and not whole:
        return (v.shape, v.tobytes())
    if t is tuple or t is list or t is dict or whole:
        try:
            return _twin(v, 0, refs)
        except Opaque:
            return None
    return None


def _twin(v: Any, depth: int, refs: tuple[type, ...]) -> Any:
    """What ``v`` encodes as, kept cheaply (raises ``Opaque`` where it could not be encoded)."""
    if depth > MAX_DEPTH:
        raise Opaque
    t = type(v)
    if t is np.ndarray:
        if v.dtype.kind not in "biufc" or v.ndim > 32:  # codec's dtypes and ranks
            raise Opaque
        return _Array(v)
    if t is tuple or t is list:
        items = list(v)
        return _Items(t, items, [_twin(x, depth + 1, refs) for x in items])
    if t is dict:
        pairs = list(v.items())
        for k, _ in pairs:
            if type(k) not in _KEYS:
                raise Opaque
        return _Items(t, pairs, [_twin(x, depth + 1, refs) for _, x in pairs])
    if t in _LEAVES or (isinstance(v, np.generic) and v.dtype.kind in "biufc") \
            or (refs and isinstance(v, refs)):
        return v  # immutable (a reference names its object: it encodes the same)
    raise Opaque


def _same_top(before: Any, now: Any, encode: Callable[[Any], bytes]) -> bool:
    if type(before) is tuple:  # a bare array: (shape, bytes)
        return type(now) is np.ndarray and now.shape == before[0] and now.tobytes() == before[1]
    return _same(before, now, encode)


def _same(twin: Any, now: Any, encode: Callable[[Any], bytes]) -> bool:
    """Whether ``now`` encodes as the value ``twin`` was taken of did."""
    t = type(twin)
    if t is _Items:
        if type(now) is not twin.kind or len(now) != len(twin.items):
            return False
        if twin.kind is dict:
            for (k, v), (k0, v0), tw in zip(now.items(), twin.items, twin.twins, strict=True):
                if not (k is k0 or _same_leaf(k0, k, encode)) \
                        or not (v is v0 and type(tw) is not _Items and type(tw) is not _Array
                                or _same(tw, v, encode)):
                    return False
            return True
        for x, x0, tw in zip(now, twin.items, twin.twins, strict=True):
            if not (x is x0 and type(tw) is not _Items and type(tw) is not _Array
                    or _same(tw, x, encode)):
                return False
        return True
    if t is _Array:
        return (type(now) is np.ndarray and now.shape == twin.shape
                and now.dtype.str == twin.dtype and now.tobytes() == twin.data)
    return now is twin or _same_leaf(twin, now, encode)


def _same_leaf(before: Any, now: Any, encode: Callable[[Any], bytes]) -> bool:
    if type(now) is not type(before):
        return False
    try:
        return encode(now) == encode(before)
    except Exception:  # noqa: BLE001 - e.g. a slice of objects: it cannot be sent, so it changed
        return False


# --------------------------------------------------------------------------- aliases


def arrays(value: Any, path: tuple, out: list, depth: int = 0) -> None:
    """(path, array) of every ndarray in tuples, lists and dicts (str or int keys), in order."""
    if len(out) >= 4 * MAX_ALIASES:
        return
    if type(value) is np.ndarray:
        out.append((path, value))
    elif depth < ALIAS_DEPTH and isinstance(value, tuple | list):
        for i, v in enumerate(value):
            arrays(v, (*path, i), out, depth + 1)
    elif depth < ALIAS_DEPTH and isinstance(value, dict):
        for k, v in value.items():
            if type(k) in (str, int):
                arrays(v, (*path, k), out, depth + 1)


def crossed(args: tuple, kwargs: dict) -> dict:
    """id -> (argument path, array) of the arrays a call was given (position, then keys)."""
    given: list = []
    for i, a in enumerate(args):
        arrays(a, (i,), given)
    for k, v in kwargs.items():
        arrays(v, (k,), given)
    return {id(arr): (path, arr) for path, arr in given}


def aliases(result: Any, crossed: dict) -> list:
    """(result path, argument path) where the result holds an argument array itself (a cache
    keeping X), ``crossed`` taken before the call: the grader then hands its own array back
    there, so a later in-place change of the cache reaches the caller's X, as it does when the
    code runs in the grader's process."""
    if not crossed:
        return []
    found: list = []
    arrays(result, (), found)
    out = []
    for path, arr in found:
        hit = crossed.get(id(arr))
        if hit is not None and hit[1] is arr:
            out.append((path, hit[0]))
            if len(out) >= MAX_ALIASES:
                break
    return out


def write_into(original: Any, new: Any) -> Any:
    """Put the grader's in-place changes of a callback argument into the worker's object."""
    if isinstance(original, np.ndarray) and type(new) is np.ndarray:
        if original.shape == new.shape and original.flags.writeable:
            original[...] = new
            return original
        return new
    if isinstance(original, dict) and type(new) is dict:
        for key, value in new.items():
            original[key] = write_into(original[key], value) if key in original else value
        return original
    if isinstance(original, list) and type(new) is list and len(new) == len(original):
        for i, value in enumerate(new):
            original[i] = write_into(original[i], value)
        return original
    return new
