"""Heatmaps of two axes: the median convergence epoch or the final accuracy per cell,
with the seeds each cell holds."""

import warnings
from pathlib import Path
from typing import Any

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from analysis.axes import label, ordered_values, title, varying_axes
from analysis.figures.common import (
    Skip,
    axis_title,
    dataset_values,
    held_at_best,
    new_figure,
    save,
    subtitle,
    suptitle,
)
from analysis.summarize import summarize

HEATMAP_NAMES = {"convergence_epoch": "convergence-epoch", "final_accuracy": "final-accuracy"}
HEATMAP_METRICS = {
    "convergence_epoch": "median convergence epoch (over converged seeds)",
    "final_accuracy": "final accuracy (mean over seeds, share of points)",
}


def heatmaps(
    runs: pd.DataFrame,
    *,
    metric: str = "convergence_epoch",
    x: str = "lr",
    y: str = "hidden_size",
    path: str | Path | None = None,
) -> Figure:
    """Heatmaps of ``metric`` over ``x`` by ``y``, one panel per activation and data set.

    ``metric`` 'convergence_epoch' shows the median over converged seeds on a log
    colour scale, cells where no seed converged hatched and marked "never";
    'final_accuracy' the mean final accuracy on a 0-1 scale. Every cell also says how
    many of its seeds converged. All panels share one colour scale.
    """
    if metric not in HEATMAP_METRICS:
        raise ValueError(f"metric must be one of {list(HEATMAP_METRICS)}, got {metric!r}")
    x, y = _study_column(runs, x), _study_column(runs, y)
    varying = varying_axes(runs) + ["hidden_size"] * ("hidden" in varying_axes(runs))
    missing = [a for a in (x, y) if a not in varying]
    if missing:
        raise Skip(
            f"{HEATMAP_NAMES[metric]} heatmap over {title(x)} x {title(y)}: the sweep does "
            "not vary " + " or ".join(title(m) for m in missing)
        )
    if metric == "convergence_epoch" and runs["target_loss"].isna().all():
        raise Skip("convergence-epoch heatmap: no run has a target_loss, so none can converge")
    panel_axes = ["dataset", "activation"]
    keep = [x, y, *panel_axes] + (["hidden"] if "hidden_size" in (x, y) else [])
    data, fixed = held_at_best(runs, keep)
    datasets = dataset_values(data)
    activations = ordered_values(data, "activation")
    table = summarize(data, by=[x, y, "dataset", "activation"])
    value = "epoch_median" if metric == "convergence_epoch" else "accuracy_mean"
    xs, ys = ordered_values(data, x), ordered_values(data, y)[::-1]
    if metric == "convergence_epoch":
        finite = table[value].dropna()
        low = max(float(finite.min()), 1.0) if len(finite) else 1.0
        high = max(float(finite.max()), low * 10) if len(finite) else 10.0
        norm: mcolors.Normalize = mcolors.LogNorm(vmin=low, vmax=high)
        cmap = "mako_r"
    else:
        norm = mcolors.Normalize(vmin=0.0, vmax=1.0)
        cmap = "rocket"
    pairs = [(d, a) for d in datasets for a in activations]
    n_cols = len(pairs) if len(pairs) <= 3 else (2 if len(pairs) == 4 else 3)
    if len(datasets) > 1 and len(activations) <= 3:
        n_cols = len(activations)  # one row per data set
    n_rows = -(-len(pairs) // n_cols)
    fig, axes = new_figure(n_rows, n_cols, (max(3.4, 0.62 * len(xs) + 1.2), 0.5 * len(ys) + 1.0))
    for k in range(len(pairs), n_rows * n_cols):
        axes.flat[k].set_visible(False)
    image = None
    for (dataset, activation), ax in zip(pairs, axes.flat, strict=False):
        cells = table[(table["dataset"] == dataset) & (table["activation"] == activation)]
        grid = _cell_grid(cells, x, y, xs, ys, value)
        counts = _cell_grid(cells, x, y, xs, ys, "n_converged")
        seeds = _cell_grid(cells, x, y, xs, ys, "n_seeds")
        annot = _cell_text(grid, counts, seeds, metric)
        with warnings.catch_warnings():
            # seaborn takes nanmin/nanmax of a panel even with a norm: all-NaN warns.
            warnings.simplefilter("ignore", RuntimeWarning)
            sns.heatmap(
                grid,
                ax=ax,
                cmap=cmap,
                norm=norm,
                cbar=False,
                annot=annot,
                fmt="",
                annot_kws={"fontsize": 7},
                linewidths=0.5,
                linecolor="white",
                xticklabels=[label(x, v) for v in xs],
                yticklabels=[label(y, v) for v in ys],
            )
        _hatch_never(ax, grid, annot)
        ax.grid(False)
        image = ax.collections[0]
        ax.set_title(f"{dataset} · {activation}", fontsize=9)
        ax.set_xlabel(axis_title(x, xs))
        ax.set_ylabel(axis_title(y, ys))
        ax.tick_params(axis="x", labelrotation=0)
    if image is not None:
        bar = fig.colorbar(
            image, ax=axes.ravel().tolist(), label=HEATMAP_METRICS[metric], shrink=0.9
        )
        if metric == "convergence_epoch":
            bar.ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            bar.ax.yaxis.set_minor_formatter(NullFormatter())
    name = "Convergence epoch" if metric == "convergence_epoch" else "Final accuracy"
    what = "median epoch" if metric == "convergence_epoch" else "mean accuracy"
    suptitle(
        fig,
        f"{name} over {title(x)} x {title(y)}; each cell: {what}, seeds converged / seeds "
        "(hatched: no seed converged; 'not run': the grid has no such run)"
        + (f"\n{subtitle(fixed)}" if fixed else ""),
        fontsize=10,
    )
    save(fig, path)
    return fig


def _cell_grid(
    cells: pd.DataFrame, x: str, y: str, xs: list[Any], ys: list[Any], value: str
) -> np.ndarray:
    """``value`` of each (y, x) cell as a float array, NaN where a cell has no runs."""
    grid = np.full((len(ys), len(xs)), np.nan)
    for xv, yv, v in zip(cells[x].tolist(), cells[y].tolist(), cells[value].tolist(), strict=True):
        grid[ys.index(yv), xs.index(xv)] = v
    return grid


def _cell_text(grid: np.ndarray, counts: np.ndarray, seeds: np.ndarray, metric: str) -> np.ndarray:
    text = np.full(grid.shape, "", dtype=object)
    for (r, c), v in np.ndenumerate(grid):
        n = seeds[r, c]
        if np.isnan(n):
            text[r, c] = "not run"
            continue
        count = f"{int(counts[r, c])}/{int(n)}"
        if np.isnan(v):
            text[r, c] = f"never\n{count}"
        elif metric == "convergence_epoch":
            text[r, c] = f"{v:.0f}\n{count}"
        else:
            text[r, c] = f"{v:.2f}\n{count}"
    return text


def _hatch_never(ax: Axes, grid: np.ndarray, text: np.ndarray) -> None:
    """Hatch and label the cells that hold runs but no value (no seed converged), and
    label the cells the grid has no run in.

    seaborn leaves NaN cells blank and unannotated, so the mark is drawn here.
    """
    for (r, c), v in np.ndenumerate(grid):
        if np.isnan(v) and text[r, c]:
            not_run = text[r, c] == "not run"  # the grid has no run in this cell
            ax.add_patch(
                Rectangle(
                    (c, r),
                    1,
                    1,
                    facecolor="white" if not_run else "#f2f2f2",
                    edgecolor="#b0b0b0",
                    hatch=None if not_run else "//",
                    lw=0,
                )
            )
            ax.text(
                c + 0.5,
                r + 0.5,
                str(text[r, c]),
                ha="center",
                va="center",
                fontsize=7,
                color="#444444",
            )


def _study_column(runs: pd.DataFrame, axis: str) -> str:
    """``hidden_size`` stands for ``hidden`` when every net has equal widths."""
    if axis in ("hidden", "hidden_size"):
        return "hidden_size" if runs["hidden_size"].notna().all() else "hidden"
    return axis
