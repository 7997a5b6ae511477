"""Expansion: the grids' cartesian products (x seeds) as :class:`GridRuns`, built lazily.

Every grid point is validated once, duplicates are found by hash, and the runs are
built again only as they are asked for, so memory does not grow with the grid.
"""

import array
import hashlib
import itertools
import math
import re
from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np

from sweep.config import FIELDS, RunConfig
from sweep.grid.axes import where_set
from sweep.grid.ids import canonical_json
from sweep.grid.keys import MAX_RUNS, PSEUDO_FIELDS, SETTABLE
from sweep.grid.source import GridError, GridFile
from sweep.grid.values import show


def _config_kwargs(point: dict[str, Any]) -> dict[str, Any]:
    """RunConfig keywords of one grid point: hidden_size/hidden_layers become ``hidden``."""
    kw = {k: v for k, v in point.items() if k not in PSEUDO_FIELDS}
    if "hidden_size" in point or "hidden_layers" in point:
        width = point.get("hidden_size", PSEUDO_FIELDS["hidden_size"].default)
        depth = point.get("hidden_layers", PSEUDO_FIELDS["hidden_layers"].default)
        kw["hidden"] = (width,) * depth
    return kw


#: A validated RunConfig's attributes with every field at its default, the base of the
#: configs :class:`GridRuns` builds without validating them again.
_DEFAULTS: dict[str, Any] = dict(vars(RunConfig()))


def _unchecked(kw: dict[str, Any], seed: int) -> RunConfig:
    """The RunConfig of keywords ``kw`` (already normalised and validated) and ``seed``.

    Validation costs about 12 us a config, ten times the rest of an iteration; every
    grid point was validated once by :func:`load_grid` and each of its values was
    normalised by its field's check, so iterating again skips it.
    """
    cfg = object.__new__(RunConfig)
    attributes = vars(cfg)
    attributes.update(_DEFAULTS)
    attributes.update(kw)
    attributes["seed"] = seed
    return cfg


class GridRuns(Sequence[RunConfig]):
    """The runs of a grid file in the grid's order, built as they are asked for.

    Holds only the axes, the seeds and the indices of the grid points dropped as
    duplicates, so its memory does not grow with the number of runs (a list of
    300,000 RunConfigs took about 90 MB). Iterating builds each config afresh;
    ``runs[i]`` decodes position ``i`` directly; a slice gives a list. ``fixed``,
    ``grids`` and ``seeds`` are the file's validated tables it expands.
    """

    def __init__(
        self,
        fixed: dict[str, Any],
        grids: list[dict[str, list[Any]]],
        seeds: tuple[int, ...],
        dropped: np.ndarray | None = None,
    ) -> None:
        self.fixed = fixed
        self.grids = grids
        self.seeds = seeds
        sizes = [math.prod(len(v) for v in g.values()) for g in grids]
        self._starts = np.cumsum([0, *sizes])
        self._dropped = np.zeros(0, np.int64) if dropped is None else np.sort(dropped)
        # _dropped[j] - j is how many kept points come before the j-th dropped one.
        self._gaps = self._dropped - np.arange(len(self._dropped))
        self.n_dropped = len(self._dropped)
        self.n_points = int(self._starts[-1]) - self.n_dropped

    def __len__(self) -> int:
        return self.n_points * len(self.seeds)

    def points(self, *, kept: bool = True) -> Iterator[dict[str, Any]]:
        """The RunConfig keywords of every grid point (``seed`` aside), in grid order;
        the dropped duplicates too when ``kept`` is False."""
        dropped = iter(self._dropped.tolist() if kept else [])
        skip = next(dropped, -1)
        index = 0
        for grid in self.grids:
            keys = list(grid)
            for combo in itertools.product(*(grid[k] for k in keys)):
                if index == skip:
                    skip = next(dropped, -1)
                else:
                    yield _config_kwargs({**self.fixed, **dict(zip(keys, combo, strict=True))})
                index += 1

    def __iter__(self) -> Iterator[RunConfig]:
        for kw in self.points():
            for seed in self.seeds:
                yield _unchecked(kw, seed)

    def with_ids(self) -> Iterator[tuple[str, RunConfig]]:
        """``(run_id(cfg), cfg)`` of every run, in order; hashes the JSON of a point's
        config once and only appends each seed's end to it (about 10x faster)."""
        for kw in self.points():
            first = _unchecked(kw, 0)
            head, found, tail = canonical_json(first).partition('"seed":0,')
            if not found:  # the canonical JSON always has seed followed by shuffle
                raise AssertionError(f"no seed in {head!r}")
            prefix = hashlib.sha256(head.encode())
            for seed in self.seeds:
                digest = prefix.copy()
                digest.update(f'"seed":{seed},{tail}'.encode())
                yield digest.hexdigest()[:16], _unchecked(kw, seed)

    def ids(self) -> Iterator[str]:
        """``run_id`` of every run, in order."""
        return (rid for rid, _ in self.with_ids())

    @overload
    def __getitem__(self, index: int) -> RunConfig: ...

    @overload
    def __getitem__(self, index: slice) -> list[RunConfig]: ...

    def __getitem__(self, index: int | slice) -> RunConfig | list[RunConfig]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"run {index} of a grid of {len(self)} runs")
        kept, seed = divmod(index, len(self.seeds))
        point = kept + int(np.searchsorted(self._gaps, kept, side="right"))
        return _unchecked(self._point(point), self.seeds[seed])

    def _point(self, point: int) -> dict[str, Any]:
        """The keywords of grid point ``point`` (counting dropped ones): the last axis
        of its grid varies fastest."""
        g = int(np.searchsorted(self._starts, point, side="right")) - 1
        grid = self.grids[g]
        rest = point - int(self._starts[g])
        combo: dict[str, Any] = {}
        for key in reversed(list(grid)):
            rest, i = divmod(rest, len(grid[key]))
            combo[key] = grid[key][i]
        return _config_kwargs({**self.fixed, **dict(reversed(combo.items()))})


def expand(
    file: GridFile, fixed: dict[str, Any], grids: list[dict[str, list[Any]]], seeds: tuple[int, ...]
) -> tuple[GridRuns, dict[str, list[Any]]]:
    """Validate every grid point, find the duplicates; the lazy runs and every
    setting's distinct values.

    A point equal to an earlier one is found by its hash (8 bytes a point, not a set of
    configs), and confirmed by comparing the configs of points whose hashes collide.
    """
    total = sum(math.prod(len(v) for v in g.values()) for g in grids) * len(seeds)
    if total > MAX_RUNS:
        raise file.error(
            "[grid]",
            f"the grids expand to {total:_} runs",
            f"allowed: at most {MAX_RUNS:_} runs per file (split the study into several files)",
        )
    values: dict[str, dict[Any, None]] = {k: {} for k in SETTABLE}
    hashes = array.array("q")
    for g, grid in enumerate(grids):
        keys = list(grid)
        for combo in itertools.product(*(grid[k] for k in keys)):
            kw = _config_kwargs({**fixed, **dict(zip(keys, combo, strict=True))})
            try:
                cfg = RunConfig(**kw, seed=seeds[0])
            except ValueError as e:
                raise _combination_error(file, fixed, grid, g, kw, str(e)) from None
            hashes.append(hash(cfg))
            _note_values(values, cfg)
    dropped = _duplicates(np.frombuffer(hashes, np.int64), GridRuns(fixed, grids, seeds))
    settings = {k: [list(v) if isinstance(v, tuple) else v for v in d] for k, d in values.items()}
    return GridRuns(fixed, grids, seeds, dropped), settings


def _duplicates(hashes: np.ndarray, runs: GridRuns) -> np.ndarray:
    """Indices of the grid points equal to an earlier point (``runs`` has none dropped)."""
    order = np.argsort(hashes, kind="stable")
    ranked = hashes[order]
    same = np.flatnonzero(ranked[1:] == ranked[:-1])
    if not len(same):
        return np.zeros(0, np.int64)
    dropped = []
    # Points sharing a hash, earliest first: each is a duplicate if equal to an earlier one.
    for group in np.split(order, np.flatnonzero(np.diff(ranked) != 0) + 1):
        if len(group) < 2:
            continue
        seen: list[RunConfig] = []
        for point in group.tolist():
            cfg = _unchecked(runs._point(point), 0)
            if cfg in seen:
                dropped.append(point)
            else:
                seen.append(cfg)
    return np.array(sorted(dropped), np.int64)


def _combination_error(
    file: GridFile,
    fixed: dict[str, Any],
    grid: dict[str, Any],
    index: int,
    kw: dict[str, Any],
    message: str,
) -> GridError:
    """A pair of values that cannot run together, named with where each was set."""
    positions = {k: m.start() for k in FIELDS if (m := re.search(rf"(?<!\w){k}(?!\w)", message))}
    keys = sorted(positions, key=positions.__getitem__)
    combo = ", ".join(f"{k} = {show(kw.get(k, FIELDS[k].default))}" for k in keys)
    where = " with ".join(where_set(file, fixed, grid, index, k) for k in keys)
    return file.error(
        where,
        f"the combination {combo} cannot run: {message}",
        "allowed: keep such values in separate [[grid]] tables",
    )


def _note_values(values: dict[str, dict[Any, None]], run: RunConfig) -> None:
    """Add ``run``'s value of every setting (RunConfig fields but seed, plus
    hidden_size/hidden_layers) to ``values``, which keeps them in first-seen order."""
    for key in FIELDS:
        if key != "seed":
            values[key][getattr(run, key)] = None
    hidden = run.hidden
    values["hidden_layers"][len(hidden)] = None
    if hidden:  # with no hidden layer the width means nothing
        values["hidden_size"][hidden[0] if len(set(hidden)) == 1 else None] = None
