"""What a stored net computes and how it is built: decision boundaries, distinct hidden units.

Everything here reads stored weights and evaluates them with :func:`kernels.predict`;
nothing trains.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.load import Params, Sweep
from kernels import predict


@dataclass(frozen=True)
class Boundary:
    """A net's output on a regular grid of the input plane, and the data it learned.

    ``xx``, ``yy``, ``out`` are ``(resolution, resolution)`` arrays (``out`` is the
    net's output: a probability for a sigmoid output); ``x``, ``y`` the training set.
    """

    xx: np.ndarray
    yy: np.ndarray
    out: np.ndarray
    x: np.ndarray
    y: np.ndarray


def plane(x: np.ndarray, resolution: int = 150, margin: float = 0.15) -> tuple[np.ndarray, ...]:
    """A ``resolution`` x ``resolution`` grid covering the points ``x`` plus a margin."""
    low, high = x.min(axis=0), x.max(axis=0)
    pad = margin * np.maximum(high - low, 1e-9)
    gx = np.linspace(low[0] - pad[0], high[0] + pad[0], resolution)
    gy = np.linspace(low[1] - pad[1], high[1] + pad[1], resolution)
    return tuple(np.meshgrid(gx, gy))


def outputs(
    params: Params, xx: np.ndarray, yy: np.ndarray, *, activation: str, output_activation: str
) -> np.ndarray:
    """The net's output at every grid point, shaped like ``xx``."""
    points = np.column_stack([xx.ravel(), yy.ravel()])
    out = predict(points, params, activation=activation, output_activation=output_activation)
    return out.reshape(xx.shape)


def decision_boundary(
    sweep: Sweep, run_id: str, *, stage: str = "final", resolution: int = 150, margin: float = 0.15
) -> Boundary:
    """A stored run's output over the plane around its data set (its stored weights, no training).

    Parameters
    ----------
    sweep : a sweep loaded with ``weights=True``.
    run_id : the run.
    stage : 'final' (trained) or 'init' weights.
    resolution : grid points per side; margin : extra room around the data, as a
        fraction of its range.
    """
    cfg = sweep.config(run_id)
    x, y = sweep.data(run_id)
    xx, yy = plane(x, resolution, margin)
    out = outputs(
        sweep.params(run_id, stage),
        xx,
        yy,
        activation=cfg.activation,
        output_activation=cfg.output_activation,
    )
    return Boundary(xx, yy, out, x, y.reshape(-1))


def distinct_units(params: Params, tol: float = 1e-6) -> list[int]:
    """How many different units each hidden layer has (the output layer is left out).

    Unit ``j`` of a layer is its incoming weights ``W[:, j]`` and bias ``b[j]``; two
    units are the same when every entry differs by at most ``tol`` times the larger
    magnitude (at least 1). A zero init gives every unit of a layer the same gradient,
    so the count stays 1: the layer acts as one unit however wide it is.
    """
    counts = []
    for w, b in params[:-1]:
        units = np.column_stack([w.T, b])
        representatives: list[np.ndarray] = []
        for unit in units:
            if not any(_same(unit, r, tol) for r in representatives):
                representatives.append(unit)
        counts.append(len(representatives))
    return counts


def _same(u: np.ndarray, v: np.ndarray, tol: float) -> bool:
    with np.errstate(invalid="ignore"):
        scale = max(1.0, float(np.max(np.abs(u))), float(np.max(np.abs(v))))
        return bool(np.all(np.abs(u - v) <= tol * scale))


def distinct_units_table(weights: pd.DataFrame, tol: float = 1e-6) -> pd.DataFrame:
    """Distinct units of every hidden layer of every stored net.

    Returns one row per (run_id, stage, layer) with ``width`` (units in the layer)
    and ``distinct``; layers are numbered from 1 (the first hidden layer).
    """
    rows = []
    hidden = weights.sort_values(["run_id", "stage", "layer"])
    last = hidden.groupby(["run_id", "stage"], observed=True)["layer"].transform("max")
    hidden = hidden[hidden["layer"] < last]
    columns = ("run_id", "stage", "layer", "W", "b", "fan_in", "fan_out")
    for run_id, stage, layer, w, b, fan_in, fan_out in zip(
        *(hidden[c].tolist() for c in columns), strict=True
    ):
        w = np.asarray(w, dtype=np.float64).reshape(int(fan_in), int(fan_out))
        count = distinct_units([(w, np.asarray(b, dtype=np.float64)), _OUTPUT], tol)[0]
        rows.append((str(run_id), str(stage), int(layer) + 1, int(fan_out), count))
    return pd.DataFrame(rows, columns=["run_id", "stage", "layer", "width", "distinct"])


# A stand-in output layer, so one hidden layer can go through distinct_units alone.
_OUTPUT = (np.zeros((1, 1)), np.zeros(1))


def symmetry_table(curves: pd.DataFrame) -> pd.DataFrame:
    """The stored symmetry measure in long format: ``run_id, epoch, layer, symmetry``.

    ``layer`` counts hidden layers from 1; ``symmetry`` is the largest difference
    between two of the layer's units' incoming weights, bias included, at the start
    of that epoch (exactly 0 while every unit is the same: :mod:`kernels.symmetry`).
    Rows of curves stored before the measure was recorded (null) are left out.
    """
    part = curves.loc[curves["symmetry"].notna(), ["run_id", "epoch", "symmetry"]]
    lengths = part["symmetry"].map(len).to_numpy(dtype=np.int64)
    if lengths.sum() == 0:
        return pd.DataFrame(
            {
                "run_id": pd.Series(dtype=object),
                "epoch": pd.Series(dtype=np.int64),
                "layer": pd.Series(dtype=np.int64),
                "symmetry": pd.Series(dtype=np.float64),
            }
        )
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return pd.DataFrame(
        {
            "run_id": np.repeat(part["run_id"].to_numpy(), lengths),
            "epoch": np.repeat(part["epoch"].to_numpy(dtype=np.int64), lengths),
            "layer": np.arange(lengths.sum()) - starts + 1,
            "symmetry": np.concatenate([np.asarray(v, np.float64) for v in part["symmetry"]]),
        }
    )
