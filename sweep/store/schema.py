"""What a results folder holds: its files' names and the Arrow schemas of their columns.

Columns are typed by explicit Arrow schemas, with pandas metadata so that a plain
``pd.read_parquet`` gives nullable ``Int64`` for ``batch_size``, ``n``,
``hidden_size`` and ``convergence_epoch``; DuckDB and Polars read the same files. A
run's config columns follow :data:`sweep.config.FIELDS`, so a new grid key gets its
column here without another edit.
"""

from __future__ import annotations

import json
from dataclasses import fields
from importlib import metadata
from typing import Any

import pyarrow as pa

from sweep.config import FIELDS, RunConfig

KINDS = ("runs", "curves", "weights")
PARTS = "parts"
GRID_FILE = "grid.toml"
MANIFEST_FILE = "manifest.json"
LOCK_FILE = ".lock"
STATUSES = ("ok", "diverged", "failed")
STAGES = ("init", "final")


_ARROW_TYPES = {
    "choice": pa.string(),
    "hidden": pa.list_(pa.int64()),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
}


def _config_columns() -> list[tuple[str, pa.DataType, bool]]:
    """``(name, type, nullable)`` of every RunConfig field, in the dataclass's order."""
    out = []
    for f in fields(RunConfig):
        spec = FIELDS[f.name]
        out.append((f.name, _ARROW_TYPES[spec.kind], spec.optional))
    return out


_RUNS_COLUMNS: list[tuple[str, pa.DataType, bool]] = [
    ("run_id", pa.string(), False),
    *_config_columns(),
    ("hidden_size", pa.int64(), True),
    ("hidden_layers", pa.int64(), False),
    ("status", pa.string(), False),
    ("final_loss", pa.float64(), True),
    ("final_accuracy", pa.float64(), True),
    ("best_loss", pa.float64(), True),
    ("converged", pa.bool_(), False),
    ("convergence_epoch", pa.int64(), True),
    ("epochs_run", pa.int64(), False),
    ("train_seconds", pa.float64(), False),
    ("error", pa.string(), True),
]
_CURVES_COLUMNS: list[tuple[str, pa.DataType, bool]] = [
    ("run_id", pa.string(), False),
    ("epoch", pa.int64(), False),
    ("loss", pa.float64(), False),
    ("accuracy", pa.float64(), False),
    # per hidden layer, how far apart its units are (kernels.symmetry); null in files
    # written before the measure was recorded
    ("symmetry", pa.list_(pa.float64()), True),
]
_WEIGHTS_COLUMNS: list[tuple[str, pa.DataType, bool]] = [
    ("run_id", pa.string(), False),
    ("stage", pa.string(), False),
    ("layer", pa.int64(), False),
    ("fan_in", pa.int64(), False),
    ("fan_out", pa.int64(), False),
    ("W", pa.list_(pa.float64()), False),
    ("b", pa.list_(pa.float64()), False),
]


# pandas' names of the Arrow types in the schemas (its "logical" types).
_PANDAS_TYPES = {
    pa.string(): "unicode",
    pa.bool_(): "bool",
    pa.int64(): "int64",
    pa.float64(): "float64",
}


def _pandas_column(name: str, kind: pa.DataType, nullable: bool) -> dict[str, Any]:
    """What ``pa.Table.from_pandas`` records of one column (a nullable integer column as
    pandas' ``Int64``, strings and lists as ``object``, as pandas 2 writes them and
    pandas 3 reads them)."""
    if pa.types.is_list(kind):
        logical = f"list[{_PANDAS_TYPES[kind.value_type]}]"
    else:
        logical = _PANDAS_TYPES[kind]
    if pa.types.is_integer(kind) and nullable:
        numpy_type = "Int64"
    elif pa.types.is_string(kind) or pa.types.is_list(kind):
        numpy_type = "object"
    else:
        numpy_type = logical
    return {
        "name": name,
        "field_name": name,
        "pandas_type": logical,
        "numpy_type": numpy_type,
        "metadata": None,
    }


def _schema(columns: list[tuple[str, pa.DataType, bool]]) -> pa.Schema:
    """The Arrow schema of ``columns`` with pandas metadata (nullable ints as ``Int64``).

    The metadata is what pandas reads to restore ``Int64`` for an integer column that
    may hold nulls, even in a file where it happens to hold none. It is what
    ``pa.Table.from_pandas`` writes for these columns (a test holds it to that), built
    here without importing pandas.
    """
    try:
        pandas_version = metadata.version("pandas")
    except metadata.PackageNotFoundError:  # pragma: no cover - pandas is a dependency
        pandas_version = "unknown"
    described = {
        "index_columns": [],
        "column_indexes": [],
        "columns": [_pandas_column(name, kind, null) for name, kind, null in columns],
        "attributes": {},
        "creator": {"library": "pyarrow", "version": pa.__version__},
        "pandas_version": pandas_version,
    }
    fields_ = [pa.field(name, kind, nullable=null) for name, kind, null in columns]
    return pa.schema(fields_, metadata={"pandas": json.dumps(described)})


RUNS_SCHEMA = _schema(_RUNS_COLUMNS)
CURVES_SCHEMA = _schema(_CURVES_COLUMNS)
WEIGHTS_SCHEMA = _schema(_WEIGHTS_COLUMNS)
SCHEMAS = {"runs": RUNS_SCHEMA, "curves": CURVES_SCHEMA, "weights": WEIGHTS_SCHEMA}
