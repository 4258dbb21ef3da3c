"""The report's two charts, as base64 PNG strings ready for an ``<img src="data:...">``.

Figures are built with matplotlib's object API on the Agg canvas: no pyplot global state, no
display needed. Axis labels and the legend are translated (``bplab_checks.i18n.t``) into the
current language; question names and numbers are data.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from bplab_checks.i18n import t
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bplab.report.stats import QuestionStats

_FULL, _PARTIAL, _FAILED = "#2e7d32", "#f9a825", "#c62828"


def _png_base64(fig: Figure) -> str:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _integer_ticks(axis: Axis) -> None:
    locator = axis.get_major_locator()
    if isinstance(locator, MaxNLocator):  # matplotlib's default AutoLocator is one
        locator.set_params(integer=True)


def score_histogram(scores: list[float], max_score: float | None) -> str:
    """Histogram of total scores over ``[0, max_score]`` (about one bin per point, at most 20)."""
    fig = Figure(figsize=(7, 3.2), layout="constrained")
    ax = fig.add_subplot()
    top = max_score if max_score else max(scores, default=1.0) or 1.0
    if top <= 30 and all(float(x).is_integer() for x in scores):
        # whole-point scores: one bar per possible score, centred on it
        bins = np.arange(-0.5, np.ceil(top) + 1)
    else:
        bins = np.linspace(0, top, 21)
    ax.hist(np.clip(scores, 0, top), bins=list(bins), color="#1565c0", edgecolor="white")
    ax.set_xlim(bins[0], bins[-1])
    _integer_ticks(ax.xaxis)
    ax.set_xlabel(t("total score (out of {top})", top=f"{top:g}"))
    ax.set_ylabel(t("submissions"))
    _integer_ticks(ax.yaxis)
    ax.spines[["top", "right"]].set_visible(False)
    return _png_base64(fig)


def question_chart(stats: list[QuestionStats]) -> str:
    """One horizontal bar per question: share with full marks, partial, zero; mean in text."""
    rows = [s for s in stats if s.n]
    fig = Figure(figsize=(7, 0.45 * max(len(rows), 1) + 1.2), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(rows))[::-1]
    full = np.array([s.full_share for s in rows]) * 100
    failed = np.array([s.failed_share for s in rows]) * 100
    partial = 100 - full - failed
    ax.barh(y, full, color=_FULL, label=t("full marks"))
    ax.barh(y, partial, left=full, color=_PARTIAL, label=t("partial"))
    ax.barh(y, failed, left=full + partial, color=_FAILED, label=t("zero"))
    for yi, s in zip(y, rows, strict=True):
        m = s.mean or 0.0  # rows have n > 0, so a mean
        mean = t("mean {value}", value=f"{100 * m / s.max_score:.0f}%" if s.max_score
                 else f"{m:g}")
        ax.text(101, yi, mean, va="center", fontsize=8)
    ax.set_yticks(y, [s.question for s in rows])
    ax.set_xlim(0, 118)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xlabel(t("% of graded submissions"))
    ax.legend(ncols=3, loc="lower center", bbox_to_anchor=(0.43, 1.0), frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _png_base64(fig)
