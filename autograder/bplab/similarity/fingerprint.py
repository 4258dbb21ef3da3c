"""Normalised tokens and winnowed fingerprints of a piece of student code (read as text only).

Contract:

- ``tokens(text, keep)`` lexes ``text`` with :mod:`tokenize` (never ``compile``, never ``exec``).
  Comments, blank lines and indentation are dropped; identifiers become ``V`` except keywords,
  builtins, well-known module names (``np``) and attribute names after a ``.`` (so ``np.sum``
  and ``np.mean`` stay apart, but renaming a variable changes nothing); numbers become ``N``
  and strings ``S`` (an f-string is one string on every Python version); operators stay. When
  :mod:`tokenize` gives up (a syntax error in the student's cell), the whole snippet is lexed by a
  plain regular expression into the same kinds, so tokens never depend on the Python version. Only
  tokens starting on a line in ``keep`` (the lines the student wrote, see ``extract``) are
  kept; each remembers its character span in ``text`` for the pair view.
- ``fingerprints(toks)`` hashes every ``K``-gram of normalised tokens with blake2b (8 bytes,
  keyed by ``SCHEME``, so fingerprints from another scheme never collide with ours by accident)
  and winnows them (Schleimer, Wilkerson and Aiken 2003, as MOSS): in every window of ``W``
  consecutive k-gram hashes the minimum is kept (the rightmost on ties). Any passage of at least
  ``W + K - 1`` equal tokens therefore shares at least one fingerprint. Hashes do not depend on
  the process (unlike Python's salted ``hash()``), so they can be stored and compared with an
  earlier cohort's.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import keyword
import re
import tokenize
from typing import NamedTuple

K = 6  # tokens per k-gram: one short statement ("V = V @ V . T" is 8)
W = 4  # winnowing window: every shared passage of >= W + K - 1 = 9 tokens is found
SCHEME = f"bplab-sim-1-k{K}-w{W}"  # bump when tokens or hashing change: old stores are refused
MAX_TOKENS = 20_000  # per snippet; a longer cell is cut here (a student can paste anything)

# Names kept as written. Spelled out rather than dir(builtins), which grows with each Python
# version: a fingerprint must not change with the interpreter that computed it.
_BUILTINS = """abs all any bool callable dict divmod enumerate filter float frozenset getattr
    hasattr isinstance issubclass iter len list map max min next object pow print range repr
    reversed round set setattr slice sorted str sum super tuple type zip
    Exception ValueError TypeError NotImplementedError RuntimeError AssertionError IndexError
    KeyError ZeroDivisionError FloatingPointError OverflowError StopIteration NotImplemented
    staticmethod classmethod property""".split()
_KEEP_NAMES = frozenset(keyword.kwlist) | frozenset(_BUILTINS) | {
    "np", "numpy", "math", "self", "cls"}
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING,
         tokenize.ENDMARKER, tokenize.TYPE_COMMENT}
# f-strings (3.12+) and t-strings (3.14+) come in parts: one string token, as on 3.11.
_STRING_START = {getattr(tokenize, n) for n in ("FSTRING_START", "TSTRING_START")
                 if hasattr(tokenize, n)}
_STRING_END = {getattr(tokenize, n) for n in ("FSTRING_END", "TSTRING_END") if hasattr(tokenize, n)}
# The fallback lexer: strings (incl. prefixes and triple quotes), numbers, names, operators.
_FALLBACK = re.compile(r"""
    (?P<comment>\#[^\n]*)
  | (?P<string>(?:[rRbBuUfF]{0,2})(?:'''[\s\S]*?(?:'''|\Z)|\"\"\"[\s\S]*?(?:\"\"\"|\Z)
                                     |'[^'\n\\]*(?:\\.[^'\n\\]*)*'?|"[^"\n\\]*(?:\\.[^"\n\\]*)*"?))
  | (?P<number>\d[\w.]*|\.\d[\w.]*)
  | (?P<name>[^\W\d]\w*)
  | (?P<newline>\n)
  | (?P<space>[ \t\f\r\\]+)
  | (?P<op>\*\*=?|//=?|>>=?|<<=?|->|:=|[-+*/%@&|^=<>!]=|\S)
""", re.VERBOSE)


class Token(NamedTuple):  # a tuple: hundreds of thousands are made per class
    """One normalised token and its ``[start, end)`` character span in the snippet's text."""

    kind: str
    start: int
    end: int


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for m in re.finditer("\n", text):
        starts.append(m.end())
    return starts


def _norm(kind: str, value: str, previous: str) -> str:
    if kind == "name":
        return value if value in _KEEP_NAMES or previous == "." else "V"
    if kind == "number":
        return "N"
    if kind == "string":
        return "S"
    if kind == "newline":
        return ";"
    return value


def _fallback(text: str, offset: int) -> list[tuple[str, str, int, int]]:
    out = []
    for m in _FALLBACK.finditer(text, offset):
        kind = m.lastgroup or "op"
        if kind not in ("comment", "space"):
            out.append((kind, m.group(), m.start(), m.end()))
    return out


def _raw_tokens(text: str) -> list[tuple[str, str, int, int]]:
    """(kind, value, start, end) for ``text``: tokenize where it can, the regex after that."""
    starts = _line_starts(text)
    out: list[tuple[str, str, int, int]] = []
    depth = 0  # inside an f-string (Python 3.12+ lexes its parts; older ones give one STRING)
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in _SKIP:
                continue
            start = starts[tok.start[0] - 1] + tok.start[1] if tok.start[0] <= len(starts) else 0
            end = starts[tok.end[0] - 1] + tok.end[1] if tok.end[0] <= len(starts) else len(text)
            if tok.type in _STRING_START or tok.type in _STRING_END or depth:
                if tok.type in _STRING_START:
                    if not depth:
                        out.append(("string", tok.string, start, end))
                    depth += 1
                elif tok.type in _STRING_END:
                    depth -= 1
                    if not depth:
                        out[-1] = ("string", out[-1][1], out[-1][2], end)
                continue
            kind = {tokenize.NAME: "name", tokenize.NUMBER: "number", tokenize.STRING: "string",
                    tokenize.NEWLINE: "newline"}.get(tok.type, "op")
            if tok.type == tokenize.OP or kind != "op":
                out.append((kind, tok.string or "\n", start, max(end, start)))
            if len(out) >= MAX_TOKENS:
                return out
    except (tokenize.TokenError, SyntaxError, ValueError):  # IndentationError is a SyntaxError
        # Where tokenize gives up differs between Python versions: lex the whole text again,
        # so that stored fingerprints do not depend on the version.
        out = _fallback(text, 0)
    return out[:MAX_TOKENS]


def tokens(text: str, keep: set[int] | None = None) -> list[Token]:
    """The normalised tokens of ``text`` that lie on a 0-based line in ``keep`` (all if None).

    Lines outside ``keep`` are blanked and every kept line is lexed without its indentation
    (so that dropped lines can never make a kept one an indentation error); each token's span
    is mapped back to ``text``. Statement ends (``;``) are kept only after another token.
    """
    lines = text.split("\n")
    starts = _line_starts(text)
    lead, flat_lines = [], []
    for number, line in enumerate(lines):
        if keep is None or number in keep:
            stripped = line.lstrip()
            lead.append(len(line) - len(stripped))
            flat_lines.append(stripped)
        else:
            lead.append(0)
            flat_lines.append("")
    flat = "\n".join(flat_lines)
    flat_starts = _line_starts(flat)

    def original(offset: int) -> int:
        row = bisect.bisect_right(flat_starts, offset) - 1
        return starts[row] + lead[row] + offset - flat_starts[row]

    out: list[Token] = []
    previous = ""
    for kind, value, start, end in _raw_tokens(flat):
        norm = _norm(kind, value, previous)
        previous = value
        if norm == ";" and (not out or out[-1].kind == ";"):
            continue
        begin = original(start)
        out.append(Token(norm, begin, max(begin, original(max(end - 1, start)) + 1)))
    return out


def _hash(gram: tuple[str, ...]) -> int:
    digest = hashlib.blake2b("\x1f".join(gram).encode(), digest_size=8, key=SCHEME.encode())
    return int.from_bytes(digest.digest(), "big")


def kgram_hashes(toks: list[Token]) -> list[int]:
    """The hash of every k-gram of ``toks``, by position of its first token."""
    kinds = [t.kind for t in toks]
    return [_hash(tuple(kinds[i:i + K])) for i in range(len(kinds) - K + 1)]


def fingerprints(toks: list[Token]) -> list[tuple[int, int]]:
    """Winnowed ``(hash, position)`` pairs of ``toks``; position = index of the k-gram's first
    token. A snippet shorter than ``K`` tokens has none; shorter than ``W + K - 1``, one."""
    hashes = kgram_hashes(toks)
    if not hashes:
        return []
    if len(hashes) <= W:
        i = min(range(len(hashes)), key=lambda j: (hashes[j], -j))
        return [(hashes[i], i)]
    picked: list[tuple[int, int]] = []
    last = -1
    for left in range(len(hashes) - W + 1):
        window = range(left, left + W)
        i = min(window, key=lambda j: (hashes[j], -j))  # rightmost minimum
        if i != last:
            picked.append((hashes[i], i))
            last = i
    return picked
