"""``python -m sweep report``: every figure that applies to a sweep, and ``report.md``.

The report reads what is on disk (a finished, running or interrupted sweep alike),
draws each figure of :mod:`analysis.figures` the sweep's axes allow, writes them as
PNG and SVG, the summary table as CSV, and a Markdown page that embeds them with
relative paths, so the output folder can be moved, committed or opened on its own.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from analysis import figures
from analysis.axes import label, ordered_values, title, varying_axes
from analysis.load import Sweep, load
from analysis.summarize import STATS, summarize
from sweep.errors import UserError
from sweep.grid import GridError, load_grid
from sweep.store import GRID_FILE, read_manifest

#: Summary rows shown in report.md (all of them go to summary.csv).
TOP_ROWS = 25


@dataclass
class Report:
    """What :func:`write_report` wrote: the page, the figures (title, PNG path), and notes."""

    page: Path
    figures: list[tuple[str, Path]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def expected_runs(folder: Path) -> int | None:
    """How many runs the sweep's own grid file (``grid.toml`` in the folder) expands to."""
    path = folder / GRID_FILE
    if not path.is_file():
        return None
    try:
        return len(load_grid(path).runs)
    except GridError:
        return None


def plan(sweep: Sweep) -> list[tuple[str, str, Callable[..., Figure]]]:
    """The figures to try, in report order: (file stem, title, draw(path=...) -> Figure)."""
    runs = sweep.runs
    varying = varying_axes(runs)
    items: list[tuple[str, str, Callable[..., Figure]]] = [
        (
            "heatmap_epoch",
            "Convergence epoch over learning rate x hidden size",
            partial(figures.heatmaps, runs, metric="convergence_epoch"),
        ),
        (
            "heatmap_accuracy",
            "Final accuracy over learning rate x hidden size",
            partial(figures.heatmaps, runs, metric="final_accuracy"),
        ),
    ]
    curve_axes = [a for a in figures.STUDY_AXES if a in varying]
    if not curve_axes:
        items.append(
            ("curves", "Learning curves", partial(_skip, "learning curves: no axis varies"))
        )
    for axis in curve_axes:
        items.append(
            (
                f"curves_{axis}",
                f"{'Accuracy' if axis == 'loss' else 'Learning'} curves by {title(axis)}",
                # Losses of different functions are not comparable; accuracies are.
                partial(
                    figures.learning_curves,
                    sweep,
                    axis=axis,
                    metric="accuracy" if axis == "loss" else "loss",
                ),
            )
        )
    datasets = ordered_values(runs, "dataset")
    for dataset in datasets:
        items.append(
            (
                f"prediction_{dataset}",
                f"Ground truth vs prediction ({dataset}, best config)",
                partial(figures.prediction, sweep, dataset=dataset),
            )
        )
    for dataset in datasets:
        items.append(
            (
                f"boundaries_{dataset}",
                f"Decision boundaries ({dataset})",
                partial(figures.boundary_grid, sweep, dataset=dataset),
            )
        )
    items.append(("symmetry", "Zero-init symmetry", partial(figures.symmetry, sweep)))
    items.append(
        (
            "symmetry_epochs",
            "Symmetry over training",
            partial(figures.symmetry_over_epochs, sweep),
        )
    )
    items.append(
        (
            "convergence",
            "Convergence rate per axis value",
            partial(figures.convergence_bars, runs),
        )
    )
    return items


def _skip(reason: str, *, path: Path) -> Figure:
    raise figures.Skip(reason)


def write_report(sweep_dir: str | Path, out_dir: str | Path | None = None) -> Report:
    """Draw every applicable figure of the sweep in ``sweep_dir`` and write ``report.md``.

    Parameters
    ----------
    sweep_dir : the results folder.
    out_dir : where to write (default ``<sweep_dir>/report``); created if needed.

    Raises
    ------
    ResultsError : the folder is missing or holds no run yet (nothing is written).
    UserError : ``out_dir`` cannot be created.
    """
    folder = Path(sweep_dir)
    runs = load(folder)
    sweep = Sweep(folder, runs)
    out = Path(out_dir) if out_dir is not None else folder / "report"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"{out}: cannot create the report folder ({e.strerror})") from None
    report = Report(page=out / "report.md")
    for stem, name, draw in plan(sweep):
        try:
            draw(path=out / stem)
        except figures.Skip as e:
            report.skipped.append(str(e))
            continue
        report.figures.append((name, out / f"{stem}.png"))
    table = summarize(runs)
    table_for_csv = table.copy()
    if "hidden" in table_for_csv:
        table_for_csv["hidden"] = [label("hidden", h) for h in table_for_csv["hidden"]]
    table_for_csv.to_csv(out / "summary.csv", index=False)
    report.page.write_text(_page(folder, runs, table, report), encoding="utf-8")
    return report


# --------------------------------------------------------------------------- the page


def _page(folder: Path, runs: pd.DataFrame, table: pd.DataFrame, report: Report) -> str:
    manifest = read_manifest(folder)
    name = manifest.get("name") or folder.name
    total = expected_runs(folder)
    counts = runs["status"].value_counts()
    done = len(runs)
    if total is not None and done >= total and manifest.get("finished"):
        progress = f"all {total:,} runs done"
    elif total is not None:
        progress = (
            f"{done:,} of {total:,} runs on disk: the sweep is still running or was "
            "interrupted, and this report shows the runs done so far"
        )
    else:
        progress = f"{done:,} runs on disk"
    statuses = ", ".join(f"{int(counts.get(s, 0)):,} {s}" for s in ("ok", "diverged", "failed"))
    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lines = [
        f"# Sweep report: {name}",
        "",
        f"Results folder `{folder}`: {progress} ({statuses}). Generated {now}.",
        "",
    ]
    lines += _axes_text(runs)
    lines += ["", "## Summary: best configs first", ""]
    lines += [
        "One row per config over its seeds: share of seeds whose loss reached the target "
        "(`converged`), the median convergence epoch with its inter-quartile range over "
        "the converged seeds, and the final accuracy and loss (mean ± std over seeds; loss "
        "over runs with a finite loss). Sorted by convergence rate, then median epoch, then "
        "accuracy.",
        "",
    ]
    lines += _markdown_table(table.head(TOP_ROWS))
    if len(table) > TOP_ROWS:
        lines += [
            "",
            f"... and {len(table) - TOP_ROWS:,} more configs: every row is in "
            "[summary.csv](summary.csv).",
        ]
    lines += ["", "## Figures", ""]
    for name_, png in report.figures:
        rel = png.name
        lines += [
            f"### {name_}",
            "",
            f"![{name_}]({rel})",
            "",
            f"[SVG]({png.with_suffix('.svg').name})",
            "",
        ]
    if report.skipped:
        lines += ["## Figures not drawn", ""]
        lines += [f"- {note}" for note in report.skipped]
        lines += [""]
    lines += [
        "## Notes",
        "",
        "- Figures hold the axes they do not study at the best config (named in each "
        "figure's subtitle); seeds are aggregated, never shown one at a time.",
        "- Only the initial and final weights are stored, so the zero-init symmetry figure "
        "compares distinct hidden units at those two stages; the symmetry over training "
        "comes from the measure the kernels record at every epoch (the curves' `symmetry` "
        "column); analysis never retrains a run.",
        "- Learning curves: a run that reached its target stopped; it counts at its last "
        "loss afterwards.",
    ]
    failed = runs[runs["status"] == "failed"]
    if len(failed):
        lines += ["", "## Failed runs", ""]
        for rid, error in list(zip(failed["run_id"], failed["error"], strict=True))[:10]:
            lines.append(f"- `{rid}`: {error}")
        if len(failed) > 10:
            lines.append(f"- ... and {len(failed) - 10:,} more (see runs.parquet)")
    return "\n".join(lines) + "\n"


def _axes_text(runs: pd.DataFrame) -> list[str]:
    varying = varying_axes(runs)
    if varying:
        sizes = runs.groupby(varying, observed=True, dropna=False).size()
        low, high = int(sizes.min()), int(sizes.max())
        per_config = str(low) if low == high else f"{low} to {high}"
    else:
        per_config = str(len(runs))
    lines = [f"Seeds per config: {per_config}.", ""]
    if varying:
        lines.append("Axes that vary:")
        lines.append("")
        for axis in varying:
            values = ", ".join(label(axis, v) for v in ordered_values(runs, axis))
            lines.append(f"- {title(axis)} (`{axis}`): {values}")
    else:
        lines.append("No axis varies but the seed.")
    return lines


def _cell(name: str, row: pd.Series) -> str:
    value: Any = row[name]
    if name in ("convergence_rate", "divergence_rate"):
        return f"{value:.0%}"
    if name == "epoch_median":
        if pd.isna(value):
            return "never"
        return f"{value:.0f} [{row['epoch_q25']:.0f}, {row['epoch_q75']:.0f}]"
    if name == "accuracy_mean":
        return f"{value:.3f} ± {_std(row['accuracy_std'], '.3f')}"
    if name == "loss_mean":
        return "n/a" if pd.isna(value) else f"{value:.3g} ± {_std(row['loss_std'], '.2g')}"
    if name == "n_converged":
        return f"{int(value)}/{int(row['n_seeds'])}"
    return label(name, value)


def _std(value: Any, fmt: str) -> str:
    return "n/a" if pd.isna(value) else format(value, fmt)


#: Summary columns shown in report.md, and their headers.
_SHOWN = {
    "n_converged": "converged",
    "convergence_rate": "rate",
    "epoch_median": "median epoch [IQR]",
    "accuracy_mean": "accuracy",
    "loss_mean": "final loss",
    "divergence_rate": "diverged",
}


def _markdown_table(table: pd.DataFrame) -> list[str]:
    axes = [c for c in table.columns if c not in STATS]
    columns = [*axes, *_SHOWN]
    header = [f"`{a}`" for a in axes] + list(_SHOWN.values())
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, row in table.iterrows():
        cells = [_cell(c, row).replace("|", "\\|") for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return lines
