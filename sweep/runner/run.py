"""One start of a sweep, phase by phase: check the folder and settings, compile, train,
consolidate, and record it in the manifest."""

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sweep import store, tiers
from sweep.grid import SweepSpec
from sweep.runner.backends import check_settings, joblib_backend
from sweep.runner.compile_phase import compile_first_tier, start_compiler, stop_compiler
from sweep.runner.manifest import now, start_record, sweep_manifest
from sweep.runner.planning import grid_order, pending_runs, plan_chunks, waiting_last
from sweep.runner.streaming import train_chunks


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
    jobs, backend_name, address = check_settings(spec, n_jobs, backend, scheduler)
    order = grid_order(spec)
    plan = store.plan_folder(out_dir, grid_text=spec.text, run_ids=order, fresh=fresh)

    def say(message: str) -> None:
        if not quiet:  # above the progress bar, which stays at the bottom
            tqdm.write(message, file=sys.stdout)
            sys.stdout.flush()

    with (
        joblib_backend(backend_name, address, jobs) as n_workers,
        store.open_folder(plan, spec.text),
    ):
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
        this_start = start_record(
            backend=backend_name,
            scheduler=address,
            n_jobs=jobs,
            n_workers=n_workers,
            to_train=n_todo,
        )
        manifest = sweep_manifest(spec, previous=manifest, this_start=this_start)
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
                (cfg for _, cfg in pending_runs(spec, order.keys, todo)),
                policy=compile,
                n_workers=n_workers,
                first_beside=backend_name == "threading" and compile != "all",
            )
            # A one-run kernel some runs wait for starts compiling at once, beside.
            compiler = start_compiler(kernel_plan, compile, say, first_only=True)
            try:
                compile_first_tier(kernel_plan.before, say)
                if compiler is None:
                    compiler = start_compiler(kernel_plan, compile, say)
                seconds["kernels"] = time.perf_counter() - compiling
                chunks = plan_chunks(
                    waiting_last(spec, order.keys, todo, kernel_plan.first_beside),
                    n_runs=n_todo,
                    n_workers=n_workers,
                    chunk_size=spec.chunk_size,
                    record_every=spec.record_every,
                )
                training = time.perf_counter()
                n_chunks = train_chunks(
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
                this_start["kernels"] = stop_compiler(compiler, kernel_plan, say)
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
        this_start.update(finished=now(), trained=n_todo, n_chunks=n_chunks, seconds=seconds)
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
