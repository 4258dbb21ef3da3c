"""The wire format: plain values round-trip; anything malformed is refused, never built."""

from __future__ import annotations

import os

import numpy as np
import pytest
from bplab.grade import codec, text
from bplab.grade.codec import Decoder, Encoder, ProtocolError, Unsendable
from hypothesis import given
from hypothesis import strategies as st

ENC, DEC = Encoder(), Decoder()

plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@given(plain)
def test_plain_values_round_trip(value):
    assert DEC.decode(ENC.encode(value)) == value


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "bool", "complex128", "uint8"])
def test_arrays_round_trip_with_dtype_and_shape(dtype):
    a = (np.arange(24).reshape(2, 3, 4) % 3).astype(dtype)
    b = DEC.decode(ENC.encode((a, a.T, a[:, 1])))
    for x, y in zip((a, a.T, a[:, 1]), b, strict=True):
        assert type(y) is np.ndarray and y.dtype == x.dtype and np.array_equal(x, y)
        assert y.flags.writeable


def test_zero_d_arrays_stay_zero_d():
    # A 0-d array (np.ones_like(1.0), np.asarray(loss)) is a scalar of the contract: it must not
    # arrive as shape (1,), where float() refuses it (found by hw3's Graph variants).
    for a in (np.array(1.5), np.ones_like(np.asarray(2.0)), np.array(3, dtype=np.int64)):
        b = DEC.decode(ENC.encode(a))
        assert b.shape == () and b.dtype == a.dtype and b == a


def test_numpy_scalars_stay_numpy_scalars():
    v = DEC.decode(ENC.encode([np.float64(1.5), np.int32(3), np.bool_(True)]))
    assert [type(x) for x in v] == [np.float64, np.int32, np.bool_]


def test_non_plain_values_need_a_handle():
    with pytest.raises(Unsendable):
        ENC.encode(object())
    with pytest.raises(Unsendable):
        ENC.encode(np.array([object()]))


def test_handles_go_through_the_factories():
    enc = Encoder(lambda obj: (b"h", 7, "o:thing"))
    dec = Decoder(handle=lambda i, label: ("H", i, label))
    assert dec.decode(enc.encode([object()])) == [("H", 7, "o:thing")]
    with pytest.raises(ProtocolError):  # no factory given: a reference is refused
        DEC.decode(enc.encode(object()))


def _array_message(dtype: bytes, shape: tuple[int, ...], nbytes: int, data: bytes) -> bytes:
    import struct
    return (b"a" + bytes([len(dtype)]) + dtype + bytes([len(shape)])
            + b"".join(struct.pack("<q", n) for n in shape) + struct.pack(">I", nbytes) + data)


@pytest.mark.parametrize("payload", [
    b"",  # nothing
    b"Z",  # unknown tag
    b"s\x00\x00\x00\x10abc",  # string longer than the message
    b"l\xff\xff\xff\xff",  # list longer than the message
    b"N\x00",  # trailing bytes
    _array_message(b"|O", (1,), 8, b"\x00" * 8),  # object dtype
    _array_message(b"<f8", (2, 2), 8, b"\x00" * 8),  # shape and size disagree
    _array_message(b"<f8", (-1,), 8, b"\x00" * 8),  # negative dimension
    b"t\x00\x00\x00\x01" * 100 + b"N",  # nested too deeply
    b"I\x00\x01\x00\x00" + b"9" * 65536,  # absurd integer
])
def test_malformed_messages_are_refused(payload):
    with pytest.raises(ProtocolError):
        DEC.decode(payload)


@given(st.binary(max_size=200))
def test_garbage_never_escapes_as_another_error(data):
    try:
        DEC.decode(data)
    except ProtocolError:
        pass


def test_a_text_hook_cleans_every_string_and_replaces_invalid_utf8():
    data = codec.Encoder().encode({"k\x1b[1m": ["\udcff", "(diagnosis: x)"]})
    assert codec.Decoder().decode(data) == {"k\x1b[1m": ["\udcff", "(diagnosis: x)"]}
    cleaned = codec.Decoder(text=text.clean).decode(data)
    assert cleaned == {"k": ["\ufffd", "(diagnosis - x)"]}
    raw = b"s" + (3).to_bytes(4, "big") + b"a\xffb"  # invalid UTF-8 from a patched worker
    assert codec.Decoder(text=text.clean).decode(raw) == "a\ufffdb"
    with pytest.raises(codec.ProtocolError):
        codec.Decoder().decode(raw)


def test_a_full_pipe_calls_wait_and_wait_may_give_up():
    r, w = os.pipe()
    os.set_blocking(w, False)
    calls = []

    def wait():
        calls.append(1)
        raise TimeoutError("deadline")

    try:
        with pytest.raises(TimeoutError):
            codec.write_frame(w, b"x" * (1 << 20), wait)  # more than any pipe buffer
        assert calls == [1]
    finally:
        os.close(r)
        os.close(w)


# --------------------------------------------------------------------------- the fast path
# A non-empty tuple of native float64 arrays crosses as one "A" item: it must decode to exactly
# what the slow form (a tuple of self-describing arrays) decodes to, and refuse as strictly.
SLOW = Encoder(fast=False)

f8_array = st.tuples(
    st.lists(st.integers(0, 4), max_size=4),  # shape: 0-d, empty dimensions
    st.sampled_from(["c", "transposed", "strided"]),
    st.integers(0, 2**32 - 1),
).map(lambda spec: _layout(
    np.asarray(np.random.default_rng(spec[2]).normal(size=tuple(spec[0])) * 1e3), spec[1]))


def _layout(a: np.ndarray, how: str) -> np.ndarray:
    if how == "transposed":
        return a.T
    if how == "strided" and a.ndim:
        return np.repeat(a, 2, axis=-1)[..., ::2]  # the same values, not contiguous
    return a


def _same_arrays(xs, ys) -> bool:
    return type(xs) is type(ys) is tuple and len(xs) == len(ys) and all(
        type(y) is np.ndarray and x.dtype is y.dtype and x.shape == y.shape
        and x.tobytes() == y.tobytes() and y.flags.writeable and y.flags.c_contiguous
        for x, y in zip(xs, ys, strict=True))


@given(st.lists(f8_array, min_size=1, max_size=5).map(tuple))
def test_the_fast_path_decodes_as_the_slow_path(arrays):
    fast, slow = ENC.encode(arrays), SLOW.encode(arrays)
    assert fast[:1] == b"A" and slow[:1] == b"t"
    assert _same_arrays(DEC.decode(fast), DEC.decode(slow))
    assert all(x.tobytes() == y.tobytes() for x, y in zip(arrays, DEC.decode(fast), strict=True))
    # What crossed is recognised when it is sent back (the worker returns what it was given).
    assert ENC.encode(DEC.decode(fast)) == fast


@pytest.mark.parametrize("value", [
    (np.ones(2), np.ones(2, dtype=np.float32)),  # another dtype among them
    (np.ones(2), np.ones(2, dtype=">f8")),  # float64 of the other byte order
    (np.ones(2), 1.0),  # not an array
    (),  # empty
    [np.ones(2)],  # a list, not a tuple
])
def test_anything_else_takes_the_slow_path(value):
    data = ENC.encode(value)
    assert data[:1] != b"A" and data == SLOW.encode(value)
    back = DEC.decode(data)
    assert type(back) is type(value) and len(back) == len(value)
    assert all(np.asarray(x).dtype == np.asarray(y).dtype for x, y in zip(back, value, strict=True))


def test_a_subclass_is_not_sent_as_a_plain_array():
    with pytest.raises(Unsendable):
        ENC.encode((np.ones(2), np.ma.masked_array([1.0])))


def _fast_message(*items: tuple[tuple[int, ...], bytes], count: int | None = None,
                  ndims: list[int] | None = None) -> bytes:
    import struct
    out = b"A" + struct.pack(">I", len(items) if count is None else count)
    for i, (shape, data) in enumerate(items):
        ndim = len(shape) if ndims is None else ndims[i]
        out += bytes([ndim]) + b"".join(struct.pack("<q", n) for n in shape) + data
    return out


FAST_ATTACKS = {
    "empty tuple": _fast_message(),
    "count past the message": _fast_message(((1,), b"\0" * 8), count=2**32 - 1),
    "one item short": _fast_message(((1,), b"\0" * 8), count=2),
    "rank 33": _fast_message(((1,) * 33, b"\0" * 8)),
    "rank byte past the shape": _fast_message(((2,), b"\0" * 16), ndims=[9]),
    "negative dimension": _fast_message(((-1,), b"\0" * 8)),
    "negative times negative": _fast_message(((-2, -4), b"\0" * 64)),
    "data short": _fast_message(((2, 2), b"\0" * 24)),
    "size overflows": _fast_message(((2**62, 2**62), b"\0" * 8)),
    "empty but huge": _fast_message(((0, 2**62, 2**62), b"")),
    "trailing bytes": _fast_message(((1,), b"\0" * 9)),
    "truncated shape": b"A\x00\x00\x00\x01\x02" + b"\x01" * 11,
    "truncated count": b"A\x00\x00",
    "nested too deeply": b"t\x00\x00\x00\x01" * 41 + _fast_message(((1,), b"\0" * 8)),
}


def _refused(decoder: Decoder, payload: bytes) -> bool:
    try:
        decoder.decode(payload)
    except ProtocolError:
        return True
    return False


@pytest.mark.parametrize("name", sorted(FAST_ATTACKS))
def test_malformed_fast_path_messages_are_refused(name):
    assert _refused(DEC, FAST_ATTACKS[name])


def test_the_fast_path_counts_its_arrays_against_the_item_limit(monkeypatch):
    message = _fast_message(*[((), b"\0" * 8)] * 12)
    assert len(DEC.decode(message)) == 12
    monkeypatch.setattr(codec, "MAX_ITEMS", 12)  # the tuple is an item too: 13 in all
    assert _refused(DEC, message)
    # A planted bug: a fast path that does not count its arrays lets the message through.
    monkeypatch.setattr(Decoder, "_f8_tuple", _uncounted_f8_tuple)
    assert not _refused(DEC, message)


def _uncounted_f8_tuple(self, pos):
    n = int.from_bytes(self._data[pos:pos + 4], "big")
    pos += 4
    items = []
    for _ in range(n):
        ndim = self._data[pos]
        shape = codec._SHAPES[ndim].unpack_from(self._data, pos + 1)
        pos += 1 + 8 * ndim
        count = codec._count(shape)
        items.append(np.frombuffer(self._data, dtype=np.float64, count=count, offset=pos).copy())
        pos += 8 * count
    return tuple(items), pos


@given(st.binary(max_size=120))
def test_garbage_after_the_fast_tag_never_escapes_as_another_error(data):
    try:
        DEC.decode(b"A" + data)
    except ProtocolError:
        pass
