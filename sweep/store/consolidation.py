"""Consolidation: a sweep's parts merged into one file of each kind, runs in grid order.

Each file is written to a temporary name and renamed, curves and weights first and runs
last; a crash in between leaves every run readable (readers dedupe), and the next
consolidation finishes the job. Orphaned and temporary files are removed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sweep.store import reading
from sweep.store.arrays import number_array
from sweep.store.files import write_atomic, write_options
from sweep.store.keys import RunOrder, id_keys
from sweep.store.reading import RunsScan, iter_batches, iter_keyed, scan_runs, visible_parts
from sweep.store.schema import KINDS, PARTS, RUNS_SCHEMA, SCHEMAS, STATUSES

# Rows per row group of the consolidated files: larger groups compress better (1M
# rows: 10-15% smaller files) but are held in memory while written.
ROW_GROUP_ROWS = 1 << 17


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


def _write_runs_sorted(f: Any, scan: RunsScan, order: RunOrder | None) -> None:
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
        cuts = np.sort(kept_values)[:: reading.SORT_ROWS]
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
                for batch in iter_batches(path, "runs", batch_rows=reading.SORT_ROWS):
                    rows = slice(at, at + batch.num_rows)
                    at += batch.num_rows
                    if not np.array_equal(id_keys(batch.column("run_id")), scan.keys[rows]):
                        raise RuntimeError(f"{path} changed while it was being consolidated")
                    mask = wanted[rows]
                    if not mask.any():
                        continue
                    piece = batch if mask.all() else batch.filter(number_array(mask, pa.bool_()))
                    if ordered:
                        writer.write_batch(piece)
                    else:
                        pieces.append(piece)
                        piece_values.append(value[rows][mask])
            if pieces:
                table = pa.Table.from_batches(pieces, schema=RUNS_SCHEMA)
                sort = np.argsort(np.concatenate(piece_values), kind="stable")
                writer.write_table(table.take(number_array(sort, pa.int64())))


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
    keys = visible_parts(sweep_dir)
    stale = _stale_files(sweep_dir, set(keys))
    if not keys:
        for path in stale:
            with contextlib.suppress(OSError):
                path.unlink()
        return bool(stale)
    scan = scan_runs(sweep_dir)
    finished = np.sort(scan.keys[scan.keep & (scan.status != STATUSES.index("failed"))])
    for kind in ("curves", "weights"):

        def write(f: Any, kind: str = kind) -> None:
            with pq.ParquetWriter(f, SCHEMAS[kind], **write_options(kind)) as writer:
                _write_grouped(writer, iter_keyed(sweep_dir, kind, finished))

        write_atomic(sweep_dir / f"{kind}.parquet", write)
    runs_order = None if order is None else RunOrder.of(order)
    write_atomic(sweep_dir / "runs.parquet", lambda f: _write_runs_sorted(f, scan, runs_order))
    consumed = [sweep_dir / PARTS / f"{kind}-{key}.parquet" for key in keys for kind in KINDS]
    for path in [*consumed, *stale]:
        with contextlib.suppress(OSError):
            path.unlink()
    with contextlib.suppress(OSError):
        (sweep_dir / PARTS).rmdir()
    return True
