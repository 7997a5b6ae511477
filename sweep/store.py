"""A sweep's results folder: typed Parquet written in parts, consolidated, read back.

The layout (a contract with ``analysis/``; see the README's "Results" section)::

    <sweep>/grid.toml            the grid file as given
    <sweep>/manifest.json        tool and package versions, machine, times, run counts
    <sweep>/runs.parquet         one row per run          } consolidated at the end
    <sweep>/curves.parquet       run_id, epoch, loss, acc } of a sweep
    <sweep>/weights.parquet      init and final weights   }
    <sweep>/parts/{runs,curves,weights}-<uuid>.parquet     while a sweep runs

One joblib task's runs land in one part of each kind sharing a uuid. Every file is
written under a temporary name, flushed to disk and renamed (``os.replace``), so a file
is whole or absent; the ``runs`` part is renamed last and is what makes its chunk
visible: curves or weights parts without their ``runs`` part (a chunk killed half-way)
are ignored and later removed. Readers union the consolidated files and the visible
parts, keeping each ``run_id`` once (a finished row beats a ``failed`` one, so a
retried run replaces its failure), so a sweep killed at any moment reads back whole.

Columns are typed by explicit Arrow schemas, with pandas metadata so that a plain
``pd.read_parquet`` gives nullable ``Int64`` for ``batch_size``, ``n``,
``hidden_size`` and ``convergence_epoch``; DuckDB and Polars read the same files.

Writing and consolidating never import pandas (only the ``read_*`` functions that
return frames do): pyarrow imports it the first time ``pa.array``, ``to_numpy`` or a
Python scalar in a compute call meets it, to check for pandas objects, and that import
was 0.14 s of a sweep's start-up, a fifth of a warm ``python -m sweep run`` of a tiny
grid. So this module builds its arrays from numpy buffers (:func:`_numbers`,
:func:`_strings`, :func:`_lists`) and reads them back the same way (:func:`_values`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sweep.config import FIELDS, RunConfig
from sweep.errors import UserError

if TYPE_CHECKING:
    import pandas as pd

KINDS = ("runs", "curves", "weights")
PARTS = "parts"
GRID_FILE = "grid.toml"
MANIFEST_FILE = "manifest.json"
LOCK_FILE = ".lock"
STATUSES = ("ok", "diverged", "failed")
STAGES = ("init", "final")
# Rows per batch when curves and weights are streamed (consolidation, readers): about
# 1.5 MB of curves. Batches of 1M rows made a 100,000-run sweep's consolidation peak
# ~150 MB higher, and 128k rows a 300,000-run one ~40 MB (benchmarks/sweep_memory.py).
BATCH_ROWS = 1 << 15
# Rows of runs.parquet sorted at a time at consolidation (about 4 MB of runs), and the
# batch size runs are read in when only some of their rows are wanted.
SORT_ROWS = 1 << 14
# Rows per row group of the consolidated files: larger groups compress better (1M
# rows: 10-15% smaller files) but are held in memory while written.
ROW_GROUP_ROWS = 1 << 17

Params = list[tuple[np.ndarray, np.ndarray]]

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


# --------------------------------------------------------------------------- Arrow arrays
# From numpy buffers and back, not through pa.array or to_numpy (see the module's
# docstring: those import pandas).

_NUMPY_TYPES = {pa.int32(): np.int32, pa.int64(): np.int64, pa.float64(): np.float64}


def _validity(valid: np.ndarray | None) -> tuple[pa.Buffer | None, int]:
    """An Arrow validity bitmap for the mask ``valid`` (None when nothing is null), and
    the null count."""
    if valid is None or valid.all():
        return None, 0
    return pa.py_buffer(np.packbits(valid, bitorder="little")), int(np.count_nonzero(~valid))


def _numbers(values: Any, kind: pa.DataType, valid: np.ndarray | None = None) -> pa.Array:
    """``values`` as an Arrow array of ``kind`` (int32, int64, float64 or bool), null
    where ``valid`` is False."""
    bitmap, nulls = _validity(valid)
    if kind == pa.bool_():
        bits = np.asarray(values, bool)
        data = np.packbits(bits, bitorder="little")
        n = len(bits)
    else:
        data = np.ascontiguousarray(values, _NUMPY_TYPES[kind])
        n = len(data)
    return pa.Array.from_buffers(kind, n, [bitmap, pa.py_buffer(data)], null_count=nulls)


def _strings(values: Iterable[str | None]) -> pa.Array:
    """Python strings (None for null) as an Arrow string array."""
    items = list(values)
    valid = None
    if None in items:
        valid = np.array([v is not None for v in items], bool)
    encoded = [b"" if v is None else v.encode() for v in items]
    offsets = np.zeros(len(encoded) + 1, np.int32)
    np.cumsum(np.fromiter(map(len, encoded), np.int32, len(encoded)), out=offsets[1:])
    bitmap, nulls = _validity(valid)
    buffers = [bitmap, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(pa.string(), len(encoded), buffers, null_count=nulls)


def _picked(strings: Sequence[str], indices: np.ndarray) -> pa.Array:
    """``strings[indices[i]]`` for each i, built as a dictionary then cast (cheap)."""
    codes = _numbers(np.asarray(indices, np.int32), pa.int32())
    return pa.DictionaryArray.from_arrays(codes, _strings(strings)).cast(pa.string())


def _lists(arrays: list[np.ndarray], kind: pa.DataType) -> pa.Array:
    """A ``list<kind>`` array, one list per (raveled, row-major) numpy array."""
    dtype = _NUMPY_TYPES[kind]
    offsets = np.zeros(len(arrays) + 1, dtype=np.int32)
    np.cumsum([a.size for a in arrays], out=offsets[1:])
    values = np.concatenate([a.ravel() for a in arrays]) if arrays else np.zeros(0, dtype)
    return pa.ListArray.from_arrays(_numbers(offsets, pa.int32()), _numbers(values, kind))


def _column(values: list[Any], kind: pa.DataType) -> pa.Array:
    """A column of Python values (None for null) as an Arrow array of ``kind``."""
    if pa.types.is_string(kind):
        return _strings(values)
    if pa.types.is_list(kind):
        if any(v is None for v in values):
            raise ValueError("list columns hold no nulls here")
        dtype = _NUMPY_TYPES[kind.value_type]
        return _lists([np.asarray(v, dtype) for v in values], kind.value_type)
    valid = np.array([v is not None for v in values], bool)
    return _numbers([0 if v is None else v for v in values], kind, valid)


def _values(array: pa.Array | pa.ChunkedArray, fill: Any = 0) -> np.ndarray:
    """A numeric or boolean Arrow array's values as numpy, ``fill`` where null."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    n, offset = len(array), array.offset
    bitmap, data = array.buffers()[:2]
    if n == 0:  # an empty array may come without a data buffer
        return np.zeros(0, bool if array.type == pa.bool_() else _NUMPY_TYPES[array.type])
    if array.type == pa.bool_():
        bits = np.unpackbits(np.frombuffer(data, np.uint8), count=offset + n, bitorder="little")
        values: np.ndarray = bits[offset:].astype(bool)
    else:
        dtype = np.dtype(_NUMPY_TYPES[array.type])
        values = np.frombuffer(data, dtype, count=n, offset=offset * dtype.itemsize).copy()
    if array.null_count:
        valid = np.unpackbits(np.frombuffer(bitmap, np.uint8), count=offset + n, bitorder="little")
        values[~valid[offset:].astype(bool)] = fill
    return values


# --------------------------------------------------------------------------- building tables


def run_row(
    run_id: str,
    cfg: RunConfig,
    *,
    status: str,
    seconds: float,
    final_loss: float | None = None,
    final_accuracy: float | None = None,
    best_loss: float | None = None,
    convergence_epoch: int | None = None,
    epochs_run: int = 0,
    error: str | None = None,
) -> dict[str, Any]:
    """One row of ``runs.parquet``: the config's fields, its shape and the outcome.

    A failed run has null losses, ``epochs_run`` 0 and its error text.
    """
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
    hidden = cfg.hidden
    return {
        "run_id": run_id,
        **cfg.to_dict(),
        "hidden_size": hidden[0] if hidden and len(set(hidden)) == 1 else None,
        "hidden_layers": len(hidden),
        "status": status,
        "final_loss": final_loss,
        "final_accuracy": final_accuracy,
        "best_loss": best_loss,
        "converged": convergence_epoch is not None,
        "convergence_epoch": convergence_epoch,
        "epochs_run": epochs_run,
        "train_seconds": seconds,
        "error": error,
    }


def runs_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows from :func:`run_row` as a table of :data:`RUNS_SCHEMA`."""
    columns = [_column([row[f.name] for row in rows], f.type) for f in RUNS_SCHEMA]
    return pa.Table.from_arrays(columns, schema=RUNS_SCHEMA)


def recorded_epochs(epochs_run: int, every: int) -> np.ndarray:
    """Epochs kept with ``record_every = every``: 0, k, 2k, ... and always the last one."""
    kept = np.arange(0, epochs_run, every, dtype=np.int64)
    if epochs_run > 0 and kept[-1] != epochs_run - 1:
        kept = np.append(kept, epochs_run - 1)
    return kept


def curves_table(
    run_ids: list[str], curves: list[tuple[np.ndarray, np.ndarray]], every: int
) -> pa.Table:
    """Long-format curves: for each run its ``(loss, accuracy)`` arrays, every k-th epoch."""
    epochs = [recorded_epochs(len(loss), every) for loss, _ in curves]
    if not epochs:
        return CURVES_SCHEMA.empty_table()
    columns = [
        _picked(run_ids, np.repeat(np.arange(len(run_ids)), [len(e) for e in epochs])),
        _numbers(np.concatenate(epochs), pa.int64()),
        _numbers(
            np.concatenate([loss[e] for (loss, _), e in zip(curves, epochs, strict=True)]),
            pa.float64(),
        ),
        _numbers(
            np.concatenate([acc[e] for (_, acc), e in zip(curves, epochs, strict=True)]),
            pa.float64(),
        ),
    ]
    return pa.Table.from_arrays(columns, schema=CURVES_SCHEMA)


def weights_table(run_ids: list[str], weights: list[tuple[Params, Params]]) -> pa.Table:
    """Each run's ``(init, final)`` weights, one row per stage and layer."""
    rows: list[tuple[int, int, int, int, int]] = []  # run, stage, layer, fan in, fan out
    w_list: list[np.ndarray] = []
    b_list: list[np.ndarray] = []
    for run, pair in enumerate(weights):
        for stage, params in enumerate(pair):
            for layer, (w, b) in enumerate(params):
                rows.append((run, stage, layer, *w.shape))
                w_list.append(w)
                b_list.append(b)
    if not rows:
        return WEIGHTS_SCHEMA.empty_table()
    table = np.array(rows, np.int64)
    columns = [
        _picked(run_ids, table[:, 0]),
        _picked(STAGES, table[:, 1]),
        *(_numbers(table[:, k], pa.int64()) for k in (2, 3, 4)),
        _lists(w_list, pa.float64()),
        _lists(b_list, pa.float64()),
    ]
    return pa.Table.from_arrays(columns, schema=WEIGHTS_SCHEMA)


# --------------------------------------------------------------------------- writing


def _fsync_dir(path: Path) -> None:
    """Flush a folder's entries (the rename) to disk, where the OS allows it."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_atomic(path: Path, write: Any) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, fsync, rename onto ``path``."""
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def write_options(kind: str) -> dict[str, Any]:
    """pyarrow's Parquet writer options for ``kind``'s files: zstd, and dictionaries
    for the string columns only.

    pyarrow's defaults (snappy, a dictionary tried on every column, then dropped for
    the floats) wrote the throughput sweep's curves (202,000 rows) in 19.3 ms, 2.02 MB;
    these in 8.7 ms, 1.64 MB (weights: 7.1 ms, 0.95 MB against 4.8 ms, 0.68 MB); its
    consolidation took 71 ms instead of 133.
    """
    strings = [f.name for f in SCHEMAS[kind] if pa.types.is_string(f.type)]
    return {"compression": "zstd", "use_dictionary": strings}


def write_table(path: Path, table: pa.Table, kind: str) -> None:
    """Write ``table``, of ``kind``'s schema, to ``path`` atomically (whole or absent)."""
    _write_atomic(path, lambda f: pq.write_table(table, f, **write_options(kind)))


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    _write_atomic(path, lambda f: f.write(text.encode("utf-8")))


def write_part(sweep_dir: Path, tables: dict[str, pa.Table]) -> str:
    """Write one chunk's ``runs``/``curves``/``weights`` tables as parts; returns their uuid.

    The ``runs`` part goes last: until it exists the other two are invisible.
    """
    parts = Path(sweep_dir) / PARTS
    parts.mkdir(parents=True, exist_ok=True)
    key = uuid.uuid4().hex
    for kind in ("curves", "weights", "runs"):
        table = tables[kind]
        if table.schema != SCHEMAS[kind]:
            table = table.cast(SCHEMAS[kind])
        write_table(parts / f"{kind}-{key}.parquet", table, kind)
    return key


def write_manifest(sweep_dir: Path, manifest: dict[str, Any]) -> None:
    write_text(Path(sweep_dir) / MANIFEST_FILE, json.dumps(manifest, indent=2) + "\n")


def read_manifest(sweep_dir: Path) -> dict[str, Any]:
    """The manifest, or an empty dict when there is none (yet)."""
    path = Path(sweep_dir) / MANIFEST_FILE
    try:
        return dict(json.loads(path.read_text("utf-8")))
    except FileNotFoundError:
        return {}


# --------------------------------------------------------------------------- reading


def _visible_parts(sweep_dir: Path) -> list[str]:
    """Uuids of the chunks whose ``runs`` part exists, oldest first."""
    parts = Path(sweep_dir) / PARTS
    if not parts.is_dir():
        return []
    found = []
    for path in parts.glob("runs-*.parquet"):
        with contextlib.suppress(FileNotFoundError):
            found.append((path.stat().st_mtime_ns, path.name[5:-8]))
    return [key for _, key in sorted(found)]


def _sources(sweep_dir: Path, kind: str) -> list[Path]:
    """The consolidated file of ``kind`` (if any), then its visible parts, oldest first."""
    sweep_dir = Path(sweep_dir)
    out = []
    whole = sweep_dir / f"{kind}.parquet"
    if whole.exists():
        out.append(whole)
    out += [sweep_dir / PARTS / f"{kind}-{key}.parquet" for key in _visible_parts(sweep_dir)]
    return out


def _read(path: Path, kind: str, columns: list[str] | None = None, **kwargs: Any) -> pa.Table:
    try:
        table = pq.read_table(path, columns=columns, **kwargs)
    except FileNotFoundError:
        # A part consolidated (and removed) by another reader's sweep in between.
        schema = SCHEMAS[kind]
        names = columns or schema.names
        return pa.schema([schema.field(n) for n in names]).empty_table()
    except (OSError, pa.ArrowInvalid) as e:
        raise UserError(f"{path}: not a readable Parquet file ({e}); move it out of the way") from e
    return table


# --------------------------------------------------------------------------- run keys

_HEX_DIGITS = np.full(256, 16, np.uint8)
_HEX_DIGITS[np.frombuffer(b"0123456789abcdef", np.uint8)] = np.arange(16, dtype=np.uint8)


def id_keys(ids: pa.Array | pa.ChunkedArray | Iterable[str]) -> np.ndarray:
    """Each run id as a 64-bit key (``uint64``): its 16 hex digits read as a number.

    A run id is the first 64 bits of a SHA-256 in hex (:func:`sweep.grid.run_id`), so
    the key is the id itself in 8 bytes instead of a ~65-byte Python string, and sets
    of a sweep's ids become sorted numpy arrays. Any other string (never written by
    the tool) gets the first 8 bytes of its BLAKE2b hash instead. The digits are read
    in place from the Arrow buffer (16 bytes a row, no index arrays).
    """
    if not isinstance(ids, pa.Array | pa.ChunkedArray):
        ids = _strings(ids)
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    if not pa.types.is_string(ids.type):
        ids = ids.cast(pa.string())
    n = len(ids)
    if n == 0:
        return np.zeros(0, np.uint64)
    offsets_buffer, data_buffer = ids.buffers()[1:3]
    offsets = np.frombuffer(offsets_buffer, np.int32, count=n + 1, offset=4 * ids.offset)
    data = np.zeros(0, np.uint8) if data_buffer is None else np.frombuffer(data_buffer, np.uint8)
    regular = np.diff(offsets) == 16
    if regular.all():  # the usual case: the ids lie back to back, 16 bytes each
        text = data[offsets[0] : offsets[-1]].reshape(n, 16)
    else:
        text = np.zeros((n, 16), np.uint8)
        text[regular] = data[offsets[:-1][regular, None] + np.arange(16)]
    digits = _HEX_DIGITS[text]
    hexadecimal = regular & (digits < 16).all(axis=1)
    # Two hex digits make a byte; eight bytes, big-endian, the key.
    packed = (digits[:, 0::2] << 4) | digits[:, 1::2]
    keys = np.ascontiguousarray(packed).view(">u8").ravel().astype(np.uint64)
    for i in np.flatnonzero(~hexadecimal).tolist():
        digest = hashlib.blake2b(str(ids[i].as_py()).encode(), digest_size=8).digest()
        keys[i] = int.from_bytes(digest, "big")
    return keys


class RunOrder:
    """Run ids in an order (a grid's), by key: where each id stands, 16 bytes a run.

    ``RunOrder(keys)`` takes the :func:`id_keys` of the ids in order (a 300,000-run
    grid: 4.8 MB, where a list and a set of its ids took ~40 MB).
    """

    def __init__(self, keys: np.ndarray) -> None:
        self.keys = np.asarray(keys, np.uint64)
        self._sorter = np.argsort(self.keys, kind="stable")
        self._sorted = self.keys[self._sorter]

    @classmethod
    def of(cls, run_ids: RunOrder | Iterable[str]) -> RunOrder:
        """``run_ids`` as a RunOrder (itself if it is one)."""
        return run_ids if isinstance(run_ids, RunOrder) else cls(id_keys(run_ids))

    def __len__(self) -> int:
        return len(self.keys)

    def rank(self, keys: np.ndarray) -> np.ndarray:
        """The position of each key in the order (``int64``), -1 for a key not in it."""
        if not len(self.keys):
            return np.full(len(keys), -1, np.int64)
        at = np.minimum(np.searchsorted(self._sorted, keys), len(self.keys) - 1)
        return np.where(self._sorted[at] == keys, self._sorter[at], -1).astype(np.int64)

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Whether each key is in the order."""
        return self.rank(keys) >= 0


def _member(sorted_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(found, position)`` of each of ``keys`` in the sorted array ``sorted_keys``."""
    if not len(sorted_keys):
        return np.zeros(len(keys), bool), np.zeros(len(keys), np.int64)
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[at] == keys, at


# --------------------------------------------------------------------------- reading runs


def _status_codes(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Each status as its index in :data:`STATUSES` (``int8``; -1 for another string)."""
    return _values(pc.index_in(column, value_set=_strings(STATUSES)), fill=-1).astype(np.int8)


def _iter_batches(
    path: Path, kind: str, columns: list[str] | None = None, batch_rows: int = BATCH_ROWS
) -> Iterator[pa.RecordBatch]:
    """The batches of one file (none if it was removed meanwhile), cast to the schema."""
    schema = SCHEMAS[kind]
    if columns is not None:
        schema = pa.schema([schema.field(n) for n in columns])
    try:
        file = pq.ParquetFile(path)
    except FileNotFoundError:  # a part consolidated (and removed) by another sweep
        return
    except (OSError, pa.ArrowInvalid) as e:
        raise UserError(f"{path}: not a readable Parquet file ({e}); move it out of the way") from e
    with file:
        for batch in file.iter_batches(batch_size=batch_rows, columns=columns, use_threads=False):
            if batch.num_rows:
                yield batch.cast(schema)


@dataclass(frozen=True)
class _RunsScan:
    """Every row of the runs sources (consolidated file, then parts oldest first), keyed.

    ``rows[i]`` rows come from ``sources[i]``; ``keep`` marks the row kept for each
    run id: a finished one (ok/diverged) beats a failed one, else the first.
    """

    sources: list[Path]
    rows: list[int]
    keys: np.ndarray
    status: np.ndarray
    keep: np.ndarray


def _scan_runs(sweep_dir: Path) -> _RunsScan:
    sources = _sources(sweep_dir, "runs")
    rows, keys, status = [], [], []
    for path in sources:
        n = 0
        for batch in _iter_batches(path, "runs", ["run_id", "status"], SORT_ROWS):
            keys.append(id_keys(batch.column(0)))
            status.append(_status_codes(batch.column(1)))
            n += batch.num_rows
        rows.append(n)
    all_keys = np.concatenate(keys) if keys else np.zeros(0, np.uint64)
    all_status = np.concatenate(status) if status else np.zeros(0, np.int8)
    keep = np.zeros(len(all_keys), bool)
    if len(all_keys):
        failed = all_status == STATUSES.index("failed")
        order = np.lexsort((np.arange(len(all_keys)), failed, all_keys))
        ranked = all_keys[order]
        first = np.ones(len(order), bool)
        first[1:] = ranked[1:] != ranked[:-1]
        keep[order[first]] = True
    return _RunsScan(sources, rows, all_keys, all_status, keep)


def run_keys(sweep_dir: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """``(keys, statuses)`` of every run recorded in the folder, each once: the
    :func:`id_keys` of the run ids and each status's index in :data:`STATUSES`.

    Reads only the ``run_id`` and ``status`` columns, a batch at a time (what
    :func:`run_statuses` gives as a dict of strings, in ~10 bytes a run).
    """
    scan = _scan_runs(Path(sweep_dir))
    return scan.keys[scan.keep], scan.status[scan.keep]


def _runs_arrow(
    sweep_dir: Path, columns: list[str] | None = None, only: np.ndarray | None = None
) -> pa.Table:
    """The runs table, each run once; only the runs whose keys are in the sorted array
    ``only`` when given (filtered a batch at a time, so a few runs of a big sweep cost
    little)."""
    wanted = None if columns is None else list(dict.fromkeys(["run_id", "status", *columns]))
    schema = RUNS_SCHEMA if wanted is None else pa.schema([RUNS_SCHEMA.field(n) for n in wanted])
    batches = []
    for path in _sources(sweep_dir, "runs"):
        if only is None:
            table = _read(path, "runs", wanted)
            batches += table.cast(schema).to_batches()
            continue
        for batch in _iter_batches(path, "runs", wanted, SORT_ROWS):
            found, _ = _member(only, id_keys(batch.column("run_id")))
            if found.any():
                batches.append(batch.filter(_numbers(found, pa.bool_())))
    table = pa.Table.from_batches(batches, schema=schema)
    table = _dedupe_runs(table)
    return table if columns is None else table.select(columns)


def _dedupe_runs(table: pa.Table) -> pa.Table:
    """Each run_id once: a finished row (ok/diverged) beats a failed one, else the first."""
    if table.num_rows == 0:
        return table
    keys = id_keys(table.column("run_id"))
    failed = _status_codes(table.column("status")) == STATUSES.index("failed")
    order = np.lexsort((np.arange(len(keys)), failed, keys))
    ranked = keys[order]
    first = np.ones(len(order), bool)
    first[1:] = ranked[1:] != ranked[:-1]
    if first.all():  # no run twice (the usual case): no copy
        return table
    return table.take(_numbers(np.sort(order[first]), pa.int64()))


def read_runs(sweep_dir: str | Path, run_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Every run of a sweep (consolidated and in parts), each ``run_id`` once.

    Parameters
    ----------
    sweep_dir : the sweep's results folder.
    run_ids : only these runs (all when None).

    Returns
    -------
    DataFrame with the columns of :data:`RUNS_SCHEMA` (empty, but typed, when no run
    has finished yet).
    """
    only = None if run_ids is None else np.unique(id_keys(run_ids))
    return _runs_arrow(Path(sweep_dir), only=only).to_pandas()


def run_statuses(sweep_dir: str | Path) -> dict[str, str]:
    """``run_id -> status`` of every run recorded in the folder."""
    table = _runs_arrow(Path(sweep_dir), ["run_id", "status"])
    return dict(
        zip(table.column("run_id").to_pylist(), table.column("status").to_pylist(), strict=True)
    )


def done_run_ids(sweep_dir: str | Path, *, include_failed: bool = True) -> set[str]:
    """Run ids already on disk (finished, and failed unless ``include_failed`` is False)."""
    return {
        rid
        for rid, status in run_statuses(sweep_dir).items()
        if include_failed or status != "failed"
    }


# --------------------------------------------------------------------------- curves, weights


def _iter_keyed(
    sweep_dir: Path, kind: str, allowed: np.ndarray, batch_rows: int = BATCH_ROWS
) -> Iterator[pa.RecordBatch]:
    """Batches of ``kind`` (curves or weights) for the runs whose keys are in the sorted
    array ``allowed``, each run once.

    A run's rows come from the first source that holds them (the consolidated file, then
    parts oldest first); a finished run's rows are the same in every source, so the
    choice does not matter, and a run only ever in orphaned parts is not in ``allowed``.
    Sources are read a batch at a time, and run ids are handled as 8-byte keys, so
    memory does not grow with the sweep.
    """
    remaining = np.ones(len(allowed), bool)
    for path in _sources(sweep_dir, kind):
        if not remaining.any():
            return
        taken = []
        for batch in _iter_batches(path, kind, batch_rows=batch_rows):
            # Test the batch's few distinct ids, not every row.
            ids = pc.unique(batch.column("run_id"))
            found, at = _member(allowed, id_keys(ids))
            found &= remaining[at]
            if not found.any():
                continue
            if not found.all():
                keep = ids.filter(_numbers(found, pa.bool_()))
                batch = batch.filter(pc.is_in(batch.column("run_id"), value_set=keep))
            taken.append(at[found])
            yield batch
        for at in taken:  # a run's rows are all in one source: skip them in later sources
            remaining[at] = False


def _finished_keys(sweep_dir: Path) -> np.ndarray:
    """The sorted keys of the runs that finished (ok or diverged)."""
    keys, status = run_keys(sweep_dir)
    return np.sort(keys[status != STATUSES.index("failed")])


def _read_keyed(sweep_dir: str | Path, kind: str, run_ids: Iterable[str] | None) -> pd.DataFrame:
    sweep_dir = Path(sweep_dir)
    allowed = _finished_keys(sweep_dir)
    if run_ids is not None:
        allowed = np.intersect1d(allowed, id_keys(run_ids))
    batches = list(_iter_keyed(sweep_dir, kind, allowed))
    return pa.Table.from_batches(batches, schema=SCHEMAS[kind]).to_pandas()


def read_curves(sweep_dir: str | Path, run_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Loss and accuracy per recorded epoch (``run_id, epoch, loss, accuracy``).

    Parameters
    ----------
    sweep_dir : the sweep's results folder.
    run_ids : only these runs (all when None; a large sweep's curves can be big).
    """
    return _read_keyed(sweep_dir, "curves", run_ids)


def read_weights(sweep_dir: str | Path, run_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Initial and final weights (``run_id, stage, layer, fan_in, fan_out, W, b``).

    ``W`` is row-major ``(fan_in, fan_out)``: ``np.reshape(row.W, (row.fan_in, row.fan_out))``.
    """
    return _read_keyed(sweep_dir, "weights", run_ids)


# --------------------------------------------------------------------------- consolidating


def _stale_files(sweep_dir: Path, keep: set[str]) -> list[Path]:
    """Part and temporary files not belonging to the chunks in ``keep``."""
    parts = sweep_dir / PARTS
    out = [p for p in sweep_dir.glob(".tmp-*")]
    if parts.is_dir():
        for path in parts.iterdir():
            key = path.name.split("-", 1)[-1].removesuffix(".parquet")
            if path.name.startswith(".tmp-") or key not in keep:
                out.append(path)
    return out


def _write_grouped(writer: pq.ParquetWriter, batches: Iterable[pa.RecordBatch]) -> None:
    """Write ``batches`` in row groups of about :data:`ROW_GROUP_ROWS` rows (a part's
    batches are small, and a row group per batch makes the file ~15% larger)."""
    group: list[pa.RecordBatch] = []
    rows = 0
    for batch in batches:
        group.append(batch)
        rows += batch.num_rows
        if rows >= ROW_GROUP_ROWS:
            writer.write_table(pa.Table.from_batches(group), row_group_size=rows)
            group, rows = [], 0
    if group:
        writer.write_table(pa.Table.from_batches(group), row_group_size=rows)


def _write_runs_sorted(f: Any, scan: _RunsScan, order: RunOrder | None) -> None:
    """Write the kept rows of ``scan`` to ``f`` in ``order`` (unknown ids last, as found).

    Every kept row gets a distinct sort value: its rank in ``order``, or for an id not
    in it ``len(order)`` plus its row number. Rows already in that order (one start of
    a sweep writing in grid order, or no ``order``) are streamed through in one pass;
    otherwise the sorted values are cut into ranges of :data:`SORT_ROWS` rows and each
    range is gathered from all sources in one pass and sorted: memory is one range,
    whatever the sweep's size, at the cost of reading the runs once per range.
    """
    position = np.arange(len(scan.keys), dtype=np.int64)
    if order is None:
        value = position
    else:
        rank = order.rank(scan.keys)
        value = np.where(rank >= 0, rank, len(order) + position)
    kept_values = value[scan.keep]
    ordered = bool(np.all(kept_values[1:] > kept_values[:-1]))
    bounds = [0, np.iinfo(np.int64).max]
    if not ordered:
        cuts = np.sort(kept_values)[::SORT_ROWS]
        bounds = [*cuts.tolist(), np.iinfo(np.int64).max]
    starts = np.cumsum([0, *scan.rows])
    with pq.ParquetWriter(f, RUNS_SCHEMA, **write_options("runs")) as writer:
        for low, high in zip(bounds[:-1], bounds[1:], strict=True):
            wanted = scan.keep & (value >= low) & (value < high)
            pieces, piece_values = [], []
            for path, start, stop in zip(scan.sources, starts[:-1], starts[1:], strict=True):
                if not wanted[start:stop].any():
                    continue
                at = int(start)
                for batch in _iter_batches(path, "runs", batch_rows=SORT_ROWS):
                    rows = slice(at, at + batch.num_rows)
                    at += batch.num_rows
                    if not np.array_equal(id_keys(batch.column("run_id")), scan.keys[rows]):
                        raise RuntimeError(f"{path} changed while it was being consolidated")
                    mask = wanted[rows]
                    if not mask.any():
                        continue
                    piece = batch if mask.all() else batch.filter(_numbers(mask, pa.bool_()))
                    if ordered:
                        writer.write_batch(piece)
                    else:
                        pieces.append(piece)
                        piece_values.append(value[rows][mask])
            if pieces:
                table = pa.Table.from_batches(pieces, schema=RUNS_SCHEMA)
                sort = np.argsort(np.concatenate(piece_values), kind="stable")
                writer.write_table(table.take(_numbers(sort, pa.int64())))


def consolidate(sweep_dir: str | Path, *, order: RunOrder | Iterable[str] | None = None) -> bool:
    """Merge the parts into ``runs/curves/weights.parquet`` and remove them.

    Each file is written to a temporary name and renamed, curves and weights first and
    runs last; a crash in between leaves every run readable (readers dedupe), and the
    next consolidation finishes the job. Everything is streamed a batch at a time, and
    run ids are held as 8-byte keys, so memory does not grow with the sweep. ``order``
    sorts ``runs.parquet`` (the grid's run order, as ids or a :class:`RunOrder`;
    unknown ids last, in the order found). Returns whether anything changed.
    """
    sweep_dir = Path(sweep_dir)
    keys = _visible_parts(sweep_dir)
    stale = _stale_files(sweep_dir, set(keys))
    if not keys:
        for path in stale:
            with contextlib.suppress(OSError):
                path.unlink()
        return bool(stale)
    scan = _scan_runs(sweep_dir)
    finished = np.sort(scan.keys[scan.keep & (scan.status != STATUSES.index("failed"))])
    for kind in ("curves", "weights"):

        def write(f: Any, kind: str = kind) -> None:
            with pq.ParquetWriter(f, SCHEMAS[kind], **write_options(kind)) as writer:
                _write_grouped(writer, _iter_keyed(sweep_dir, kind, finished))

        _write_atomic(sweep_dir / f"{kind}.parquet", write)
    runs_order = None if order is None else RunOrder.of(order)
    _write_atomic(sweep_dir / "runs.parquet", lambda f: _write_runs_sorted(f, scan, runs_order))
    consumed = [sweep_dir / PARTS / f"{kind}-{key}.parquet" for key in keys for kind in KINDS]
    for path in [*consumed, *stale]:
        with contextlib.suppress(OSError):
            path.unlink()
    with contextlib.suppress(OSError):
        (sweep_dir / PARTS).rmdir()
    return True


# --------------------------------------------------------------------------- the folder


@dataclass(frozen=True)
class FolderPlan:
    """What :func:`open_folder` will do with a results folder (decided without touching it).

    ``move_aside``: the old folder's new name under ``--fresh``; ``new_grid``: the
    folder holds another grid file whose runs are all in the new grid (an extension,
    such as more seeds or another axis value), which replaces it.
    """

    path: Path
    move_aside: Path | None
    new_grid: bool


def _check_creatable(path: Path) -> None:
    """UserError unless ``path`` can be created: its nearest existing ancestor must be a
    writable folder (checked before any work, so a bad --out costs nothing)."""
    ancestor = path.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UserError(f"{path}: cannot be created, {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise UserError(f"{path}: cannot be created, {ancestor} is not writable")


def plan_folder(
    out_dir: str | Path, *, grid_text: str, run_ids: RunOrder | Iterable[str], fresh: bool
) -> FolderPlan:
    """Check that ``out_dir`` can take this sweep, touching nothing; UserError if not.

    The folder may be absent or empty, or hold a sweep: of the same grid file (resume),
    or of a grid whose recorded runs all belong to this one (an extension: its runs
    are kept, its grid.toml replaced). Any other content is refused unless ``fresh``,
    which moves the whole folder aside to ``<dir>.old-<timestamp>`` (nothing is deleted).
    ``run_ids`` are the new grid's (read only when its grid file differs).
    """
    path = Path(out_dir)
    if path.exists() and not path.is_dir():
        raise UserError(f"{path}: exists and is not a folder; give --out a folder path")
    if not path.exists():
        _check_creatable(path)
        return FolderPlan(path, None, False)
    if not os.access(path, os.W_OK | os.X_OK):
        raise UserError(f"{path}: the folder is not writable; give --out a folder you can write")
    if not any(path.iterdir()):
        return FolderPlan(path, None, False)
    if fresh:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = path.with_name(f"{path.name}.old-{stamp}")
        counter = 1
        while aside.exists():
            aside = path.with_name(f"{path.name}.old-{stamp}-{counter}")
            counter += 1
        return FolderPlan(path, aside, False)
    grid = path / GRID_FILE
    if not grid.is_file():
        raise UserError(
            f"{path}: the folder is not empty and holds no sweep (no {GRID_FILE}); "
            "give --out an empty or new folder"
        )
    try:
        old_text = grid.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(
            f"{grid}: cannot be read ({e}); use --fresh to move the folder aside"
        ) from None
    if old_text == grid_text:
        return FolderPlan(path, None, False)
    recorded, _ = run_keys(path)
    foreign = np.count_nonzero(~RunOrder.of(run_ids).contains(recorded))
    if foreign:
        raise UserError(
            f"{path}: holds results of a different grid ({foreign:,} of its runs are not "
            "in this one); use --fresh to move them aside, or --out another folder"
        )
    return FolderPlan(path, None, True)


@contextlib.contextmanager
def _try_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path/.lock`` (POSIX), or raise UserError if taken."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; run one sweep per folder.
        yield
        return
    with open(path / LOCK_FILE, "a+") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise UserError(
                f"{path}: another sweep is running into this folder; wait for it or use --out"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def open_folder(plan: FolderPlan, grid_text: str) -> Iterator[None]:
    """Carry out ``plan``: move an old folder aside, create the folder, copy the grid
    file in, and hold the folder's lock while the sweep runs."""
    if plan.move_aside is not None:
        with _try_lock(plan.path):
            os.replace(plan.path, plan.move_aside)
    try:
        plan.path.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # what plan_folder cannot foresee (read-only mounts, /proc, ...)
        raise UserError(f"{plan.path}: cannot create the results folder ({e.strerror})") from None
    with _try_lock(plan.path):
        grid = plan.path / GRID_FILE
        if not grid.exists() or plan.new_grid:
            write_text(grid, grid_text)
        yield
