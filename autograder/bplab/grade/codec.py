"""The wire format between the trusted grader and the sandboxed worker.

A message is a frame: a 4-byte big-endian length, then one encoded value. Values are plain
data only: None, bool, int, float, complex, str, bytes, numeric ndarrays and numpy scalars
(raw bytes + dtype + shape, never pickles), tuples, lists, dicts (plain keys), slices and
Ellipsis. Anything else is turned by the sender into a *handle* (an id naming an object that
stays on the sending side) or a *callback* (an id naming a grader-side function).

The decoder is the security boundary: it builds nothing but the types above (plus handles and
callbacks through factories the caller gives), checks every length against the frame, allows
only numeric dtypes, and bounds depth and item count. It never calls anything the other side
defined.

One shape has a fast path, the commonest on the wire (a block's ``(dX, dW)``, a call's
``(X, W)``): a non-empty tuple of little-endian float64 arrays is sent as one ``A`` item
(count, then each array's rank, dimensions and bytes) instead of a tuple of self-describing
arrays. It decodes to exactly what the slow form decodes to, and is checked as strictly: rank,
every dimension, the size against the message, the item count; its dtype is implied, so no
other dtype can arrive through it. ``Encoder(fast=False)`` sends the slow form (the tests
compare).

This file is also copied into the sandbox (the worker imports it stand-alone), so it
depends on nothing but the standard library and numpy. It is longer than most modules on
purpose: the decoder, the security boundary, is read beside the encoder it mirrors, and the
sandbox binds one file.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from typing import Any

import numpy as np

MAX_FRAME = 64 * 1024 * 1024  # bytes in one message; a larger one is a protocol violation
MAX_DEPTH = 40  # nesting of containers
MAX_ITEMS = 2_000_000  # values in one message
MAX_NDIM = 32

# The protocol's message names: the first item of every message. Every request is answered
# by one reply; the rest of each message is as shown.
# Requests, grader -> worker:
EXEC = "exec"  # (EXEC, n, source): run notebook cell n
NAMES = "names"  # (NAMES, [name, ...]): values of globals
GETATTR = "getattr"  # (GETATTR, h, name)
CALL = "call"  # (CALL, h, args, kwargs, errstate): errstate None = as in the last call
OP = "op"  # (OP, name, h, args): a conversion of obj(h)
# Replies, worker -> grader (OK and ERR also answer a callback, grader -> worker):
READY = "ready"  # (READY, pid): the worker started
OK = "ok"  # (OK, value[, writeback, warnings[, aliases]]); to a callback: (OK, value[, writeback])
ERR = "err"  # (ERR, type, message[, warnings])
CELLERR = "cellerr"  # (CELLERR, text): the cell raised
CALLBACK = "cb"  # (CALLBACK, id, args, kwargs): worker -> grader, during a call
# Trusted callees (bplab_checks.callees): grader stand-ins in the worker's namespace.
SETGLOBALS = "setglobals"  # (SETGLOBALS, {name: ("fn", f) | ("ns", {attr: f or number})})
RESTOREGLOBALS = "restoreglobals"  # (RESTOREGLOBALS,): undo the last SETGLOBALS
STANDIN = "standin"  # (STANDIN, {name: ("ns", {...})}): a kept object, fetched with NAMES

_U32 = struct.Struct(">I")
_I64 = struct.Struct("<q")
_F64 = struct.Struct("<d")
_C128 = struct.Struct("<dd")

# Every numeric dtype, both byte orders: a dtype string not in this set is refused. Each is
# numpy's own instance for its string (for native ones, the instance arrays carry), so an
# array that crossed is recognised by identity by the fast path when it is sent back.
_DTYPES: dict[str, np.dtype] = {}
for _code in "?bBhHiIlLqQefdgFDG":
    _dt = np.dtype(_code)
    for _d in (_dt, _dt.newbyteorder("<"), _dt.newbyteorder(">")):
        _DTYPES[_d.str] = np.dtype(_d.str)
_DTYPE_FIELDS = {k.encode(): v for k, v in _DTYPES.items()}  # as they appear on the wire
_ARRAY_HEADS = {k: b"a" + bytes([len(k)]) + k.encode() for k in _DTYPES}
_F8 = _DTYPES["<f8"]  # the fast path's dtype (little-endian float64)
_SHAPES = [struct.Struct(f"<{n}q") for n in range(MAX_NDIM + 1)]  # one per rank


class ProtocolError(Exception):
    """The other side sent bytes that are not a valid message (or one too large)."""


class Unsendable(TypeError):
    """A value that cannot cross and has no handle on this side."""


# --------------------------------------------------------------------------- encoding


class Plain:
    """What ``Encoder.other`` returns to send a plain value in place of an object."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value


class Encoder:
    """Encode plain values; ``other(obj)`` returns ``(tag, id, label)`` for anything else, or a
    ``Plain`` holding the value to send instead (the worker's subclasses of plain types).

    ``tag`` is ``b"h"`` (a handle: the receiver gets a reference to an object kept here) or
    ``b"k"`` (a callback: the receiver gets a stub that calls back into this side).
    """

    def __init__(self, other: Callable[[Any], tuple[bytes, int, str] | Plain] | None = None,
                 fast: bool = True):
        self.other = other
        self.fast = fast

    def encode(self, value: Any) -> bytes:
        out: list[bytes] = []
        self._enc(value, out, 0)
        return b"".join(out)

    def _enc(self, v: Any, out: list[bytes], depth: int) -> None:  # noqa: C901 - one dispatch
        if depth > MAX_DEPTH:
            raise Unsendable("value nested too deeply to send")
        t = type(v)
        if v is None:
            out.append(b"N")
        elif t is bool:
            out.append(b"T" if v else b"F")
        elif t is int:
            if -(2**63) <= v < 2**63:
                out.append(b"i" + _I64.pack(v))
            else:
                s = str(v).encode()
                out.append(b"I" + _U32.pack(len(s)) + s)
        elif t is float:
            out.append(b"f" + _F64.pack(v))
        elif t is str:
            s = v.encode("utf-8", "surrogatepass")
            out.append(b"s" + _U32.pack(len(s)) + s)
        elif t is tuple or t is list:
            if t is tuple and v and self.fast and _f8_arrays(v):
                _enc_f8_tuple(v, out)
                return
            out.append((b"t" if t is tuple else b"l") + _U32.pack(len(v)))
            for item in v:
                self._enc(item, out, depth + 1)
        elif t is dict:
            out.append(b"d" + _U32.pack(len(v)))
            for k, item in v.items():
                if type(k) not in (str, int, float, bool, tuple) and k is not None:
                    raise Unsendable(f"dict key of type {type(k).__name__} cannot be sent")
                self._enc(k, out, depth + 1)
                self._enc(item, out, depth + 1)
        elif t is np.ndarray and v.dtype.str in _DTYPES:
            self._enc_array(v, out)
        elif (isinstance(v, np.generic) and type(v) is np.dtype(type(v)).type
              and v.dtype.str in _DTYPES):
            b = v.tobytes()
            d = v.dtype.str.encode()
            out.append(b"g" + bytes([len(d)]) + d + _U32.pack(len(b)) + b)
        elif t is complex:
            out.append(b"c" + _C128.pack(v.real, v.imag))
        elif t is bytes:
            out.append(b"y" + _U32.pack(len(v)) + v)
        elif t is slice:
            out.append(b"S")
            for item in (v.start, v.stop, v.step):
                self._enc(item, out, depth + 1)
        elif v is Ellipsis:
            out.append(b"E")
        elif self.other is not None:
            ref = self.other(v)
            if isinstance(ref, Plain):  # one level deeper: a substitute's substitute is bounded
                self._enc(ref.value, out, depth + 1)
                return
            tag, ident, label = ref
            lb = label.encode("utf-8", "replace")[:200]
            out.append(tag + _I64.pack(ident) + bytes([len(lb)]) + lb)
        else:
            raise Unsendable(f"a {type(v).__name__} cannot be sent")

    @staticmethod
    def _enc_array(a: np.ndarray, out: list[bytes]) -> None:
        ndim = a.ndim
        if ndim > MAX_NDIM:
            raise Unsendable("array has too many dimensions")
        b = a.tobytes()  # C order whatever the layout; a 0-d array stays 0-d (its shape is sent)
        out.append(_ARRAY_HEADS[a.dtype.str] + bytes([ndim]) + _SHAPES[ndim].pack(*a.shape)
                   + _U32.pack(len(b)))
        out.append(b)


def _f8_arrays(v: tuple) -> bool:
    """Whether every item is a native little-endian float64 ndarray the fast path can send."""
    for a in v:
        if type(a) is not np.ndarray or a.dtype is not _F8 or a.ndim > MAX_NDIM:
            return False
    return True


def _enc_f8_tuple(v: tuple, out: list[bytes]) -> None:
    """The fast path: ``A``, the count, then per array its rank, dimensions and bytes."""
    out.append(b"A" + _U32.pack(len(v)))
    for a in v:
        ndim = a.ndim
        out.append(bytes([ndim]) + _SHAPES[ndim].pack(*a.shape))
        out.append(a.tobytes())


# --------------------------------------------------------------------------- decoding


class Decoder:
    """Decode one message; ``handle(id, label)`` and ``callback(id, label)`` build references.

    ``text``, when given, is applied to every string decoded (values, dict keys, labels), and
    invalid UTF-8 is then replaced rather than refused: the grader cleans what it receives.
    """

    def __init__(
        self,
        handle: Callable[[int, str], Any] | None = None,
        callback: Callable[[int, str], Any] | None = None,
        text: Callable[[str], str] | None = None,
    ):
        self.handle = handle
        self.callback = callback
        self.text = text

    def decode(self, data: bytes) -> Any:
        self._data = bytes(data)
        self._end = len(self._data)
        self._items = 0
        try:
            value, pos = self._dec(0, 0)
        except ProtocolError:
            raise
        except (struct.error, ValueError, IndexError, OverflowError, UnicodeDecodeError,
                TypeError) as exc:
            raise ProtocolError(f"malformed message: {type(exc).__name__}") from None
        finally:
            self._data = b""
        if pos != self._end:
            raise ProtocolError("trailing bytes after message")
        return value

    def _span(self, pos: int, n: int) -> int:
        """End of an ``n``-byte field starting at ``pos`` (checked against the message)."""
        end = pos + n
        if n < 0 or end > self._end:
            raise ProtocolError("message truncated")
        return end

    def _dec(self, pos: int, depth: int) -> tuple[Any, int]:  # noqa: C901 - one dispatch
        if depth > MAX_DEPTH:
            raise ProtocolError("message nested too deeply")
        self._items += 1
        if self._items > MAX_ITEMS:
            raise ProtocolError("message has too many items")
        data = self._data
        if pos >= self._end:
            raise ProtocolError("message truncated")
        tag = data[pos]
        pos += 1
        if tag == 0x66:  # f
            self._span(pos, 8)
            return _F64.unpack_from(data, pos)[0], pos + 8
        if tag == 0x69:  # i
            self._span(pos, 8)
            return _I64.unpack_from(data, pos)[0], pos + 8
        if tag == 0x73:  # s
            n = _U32.unpack_from(data, self._span(pos, 4) - 4)[0]
            end = self._span(pos + 4, n)
            if self.text is None:
                return str(data[pos + 4 : end], "utf-8", "surrogatepass"), end
            try:  # a lone surrogate is one character (cleaned below), invalid bytes are replaced
                text = str(data[pos + 4 : end], "utf-8", "surrogatepass")
            except UnicodeDecodeError:
                text = str(data[pos + 4 : end], "utf-8", "replace")
            return self.text(text), end
        if tag == 0x61:  # a
            return self._array(pos)
        if tag == 0x41:  # A: a tuple of float64 arrays (the fast path)
            return self._f8_tuple(pos)
        if tag == 0x74 or tag == 0x6C:  # t, l
            n = _U32.unpack_from(data, self._span(pos, 4) - 4)[0]
            pos += 4
            if n > self._end - pos:  # each item takes at least one byte
                raise ProtocolError("container longer than its message")
            items = []
            for _ in range(n):
                item, pos = self._dec(pos, depth + 1)
                items.append(item)
            return (tuple(items) if tag == 0x74 else items), pos
        if tag == 0x64:  # d
            n = _U32.unpack_from(data, self._span(pos, 4) - 4)[0]
            pos += 4
            if 2 * n > self._end - pos:
                raise ProtocolError("dict longer than its message")
            out = {}
            for _ in range(n):
                k, pos = self._dec(pos, depth + 1)
                if type(k) not in (str, int, float, bool, tuple) and k is not None:
                    raise ProtocolError("unhashable or unsafe dict key")
                v, pos = self._dec(pos, depth + 1)
                try:
                    out[k] = v
                except TypeError:  # a tuple key holding a list
                    raise ProtocolError("unhashable dict key") from None
            return out, pos
        if tag == 0x4E:  # N
            return None, pos
        if tag == 0x54:  # T
            return True, pos
        if tag == 0x46:  # F
            return False, pos
        if tag == 0x49:  # I
            n = _U32.unpack_from(data, self._span(pos, 4) - 4)[0]
            if n > 5000:
                raise ProtocolError("integer too long")
            end = self._span(pos + 4, n)
            return int(data[pos + 4 : end].decode("ascii")), end
        if tag == 0x63:  # c
            self._span(pos, 16)
            re_, im = _C128.unpack_from(data, pos)
            return complex(re_, im), pos + 16
        if tag == 0x79:  # y
            n = _U32.unpack_from(data, self._span(pos, 4) - 4)[0]
            end = self._span(pos + 4, n)
            return data[pos + 4 : end], end
        if tag == 0x67:  # g
            dt, pos = self._dtype(pos)
            n = _U32.unpack_from(data, self._span(pos, 4) - 4)[0]
            end = self._span(pos + 4, n)
            if n != dt.itemsize:
                raise ProtocolError("scalar size does not match its dtype")
            return np.frombuffer(data[pos + 4 : end], dtype=dt)[0].copy(), end
        if tag == 0x53:  # S
            parts = []
            for _ in range(3):
                part, pos = self._dec(pos, depth + 1)
                if part is not None and type(part) is not int:
                    raise ProtocolError("slice bounds must be ints")
                parts.append(part)
            return slice(*parts), pos
        if tag == 0x45:  # E
            return Ellipsis, pos
        if tag == 0x68 or tag == 0x6B:  # h, k
            self._span(pos, 9)
            ident = _I64.unpack_from(data, pos)[0]
            n = data[pos + 8]
            end = self._span(pos + 9, n)
            label = str(data[pos + 9 : end], "utf-8", "replace")
            if self.text is not None:
                label = self.text(label)
            factory = self.handle if tag == 0x68 else self.callback
            if factory is None:
                raise ProtocolError("unexpected reference in message")
            return factory(ident, label), end
        raise ProtocolError(f"unknown tag {tag!r}")

    def _array(self, pos: int) -> tuple[np.ndarray, int]:
        data = self._data
        dt, pos = self._dtype(pos)
        self._span(pos, 1)
        ndim = data[pos]
        pos += 1
        if ndim > MAX_NDIM:
            raise ProtocolError("array has too many dimensions")
        self._span(pos, 8 * ndim + 4)
        shape = _SHAPES[ndim].unpack_from(data, pos)
        pos += 8 * ndim
        count = _count(shape)
        nbytes = _U32.unpack_from(data, pos)[0]
        pos += 4
        if count * dt.itemsize != nbytes:
            raise ProtocolError("array size does not match its shape")
        end = self._span(pos, nbytes)
        return np.frombuffer(data, dtype=dt, count=count, offset=pos).reshape(shape).copy(), end

    def _f8_tuple(self, pos: int) -> tuple[tuple, int]:
        """The fast path's ``A`` item: the same checks as ``_array`` with the dtype implied."""
        data = self._data
        n = _U32.unpack_from(data, self._span(pos, 4) - 4)[0]
        pos += 4
        if n == 0 or n > self._end - pos:  # each array takes at least its rank byte
            raise ProtocolError("array tuple longer than its message")
        self._items += n
        if self._items > MAX_ITEMS:
            raise ProtocolError("message has too many items")
        items = []
        for _ in range(n):
            self._span(pos, 1)
            ndim = data[pos]
            pos += 1
            if ndim > MAX_NDIM:
                raise ProtocolError("array has too many dimensions")
            self._span(pos, 8 * ndim)
            shape = _SHAPES[ndim].unpack_from(data, pos)
            pos += 8 * ndim
            count = _count(shape)
            end = self._span(pos, 8 * count)
            items.append(np.frombuffer(data, dtype=_F8, count=count, offset=pos)
                         .reshape(shape).copy())
            pos = end
        return tuple(items), pos

    def _dtype(self, pos: int) -> tuple[np.dtype, int]:
        self._span(pos, 1)
        n = self._data[pos]
        end = self._span(pos + 1, n)
        dt = _DTYPE_FIELDS.get(self._data[pos + 1 : end])
        if dt is None:
            raise ProtocolError("dtype is not allowed")
        return dt, end


def _count(shape: tuple[int, ...]) -> int:
    """Elements of an array of ``shape`` (a negative dimension is refused)."""
    count = 1
    for n in shape:
        if n < 0:
            raise ProtocolError("negative array dimension")
        count *= n
    return count


# --------------------------------------------------------------------------- framing


def frame(payload: bytes) -> bytes:
    """``payload`` with its length prefix (raises ``Unsendable`` past ``MAX_FRAME``)."""
    if len(payload) > MAX_FRAME:
        raise Unsendable(f"message of {len(payload)} bytes exceeds the {MAX_FRAME}-byte limit")
    return _U32.pack(len(payload)) + payload


def write_frame(fd: int, payload: bytes, wait: Callable[[], None] | None = None) -> None:
    """Write one frame to a file descriptor.

    With ``wait``, ``fd`` must be non-blocking: ``wait()`` is called whenever the pipe is full
    (it returns once ``fd`` is writable, or raises), so a reader that stops reading cannot
    block the writer past the deadline ``wait`` enforces. Without it, the write blocks.
    """
    data = memoryview(frame(payload))
    while data:
        try:
            n = os.write(fd, data)
        except BlockingIOError:  # EAGAIN: the pipe is full
            n = 0
        if n == 0 and wait is not None:
            wait()
        data = data[n:]


class FrameReader:
    """Reads frames from a file descriptor, usually one ``read`` call per frame."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buf = bytearray()

    def read(self, wait: Callable[[], None] | None = None) -> bytes:
        """The next frame; ``wait()`` is called before each blocking read (it may raise)."""
        buf = self.buf
        while True:
            if len(buf) >= 4:
                (n,) = _U32.unpack_from(buf, 0)
                if n > MAX_FRAME:
                    raise ProtocolError(f"frame of {n} bytes exceeds the {MAX_FRAME}-byte limit")
                if len(buf) >= 4 + n:
                    frame = bytes(buf[4 : 4 + n])
                    del buf[: 4 + n]
                    return frame
                want = 4 + n - len(buf)
            else:
                want = 4 - len(buf)
            if wait is not None:
                wait()
            chunk = os.read(self.fd, max(want, 1 << 16))
            if not chunk:
                raise EOFError("the other side closed the channel")
            buf += chunk
