"""The worker's job: train one chunk of runs and return its runs, curves and weights tables."""

import time
from typing import Any

import pyarrow as pa

from sweep import store
from sweep.datasets import make_dataset
from sweep.runner.planning import Chunk
from sweep.training import RunResult, lockstep_key, train_group, train_one


def _error_text(error: BaseException) -> str:
    """``Type: message``, a private class named by its nearest public base (NumPy's
    ``_ArrayMemoryError`` is a MemoryError to the user)."""
    kind = type(error)
    while kind.__qualname__.startswith("_") and kind.__base__ is not None:
        kind = kind.__base__
    name = kind.__qualname__  # qualified by its module as traceback does it
    if kind.__module__ not in ("builtins", "__main__"):
        name = f"{kind.__module__}.{name}"
    message = str(error)
    return f"{name}: {message}" if message else name


def train_chunk(runs: Chunk, record_every: int) -> dict[str, pa.Table]:
    """Train ``runs``; their runs/curves/weights tables.

    Runs in a worker. Runs that share a :func:`sweep.training.lockstep_key` are trained
    together (:func:`sweep.training.train_group`: one lockstep call where that kernel
    suits the net), each data set made once. When a group raises, its runs are trained
    one by one, so a run that raises alone becomes a ``failed`` row with the error
    text and the others go on.
    """
    groups: dict[tuple[Any, ...], Chunk] = {}
    for rid, cfg in runs:
        groups.setdefault(lockstep_key(cfg), []).append((rid, cfg))
    rows: list[dict[str, Any]] = []
    ids: list[str] = []
    curves = []
    weights = []
    for group in groups.values():
        cfg = group[0][1]
        try:
            data = make_dataset(cfg.dataset, seed=cfg.data_seed, n=cfg.n, noise=cfg.noise)
            results: list[RunResult | str] = list(train_group([c for _, c in group], data=data))
            seconds = [r.train_seconds for r in results if isinstance(r, RunResult)]
        except Exception:
            results, seconds = [], []
            for _, c in group:
                start = time.perf_counter()
                try:
                    results.append(train_one(c))
                except Exception as error:
                    results.append(_error_text(error))
                seconds.append(time.perf_counter() - start)
        for (rid, c), res, secs in zip(group, results, seconds, strict=True):
            if isinstance(res, str):
                rows.append(store.run_row(rid, c, status="failed", seconds=secs, error=res))
                continue
            rows.append(
                store.run_row(
                    rid,
                    c,
                    status="diverged" if res.diverged else "ok",
                    seconds=res.train_seconds,
                    final_loss=res.final_loss,
                    final_accuracy=res.final_accuracy,
                    best_loss=res.best_loss,
                    convergence_epoch=res.convergence_epoch,
                    epochs_run=res.epochs_run,
                )
            )
            ids.append(rid)
            curves.append((res.loss, res.accuracy, res.symmetry))
            weights.append((res.init_weights, res.weights))
    return {
        "runs": store.runs_table(rows),
        "curves": store.curves_table(ids, curves, record_every),
        "weights": store.weights_table(ids, weights),
    }
