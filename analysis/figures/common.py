"""What every figure shares: the :class:`Skip` signal, saving, titles, the panels, and
the slice of runs held at the best config.

Importing it sets seaborn's theme once for every figure.
"""

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from analysis.axes import best_slice, describe, ordered_values, title, varying_axes
from analysis.summarize import summarize

#: Axes a learning-curve or boundary figure may study, most telling first.
STUDY_AXES = (
    "lr",
    "hidden",
    "activation",
    "init",
    "optimizer",
    "loss",
    "output_activation",
    "batch_size",
    "shuffle",
    "bias",
    "noise",
    "n",
    "epochs",
    "target_loss",
    "data_seed",
)


DPI = 100

sns.set_theme(style="whitegrid", context="notebook", font_scale=0.85)


class Skip(Exception):
    """This sweep cannot show this figure; ``str(e)`` says why."""


def save(fig: Figure, path: str | Path | None) -> list[Path]:
    """Write ``fig`` as PNG and SVG beside each other (``path`` with or without suffix)."""
    if path is None:
        return []
    stem = Path(path)
    if stem.suffix in (".png", ".svg"):
        stem = stem.with_suffix("")
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    # SVG text stays text (smaller, faster, searchable) rather than glyph outlines.
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        for suffix in (".png", ".svg"):
            target = stem.with_suffix(suffix)
            fig.savefig(target, dpi=DPI)
            written.append(target)
    return written


def suptitle(fig: Figure, text: str, fontsize: float = 10) -> None:
    """A figure title wrapped to the figure's width (constrained layout does not widen it)."""
    chars = max(30, int(fig.get_figwidth() * 72 / (0.62 * fontsize)))
    lines = [textwrap.fill(line, chars) for line in text.split("\n")]
    fig.suptitle("\n".join(lines), fontsize=fontsize)


def held_at_best(runs: pd.DataFrame, keep: Sequence[str]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Runs with every varying axis outside ``keep`` (and ``dataset``) held at the best config.

    The best config is the first row of :func:`summarize` over those axes, pooled over
    data sets, so every panel of a figure holds the same values.
    """
    keep = [*keep, "dataset"]
    others = [a for a in varying_axes(runs) if a not in keep]
    if not others:
        return runs, {}
    best = summarize(runs, by=others).iloc[0]
    return best_slice(runs, keep, best.to_dict())


def axis_title(name: str, values: Sequence[Any]) -> str:
    """An axis's title, saying so when its (numeric) values are evenly log-spaced."""
    text = title(name)
    numbers = [float(v) for v in values if isinstance(v, int | float) and v > 0]
    if name == "lr" and len(numbers) >= 3 and len(numbers) == len(values):
        steps = np.diff(np.log(sorted(numbers)))
        if np.allclose(steps, steps[0], rtol=0.05):
            text += " (log-spaced)"
    return text


def subtitle(fixed: dict[str, Any], pooled: Sequence[str] = ()) -> str:
    """What a figure holds still: the axes held at the best config, and those pooled."""
    parts = []
    if fixed:
        parts.append("others held at the best config: " + describe(fixed))
    if pooled:
        parts.append("pooled over " + ", ".join(title(p) for p in pooled))
    return "; ".join(parts)


def new_figure(n_rows: int, n_cols: int, panel: tuple[float, float]) -> tuple[Figure, np.ndarray]:
    """A constrained-layout Figure of ``n_rows x n_cols`` panels of ``panel`` inches."""
    fig = Figure(figsize=(panel[0] * n_cols + 0.8, panel[1] * n_rows + 0.9), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    return fig, axes


def dataset_values(runs: pd.DataFrame) -> list[Any]:
    """The data sets of ``runs``, in the order figures show them."""
    return ordered_values(runs, "dataset")


def equals(column: pd.Series, value: Any) -> pd.Series:
    """Where ``column`` holds ``value`` (a hidden tuple against stored lists, NA against NA)."""
    if isinstance(value, tuple):
        return column.map(lambda h: tuple(h) == value)
    if value is None or pd.isna(value):
        return column.isna()
    return column == value
