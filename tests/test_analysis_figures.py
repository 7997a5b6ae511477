"""Each figure over a real sweep: PNG and SVG written, the right panels, the right content."""

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from analysis_fixtures import assert_written, panels, small_sweep

import analysis
from analysis import figures
from analysis.load import Sweep
from analysis.nets import symmetry_table

__all__ = ["small_sweep"]


@pytest.fixture(scope="module")
def sweep(small_sweep: Path) -> Sweep:
    loaded = analysis.load(small_sweep, curves=True, weights=True)
    assert isinstance(loaded, Sweep)
    return loaded


def _texts(fig: object) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]  # type: ignore[attr-defined]


def test_convergence_heatmap(sweep: Sweep, tmp_path: Path) -> None:
    fig = figures.heatmaps(sweep.runs, metric="convergence_epoch", path=tmp_path / "epoch")
    assert_written(tmp_path / "epoch")
    assert panels(fig) == 4  # 2 data sets x 2 activations
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 1  # one shared scale
    texts = _texts(fig)
    # Cells where no seed converged are marked, not blank; the others give the median.
    assert any(t.startswith("never\n0/3") for t in texts)
    assert any(t.split("\n")[0].isdigit() and t.endswith("/3") for t in texts)
    first = fig.axes[0]
    assert "learning rate" in first.get_xlabel() and "hidden" in first.get_ylabel()
    assert [t.get_text() for t in first.get_xticklabels()] == ["0.1", "1", "10"]


def test_accuracy_heatmap_has_a_fixed_scale(sweep: Sweep, tmp_path: Path) -> None:
    fig = figures.heatmaps(sweep.runs, metric="final_accuracy", path=tmp_path / "acc.png")
    assert_written(tmp_path / "acc")
    assert panels(fig) == 4
    bar = next(ax for ax in fig.axes if ax.get_label() == "<colorbar>")
    assert bar.get_ylim() == (0.0, 1.0)


def test_heatmap_is_skipped_when_hidden_size_is_fixed(sweep: Sweep) -> None:
    runs = sweep.runs[sweep.runs["hidden_size"] == 8]
    with pytest.raises(figures.Skip, match="does not vary hidden units per layer"):
        figures.heatmaps(runs)


def test_learning_curves_are_medians_over_seeds(sweep: Sweep, tmp_path: Path) -> None:
    fig = figures.learning_curves(sweep, axis="lr", path=tmp_path / "curves")
    assert_written(tmp_path / "curves")
    assert panels(fig) == 2  # one per data set
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "epoch"
    lines = [line for line in ax.get_lines() if not line.get_label().startswith("target")]
    assert len(lines) == 3  # one per learning rate
    assert [line.get_label().split(" ")[0] for line in lines] == ["0.1", "1", "10"]
    # The first point of each line is the median initial loss of that lr's seeds.
    runs, curves = sweep.runs, sweep.curves
    assert curves is not None
    title = fig.axes[0].get_title()
    held = figures.held_at_best(runs, ["lr"])[0]
    for line, lr in zip(lines, [0.1, 1.0, 10.0], strict=True):
        ids = held[(held["dataset"] == title) & (held["lr"] == lr)]["run_id"]
        assert len(ids) == 3
        first = curves[curves["run_id"].isin(ids) & (curves["epoch"] == 0)]["loss"]
        assert line.get_ydata()[0] == pytest.approx(np.median(first))


def test_accuracy_curves(sweep: Sweep) -> None:
    fig = figures.learning_curves(sweep, axis="init", metric="accuracy")
    assert panels(fig) == 2
    for ax in fig.axes:
        assert ax.get_ylabel() == "accuracy (share of points)"
        lines = ax.get_lines()
        assert [line.get_label().split(" ")[0] for line in lines] == ["normal", "zeros"]
        for line in lines:
            assert ((line.get_ydata() >= 0) & (line.get_ydata() <= 1)).all()
    assert fig.get_suptitle().startswith("Accuracy curves by weight init")


def test_curve_band_carries_stopped_runs_forward() -> None:
    curves = pd.DataFrame(
        {
            "run_id": ["a", "a", "a", "b", "b", "c", "c", "c"],
            "epoch": [0, 10, 20, 0, 5, 0, 10, 20],
            "loss": [1.0, 0.5, 0.25, 2.0, 0.001, 3.0, np.nan, np.nan],
        }
    )
    band = figures.curve_band(curves, ["a", "b", "c"])
    assert list(band.index) == [0, 5, 10, 20]
    # epoch 5: a carries 1.0 (its last record), b is 0.001, c carries 3.0.
    assert band.loc[5, "median"] == 1.0
    # epoch 20: a 0.25, b stopped at 0.001, c diverged (inf).
    assert band.loc[20, "median"] == 0.25
    assert np.isinf(band.loc[20, "q75"])


def test_prediction_figure(sweep: Sweep, tmp_path: Path) -> None:
    fig = figures.prediction(sweep, dataset="xor", path=tmp_path / "pred")
    assert_written(tmp_path / "pred")
    assert panels(fig) == 2
    truth, pred = fig.axes[0], fig.axes[1]
    assert truth.get_title() == "Ground truth"
    assert pred.get_title() == "Prediction (accuracy 100%)"  # the best config converged
    assert len(pred.collections) >= 2  # the filled contour behind the points
    assert "xor" in fig.get_suptitle()


def test_prediction_of_a_chosen_run(sweep: Sweep) -> None:
    runs = sweep.runs
    rid = str(runs.loc[(runs["init"] == "zeros") & (runs["dataset"] == "xor"), "run_id"].iloc[0])
    fig = figures.prediction(sweep, rid)
    assert rid in fig.get_suptitle()
    accuracy = float(runs.loc[runs["run_id"] == rid, "final_accuracy"].iloc[0])
    assert fig.axes[1].get_title() == f"Prediction (accuracy {accuracy:.0%})"


def test_boundary_grid_across_two_axes(sweep: Sweep, tmp_path: Path) -> None:
    fig = figures.boundary_grid(sweep, dataset="xor", path=tmp_path / "grid")
    assert_written(tmp_path / "grid")
    assert panels(fig) == 4  # activation (rows) x init (columns)
    titles = [ax.get_title() for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert titles[0].startswith("sigmoid · normal") and titles[-1].startswith("relu · zeros")
    assert all("seeds converged" in t for t in titles)
    fig = figures.boundary_grid(sweep, rows="lr", cols=None, dataset="linear")
    assert panels(fig) == 3


def test_symmetry_figure(sweep: Sweep, tmp_path: Path) -> None:
    fig = figures.symmetry(sweep, path=tmp_path / "sym")
    assert_written(tmp_path / "sym")
    assert panels(fig) == 2  # at init, after training
    assert [ax.get_title() for ax in fig.axes] == ["at init", "after training"]
    for ax in fig.axes:
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert labels == [
            "[2, 2]\nlayer 1",
            "[2, 2]\nlayer 2",
            "[8, 8]\nlayer 1",
            "[8, 8]\nlayer 2",
        ]
        heights = sorted(round(p.get_height(), 6) for p in ax.patches if p.get_height() > 0)
        # zeros: one distinct unit in every layer; normal: every unit distinct (2 or 8).
        assert heights == [1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 8.0, 8.0], ax.get_title()


def test_symmetry_is_skipped_without_zero_init(sweep: Sweep) -> None:
    normal = Sweep(sweep.path, sweep.runs[sweep.runs["init"] == "normal"], weights=sweep.weights)
    with pytest.raises(figures.Skip, match="zeros"):
        figures.symmetry(normal)


def test_convergence_bars_show_counts(sweep: Sweep, tmp_path: Path) -> None:
    fig = figures.convergence_bars(sweep.runs, path=tmp_path / "bars")
    assert_written(tmp_path / "bars")
    assert panels(fig) == 4  # hidden, activation, lr, init
    init_ax = [ax for ax in fig.axes if ax.get_visible() and ax.get_xlabel() == "weight init"][0]
    runs = sweep.runs
    expected = []
    for dataset in ["linear", "xor"]:
        for init in ["normal", "zeros"]:
            rows = runs[(runs["dataset"] == dataset) & (runs["init"] == init)]
            expected.append(f"{int(rows['converged'].sum())}/{len(rows)}")
    assert _texts_of(init_ax) == expected
    assert init_ax.get_ylim()[1] > 1.0


def _texts_of(ax: object) -> list[str]:
    return [t.get_text() for t in ax.texts]  # type: ignore[attr-defined]


def test_learning_curves_skip_an_axis_the_sweep_fixes(sweep: Sweep) -> None:
    with pytest.raises(figures.Skip, match="does not vary"):
        figures.learning_curves(sweep, axis="optimizer")


def test_a_value_never_run_with_the_others_held_is_an_empty_cell_not_a_missing_row(
    sweep: Sweep,
) -> None:
    """The lab's boundary grid held at lr 1 had no identity row, silently: keep every
    value the sweep ran, and say which cells have no run at the held settings."""
    runs = sweep.runs[sweep.runs["dataset"] == "linear"]
    # relu run at one learning rate only, not the one the others are then held at
    for lr in sorted(runs["lr"].unique()):
        gap = runs[(runs["activation"] != "relu") | (runs["lr"] == lr)]
        if figures.held_at_best(gap, ["activation"])[1]["lr"] != lr:
            break
    else:
        pytest.fail("every learning rate is the best one")
    fig = figures.boundary_grid(
        dataclasses.replace(sweep, runs=gap), rows="activation", cols=None, dataset="linear"
    )
    titles = [ax.get_title() for ax in fig.axes if ax.get_label() != "<colorbar>"]
    by_value = {t.split("\n")[0]: t.split("\n")[1] for t in titles}
    assert by_value == {
        "sigmoid": by_value["sigmoid"],
        "relu": "(not run with the others held)",
    }
    assert by_value["sigmoid"].endswith("seeds converged")


def test_symmetry_over_epochs_keeps_zero_init_at_exactly_zero(sweep: Sweep, tmp_path: Path) -> None:
    fig = figures.symmetry_over_epochs(sweep, path=tmp_path / "sym-epochs")
    assert_written(tmp_path / "sym-epochs")
    assert panels(fig) == 2  # the two hidden layers of [2, 2] and [8, 8]
    table = symmetry_table(sweep.curves_of(sweep.runs["run_id"]))
    table = table.merge(sweep.runs[["run_id", "init"]], on="run_id")
    assert set(table["layer"]) == {1, 2}
    zeros = table[table["init"] == "zeros"]
    assert len(zeros) and (zeros["symmetry"] == 0.0).all()  # at every recorded epoch
    assert (table[table["init"] == "normal"]["symmetry"] > 0).all()
    for ax in fig.axes:
        assert ax.get_yscale() == "log"
        lines = {line.get_label().split(" (")[0] for line in ax.get_lines()}
        assert {"zeros", "normal"} <= lines
        # the zeros line lies on the floor marked "exactly 0"
        floor = min(np.min(line.get_ydata()) for line in ax.get_lines())
        zero_line = next(line for line in ax.get_lines() if line.get_label().startswith("zeros"))
        assert (np.asarray(zero_line.get_ydata()) == floor).all()


def test_symmetry_over_epochs_is_skipped_with_one_init(sweep: Sweep) -> None:
    normal = Sweep(sweep.path, sweep.runs[sweep.runs["init"] == "normal"], curves=sweep.curves)
    with pytest.raises(figures.Skip, match="does not compare init schemes"):
        figures.symmetry_over_epochs(normal)
