"""Planning: which runs a start trains, in grid order, and the chunks they go out in.

A chunk is one joblib task: runs of one lockstep key, sized by a rough cost model so
that each worker gets several chunks and none runs much longer than a second or sends
back too many curve rows.
"""

import itertools
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from kernels import prefers_lockstep
from kernels.lockstep import LANES
from sweep import store, tiers
from sweep.config import RunConfig
from sweep.datasets import DATASETS
from sweep.grid import SweepSpec
from sweep.training import lockstep_key

CHUNKS_PER_WORKER = 4  # several chunks per worker, so the last ones balance the load
TAIL_MULTIPLE = 8  # the last round's chunk sizes: whole vectors of lanes (8 doubles)
TARGET_CHUNK_SECONDS = 1.0  # ... and each short, so progress and parts stay fresh
MAX_CHUNK_CURVE_ROWS = 500_000  # bounds what one chunk sends back (~20 MB of curves)
MAX_CHUNK_RUNS = 1_000  # ... and what it holds (~4 KB a run while training, measured)
MAX_PENDING_RUNS = 20_000  # runs waiting in partly filled lockstep buckets (~7 MB)
# Cost model of one run for sizing chunks (fitted on 2-4-4-1 .. 2-64-64-64-1 nets).
SECONDS_PER_UNIT = 6e-10  # per epoch x sample x (weights + neurons)
SECONDS_PER_UPDATE = 1.5e-6  # per weight update (one per mini-batch)
RUN_OVERHEAD_SECONDS = 1e-4

Chunk = list[tuple[str, RunConfig]]


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


def grid_order(spec: SweepSpec) -> store.RunOrder:
    """The run ids of ``spec`` in the grid's order, as 8-byte keys (no list of strings)."""
    return store.RunOrder(
        np.fromiter((int(rid, 16) for rid in spec.runs.ids()), np.uint64, count=len(spec.runs))
    )


def pending_runs(
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


def waiting_last(
    spec: SweepSpec, keys: np.ndarray, todo: np.ndarray, waiting: Sequence[str]
) -> Iterator[tuple[str, RunConfig]]:
    """:func:`pending_runs`, those whose first kernel is one of ``waiting`` (being
    compiled beside the training, :attr:`sweep.tiers.Plan.first_beside`) after the
    others: the workers train what they can while it compiles."""
    if not waiting:
        yield from pending_runs(spec, keys, todo)
        return
    first: dict[tuple[Any, ...], bool] = {}  # per lockstep key

    def waits(cfg: RunConfig) -> bool:
        key = lockstep_key(cfg)
        if key not in first:
            first[key] = tiers.kernels_of(cfg).first in waiting
        return first[key]

    for later in (False, True):
        for rid, cfg in pending_runs(spec, keys, todo):
            if waits(cfg) == later:
                yield rid, cfg
