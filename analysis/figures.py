"""The report's figures, drawn with seaborn on matplotlib Figures (Agg, no pyplot state).

Every function returns the :class:`~matplotlib.figure.Figure` and, given ``path``,
writes it as ``<path>.png`` and ``<path>.svg``. A figure the sweep cannot show (its
axes do not vary, no target loss, ...) raises :class:`Skip` with the reason, which
the report prints as a note.

Seeds are never shown one at a time: curves are a median with an inter-quartile band,
boundaries the mean output over seeds with each seed's 0.5 line, cells and bars say
how many seeds they hold. Axes a figure does not study are held at the best config
(:func:`held_at_best`), named in the figure's subtitle.
"""

import textwrap
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from analysis.axes import best_slice, describe, label, ordered_values, title, varying_axes
from analysis.load import Sweep, config_of, params_of
from analysis.nets import distinct_units_table, outputs, plane
from analysis.summarize import summarize
from sweep.datasets import make_dataset

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
CLASS_COLOURS = ("#3b6fb6", "#d1495b")  # class 0 blue, class 1 red (the boundary's colours)
OUTPUT_CMAP = "RdBu_r"
DPI = 100

sns.set_theme(style="whitegrid", context="notebook", font_scale=0.85)


class Skip(Exception):
    """This sweep cannot show this figure; ``str(e)`` says why."""


# --------------------------------------------------------------------------- helpers


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


def _suptitle(fig: Figure, text: str, fontsize: float = 10) -> None:
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


def _study_column(runs: pd.DataFrame, axis: str) -> str:
    """``hidden_size`` stands for ``hidden`` when every net has equal widths."""
    if axis in ("hidden", "hidden_size"):
        return "hidden_size" if runs["hidden_size"].notna().all() else "hidden"
    return axis


def axis_title(name: str, values: Sequence[Any]) -> str:
    """An axis's title, saying so when its (numeric) values are evenly log-spaced."""
    text = title(name)
    numbers = [float(v) for v in values if isinstance(v, int | float) and v > 0]
    if name == "lr" and len(numbers) >= 3 and len(numbers) == len(values):
        steps = np.diff(np.log(sorted(numbers)))
        if np.allclose(steps, steps[0], rtol=0.05):
            text += " (log-spaced)"
    return text


def _subtitle(fixed: dict[str, Any], pooled: Sequence[str] = ()) -> str:
    parts = []
    if fixed:
        parts.append("others held at the best config: " + describe(fixed))
    if pooled:
        parts.append("pooled over " + ", ".join(title(p) for p in pooled))
    return "; ".join(parts)


def _figure(n_rows: int, n_cols: int, panel: tuple[float, float]) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(panel[0] * n_cols + 0.8, panel[1] * n_rows + 0.9), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    return fig, axes


def _datasets(runs: pd.DataFrame) -> list[Any]:
    return ordered_values(runs, "dataset")


def _loss_title(runs: pd.DataFrame) -> str:
    losses = sorted({str(v) for v in runs["loss"]})
    return f"loss ({', '.join(losses).upper()}, log scale)"


# --------------------------------------------------------------------------- 1 heatmaps

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
    datasets = _datasets(data)
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
    fig, axes = _figure(n_rows, n_cols, (max(3.4, 0.62 * len(xs) + 1.2), 0.5 * len(ys) + 1.0))
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
    _suptitle(
        fig,
        f"{name} over {title(x)} x {title(y)}; each cell: {what}, seeds converged / seeds "
        "(hatched: no seed converged; 'not run': the grid has no such run)"
        + (f"\n{_subtitle(fixed)}" if fixed else ""),
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


# --------------------------------------------------------------------------- 2 curves


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
    datasets = _datasets(data)
    values = ordered_values(data, column)
    palette = _palette(column, len(values))
    curves = sweep.curves_of(data["run_id"])
    has_target = data["target_loss"].notna().any()
    fig, axes = _figure(1, len(datasets), (5.4, 3.6))
    for j, dataset in enumerate(datasets):
        ax = axes[0, j]
        for value, colour in zip(values, palette, strict=True):
            group = data[(data["dataset"] == dataset) & _equals(data[column], value)]
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
    _suptitle(
        fig,
        f"{'Loss' if metric == 'loss' else 'Accuracy'} curves by {title(column)} "
        "(median over seeds, band: 25th-75th percentile)"
        + (f"\n{_subtitle(fixed)}" if fixed else ""),
        fontsize=10,
    )
    save(fig, path)
    return fig


def curve_band(curves: pd.DataFrame, run_ids: Sequence[str], metric: str = "loss") -> pd.DataFrame:
    """Median and quartiles of ``metric`` ('loss' or 'accuracy') over ``run_ids`` per epoch.

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


def _equals(column: pd.Series, value: Any) -> pd.Series:
    if isinstance(value, tuple):
        return column.map(lambda h: tuple(h) == value)
    if value is None or pd.isna(value):
        return column.isna()
    return column == value


# --------------------------------------------------------------------------- 3 prediction


def representative_run(runs: pd.DataFrame) -> str:
    """The run of the median final loss among ``runs`` (the seeds of one config)."""
    ordered = runs.sort_values(["final_loss", "seed"], na_position="last")
    return str(ordered["run_id"].iloc[(len(ordered) - 1) // 2])


def best_run(runs: pd.DataFrame, dataset: Any = None) -> str:
    """The representative (median-loss) seed of the best config, in ``dataset`` if given."""
    if dataset is not None:
        runs = runs[runs["dataset"] == dataset]
    by = varying_axes(runs)
    best = summarize(runs, by=by).iloc[0]
    seeds, _ = best_slice(runs, [], best.to_dict())
    return representative_run(seeds)


def prediction(
    sweep: Sweep, run_id: str | None = None, *, dataset: Any = None, path: str | Path | None = None
) -> Figure:
    """The lab's comparison figure for one run: ground truth beside the prediction.

    The prediction panel draws the net's output (from its stored final weights) as a
    filled contour behind the points, with the 0.5 decision boundary as a line and
    misclassified points ringed. By default the run is the median-loss seed of the
    best config (of ``dataset`` when given).
    """
    runs = sweep.runs
    if run_id is None:
        run_id = best_run(runs, dataset)
    row = runs.loc[runs["run_id"] == run_id].iloc[0]
    cfg = config_of(row)
    x, y = make_dataset(cfg.dataset, seed=cfg.data_seed, n=cfg.n, noise=cfg.noise)
    y = y.reshape(-1)
    params = sweep.params(run_id)
    xx, yy = plane(x)
    functions = {"activation": cfg.activation, "output_activation": cfg.output_activation}
    out = outputs(params, xx, yy, **functions)
    pred_points = outputs(params, x[:, :1], x[:, 1:], **functions).reshape(-1)
    predicted = (pred_points > 0.5).astype(int)
    fig, axes = _figure(1, 2, (3.9, 3.6))
    truth, pred = axes[0, 0], axes[0, 1]
    _scatter(truth, x, y.astype(int))
    truth.set_title("Ground truth", fontsize=9)
    contour = _boundary(pred, xx, yy, out)
    pred.grid(False)
    _scatter(pred, x, predicted)
    wrong = predicted != y.astype(int)
    if wrong.any():
        pred.scatter(
            x[wrong, 0],
            x[wrong, 1],
            s=90,
            facecolors="none",
            edgecolors="black",
            lw=1.2,
            label="misclassified",
        )
    accuracy = float(np.mean(~wrong))
    pred.set_title(f"Prediction (accuracy {accuracy:.0%})", fontsize=9)
    for ax in (truth, pred):
        ax.set_xlabel("x0 (input 1)")
        ax.set_ylabel("x1 (input 2)")
        ax.set_xlim(xx.min(), xx.max())
        ax.set_ylim(yy.min(), yy.max())
        ax.set_aspect("equal")
    truth.legend(handles=_class_handles(), fontsize=7, loc="best")
    fig.colorbar(contour, ax=pred, label="net output (P(class 1))", shrink=0.85)
    epoch = (
        "never converged"
        if pd.isna(row["convergence_epoch"])
        else (f"converged at epoch {int(row['convergence_epoch'])}")
    )
    config = describe({a: row[a] for a in ("hidden", "activation", "lr", "init", "optimizer")})
    _suptitle(
        fig,
        f"{cfg.dataset}: {config}\nrun {run_id} (seed {cfg.seed}, median-loss seed), {epoch}",
        fontsize=9,
    )
    save(fig, path)
    return fig


def _scatter(ax: Axes, x: np.ndarray, labels: np.ndarray, *, small: bool = False) -> None:
    """The points coloured by class; ``small`` for the panels of a grid of boundaries."""
    colours = np.array(CLASS_COLOURS)[labels]
    size, edge, width = (9, "white", 0.3) if small else (30, "black", 0.5)
    ax.scatter(x[:, 0], x[:, 1], c=colours, s=size, edgecolors=edge, linewidths=width, zorder=3)


def _class_handles() -> list[Patch]:
    return [Patch(color=CLASS_COLOURS[k], label=f"class {k}") for k in (0, 1)]


def _boundary(ax: Axes, xx: np.ndarray, yy: np.ndarray, out: np.ndarray) -> Any:
    levels = np.linspace(0.0, 1.0, 11)
    contour = ax.contourf(xx, yy, np.clip(out, 0, 1), levels=levels, cmap=OUTPUT_CMAP, alpha=0.55)
    if out.min() < 0.5 < out.max():
        ax.contour(xx, yy, out, levels=[0.5], colors="black", linewidths=1.0)
    return contour


# --------------------------------------------------------------------------- 4 boundary grid


#: Axes a boundary grid shows by default, in order: named choices before numbers.
BOUNDARY_AXES = ("activation", "init", "optimizer", "loss", "output_activation", "hidden", "lr")


def boundary_axes(runs: pd.DataFrame) -> list[str]:
    """The (up to) two axes a boundary grid shows by default (see :data:`BOUNDARY_AXES`)."""
    varying = varying_axes(runs)
    order = [*BOUNDARY_AXES, *(a for a in STUDY_AXES if a not in BOUNDARY_AXES)]
    return [a for a in order if a in varying][:2]


def boundary_grid(
    sweep: Sweep,
    *,
    rows: str | None = None,
    cols: str | None = None,
    dataset: Any = None,
    path: str | Path | None = None,
) -> Figure:
    """Decision boundaries across one or two axes, for one data set.

    Each cell is one config: the filled contour is its output averaged over seeds
    (from their stored final weights), the thin lines each seed's 0.5 boundary, the
    dots the training set; the title says how many seeds converged. All cells share
    one colour scale. Other varying axes are held at the best config.
    """
    runs = sweep.runs
    if dataset is None:
        dataset = _datasets(runs)[0]
    runs = runs[runs["dataset"] == dataset]
    if rows is None and cols is None:
        chosen = boundary_axes(runs)
        if not chosen:
            raise Skip("decision boundary grid: the sweep varies nothing but the seed")
        rows, cols = (chosen[0], chosen[1]) if len(chosen) == 2 else (None, chosen[0])
    studied = [a for a in (rows, cols) if a is not None]
    for a in studied:
        if a not in varying_axes(runs):
            raise Skip(f"decision boundary grid by {title(a)}: the sweep does not vary it")
    data, fixed = held_at_best(runs, studied)
    # Every value the sweep ran, so one never run with the others held at the best
    # config shows as an empty cell that says so, rather than as a missing row.
    row_values = ordered_values(runs, rows) if rows else [None]
    col_values = ordered_values(runs, cols) if cols else [None]
    first = data.iloc[0]
    cfg = config_of(first)
    x, y = make_dataset(cfg.dataset, seed=cfg.data_seed, n=cfg.n, noise=cfg.noise)
    xx, yy = plane(x, resolution=100)
    weights = sweep.weights_of(data["run_id"])
    fig, axes = _figure(len(row_values), len(col_values), (2.5, 2.4))
    contour = None
    for i, rv in enumerate(row_values):
        for j, cv in enumerate(col_values):
            ax = axes[i, j]
            cell = data
            if rows:
                cell = cell[_equals(cell[rows], rv)]
            if cols:
                cell = cell[_equals(cell[cols], cv)]
            ax.set_xticks([])
            ax.set_yticks([])
            name = " · ".join(label(a, v) for a, v in ((rows, rv), (cols, cv)) if a)
            if cell.empty:
                ax.set_title(f"{name}\n(not run with the others held)", fontsize=8)
                ax.set_frame_on(False)
                continue
            surfaces = []
            for run_id, row in zip(cell["run_id"], cell.itertuples(index=False), strict=True):
                out = outputs(
                    params_of(weights, str(run_id)),
                    xx,
                    yy,
                    activation=str(row.activation),
                    output_activation=str(row.output_activation),
                )
                surfaces.append(out)
                if out.min() < 0.5 < out.max():
                    ax.contour(xx, yy, out, levels=[0.5], colors="black", linewidths=0.6, alpha=0.7)
            levels = np.linspace(0.0, 1.0, 11)
            contour = ax.contourf(
                xx,
                yy,
                np.clip(np.mean(surfaces, axis=0), 0, 1),
                levels=levels,
                cmap=OUTPUT_CMAP,
                alpha=0.6,
                zorder=0,
            )
            _scatter(ax, x, y.reshape(-1).astype(int), small=True)
            k, n = int(cell["converged"].sum()), len(cell)
            ax.set_title(f"{name}\n{k}/{n} seeds converged", fontsize=8)
    for i, rv in enumerate(row_values):
        if rows:
            axes[i, 0].set_ylabel(f"{title(rows)} {label(rows, rv)}", fontsize=8)
    for j, cv in enumerate(col_values):
        if cols:
            axes[-1, j].set_xlabel(f"{title(cols)} {label(cols, cv)}", fontsize=8)
    if contour is not None:
        fig.colorbar(
            contour, ax=axes.ravel().tolist(), label="net output, mean over seeds", shrink=0.8
        )
    studied_text = " x ".join(title(a) for a in studied)
    _suptitle(
        fig,
        f"{dataset}: decision boundaries by {studied_text}\n"
        "fill: mean output over seeds; lines: each seed's 0.5 boundary"
        + (f"\n{_subtitle(fixed)}" if fixed else ""),
        fontsize=9,
    )
    save(fig, path)
    return fig


# --------------------------------------------------------------------------- 5 symmetry


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
    fig, axes = _figure(2, 1, (width, 2.8)) if stacked else _figure(1, 2, (width, 3.2))
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
    _suptitle(
        fig,
        "Zero-init symmetry: distinct hidden units per layer (bar: mean over runs, "
        "whisker: min-max; dashed: layer width)\n"
        + (_subtitle({}, pooled) or "only init and final weights are stored"),
        fontsize=9,
    )
    save(fig, path)
    return fig


# --------------------------------------------------------------------------- 6 bars


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
    datasets = [str(d) for d in _datasets(runs)]
    n_cols = min(3, len(chosen))
    n_rows = -(-len(chosen) // n_cols)
    bars = max(len(ordered_values(runs, a)) for a in chosen) * len(datasets)
    fig, grid = _figure(n_rows, n_cols, (max(3.3, 0.42 * bars + 1.2), 2.8))
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
    _suptitle(
        fig,
        "Convergence rate per axis value (labels: converged / runs; each panel pooled over "
        "the other axes)",
        fontsize=10,
    )
    save(fig, path)
    return fig
