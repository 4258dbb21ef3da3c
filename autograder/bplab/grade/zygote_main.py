"""The zygote: one per grader slot, inside that slot's bubblewrap; forks a worker per submission.

Started as ``python -I -S zygote_main.py CTRL_FD`` by ``sandbox.zygote`` (exec'd fresh, never
forked from the grader: nothing of the grader's memory, the hidden tests included, is here).
It imports numpy and the worker's modules once, compiles ``worker.py`` once, and then serves
requests on ``CTRL_FD`` (a ``SOCK_SEQPACKET`` socket; one message each, a tag byte then JSON):

- ``C`` (config, first): limits, site directories, the seccomp program (hex), the data folder.
  Reply ``R`` {"threads"}: the zygote stays single-threaded (``fork`` copies one thread only).
- ``S`` {"seq", "uid", "mode"} with two fds (SCM_RIGHTS: the worker's request and reply pipe
  ends, fresh for each child). A child is made (``_child``); on success it sends ``P`` {"seq"}
  itself, so the kernel attaches its credentials: its pid translated into the grader's pid
  namespace and its uid (proof of the uid drop). On failure ``E`` {"seq", "error"}.
- ``W`` {"seq"}: reap that child, reply ``X`` {"seq", "status"}. Children are reaped only when
  asked, so a child's pid is never reused before the grader holds a pidfd for it.

Each child, in this order, before any student code: new pid (it is pid 1: killing it kills
everything it started), mount, network, ipc and uts namespaces; mounts made private, then a
fresh sized tmpfs as ``/tmp`` (its working directory) and ``/dev/shm``, the data folder bound
read-only into it, a ``/proc`` of its own pid namespace; rlimits; its own uid (every
capability goes with root); ``PR_SET_NO_NEW_PRIVS`` and the seccomp filter; stdio on
``/dev/null``; every fd closed but its two pipes; numpy's and ``random``'s generators reseeded.
Then it runs the unchanged ``worker.py`` as ``__main__``. A step that fails is reported, never
skipped (``omit`` exists only so the tests can show each check catches the step's absence).
"""

import ctypes
import gc
import json
import os
import random
import socket
import sys

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS, PR_SET_CHILD_SUBREAPER = 38, 36
HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "worker.py")
LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                       ctypes.c_char_p]


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _enc(s):
    return s.encode() if isinstance(s, str) else s


def _mount(src, target, fstype, flags, data=None) -> None:
    _check(LIBC.mount(_enc(src), _enc(target), _enc(fstype), flags, _enc(data)),
           f"mount {target}")


def _send(ctrl: socket.socket, tag: bytes, body: dict) -> None:
    ctrl.send(tag + json.dumps(body).encode())


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


class Zygote:
    def __init__(self, ctrl: socket.socket, config: dict):
        self.ctrl = ctrl
        self.limits = config["limits"]
        self.site = config["site"]
        self.program = bytes.fromhex(config["seccomp"]) if config["seccomp"] else None
        self.data = config["data"]
        self.omit = set(config.get("omit", ()))
        self.keep = list(config.get("keep", ()))
        self.children: dict[int, int] = {}  # seq -> pid (in this pid namespace)
        sys.path[:0] = [os.path.join(HERE, "stubs"), HERE, *self.site]
        # What the worker imports, imported once here (the point of the zygote).
        import linecache  # noqa: F401
        import traceback  # noqa: F401
        import warnings  # noqa: F401

        import codec  # noqa: F401
        import limits
        import mutation  # noqa: F401
        import numpy  # noqa: F401
        import numpy.random  # noqa: F401 - lazy in numpy: loaded here, reseeded per child
        import seccomp
        self.limits_mod, self.seccomp_mod = limits, seccomp
        del sys.path[:2 + len(self.site)]
        with open(WORKER, encoding="utf-8") as f:
            self.code = compile(f.read(), WORKER, "exec")
        # Orphans of a child's middle process (the child itself) become ours to reap.
        _check(LIBC.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "PR_SET_CHILD_SUBREAPER")
        gc.collect()
        gc.freeze()  # children share these pages instead of copying them on the first gc

    def serve(self) -> None:
        _send(self.ctrl, b"R", {"threads": _threads()})
        while True:
            msg, fds, _, _ = socket.recv_fds(self.ctrl, 65536, 2)
            if not msg:
                return  # the grader closed its end
            tag, body = msg[:1], json.loads(msg[1:])
            if tag == b"S" and len(fds) == 2:
                self.spawn(body, fds)
            elif tag == b"W":
                pid = self.children.pop(body["seq"], None)
                status = os.waitpid(pid, 0)[1] if pid is not None else -1
                _send(self.ctrl, b"X", {"seq": body["seq"], "status": status})
            else:
                for fd in fds:
                    os.close(fd)
                _send(self.ctrl, b"E", {"seq": body.get("seq"), "error": "bad request"})

    def spawn(self, body: dict, fds: list[int]) -> None:
        seq = body["seq"]
        if _threads() != 1:  # fork would copy one thread of several: refuse, loudly
            for fd in fds:
                os.close(fd)
            _send(self.ctrl, b"E", {"seq": seq, "error": "the zygote is not single-threaded"})
            return
        r, w = os.pipe()
        middle = os.fork()
        if middle == 0:  # the middle process: new namespaces, then the child in them
            try:
                os.close(r)
                _check(LIBC.unshare(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC
                                    | CLONE_NEWUTS), "unshare")
                pid = os.fork()
                if pid == 0:
                    os.close(w)
                    self._child(seq, body, fds)  # never returns
                os.write(w, b"%d" % pid)
                os._exit(0)
            except BaseException as exc:  # noqa: BLE001 - reported, then gone
                try:
                    os.write(w, b"!" + str(exc).encode()[:2000])
                finally:
                    os._exit(1)
        os.close(w)
        for fd in fds:
            os.close(fd)
        os.waitpid(middle, 0)
        with os.fdopen(r, "rb") as f:
            said = f.read()
        if said[:1].isdigit():
            self.children[seq] = int(said)  # reparented to us (subreaper) as the middle ended
        else:
            _send(self.ctrl, b"E", {"seq": seq, "error": said[1:].decode(errors="replace")})

    def _child(self, seq: int, body: dict, fds: list[int]) -> None:
        code = 1
        try:
            self._isolate(body, fds)
            _send(self.ctrl, b"P", {"seq": seq})
            if body.get("mode") == "probe":
                os._exit(0)
            self._close_fds(fds)
            if "reseed" not in self.omit:
                import numpy
                numpy.random.seed()
                random.seed()
            code = self._run_worker(fds)
        except BaseException as exc:  # noqa: BLE001 - the grader hears why, as a grader fault
            try:
                _send(self.ctrl, b"E", {"seq": seq, "error": f"{type(exc).__name__}: {exc}"})
            except OSError:
                pass
        finally:
            os._exit(code)

    def _isolate(self, body: dict, fds: list[int]) -> None:
        lim = self.limits
        os.setsid()
        _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing we mount reaches the zygote
        if "tmpfs" not in self.omit:
            flags = MS_NOSUID | MS_NODEV
            # The interpreter's directories under /tmp (a venv in a CI clone), held open so
            # that they can be bound again on top of the fresh /tmp (still read-only).
            held = [(d, os.open(d, os.O_PATH | os.O_DIRECTORY)) for d in self.keep]
            _mount("tmpfs", "/tmp", "tmpfs", flags, f"size={lim['tmp_bytes']},mode=1777")
            for d, fd in held:
                os.makedirs(d, 0o755, exist_ok=True)
                _mount(f"/proc/self/fd/{fd}", d, None, MS_BIND | MS_REC)
                _mount(None, d, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
                os.close(fd)
            _mount("tmpfs", "/dev/shm", "tmpfs", flags, f"size={lim['dev_bytes']},mode=1777")
            if self.data:
                os.mkdir("/tmp/data", 0o755)
                _mount(self.data, "/tmp/data", None, MS_BIND | MS_REC)
                _mount(None, "/tmp/data", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID
                       | MS_NODEV)
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        os.chdir("/tmp")
        limits = self.limits_mod
        uid = body["uid"] if body["uid"] >= 0 and "uid" not in self.omit else None
        limits.apply_limits(limits.Limits(**lim), uid, die_with_parent=False)
        if "seccomp" not in self.omit:
            if self.program is not None:
                self.seccomp_mod.load(self.program)  # no_new_privs, then the filter
            else:
                _check(LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")
        null = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.close(null)

    def _close_fds(self, fds: list[int]) -> None:
        """Every fd but stdio (on /dev/null) and the two pipes: the control socket included."""
        if "close_fds" in self.omit:
            return
        self.ctrl.detach()
        keep = {0, 1, 2, *fds}
        for fd in [int(x) for x in os.listdir("/proc/self/fd")]:  # this child's own /proc
            if fd not in keep:
                try:
                    os.close(fd)
                except OSError:
                    pass  # the directory's own fd, already closed

    def _run_worker(self, fds: list[int]) -> int:
        for name in ("limits", "seccomp"):  # ours, not the student's: free their names
            sys.modules.pop(name, None)
        sys.argv = [WORKER, str(fds[0]), str(fds[1]), "-1", *self.site]
        module = type(sys)("__main__")
        module.__file__ = WORKER
        sys.modules["__main__"] = module
        try:
            exec(self.code, module.__dict__)  # noqa: S102 - our worker.py, compiled at start
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
        return 0


def main() -> None:
    ctrl = socket.socket(fileno=int(sys.argv[1]))
    msg = ctrl.recv(65536)
    if msg[:1] != b"C":
        sys.exit(2)
    Zygote(ctrl, json.loads(msg[1:])).serve()


if __name__ == "__main__":
    main()
