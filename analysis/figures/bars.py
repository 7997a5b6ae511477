"""Bars of the share of seeds that converged, per value of each axis."""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from analysis.axes import label, ordered_values, varying_axes
from analysis.figures.common import (
    Skip,
    axis_title,
    dataset_values,
    new_figure,
    save,
    suptitle,
)
from analysis.summarize import summarize


def convergence_bars(
    runs: pd.DataFrame, *, axes: Sequence[str] | None = None, path: str | Path | None = None
) -> Figure:
    """Share of seeds converged per value of each axis, with counts (converged/runs) on the bars.

    One panel per axis (default: every varying axis but the data set), each pooled over
    all other axes; bars are coloured by data set when it varies. One 0-1 scale for all.
    """
    if runs["target_loss"].isna().all():
        raise Skip("convergence bars: no run has a target_loss, so none can converge")
    chosen = [a for a in varying_axes(runs) if a != "dataset"] if axes is None else list(axes)
    if not chosen:
        raise Skip("convergence bars: the sweep varies nothing but the seed")
    datasets = [str(d) for d in dataset_values(runs)]
    n_cols = min(3, len(chosen))
    n_rows = -(-len(chosen) // n_cols)
    bars = max(len(ordered_values(runs, a)) for a in chosen) * len(datasets)
    fig, grid = new_figure(n_rows, n_cols, (max(3.3, 0.42 * bars + 1.2), 2.8))
    palette = dict(zip(datasets, sns.color_palette("colorblind", len(datasets)), strict=True))
    for k, axis in enumerate(chosen):
        ax = grid[k // n_cols, k % n_cols]
        table = summarize(runs, by=[axis, "dataset"])
        values = ordered_values(runs, axis)
        table["value"] = [label(axis, v) for v in table[axis]]
        table["dataset"] = table["dataset"].astype(str)
        order = [label(axis, v) for v in values]
        sns.barplot(
            data=table,
            x="value",
            y="convergence_rate",
            hue="dataset",
            order=order,
            hue_order=datasets,
            palette=palette,
            ax=ax,
            legend=(k == 0),
        )
        if k == 0 and ax.get_legend() is not None:
            ax.get_legend().set_title("data set")
        for container, dataset in zip(ax.containers, datasets, strict=False):
            part = table[table["dataset"] == dataset]
            converged = dict(zip(part["value"], part["n_converged"].tolist(), strict=True))
            seeds = dict(zip(part["value"], part["n_seeds"].tolist(), strict=True))
            texts = [f"{converged[v]}/{seeds[v]}" if v in seeds else "" for v in order]
            ax.bar_label(
                container, labels=texts, fontsize=7, padding=1, rotation=90 if bars > 8 else 0
            )  # type: ignore[arg-type]
        ax.set_ylim(0, 1.25 if bars > 8 else 1.12)
        ax.set_yticks(np.linspace(0.0, 1.0, 6))
        ax.set_xlabel(axis_title(axis, values))
        ax.set_ylabel("share of seeds converged")
        ax.tick_params(axis="x", labelrotation=30 if len(order) > 4 else 0)
    for k in range(len(chosen), n_rows * n_cols):
        grid[k // n_cols, k % n_cols].set_visible(False)
    suptitle(
        fig,
        "Convergence rate per axis value (labels: converged / runs; each panel pooled over "
        "the other axes)",
        fontsize=10,
    )
    save(fig, path)
    return fig
