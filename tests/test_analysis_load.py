"""analysis.load over a real sweep: dtypes, the Sweep helpers, partial and missing folders."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from analysis_fixtures import N_RUNS, STOP_AFTER, interrupted_sweep, small_sweep

import analysis
from analysis.load import NAMED_AXES, ResultsError, Sweep
from sweep.errors import UserError
from sweep.grid import run_id
from sweep.store import read_runs

__all__ = ["interrupted_sweep", "small_sweep"]


def test_runs_have_categoricals_and_nullable_ints(small_sweep: Path) -> None:
    runs = analysis.load(small_sweep)
    assert isinstance(runs, pd.DataFrame)
    assert len(runs) == N_RUNS and runs["run_id"].is_unique
    for name in (*NAMED_AXES, "status"):
        assert isinstance(runs[name].dtype, pd.CategoricalDtype), name
    assert list(runs["status"].cat.categories) == ["ok", "diverged", "failed"]
    # Categories follow the config table's order, limited to the values present.
    assert list(runs["activation"].cat.categories) == ["sigmoid", "relu"]
    assert list(runs["dataset"].cat.categories) == ["linear", "xor"]
    assert runs["convergence_epoch"].dtype == "Int64"
    assert runs["hidden_size"].dtype == "Int64"
    assert runs["converged"].dtype == bool
    assert set(runs["hidden"]) == {(2, 2), (8, 8)}
    # Never-converged runs hold <NA>, converged ones an epoch below their epochs_run.
    never = runs[~runs["converged"]]
    done = runs[runs["converged"]]
    assert len(never) > 0 and len(done) > 0
    assert never["convergence_epoch"].isna().all()
    assert (done["convergence_epoch"] < done["epochs_run"]).all()


def test_values_match_what_the_store_holds(small_sweep: Path) -> None:
    runs = analysis.load(small_sweep).set_index("run_id")
    raw = read_runs(small_sweep).set_index("run_id").loc[runs.index]
    for name in ("final_loss", "final_accuracy", "lr", "epochs_run"):
        np.testing.assert_array_equal(runs[name].to_numpy(), raw[name].to_numpy())
    assert (runs["activation"].astype(str) == raw["activation"]).all()


def test_sweep_with_curves_and_weights(small_sweep: Path) -> None:
    sweep = analysis.load(small_sweep, curves=True, weights=True)
    assert isinstance(sweep, Sweep)
    assert sweep.curves is not None and sweep.weights is not None
    assert set(sweep.curves["run_id"]) == set(sweep.runs["run_id"])
    # Every run has init and final weights for its 3 layers.
    assert len(sweep.weights) == N_RUNS * 2 * 3
    only_curves = analysis.load(small_sweep, curves=True)
    assert isinstance(only_curves, Sweep) and only_curves.weights is None


def test_config_is_rebuilt_exactly(small_sweep: Path) -> None:
    sweep = analysis.load(small_sweep, weights=True)
    for rid in sweep.runs["run_id"].iloc[::17]:
        cfg = sweep.config(rid)
        assert run_id(cfg) == rid  # the id hashes the whole normalised config
        x, y = sweep.data(rid)
        assert x.shape == (21 if cfg.dataset == "xor" else 100, 2)
        params = sweep.params(rid)
        assert [w.shape for w, _ in params] == [(2, cfg.hidden[0]), cfg.hidden, (cfg.hidden[1], 1)]


def test_weights_read_lazily_match_loaded_ones(small_sweep: Path) -> None:
    loaded = analysis.load(small_sweep, weights=True)
    lazy = Sweep(small_sweep, loaded.runs)
    rid = str(loaded.runs["run_id"].iloc[5])
    for (w1, b1), (w2, b2) in zip(loaded.params(rid), lazy.params(rid), strict=True):
        np.testing.assert_array_equal(w1, w2)
        np.testing.assert_array_equal(b1, b2)
    init = loaded.params(rid, "init")
    assert not np.array_equal(init[0][0], loaded.params(rid)[0][0])


def test_interrupted_sweep_loads_its_parts(interrupted_sweep: Path) -> None:
    assert not (interrupted_sweep / "runs.parquet").exists()
    assert any((interrupted_sweep / "parts").glob("runs-*.parquet"))
    sweep = analysis.load(interrupted_sweep, curves=True, weights=True)
    assert isinstance(sweep, Sweep)
    assert len(sweep.runs) == STOP_AFTER
    assert sweep.curves is not None
    assert set(sweep.curves["run_id"]) == set(sweep.runs["run_id"])


def test_missing_and_empty_folders_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="no such results folder"):
        analysis.load(tmp_path / "nope")
    with pytest.raises(UserError, match="no runs on disk"):
        analysis.load(tmp_path)
    assert list(tmp_path.iterdir()) == []
