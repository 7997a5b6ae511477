"""The symmetry figures: how many distinct hidden units each layer has at init and after
training, a zero init against random ones; and how far apart its units are, epoch by
epoch, from the measure the kernels record while training."""

from pathlib import Path

import seaborn as sns
from matplotlib.figure import Figure

from analysis.axes import label, ordered_values, varying_axes
from analysis.figures.common import (
    Skip,
    new_figure,
    save,
    subtitle,
    suptitle,
)
from analysis.figures.curves import curve_band
from analysis.load import Sweep
from analysis.nets import distinct_units_table, symmetry_table


def symmetry(sweep: Sweep, *, max_runs: int = 100, path: str | Path | None = None) -> Figure:
    """Distinct hidden units per layer, at init and after training, zeros vs random inits.

    Bars are the mean over runs, whiskers the range (min to max); the dashed line
    is the layer's width. A zero init starts every unit of a layer identical and,
    since identical units get identical gradients, keeps them so: the bar stays at 1.
    Only init and final weights are stored, so the figure compares those two stages.
    Each bar counts at most ``max_runs`` runs (the lowest seeds first).
    """
    runs = sweep.runs
    inits = set(runs["init"].astype(str))
    if "zeros" not in inits or len(inits) < 2:
        raise Skip("zero-init symmetry: the sweep does not compare init 'zeros' with a random init")
    runs = runs[runs["hidden_layers"] > 0]
    if runs.empty:
        raise Skip("zero-init symmetry: no run has a hidden layer")
    # Enough runs per bar to show the spread, not a large sweep's every net.
    runs = (
        runs.sort_values(["seed", "run_id"])
        .groupby(["init", "hidden"], observed=True)
        .head(max_runs)
    )
    table = distinct_units_table(sweep.weights_of(runs["run_id"]))
    table = table.merge(runs[["run_id", "init", "hidden"]], on="run_id")
    table["init"] = table["init"].astype(str)
    # One group of bars per (hidden layout, layer): "[4, 4]" layer 2 -> "[4, 4]\nlayer 2".
    groups = [
        (label("hidden", h), k + 1, w)
        for h in ordered_values(runs, "hidden")
        for k, w in enumerate(h)
    ]
    order = [f"{h}\nlayer {k}" for h, k, _ in groups]
    table["group"] = [
        f"{label('hidden', h)}\nlayer {k}"
        for h, k in zip(table["hidden"], table["layer"], strict=True)
    ]
    init_order = [i for i in ordered_values(runs, "init") if i in inits]
    palette = dict(zip(init_order, sns.color_palette("colorblind", len(init_order)), strict=True))
    stacked = len(order) > 4  # many groups: one panel above the other
    width = max(3.6, 0.6 * len(order) + 1.2)
    fig, axes = new_figure(2, 1, (width, 2.8)) if stacked else new_figure(1, 2, (width, 3.2))
    top = max(w for _, _, w in groups)
    for j, stage in enumerate(["init", "final"]):
        ax = axes.flat[j]
        sns.barplot(
            data=table[table["stage"] == stage],
            x="group",
            y="distinct",
            hue="init",
            order=order,
            hue_order=init_order,
            palette=palette,
            errorbar=("pi", 100),
            ax=ax,
            legend=(j == 1),
        )
        for k, (_, _, width) in enumerate(groups):
            ax.hlines(width, k - 0.45, k + 0.45, colors="0.3", linestyles="--", lw=0.9)
        ax.set_ylim(0, top * 1.12 + 0.5)
        ax.set_xlabel("hidden layers (widths), layer")
        ax.set_ylabel("distinct units (count)")
        ax.set_title("at init" if stage == "init" else "after training", fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
    pooled = [a for a in varying_axes(runs) if a not in ("init", "hidden")]
    suptitle(
        fig,
        "Zero-init symmetry: distinct hidden units per layer (bar: mean over runs, "
        "whisker: min-max; dashed: layer width)\n"
        + (subtitle({}, pooled) or "only init and final weights are stored"),
        fontsize=9,
    )
    save(fig, path)
    return fig


def symmetry_over_epochs(
    sweep: Sweep, *, max_runs: int = 100, max_layers: int = 4, path: str | Path | None = None
) -> Figure:
    """How far apart each hidden layer's units are, epoch by epoch, a line per init scheme
    (drawn when the sweep compares init schemes).

    The measure (recorded while training, :mod:`kernels.symmetry`) is the largest
    difference between two of a layer's units' incoming weights, bias included: exactly
    0 while every unit is the same. A line is the median over runs (seeds and every
    other axis pooled; at most ``max_runs`` runs per init, the lowest seeds first), the
    band the inter-quartile range; log scale, with exact zeros drawn on the floor line
    marked "exactly 0" (an all-zero init stays there at every epoch). A panel per
    hidden layer, the first ``max_layers``.
    """
    runs = sweep.runs
    if runs["init"].nunique() < 2:
        raise Skip("symmetry over training: the sweep does not compare init schemes")
    runs = runs[runs["hidden_layers"] > 0]
    if runs.empty:
        raise Skip("symmetry over training: no run has a hidden layer")
    runs = runs.sort_values(["seed", "run_id"]).groupby("init", observed=True).head(max_runs)
    table = symmetry_table(sweep.curves_of(runs["run_id"]))
    if table.empty:
        raise Skip("symmetry over training: these results predate the recorded measure; re-run")
    table = table.merge(runs[["run_id", "init"]], on="run_id")
    table["init"] = table["init"].astype(str)
    layers = sorted(set(table["layer"]))[:max_layers]
    inits = [str(i) for i in ordered_values(runs, "init")]
    palette = dict(zip(inits, sns.color_palette("colorblind", len(inits)), strict=True))
    positive = table.loc[table["symmetry"] > 0, "symmetry"]
    floor = float(positive.min()) / 10 if not positive.empty else 1e-16
    fig, axes = new_figure(1, len(layers), (4.2, 3.4))
    for j, layer in enumerate(layers):
        ax = axes[0, j]
        here = table[table["layer"] == layer]
        for init in inits:
            rows = here[here["init"] == init]
            if rows.empty:
                continue
            # median and quartiles per epoch, a stopped run carried at its last value
            band = curve_band(rows, rows["run_id"].unique().tolist(), "symmetry").clip(lower=floor)
            n = rows["run_id"].nunique()
            colour = palette[init]
            ax.plot(band.index, band["median"], color=colour, lw=1.4, label=f"{init} ({n} runs)")
            ax.fill_between(band.index, band["q25"], band["q75"], color=colour, alpha=0.2, lw=0)
        ax.set_yscale("log")
        ax.axhline(floor, color="0.4", ls=":", lw=0.9)
        ax.annotate(
            "exactly 0", (1, floor), xycoords=("axes fraction", "data"), ha="right",
            va="bottom", fontsize=7, color="0.3",
        )  # fmt: skip
        ax.set_xlabel("epoch")
        ax.set_ylabel("largest difference between two units" if j == 0 else "")
        ax.set_title(f"hidden layer {layer}", fontsize=9)
        ax.legend(title="init", fontsize=7, title_fontsize=7)
    pooled = [a for a in varying_axes(runs) if a != "init"]
    suptitle(
        fig,
        "Symmetry over training: how far apart each hidden layer's units are "
        "(median over runs, band: inter-quartile; log scale)\n"
        + (subtitle({}, pooled) or "every run of each init"),
        fontsize=9,
    )
    save(fig, path)
    return fig
