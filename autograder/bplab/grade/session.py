"""One submission's worker, seen from the trusted grader: requests, replies and callbacks.

``Session`` owns a running worker (see ``sandbox``) and speaks the protocol of ``worker``. Every
wait is bounded by the per-call timeout and by the submission's deadline; when either passes,
or the worker dies or sends a malformed message, the worker is killed and ``WorkerLost`` is
raised. ``restart()`` gives a fresh worker (the caller replays the notebook cells).
"""

from __future__ import annotations

import builtins
import select
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from bplab.grade import codec
from bplab.grade.proxy import (
    GraderFault,
    StudentObject,
    WorkerLost,
    apply_aliases,
    apply_writeback,
    neutralize,
    student_exception,
)
from bplab.grade.sandbox import Sandbox, WorkerProcess

READY_TIMEOUT = 60.0
PINNED_IDS = 1 << 30  # callback ids of stand-ins (with_globals), apart from per-call ones
_WARNINGS = {
    name: cls
    for name, cls in vars(builtins).items()
    if isinstance(cls, type) and issubclass(cls, Warning)
}


class Session:
    """A worker for one submission and the requests the grader makes of it."""

    def __init__(self, sandbox: Sandbox, call_timeout: float = 20.0, deadline: float | None = None):
        self.sandbox = sandbox
        self.call_timeout = call_timeout
        self.deadline = deadline if deadline is not None else float("inf")
        self.generation = 0
        self.restarts = 0
        self.worker: WorkerProcess | None = None
        self._callbacks: dict[int, Any] = {}
        self._pinned: dict[int, Any] = {}  # callbacks of stand-ins, alive until restored
        self._pinning = False
        self._stand_ins: list[Any] = []
        self._depth = 0
        self._call_deadline = float("inf")
        self._enc = codec.Encoder(self._reference)
        self._dec = codec.Decoder(self._handle, None)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start a worker and wait for its ``ready`` (a failure here is the grader's)."""
        self.generation += 1
        try:
            self.worker = self.sandbox.spawn()
        except OSError as exc:
            raise GraderFault(f"could not start the sandbox: {exc}") from None
        self._reader = codec.FrameReader(self.worker.from_worker)
        self._call_deadline = time.monotonic() + READY_TIMEOUT
        try:
            msg = self._receive()
        except WorkerLost as lost:
            raise GraderFault(f"the sandbox did not start ({lost.detail})") from None
        if not (type(msg) is tuple and msg and msg[0] == "ready"):
            self.close()
            raise GraderFault("the sandbox sent no ready message")
        self._call_deadline = float("inf")

    def restart(self) -> None:
        self.close()
        self.restarts += 1
        self.start()

    def close(self) -> None:
        if self.worker is not None:
            self.worker.kill()

    @property
    def alive(self) -> bool:
        return self.worker is not None and not self.worker.closed

    # ------------------------------------------------------------------ requests
    def exec_cell(self, n: int, source: str, timeout: float) -> str | None:
        """Run one cell; returns the student's error text, or None when it ran cleanly."""
        reply = self._request(("exec", n, source), timeout)
        if reply[0] == "cellerr" and len(reply) == 2 and type(reply[1]) is str:
            return neutralize(reply[1])
        if reply[0] == "ok":
            return None
        raise self._protocol("bad reply to exec")

    def names(self, names: list[str]) -> dict[str, Any]:
        reply = self._request(("names", list(names)), self.call_timeout)
        if reply[0] != "ok" or len(reply) != 2 or type(reply[1]) is not dict:
            raise self._protocol("bad reply to names")
        return {k: v for k, v in reply[1].items() if k in names}

    def getattr(self, obj: StudentObject, name: str) -> Any:
        return self._value(self._request(("getattr", self._id(obj), name), self.call_timeout))

    def op(self, obj: StudentObject, name: str, *args: Any) -> Any:
        return self._value(self._request(("op", name, self._id(obj), args), self.call_timeout))

    def call(self, obj: StudentObject, args: tuple, kwargs: dict) -> Any:
        errstate = {k: v for k, v in np.geterr().items()}
        reply = self._request(("call", self._id(obj), args, kwargs, errstate), self.call_timeout)
        if reply[0] == "ok" and len(reply) in (4, 5):
            _, result, writeback, warns = reply[:4]
            self._reemit(warns)
            if type(writeback) is not list:
                raise self._protocol("bad writeback")
            for item in writeback:
                if type(item) is not tuple or len(item) != 2:
                    raise self._protocol("bad writeback")
                where, value = item
                if type(where) is int and 0 <= where < len(args):
                    apply_writeback(args[where], value)
                elif type(where) is str and where in kwargs:
                    apply_writeback(kwargs[where], value)
            return apply_aliases(result, reply[4], args, kwargs) if len(reply) == 5 else result
        return self._value(reply)

    @contextmanager
    def with_globals(self, replacements: dict[str, Any]) -> Iterator[None]:
        """Student code sees trusted stand-ins for these names while the block runs: a grader
        function becomes a callback, a grader class a namespace of callbacks (and its plain
        constants). The objects themselves stay in the grader (``bplab_checks.callees``)."""
        spec: dict[str, tuple] = {}
        for name, value in replacements.items():
            if isinstance(value, type):
                attrs = {k: getattr(value, k) for k in vars(value) if not k.startswith("_")}
                spec[name] = ("ns", {k: v for k, v in attrs.items()
                                     if callable(v) or type(v) in (int, float, str, bool)})
            elif callable(value):
                spec[name] = ("fn", value)
        self._pinning = True
        try:
            reply = self._request(("setglobals", spec), self.call_timeout)
        finally:
            self._pinning = False
        if reply[0] != "ok":
            self._pinned.clear()
            raise GraderFault("the worker refused the trusted stand-ins")
        try:
            yield
        finally:
            if self.alive:
                self._request(("restoreglobals",), self.call_timeout)
            self._pinned.clear()

    def stand_in(self, obj: Any) -> StudentObject:
        """A worker object whose public methods call back into the grader's ``obj`` (e.g. a
        trusted optimizer handed to student code; its in-place updates are written back)."""
        name = f"_bplab_stand_in_{len(self._stand_ins) + 1}"
        methods = {k: getattr(obj, k) for k in dir(obj)
                   if not k.startswith("_") and callable(getattr(obj, k))}
        self._stand_ins.append(obj)
        self._pinning = True
        try:
            reply = self._request(("standin", {name: ("ns", methods)}), self.call_timeout)
        finally:
            self._pinning = False
        handle = self.names([name]).get(name) if reply[0] == "ok" else None
        if not isinstance(handle, StudentObject):
            raise GraderFault("the worker refused a trusted stand-in")
        return handle

    # ------------------------------------------------------------------ internals
    def _id(self, obj: StudentObject) -> int:
        if obj._session is not self or obj._generation != self.generation:
            raise WorkerLost("crash", "a student object from an earlier worker was used")
        return obj._handle

    def _value(self, reply: tuple) -> Any:
        kind = reply[0]
        if kind == "ok" and len(reply) == 2:
            return reply[1]
        if kind == "err" and len(reply) == 4 and type(reply[1]) is str and type(reply[2]) is str:
            self._reemit(reply[3])
            raise student_exception(reply[1], reply[2])
        raise self._protocol(f"unexpected reply {str(kind)[:20]!r}")

    def _reemit(self, warns: Any) -> None:
        if type(warns) is not list:
            raise self._protocol("bad warnings list")
        for item in warns[:20]:
            if type(item) is tuple and len(item) == 2 and all(type(x) is str for x in item):
                category = _WARNINGS.get(item[0], UserWarning)
                warnings.warn(neutralize(item[1]), category, stacklevel=4)

    def _reference(self, value: Any) -> tuple[bytes, int, str]:
        """Encoder hook: student objects go back as handles, grader callables as callbacks."""
        if isinstance(value, StudentObject):
            return b"h", self._id(value), ""
        if callable(value):
            if self._pinning:
                cid = PINNED_IDS + len(self._pinned) + 1
                self._pinned[cid] = value
            else:
                cid = len(self._callbacks) + 1
                self._callbacks[cid] = value
            return b"k", cid, getattr(value, "__name__", "function")[:60]
        raise codec.Unsendable(f"the grader cannot pass a {type(value).__name__} to student code")

    def _handle(self, ident: int, label: str) -> StudentObject:
        return StudentObject(self, ident, label)

    def _protocol(self, what: str) -> WorkerLost:
        self.close()
        return WorkerLost("protocol", what)

    def _request(self, msg: tuple, timeout: float) -> tuple:
        if not self.alive:
            raise WorkerLost("crash", "the worker is not running")
        outer = self._depth == 0
        if outer:
            self._call_deadline = min(time.monotonic() + timeout, self.deadline)
            self._callbacks.clear()
        self._depth += 1
        try:
            try:
                payload = self._enc.encode(msg)
            except codec.Unsendable as exc:
                raise GraderFault(str(exc), cause="test_inputs") from None
            self._send(payload)
            while True:
                reply = self._receive()
                if type(reply) is not tuple or not reply or type(reply[0]) is not str:
                    raise self._protocol("a reply is not a tagged tuple")
                if reply[0] != "cb":
                    return reply
                self._serve_callback(reply)
        finally:
            self._depth -= 1
            if outer:
                self._call_deadline = float("inf")

    def _serve_callback(self, msg: tuple) -> None:
        if len(msg) != 4 or type(msg[1]) is not int or type(msg[2]) is not tuple \
                or type(msg[3]) is not dict \
                or (msg[1] not in self._callbacks and msg[1] not in self._pinned):
            raise self._protocol("bad callback request")
        fn = self._callbacks.get(msg[1]) or self._pinned[msg[1]]
        args = msg[2]
        try:
            before = [self._enc.encode(a) for a in args]
            result = fn(*args, **{str(k): v for k, v in msg[3].items()})
            # In-place changes go back (a trusted optimizer's step updates the worker's params).
            changed = [(i, a) for i, (a, b) in enumerate(zip(args, before, strict=True))
                       if self._enc.encode(a) != b]
            payload = self._enc.encode(("ok", result, changed) if changed else ("ok", result))
        except (WorkerLost, GraderFault):
            raise
        except Exception as exc:  # noqa: BLE001 - the grader's function failed: tell the caller
            payload = self._enc.encode(("err", type(exc).__name__, str(exc)[:2000]))
        self._send(payload)

    def _send(self, payload: bytes) -> None:
        assert self.worker is not None
        try:
            codec.write_frame(self.worker.to_worker, payload)
        except (BrokenPipeError, OSError):
            raise self._lost() from None

    def _receive(self) -> Any:
        assert self.worker is not None
        try:
            frame = self._reader.read(self._wait)
            return self._dec.decode(frame)
        except codec.ProtocolError as exc:
            raise self._protocol(str(exc)) from None
        except (EOFError, OSError):
            raise self._lost() from None

    def _wait(self) -> None:
        assert self.worker is not None
        remaining = self._call_deadline - time.monotonic()
        if remaining > 0:
            poller = select.poll()
            poller.register(self.worker.from_worker, select.POLLIN | select.POLLHUP)
            if poller.poll(remaining * 1000):
                return
        self.close()
        raise WorkerLost("timeout", "the call ran past its time limit")

    def _lost(self) -> WorkerLost:
        assert self.worker is not None
        proc = self.worker.proc
        try:  # the sandbox ends right after its worker: give it a moment to say how
            code = proc.wait(timeout=0.2)
        except Exception:  # noqa: BLE001 - still running: it closed its channel
            code = None
        self.close()
        # A signal shows as a negative code, or as 128 + signal through bubblewrap.
        signum = -code if code is not None and code < 0 else (
            code - 128 if code is not None and code > 128 else 0)
        if signum:
            detail = f"the worker was killed by signal {signum}"
            if signum in (9, 24):
                detail += " (a resource limit: memory, CPU time or processes)"
        elif code is not None:
            detail = f"the worker exited (code {code})"
        else:
            detail = "the worker stopped answering"
        return WorkerLost("crash", detail)

