"""The sandboxed worker: runs a student's notebook cells and serves the grader's requests.

Started as ``python -I -S worker.py FD_IN FD_OUT [UID] [SITE_DIR...]`` inside the sandbox.
Everything here is untrusted once student code has run (student code can rewrite this module);
the grader relies only on what it decodes, never on this file behaving.

Requests and replies are the messages named in ``codec`` (``codec.EXEC``, ``codec.CALL``, ...,
each with its shape): every request is answered by one reply; while a call runs, the worker
may itself send ``codec.CALLBACK`` to call a grader function passed as an argument, or
(``codec.CALLBACK``, id, args, kwargs, method) to call a static method of a grader block class
(valid for the worker's lifetime).
Trusted callees: ``codec.SETGLOBALS`` / ``codec.RESTOREGLOBALS`` put grader stand-ins in the
namespace and take them out again, ``codec.STANDIN`` keeps one (an object the grader fetches by
name); a callback's reply may carry write-back of the grader's in-place changes of its
arguments, and a call's reply the aliases of its arguments that its result holds.
What a call changed in its arguments, and which of them its result keeps, is found by
``mutation`` (copied into the sandbox beside this file and ``codec``). A call's np.errstate
crosses only when it differs from the last call's; this side keeps it (``ERRSTATE``).
"""

import os
import sys


def _bootstrap() -> tuple[int, int]:
    fd_in, fd_out = int(sys.argv[1]), int(sys.argv[2])
    uid = int(sys.argv[3]) if len(sys.argv) > 3 else -1
    if uid >= 0 and os.getuid() != uid:  # root-run sandbox: become the unprivileged grader uid
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [os.path.join(here, "stubs"), here] + [p for p in sys.argv[4:]] + sys.path
    return fd_in, fd_out


FD_IN, FD_OUT = _bootstrap()

import gc  # noqa: E402

gc.disable()  # start-up allocates much and frees little: collecting during it is wasted time

import builtins  # noqa: E402
import linecache  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402

import codec  # noqa: E402
import mutation  # noqa: E402
import numpy as np  # noqa: E402

sys.path.remove(os.path.dirname(os.path.abspath(__file__)))  # keep the stub dir only

MAX_TEXT = 4000


class _Objects:
    """Objects kept here on the grader's behalf, by handle id."""

    def __init__(self):
        self.by_id: dict[int, object] = {}
        self.ids: dict[int, int] = {}  # id(obj) -> handle

    def handle(self, obj) -> tuple[bytes, int, str]:
        key = id(obj)
        h = self.ids.get(key)
        if h is None or self.by_id.get(h) is not obj:
            h = len(self.by_id) + 1
            self.by_id[h] = obj
            self.ids[key] = h
        kind = "c" if callable(obj) else "o"
        try:
            name = str(getattr(obj, "__name__", None) or type(obj).__name__)
        except BaseException:
            name = "object"
        return b"h", h, f"{kind}:{name}"[:120]


OBJECTS = _Objects()


def _other(obj):
    # Subclasses of plain types cross as their plain value: their overrides stay here.
    if isinstance(obj, np.ndarray) and obj.dtype.kind in "biufc":
        return codec.Plain(np.array(obj.view(np.ndarray), copy=True))
    for base in (bool, int, float, complex, str):
        if isinstance(obj, base):
            return codec.Plain(base(obj) if base is not str else str.__str__(obj))
    if isinstance(obj, np.generic) and obj.dtype.kind in "biufc":
        return codec.Plain(np.asarray(obj).view(np.ndarray)[()])
    return OBJECTS.handle(obj)


ENC = codec.Encoder(_other)
PLAIN = codec.Encoder()  # what plain data encodes as (an argument holding anything else: None)
ERRSTATE: list[dict] = [{}]  # the np.errstate of the grader's last call


def _call_grader(cid: int, args: tuple, kwargs: dict, method: str | None = None):
    msg = (codec.CALLBACK, cid, args, kwargs) + (() if method is None else (method,))
    reply = _request(msg)
    if reply[0] == codec.OK:
        for where, value in (reply[2] if len(reply) == 3 and type(reply[2]) is list else []):
            if type(where) is int and 0 <= where < len(args):
                mutation.write_into(args[where], value)
        return reply[1]
    raise _exception(reply[1], reply[2])


class _GraderCallable:
    """A grader function or block class passed to student code: calling it, or calling one of
    its public methods (``block.forward(X)``: a block class of the grader used by hw3's
    ``Graph``), sends a ``cb`` request. The grader decides what may be called."""

    def __init__(self, cid: int, label: str):
        self._cid = cid
        self.__name__ = self.__qualname__ = label or "grader_function"

    def __call__(self, *args, **kwargs):
        return _call_grader(self._cid, args, kwargs)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: _call_grader(self._cid, args, kwargs, name)


def _callback(cid: int, label: str):
    return _GraderCallable(cid, label)


def _handle(h: int, label: str):
    try:
        return OBJECTS.by_id[h]
    except KeyError:
        raise codec.ProtocolError(f"unknown handle {h}") from None


DEC = codec.Decoder(_handle, _callback)
READER = codec.FrameReader(FD_IN)


def _exception(typename: str, message: str) -> BaseException:
    cls = getattr(builtins, typename, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            return cls(message)
        except Exception:
            pass
    return RuntimeError(f"{typename}: {message}")


def _send(msg) -> None:
    try:
        payload = ENC.encode(msg)
    except codec.Unsendable as exc:
        why = f"result cannot be sent to the grader: {exc}"
        payload = ENC.encode((codec.ERR, "TypeError", why, []))
    if len(payload) > codec.MAX_FRAME:
        payload = ENC.encode((codec.ERR, "MemoryError", "result too large to send to the grader",
                              []))
    codec.write_frame(FD_OUT, payload)


def _request(msg):
    """Send a request to the grader and serve nested requests until its reply arrives."""
    _send(msg)
    return _serve_until_reply()


def _serve_until_reply():
    while True:
        msg = DEC.decode(READER.read())
        if msg[0] in (codec.OK, codec.ERR):
            return msg
        _send(_dispatch(msg))


def _text(s: str) -> str:
    return s if len(s) <= MAX_TEXT else s[:MAX_TEXT] + " ...[truncated]"


def _describe(exc: BaseException) -> tuple[str, str]:
    try:
        msg = str(exc)
    except BaseException:
        msg = "<unprintable exception>"
    return type(exc).__name__, _text(msg)


def _warning_list(caught) -> list:
    out = []
    for w in caught[:20]:
        out.append((type(w.message).__name__ if isinstance(w.message, Warning) else "UserWarning",
                    _text(str(w.message))))
    return out


def _cell_line(exc: BaseException) -> str:
    """" (cell N, line M: code)" of the innermost frame of notebook code, or ""."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<cell")]
    if not frames:
        return ""
    f = frames[-1]
    return f" ({f.filename[1:-1]}, line {f.lineno}" + (f": {f.line.strip()[:160]})" if f.line
                                                       else ")")


def _cell_error(n: int, exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<cell")]
    name, msg = _describe(exc)
    where = f"cell {n}"
    if frames:
        f = frames[-1]
        where = f"cell {n}, line {f.lineno}"
        if f.line:
            where += f" ({f.line.strip()[:160]})"
    return f"{where}: {name}: {msg}"


class _NoIPython:
    """``get_ipython()`` for cells the grader rewrote (``cells.py``): no command is run."""

    def system(self, *args, **kwargs):
        return None

    def getoutput(self, *args, **kwargs):
        return []

    def run_line_magic(self, *args, **kwargs):
        return None

    def run_cell_magic(self, *args, **kwargs):
        return None


_NO_IPYTHON = _NoIPython()
NS: dict = {"__name__": "__main__", "__builtins__": builtins, "get_ipython": lambda: _NO_IPYTHON}


_MISSING = object()
_SAVED: list = []  # one dict of replaced globals per ("setglobals") in force


def _set_globals(spec: dict, save: bool = True) -> None:
    """Install the grader's stand-ins: ("fn", callback) or ("ns", {attr: callback or number}),
    a class-like namespace whose methods call back into the grader."""
    saved = {}
    for name, (kind, value) in spec.items():
        saved[name] = NS.get(name, _MISSING)
        if kind == "ns":
            value = type(name, (), {k: staticmethod(v) if callable(v) else v
                                    for k, v in value.items()})
        NS[name] = value
    if save:
        _SAVED.append(saved)


def _restore_globals() -> None:
    if _SAVED:
        for name, value in _SAVED.pop().items():
            if value is _MISSING:
                NS.pop(name, None)
            else:
                NS[name] = value


def _dispatch(msg):
    kind = msg[0]
    if kind in (codec.SETGLOBALS, codec.STANDIN):
        try:
            _set_globals(msg[1], save=kind == codec.SETGLOBALS)
        except BaseException as exc:
            return (codec.ERR, *_describe(exc), [])
        return (codec.OK, None)
    if kind == codec.RESTOREGLOBALS:
        _restore_globals()
        return (codec.OK, None)
    if kind == codec.EXEC:
        _, n, source = msg
        filename = f"<cell {n}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        try:
            code = compile(source, filename, "exec")
            exec(code, NS)
        except BaseException as exc:  # SystemExit and KeyboardInterrupt too: a cell never ends us
            return (codec.CELLERR, _cell_error(n, exc))
        return (codec.OK, None)
    if kind == codec.NAMES:
        return (codec.OK, {name: NS[name] for name in msg[1] if name in NS})
    if kind == codec.GETATTR:
        try:
            return (codec.OK, getattr(_handle(msg[1], ""), msg[2]))
        except BaseException as exc:
            return (codec.ERR, *_describe(exc), [])
    if kind == codec.CALL:
        _, h, args, kwargs, errstate = msg
        if errstate is not None:  # None: the grader's np.errstate is the last call's
            ERRSTATE[0] = errstate
        crossed = mutation.crossed(args, kwargs)
        before = mutation.Args(args, kwargs)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                with np.errstate(**ERRSTATE[0]):
                    result = _handle(h, "")(*args, **kwargs)
            except BaseException as exc:
                name, text = _describe(exc)
                return (codec.ERR, name, _text(text + _cell_line(exc)), _warning_list(caught))
        reply = (before.changed(PLAIN.encode), _warning_list(caught),
                 mutation.aliases(result, crossed))
        return (codec.OK, result, *reply) if any(reply) else (codec.OK, result)  # (OK, value): none
    if kind == codec.OP:
        _, name, h, args = msg
        try:
            obj = _handle(h, "")
            if name == "__array__":
                value = np.asarray(obj)
            elif name == "__iter__":
                value = []
                for item in obj:
                    value.append(item)
                    if len(value) > 100_000:
                        raise ValueError("too many items to iterate")
            elif name in ("__float__", "__int__", "__index__", "__bool__", "__len__",
                          "__repr__", "__str__"):
                fn = {"__float__": float, "__int__": int, "__index__": int, "__bool__": bool,
                      "__len__": len, "__repr__": repr, "__str__": str}[name]
                value = fn(obj)
                if isinstance(value, str):
                    value = _text(value)
            elif name == "__getitem__":
                value = obj[args[0]]
            else:
                raise TypeError(f"operation {name} is not supported")
            return (codec.OK, value)
        except BaseException as exc:
            return (codec.ERR, *_describe(exc), [])
    return (codec.ERR, "RuntimeError", f"unknown request {kind!r}", [])


def _leave_channel() -> None:
    """A process the student forks must not read the grader's requests or answer them."""
    global FD_IN, FD_OUT
    for fd in (FD_IN, FD_OUT):
        try:
            os.close(fd)
        except OSError:
            pass
    FD_IN = FD_OUT = READER.fd = -1


def main() -> None:
    os.register_at_fork(after_in_child=_leave_channel)
    gc.freeze()  # what start-up made is permanent: later collections skip it
    gc.enable()
    _send((codec.READY, os.getpid()))
    while True:
        try:
            msg = DEC.decode(READER.read())
        except EOFError:
            os._exit(0)
        _send(_dispatch(msg))


if __name__ == "__main__":
    main()
