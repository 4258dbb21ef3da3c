"""A stand-in for ``otter`` inside the grading sandbox.

Student notebooks say ``import otter; grader = otter.Notebook(...)`` and ``grader.check("q")``.
While ``bplab grade`` runs the notebook these are cheap no-ops: the real checks run in the
trusted grader process, never here.
"""


class _Nothing:
    """Returned by every stub call: prints as nothing in a notebook."""

    def __repr__(self) -> str:
        return ""

    def _repr_html_(self) -> str:
        return ""


class Notebook:
    """``otter.Notebook`` with every method a no-op."""

    def __init__(self, *args, **kwargs):
        pass

    @classmethod
    def init_grading_mode(cls, *args, **kwargs):
        return _Nothing()

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args, **kwargs: _Nothing()


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return Notebook
