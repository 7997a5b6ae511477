"""Learning curves: loss or accuracy against epoch, a line per value of an axis (the
median over seeds, with its inter-quartile band)."""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from analysis.axes import label, ordered_values, title, varying_axes
from analysis.figures.common import (
    Skip,
    dataset_values,
    equals,
    held_at_best,
    new_figure,
    save,
    subtitle,
    suptitle,
)
from analysis.load import Sweep


def learning_curves(
    sweep: Sweep, *, axis: str = "lr", metric: str = "loss", path: str | Path | None = None
) -> Figure:
    """Loss (log scale) or accuracy vs epoch, one line per value of ``axis``, a panel per data set.

    Each line is the median over seeds with a band from the 25th to the 75th
    percentile. A run that reached its target stopped there; it counts at its last
    value afterwards (a diverged run counts as infinite loss). Other varying axes are
    held at the best config. ``metric`` 'accuracy' compares runs whose losses are on
    different scales (e.g. a study of the loss function).
    """
    if metric not in ("loss", "accuracy"):
        raise ValueError(f"metric must be 'loss' or 'accuracy', got {metric!r}")
    runs = sweep.runs
    column = "hidden" if axis == "hidden_size" else axis
    if column not in varying_axes(runs):
        raise Skip(f"learning curves by {title(axis)}: the sweep does not vary it")
    data, fixed = held_at_best(runs, [column])
    datasets = dataset_values(data)
    values = ordered_values(data, column)
    palette = _palette(column, len(values))
    curves = sweep.curves_of(data["run_id"])
    has_target = data["target_loss"].notna().any()
    fig, axes = new_figure(1, len(datasets), (5.4, 3.6))
    for j, dataset in enumerate(datasets):
        ax = axes[0, j]
        for value, colour in zip(values, palette, strict=True):
            group = data[(data["dataset"] == dataset) & equals(data[column], value)]
            if group.empty:
                continue
            band = curve_band(curves, group["run_id"].tolist(), metric)
            n, k = len(group), int(group["converged"].sum())
            seeds = f"{k}/{n} conv." if has_target else f"{n} seeds"
            ax.plot(
                band.index,
                band["median"],
                color=colour,
                lw=1.6,
                label=f"{label(column, value)} ({seeds})",
            )
            ax.fill_between(band.index, band["q25"], band["q75"], color=colour, alpha=0.22, lw=0)
        targets = data.loc[data["dataset"] == dataset, "target_loss"].dropna().unique()
        if metric == "loss":
            if len(targets) == 1:
                ax.axhline(float(targets[0]), color="0.3", ls="--", lw=0.8, label="target loss")
            ax.set_yscale("log")
            ax.set_ylabel(_loss_title(data))
        else:
            ax.set_ylim(-0.02, 1.02)
            ax.set_ylabel("accuracy (share of points)")
        ax.set_xlabel("epoch")
        ax.set_title(str(dataset), fontsize=9)
        ax.legend(title=title(column), fontsize=7, title_fontsize=8)
    suptitle(
        fig,
        f"{'Loss' if metric == 'loss' else 'Accuracy'} curves by {title(column)} "
        "(median over seeds, band: 25th-75th percentile)"
        + (f"\n{subtitle(fixed)}" if fixed else ""),
        fontsize=10,
    )
    save(fig, path)
    return fig


def curve_band(curves: pd.DataFrame, run_ids: Sequence[str], metric: str = "loss") -> pd.DataFrame:
    """Median and quartiles of ``metric`` (a column of ``curves``: 'loss', 'accuracy', or
    a per-layer 'symmetry' laid out by :func:`analysis.nets.symmetry_table`) over
    ``run_ids`` per epoch.

    Each run's value is carried forward after its last recorded epoch (a run stops at
    its target) and between its own records; a non-finite loss counts as +inf.
    """
    part = curves[curves["run_id"].isin(run_ids)]
    values = part[metric].astype("float64")
    if metric == "loss":
        values = values.where(np.isfinite(values), np.inf)
    part = part.assign(**{metric: values})
    # After the pivot a NaN is only an epoch this run did not record: carry its last value.
    table = part.pivot_table(index="epoch", columns="run_id", values=metric, aggfunc="first")
    table = table.sort_index().ffill()
    # numpy interpolates inf into nan (0 * inf); interpolate a huge finite stand-in instead.
    huge = np.finfo(np.float64).max / 4
    q = np.quantile(np.minimum(table.to_numpy(dtype=np.float64), huge), [0.25, 0.5, 0.75], axis=1)
    q[q >= huge / 2] = np.inf
    return pd.DataFrame({"q25": q[0], "median": q[1], "q75": q[2]}, index=table.index)


def _palette(axis: str, n: int) -> list[Any]:
    if axis in ("lr", "hidden", "hidden_size", "batch_size", "noise", "n", "epochs"):
        return list(sns.color_palette("viridis", n))
    return list(sns.color_palette("colorblind", n))


def _loss_title(runs: pd.DataFrame) -> str:
    losses = sorted({str(v) for v in runs["loss"]})
    return f"loss ({', '.join(losses).upper()}, log scale)"
