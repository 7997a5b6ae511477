"""One row per config, over its seeds: how often, how fast and how well it learned."""

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.axes import varying_axes

#: The statistics :func:`summarize` adds, in order.
STATS = (
    "n_seeds",
    "n_converged",
    "convergence_rate",
    "epoch_median",
    "epoch_q25",
    "epoch_q75",
    "accuracy_mean",
    "accuracy_std",
    "loss_mean",
    "loss_std",
    "divergence_rate",
    "n_failed",
)


def summarize(runs: pd.DataFrame, by: Sequence[str] | None = None) -> pd.DataFrame:
    """Summarise the runs of each config over its seeds, best config first.

    Parameters
    ----------
    runs : the runs table from :func:`analysis.load`.
    by : the columns a config is told apart by; default: every config field (seed
        aside) that varies in ``runs`` (:func:`analysis.axes.varying_axes`). An empty
        list summarises all runs as one row.

    Returns
    -------
    One row per config: the ``by`` columns, then ``n_seeds`` (runs), ``n_converged``,
    ``convergence_rate`` (share of runs whose loss went below ``target_loss``),
    ``epoch_median``, ``epoch_q25``, ``epoch_q75`` (median and quartiles of
    ``convergence_epoch`` over the converged runs; NaN when none converged),
    ``accuracy_mean``/``accuracy_std`` (final accuracy over all runs),
    ``loss_mean``/``loss_std`` (final loss over runs whose final loss is finite),
    ``divergence_rate`` (share of runs with status 'diverged') and ``n_failed``.
    Sorted by convergence rate (high first), median epoch (low first, none last),
    mean accuracy (high first). Standard deviations use ddof=1 (NaN for one seed).
    """
    keys = varying_axes(runs) if by is None else list(by)
    unknown = [k for k in keys if k not in runs.columns]
    if unknown:
        raise ValueError(f"by: no column {unknown[0]!r} in the runs table")
    converged = runs["converged"].astype(bool)
    loss = runs["final_loss"].astype("float64")
    # Working columns get a prefix so they never clash with a config column (e.g. "loss").
    frame = pd.DataFrame(
        {
            "_converged": converged.astype("float64"),
            "_epoch": runs["convergence_epoch"].astype("float64").where(converged),
            "_accuracy": runs["final_accuracy"].astype("float64"),
            "_loss": loss.where(np.isfinite(loss)),
            "_diverged": (runs["status"].astype(str) == "diverged").astype("float64"),
            "_failed": (runs["status"].astype(str) == "failed").astype("int64"),
        },
        index=runs.index,
    )
    if keys:
        frame = pd.concat([runs[keys], frame], axis=1)
        groups = frame.groupby(keys, observed=True, sort=False, dropna=False)
    else:
        groups = frame.groupby(np.zeros(len(frame), dtype=np.int64))
    out = groups.agg(
        n_seeds=("_converged", "size"),
        n_converged=("_converged", "sum"),
        convergence_rate=("_converged", "mean"),
        epoch_median=("_epoch", "median"),
        epoch_q25=("_epoch", lambda s: s.quantile(0.25)),
        epoch_q75=("_epoch", lambda s: s.quantile(0.75)),
        accuracy_mean=("_accuracy", "mean"),
        accuracy_std=("_accuracy", "std"),
        loss_mean=("_loss", "mean"),
        loss_std=("_loss", "std"),
        divergence_rate=("_diverged", "mean"),
        n_failed=("_failed", "sum"),
    )
    out["n_converged"] = out["n_converged"].astype("int64")
    out = out.reset_index(drop=not keys)
    out = out.sort_values(
        ["convergence_rate", "epoch_median", "accuracy_mean"],
        ascending=[False, True, False],
        na_position="last",
        kind="stable",
    )
    return out.reset_index(drop=True)
