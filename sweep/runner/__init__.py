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

The rooms, in the order of a start:

- :mod:`~sweep.runner.run`: :func:`run_sweep`, one start phase by phase, and its
  :class:`SweepSummary`.
- :mod:`~sweep.runner.backends`: joblib's backends, and the checks of their settings.
- :mod:`~sweep.runner.manifest`: what ``manifest.json`` records of a sweep and a start.
- :mod:`~sweep.runner.planning`: the runs a start trains, in grid order, and their chunks.
- :mod:`~sweep.runner.compile_phase`: the faster kernels compiled beside the training.
- :mod:`~sweep.runner.streaming`: the chunks through joblib, into parts, with progress.
- :mod:`~sweep.runner.worker`: :func:`train_chunk`, what one joblib task does.
"""

from sweep.runner.backends import DEFAULT_BACKEND
from sweep.runner.planning import (
    CHUNKS_PER_WORKER,
    Chunk,
    chunk_size_for,
    estimate_seconds,
    grid_order,
    plan_chunks,
)
from sweep.runner.run import SweepSummary, run_sweep
from sweep.runner.worker import train_chunk
from sweep.training import lockstep_key

__all__ = [
    "CHUNKS_PER_WORKER",
    "DEFAULT_BACKEND",
    "Chunk",
    "SweepSummary",
    "chunk_size_for",
    "estimate_seconds",
    "grid_order",
    "lockstep_key",
    "plan_chunks",
    "run_sweep",
    "train_chunk",
]
