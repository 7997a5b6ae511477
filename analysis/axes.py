"""The axes of a study: which config fields vary, how their values read, and slices.

A sweep's *axes* are the config fields (seed aside) that take more than one value in
its runs. Figures that study one or two axes hold the others at the best config
(:func:`best_slice`) rather than pooling unlike runs together.
"""

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from analysis.load import CONFIG_FIELDS

#: Axis titles for figures, with units where the value has one.
TITLES: dict[str, str] = {
    "dataset": "data set",
    "hidden": "hidden layer widths",
    "hidden_size": "hidden units per layer",
    "hidden_layers": "hidden layers",
    "activation": "hidden activation",
    "output_activation": "output activation",
    "loss": "loss",
    "optimizer": "optimizer",
    "lr": "learning rate",
    "init": "weight init",
    "epochs": "max epochs",
    "target_loss": "target loss",
    "stop_at_target": "stop at target",
    "batch_size": "batch size (samples)",
    "shuffle": "shuffle",
    "bias": "bias",
    "data_seed": "data seed",
    "n": "points in data set",
    "noise": "input noise (std)",
}


def title(name: str) -> str:
    """How an axis is named on a figure."""
    return TITLES.get(name, name)


def varying_axes(runs: pd.DataFrame) -> list[str]:
    """Config fields (seed aside) with more than one distinct value, in config order."""
    return [name for name in CONFIG_FIELDS if runs[name].nunique(dropna=False) > 1]


def label(name: str, value: Any) -> str:
    """A short text for one axis value: ``[4, 4]`` for hidden, ``0.1`` for lr, ``unset``."""
    if isinstance(value, tuple | list):
        return "[" + ", ".join(str(int(v)) for v in value) + "]"
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "full" if name == "batch_size" else "unset"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def describe(values: Mapping[str, Any]) -> str:
    """``activation sigmoid, lr 1, init normal`` for a config's fixed values."""
    return ", ".join(f"{name} {label(name, value)}" for name, value in values.items())


def ordered_values(runs: pd.DataFrame, name: str) -> list[Any]:
    """The distinct values of an axis in a natural order (categories' order, or sorted)."""
    column = runs[name]
    if isinstance(column.dtype, pd.CategoricalDtype):
        present = set(column.dropna())
        return [c for c in column.cat.categories if c in present]
    values = list(pd.unique(column))
    try:
        return sorted(values, key=lambda v: (v is None or v is pd.NA, v))
    except TypeError:
        return values


def best_slice(
    runs: pd.DataFrame, keep: Iterable[str], best: Mapping[Any, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The runs whose varying axes not in ``keep`` equal the values of ``best``.

    Returns the rows and the values held fixed (only those that vary in ``runs``).
    """
    keep = set(keep)
    fixed = {name: best[name] for name in varying_axes(runs) if name not in keep}
    mask = pd.Series(True, index=runs.index)
    for name, value in fixed.items():
        column = runs[name]
        if name == "hidden":
            mask &= column.map(lambda h, v=value: tuple(h) == tuple(v))
        elif value is None or (not isinstance(value, tuple) and pd.isna(value)):
            mask &= column.isna()
        else:
            mask &= column == value
    return runs.loc[mask], fixed
