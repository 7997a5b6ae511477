"""Read a results folder into typed pandas frames (through :mod:`sweep.store`, never training).

:func:`load` gives the runs table (one row per run) with categoricals for the named
axes and a nullable ``Int64`` ``convergence_epoch``; asked for curves or weights it
gives a :class:`Sweep` holding all three, plus the helpers a notebook needs to get
back one run's config, data set and weights.

It reads whatever is on disk: the consolidated files of a finished sweep and the
parts of one still running or interrupted (:mod:`sweep.store` unites them).
"""

from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal, overload

import numpy as np
import pandas as pd

from sweep.config import FIELDS, RunConfig
from sweep.datasets import make_dataset
from sweep.errors import UserError
from sweep.store import read_curves, read_runs, read_weights

#: Config fields read as categoricals (categories in the order the config table lists them).
NAMED_AXES = ("dataset", "activation", "output_activation", "loss", "optimizer", "init")
STATUSES = ("ok", "diverged", "failed")

#: Every RunConfig field but the seed: the columns a config is made of.
CONFIG_FIELDS = tuple(f.name for f in fields(RunConfig) if f.name != "seed")

Params = list[tuple[np.ndarray, np.ndarray]]


class ResultsError(UserError):
    """A results folder that is missing or holds no runs; ``str(e)`` is one line (exit 2)."""


@dataclass(frozen=True)
class Sweep:
    """One results folder, loaded: ``runs`` and, when asked, ``curves`` and ``weights``.

    Without them in memory, :meth:`curves_of` and :meth:`weights_of` read just the runs
    asked for from disk (what the report does, so a large sweep is never read whole).
    """

    path: Path
    runs: pd.DataFrame
    curves: pd.DataFrame | None = None
    weights: pd.DataFrame | None = None

    def config(self, run_id: str) -> RunConfig:
        """The :class:`RunConfig` of one run, rebuilt from its row."""
        return config_of(self.runs.loc[self.runs["run_id"] == run_id].iloc[0])

    def data(self, run_id: str) -> tuple[np.ndarray, np.ndarray]:
        """The run's training set ``(x, y)``, regenerated from its data fields."""
        cfg = self.config(run_id)
        return make_dataset(cfg.dataset, seed=cfg.data_seed, n=cfg.n, noise=cfg.noise)

    def params(self, run_id: str, stage: str = "final") -> Params:
        """The run's stored weights ``[(W, b), ...]`` at ``stage`` ('init' or 'final')."""
        return params_of(self.weights_of([run_id]), run_id, stage)

    def curves_of(self, run_ids: Iterable[str]) -> pd.DataFrame:
        """The curves of these runs: from ``curves`` when loaded, else read from disk."""
        ids = list(run_ids)
        if self.curves is not None:
            return self.curves[self.curves["run_id"].isin(ids)]
        return read_curves(self.path, run_ids=ids)

    def weights_of(self, run_ids: Iterable[str]) -> pd.DataFrame:
        """The weights of these runs: from ``weights`` when loaded, else read from disk."""
        ids = list(run_ids)
        if self.weights is not None:
            return self.weights[self.weights["run_id"].isin(ids)]
        return read_weights(self.path, run_ids=ids)


def config_of(row: pd.Series) -> RunConfig:
    """Rebuild the :class:`RunConfig` of one row of the runs table."""
    values = {}
    for name in (*CONFIG_FIELDS, "seed"):
        value = row[name]
        if name == "hidden":
            value = tuple(int(w) for w in value)
        elif pd.isna(value):
            value = None
        elif FIELDS[name].kind == "int":
            value = int(value)
        elif FIELDS[name].kind == "float":
            value = float(value)
        elif FIELDS[name].kind == "bool":
            value = bool(value)
        else:
            value = str(value)
        values[name] = value
    return RunConfig(**values)


def params_of(weights: pd.DataFrame, run_id: str, stage: str = "final") -> Params:
    """One run's weights ``[(W, b), ...]`` from the weights table, W shaped (fan_in, fan_out)."""
    rows = weights[(weights["run_id"] == run_id) & (weights["stage"] == stage)]
    if rows.empty:
        raise ValueError(f"no {stage} weights stored for run {run_id!r}")
    out: Params = []
    rows = rows.sort_values("layer")
    columns = (rows[c].tolist() for c in ("W", "b", "fan_in", "fan_out"))
    for w, b, fan_in, fan_out in zip(*columns, strict=True):
        out.append(
            (
                np.asarray(w, dtype=np.float64).reshape(int(fan_in), int(fan_out)),
                np.asarray(b, dtype=np.float64),
            )
        )
    return out


def check_folder(path: str | Path) -> Path:
    """The results folder as a Path, or a :class:`ResultsError` when it does not exist."""
    folder = Path(path)
    if not folder.is_dir():
        raise ResultsError(f"{folder}: no such results folder")
    return folder


def no_runs(folder: Path) -> ResultsError:
    """The error for a folder that holds no finished run."""
    return ResultsError(f"{folder}: no runs on disk (not a results folder, or none finished yet)")


def typed_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs table with the dtypes analysis relies on.

    Named axes and ``status`` become categoricals (categories in the config table's
    order, named axes limited to the values present), ``hidden`` a tuple of ints (lists
    are unhashable, tuples group), ``convergence_epoch`` and ``hidden_size`` nullable Int64.
    """
    runs = runs.copy()
    for name in NAMED_AXES:
        present = set(runs[name].dropna().astype(str))
        order = [c for c in FIELDS[name].choices if c in present]
        order += sorted(present - set(order))
        runs[name] = pd.Categorical(runs[name].astype(str), categories=order)
    runs["status"] = pd.Categorical(runs["status"].astype(str), categories=list(STATUSES))
    runs["hidden"] = [tuple(int(w) for w in h) for h in runs["hidden"]]
    for name in ("convergence_epoch", "hidden_size", "batch_size", "n"):
        runs[name] = runs[name].astype("Int64")
    runs["converged"] = runs["converged"].astype(bool)
    return runs.reset_index(drop=True)


@overload
def load(
    path: str | Path, curves: Literal[False] = False, weights: Literal[False] = False
) -> pd.DataFrame: ...
@overload
def load(path: str | Path, curves: Literal[True], weights: bool = False) -> Sweep: ...
@overload
def load(path: str | Path, curves: bool = False, *, weights: Literal[True]) -> Sweep: ...
@overload
def load(path: str | Path, curves: bool, weights: bool) -> pd.DataFrame | Sweep: ...


def load(path: str | Path, curves: bool = False, weights: bool = False) -> pd.DataFrame | Sweep:
    """Load a results folder.

    Parameters
    ----------
    path : the sweep's results folder (``results/<name>`` or its ``--out``).
    curves, weights : also read the learning curves / the init and final weights.

    Returns
    -------
    The runs DataFrame (one row per run on disk) when neither is asked, else a
    :class:`Sweep` with ``runs``, ``curves`` and ``weights`` (None when not asked).

    Raises
    ------
    ResultsError : the folder does not exist or holds no finished run yet.
    """
    folder = check_folder(path)
    raw = read_runs(folder)
    if len(raw) == 0:
        raise no_runs(folder)
    runs = typed_runs(raw)
    if not curves and not weights:
        return runs
    curve_frame = read_curves(folder) if curves else None
    weight_frame = read_weights(folder) if weights else None
    if weight_frame is not None:
        weight_frame = weight_frame.astype({"stage": "category"})
    return Sweep(folder, runs, curve_frame, weight_frame)
