"""One chunk's results as Arrow tables: a run's row, its curves, its weights."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from sweep.config import RunConfig
from sweep.store.arrays import (
    column_array,
    list_array,
    number_array,
    picked_strings,
    rows_array,
)
from sweep.store.schema import (
    CURVES_SCHEMA,
    RUNS_SCHEMA,
    STAGES,
    STATUSES,
    WEIGHTS_SCHEMA,
)

Params = list[tuple[np.ndarray, np.ndarray]]


def run_row(
    run_id: str,
    cfg: RunConfig,
    *,
    status: str,
    seconds: float,
    final_loss: float | None = None,
    final_accuracy: float | None = None,
    best_loss: float | None = None,
    convergence_epoch: int | None = None,
    epochs_run: int = 0,
    error: str | None = None,
) -> dict[str, Any]:
    """One row of ``runs.parquet``: the config's fields, its shape and the outcome.

    A failed run has null losses, ``epochs_run`` 0 and its error text.
    """
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
    hidden = cfg.hidden
    return {
        "run_id": run_id,
        **cfg.to_dict(),
        "hidden_size": hidden[0] if hidden and len(set(hidden)) == 1 else None,
        "hidden_layers": len(hidden),
        "status": status,
        "final_loss": final_loss,
        "final_accuracy": final_accuracy,
        "best_loss": best_loss,
        "converged": convergence_epoch is not None,
        "convergence_epoch": convergence_epoch,
        "epochs_run": epochs_run,
        "train_seconds": seconds,
        "error": error,
    }


def runs_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows from :func:`run_row` as a table of :data:`RUNS_SCHEMA`."""
    columns = [column_array([row[f.name] for row in rows], f.type) for f in RUNS_SCHEMA]
    return pa.Table.from_arrays(columns, schema=RUNS_SCHEMA)


def recorded_epochs(epochs_run: int, every: int) -> np.ndarray:
    """Epochs kept with ``record_every = every``: 0, k, 2k, ... and always the last one."""
    kept = np.arange(0, epochs_run, every, dtype=np.int64)
    if epochs_run > 0 and kept[-1] != epochs_run - 1:
        kept = np.append(kept, epochs_run - 1)
    return kept


def curves_table(
    run_ids: list[str], curves: list[tuple[np.ndarray, np.ndarray, np.ndarray]], every: int
) -> pa.Table:
    """Long-format curves: for each run its ``(loss, accuracy, symmetry)`` arrays (the
    last ``(epochs, hidden layers)``), every k-th epoch."""
    epochs = [recorded_epochs(len(curve[0]), every) for curve in curves]
    if not epochs:
        return CURVES_SCHEMA.empty_table()
    columns = [
        picked_strings(run_ids, np.repeat(np.arange(len(run_ids)), [len(e) for e in epochs])),
        number_array(np.concatenate(epochs), pa.int64()),
        number_array(
            np.concatenate([c[0][e] for c, e in zip(curves, epochs, strict=True)]),
            pa.float64(),
        ),
        number_array(
            np.concatenate([c[1][e] for c, e in zip(curves, epochs, strict=True)]),
            pa.float64(),
        ),
        rows_array([c[2][e] for c, e in zip(curves, epochs, strict=True)], pa.float64()),
    ]
    return pa.Table.from_arrays(columns, schema=CURVES_SCHEMA)


def weights_table(run_ids: list[str], weights: list[tuple[Params, Params]]) -> pa.Table:
    """Each run's ``(init, final)`` weights, one row per stage and layer."""
    rows: list[tuple[int, int, int, int, int]] = []  # run, stage, layer, fan in, fan out
    w_list: list[np.ndarray] = []
    b_list: list[np.ndarray] = []
    for run, pair in enumerate(weights):
        for stage, params in enumerate(pair):
            for layer, (w, b) in enumerate(params):
                rows.append((run, stage, layer, *w.shape))
                w_list.append(w)
                b_list.append(b)
    if not rows:
        return WEIGHTS_SCHEMA.empty_table()
    table = np.array(rows, np.int64)
    columns = [
        picked_strings(run_ids, table[:, 0]),
        picked_strings(STAGES, table[:, 1]),
        *(number_array(table[:, k], pa.int64()) for k in (2, 3, 4)),
        list_array(w_list, pa.float64()),
        list_array(b_list, pa.float64()),
    ]
    return pa.Table.from_arrays(columns, schema=WEIGHTS_SCHEMA)
