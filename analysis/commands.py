"""``python -m sweep report | show | status``: analysis's subcommands of the sweep CLI.

:func:`register` adds them to the parser :mod:`sweep.cli` builds; each is a function
``func(args) -> int``. A missing or empty results folder, or an unknown run id, raises
:class:`~sweep.errors.UserError`, which the CLI prints as one line with exit status 2.
"""

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.axes import label
from analysis.load import CONFIG_FIELDS, check_folder, no_runs, params_of, typed_runs
from analysis.nets import distinct_units
from sweep.errors import UserError
from sweep.grid import GridError, load_grid, run_id
from sweep.store import GRID_FILE, STATUSES, read_manifest, read_runs, read_weights, run_statuses


def register(commands: "argparse._SubParsersAction[Any]") -> None:
    """Add ``report``, ``show`` and ``status`` to the CLI's subcommands."""
    report = commands.add_parser(
        "report",
        help="draw every figure that applies to a sweep and write report.md",
        description="Draw the figures that apply to the sweep in RESULTS (PNG and SVG), the "
        "summary table (summary.csv) and report.md, a Markdown page embedding them. Works "
        "on a sweep still running or interrupted: it reports what is on disk.",
    )
    report.add_argument("results", type=Path, metavar="RESULTS", help="the results folder")
    report.add_argument(
        "--out", type=Path, metavar="DIR", help="where to write (default: RESULTS/report)"
    )
    report.set_defaults(func=report_command)

    show = commands.add_parser(
        "show",
        help="print one run: config, metrics and final weights unit by unit",
        description="Print the run RUN_ID of RESULTS: its config, its metrics and its "
        "final weights layer by layer, unit by unit. A unique prefix of the id will do.",
    )
    show.add_argument("results", type=Path, metavar="RESULTS", help="the results folder")
    show.add_argument("run_id", metavar="RUN_ID", help="a run id, or a unique prefix of one")
    show.add_argument("--init", action="store_true", help="print the initial weights too")
    show.set_defaults(func=show_command)

    status = commands.add_parser(
        "status",
        help="how far a sweep is: runs done, ok, diverged, failed, of the total",
        description="Count the runs of RESULTS on disk by status, against the total of the "
        "grid file stored with them (reads only the runs' ids and statuses).",
    )
    status.add_argument("results", type=Path, metavar="RESULTS", help="the results folder")
    status.set_defaults(func=status_command)


# --------------------------------------------------------------------------- report


def report_command(args: argparse.Namespace) -> int:
    # Fail before importing the plotting stack (a second or two) or writing anything.
    folder = check_folder(args.results)
    if not run_statuses(folder):
        raise no_runs(folder)
    import matplotlib

    matplotlib.use("Agg")
    from analysis.report import write_report

    report = write_report(folder, args.out)
    out = report.page.parent
    print(f"wrote {report.page} with {len(report.figures)} figures (PNG and SVG) in {out}")
    for note in report.skipped:
        print(f"  not drawn: {note}")
    return 0


# --------------------------------------------------------------------------- status


def status_command(args: argparse.Namespace) -> int:
    folder = check_folder(args.results)
    statuses = run_statuses(folder)
    grid = folder / GRID_FILE
    if not statuses and not grid.is_file():
        raise UserError(f"{folder}: not a results folder (no {GRID_FILE}, no runs)")
    ids: set[str] | None = None
    if grid.is_file():
        try:
            ids = {run_id(cfg) for cfg in load_grid(grid).runs}
        except GridError as e:
            print(f"note: {grid} no longer reads as a grid ({e}); the total is unknown")
    manifest = read_manifest(folder)
    name = manifest.get("name") or folder.name
    mine = statuses if ids is None else {k: v for k, v in statuses.items() if k in ids}
    counts = {s: sum(1 for v in mine.values() if v == s) for s in STATUSES}
    done = len(mine)
    if ids is None:
        head = f"{name}: {done:,} runs done (total unknown)"
    else:
        left = len(ids) - done
        share = done / len(ids) if ids else 1.0
        head = f"{name}: {done:,} of {len(ids):,} runs done ({share:.0%})"
        if left:
            head += f", {left:,} to go"
    print(head)
    print("  " + ", ".join(f"{counts[s]:,} {s}" for s in STATUSES))
    extra = len(statuses) - done
    if extra:
        print(f"  {extra:,} more runs on disk are not in the current grid file")
    started, finished = manifest.get("started"), manifest.get("finished")
    if finished and ids is not None and done >= len(ids):
        print(f"  finished {finished} (started {started})")
    elif started:
        print(f"  started {started}; not finished (running, or interrupted: run it again)")
    return 0


# --------------------------------------------------------------------------- show


def resolve_run(folder: Path, prefix: str) -> str:
    """The one run id of ``folder`` starting with ``prefix``, or a UserError."""
    ids = sorted(rid for rid in run_statuses(folder) if rid.startswith(prefix))
    if not ids:
        raise UserError(f"{folder}: no run id starts with {prefix!r} (see runs.parquet)")
    if len(ids) > 1:
        shown = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
        raise UserError(
            f"{folder}: {len(ids)} run ids start with {prefix!r} ({shown}); give more digits"
        )
    return ids[0]


def show_command(args: argparse.Namespace) -> int:
    folder = check_folder(args.results)
    rid = resolve_run(folder, args.run_id)
    row = typed_runs(read_runs(folder, run_ids=[rid])).iloc[0]
    weights = read_weights(folder, run_ids=[rid])
    print(show_text(row, weights, initial=args.init, folder=folder))
    return 0


def show_text(
    row: pd.Series, weights: pd.DataFrame, *, initial: bool = False, folder: Path | None = None
) -> str:
    """One run as text: config, metrics, then weights layer by layer, unit by unit."""
    where = f" in {folder}" if folder is not None else ""
    lines = [f"run {row['run_id']}{where}", "", "config"]
    for name in (*CONFIG_FIELDS[:-3], "seed", *CONFIG_FIELDS[-3:]):
        lines.append(f"  {name:<18} {label(name, row[name])}")
    lines += ["", "metrics"]
    status = str(row["status"])
    lines.append(f"  {'status':<18} {status}")
    if status == "failed":
        lines.append(f"  {'error':<18} {row['error']}")
    if pd.isna(row["convergence_epoch"]):
        target = row["target_loss"]
        why = "no target_loss set" if pd.isna(target) else f"loss never below {target:g}"
        lines.append(f"  {'converged':<18} no ({why})")
    else:
        lines.append(
            f"  {'converged':<18} yes, at epoch {int(row['convergence_epoch'])} "
            f"(loss below {row['target_loss']:g})"
        )
    for name in ("epochs_run", "final_loss", "final_accuracy", "best_loss", "train_seconds"):
        value = row[name]
        text = f"{int(value):,}" if name == "epochs_run" else f"{float(value):.6g}"
        lines.append(f"  {name:<18} {text}")
    stages = ["init", "final"] if initial else ["final"]
    for stage in stages:
        lines.append("")
        if weights[weights["stage"] == stage].empty:
            lines.append(
                f"{stage} weights: none stored" + (" (the run failed)" * (status == "failed"))
            )
            continue
        params = params_of(weights, str(row["run_id"]), stage)
        lines += _weights_text(params, stage, str(row["activation"]), str(row["output_activation"]))
    return "\n".join(lines)


def _weights_text(
    params: list[tuple[np.ndarray, np.ndarray]], stage: str, activation: str, output: str
) -> list[str]:
    counts = distinct_units(params)
    lines = [f"{stage} weights (a unit computes z = a_prev . w + b)"]
    for k, (w, b) in enumerate(params):
        last = k == len(params) - 1
        kind = f"output, {output}" if last else f"hidden, {activation}"
        head = f"  layer {k + 1}: {w.shape[0]} -> {w.shape[1]} ({kind})"
        if not last:
            n = counts[k]
            head += f"; {n} distinct unit{'s' if n != 1 else ''} of {w.shape[1]}"
            if n == 1 and w.shape[1] > 1:
                head += " (every unit identical: the symmetry never broke)"
        lines.append(head)
        for j in range(w.shape[1]):
            weights = ", ".join(f"{v:10.4g}" for v in w[:, j])
            lines.append(f"    unit {j + 1}: w = [{weights}]  b = {b[j]:10.4g}")
    return lines
