"""The wire format between the trusted grader and the sandboxed worker.

A message is a frame: a 4-byte big-endian length, then one encoded value. Values are plain
data only: None, bool, int, float, complex, str, bytes, numeric ndarrays and numpy scalars
(raw bytes + dtype + shape, never pickles), tuples, lists, dicts (plain keys), slices and
Ellipsis. Anything else is turned by the sender into a *handle* (an id naming an object that
stays on the sending side) or a *callback* (an id naming a grader-side function).

The decoder is the security boundary: it builds nothing but the types above (plus handles and
callbacks through factories the caller gives), checks every length against the frame, allows
only numeric dtypes, and bounds depth and item count. It never calls anything the other side
defined. This file is also copied into the sandbox (the worker imports it stand-alone), so it
depends on nothing but the standard library and numpy.
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

_U32 = struct.Struct(">I")
_I64 = struct.Struct("<q")
_F64 = struct.Struct("<d")
_C128 = struct.Struct("<dd")

# Every numeric dtype, both byte orders: a dtype string not in this set is refused.
_DTYPES: dict[str, np.dtype] = {}
for _code in "?bBhHiIlLqQefdgFDG":
    _dt = np.dtype(_code)
    for _d in (_dt, _dt.newbyteorder("<"), _dt.newbyteorder(">")):
        _DTYPES[_d.str] = _d


class ProtocolError(Exception):
    """The other side sent bytes that are not a valid message (or one too large)."""


class Unsendable(TypeError):
    """A value that cannot cross and has no handle on this side."""


# --------------------------------------------------------------------------- encoding


class Encoder:
    """Encode plain values; ``other(obj)`` returns ``(tag, id)`` for anything else.

    ``tag`` is ``b"h"`` (a handle: the receiver gets a reference to an object kept here) or
    ``b"k"`` (a callback: the receiver gets a stub that calls back into this side).
    """

    def __init__(self, other: Callable[[Any], tuple[bytes, int, str]] | None = None):
        self.other = other

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
            tag, ident, label = self.other(v)
            lb = label.encode("utf-8", "replace")[:200]
            out.append(tag + _I64.pack(ident) + bytes([len(lb)]) + lb)
        else:
            raise Unsendable(f"a {type(v).__name__} cannot be sent")

    @staticmethod
    def _enc_array(a: np.ndarray, out: list[bytes]) -> None:
        if a.ndim > MAX_NDIM:
            raise Unsendable("array has too many dimensions")
        a = np.ascontiguousarray(a)
        d = a.dtype.str.encode()
        head = b"a" + bytes([len(d)]) + d + bytes([a.ndim])
        head += b"".join(_I64.pack(n) for n in a.shape)
        b = a.tobytes()
        out.append(head + _U32.pack(len(b)))
        out.append(b)


# --------------------------------------------------------------------------- decoding


class Decoder:
    """Decode one message; ``handle(id, label)`` and ``callback(id, label)`` build references."""

    def __init__(
        self,
        handle: Callable[[int, str], Any] | None = None,
        callback: Callable[[int, str], Any] | None = None,
    ):
        self.handle = handle
        self.callback = callback

    def decode(self, data: bytes) -> Any:
        self._buf = memoryview(data)
        self._pos = 0
        self._items = 0
        try:
            value = self._dec(0)
        except ProtocolError:
            raise
        except (struct.error, ValueError, IndexError, OverflowError, UnicodeDecodeError) as exc:
            raise ProtocolError(f"malformed message: {type(exc).__name__}") from None
        finally:
            buf, self._buf = self._buf, memoryview(b"")
            buf.release()
        if self._pos != len(data):
            raise ProtocolError("trailing bytes after message")
        return value

    def _take(self, n: int) -> memoryview:
        if n < 0 or self._pos + n > len(self._buf):
            raise ProtocolError("message truncated")
        chunk = self._buf[self._pos : self._pos + n]
        self._pos += n
        return chunk

    def _u32(self) -> int:
        return _U32.unpack(self._take(4))[0]

    def _dec(self, depth: int) -> Any:  # noqa: C901 - one dispatch
        if depth > MAX_DEPTH:
            raise ProtocolError("message nested too deeply")
        self._items += 1
        if self._items > MAX_ITEMS:
            raise ProtocolError("message has too many items")
        tag = bytes(self._take(1))
        if tag == b"N":
            return None
        if tag == b"T":
            return True
        if tag == b"F":
            return False
        if tag == b"i":
            return _I64.unpack(self._take(8))[0]
        if tag == b"I":
            n = self._u32()
            if n > 5000:
                raise ProtocolError("integer too long")
            return int(bytes(self._take(n)).decode("ascii"))
        if tag == b"f":
            return _F64.unpack(self._take(8))[0]
        if tag == b"c":
            re_, im = _C128.unpack(self._take(16))
            return complex(re_, im)
        if tag == b"s":
            return str(self._take(self._u32()), "utf-8", "surrogatepass")
        if tag == b"y":
            return bytes(self._take(self._u32()))
        if tag in (b"t", b"l"):
            n = self._u32()
            if n > len(self._buf) - self._pos:  # each item takes at least one byte
                raise ProtocolError("container longer than its message")
            items = [self._dec(depth + 1) for _ in range(n)]
            return tuple(items) if tag == b"t" else items
        if tag == b"d":
            n = self._u32()
            if 2 * n > len(self._buf) - self._pos:
                raise ProtocolError("dict longer than its message")
            out = {}
            for _ in range(n):
                k = self._dec(depth + 1)
                if type(k) not in (str, int, float, bool, tuple) and k is not None:
                    raise ProtocolError("unhashable or unsafe dict key")
                try:
                    out[k] = self._dec(depth + 1)
                except TypeError:  # a tuple key holding a list
                    raise ProtocolError("unhashable dict key") from None
            return out
        if tag == b"a":
            dt = self._dtype()
            ndim = self._take(1)[0]
            if ndim > MAX_NDIM:
                raise ProtocolError("array has too many dimensions")
            shape = tuple(_I64.unpack(self._take(8))[0] for _ in range(ndim))
            if any(n < 0 for n in shape):
                raise ProtocolError("negative array dimension")
            nbytes = self._u32()
            count = 1
            for n in shape:
                count *= n
            if count * dt.itemsize != nbytes:
                raise ProtocolError("array size does not match its shape")
            data = self._take(nbytes)
            return np.frombuffer(data, dtype=dt).reshape(shape).copy()
        if tag == b"g":
            dt = self._dtype()
            data = self._take(self._u32())
            if len(data) != dt.itemsize:
                raise ProtocolError("scalar size does not match its dtype")
            return np.frombuffer(data, dtype=dt)[0].copy()
        if tag == b"S":
            parts = [self._dec(depth + 1) for _ in range(3)]
            if any(p is not None and type(p) is not int for p in parts):
                raise ProtocolError("slice bounds must be ints")
            return slice(*parts)
        if tag == b"E":
            return Ellipsis
        if tag in (b"h", b"k"):
            ident = _I64.unpack(self._take(8))[0]
            label = str(self._take(self._take(1)[0]), "utf-8", "replace")
            factory = self.handle if tag == b"h" else self.callback
            if factory is None:
                raise ProtocolError("unexpected reference in message")
            return factory(ident, label)
        raise ProtocolError(f"unknown tag {tag!r}")

    def _dtype(self) -> np.dtype:
        n = self._take(1)[0]
        s = str(self._take(n), "ascii")
        dt = _DTYPES.get(s)
        if dt is None:
            raise ProtocolError(f"dtype {s!r} is not allowed")
        return dt


# --------------------------------------------------------------------------- framing


def write_frame(fd: int, payload: bytes) -> None:
    """Write one frame (blocking) to a file descriptor."""
    if len(payload) > MAX_FRAME:
        raise Unsendable(f"message of {len(payload)} bytes exceeds the {MAX_FRAME}-byte limit")
    data = memoryview(_U32.pack(len(payload)) + payload)
    while data:
        n = os.write(fd, data)
        data = data[n:]


def read_exact(fd: int, n: int, wait: Callable[[], None] | None = None) -> bytes:
    """Read exactly ``n`` bytes; ``wait()`` is called before each read (it may raise)."""
    chunks = []
    while n:
        if wait is not None:
            wait()
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, wait: Callable[[], None] | None = None) -> bytes:
    """Read one frame; a length over ``MAX_FRAME`` is a ``ProtocolError``."""
    (n,) = _U32.unpack(read_exact(fd, 4, wait))
    if n > MAX_FRAME:
        raise ProtocolError(f"frame of {n} bytes exceeds the {MAX_FRAME}-byte limit")
    return read_exact(fd, n, wait)
