"""Run a sweep: every run of a grid, in parallel with joblib, streamed into Parquet parts.

The parent compiles the kernels the grid needs once
(:func:`sweep.training.compile_kernels_for`, which fills Numba's disk cache) before any
worker starts, so workers load the cache instead of racing to write it. The grid is
streamed, never held whole: runs are put into chunks of one lockstep key each
(:func:`plan_chunks`; one joblib task trains a whole chunk, so dispatch costs stay
small next to the work), made as joblib asks for them; chunks come back as they
finish (``return_as="generator_unordered"``) and are written as parts every few
seconds, so a sweep killed at any moment loses at most the last few seconds of work.
A start skips every run already on disk; a run that raises is stored as ``failed``
and the others go
on; a diverged run is a result (status ``diverged``).

Backends, all through joblib: ``threading`` (the default: the kernels release the GIL,
and threads share one already-compiled process; see ``benchmarks/sweep_throughput.py``),
``loky`` (worker processes), ``dask`` (joblib's Dask backend on a
``dask.distributed`` cluster).
"""

import contextlib
import itertools
import math
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from joblib import Parallel, delayed, effective_n_jobs, parallel_config
from tqdm import tqdm

from kernels import prefers_lockstep
from kernels.lockstep import LANES
from kernels.warm import compile_kernel
from sweep import store, tiers
from sweep.compiling import BackgroundCompiler, Compiled
from sweep.config import RunConfig
from sweep.datasets import DATASETS, make_dataset
from sweep.errors import SweepAborted, UserError
from sweep.grid import BACKENDS, SweepSpec
from sweep.training import RunResult, lockstep_key, train_group, train_one

DEFAULT_BACKEND = "threading"
CHUNKS_PER_WORKER = 4  # several chunks per worker, so the last ones balance the load
TAIL_MULTIPLE = 8  # the last round's chunk sizes: whole vectors of lanes (8 doubles)
TARGET_CHUNK_SECONDS = 1.0  # ... and each short, so progress and parts stay fresh
MAX_CHUNK_CURVE_ROWS = 500_000  # bounds what one chunk sends back (~20 MB of curves)
MAX_CHUNK_RUNS = 1_000  # ... and what it holds (~4 KB a run while training, measured)
MIN_PART_SECONDS = 2.0  # write a part at most this often ...
PART_FRACTION = 0.05  # ... or every 5% of the elapsed time, whichever is longer
MAX_PART_ROWS = 500_000  # ... or when this many curve rows wait (~20 MB)
MAX_PART_RUNS = 5_000  # ... or this many runs (their runs and weights rows)
MAX_PENDING_RUNS = 20_000  # runs waiting in partly filled lockstep buckets (~7 MB)
# Cost model of one run for sizing chunks (fitted on 2-4-4-1 .. 2-64-64-64-1 nets).
SECONDS_PER_UNIT = 6e-10  # per epoch x sample x (weights + neurons)
SECONDS_PER_UPDATE = 1.5e-6  # per weight update (one per mini-batch)
RUN_OVERHEAD_SECONDS = 1e-4

Chunk = list[tuple[str, RunConfig]]


@dataclass(frozen=True)
class SweepSummary:
    """What one start of a sweep did, and the state of the sweep's runs afterwards.

    ``n_ok``/``n_diverged``/``n_failed`` count all of the grid's runs in the folder
    (including those done by earlier starts); ``n_trained`` those trained by this start.
    """

    name: str
    out_dir: Path
    n_runs: int
    n_skipped: int
    n_trained: int
    n_ok: int
    n_diverged: int
    n_failed: int
    seconds: float
    backend: str
    n_jobs: int
    n_workers: int
    n_chunks: int
    moved_to: Path | None = None
    new_grid: bool = False
    first_error: str | None = field(default=None)

    @property
    def runs_per_second(self) -> float:
        return self.n_trained / self.seconds if self.seconds > 0 else 0.0

    @property
    def exit_code(self) -> int:
        """0 when every run finished (ok or diverged), 1 when some failed."""
        return 1 if self.n_failed else 0


# --------------------------------------------------------------------------- the worker


def _error_text(error: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(error), error)).strip()


def train_chunk(runs: Chunk, record_every: int) -> dict[str, pa.Table]:
    """Train ``runs``; their runs/curves/weights tables.

    Runs in a worker. Runs that share a :func:`sweep.training.lockstep_key` are trained
    together (:func:`sweep.training.train_group`: one lockstep call where that kernel
    suits the net), each data set made once. When a group raises, its runs are trained
    one by one, so a run that raises alone becomes a ``failed`` row with the error
    text and the others go on.
    """
    groups: dict[tuple[Any, ...], Chunk] = {}
    for rid, cfg in runs:
        groups.setdefault(lockstep_key(cfg), []).append((rid, cfg))
    rows: list[dict[str, Any]] = []
    ids: list[str] = []
    curves = []
    weights = []
    for group in groups.values():
        cfg = group[0][1]
        try:
            data = make_dataset(cfg.dataset, seed=cfg.data_seed, n=cfg.n, noise=cfg.noise)
            results: list[RunResult | str] = list(train_group([c for _, c in group], data=data))
            seconds = [r.train_seconds for r in results if isinstance(r, RunResult)]
        except Exception:
            results, seconds = [], []
            for _, c in group:
                start = time.perf_counter()
                try:
                    results.append(train_one(c))
                except Exception as error:
                    results.append(_error_text(error))
                seconds.append(time.perf_counter() - start)
        for (rid, c), res, secs in zip(group, results, seconds, strict=True):
            if isinstance(res, str):
                rows.append(store.run_row(rid, c, status="failed", seconds=secs, error=res))
                continue
            rows.append(
                store.run_row(
                    rid,
                    c,
                    status="diverged" if res.diverged else "ok",
                    seconds=res.train_seconds,
                    final_loss=res.final_loss,
                    final_accuracy=res.final_accuracy,
                    best_loss=res.best_loss,
                    convergence_epoch=res.convergence_epoch,
                    epochs_run=res.epochs_run,
                )
            )
            ids.append(rid)
            curves.append((res.loss, res.accuracy))
            weights.append((res.init_weights, res.weights))
    return {
        "runs": store.runs_table(rows),
        "curves": store.curves_table(ids, curves, record_every),
        "weights": store.weights_table(ids, weights),
    }


# --------------------------------------------------------------------------- planning


def estimate_seconds(cfg: RunConfig) -> float:
    """A rough cost of one run (all epochs), for sizing chunks only (within ~2x).

    Per epoch: a fixed cost per weight update (one per mini-batch) plus the arithmetic,
    proportional to samples x (weights + neurons), twice when mini-batches add a
    full-set scoring pass.
    """
    sizes = cfg.sizes
    units = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True)) + sum(sizes)
    n = cfg.n if cfg.n is not None else DATASETS[cfg.dataset][1]
    batch = n if cfg.batch_size is None else min(cfg.batch_size, n)
    updates = math.ceil(n / batch)
    passes = 1 if batch == n else 2
    per_epoch = SECONDS_PER_UPDATE * updates + SECONDS_PER_UNIT * n * units * passes
    return RUN_OVERHEAD_SECONDS + cfg.epochs * per_epoch


def chunk_size_for(cfg: RunConfig, *, balance: int, record_every: int = 1) -> int:
    """Runs per chunk for runs like ``cfg``: ``balance`` (the count that gives each
    worker about :data:`CHUNKS_PER_WORKER` chunks), fewer if a chunk would take longer
    than :data:`TARGET_CHUNK_SECONDS` (by :func:`estimate_seconds`, the same for every
    run of a lockstep key) or send back more than :data:`MAX_CHUNK_CURVE_ROWS`.

    Runs trained in lockstep get a multiple of the kernel's :data:`LANES` when that
    is at least one group: a call costs about the same for a part-filled group as
    for a full one (113 runs, 64 + 49, cost as much as 120 would).
    """
    rows = cfg.epochs / record_every
    size = max(
        1,
        min(
            balance,
            MAX_CHUNK_RUNS,
            int(TARGET_CHUNK_SECONDS / estimate_seconds(cfg)),
            int(MAX_CHUNK_CURVE_ROWS / max(rows, 1.0)),
        ),
    )
    n = cfg.n if cfg.n is not None else DATASETS[cfg.dataset][1]
    if size > LANES and prefers_lockstep(cfg.sizes, n, cfg.batch_size, cfg.loss):
        size -= size % LANES
    return size


def plan_chunks(
    runs: Iterable[tuple[str, RunConfig]],
    *,
    n_runs: int,
    n_workers: int,
    chunk_size: int | None = None,
    record_every: int = 1,
    max_pending: int = MAX_PENDING_RUNS,
) -> Iterator[Chunk]:
    """Chunks of ``runs`` (``n_runs`` of them), each of one :func:`lockstep_key`, as
    the runs stream in.

    Runs are put in a bucket per lockstep key, in the order given; a bucket goes out as
    a chunk when it holds ``chunk_size`` runs (by default :func:`chunk_size_for` its
    first run), and partly filled buckets go out at the end. Memory is the runs waiting
    in buckets, at most (distinct keys x chunk size), and never more than
    ``max_pending``: beyond that the fullest buckets go out early, down to half of it
    (smaller lockstep groups, only in grids of very many keys interleaved).

    The last round is shared out: once the runs not yet sent fit in one chunk per
    worker, a bucket goes out at an equal share of them (a multiple of
    :data:`TAIL_MULTIPLE` for chunk sizes that are one), so the workers finish
    together instead of one training a whole chunk alone at the end (2,000 runs of 64
    a chunk on 2 workers: 30 chunks of 64 and two of 40, not 31 and one of 16). Not
    with an explicit ``chunk_size``.
    """
    balance = max(1, math.ceil(n_runs / (CHUNKS_PER_WORKER * max(1, n_workers))))
    buckets: dict[tuple[Any, ...], tuple[int, Chunk]] = {}
    pending = 0
    unsent = n_runs  # runs not yet in a chunk sent out
    tail: int | None = None  # the last round's chunk size, once it starts
    for rid, cfg in runs:
        key = lockstep_key(cfg)
        if key not in buckets:
            size = chunk_size or chunk_size_for(cfg, balance=balance, record_every=record_every)
            buckets[key] = (size, [])
        size, bucket = buckets[key]
        bucket.append((rid, cfg))
        pending += 1
        if tail is None and chunk_size is None and unsent <= size * n_workers:
            share = math.ceil(unsent / max(1, n_workers))
            whole = TAIL_MULTIPLE if size % TAIL_MULTIPLE == 0 else 1
            tail = max(1, math.ceil(share / whole) * whole)
        if tail is not None:
            size = min(size, tail)
        if len(bucket) >= size:
            del buckets[key]
            pending -= len(bucket)
            unsent -= len(bucket)
            yield bucket
        elif pending > max_pending:
            for key in sorted(buckets, key=lambda k: -len(buckets[k][1])):
                bucket = buckets.pop(key)[1]
                pending -= len(bucket)
                unsent -= len(bucket)
                yield bucket
                if pending <= max_pending // 2:
                    break
    for _, bucket in buckets.values():
        yield bucket


# --------------------------------------------------------------------------- backends


@contextlib.contextmanager
def _backend(backend: str, scheduler: str | None, n_jobs: int) -> Iterator[int]:
    """Make ``backend`` joblib's backend for the block; yields the number of workers."""
    if backend != "dask":
        with parallel_config(backend=backend, n_jobs=n_jobs):
            yield effective_n_jobs(n_jobs)
        return
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise UserError(
            "--backend dask needs dask.distributed, which is not installed; "
            "pip install 'dask[distributed]' (or the tool's extra: pip install -e '.[dask]')"
        ) from None
    cluster = None
    if scheduler:
        try:
            # Dask's own connect timeout (distributed.comm.timeouts.connect, 30 s).
            client = Client(scheduler, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as e:
            message = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise UserError(
                f"cannot reach the dask scheduler at {scheduler} ({message}); "
                "give --scheduler the address it prints, e.g. tcp://10.0.0.5:8786"
            ) from None
    else:
        cluster = LocalCluster(
            n_workers=effective_n_jobs(n_jobs),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        client = Client(cluster, set_as_default=False)
    try:
        n_workers = max(1, sum(client.nthreads().values()))
        with parallel_config(backend="dask", client=client):
            yield n_workers
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --------------------------------------------------------------------------- the sweep


def _versions(backend: str) -> dict[str, str]:
    names = ["numpy", "numba", "pandas", "pyarrow", "joblib", "tqdm"]
    if backend == "dask":
        names += ["dask", "distributed"]
    out = {}
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


class _PartWriter:
    """Collects finished chunks and writes them as one part every few seconds.

    The first chunk is written at once (early proof on disk that the sweep works);
    after that a part every :data:`MIN_PART_SECONDS`, or every :data:`PART_FRACTION` of
    the time elapsed when that is longer: a long sweep makes tens of parts, not
    thousands, and a kill loses at most that much work.
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.started = self.last = time.monotonic()
        self.pending: dict[str, list[pa.Table]] = {kind: [] for kind in store.KINDS}
        self.rows = 0
        self.runs = 0
        self.written = 0

    def add(self, tables: dict[str, pa.Table]) -> None:
        for kind in store.KINDS:
            self.pending[kind].append(tables[kind])
        self.rows += tables["curves"].num_rows
        self.runs += tables["runs"].num_rows
        now = time.monotonic()
        interval = max(MIN_PART_SECONDS, PART_FRACTION * (now - self.started))
        full = self.rows >= MAX_PART_ROWS or self.runs >= MAX_PART_RUNS
        if not self.written or now - self.last >= interval or full:
            self.flush()

    def flush(self) -> None:
        if not self.pending["runs"]:
            return
        store.write_part(
            self.out_dir,
            {kind: pa.concat_tables(tables) for kind, tables in self.pending.items()},
        )
        self.pending = {kind: [] for kind in store.KINDS}
        self.rows = self.runs = 0
        self.written += 1
        self.last = time.monotonic()


def _check_settings(
    spec: SweepSpec, n_jobs: int | None, backend: str | None, scheduler: str | None
) -> tuple[int, str, str | None]:
    jobs = spec.n_jobs if n_jobs is None else n_jobs
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs == 0:
        raise UserError(
            f"--jobs must be a non-zero integer (joblib's meaning: -1 = all cores), got {jobs!r}"
        )
    name = backend or spec.backend or DEFAULT_BACKEND
    if name not in BACKENDS:
        raise UserError(f"--backend must be one of {', '.join(BACKENDS)}, got {name!r}")
    address = scheduler or (spec.scheduler if name == "dask" else None)
    if address and name != "dask":
        raise UserError(f"--scheduler needs --backend dask (the backend is {name!r})")
    return jobs, name, address


def run_sweep(
    *,
    spec: SweepSpec,
    out_dir: str | Path,
    n_jobs: int | None = None,
    backend: str | None = None,
    scheduler: str | None = None,
    fresh: bool = False,
    retry_failed: bool = False,
    quiet: bool = False,
    compile: str = "auto",
    progress: Callable[[int, int], None] | None = None,
) -> SweepSummary:
    """Train every run of ``spec`` not yet in ``out_dir``, in parallel, into Parquet.

    Parameters
    ----------
    spec : the loaded grid (:func:`sweep.grid.load_grid`).
    out_dir : the sweep's results folder (created if needed).
    n_jobs, backend, scheduler : override the grid's ``[sweep]`` settings; ``n_jobs`` has
        joblib's meaning; ``backend`` is ``threading`` (default), ``loky`` or ``dask``;
        ``scheduler`` is a Dask scheduler address (a local cluster when None).
    fresh : move an existing ``out_dir`` aside to ``<out_dir>.old-<timestamp>`` first.
    retry_failed : train runs stored as failed again (otherwise they are skipped).
    quiet : no progress bar and no messages (the bar is off anyway when stderr is not
        a terminal).
    compile : which faster kernels to compile (:mod:`sweep.tiers`): ``"auto"``, those
        that pay for themselves on these runs, beside the training; ``"all"``, every
        one, before training; ``"none"``, none (the runs train on the kernels that
        need no compile per net).
    progress : called as ``progress(done, total)`` after each chunk of this start.

    Returns
    -------
    SweepSummary : counts and timings; ``exit_code`` is 1 when some runs failed.

    Raises
    ------
    UserError : the folder holds something else, a setting is invalid, dask is missing
        or its scheduler unreachable; raised before the folder is created or changed.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    jobs, backend_name, address = _check_settings(spec, n_jobs, backend, scheduler)
    order = grid_order(spec)
    plan = store.plan_folder(out_dir, grid_text=spec.text, run_ids=order, fresh=fresh)

    def say(message: str) -> None:
        if not quiet:  # above the progress bar, which stays at the bottom
            tqdm.write(message, file=sys.stdout)
            sys.stdout.flush()

    with _backend(backend_name, address, jobs) as n_workers, store.open_folder(plan, spec.text):
        if plan.move_aside is not None:
            say(f"moved the old results aside to {plan.move_aside}")
        if plan.new_grid:
            say(f"{out_dir}: grid file changed; its runs so far are all in the new grid, kept")
        manifest = store.read_manifest(out_dir)
        done, statuses = store.run_keys(out_dir)
        if retry_failed:
            done = done[statuses != store.STATUSES.index("failed")]
        todo = ~np.isin(order.keys, done)
        n_todo = int(todo.sum())
        n_runs = len(order)
        this_start: dict[str, Any] = {
            "started": _now(),
            "finished": None,
            "backend": backend_name,
            "scheduler": address,
            "n_jobs": jobs,
            "n_workers": n_workers,
            "n_chunks": None,
            "to_train": n_todo,
            "trained": 0,
            "seconds": None,
        }
        manifest = {
            "tool": "sweep",
            "version": metadata.version("sweep") if _installed("sweep") else "unknown",
            "name": spec.name,
            "grid_file": str(spec.path),
            "record_every": spec.record_every,
            "packages": _versions(backend_name),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "started": manifest.get("started", this_start["started"]),
            "finished": None,
            "runs": manifest.get("runs", {}),
            "starts": [*manifest.get("starts", []), this_start],
        }
        store.write_manifest(out_dir, manifest)
        n_chunks = 0
        seconds = {"kernels": 0.0, "training": 0.0, "consolidation": 0.0}
        if n_todo:
            say(
                f"{spec.name}: {n_runs:,} runs, {n_runs - n_todo:,} already in {out_dir}; "
                f"training {n_todo:,} with {backend_name} on {n_workers} worker"
                f"{'s' if n_workers != 1 else ''}"
            )
            # The first tier of kernels these runs need, compiled here before any worker
            # starts; the faster ones that pay, in another process while they train.
            compiling = time.perf_counter()
            kernel_plan = tiers.plan(
                (cfg for _, cfg in _pending(spec, order.keys, todo)),
                policy=compile,
                n_workers=n_workers,
            )
            for kind in kernel_plan.before:
                say(f"compiling the {kind} kernel (once per machine: Numba's disk cache keeps it)")
                compile_kernel(kind)
            compiler = _start_compiler(kernel_plan, compile, say)
            seconds["kernels"] = time.perf_counter() - compiling
            try:
                chunks = plan_chunks(
                    _pending(spec, order.keys, todo),
                    n_runs=n_todo,
                    n_workers=n_workers,
                    chunk_size=spec.chunk_size,
                    record_every=spec.record_every,
                )
                training = time.perf_counter()
                n_chunks = _train(
                    chunks,
                    out_dir=out_dir,
                    record_every=spec.record_every,
                    total=n_todo,
                    quiet=quiet,
                    progress=progress,
                    name=spec.name,
                )
                seconds["training"] = time.perf_counter() - training
            finally:
                this_start["kernels"] = _stop_compiler(compiler, kernel_plan, say)
        consolidating = time.perf_counter()
        store.consolidate(out_dir, order=order)
        seconds["consolidation"] = time.perf_counter() - consolidating
        keys, statuses = store.run_keys(out_dir)
        ranks = order.rank(keys)
        mine = statuses[ranks >= 0]
        counts = {s: int(np.count_nonzero(mine == i)) for i, s in enumerate(store.STATUSES)}
        first_error = None
        if counts["failed"]:
            failed = ranks[(ranks >= 0) & (statuses == store.STATUSES.index("failed"))]
            row = store.read_runs(out_dir, [f"{order.keys[failed.min()]:016x}"])
            first_error = f"{row.run_id.iloc[0]}: {row.error.iloc[0]}"
        seconds = {k: round(v, 3) for k, v in seconds.items()}
        this_start.update(finished=_now(), trained=n_todo, n_chunks=n_chunks, seconds=seconds)
        manifest.update(finished=this_start["finished"], runs={"total": n_runs, **counts})
        store.write_manifest(out_dir, manifest)
    return SweepSummary(
        name=spec.name,
        out_dir=out_dir,
        n_runs=n_runs,
        n_skipped=n_runs - n_todo,
        n_trained=n_todo,
        n_ok=counts["ok"],
        n_diverged=counts["diverged"],
        n_failed=counts["failed"],
        seconds=time.perf_counter() - started,
        backend=backend_name,
        n_jobs=jobs,
        n_workers=n_workers,
        n_chunks=n_chunks,
        moved_to=plan.move_aside,
        new_grid=plan.new_grid,
        first_error=first_error,
    )


def _start_compiler(
    plan: tiers.Plan, policy: str, say: Callable[[str], None]
) -> BackgroundCompiler | None:
    """Start compiling ``plan.beside`` in another process (``"all"``: and wait for it)."""
    if not plan.beside:
        return None
    names = [tiers.describe_kind(job.kind) for job in plan.beside]
    if policy != "all":
        say(
            f"training on the kernels compiled already; compiling {len(names)} faster "
            f"beside it, runs switch as each is ready: {', '.join(names)}"
        )
    else:
        say(f"compiling before training: {', '.join(names)}")

    def done(result: Compiled) -> None:
        kind = tiers.describe_kind(_kind(result.job))
        if result.error:
            say(f"could not compile {kind} ({result.error}); its runs stay on the generic kernels")
        else:
            say(f"compiled {kind} in {result.seconds:.1f} s")

    started = time.perf_counter()
    compiler = BackgroundCompiler([_job(job.kind) for job in plan.beside], done)
    if policy == "all":
        while compiler.busy:
            time.sleep(0.05)
        n = sum(1 for job in plan.beside if job.kind != "loop")
        say(
            f"compiled {n} kernel{'s' if n != 1 else ''} for these nets in "
            f"{time.perf_counter() - started:.0f} s (once: Numba's disk cache keeps them)"
        )
    return compiler


def _job(kind: str | tuple[Any, ...]) -> tuple[Any, ...]:
    """A :mod:`sweep.compile_worker` job for a kernel."""
    return ("kind", kind) if isinstance(kind, str) else ("net", *kind)


def _kind(job: tuple[Any, ...]) -> Any:
    """The kernel a :mod:`sweep.compile_worker` job names."""
    return job[1] if job[0] == "kind" else tuple(job[1:])


def _stop_compiler(
    compiler: BackgroundCompiler | None, plan: tiers.Plan, say: Callable[[str], None]
) -> dict[str, Any]:
    """Stop the compiler (what it had not finished is left for another sweep) and say
    what it did; what the manifest records of this start's kernels."""
    record: dict[str, Any] = {"compiled_before": list(plan.before), "compiled_beside": []}
    record["not_worth_compiling"] = [tiers.describe_kind(job.kind) for job in plan.skipped]
    if compiler is None:
        return record
    left = len(compiler.pending) + (1 if compiler.busy else 0)
    compiler.stop()
    record["compiled_beside"] = [
        {"kernel": tiers.describe_kind(_kind(result.job)), "seconds": round(result.seconds, 2)}
        for result in compiler.done
        if not result.error
    ]
    if left > 0:
        say(f"training finished first: {left} kernel compile(s) left for another sweep")
    return record


def grid_order(spec: SweepSpec) -> store.RunOrder:
    """The run ids of ``spec`` in the grid's order, as 8-byte keys (no list of strings)."""
    return store.RunOrder(
        np.fromiter((int(rid, 16) for rid in spec.runs.ids()), np.uint64, count=len(spec.runs))
    )


def _pending(
    spec: SweepSpec, keys: np.ndarray, todo: np.ndarray, block: int = 4096
) -> Iterator[tuple[str, RunConfig]]:
    """``(run_id, cfg)`` of the runs of ``spec`` marked in ``todo``, in grid order, built
    as they are asked for (``keys`` are the runs' ids, from :func:`grid_order`)."""
    runs = iter(spec.runs)
    for start in range(0, len(keys), block):
        wanted = todo[start : start + block].tolist()
        ids = keys[start : start + block].tolist()
        for rid, cfg, want in zip(ids, itertools.islice(runs, len(ids)), wanted, strict=True):
            if want:
                yield f"{rid:016x}", cfg


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def _train(
    chunks: Iterable[Chunk],
    *,
    out_dir: Path,
    record_every: int,
    total: int,
    quiet: bool,
    progress: Callable[[int, int], None] | None,
    name: str,
) -> int:
    """Train the chunks with the active joblib backend (which takes them from ``chunks``
    as workers free up; the kernels are compiled already); the number of chunks trained."""
    writer = _PartWriter(out_dir)
    bar = tqdm(
        total=total,
        desc=name,
        unit="run",
        disable=quiet or not sys.stderr.isatty(),
        smoothing=0.1,
        dynamic_ncols=True,
    )
    done = 0
    n_chunks = 0
    try:
        results = Parallel(return_as="generator_unordered", batch_size=1)(
            delayed(train_chunk)(chunk, record_every) for chunk in chunks
        )
        for tables in results:
            n_chunks += 1
            writer.add(tables)
            n = tables["runs"].num_rows
            done += n
            bar.update(n)
            if progress is not None:
                progress(done, total)
    except BrokenProcessPool as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SweepAborted(
            f"a worker process died ({reason}); the {done:,} runs finished by this start are "
            f"saved in {out_dir}: run the same command to go on"
        ) from error
    finally:
        writer.flush()
        bar.close()
    return n_chunks
