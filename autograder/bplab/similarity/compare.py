"""Rank pairs of students by how much of what they wrote they share, per question and overall.

Contract:

- Each student's question is a set of winnowed fingerprints (``fingerprint``) of the lines they
  wrote; fingerprints that also occur in the template are dropped when the code is prepared.
  Fingerprints held by more than ``max(COMMON_MIN, COMMON_SHARE * n)`` of the question's ``n``
  students are *common* (canonical answers converge: ``dA = dout @ B.T``) and count nowhere.
- ``similarity`` of a pair on a question = Dice coefficient of the two sets,
  ``2 |A & B| / (|A| + |B|)`` in [0, 1]; on the whole notebook (question ``*``) the counts are
  summed over questions first. ``matched_tokens`` = tokens covered by shared fingerprints
  (k-grams), the smaller of the two sides, summed over questions for ``*``.
- ``shared_diagnosis``: diagnosis codes both students were given on the same question that are
  *rare* (given to at most ``max(RARE_MIN, RARE_SHARE * n)`` of this class): shared wrong code
  is the strong signal. A pair's rank key is ``similarity * (1 + RARE_BONUS)`` when it shares
  one (else ``similarity``), then ``matched_tokens``.
- With an earlier cohort, pairs are this class x this class and this class x earlier, never
  earlier x earlier. At most ``limit`` pairs per question (and for ``*``) are kept, the most
  similar first. Pair counts are one matrix product per question (numpy), so 500 students take
  seconds.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import numpy as np

from bplab.similarity.extract import Snippet
from bplab.similarity.fingerprint import K, Token, fingerprints, kgram_hashes, tokens

COMMON_MIN, COMMON_SHARE = 3, 0.5
RARE_MIN, RARE_SHARE = 2, 0.1
RARE_BONUS = 0.25
MIN_SIMILARITY = 0.1
WHOLE = "*"


@dataclass
class Code:
    """One student's snippet for one question, with its winnowed ``(hash, position)`` prints
    (in position order)."""

    snippet: Snippet
    prints: list[tuple[int, int]]
    _tokens: list[Token] | None = None

    @property
    def tokens(self) -> list[Token]:
        """The kept tokens (recomputed from the text when the code came from a store)."""
        if self._tokens is None:
            self._tokens = tokens(self.snippet.text, set(self.snippet.written))
        return self._tokens

    @functools.cached_property
    def hashes(self) -> frozenset[int]:
        return frozenset(h for h, _ in self.prints)


def prepare(snippet: Snippet, template_hashes: set[int]) -> Code:
    """A snippet's tokens and fingerprints, without those the template also has."""
    toks = tokens(snippet.text, set(snippet.written))
    prints = [(h, p) for h, p in fingerprints(toks) if h not in template_hashes]
    return Code(snippet, prints, toks)


def template_hashes(stub: str) -> set[int]:
    """Every k-gram hash of a template (not only the winnowed ones)."""
    return set(kgram_hashes(tokens(stub)))


@dataclass
class Student:
    """A submission's codes per question and diagnoses; ``cohort`` is '' for this class."""

    stem: str
    codes: dict[str, Code]
    diagnoses: dict[str, list[str]] = field(default_factory=dict)
    cohort: str = ""

    @property
    def label(self) -> str:
        return f"{self.cohort}/{self.stem}" if self.cohort else self.stem


@dataclass
class Pair:
    """One row of ``similarity.csv``; ``a`` and ``b`` index the students list."""

    a: int
    b: int
    question: str
    similarity: float
    matched_tokens: int
    shared_diagnosis: list[str]

    @property
    def key(self) -> tuple[float, int]:
        bonus = 1 + RARE_BONUS if self.shared_diagnosis else 1
        return (self.similarity * bonus, self.matched_tokens)


def matched_spans(mine: Code, shared: AbstractSet[int]) -> list[tuple[int, int]]:
    """Merged ``[start, stop)`` token ranges of ``mine`` covered by k-grams in ``shared``."""
    spans: list[tuple[int, int]] = []
    for h, p in mine.prints:  # in position order, as winnowing makes them
        if h not in shared:
            continue
        if spans and p <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], p + K))
        else:
            spans.append((p, p + K))
    return spans


def shared_hashes(a: Code, b: Code, common: AbstractSet[int]) -> AbstractSet[int]:
    return (a.hashes & b.hashes) - common


def _covered(spans: list[tuple[int, int]]) -> int:
    return sum(stop - start for start, stop in spans)


def rare_codes(students: list[Student]) -> set[str]:
    """Diagnosis codes given to few students of this class (see the module docstring)."""
    current = [s for s in students if not s.cohort]
    counts = Counter(c for s in current for c in {c for cs in s.diagnoses.values() for c in cs})
    limit = max(RARE_MIN, RARE_SHARE * len(current))
    return {c for c, n in counts.items() if n <= limit}


@dataclass
class Comparison:
    """Ranked pairs, plus what the pair view needs: each question's common fingerprints."""

    students: list[Student]
    questions: list[str]
    pairs: list[Pair]
    common: dict[str, set[int]]

    def spans(self, pair: Pair, question: str) -> tuple[tuple[list, list], tuple[list, list]]:
        """Token ranges of ``pair`` on ``question`` (in a's code, in b's): matched, then shared
        but common in the class."""
        a, b = self.students[pair.a].codes.get(question), self.students[pair.b].codes.get(question)
        if a is None or b is None:
            return ([], []), ([], [])
        common = self.common.get(question, set())
        shared = shared_hashes(a, b, common)
        both_common = (a.hashes & b.hashes) & common
        return ((matched_spans(a, shared), matched_spans(b, shared)),
                (matched_spans(a, both_common), matched_spans(b, both_common)))


def compare(students: list[Student], questions: list[str], limit: int = 2000) -> Comparison:
    """Every pair worth a look, best first within each question; ``*`` rows come first."""
    n = len(students)
    allowed = np.triu(np.ones((n, n), dtype=bool), 1)
    earlier = np.array([bool(s.cohort) for s in students], dtype=bool)
    allowed &= ~(earlier[:, None] & earlier[None, :])
    total_shared = np.zeros((n, n), dtype=np.float64)
    total_size = np.zeros(n, dtype=np.float64)
    common: dict[str, set[int]] = {}
    per_question: dict[str, np.ndarray] = {}
    for q in questions:
        rows = [i for i, s in enumerate(students) if q in s.codes and s.codes[q].prints]
        df = Counter(h for i in rows for h in students[i].codes[q].hashes)
        cap = max(COMMON_MIN, COMMON_SHARE * len(rows))
        common[q] = {h for h, c in df.items() if c > cap}
        vocab = {h: j for j, h in enumerate(h for h, c in df.items() if 2 <= c <= cap)}
        m = np.zeros((n, len(vocab)), dtype=np.float32)  # counts stay exact below 2**24
        size = np.zeros(n, dtype=np.float64)
        for i in rows:
            kept = students[i].codes[q].hashes - common[q]
            size[i] = len(kept)
            m[i, [vocab[h] for h in kept if h in vocab]] = 1.0
        shared = (m @ m.T).astype(np.float64)
        total_shared += shared
        total_size += size
        per_question[q] = _dice(shared, size)
    rare = rare_codes(students)
    pairs: list[Pair] = []
    matched_cache: dict[tuple[int, int, str], int] = {}

    def matched(i: int, j: int, q: str) -> int:
        if (i, j, q) not in matched_cache:
            a, b = students[i].codes.get(q), students[j].codes.get(q)
            if a is None or b is None:
                matched_cache[(i, j, q)] = 0
            else:
                s = shared_hashes(a, b, common[q])
                matched_cache[(i, j, q)] = min(_covered(matched_spans(a, s)),
                                               _covered(matched_spans(b, s)))
        return matched_cache[(i, j, q)]

    def shared_dx(i: int, j: int, q: str) -> list[str]:
        da, db = students[i].diagnoses.get(q, []), students[j].diagnoses.get(q, [])
        return sorted(set(da) & set(db) & rare)

    for q, dice in [(WHOLE, _dice(total_shared, total_size)), *per_question.items()]:
        found: list[Pair] = []
        for i, j in _best(dice, allowed, limit):
            if q == WHOLE:
                tokens_ = sum(matched(i, j, x) for x in questions)
                dx = [f"{x}:{c}" for x in questions for c in shared_dx(i, j, x)]
            else:
                tokens_, dx = matched(i, j, q), shared_dx(i, j, q)
            if tokens_:
                found.append(Pair(i, j, q, round(float(dice[i, j]), 3), tokens_, dx))
        pairs += sorted(found, key=lambda p: p.key, reverse=True)
    return Comparison(students, questions, pairs, common)


def _dice(shared: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Dice coefficients (n, n) from shared counts (n, n) and set sizes (n,); 0 where both are
    empty."""
    denominator = size[:, None] + size[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, 2 * shared / np.maximum(denominator, 1), 0.0)


def _best(dice: np.ndarray, allowed: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """Up to ``limit`` index pairs (i, j) where ``allowed`` (n, n) holds and ``dice`` (n, n) is
    at least ``MIN_SIMILARITY``, the most similar ones when there are more."""
    score = np.where(allowed & (dice >= MIN_SIMILARITY), dice, -1.0)
    flat = np.flatnonzero(score >= 0)
    if len(flat) > limit:
        flat = flat[np.argsort(-score.ravel()[flat], kind="stable")[:limit]]
    rows, cols = np.unravel_index(flat, dice.shape)
    return [(int(i), int(j)) for i, j in zip(rows, cols, strict=True)]
