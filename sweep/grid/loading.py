"""Loading a grid file: read, check every table, expand; the validated :class:`SweepSpec`."""

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sweep.config import FIELDS, suggest
from sweep.grid.axes import check_conflicts, read_fixed, read_grids
from sweep.grid.expansion import GridRuns, expand
from sweep.grid.keys import PSEUDO_FIELDS, SETTABLE, TABLES
from sweep.grid.sampling import read_sample
from sweep.grid.settings import SweepSettings, read_sweep
from sweep.grid.source import GridFile, parse_toml, read_text


@dataclass(frozen=True)
class SweepSpec(SweepSettings):
    """A validated grid file: its ``[sweep]`` settings and its runs, expanded lazily.

    ``runs`` (a :class:`GridRuns` sequence, not a list: a 300,000-run grid is never held
    in memory) are in a stable order: grids in file order; within a grid the cartesian
    product of its axes in the order they are written (first key outermost), seeds
    innermost; a run equal to an earlier one is dropped (counted in ``n_duplicates``).
    ``axes`` maps every setting that varies across ``runs`` to its values, for printing:
    the axes written in the file first (``hidden_size``/``hidden_layers`` rather than
    ``hidden`` when the file uses them), numbers ascending, other values as first seen.
    ``values`` maps every setting (``seed`` aside) to its distinct values, first seen first.
    """

    path: Path
    text: str
    axes: dict[str, list[Any]]
    runs: "GridRuns"
    n_duplicates: int
    values: dict[str, list[Any]]
    sampled: dict[str, Any] | None = None  # the [sample] table, when the file has one
    draws: tuple[dict[str, Any], ...] = ()  # the configurations it drew, in order

    @property
    def fixed(self) -> dict[str, Any]:
        """Every RunConfig field (but ``seed``) with the one value all runs share."""
        return {k: v[0] for k, v in self.values.items() if len(v) == 1 and k in FIELDS}

    @property
    def n_configs(self) -> int:
        """Distinct configs, seeds aside."""
        return self.runs.n_points


def _table(file: GridFile, doc: dict[str, Any], name: str) -> dict[str, Any]:
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise file.error(
            file.where(name),
            f"{name} is {'an array of tables' if isinstance(value, list) else 'a value'}",
            f"allowed: one table [{name}] of key = value lines",
        )
    return value


def _axes(
    settings: dict[str, list[Any]], grids: list[dict[str, list[Any]]]
) -> dict[str, list[Any]]:
    """The settings that vary across runs: written axes first (file order), then the rest."""
    varying = {k: v for k, v in settings.items() if len(v) > 1}
    written = list(dict.fromkeys(k for g in grids for k in g))
    order = [k for k in written if k in varying]
    order += [k for k in varying if k not in order and k not in PSEUDO_FIELDS]
    if "hidden" in order and "hidden" not in written and set(written) & set(PSEUDO_FIELDS):
        order.remove("hidden")
    return {k: _display_order(varying[k]) for k in order}


def _display_order(values: list[Any]) -> list[Any]:
    """Numbers ascending (two [[grid]] tables may list them in any order); others as found."""
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    return sorted(values) if numeric else values


def load_grid(path: str | Path) -> SweepSpec:
    """Read, validate and expand a grid file.

    Parameters
    ----------
    path : the grid TOML file.

    Returns
    -------
    SweepSpec : the sweep settings and every run, in a stable order (expanded lazily:
        every grid point is built and validated here, the runs again when iterated).

    Raises
    ------
    GridError : one line naming the file, table, key (and line) and what is allowed;
        raised before any run starts, for any mistake in the file.
    """
    path = Path(path)
    text = read_text(path)
    doc = parse_toml(path, text)
    file = GridFile(path, text)
    if not doc:
        raise file.error(
            "", "the file is empty", "allowed: tables [sweep], [fixed], [grid] and [sample]"
        )
    for key, value in doc.items():
        if key not in TABLES:
            line = file.lines.get((key, 0, "")) or file.lines.get(("", 0, key))
            where = (f"[{key}]" if isinstance(value, dict | list) else key) + (
                f" (line {line})" if line else ""
            )
            if isinstance(value, dict | list):
                what = f"unknown table [{key}]{suggest(key, TABLES)}"
            else:
                what = f"{key} is outside any table"
            if not isinstance(value, dict | list) and key in SETTABLE:
                raise file.error(
                    where, what, "put it under [fixed] (one value) or [grid] (an axis)"
                )
            raise file.error(
                where, what, "allowed tables: [sweep], [fixed], [grid] (or [[grid]]), [sample]"
            )
    settings = read_sweep(file, _table(file, doc, "sweep"))
    fixed = read_fixed(file, _table(file, doc, "fixed"))
    grids = read_grids(file, doc)
    check_conflicts(file, fixed, grids)
    drawn = read_sample(file, doc, fixed, grids)
    if drawn is not None:  # each drawn configuration crossed with every grid point
        grids = [{**g, **{k: [v] for k, v in point.items()}} for g in grids for point in drawn]
    runs, values = expand(file, fixed, grids, settings.seeds)
    return SweepSpec(
        path=path,
        text=text,
        axes=_axes(values, grids),
        runs=runs,
        n_duplicates=runs.n_dropped * len(settings.seeds),
        values=values,
        sampled=None if drawn is None else dict(doc["sample"]),
        draws=tuple(drawn or ()),
        **dataclasses.asdict(settings),
    )
