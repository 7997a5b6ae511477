"""run_sweep on real grid files: what it writes, resuming, failures, backends agreeing."""

import collections
import dataclasses
import math
import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import kernels
from kernels.lockstep import LANES
from kernels.warm import compile_kernel
from sweep import store, tiers
from sweep.config import RunConfig
from sweep.errors import UserError
from sweep.grid import load_grid, run_id
from sweep.runner import (
    CHUNKS_PER_WORKER,
    chunk_size_for,
    grid_order,
    lockstep_key,
    plan_chunks,
    planning,
    run_sweep,
    train_chunk,
)
from sweep.training import train_one

GRID = """\
[sweep]
name = "small"
seeds = 3
record_every = 4
chunk_size = {chunk_size}

[fixed]
dataset = "xor"
epochs = 60
target_loss = 0.2

[grid]
lr = [0.5, 2.0]
hidden = [[3], [4, 2]]
activation = ["sigmoid", "tanh"]
"""


def grid_file(tmp_path: Path, text: str, name: str = "grid.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def small_spec(tmp_path: Path, chunk_size: int = 2):
    return load_grid(grid_file(tmp_path, GRID.format(chunk_size=chunk_size)))


def frames(out: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    runs = pd.read_parquet(out / "runs.parquet").sort_values("run_id", ignore_index=True)
    curves = pd.read_parquet(out / "curves.parquet")
    curves = curves.sort_values(["run_id", "epoch"], ignore_index=True)
    weights = pd.read_parquet(out / "weights.parquet")
    weights = weights.sort_values(["run_id", "stage", "layer"], ignore_index=True)
    return runs, curves, weights


def test_a_sweep_writes_every_run_once_as_training_returns_it(tmp_path):
    spec = small_spec(tmp_path)
    out = tmp_path / "out"
    seen: list[tuple[int, int]] = []
    summary = run_sweep(
        spec=spec, out_dir=out, n_jobs=2, quiet=True, progress=lambda d, t: seen.append((d, t))
    )
    ids = [run_id(c) for c in spec.runs]
    assert summary.n_runs == summary.n_trained == len(ids) == 24
    assert summary.n_ok + summary.n_diverged == 24 and summary.exit_code == 0
    assert summary.n_chunks == 12  # chunk_size = 2 from the grid file
    assert seen[-1] == (24, 24) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert not (out / "parts").exists()
    assert (out / "grid.toml").read_text() == spec.text

    runs = pd.read_parquet(out / "runs.parquet")
    assert runs.run_id.tolist() == ids  # the grid's order
    curves = pd.read_parquet(out / "curves.parquet")
    weights = pd.read_parquet(out / "weights.parquet")
    last = curves.groupby("run_id").epoch.max()
    assert (last.loc[ids] == runs.set_index("run_id").epochs_run.loc[ids] - 1).all()
    for cfg in spec.runs[::5]:
        direct = train_one(cfg)
        row = runs[runs.run_id == run_id(cfg)].iloc[0]
        mine = curves[curves.run_id == run_id(cfg)]
        kept = store.recorded_epochs(direct.epochs_run, 4)
        assert mine.epoch.tolist() == kept.tolist()
        np.testing.assert_array_equal(mine.loss, direct.loss[kept])
        np.testing.assert_array_equal(mine.accuracy, direct.accuracy[kept])
        assert row.epochs_run == direct.epochs_run and row.final_loss == direct.final_loss
        assert row.converged == direct.converged and row.status == "ok"
        final = weights[(weights.run_id == run_id(cfg)) & (weights.stage == "final")]
        for w_row, (w, b) in zip(final.itertuples(), direct.weights, strict=True):
            np.testing.assert_array_equal(np.reshape(w_row.W, w.shape), w)
            np.testing.assert_array_equal(w_row.b, b)

    manifest = store.read_manifest(out)
    assert manifest["runs"] == {"total": 24, "ok": summary.n_ok, "diverged": 0, "failed": 0}
    assert {"numpy", "numba", "pandas", "pyarrow", "joblib"} <= set(manifest["packages"])
    assert manifest["cpu_count"] >= 1 and manifest["finished"] >= manifest["started"]
    assert manifest["starts"][-1]["trained"] == 24
    phases = manifest["starts"][-1]["seconds"]
    assert set(phases) == {"kernels", "training", "consolidation"}
    assert all(v > 0 for v in phases.values())
    assert sum(phases.values()) <= summary.seconds


def test_a_finished_sweep_trains_nothing_and_an_extension_only_the_new_runs(tmp_path):
    spec = small_spec(tmp_path)
    out = tmp_path / "out"
    run_sweep(spec=spec, out_dir=out, n_jobs=1, quiet=True)
    before = pd.read_parquet(out / "runs.parquet")
    again = run_sweep(spec=spec, out_dir=out, n_jobs=1, quiet=True)
    assert again.n_trained == 0 and again.n_skipped == 24 and again.n_chunks == 0
    more = load_grid(grid_file(tmp_path, spec.text.replace("seeds = 3", "seeds = 4"), "more.toml"))
    extended = run_sweep(spec=more, out_dir=out, n_jobs=1, quiet=True)
    assert extended.new_grid and extended.n_trained == 8 and extended.n_skipped == 24
    after = pd.read_parquet(out / "runs.parquet")
    assert len(after) == 32 and set(after.seed) == {0, 1, 2, 3}
    kept = after.set_index("run_id").loc[before.run_id, "train_seconds"]
    assert kept.tolist() == before.train_seconds.tolist()  # old rows untouched
    assert (out / "grid.toml").read_text() == more.text


def test_diverged_runs_are_results_not_failures(tmp_path):
    spec = load_grid(
        grid_file(
            tmp_path,
            '[sweep]\nname = "d"\nseeds = 2\n[fixed]\ndataset = "linear"\nepochs = 200\n'
            'activation = "identity"\noutput_activation = "identity"\n[grid]\nlr = [0.01, 5.0]\n',
        )
    )
    summary = run_sweep(spec=spec, out_dir=tmp_path / "out", n_jobs=2, quiet=True)
    assert (summary.n_ok, summary.n_diverged, summary.n_failed) == (2, 2, 0)
    assert summary.exit_code == 0
    runs = store.read_runs(tmp_path / "out")
    bad = runs[runs.lr == 5.0]
    assert (bad.status == "diverged").all() and bad.error.isna().all()
    assert (~np.isfinite(bad.final_loss)).all() and (bad.epochs_run < 200).all()
    assert not bad.converged.any()


def test_results_do_not_depend_on_jobs_or_backend(tmp_path):
    spec = small_spec(tmp_path, chunk_size=3)
    outs = {}
    for name, jobs, backend in [("one", 1, "threading"), ("threads", 2, "threading")] + [
        ("loky", 2, "loky")
    ]:
        outs[name] = tmp_path / name
        summary = run_sweep(spec=spec, out_dir=outs[name], n_jobs=jobs, backend=backend, quiet=True)
        assert summary.backend == backend and summary.n_trained == 24
    base = frames(outs["one"])
    for name in ("threads", "loky"):
        other = frames(outs[name])
        pd.testing.assert_frame_equal(
            base[0].drop(columns="train_seconds"), other[0].drop(columns="train_seconds")
        )
        pd.testing.assert_frame_equal(base[1], other[1], check_exact=True)
        pd.testing.assert_frame_equal(base[2], other[2], check_exact=True)


def test_the_dask_backend_on_a_local_cluster(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    spec = small_spec(tmp_path)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        summary = run_sweep(
            spec=spec,
            out_dir=tmp_path / "dask",
            backend="dask",
            scheduler=cluster.scheduler_address,
            quiet=True,
        )
    assert summary.backend == "dask" and summary.n_workers == 2 and summary.n_trained == 24
    run_sweep(spec=spec, out_dir=tmp_path / "local", n_jobs=1, quiet=True)
    dask, local = frames(tmp_path / "dask"), frames(tmp_path / "local")
    pd.testing.assert_frame_equal(dask[1], local[1], check_exact=True)
    assert store.read_manifest(tmp_path / "dask")["starts"][-1]["scheduler"] == (
        cluster.scheduler_address
    )


def test_an_unreachable_scheduler_is_a_user_error(tmp_path):
    dask = pytest.importorskip("dask")
    pytest.importorskip("dask.distributed")
    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(UserError, match="cannot reach the dask scheduler at tcp://127.0.0.1:9"),
    ):
        run_sweep(
            spec=small_spec(tmp_path),
            out_dir=tmp_path / "out",
            backend="dask",
            scheduler="tcp://127.0.0.1:9",
            quiet=True,
        )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_jobs": 0}, "--jobs must be a non-zero integer"),
        ({"backend": "mpi"}, "--backend must be one of"),
        ({"scheduler": "tcp://x:1"}, "--scheduler needs --backend dask"),
    ],
)
def test_bad_settings_raise_before_anything_is_written(tmp_path, kwargs, message):
    with pytest.raises(UserError, match=message):
        run_sweep(spec=small_spec(tmp_path), out_dir=tmp_path / "out", quiet=True, **kwargs)
    assert not (tmp_path / "out").exists()


def _vm_size() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize")


FAIL_GRID = """\
[sweep]
name = "fail"
seeds = 2

[fixed]
dataset = "linear"
epochs = 1

[[grid]]
hidden = [[3]]
lr = [0.1, 1.0]

[[grid]]
hidden = [[16]]
n = [1000000]
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is Linux's")
def test_a_run_out_of_memory_fails_alone_and_retry_failed_trains_it(tmp_path):
    """A real failure: a run whose buffers (3 x 19 x 1e6 float64, 456 MB) do not fit
    under an address-space limit raises MemoryError where they are allocated. The sweep
    stores it as failed and finishes the others; once the limit is lifted,
    ``retry_failed`` trains it (and only it). The kernels are loaded before the limit
    (alone, this test would otherwise compile them under it)."""
    for kind in ("one run full batch", "one lane"):
        compile_kernel(kind)
    spec = load_grid(grid_file(tmp_path, FAIL_GRID))
    big = [run_id(c) for c in spec.runs if c.n is not None]
    out = tmp_path / "out"
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (_vm_size() + 120 * 2**20, hard))
    try:
        first = run_sweep(spec=spec, out_dir=out, n_jobs=1, backend="threading", quiet=True)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    assert (first.n_ok, first.n_failed, first.exit_code) == (4, 2, 1)
    assert first.first_error is not None and "MemoryError" in first.first_error
    runs = store.read_runs(out)
    failed = runs[runs.status == "failed"]
    assert sorted(failed.run_id) == sorted(big)
    assert failed.error.str.startswith("MemoryError").all() and failed.final_loss.isna().all()
    assert set(store.read_curves(out).run_id) == set(runs.run_id) - set(big)

    skipped = run_sweep(spec=spec, out_dir=out, n_jobs=1, quiet=True)
    assert (skipped.n_trained, skipped.n_failed, skipped.exit_code) == (0, 2, 1)

    retried = run_sweep(spec=spec, out_dir=out, n_jobs=1, quiet=True, retry_failed=True)
    assert (retried.n_trained, retried.n_ok, retried.n_failed, retried.exit_code) == (2, 6, 0, 0)
    after = pd.read_parquet(out / "runs.parquet").set_index("run_id")
    assert (after.loc[big, "status"] == "ok").all() and after.error.isna().all()
    small = runs[runs.status == "ok"].set_index("run_id").train_seconds
    assert after.loc[small.index, "train_seconds"].tolist() == small.tolist()
    assert set(pd.read_parquet(out / "curves.parquet").run_id) == set(after.index)


def test_plan_chunks_sizes_by_cost_and_keeps_several_per_worker():
    runs = [(str(i), RunConfig(dataset="xor", epochs=100, seed=i)) for i in range(100)]
    chunks = list(plan_chunks(runs, n_runs=100, n_workers=2))
    assert len(chunks) == CHUNKS_PER_WORKER * 2
    assert [rid for chunk in chunks for rid, _ in chunk] == [r for r, _ in runs]
    # The last round shared out: the 22 runs left after six chunks go to both workers.
    assert [len(c) for c in chunks] == [13] * 6 + [11, 11]
    assert [len(c) for c in plan_chunks(runs, n_runs=100, n_workers=1)] == [25] * 4
    # Long runs: one per chunk, so no chunk takes much longer than a few seconds.
    dear = [
        (str(i), RunConfig(dataset="spiral", hidden=(256, 256), epochs=100_000)) for i in range(6)
    ]
    assert [len(c) for c in plan_chunks(dear, n_runs=6, n_workers=2)] == [1] * 6
    # Many recorded epochs: chunks stay small enough to send back.
    long = [
        (str(i), RunConfig(dataset="xor", hidden=(1,), epochs=400_000, seed=i)) for i in range(8)
    ]
    assert max(len(c) for c in plan_chunks(long, n_runs=8, n_workers=1)) <= 2
    assert [len(c) for c in plan_chunks(runs, n_runs=100, n_workers=2, chunk_size=30)] == [
        30,
        30,
        30,
        10,
    ]
    assert list(plan_chunks([], n_runs=0, n_workers=2)) == []


def test_lockstep_key_ignores_only_what_a_lockstep_call_may_vary():
    base = RunConfig(dataset="xor", hidden=(4, 4), epochs=100)
    same = dataclasses.replace(
        base, seed=7, lr=2.0, init="xavier", target_loss=0.01, stop_at_target=False
    )
    assert lockstep_key(same) == lockstep_key(base)
    for change in [
        {"hidden": (4,)},
        {"epochs": 101},
        {"activation": "tanh"},
        {"batch_size": 4},
        {"data_seed": 1},
        {"optimizer": "adam"},
        {"dataset": "linear"},
        {"noise": 0.1},
    ]:
        assert lockstep_key(dataclasses.replace(base, **change)) != lockstep_key(base), change


def test_chunks_of_a_real_grid_keep_lockstep_keys_together():
    spec = load_grid(Path(__file__).parent.parent / "grids" / "lab.toml")
    runs = list(spec.runs.with_ids())
    chunks = list(plan_chunks(iter(runs), n_runs=len(runs), n_workers=2))
    assert sorted(rid for chunk in chunks for rid, _ in chunk) == sorted(r for r, _ in runs)
    assert all(len({lockstep_key(cfg) for _, cfg in chunk}) == 1 for chunk in chunks)
    position = {rid: i for i, (rid, _) in enumerate(runs)}
    for chunk in chunks:  # each in grid order
        assert [position[r] for r, _ in chunk] == sorted(position[r] for r, _ in chunk)
    # Groups as big as the cost model allows: a key's runs fill as few chunks as can hold them.
    counts = collections.Counter(lockstep_key(cfg) for _, cfg in runs)
    per_key = collections.Counter(lockstep_key(chunk[0][1]) for chunk in chunks)
    for key, count in counts.items():
        cfg = next(c for _, c in runs if lockstep_key(c) == key)
        size = chunk_size_for(cfg, balance=math.ceil(len(runs) / 8), record_every=10)
        assert per_key[key] == math.ceil(count / size)
    assert len(counts) == 4 * 4 and len(chunks) > 2 * CHUNKS_PER_WORKER


def test_lockstep_chunks_are_whole_groups_of_lanes():
    # The throughput grid's net: the cost model allows 113 runs a chunk, 64 + 49 lanes,
    # which costs as much as 120; a chunk gets one whole group instead.
    lab = RunConfig(dataset="linear", hidden=(4, 4), epochs=2000)
    assert kernels.prefers_lockstep(lab.sizes, 100, None)
    assert chunk_size_for(lab, balance=250, record_every=20) == LANES
    assert chunk_size_for(dataclasses.replace(lab, epochs=500), balance=250) == 3 * LANES
    assert chunk_size_for(lab, balance=50) == 50  # less than a group: as it was
    # 2,000 such runs on 2 workers: 30 whole groups, then the last 80 runs split in two
    # (31 groups and 16 runs would leave one worker training a group alone at the end).
    runs = [(str(i), dataclasses.replace(lab, seed=i)) for i in range(2000)]
    sizes = [len(c) for c in plan_chunks(runs, n_runs=2000, n_workers=2, record_every=20)]
    assert sizes == [LANES] * 30 + [40, 40]
    sizes = [len(c) for c in plan_chunks(runs[:1500], n_runs=1500, n_workers=2, record_every=20)]
    assert sizes == [LANES] * 22 + [48, 44]
    # A net the one-run kernel trains is not rounded (about 0.5 s a run: one a chunk).
    wide = RunConfig(dataset="linear", hidden=(64, 64), epochs=2000)
    assert not kernels.prefers_lockstep(wide.sizes, 100, None)
    assert chunk_size_for(wide, balance=250) == 1
    assert chunk_size_for(dataclasses.replace(wide, epochs=10), balance=250) == 250


def test_plan_chunks_takes_runs_as_it_needs_them_and_bounds_what_waits():
    taken = 0

    def stream(n: int, keys: int):
        nonlocal taken
        for i in range(n):
            taken += 1
            yield str(i), RunConfig(dataset="xor", epochs=10 + i % keys, seed=i)

    chunks = plan_chunks(stream(10_000, 1), n_runs=10_000, n_workers=2, chunk_size=50)
    assert len(next(chunks)) == 50 and taken == 50
    # 300 keys interleaved, chunks of 50: without a bound 300 x 49 runs would wait.
    taken, given = 0, 0
    chunks = plan_chunks(
        stream(30_000, 300), n_runs=30_000, n_workers=2, chunk_size=50, max_pending=1_000
    )
    for chunk in chunks:
        given += len(chunk)
        assert len({lockstep_key(cfg) for _, cfg in chunk}) == 1
        assert taken - given <= 1_000
    assert given == taken == 30_000


def test_resuming_trains_only_what_is_missing_and_keeps_each_run_once(tmp_path):
    spec = small_spec(tmp_path)
    out = tmp_path / "out"
    ids = list(spec.runs.ids())
    assert grid_order(spec).keys.tolist() == [int(rid, 16) for rid in ids]
    # A start killed half-way: parts for some runs, one of them failed.
    done = list(spec.runs.with_ids())[3:11]
    (out / "parts").mkdir(parents=True)
    (out / "grid.toml").write_text(spec.text)
    store.write_part(out, train_chunk(done[1:], 4))
    failed = store.run_row(done[0][0], done[0][1], status="failed", seconds=0.0, error="E: x")
    store.write_part(
        out,
        {
            "runs": store.runs_table([failed]),
            "curves": store.curves_table([], [], 4),
            "weights": store.weights_table([], []),
        },
    )
    resumed = run_sweep(spec=spec, out_dir=out, n_jobs=2, quiet=True)
    assert (resumed.n_trained, resumed.n_skipped, resumed.n_failed) == (16, 8, 1)
    assert resumed.first_error == f"{done[0][0]}: E: x"
    runs = pd.read_parquet(out / "runs.parquet")
    assert runs.run_id.tolist() == ids  # each once, in the grid's order
    retried = run_sweep(spec=spec, out_dir=out, n_jobs=2, quiet=True, retry_failed=True)
    assert (retried.n_trained, retried.n_failed, retried.n_chunks) == (1, 0, 1)
    runs = pd.read_parquet(out / "runs.parquet")
    assert runs.run_id.tolist() == ids and set(runs.status) == {"ok"}
    curves = pd.read_parquet(out / "curves.parquet")
    assert set(curves.run_id) == set(ids) and not curves.duplicated(["run_id", "epoch"]).any()


def test_the_command_line_has_arrow_allocate_with_malloc(tmp_path):
    """pyarrow's default pool (mimalloc) kept ~70 MB more of a big sweep's freed
    memory; the command line picks malloc before pyarrow loads, unless told otherwise."""
    code = (
        "import sys; from sweep.cli import main; main(['validate', sys.argv[1]]); "
        "import pyarrow; print(pyarrow.default_memory_pool().backend_name)"
    )
    grid = Path(__file__).parent.parent / "grids" / "lr.toml"
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    cwd = Path(__file__).parent.parent
    run = [sys.executable, "-c", code, str(grid)]
    default = subprocess.run(run, env=env, cwd=cwd, capture_output=True, text=True, check=True)
    assert default.stdout.splitlines()[-1] == "system"
    env["ARROW_DEFAULT_MEMORY_POOL"] = "mimalloc"
    chosen = subprocess.run(run, env=env, cwd=cwd, capture_output=True, text=True, check=True)
    assert chosen.stdout.splitlines()[-1] == "mimalloc"


def test_an_interrupt_closes_joblibs_generator_without_its_cancelled_tasks_warning():
    """Ctrl-C while a part is written leaves joblib's generator unread; closed as it
    is, joblib warns that tasks were cancelled, a second message after the command's
    one line. The runner closes it quietly; an unrelated warning still shows."""
    import time
    import warnings

    from joblib import Parallel, delayed

    from sweep.runner.streaming import close_quietly

    def started():
        gen = Parallel(n_jobs=2, backend="threading", return_as="generator_unordered")(
            delayed(time.sleep)(0.05) for _ in range(8)
        )
        next(gen)
        return gen

    with warnings.catch_warnings(record=True) as loud:
        warnings.simplefilter("always")
        started().close()
    assert any("cancelled" in str(w.message) or "not used" in str(w.message) for w in loud)

    with warnings.catch_warnings(record=True) as quiet:
        warnings.simplefilter("always")
        close_quietly(started())
        close_quietly(None)
        warnings.warn("something else", stacklevel=2)
    assert [str(w.message) for w in quiet] == ["something else"]


MIXED_GRID = """\
[sweep]
name = "mixed"
seeds = 3

[fixed]
epochs = 30

[[grid]]
dataset = ["xor"]
hidden = [[4, 4]]

[[grid]]
dataset = ["linear"]
hidden = [[32, 32]]
"""


def test_runs_needing_a_kernel_compiled_beside_train_last_and_get_the_same_bits(
    tmp_path, monkeypatch
):
    """The one-run kernel made to look uncompiled: the sweep compiles it in another
    process while the small nets train, its runs come last and wait for it, and every
    run gets the bits of a sweep that had it compiled before."""
    spec = load_grid(grid_file(tmp_path, MIXED_GRID))
    before = run_sweep(spec=spec, out_dir=tmp_path / "before", n_jobs=2, quiet=True)
    assert before.n_ok == 6
    wide = {run_id(c) for c in spec.runs if c.dataset == "linear"}
    order = list(planning.waiting_last(spec, grid_order(spec).keys, np.ones(6, bool), ["x"]))
    assert [rid for rid, _ in order] == list(spec.runs.ids())  # nothing waits for "x"
    waiting = ["one run full batch"]
    order = list(planning.waiting_last(spec, grid_order(spec).keys, np.ones(6, bool), waiting))
    assert {rid for rid, _ in order[3:]} == wide and len(order) == 6

    real = tiers.is_compiled
    monkeypatch.setattr(tiers, "is_compiled", lambda kind: kind not in waiting and real(kind))
    beside = run_sweep(spec=spec, out_dir=tmp_path / "beside", n_jobs=2, quiet=True)
    assert beside.n_ok == 6
    manifest = store.read_manifest(tmp_path / "beside")
    assert manifest["starts"][-1]["kernels"]["compiled_beside_first"] == waiting
    a, b = (
        pd.read_parquet(tmp_path / name / "curves.parquet").sort_values(["run_id", "epoch"])
        for name in ("before", "beside")
    )
    assert a.run_id.tolist() == b.run_id.tolist() and a.loss.tolist() == b.loss.tolist()
    assert set(a.run_id) == {run_id(c) for c in spec.runs}
