"""analysis.summarize over a real sweep, checked against a hand computation on the same rows."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from analysis_fixtures import N_RUNS, small_sweep

import analysis
from analysis.axes import varying_axes

__all__ = ["small_sweep"]

AXES = ["dataset", "hidden", "activation", "lr", "init"]


@pytest.fixture(scope="module")
def runs(small_sweep: Path) -> pd.DataFrame:
    frame = analysis.load(small_sweep)
    assert isinstance(frame, pd.DataFrame)
    return frame


def test_varying_axes_are_detected(runs: pd.DataFrame) -> None:
    assert varying_axes(runs) == AXES
    table = analysis.summarize(runs)
    assert list(table.columns[: len(AXES)]) == AXES
    assert len(table) == N_RUNS // 3
    assert (table["n_seeds"] == 3).all()
    one = runs[(runs["dataset"] == "xor") & (runs["init"] == "normal")]
    assert varying_axes(one) == ["hidden", "activation", "lr"]


def _by_hand(rows: pd.DataFrame) -> dict[str, float]:
    """The statistics of one config, computed directly from its rows."""
    converged = rows[rows["converged"]]
    epochs = converged["convergence_epoch"].to_numpy(dtype=float)
    finite = rows.loc[np.isfinite(rows["final_loss"]), "final_loss"]
    return {
        "n_seeds": len(rows),
        "n_converged": len(converged),
        "convergence_rate": len(converged) / len(rows),
        "epoch_median": float(np.median(epochs)) if len(epochs) else np.nan,
        "epoch_q25": float(np.percentile(epochs, 25)) if len(epochs) else np.nan,
        "epoch_q75": float(np.percentile(epochs, 75)) if len(epochs) else np.nan,
        "accuracy_mean": rows["final_accuracy"].mean(),
        "accuracy_std": rows["final_accuracy"].std(ddof=1),
        "loss_mean": finite.mean(),
        "loss_std": finite.std(ddof=1),
        "divergence_rate": float((rows["status"] == "diverged").mean()),
        "n_failed": int((rows["status"] == "failed").sum()),
    }


def test_every_row_matches_a_hand_computation(runs: pd.DataFrame) -> None:
    table = analysis.summarize(runs)
    for _, row in table.iterrows():
        mask = np.ones(len(runs), dtype=bool)
        for axis in AXES:
            if axis == "hidden":
                mask &= np.array([h == row["hidden"] for h in runs["hidden"]])
            else:
                mask &= (runs[axis] == row[axis]).to_numpy()
        expected = _by_hand(runs[mask])
        for name, value in expected.items():
            np.testing.assert_allclose(
                row[name], value, rtol=1e-12, atol=1e-15, equal_nan=True, err_msg=name
            )
    # The sweep has configs that always, sometimes and never converge: the checks bite.
    rates = set(table["convergence_rate"].round(3))
    assert 1.0 in rates and 0.0 in rates and rates - {0.0, 1.0}


def test_best_configs_come_first(runs: pd.DataFrame) -> None:
    table = analysis.summarize(runs)
    rate = table["convergence_rate"].to_numpy()
    assert (np.diff(rate) <= 0).all()
    for value in np.unique(rate):
        epochs = table.loc[table["convergence_rate"] == value, "epoch_median"].dropna()
        assert epochs.is_monotonic_increasing
    best = table.iloc[0]
    assert best["convergence_rate"] == 1.0
    assert best["epoch_median"] == table.loc[rate == 1.0, "epoch_median"].min()


def test_by_given_axes_and_by_nothing(runs: pd.DataFrame) -> None:
    by_init = analysis.summarize(runs, by=["init"]).set_index("init")
    assert set(by_init.index) == {"normal", "zeros"}
    zeros = runs[runs["init"] == "zeros"]
    assert by_init.loc["zeros", "n_seeds"] == len(zeros) == N_RUNS // 2
    assert by_init.loc["zeros", "convergence_rate"] == pytest.approx(zeros["converged"].mean())
    # Zero init cannot break the symmetry: it converges less often than a random init.
    assert by_init.loc["normal", "convergence_rate"] > by_init.loc["zeros", "convergence_rate"]
    # A config column named like a statistic's source ("loss") groups like any other.
    by_loss = analysis.summarize(runs, by=["loss", "init"])
    assert list(by_loss["loss"].astype(str)) == ["mse", "mse"]
    assert by_loss["n_seeds"].sum() == N_RUNS
    everything = analysis.summarize(runs, by=[])
    assert len(everything) == 1
    assert everything.loc[0, "n_seeds"] == N_RUNS
    assert everything.loc[0, "n_converged"] == runs["converged"].sum()


def test_unknown_column_is_named(runs: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="no column 'learning_rate'"):
        analysis.summarize(runs, by=["learning_rate"])
