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
"""

import contextlib
import json
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sweep.config import FIELDS, RunConfig
from sweep.errors import UserError

KINDS = ("runs", "curves", "weights")
PARTS = "parts"
GRID_FILE = "grid.toml"
MANIFEST_FILE = "manifest.json"
LOCK_FILE = ".lock"
STATUSES = ("ok", "diverged", "failed")
STAGES = ("init", "final")
# Rows per batch when curves and weights are streamed (consolidation, readers): about
# 6 MB of curves; a batch of 1M rows made a 100,000-run sweep's consolidation peak
# ~150 MB higher (benchmarks/sweep_memory.py).
BATCH_ROWS = 1 << 17

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


def _schema(columns: list[tuple[str, pa.DataType, bool]]) -> pa.Schema:
    """The Arrow schema of ``columns`` with pandas metadata (nullable ints as ``Int64``).

    The metadata is what pandas reads to restore ``Int64`` for an integer column that
    may hold nulls, even in a file where it happens to hold none.
    """
    schema = pa.schema([pa.field(name, kind, nullable=null) for name, kind, null in columns])
    empty: dict[str, pd.Series] = {}
    for name, kind, null in columns:
        if pa.types.is_integer(kind):
            dtype: Any = "Int64" if null else "int64"
        elif pa.types.is_floating(kind):
            dtype = "float64"
        elif pa.types.is_boolean(kind):
            dtype = "bool"
        elif pa.types.is_string(kind):
            dtype = "str"
        else:
            dtype = object
        empty[name] = pd.Series([], dtype=dtype)
    return pa.Table.from_pandas(pd.DataFrame(empty), schema=schema, preserve_index=False).schema


RUNS_SCHEMA = _schema(_RUNS_COLUMNS)
CURVES_SCHEMA = _schema(_CURVES_COLUMNS)
WEIGHTS_SCHEMA = _schema(_WEIGHTS_COLUMNS)
SCHEMAS = {"runs": RUNS_SCHEMA, "curves": CURVES_SCHEMA, "weights": WEIGHTS_SCHEMA}


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
    return pa.Table.from_pylist(rows, schema=RUNS_SCHEMA)


def recorded_epochs(epochs_run: int, every: int) -> np.ndarray:
    """Epochs kept with ``record_every = every``: 0, k, 2k, ... and always the last one."""
    kept = np.arange(0, epochs_run, every, dtype=np.int64)
    if epochs_run > 0 and kept[-1] != epochs_run - 1:
        kept = np.append(kept, epochs_run - 1)
    return kept


def _repeat_ids(run_ids: list[str], counts: list[int]) -> pa.Array:
    """``run_ids[i]`` repeated ``counts[i]`` times, built as a dictionary then cast (cheap)."""
    indices = np.repeat(np.arange(len(run_ids), dtype=np.int32), counts)
    return pa.DictionaryArray.from_arrays(indices, pa.array(run_ids, pa.string())).cast(pa.string())


def curves_table(
    run_ids: list[str], curves: list[tuple[np.ndarray, np.ndarray]], every: int
) -> pa.Table:
    """Long-format curves: for each run its ``(loss, accuracy)`` arrays, every k-th epoch."""
    epochs = [recorded_epochs(len(loss), every) for loss, _ in curves]
    if not epochs:
        return CURVES_SCHEMA.empty_table()
    columns = [
        _repeat_ids(run_ids, [len(e) for e in epochs]),
        pa.array(np.concatenate(epochs), pa.int64()),
        pa.array(np.concatenate([loss[e] for (loss, _), e in zip(curves, epochs, strict=True)])),
        pa.array(np.concatenate([acc[e] for (_, acc), e in zip(curves, epochs, strict=True)])),
    ]
    return pa.Table.from_arrays(columns, schema=CURVES_SCHEMA)


def _list_array(arrays: list[np.ndarray]) -> pa.Array:
    """A ``list<float64>`` array, one list per (raveled, row-major) numpy array."""
    offsets = np.zeros(len(arrays) + 1, dtype=np.int32)
    np.cumsum([a.size for a in arrays], out=offsets[1:])
    values = np.concatenate([np.ascontiguousarray(a, np.float64).ravel() for a in arrays])
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values, pa.float64()))


def weights_table(run_ids: list[str], weights: list[tuple[Params, Params]]) -> pa.Table:
    """Each run's ``(init, final)`` weights, one row per stage and layer."""
    ids: list[str] = []
    stages: list[str] = []
    layers: list[int] = []
    w_list: list[np.ndarray] = []
    b_list: list[np.ndarray] = []
    for rid, pair in zip(run_ids, weights, strict=True):
        for stage, params in zip(STAGES, pair, strict=True):
            for layer, (w, b) in enumerate(params):
                ids.append(rid)
                stages.append(stage)
                layers.append(layer)
                w_list.append(np.asarray(w))
                b_list.append(np.asarray(b))
    if not ids:
        return WEIGHTS_SCHEMA.empty_table()
    columns = [
        pa.array(ids, pa.string()),
        pa.array(stages, pa.string()),
        pa.array(layers, pa.int64()),
        pa.array([w.shape[0] for w in w_list], pa.int64()),
        pa.array([w.shape[1] for w in w_list], pa.int64()),
        _list_array(w_list),
        _list_array(b_list),
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


def write_table(path: Path, table: pa.Table) -> None:
    """Write ``table`` to ``path`` atomically (whole or absent)."""
    _write_atomic(path, lambda f: pq.write_table(table, f))


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
        write_table(parts / f"{kind}-{key}.parquet", table)
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


def _dedupe_runs(table: pa.Table) -> pa.Table:
    """Each run_id once: a finished row (ok/diverged) beats a failed one, else the first."""
    if table.num_rows == 0:
        return table
    # Integer codes of the ids (no Python strings: this runs over every run of a sweep).
    codes = _codes(table.column("run_id"))
    failed = pc.equal(table.column("status"), "failed").to_numpy(zero_copy_only=False)
    order = np.lexsort((np.arange(len(codes)), failed))
    _, first = np.unique(codes[order], return_index=True)
    if len(first) == table.num_rows:  # no run twice (the usual case): no copy
        return table
    return table.take(pa.array(np.sort(order[first])))


def _codes(column: pa.ChunkedArray) -> np.ndarray:
    """Each value's index among the column's distinct values, as a numpy array."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    return encoded.indices.to_numpy(zero_copy_only=False)


def _runs_arrow(sweep_dir: Path, columns: list[str] | None = None) -> pa.Table:
    wanted = None if columns is None else list(dict.fromkeys(["run_id", "status", *columns]))
    tables = [_read(p, "runs", wanted) for p in _sources(sweep_dir, "runs")]
    schema = RUNS_SCHEMA if wanted is None else pa.schema([RUNS_SCHEMA.field(n) for n in wanted])
    if not tables:
        return schema.empty_table()
    table = _dedupe_runs(pa.concat_tables([t.cast(schema) for t in tables]))
    return table if columns is None else table.select(columns)


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
    table = _runs_arrow(Path(sweep_dir))
    if run_ids is not None:
        table = table.filter(pc.is_in(table.column("run_id"), pa.array(list(run_ids), pa.string())))
    return table.to_pandas()


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


def _iter_keyed(
    sweep_dir: Path, kind: str, allowed: set[str], batch_rows: int = BATCH_ROWS
) -> Iterator[pa.RecordBatch]:
    """Batches of ``kind`` (curves or weights) for the runs in ``allowed``, each run once.

    A run's rows come from the first source that holds them (the consolidated file, then
    parts oldest first); a finished run's rows are the same in every source, so the
    choice does not matter, and a run only ever in orphaned parts is not in ``allowed``.
    Sources are read a batch at a time, so memory does not grow with the sweep (only
    the sets of run ids do).
    """
    schema = SCHEMAS[kind]
    remaining = set(allowed)
    for path in _sources(sweep_dir, kind):
        if not remaining:
            return
        try:
            file = pq.ParquetFile(path)
        except FileNotFoundError:  # a part consolidated (and removed) meanwhile
            continue
        taken: set[str] = set()
        with file:
            for batch in file.iter_batches(batch_size=batch_rows):
                # Test the batch's few distinct ids against the set, not every row against
                # an Arrow value set of the whole sweep (which is hashed anew on each call).
                ids = pc.unique(batch.column("run_id")).to_pylist()
                keep = [rid for rid in ids if rid in remaining]
                if not keep:
                    continue
                if len(keep) < len(ids):
                    batch = batch.filter(pc.is_in(batch.column("run_id"), pa.array(keep)))
                taken.update(keep)
                yield pa.Table.from_batches([batch]).cast(schema).to_batches()[0]
        remaining -= taken  # a run's rows are all in one source: skip them in later sources


def _finished_ids(sweep_dir: Path) -> set[str]:
    return {rid for rid, s in run_statuses(sweep_dir).items() if s != "failed"}


def _read_keyed(sweep_dir: str | Path, kind: str, run_ids: Iterable[str] | None) -> pd.DataFrame:
    sweep_dir = Path(sweep_dir)
    allowed = _finished_ids(sweep_dir)
    if run_ids is not None:
        allowed &= set(run_ids)
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


def consolidate(sweep_dir: str | Path, *, order: list[str] | None = None) -> bool:
    """Merge the parts into ``runs/curves/weights.parquet`` and remove them.

    Each file is written to a temporary name and renamed, curves and weights first and
    runs last; a crash in between leaves every run readable (readers dedupe), and the
    next consolidation finishes the job. Curves and weights are streamed a batch at a
    time. ``order`` sorts ``runs.parquet`` (the grid's run order; unknown ids last).
    Returns whether anything changed.
    """
    sweep_dir = Path(sweep_dir)
    keys = _visible_parts(sweep_dir)
    stale = _stale_files(sweep_dir, set(keys))
    if not keys:
        for path in stale:
            with contextlib.suppress(OSError):
                path.unlink()
        return bool(stale)
    runs = _runs_arrow(sweep_dir)
    if order is not None:
        ranks = pc.index_in(runs.column("run_id"), value_set=pa.array(order, pa.string()))
        ranks = pc.fill_null(ranks, len(order)).to_numpy()
        runs = runs.take(pa.array(np.argsort(ranks, kind="stable")))
    finished = set(
        runs.filter(pc.not_equal(runs.column("status"), "failed")).column("run_id").to_pylist()
    )
    for kind in ("curves", "weights"):

        def write(f: Any, kind: str = kind) -> None:
            with pq.ParquetWriter(f, SCHEMAS[kind]) as writer:
                for batch in _iter_keyed(sweep_dir, kind, finished):
                    writer.write_batch(batch)

        _write_atomic(sweep_dir / f"{kind}.parquet", write)
    write_table(sweep_dir / "runs.parquet", runs)
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
    out_dir: str | Path, *, grid_text: str, run_ids: set[str], fresh: bool
) -> FolderPlan:
    """Check that ``out_dir`` can take this sweep, touching nothing; UserError if not.

    The folder may be absent or empty, or hold a sweep: of the same grid file (resume),
    or of a grid whose recorded runs all belong to this one (an extension: its runs
    are kept, its grid.toml replaced). Any other content is refused unless ``fresh``,
    which moves the whole folder aside to ``<dir>.old-<timestamp>`` (nothing is deleted).
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
    foreign = set(run_statuses(path)) - run_ids
    if foreign:
        raise UserError(
            f"{path}: holds results of a different grid ({len(foreign):,} of its runs are not "
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
