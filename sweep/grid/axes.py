"""The ``[fixed]`` values and ``[grid]`` axes, and the checks between them.

A field is set in one place (fixed, or an axis of each grid), and ``hidden`` is given
either as layer widths or as ``hidden_size``/``hidden_layers``, never both.
"""

from typing import Any

from sweep.config import MAX_HIDDEN_LAYERS, MAX_WIDTH
from sweep.grid.keys import PSEUDO_FIELDS, SETTABLE, unknown_key
from sweep.grid.source import GridFile
from sweep.grid.values import allowed_text, range_values, setting_value, show


def read_fixed(file: GridFile, table: dict[str, Any]) -> dict[str, Any]:
    """The ``[fixed]`` table: one checked value per setting."""
    out = {}
    for key, value in table.items():
        if key not in SETTABLE:
            raise unknown_key(file, "fixed", 0, key)
        where = file.where("fixed", 0, key)
        if isinstance(value, dict):
            raise file.error(
                where, "a range in [fixed]", "allowed: one value (put ranges in [grid])"
            )
        if isinstance(value, list) and key != "hidden":
            raise file.error(
                where,
                f"a list {show(value)} in [fixed]",
                f"allowed: one value ({allowed_text(key)}); put lists of values in [grid]",
            )
        out[key] = setting_value(file, where, key, value)
    return out


def _read_axis(file: GridFile, index: int, key: str, value: Any) -> list[Any]:
    where = file.where("grid", index, key)
    if isinstance(value, dict):
        values = range_values(file, where, key, value)
    elif not isinstance(value, list):
        raise file.error(
            where,
            f"an axis must be a list, got {show(value)}",
            f"write {key} = [{show(value)}] (or put one value in [fixed])",
        )
    elif not value:
        no_layer = " (no hidden layer: hidden = [[]])" if key == "hidden" else ""
        raise file.error(
            where, "an empty axis (no values)", f"allowed: a list of at least one value{no_layer}"
        )
    elif key == "hidden" and not all(isinstance(v, list) for v in value):
        raise file.error(
            where,
            f"got {show(value)}, an axis of hidden is a list of layer lists",
            "write e.g. hidden = [[4, 4], [8, 8, 8]] (or hidden = [[4, 4]] for one value), "
            f"each a list of 0 to {MAX_HIDDEN_LAYERS} widths from 1 to {MAX_WIDTH}",
        )
    else:
        values = [setting_value(file, where, key, v) for v in value]
    for i, v in enumerate(values):
        if v in values[:i]:
            raise file.error(
                where,
                f"the value {show(v)} is listed twice",
                "allowed: a list of distinct values",
            )
    return values


def read_grids(file: GridFile, doc: dict[str, Any]) -> list[dict[str, list[Any]]]:
    """The axes of each ``[grid]`` (or ``[[grid]]``) table, each a list of checked values."""
    raw = doc.get("grid", {})
    if isinstance(raw, list):
        file.grid_array = True
        if not raw or not all(isinstance(g, dict) for g in raw):
            raise file.error(
                "grid", "grid is a list of values", "allowed: [grid] or [[grid]] tables"
            )
    elif isinstance(raw, dict):
        raw = [raw]
    else:
        raise file.error(
            "grid", f"grid = {show(raw)}", "allowed: a [grid] table or [[grid]] tables"
        )
    grids = []
    for index, table in enumerate(raw):
        grid = {}
        for key, value in table.items():
            if key not in SETTABLE:
                raise unknown_key(file, "grid", index, key)
            grid[key] = _read_axis(file, index, key, value)
        grids.append(grid)
    return grids


def where_set(
    file: GridFile, fixed: dict[str, Any], grid: dict[str, Any], index: int, key: str
) -> str:
    """Where ``key`` is set for grid ``index``: its axis, its ``[fixed]`` line, or the default."""
    if key in grid:
        return file.where("grid", index, key)
    if key in fixed:
        return file.where("fixed", 0, key)
    return f"{key} (default)"


def check_conflicts(file: GridFile, fixed: dict[str, Any], grids: list[dict[str, Any]]) -> None:
    """GridError if a field is set in two places, or ``hidden`` beside its pseudo-fields."""
    for index, grid in enumerate(grids):
        for key in grid:
            if key in fixed:
                raise file.error(
                    file.where("grid", index, key),
                    f"{key} is both an axis here and fixed in {file.where('fixed', 0, key)}",
                    "allowed: set each field in one place",
                )
        keys = set(fixed) | set(grid)
        if "hidden" in keys and keys & set(PSEUDO_FIELDS):
            pseudo = sorted(keys & set(PSEUDO_FIELDS))[0]
            other = where_set(file, fixed, grid, index, pseudo)
            raise file.error(
                where_set(file, fixed, grid, index, "hidden"),
                f"hidden given together with {pseudo} ({other})",
                "allowed: either hidden (the layer widths) or hidden_size/hidden_layers",
            )
