"""One submission's worker, seen from the trusted grader: requests, replies and callbacks.

``Session`` owns a running worker (see ``sandbox``) and speaks the protocol of ``worker``. Every
wait, for a reply and for room in the pipe to the worker alike, is bounded by the per-call
timeout and by the submission's absolute deadline; when either passes, or the worker dies or
sends a malformed message, the worker is killed and ``WorkerLost`` is raised. A worker that
stops reading its requests is therefore that call's timeout, never a hang of the grader.
``restart()`` gives a fresh worker (the caller replays the notebook cells); under a zygote that
is a fork. A worker lost because its sandbox failed (the slot's zygote died) is a
``GraderFault``, never the student's crash.

Every string the worker sends is cleaned as it is decoded (``text.clean``: printable UTF-8, no
diagnosis tag), and the messages passed on (cell errors, exceptions, warnings) are capped per
item and charged to one budget per submission (``text.TextBudget``), so a record's size does
not grow with what the student's code prints or raises. Callback ids are never reused within
a session: a callback stub the student kept from an earlier request names nothing.
"""

from __future__ import annotations

import builtins
import os
import select
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from bplab.grade import codec, mutation, text
from bplab.grade.proxy import (
    GraderFault,
    StudentObject,
    WorkerLost,
    apply_aliases,
    apply_writeback,
    student_exception,
)
from bplab.grade.sandbox import Sandbox, Worker

READY_TIMEOUT = 60.0
_WARNINGS = {
    name: cls
    for name, cls in vars(builtins).items()
    if isinstance(cls, type) and issubclass(cls, Warning)
}


MAX_CALLBACKS = 100_000  # grader functions and block classes one worker may hold


def _static_method(cls: Any, name: str) -> Any:
    """``cls.name`` when ``cls`` is a class whose own (or base's) dict defines ``name`` as a
    static method: all that student code may call on a grader block (``block.forward(X)``)."""
    if isinstance(cls, type) and not name.startswith("_"):
        for klass in cls.__mro__[:-1]:
            if isinstance(vars(klass).get(name), staticmethod):
                return getattr(cls, name)
    raise AttributeError(f"{getattr(cls, '__name__', 'grader function')} has no method {name!r}")


class Session:
    """A worker for one submission and the requests the grader makes of it."""

    def __init__(self, sandbox: Sandbox, call_timeout: float = 20.0, deadline: float | None = None):
        self.sandbox = sandbox
        self.call_timeout = call_timeout
        self.deadline = deadline if deadline is not None else float("inf")
        self.generation = 0
        self.restarts = 0
        self.worker: Worker | None = None
        self._callbacks: dict[int, Any] = {}
        self._callback_ids: dict[int, int] = {}  # id(grader object) -> its callback id
        self._stand_ins = 0  # trusted objects handed to student code (names in the worker)
        self._depth = 0
        self._call_deadline = float("inf")
        self._enc = codec.Encoder(self._reference)
        self._dec = codec.Decoder(self._handle, None, text=text.clean)
        self.budget = text.TextBudget()
        self._errstate: dict | None = None  # the np.errstate the worker has from our last call
        self._readable = self._writable = select.poll()  # one of each per worker (``start``)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start a worker and wait for its ``ready`` (a failure here is the grader's)."""
        self.generation += 1
        self._callbacks.clear()
        self._callback_ids.clear()
        try:
            self.worker = self.sandbox.spawn()
        except OSError as exc:
            raise GraderFault(f"could not start the sandbox: {exc}") from None
        self._reader = codec.FrameReader(self.worker.from_worker)
        os.set_blocking(self.worker.to_worker, False)  # sends wait in poll, under a deadline
        self._errstate = None
        self._readable, self._writable = select.poll(), select.poll()
        self._readable.register(self.worker.from_worker, select.POLLIN | select.POLLHUP)
        self._writable.register(self.worker.to_worker, select.POLLOUT | select.POLLHUP)
        self._call_deadline = min(time.monotonic() + READY_TIMEOUT, self.deadline)
        try:
            msg = self._receive()
        except WorkerLost as lost:
            if time.monotonic() >= self.deadline:
                raise  # the submission's time is up: not the sandbox's fault
            raise GraderFault(f"the sandbox did not start ({lost.detail})") from None
        if not (type(msg) is tuple and msg and msg[0] == codec.READY):
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
        """Run one cell; returns the student's error text, or None when it ran cleanly.

        A cell too large to send is the cell's error (the student's), not a grader fault.
        """
        if len(source) > codec.MAX_FRAME // 4 and len(source.encode("utf-8", "surrogatepass")) \
                > codec.MAX_FRAME - 1024:
            return self.budget.take(f"cell {n}: the cell is too large to run "
                                    f"(more than {codec.MAX_FRAME // 2**20} MiB)")
        reply = self._request((codec.EXEC, n, source), timeout)
        if reply[0] == codec.CELLERR and len(reply) == 2 and type(reply[1]) is str:
            return self.budget.take(reply[1])
        if reply[0] == codec.OK:
            return None
        raise self._protocol("bad reply to exec")

    def names(self, names: list[str]) -> dict[str, Any]:
        reply = self._request((codec.NAMES, list(names)), self.call_timeout)
        if reply[0] != codec.OK or len(reply) != 2 or type(reply[1]) is not dict:
            raise self._protocol("bad reply to names")
        return {k: v for k, v in reply[1].items() if k in names}

    def getattr(self, obj: StudentObject, name: str) -> Any:
        return self._value(self._request((codec.GETATTR, self._id(obj), name),
                                         self.call_timeout))

    def op(self, obj: StudentObject, name: str, *args: Any) -> Any:
        return self._value(self._request((codec.OP, name, self._id(obj), args),
                                         self.call_timeout))

    def call(self, obj: StudentObject, args: tuple, kwargs: dict) -> Any:
        # The errstate crosses only when it differs from the last call's (the worker keeps it).
        errstate: dict | None = dict(np.geterr())
        if errstate == self._errstate:
            errstate = None
        else:
            self._errstate = errstate
        try:
            reply = self._request((codec.CALL, self._id(obj), args, kwargs, errstate),
                                  self.call_timeout)
        except GraderFault:  # perhaps never sent: send the errstate again next time
            self._errstate = None
            raise
        if reply[0] == codec.OK and len(reply) in (4, 5):
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
        reply = self._request((codec.SETGLOBALS, spec), self.call_timeout)
        if reply[0] != codec.OK:
            raise GraderFault("the worker refused the trusted stand-ins")
        try:
            yield
        finally:
            if self.alive:
                self._request((codec.RESTOREGLOBALS,), self.call_timeout)

    def stand_in(self, obj: Any) -> StudentObject:
        """A worker object whose public methods call back into the grader's ``obj`` (e.g. a
        trusted optimizer handed to student code; its in-place updates are written back)."""
        self._stand_ins += 1
        name = f"_bplab_stand_in_{self._stand_ins}"
        methods = {k: getattr(obj, k) for k in dir(obj)
                   if not k.startswith("_") and callable(getattr(obj, k))}
        reply = self._request((codec.STANDIN, {name: ("ns", methods)}), self.call_timeout)
        handle = self.names([name]).get(name) if reply[0] == codec.OK else None
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
        if kind == codec.OK and len(reply) == 2:
            return reply[1]
        if kind == codec.ERR and len(reply) == 4 and type(reply[1]) is str \
                and type(reply[2]) is str:
            self._reemit(reply[3])
            # The type name is capped, not charged: a spent budget must not change the type.
            raise student_exception(text.cap(reply[1], text.LABEL_LIMIT),
                                    self.budget.take(reply[2]))
        raise self._protocol(f"unexpected reply {str(kind)[:20]!r}")

    def _reemit(self, warns: Any) -> None:
        if type(warns) is not list:
            raise self._protocol("bad warnings list")
        for item in warns[:20]:
            if type(item) is tuple and len(item) == 2 and all(type(x) is str for x in item):
                category = _WARNINGS.get(item[0], UserWarning)
                warnings.warn(self.budget.take(item[1]), category, stacklevel=4)

    def _reference(self, value: Any) -> tuple[bytes, int, str]:
        """Encoder hook: student objects go back as handles, grader callables as callbacks."""
        if isinstance(value, StudentObject):
            return b"h", self._id(value), ""
        if callable(value):
            # One id per object for the worker's lifetime: a block class handed to a student's
            # Graph in one call is called back in later ones (hw3).
            cid = self._callback_ids.get(id(value))
            if cid is None or self._callbacks.get(cid) is not value:
                if len(self._callbacks) >= MAX_CALLBACKS:
                    raise codec.Unsendable("too many grader functions passed to student code")
                cid = len(self._callbacks) + 1
                self._callbacks[cid] = value
                self._callback_ids[id(value)] = cid
            return b"k", cid, str(getattr(value, "__name__", "function"))[:60]
        raise codec.Unsendable(f"the grader cannot pass a {type(value).__name__} to student code")

    def _handle(self, ident: int, label: str) -> StudentObject:
        return StudentObject(self, ident, label[: text.LABEL_LIMIT])  # cleaned by the decoder

    def _protocol(self, what: str) -> WorkerLost:
        self.close()
        return WorkerLost("protocol", what)

    def _request(self, msg: tuple, timeout: float) -> tuple:
        if not self.alive:
            raise WorkerLost("crash", "the worker is not running")
        outer = self._depth == 0
        if outer:
            self._call_deadline = min(time.monotonic() + timeout, self.deadline)
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
                if reply[0] != codec.CALLBACK:
                    return reply
                self._serve_callback(reply)
        finally:
            self._depth -= 1
            if outer:
                self._call_deadline = float("inf")

    def _serve_callback(self, msg: tuple) -> None:
        if len(msg) not in (4, 5) or type(msg[1]) is not int or type(msg[2]) is not tuple \
                or type(msg[3]) is not dict or msg[1] not in self._callbacks \
                or (len(msg) == 5 and type(msg[4]) is not str):
            raise self._protocol("bad callback request")
        fn = self._callbacks[msg[1]]  # membership checked above
        try:
            if len(msg) == 5:
                fn = _static_method(fn, msg[4])
            args = msg[2]
            before = mutation.Args(args, {}, refs=(StudentObject,), whole=True)
            result = fn(*args, **{str(k): v for k, v in msg[3].items()})
            # In-place changes go back (a trusted optimizer's step updates the worker's params).
            changed = before.changed(self._enc.encode)
            payload = self._enc.encode((codec.OK, result, changed) if changed
                                       else (codec.OK, result))
        except (WorkerLost, GraderFault):
            raise
        except Exception as exc:  # noqa: BLE001 - the grader's function failed: tell the caller
            payload = self._enc.encode((codec.ERR, type(exc).__name__, str(exc)[:2000]))
        self._send(payload)

    def _send(self, payload: bytes) -> None:
        assert self.worker is not None
        try:
            codec.write_frame(self.worker.to_worker, payload, self._wait_writable)
        except codec.Unsendable as exc:  # more than a frame: what the test file sends
            raise GraderFault(str(exc), cause="test_inputs") from None
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
        self._poll(self._readable)

    def _wait_writable(self) -> None:
        self._poll(self._writable)

    def _poll(self, poller: select.poll) -> None:
        """Return once the pipe is ready (or hung up); past the call's deadline, lose the worker."""
        remaining = self._call_deadline - time.monotonic()
        if remaining > 0:
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
        fault = self.worker.grader_fault()
        self.close()
        if fault is not None:  # e.g. the slot's zygote died: not the student's doing
            raise GraderFault(fault)
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

