"""Grid files: read a sweep's TOML file, validate all of it, expand it to RunConfigs.

A grid file has up to four tables (see the README's "Grid files" section)::

    [sweep]   how to run: name, seeds, n_jobs, backend, scheduler, record_every, ...
    [fixed]   RunConfig fields, one value for every run
    [grid]    axes: lists of values whose cartesian product (x seeds) is the study
    [sample]  configurations drawn from ranges and lists (random, Latin hypercube, Sobol')

``[[grid]]`` (an array of tables) unites several grids, like scikit-learn's list of
parameter grids. :func:`load_grid` checks everything before any work is done and raises
:class:`GridError`, one line naming the file, the table and key (and line), what is
wrong and what is allowed. Allowed field values come from :data:`sweep.config.FIELDS`,
so the grid, the Python API and the README say the same thing.

The rooms, in the order a file passes through them:

- :mod:`~sweep.grid.keys`: the tables, the keys of each and what every key allows.
- :mod:`~sweep.grid.scanner`: the line of every header and key in the TOML text.
- :mod:`~sweep.grid.source`: reading and parsing the file; :class:`GridError`.
- :mod:`~sweep.grid.values`: one setting's values checked, ranges expanded, shown.
- :mod:`~sweep.grid.settings`: the ``[sweep]`` table.
- :mod:`~sweep.grid.axes`: the ``[fixed]`` values, the ``[grid]`` axes, their conflicts.
- :mod:`~sweep.grid.sampling`: the ``[sample]`` table and its draws.
- :mod:`~sweep.grid.expansion`: the runs, built lazily (:class:`GridRuns`), duplicates.
- :mod:`~sweep.grid.ids`: a run's id.
- :mod:`~sweep.grid.loading`: :func:`load_grid`, the validated :class:`SweepSpec`.
- :mod:`~sweep.grid.summary`: what a grid will run, for ``sweep validate``.

Everything a caller outside the package uses is importable from ``sweep.grid``.
"""

from sweep.grid.expansion import GridRuns
from sweep.grid.ids import run_id
from sweep.grid.keys import (
    BACKENDS,
    MAX_RUNS,
    MAX_SEED,
    NULL_WORDS,
    PSEUDO_FIELDS,
    RANGE_KEYS,
    SETTABLE,
    SWEEP_KEYS,
    TABLES,
    reference_table,
)
from sweep.grid.loading import SweepSpec, load_grid
from sweep.grid.settings import SweepSettings
from sweep.grid.source import GridError
from sweep.grid.summary import describe

__all__ = [
    "BACKENDS",
    "MAX_RUNS",
    "MAX_SEED",
    "NULL_WORDS",
    "PSEUDO_FIELDS",
    "RANGE_KEYS",
    "SETTABLE",
    "SWEEP_KEYS",
    "TABLES",
    "GridError",
    "GridRuns",
    "SweepSettings",
    "SweepSpec",
    "describe",
    "load_grid",
    "reference_table",
    "run_id",
]
