"""Decision boundaries from stored weights: one config's prediction over the plane, and a
grid of them over two axes (the mean output over seeds, each seed's 0.5 line)."""

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from analysis.axes import best_slice, describe, label, ordered_values, title, varying_axes
from analysis.figures.common import (
    STUDY_AXES,
    Skip,
    dataset_values,
    equals,
    held_at_best,
    new_figure,
    save,
    subtitle,
    suptitle,
)
from analysis.load import Sweep, config_of, params_of
from analysis.nets import outputs, plane
from analysis.summarize import summarize
from sweep.datasets import make_dataset

CLASS_COLOURS = ("#3b6fb6", "#d1495b")  # class 0 blue, class 1 red (the boundary's colours)
OUTPUT_CMAP = "RdBu_r"


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
    fig, axes = new_figure(1, 2, (3.9, 3.6))
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
    suptitle(
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
        dataset = dataset_values(runs)[0]
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
    fig, axes = new_figure(len(row_values), len(col_values), (2.5, 2.4))
    contour = None
    for i, rv in enumerate(row_values):
        for j, cv in enumerate(col_values):
            ax = axes[i, j]
            cell = data
            if rows:
                cell = cell[equals(cell[rows], rv)]
            if cols:
                cell = cell[equals(cell[cols], cv)]
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
    suptitle(
        fig,
        f"{dataset}: decision boundaries by {studied_text}\n"
        "fill: mean output over seeds; lines: each seed's 0.5 boundary"
        + (f"\n{subtitle(fixed)}" if fixed else ""),
        fontsize=9,
    )
    save(fig, path)
    return fig
