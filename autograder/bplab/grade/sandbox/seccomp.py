"""The seccomp filter loaded before any student code: kernel surface a worker never needs.

Built with libseccomp (the C library, through ctypes: its own Python binding is not on PyPI,
only in distribution packages for the system interpreter) and exported as a classic BPF
program. The default action is to allow; these calls fail with ``EPERM``:

- memory that ``RLIMIT_AS`` does not count: ``memfd_create``, ``memfd_secret``, SysV shm;
- new namespaces: ``unshare``, ``setns``, and ``clone`` with any ``CLONE_NEW*`` flag
  (``clone3``, whose flags live in memory a filter cannot read, fails with ``ENOSYS`` so
  the C library falls back to ``clone``);
- other kernel attack surface: mounts, ``ptrace`` and ``process_vm_*``, keyrings, ``bpf``,
  ``perf_event_open``, ``userfaultfd``, ``io_uring``, module loading, ``kexec``.

``program()`` gives the compiled filter as bytes: bubblewrap loads it (``--seccomp FD``) just
before it executes the worker; ``load(program())`` installs it in the calling process
(``PR_SET_NO_NEW_PRIVS`` then ``PR_SET_SECCOMP``), for a zygote's forked children.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import os

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_MASKED_EQ = 7
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

REFUSED = (
    "memfd_create", "memfd_secret", "shmget", "shmat", "shmctl",
    "unshare", "setns",
    "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount", "fspick",
    "move_mount", "open_tree", "mount_setattr", "open_by_handle_at",
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
    "keyctl", "add_key", "request_key",
    "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
)
CLONE_NEW_FLAGS = (0x00000080, 0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000,
                   0x20000000, 0x40000000)  # TIME, NS, CGROUP, UTS, IPC, USER, PID, NET


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class SeccompUnavailable(OSError):
    """libseccomp is missing, or cannot build the filter on this machine."""


def _errno_action(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)  # SCMP_ACT_ERRNO(code)


def _lib() -> ctypes.CDLL:
    name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError as exc:
        raise SeccompUnavailable(f"libseccomp not found ({exc})") from None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(_ArgCmp)]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    return lib


@functools.lru_cache(maxsize=1)
def program() -> bytes:
    """The compiled filter (struct sock_filter[], 8 bytes each); raises SeccompUnavailable."""
    lib = _lib()
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        raise SeccompUnavailable("seccomp_init failed")
    try:
        def rule(name: str, action: int, *cmps: _ArgCmp) -> None:
            nr = lib.seccomp_syscall_resolve_name(name.encode())
            if nr < 0:
                return  # not a call on this architecture (or too new for this libseccomp)
            arr = (_ArgCmp * len(cmps))(*cmps) if cmps else None
            rc = lib.seccomp_rule_add_array(ctx, action, nr, len(cmps), arr)
            if rc < 0:
                raise SeccompUnavailable(f"cannot add the rule for {name}: {os.strerror(-rc)}")

        for name in REFUSED:
            rule(name, _errno_action(errno.EPERM))
        for flag in CLONE_NEW_FLAGS:
            rule("clone", _errno_action(errno.EPERM), _ArgCmp(0, SCMP_CMP_MASKED_EQ, flag, flag))
        rule("clone3", _errno_action(errno.ENOSYS))
        r, w = os.pipe()
        try:
            rc = lib.seccomp_export_bpf(ctx, w)
            os.close(w)
            w = -1
            if rc < 0:
                raise SeccompUnavailable(f"seccomp_export_bpf failed: {os.strerror(-rc)}")
            chunks = []
            while chunk := os.read(r, 65536):
                chunks.append(chunk)
        finally:
            os.close(r)
            if w >= 0:
                os.close(w)
    finally:
        lib.seccomp_release(ctx)
    data = b"".join(chunks)
    if not data or len(data) % 8:
        raise SeccompUnavailable("libseccomp exported no program")
    return data


def program_fd() -> int:
    """A readable fd holding ``program()`` (a pipe: bubblewrap reads it to the end)."""
    data = program()
    r, w = os.pipe()
    try:
        os.write(w, data)  # a few hundred bytes: well within a pipe's buffer
    finally:
        os.close(w)
    return r


def load(data: bytes) -> None:
    """Install a compiled filter in this process (and every child it forks from now on)."""
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(data, len(data))
    prog = _SockFprog(len(data) // 8, ctypes.cast(buf, ctypes.c_void_p))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS failed")
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_SECCOMP failed")
