"""Decision boundaries and distinct hidden units, from a real sweep's stored weights."""

from pathlib import Path

import numpy as np
import pytest
from analysis_fixtures import N_RUNS, small_sweep

import analysis
from analysis.load import Sweep
from analysis.nets import distinct_units
from kernels import predict

__all__ = ["small_sweep"]


@pytest.fixture(scope="module")
def sweep(small_sweep: Path) -> Sweep:
    loaded = analysis.load(small_sweep, weights=True)
    assert isinstance(loaded, Sweep)
    return loaded


def test_stored_weights_reproduce_the_stored_accuracy(sweep: Sweep) -> None:
    # A run that reached its target stopped with the weights that scored its last epoch,
    # so predicting the training set with them gives back its final accuracy.
    converged = sweep.runs[sweep.runs["converged"]]
    assert len(converged) > 10
    for row in converged.itertuples(index=False):
        x, y = sweep.data(row.run_id)
        out = predict(
            x,
            sweep.params(row.run_id),
            activation=str(row.activation),
            output_activation=str(row.output_activation),
        )
        assert np.mean((out > 0.5) == (y > 0.5)) == pytest.approx(row.final_accuracy)


def test_decision_boundary_covers_the_data(sweep: Sweep) -> None:
    rid = str(sweep.runs.loc[sweep.runs["converged"], "run_id"].iloc[0])
    boundary = analysis.decision_boundary(sweep, rid, resolution=40)
    assert boundary.out.shape == boundary.xx.shape == boundary.yy.shape == (40, 40)
    assert boundary.xx.min() < boundary.x[:, 0].min() and boundary.xx.max() > boundary.x[:, 0].max()
    assert boundary.yy.min() < boundary.x[:, 1].min() and boundary.yy.max() > boundary.x[:, 1].max()
    assert ((boundary.out >= 0) & (boundary.out <= 1)).all()  # sigmoid output
    # A trained net separates the plane; its init (random normal) did something else.
    assert boundary.out.min() < 0.5 < boundary.out.max()
    before = analysis.decision_boundary(sweep, rid, stage="init", resolution=40)
    assert not np.allclose(before.out, boundary.out)


def test_zero_init_leaves_one_distinct_unit_per_layer(sweep: Sweep) -> None:
    assert sweep.weights is not None
    table = analysis.distinct_units_table(sweep.weights)
    assert len(table) == N_RUNS * 2 * 2  # runs x stages x hidden layers
    table = table.merge(sweep.runs[["run_id", "init", "hidden_size"]], on="run_id")
    zeros = table[table["init"] == "zeros"]
    normal = table[table["init"] == "normal"]
    assert (zeros["distinct"] == 1).all()
    assert (normal["distinct"] == normal["width"]).all()
    assert set(normal["width"]) == {2, 8} and set(table["layer"]) == {1, 2}


def test_distinct_units_counts_columns_with_their_bias() -> None:
    w = np.array([[1.0, 1.0, 2.0, 1.0], [3.0, 3.0, 0.0, 3.0 + 1e-12]])
    b = np.array([0.5, 0.5, 0.5, 0.7])
    out = (np.ones((4, 1)), np.zeros(1))
    # Units 1 and 2 are the same; unit 3 differs in W; unit 4 only in its bias.
    assert distinct_units([(w, b), out]) == [3]
    assert distinct_units([(w, np.full(4, 0.5)), out]) == [2]
    assert distinct_units([(w, b), out], tol=1.0) == [1]
    assert distinct_units([out]) == []  # no hidden layer
