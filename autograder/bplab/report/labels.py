"""Human labels for diagnosis codes, and finding the codes in feedback text.

A failing check ends its diagnosis sentence with ``bplab_checks.diagnose.tag(code)``, i.e.
``(diagnosis: <code>)``; the code -> label table is ``bplab_checks.diagnose.CODES`` (the one
source; docs/diagnoses.md). A code missing from it is shown spelled out from the code itself.
"""

from __future__ import annotations

import re

from bplab_checks.diagnose import CODES, tag

# Built from tag() so the pattern follows the format the checks write.
_BEFORE, _AFTER = tag("CODE").split("CODE")
_TAG = re.compile(re.escape(_BEFORE.rstrip()) + r"\s*([A-Za-z0-9_.\-]+)\s*" + re.escape(_AFTER))


def label_for(code: str) -> str:
    """The phrase shown for a diagnosis code, e.g. ``a bias-like gradient was not summed ...``."""
    return CODES.get(code) or code.replace("_", " ").replace("-", " ")


def diagnoses_in_text(text: str) -> list[str]:
    """The diagnosis codes tagged in ``text``, in order of first appearance, without repeats."""
    return list(dict.fromkeys(_TAG.findall(text)))
