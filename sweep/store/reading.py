"""Reading a results folder back: its sources, a batch at a time, each run once.

Readers union the consolidated files and the visible parts (those whose ``runs`` part
exists), keeping each ``run_id`` once: a finished row beats a ``failed`` one, so a
retried run replaces its failure, and a sweep killed at any moment reads back whole.
Curves or weights parts without their ``runs`` part (a chunk killed half-way) are
ignored.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sweep.errors import UserError
from sweep.store.arrays import number_array, numpy_values, string_array
from sweep.store.keys import id_keys, locate_keys
from sweep.store.schema import PARTS, RUNS_SCHEMA, SCHEMAS, STATUSES

if TYPE_CHECKING:
    import pandas as pd


# Rows per batch when curves and weights are streamed (consolidation, readers): about
# 1.5 MB of curves. Batches of 1M rows made a 100,000-run sweep's consolidation peak
# ~150 MB higher, and 128k rows a 300,000-run one ~40 MB (benchmarks/sweep_memory.py).
BATCH_ROWS = 1 << 15
# Rows of runs.parquet sorted at a time at consolidation (about 4 MB of runs), and the
# batch size runs are read in when only some of their rows are wanted.
SORT_ROWS = 1 << 14


# --------------------------------------------------------------------------- the sources


def visible_parts(sweep_dir: Path) -> list[str]:
    """Uuids of the chunks whose ``runs`` part exists, oldest first."""
    parts = Path(sweep_dir) / PARTS
    if not parts.is_dir():
        return []
    found = []
    for path in parts.glob("runs-*.parquet"):
        with contextlib.suppress(FileNotFoundError):
            found.append((path.stat().st_mtime_ns, path.name[5:-8]))
    return [key for _, key in sorted(found)]


def source_files(sweep_dir: Path, kind: str) -> list[Path]:
    """The consolidated file of ``kind`` (if any), then its visible parts, oldest first."""
    sweep_dir = Path(sweep_dir)
    out = []
    whole = sweep_dir / f"{kind}.parquet"
    if whole.exists():
        out.append(whole)
    out += [sweep_dir / PARTS / f"{kind}-{key}.parquet" for key in visible_parts(sweep_dir)]
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


# --------------------------------------------------------------------------- runs


def _status_codes(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Each status as its index in :data:`STATUSES` (``int8``; -1 for another string)."""
    codes = pc.index_in(column, value_set=string_array(STATUSES))
    return numpy_values(codes, fill=-1).astype(np.int8)


def iter_batches(
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
        present = set(file.schema_arrow.names)
        # A column added since the file was written (nullable, so null in it).
        missing = [f for f in schema if f.name not in present]
        if any(not f.nullable for f in missing):
            raise UserError(f"{path}: lacks columns {[f.name for f in missing]}; not a {kind} file")
        wanted = [f.name for f in schema if f.name in present]
        for batch in file.iter_batches(batch_size=batch_rows, columns=wanted, use_threads=False):
            if batch.num_rows:
                if missing:
                    arrays = [
                        batch.column(f.name) if f.name in present else pa.nulls(len(batch), f.type)
                        for f in schema
                    ]
                    batch = pa.RecordBatch.from_arrays(arrays, names=schema.names)
                yield batch.cast(schema)


@dataclass(frozen=True)
class RunsScan:
    """Every row of the runs sources (consolidated file, then parts oldest first), keyed.

    ``rows[i]`` rows come from ``sources[i]``; ``keep`` marks the row kept for each
    run id: a finished one (ok/diverged) beats a failed one, else the first.
    """

    sources: list[Path]
    rows: list[int]
    keys: np.ndarray
    status: np.ndarray
    keep: np.ndarray


def scan_runs(sweep_dir: Path) -> RunsScan:
    """The run id and status of every row of the runs sources, and the row kept for each run."""
    sources = source_files(sweep_dir, "runs")
    rows, keys, status = [], [], []
    for path in sources:
        n = 0
        for batch in iter_batches(path, "runs", ["run_id", "status"], SORT_ROWS):
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
    return RunsScan(sources, rows, all_keys, all_status, keep)


def run_keys(sweep_dir: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """``(keys, statuses)`` of every run recorded in the folder, each once: the
    :func:`id_keys` of the run ids and each status's index in :data:`STATUSES`.

    Reads only the ``run_id`` and ``status`` columns, a batch at a time (what
    :func:`run_statuses` gives as a dict of strings, in ~10 bytes a run).
    """
    scan = scan_runs(Path(sweep_dir))
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
    for path in source_files(sweep_dir, "runs"):
        if only is None:
            table = _read(path, "runs", wanted)
            batches += table.cast(schema).to_batches()
            continue
        for batch in iter_batches(path, "runs", wanted, SORT_ROWS):
            found, _ = locate_keys(only, id_keys(batch.column("run_id")))
            if found.any():
                batches.append(batch.filter(number_array(found, pa.bool_())))
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
    return table.take(number_array(np.sort(order[first]), pa.int64()))


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


def iter_keyed(
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
    for path in source_files(sweep_dir, kind):
        if not remaining.any():
            return
        taken = []
        for batch in iter_batches(path, kind, batch_rows=batch_rows):
            # Test the batch's few distinct ids, not every row.
            ids = pc.unique(batch.column("run_id"))
            found, at = locate_keys(allowed, id_keys(ids))
            found &= remaining[at]
            if not found.any():
                continue
            if not found.all():
                keep = ids.filter(number_array(found, pa.bool_()))
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
    batches = list(iter_keyed(sweep_dir, kind, allowed))
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
