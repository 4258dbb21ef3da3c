"""Diagnoses: name the usual mistake behind a wrong output or gradient, in one plain sentence.

A check that finds a mismatch calls :func:`diagnose` with the student's value and the expected
one. The value is compared with *candidate wrong answers* built from the expected value (its
transpose, its negative, a constant multiple, ...) and, when available, from the student's own
gradient with an all-ones upstream gradient (``local``) or from the reference block
(``reference``, hidden tests only). The first candidate that fits is reported; a sentence ends
with ``(diagnosis: <code>)``. Codes and example messages: ``docs/diagnoses.md``.
Public checks know no expected gradient, only directional central differences of the student's
own function; :func:`diagnose_directional` names their mistakes by the repair that would pass.

Rules that keep a diagnosis trustworthy:

* a candidate fits only when it matches the student's value *tightly* (``MATCH_RTOL``, far
  below the pass tolerance) and differs *meaningfully* from the expected value
  (``DIFFER_RTOL``); so a correct answer, however it is written, is never diagnosed;
* messages name the block, the value (``out``, ``dA``, ``db`` ...), shapes and factors, never
  expected arrays;
* diagnosing never raises: student values are hostile, and a failed diagnosis is just ``None``.

Numpy only; shipped to students with the public checks.

Modules: ``common`` (codes, tag, tolerances, sentence helpers), ``value`` (:func:`diagnose`),
``directional`` (:func:`diagnose_directional`), ``findings`` (:func:`explain`), ``optimizer``
(:func:`diagnose_optimizer`).
"""

from bplab_checks.diagnose.common import CODES, DIFFER_RTOL, MATCH_RTOL, tag
from bplab_checks.diagnose.directional import diagnose_directional
from bplab_checks.diagnose.findings import explain
from bplab_checks.diagnose.optimizer import diagnose_optimizer
from bplab_checks.diagnose.value import diagnose

__all__ = [
    "CODES",
    "DIFFER_RTOL",
    "MATCH_RTOL",
    "diagnose",
    "diagnose_directional",
    "diagnose_optimizer",
    "explain",
    "tag",
]
