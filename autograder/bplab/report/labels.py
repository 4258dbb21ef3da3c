"""Human labels for diagnosis codes.

A failing check ends its diagnosis sentence with ``bplab_checks.tag.tag(code)`` (found again in
text by ``bplab_checks.tag.codes_in``); the code -> label table is
``bplab_checks.diagnose.CODES`` (the one source; docs/diagnoses.md). A code missing from it is
shown spelled out from the code itself.
"""

from __future__ import annotations

from bplab_checks.diagnose import CODES


def label_for(code: str) -> str:
    """The phrase shown for a diagnosis code, e.g. ``a bias-like gradient was not summed ...``."""
    return CODES.get(code) or code.replace("_", " ").replace("-", " ")

