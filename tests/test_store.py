"""The results folder: typed Parquet, parts whole or absent, dedupe, consolidation, guards.

Tables come from real training (:func:`sweep.runner.train_chunk` on tiny runs).
"""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kernels import init_params
from sweep import store
from sweep.config import RunConfig
from sweep.errors import UserError
from sweep.grid import run_id
from sweep.runner import train_chunk
from sweep.store import arrays, consolidation, reading
from sweep.training import train_one

CONFIGS = [
    RunConfig(dataset="xor", hidden=(3, 3), epochs=30, seed=0),
    RunConfig(dataset="linear", hidden=(2,), epochs=25, seed=1, batch_size=10, n=40),
    RunConfig(dataset="xor", hidden=(4, 2), epochs=40, seed=2, target_loss=0.3),
    RunConfig(dataset="xor", hidden=(), epochs=12, seed=3),
]


def chunk(configs: list[RunConfig], every: int = 1) -> dict[str, pa.Table]:
    return train_chunk([(run_id(c), c) for c in configs], every)


def test_runs_columns_are_typed_for_pandas_and_arrow(tmp_path):
    store.write_part(tmp_path, chunk(CONFIGS))
    store.consolidate(tmp_path)
    runs = pd.read_parquet(tmp_path / "runs.parquet")
    assert list(runs.columns) == store.RUNS_SCHEMA.names
    expect = {
        "hidden_size": "Int64",
        "batch_size": "Int64",
        "n": "Int64",
        "convergence_epoch": "Int64",
        "hidden_layers": "int64",
        "epochs_run": "int64",
        "seed": "int64",
        "lr": "float64",
        "target_loss": "float64",
        "final_loss": "float64",
        "converged": "bool",
        "bias": "bool",
    }
    assert {k: str(runs[k].dtype) for k in expect} == expect
    assert pd.api.types.is_string_dtype(runs["status"])
    assert pd.api.types.is_string_dtype(runs["run_id"])
    by_id = runs.set_index("run_id")
    first = by_id.loc[run_id(CONFIGS[0])]
    assert list(first.hidden) == [3, 3] and first.hidden_size == 3 and first.hidden_layers == 2
    mixed = by_id.loc[run_id(CONFIGS[2])]
    assert pd.isna(mixed.hidden_size) and mixed.hidden_layers == 2
    none = by_id.loc[run_id(CONFIGS[3])]
    assert list(none.hidden) == [] and pd.isna(none.hidden_size) and none.hidden_layers == 0
    assert by_id.loc[run_id(CONFIGS[1])].batch_size == 10
    assert pd.isna(first.batch_size) and pd.isna(first.n) and pd.isna(first.target_loss)
    assert runs.error.isna().all() and set(runs.status) == {"ok"}

    schema = pq.read_schema(tmp_path / "runs.parquet")
    assert schema.field("hidden").type == pa.list_(pa.int64())
    assert schema.field("convergence_epoch").type == pa.int64()
    curves = pq.read_schema(tmp_path / "curves.parquet")
    assert [(f.name, f.type) for f in curves] == [
        ("run_id", pa.string()),
        ("epoch", pa.int64()),
        ("loss", pa.float64()),
        ("accuracy", pa.float64()),
        ("symmetry", pa.list_(pa.float64())),
    ]
    weights = pq.read_schema(tmp_path / "weights.parquet")
    assert weights.field("W").type == pa.list_(pa.float64())


def _pandas_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` with the metadata pandas itself writes for an empty typed frame."""
    empty = {}
    for field in schema:
        if pa.types.is_integer(field.type):
            dtype = "Int64" if field.nullable else "int64"
        elif pa.types.is_string(field.type):
            dtype = "str"
        elif pa.types.is_list(field.type):
            dtype = object
        else:
            dtype = field.type.to_pandas_dtype()
        empty[field.name] = pd.Series([], dtype=dtype)
    frame = pd.DataFrame(empty)
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False).schema


@pytest.mark.parametrize("kind", store.KINDS)
def test_pandas_metadata_is_what_pandas_writes(kind, tmp_path):
    # The store writes it without importing pandas; held here to pandas' own.
    ours = store.SCHEMAS[kind]
    theirs = _pandas_schema(ours)
    mine, real = (json.loads(s.metadata[b"pandas"]) for s in (ours, theirs))
    assert mine.keys() == real.keys() and mine["pandas_version"] == pd.__version__
    for column in real["columns"]:
        if column["numpy_type"] == "str":  # pandas 3's strings; pandas 2 writes "object"
            column["numpy_type"] = "object"
    assert mine == real
    # ... and pandas reads a file with either the same way.
    table = chunk(CONFIGS)[kind]
    pq.write_table(table, tmp_path / "ours.parquet")
    pq.write_table(table.cast(theirs), tmp_path / "theirs.parquet")
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "ours.parquet"), pd.read_parquet(tmp_path / "theirs.parquet")
    )


def test_writing_and_reading_keys_never_import_pandas(tmp_path):
    # pyarrow imports pandas at its first pa.array or to_numpy (0.14 s of a sweep's
    # start-up); the store builds and reads its arrays from buffers instead.
    code = f"""
import sys
from sweep import store
from sweep.grid import run_id
from sweep.runner import train_chunk
from sweep.config import RunConfig
runs = [RunConfig(dataset="xor", hidden=(3,), epochs=5, seed=s, target_loss=0.3) for s in range(3)]
runs.append(RunConfig(dataset="linear", hidden=(), epochs=5, n=9, batch_size=2))
store.write_part({str(tmp_path)!r}, train_chunk([(run_id(c), c) for c in runs], 2))
store.consolidate({str(tmp_path)!r}, order=[run_id(c) for c in reversed(runs)])
keys, statuses = store.run_keys({str(tmp_path)!r})
assert len(keys) == 4 and (statuses == 0).all(), statuses
print("pandas" in sys.modules)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
    runs = pd.read_parquet(tmp_path / "runs.parquet")
    assert runs.batch_size.tolist() == [2, pd.NA, pd.NA, pd.NA]
    assert runs.convergence_epoch.dtype == "Int64"


def test_arrays_from_buffers_round_trip():
    valid = np.array([True, False, True])
    assert arrays.number_array([1, 0, 3], pa.int64(), valid).to_pylist() == [1, None, 3]
    assert arrays.number_array([True, False, True], pa.bool_()).to_pylist() == [True, False, True]
    assert arrays.string_array(["é", None, ""]).to_pylist() == ["é", None, ""]
    lists = arrays.list_array([np.eye(2), np.zeros(0), np.ones(1)], pa.float64())
    assert lists.to_pylist() == [[1.0, 0.0, 0.0, 1.0], [], [1.0]]
    sliced = arrays.number_array([5, 6, 7, 8], pa.int64(), np.array([1, 1, 0, 1], bool)).slice(1)
    assert arrays.numpy_values(sliced, fill=-1).tolist() == [6, -1, 8]
    bools = arrays.number_array([1, 0, 1, 1, 0, 0, 1, 0, 1], pa.bool_()).slice(7)
    assert arrays.numpy_values(bools).tolist() == [False, True]
    chunked = pa.chunked_array([arrays.number_array([1.5], pa.float64())] * 2)
    assert arrays.numpy_values(chunked).tolist() == [1.5, 1.5]


def test_files_are_zstd_with_dictionaries_for_strings_only(tmp_path):
    tables = chunk(CONFIGS)
    store.write_part(tmp_path / "parts_only", tables)
    (part,) = (tmp_path / "parts_only" / "parts").glob("curves-*.parquet")
    store.write_part(tmp_path / "consolidated", tables)
    store.consolidate(tmp_path / "consolidated")
    for path in (part, tmp_path / "consolidated" / "curves.parquet"):
        group = pq.ParquetFile(path).metadata.row_group(0)
        columns = {group.column(i).path_in_schema: group.column(i) for i in range(4)}
        assert {c.compression for c in columns.values()} == {"ZSTD"}
        assert columns["run_id"].has_dictionary_page
        assert not columns["loss"].has_dictionary_page
        assert not columns["epoch"].has_dictionary_page


def test_an_all_failed_chunk_keeps_column_types():
    tables = store.runs_table(
        [store.run_row("x", CONFIGS[0], status="failed", seconds=0.1, error="Boom: no")]
    )
    assert tables.schema == store.RUNS_SCHEMA
    empty = store.curves_table([], [], 1)
    assert empty.num_rows == 0 and empty.schema == store.CURVES_SCHEMA
    frame = tables.to_pandas()
    assert str(frame.convergence_epoch.dtype) == "Int64" and np.isnan(frame.final_loss[0])
    assert not frame.converged[0] and frame.error[0] == "Boom: no"


@pytest.mark.parametrize(
    ("epochs_run", "every", "kept"),
    [(10, 1, list(range(10))), (10, 3, [0, 3, 6, 9]), (11, 3, [0, 3, 6, 9, 10]), (1, 5, [0])],
)
def test_recorded_epochs_keep_first_and_last(epochs_run, every, kept):
    assert store.recorded_epochs(epochs_run, every).tolist() == kept


def test_curves_and_weights_hold_what_training_returned(tmp_path):
    store.write_part(tmp_path, chunk(CONFIGS, every=7))
    runs = store.read_runs(tmp_path).set_index("run_id")
    curves = store.read_curves(tmp_path)
    weights = store.read_weights(tmp_path)
    for cfg in CONFIGS:
        rid = run_id(cfg)
        mine = curves[curves.run_id == rid]
        run = runs.loc[rid]
        assert mine.epoch.tolist() == store.recorded_epochs(run.epochs_run, 7).tolist()
        assert mine.loss.iloc[-1] == run.final_loss
        assert mine.accuracy.iloc[-1] == run.final_accuracy
        init = weights[(weights.run_id == rid) & (weights.stage == "init")]
        assert init.layer.tolist() == list(range(len(cfg.hidden) + 1))
        for row, (w, b) in zip(
            init.itertuples(), init_params(cfg.sizes, cfg.init, cfg.seed), strict=True
        ):
            assert (row.fan_in, row.fan_out) == w.shape
            np.testing.assert_array_equal(np.reshape(row.W, w.shape), w)
            np.testing.assert_array_equal(row.b, b)
    # The early-stopped run: converged at its last epoch, shorter than its budget.
    stopped = runs.loc[run_id(CONFIGS[2])]
    assert stopped.converged and stopped.convergence_epoch == stopped.epochs_run - 1 < 40


def test_the_symmetry_measure_is_stored_per_recorded_epoch_and_layer(tmp_path):
    cfg = RunConfig(dataset="xor", hidden=(3, 2), epochs=30, init="normal")
    result = train_one(cfg)
    store.write_part(tmp_path, chunk([cfg], every=7))
    curves = store.read_curves(tmp_path)
    kept = store.recorded_epochs(result.epochs_run, 7)
    assert curves.epoch.tolist() == kept.tolist()
    stored = np.stack([np.asarray(v) for v in curves.symmetry])
    assert stored.shape == (len(kept), 2)
    np.testing.assert_array_equal(stored, result.symmetry[kept])
    store.consolidate(tmp_path)
    again = pd.read_parquet(tmp_path / "curves.parquet")
    np.testing.assert_array_equal(np.stack([np.asarray(v) for v in again.symmetry]), stored)


def test_curves_written_before_the_symmetry_measure_read_with_it_null(tmp_path):
    old = chunk(CONFIGS[:2])
    (tmp_path / "parts").mkdir()
    pq.write_table(
        old["curves"].drop_columns(["symmetry"]), tmp_path / "parts" / "curves-old.parquet"
    )
    store.write_table(tmp_path / "parts" / "weights-old.parquet", old["weights"], "weights")
    store.write_table(tmp_path / "parts" / "runs-old.parquet", old["runs"], "runs")
    curves = store.read_curves(tmp_path)
    assert len(curves) == old["curves"].num_rows and curves.symmetry.isna().all()
    assert store.consolidate(tmp_path)
    assert pq.read_schema(tmp_path / "curves.parquet").field("symmetry").nullable


def test_a_chunk_without_its_runs_part_is_invisible_and_cleaned_up(tmp_path):
    store.write_part(tmp_path, chunk(CONFIGS[:2]))
    # A chunk killed after its curves and weights parts, before its runs part.
    orphan = chunk(CONFIGS[2:])
    store.write_table(tmp_path / "parts" / "curves-dead.parquet", orphan["curves"], "curves")
    store.write_table(tmp_path / "parts" / "weights-dead.parquet", orphan["weights"], "weights")
    (tmp_path / "parts" / ".tmp-abc-runs-dead.parquet").write_bytes(b"half a file")
    ids = {run_id(c) for c in CONFIGS[:2]}
    assert set(store.read_runs(tmp_path).run_id) == ids
    assert set(store.read_curves(tmp_path).run_id) == ids
    assert set(store.read_weights(tmp_path).run_id) == ids
    assert store.consolidate(tmp_path)
    assert not (tmp_path / "parts").exists()
    assert set(pd.read_parquet(tmp_path / "curves.parquet").run_id) == ids


def test_each_run_once_across_consolidated_file_and_parts(tmp_path):
    first = chunk(CONFIGS[:3])
    store.write_part(tmp_path, first)
    store.consolidate(tmp_path)
    store.write_part(tmp_path, first)  # the same runs again (e.g. a crash mid-consolidation)
    store.write_part(tmp_path, chunk(CONFIGS[3:]))
    runs = store.read_runs(tmp_path)
    assert sorted(runs.run_id) == sorted(run_id(c) for c in CONFIGS)
    curves = store.read_curves(tmp_path)
    assert not curves.duplicated(["run_id", "epoch"]).any()
    assert len(curves) == runs.epochs_run.sum()
    order = [run_id(c) for c in reversed(CONFIGS)]
    store.consolidate(tmp_path, order=order)
    assert pd.read_parquet(tmp_path / "runs.parquet").run_id.tolist() == order
    assert len(pd.read_parquet(tmp_path / "curves.parquet")) == runs.epochs_run.sum()
    weights = pd.read_parquet(tmp_path / "weights.parquet")
    assert len(weights) == 2 * sum(len(c.hidden) + 1 for c in CONFIGS)


def test_consolidate_sorts_runs_by_order_with_unknown_ids_last(tmp_path):
    store.write_part(tmp_path, chunk(CONFIGS))
    ids = [run_id(c) for c in CONFIGS]
    order = [ids[2], ids[0]]  # the others are not in the order: last, as they were
    store.consolidate(tmp_path, order=order)
    rest = [rid for rid in ids if rid not in order]
    assert pd.read_parquet(tmp_path / "runs.parquet").run_id.tolist() == order + rest


def test_a_finished_row_replaces_a_failed_one(tmp_path):
    cfg = CONFIGS[0]
    rid = run_id(cfg)
    failed = store.run_row(rid, cfg, status="failed", seconds=0.0, error="MemoryError: x")
    store.write_part(
        tmp_path,
        {
            "runs": store.runs_table([failed]),
            "curves": store.curves_table([], [], 1),
            "weights": store.weights_table([], []),
        },
    )
    assert store.run_statuses(tmp_path) == {rid: "failed"}
    assert store.done_run_ids(tmp_path, include_failed=False) == set()
    store.consolidate(tmp_path)
    store.write_part(tmp_path, chunk([cfg]))
    assert store.run_statuses(tmp_path) == {rid: "ok"}
    store.consolidate(tmp_path)
    runs = pd.read_parquet(tmp_path / "runs.parquet")
    assert runs.status.tolist() == ["ok"] and runs.error.isna().all()


def test_run_ids_as_keys():
    ids = ["00ff00ff00ff00ff", "ffffffffffffffff", "0000000000000001", "x", "ABCDEF0123456789"]
    keys = store.id_keys(pa.array(ids))
    assert keys.dtype == np.uint64
    assert keys[:3].tolist() == [0x00FF00FF00FF00FF, 2**64 - 1, 1]
    # Other strings (never written by the tool) get a hash: stable, distinct, not the digits.
    assert keys[3] == store.id_keys(["x"])[0] and keys[4] != 0xABCDEF0123456789
    assert len(set(keys.tolist())) == 5
    assert store.id_keys(pa.array(ids).slice(2)).tolist() == keys[2:].tolist()
    chunked = pa.chunked_array([ids[:2], ids[2:]])
    assert store.id_keys(chunked).tolist() == keys.tolist()
    real = [run_id(c) for c in CONFIGS]
    assert store.id_keys(real).tolist() == [int(rid, 16) for rid in real]
    order = store.RunOrder(store.id_keys(real))
    assert order.rank(store.id_keys([real[2], "y", real[0]])).tolist() == [2, -1, 0]
    assert store.RunOrder(np.zeros(0, np.uint64)).rank(keys).tolist() == [-1] * 5


def test_consolidation_sorts_in_ranges_reading_each_run_once(tmp_path, monkeypatch):
    """Runs arrive out of order over many parts, one failed and then retried, beside an
    earlier consolidated file; sorted three rows at a time (as 65,536 are in a big sweep)
    runs.parquet is every run once, in order, with the rows it was given."""
    configs = [RunConfig(dataset="xor", hidden=(2,), epochs=3, seed=s) for s in range(14)]
    ids = [run_id(c) for c in configs]
    store.write_part(tmp_path, chunk(configs[10:12]))
    store.consolidate(tmp_path)
    failed = store.run_row(ids[4], configs[4], status="failed", seconds=0.0, error="E: x")
    empty = {"curves": store.curves_table([], [], 1), "weights": store.weights_table([], [])}
    store.write_part(tmp_path, {"runs": store.runs_table([failed]), **empty})
    for part in ([13, 2, 7], [0, 4], [9, 1, 12, 5], [3, 8, 6]):
        store.write_part(tmp_path, chunk([configs[i] for i in part]))
    before = store.read_runs(tmp_path).set_index("run_id")
    assert len(before) == 14 and before.loc[ids[4], "status"] == "ok"
    monkeypatch.setattr(reading, "SORT_ROWS", 3)
    monkeypatch.setattr(consolidation, "ROW_GROUP_ROWS", 10)
    order = ids[::-1][:12]  # ids 1 and 0 are not in it: last, in the order they came
    store.consolidate(tmp_path, order=order)
    after = pd.read_parquet(tmp_path / "runs.parquet")
    assert after.run_id.tolist() == order + [ids[0], ids[1]]
    assert pq.ParquetFile(tmp_path / "runs.parquet").metadata.num_row_groups == 5
    pd.testing.assert_frame_equal(after.set_index("run_id"), before.loc[after.run_id])
    curves = pd.read_parquet(tmp_path / "curves.parquet")
    assert sorted(set(curves.run_id)) == sorted(ids) and len(curves) == 3 * 14
    # Curves go out in row groups of at least 10 rows, gathered from the sources' batches:
    # the old file's 6 rows and the parts' 9, 6, 12 and 9 (the failed run has none).
    meta = pq.ParquetFile(tmp_path / "curves.parquet").metadata
    groups = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert groups == [6 + 9, 6 + 12, 9]


def test_read_runs_of_some_ids_reads_only_those(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "SORT_ROWS", 2)
    store.write_part(tmp_path, chunk(CONFIGS[:3]))
    store.consolidate(tmp_path)
    store.write_part(tmp_path, chunk(CONFIGS[3:]))
    wanted = [run_id(CONFIGS[3]), run_id(CONFIGS[1]), "not-a-run"]
    got = store.read_runs(tmp_path, wanted)
    assert got.run_id.tolist() == [wanted[1], wanted[0]]  # file order
    assert list(got.columns) == store.RUNS_SCHEMA.names
    assert store.read_runs(tmp_path, []).empty
    keys, statuses = store.run_keys(tmp_path)
    assert sorted(keys.tolist()) == sorted(int(run_id(c), 16) for c in CONFIGS)
    assert statuses.tolist() == [store.STATUSES.index("ok")] * 4


def test_duckdb_and_polars_read_the_files(tmp_path):
    store.write_part(tmp_path, chunk(CONFIGS))
    store.consolidate(tmp_path)
    duckdb = pytest.importorskip("duckdb")
    polars = pytest.importorskip("polars")
    runs = pd.read_parquet(tmp_path / "runs.parquet")
    rows = duckdb.sql(
        f"select count(*), max(epoch) from read_parquet('{tmp_path / 'curves.parquet'}')"
    ).fetchall()
    assert rows == [(runs.epochs_run.sum(), runs.epochs_run.max() - 1)]
    widths = duckdb.sql(
        f"select hidden from read_parquet('{tmp_path / 'runs.parquet'}') order by run_id"
    ).fetchall()
    assert sorted(w for (w,) in widths) == sorted(list(c.hidden) for c in CONFIGS)
    frame = polars.read_parquet(tmp_path / "runs.parquet")
    assert frame.schema["hidden"] == polars.List(polars.Int64)
    assert frame.height == len(CONFIGS)


def test_writes_leave_no_temporary_files(tmp_path):
    store.write_part(tmp_path, chunk(CONFIGS[:1]))
    names = sorted(p.name for p in (tmp_path / "parts").iterdir())
    key = names[0].split("-", 1)[1]
    assert names == [f"{kind}-{key}" for kind in ("curves", "runs", "weights")]


# --------------------------------------------------------------------------- the folder


def test_plan_folder_accepts_new_empty_and_same_grid(tmp_path):
    plan = store.plan_folder(tmp_path / "new", grid_text="a", run_ids={"x"}, fresh=False)
    assert plan.move_aside is None and not plan.new_grid and not (tmp_path / "new").exists()
    (tmp_path / "empty").mkdir()
    assert not store.plan_folder(
        tmp_path / "empty", grid_text="a", run_ids=set(), fresh=False
    ).new_grid
    with store.open_folder(plan, "a"):
        pass
    assert (tmp_path / "new" / "grid.toml").read_text() == "a"
    same = store.plan_folder(tmp_path / "new", grid_text="a", run_ids=set(), fresh=False)
    assert same.move_aside is None and not same.new_grid


def test_plan_folder_refuses_foreign_content(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="not a folder"):
        store.plan_folder(tmp_path / "file", grid_text="a", run_ids=set(), fresh=False)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="holds no sweep"):
        store.plan_folder(tmp_path / "other", grid_text="a", run_ids=set(), fresh=False)


def test_another_grid_is_an_extension_only_if_it_holds_every_stored_run(tmp_path):
    sweep = tmp_path / "s"
    with store.open_folder(store.FolderPlan(sweep, None, False), "old grid"):
        store.write_part(sweep, chunk(CONFIGS[:2]))
    ids = {run_id(c) for c in CONFIGS}
    plan = store.plan_folder(sweep, grid_text="new grid", run_ids=ids, fresh=False)
    assert plan.new_grid
    order = store.RunOrder(store.id_keys(sorted(ids)))
    assert store.plan_folder(sweep, grid_text="new grid", run_ids=order, fresh=False).new_grid
    with store.open_folder(plan, "new grid"):
        pass
    assert (sweep / "grid.toml").read_text() == "new grid"
    with pytest.raises(UserError, match=r"different grid \(1 of its runs"):
        store.plan_folder(sweep, grid_text="third", run_ids=ids - {run_id(CONFIGS[0])}, fresh=False)


def test_fresh_moves_the_folder_aside(tmp_path):
    sweep = tmp_path / "s"
    with store.open_folder(store.FolderPlan(sweep, None, False), "g"):
        store.write_part(sweep, chunk(CONFIGS[:1]))
    plan = store.plan_folder(sweep, grid_text="other", run_ids=set(), fresh=True)
    assert plan.move_aside is not None
    assert re.fullmatch(r"s\.old-\d{8}-\d{6}(-\d+)?", plan.move_aside.name)
    with store.open_folder(plan, "other"):
        pass
    assert store.read_runs(plan.move_aside).run_id.tolist() == [run_id(CONFIGS[0])]
    assert sorted(os.listdir(sweep)) == [".lock", "grid.toml"]


def test_one_sweep_at_a_time_per_folder(tmp_path):
    plan = store.FolderPlan(tmp_path / "s", None, False)
    with store.open_folder(plan, "g"):
        with pytest.raises(UserError, match="another sweep is running"):
            with store.open_folder(plan, "g"):
                pass
