"""Write-back detection (``bplab.grade.mutation``): the snapshot finds exactly the arguments
whose encoding a call changed, as encoding every argument before and after the call did.

The reference rule below is that old implementation; random plain values are mutated at random
places in random ways (in place, through views, replaced by equal values, changed and
restored) and both must name the same arguments. Planted bugs show the comparison can fail.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from bplab.grade import codec, mutation
from bplab.grade.codec import Encoder
from hypothesis import given
from hypothesis import strategies as st

PLAIN = Encoder()


def reference_changed(before_args, after_args, kwargs_before, kwargs_after, whole=False):
    """The old rule: encode each argument before and after (a bare array: shape and bytes)."""
    def snap(v):
        if type(v) is np.ndarray and not whole:
            return (v.shape, v.tobytes())
        if isinstance(v, list | dict | tuple) or whole:
            try:
                return PLAIN.encode(v)
            except Exception:  # noqa: BLE001 - not plain: never written back
                return None
        return None

    out = [i for i, (b, a) in enumerate(zip(before_args, after_args, strict=True))
           if snap(b) is not None and snap(a) != snap(b)]
    out += [k for k in kwargs_before if snap(kwargs_before[k]) is not None
            and snap(kwargs_after[k]) != snap(kwargs_before[k])]
    return out


leaf = (st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from([0.0, -0.0, 1.5])
        | st.text(max_size=2))
arrays = st.tuples(st.sampled_from(["f8", "i8", "?", "f4"]),
                   st.lists(st.integers(1, 3), min_size=0, max_size=2)).map(
    lambda spec: (np.arange(int(np.prod(spec[1])) if spec[1] else 1) % 3)
    .reshape(spec[1]).astype(spec[0]))
values = st.recursive(leaf | arrays, lambda inner: st.lists(inner, max_size=3)
                      | st.tuples(inner, inner)
                      | st.dictionaries(st.sampled_from("abc"), inner, max_size=3),
                      max_leaves=8)


def _nodes(v, out):
    """Every mutable node (list, dict, array) of ``v``."""
    if type(v) is np.ndarray or type(v) is list or type(v) is dict:
        out.append(v)
    if type(v) in (list, tuple):
        for x in v:
            _nodes(x, out)
    elif type(v) is dict:
        for x in v.values():
            _nodes(x, out)
    return out


def _mutate(node, how: int) -> None:  # noqa: C901 - one case per kind of change
    if type(node) is np.ndarray:
        flat = node.reshape(-1) if node.flags.c_contiguous else None
        if how == 0 and node.size:
            node.reshape(-1)[0] = node.reshape(-1)[0]  # the same value: no change
        elif how == 1 and node.size:
            node[...] = node + 1  # every element
        elif how == 2 and flat is not None and node.size > 1:
            flat[[0, -1]] = flat[[-1, 0]]  # a swap: the same sum, other bytes
        elif how == 3 and node.size and node.dtype.kind == "f":
            view = node.reshape(-1)[:1]
            view[...] = -view  # through a view (0.0 becomes -0.0: other bytes, an equal value)
        elif how == 4 and node.size:
            node.reshape(-1)[0] += 1
            node.reshape(-1)[0] -= 1  # changed, then restored
        elif how == 5 and node.ndim:
            node.shape = (-1,)  # reshaped in place
        elif how == 6 and node.dtype == np.float64:
            node.dtype = np.int64  # type: ignore[misc]  # the same bytes seen as another dtype
    elif type(node) is list:
        if how == 0 and node:
            node[0] = copy.copy(node[0])  # an equal value, another object
        elif how == 1:
            node.append(1)
        elif how == 2 and node:
            node.pop()
        elif how == 3:
            node.reverse()
        elif how == 4 and node:
            node[0] = "other"
    elif type(node) is dict:
        if how == 0 and node:
            k = next(iter(node))
            node[k] = copy.copy(node[k])
        elif how == 1:
            node["new"] = 0.5
        elif how == 2 and node:
            del node[next(iter(node))]
        elif how == 3 and len(node) > 1:
            k = next(iter(node))
            node[k] = node.pop(k)  # the same items, another order
        elif how == 4 and node:
            node[next(iter(node))] = None


def _run(data, whole: bool, detector=mutation.Args):
    args = tuple(data.draw(st.lists(values, min_size=1, max_size=3)))
    kwargs = data.draw(st.dictionaries(st.sampled_from(["x", "y"]), values, max_size=2))
    before_args, before_kw = copy.deepcopy(args), copy.deepcopy(kwargs)
    snapshot = detector(args, kwargs, whole=whole)
    nodes = _nodes(args, []) + _nodes(list(kwargs.values()), [])
    for _ in range(data.draw(st.integers(0, 3))):
        if nodes:
            _mutate(data.draw(st.sampled_from(nodes)), data.draw(st.integers(0, 6)))
    got = [where for where, _ in snapshot.changed(PLAIN.encode)]
    return got, reference_changed(before_args, args, before_kw, kwargs, whole)


@given(st.data())
def test_the_snapshot_finds_what_encoding_finds(data):
    got, want = _run(data, whole=False)
    assert got == want


@given(st.data())
def test_the_whole_rule_finds_what_encoding_finds(data):
    got, want = _run(data, whole=True)  # the grader's callbacks: a bare array's dtype too
    assert got == want


class _IdentityOnly(mutation.Args):
    """A planted bug: containers and arrays compared by identity alone (no bytes)."""

    def changed(self, encode):
        return [(i, a) for i, (a, b) in enumerate(zip(self.args, self._ids, strict=True))
                if [id(x) for x in _nodes(a, [])] != b]

    def __init__(self, args, kwargs, whole=False):
        super().__init__(args, kwargs, whole=whole)
        self._ids = [[id(x) for x in _nodes(a, [])] for a in args]


@pytest.mark.parametrize("how", range(5))
def test_a_planted_identity_only_detector_is_caught(how):
    # Each in-place change of _mutate's arrays that alters bytes goes unseen by identity.
    x = np.arange(6.0).reshape(2, 3) - 2.0
    args, before = ({"W": x},), copy.deepcopy(({"W": x},))
    planted = _IdentityOnly(args, {})
    right = mutation.Args(args, {})
    _mutate(x, how)
    want = reference_changed(before, args, {}, {})
    assert [w for w, _ in right.changed(PLAIN.encode)] == want
    if want:
        assert [w for w, _ in planted.changed(PLAIN.encode)] != want


def test_what_is_not_plain_is_never_written_back():
    handle = object()
    args = ({"X": np.ones(2), "note": handle}, 3.0, [handle])
    snapshot = mutation.Args(args, {})
    args[0]["X"][0] = 5.0
    args[2].append(1)
    assert snapshot.changed(PLAIN.encode) == []  # as before: they could not be encoded
    refs = mutation.Args(args, {}, refs=(object,))  # the grader's proxies are plain there
    args[0]["X"][0] = 6.0
    assert [w for w, _ in refs.changed(PLAIN.encode)] == [0]


def test_a_call_that_makes_its_argument_cyclic_still_ends():
    args = ([1, 2],)
    snapshot = mutation.Args(args, {})
    args[0].append(args[0])
    assert [w for w, _ in snapshot.changed(PLAIN.encode)] == [0]


def test_the_depth_limit_is_the_codecs():
    assert mutation.MAX_DEPTH == codec.MAX_DEPTH
    deep: list = []
    for _ in range(codec.MAX_DEPTH + 2):
        deep = [deep]
    assert mutation.Args((deep,), {}).before == [None]  # it could not be encoded either


def _retype(x):
    x.dtype = np.int64


def _reorder(d):
    d["a"] = d.pop("a")


def _rekey(d):
    del d[1]
    d[1.0] = "x"


# (arguments, what the call does, whole): the cases a cheaper detector is likeliest to miss.
CASES = {
    "a nested array seen as another dtype": (lambda: ({"W": np.ones(2)},),
                                             lambda a: _retype(a[0]["W"]), False),
    "a bare array seen as another dtype": (lambda: (np.ones(2),), lambda a: _retype(a[0]), False),
    "a bare array seen as another dtype, whole": (lambda: (np.ones(2),),
                                                  lambda a: _retype(a[0]), True),
    "equal values in another order": (lambda: ({"a": 0, "b": 0},), lambda a: _reorder(a[0]),
                                      False),
    "a key of another type": (lambda: ({1: "x"},), lambda a: _rekey(a[0]), False),
    "an array in a tuple, in place": (lambda: ((np.ones(2), np.ones(3)),),
                                      lambda a: a[0][1].__setitem__(0, 2.0), False),
    "in place through a view": (lambda: (np.ones((2, 2)),),
                                lambda a: a[0][:, 1].__imul__(3.0), False),
    "changed then restored": (lambda: ([np.ones(2)],),
                              lambda a: (a[0][0].__iadd__(1.0), a[0][0].__isub__(1.0)), False),
    "zero becomes minus zero": (lambda: ((np.zeros(2),),), lambda a: a[0][0].__imul__(-1.0),
                                False),
    "an equal float, another object": (lambda: ([0.1],), lambda a: a[0].__setitem__(0, 0.1 + 0),
                                       False),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_hard_case_is_decided_as_encoding_decides(name):
    make, call, whole = CASES[name]
    args = make()
    before = copy.deepcopy(args)
    snapshot = mutation.Args(args, {}, whole=whole)
    call(args)
    want = reference_changed(before, args, {}, {}, whole)
    assert [w for w, _ in snapshot.changed(PLAIN.encode)] == want
