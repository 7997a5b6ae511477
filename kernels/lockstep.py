"""Many runs of one net trained in lockstep: one compiled call, the innermost loop over runs.

A sweep trains thousands of runs of the same small net that differ only in their
seed, learning rate, init or target. :func:`kernels.train.train` vectorises one run
over its samples; here the runs themselves are the vector: every array has a row per
parameter (or neuron) and a column, a *lane*, per run, and the loops run over the
lanes (:mod:`kernels.lockstep_loop`, up to 64 runs a call). Each lane does the same
arithmetic as the others, one sample at a time, so nothing needs padding or a
horizontal sum, and eight runs fill an AVX-512 register however few the neurons or
samples. Small nets get passes generated for them (:mod:`kernels.codegen`: a lane's
neurons in registers), larger ones the generic passes (:mod:`kernels.lockstep_passes`).

A lane's numbers never depend on the other lanes: the activations use the
vectorisable exp at every length, the shuffle has a generator per lane
(:mod:`kernels.rng`), and the optimizer step is compiled exact. A run's result is
therefore bit-identical whether it is trained alone or with 500 others, in any
position, by generated or generic passes (tested).
"""

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from kernels import specialised
from kernels.checks import (
    Params,
    TrainOutput,
    check_schedule,
    checked_codes,
    checked_data,
    n_params,
    pack,
    sizes_of,
    unpack,
    zero_biases,
)
from kernels.lanes import GROUP, LANES, MAX_LAYERS, NET_SHAPE, batch_mode
from kernels.lockstep_loop import train_lanes
from kernels.lockstep_passes import generic_address
from kernels.rng import seed_states

# Nets up to this many parameters get generated passes (kernels.codegen); larger ones
# the generic passes. Measured: 33 and 37 parameters (2-8-1, 2-4-4-1) vectorise across
# runs, 51 and up (2-5-5-1, 2-4-4-4-1) do not: LLVM's loop-access analysis gives up on
# a loop body with that many loads and stores, and the scalar loop is slower than the
# generic passes (2-8-8-1 on linear: 34 us per run-epoch against 10).
GENERATED_MAX_PARAMS = 40
# Where the generic passes beat the one-run kernel (the table in benchmarks/README.md).
LOCKSTEP_MAX_WIDTH = 16
FULL_BATCH_MAX_SAMPLES = 32
MINI_BATCH_MAX_WIDTH = 8


def generated_passes(sizes: Sequence[int], loss: str) -> bool:
    """Whether ``passes="auto"`` generates the passes for this net and loss.

    Up to :data:`GENERATED_MAX_PARAMS` parameters, and not for ``bce``: its loss,
    ``softplus``, calls libm's scalar ``exp`` and ``log1p``, which keeps the loop over
    runs scalar (2-4-4-1 on linear: 14.4 us per run-epoch generated, 6.6 generic,
    4.1 one run at a time).
    """
    return n_params(sizes) <= GENERATED_MAX_PARAMS and loss != "bce"


def prefers_lockstep(
    sizes: Sequence[int], n: int, batch_size: int | None, loss: str = "mse"
) -> bool:
    """Whether :func:`train_many` trains a run of this net faster than :func:`kernels.train`.

    Per run, in groups of 64 (benchmarks/README.md, "Many runs in lockstep"): always
    when the passes are generated (:func:`generated_passes`: the small nets, the lab's
    2-4-4-1 among them); with the generic passes, where the
    one-run kernel has little to vectorise: online training (up to 16 units a layer),
    small mini-batches (up to 8 units) and full batches of few samples (``xor``'s 21,
    up to 4 units). The one-run kernel's register tiles win full batches of many
    samples and wide layers. Depends on the configuration only, so a run gets the
    same kernel, and the same bits, alone or in a sweep.
    """
    if generated_passes(sizes, loss):
        return True
    widest = max(sizes[1:-1], default=0)
    batch = n if batch_size is None else min(batch_size, n)
    if widest > LOCKSTEP_MAX_WIDTH:
        return False
    if batch == 1:
        return True
    if batch < n:
        return widest <= MINI_BATCH_MAX_WIDTH
    return n <= FULL_BATCH_MAX_SAMPLES and widest <= 4


def net_info(sizes: np.ndarray, codes: Sequence[int], bias: bool) -> np.ndarray:
    """The net as the lockstep passes read it (:data:`kernels.lanes.NET_SHAPE`): rows of
    layer sizes, weight, bias and first neuron offsets (the flat layout of
    :func:`kernels.checks.pack`, a row per parameter; neurons a row each, layer by
    layer), then the hidden and output activation and loss codes, bias, the number of
    layers, parameters, neuron rows and inputs."""
    n_layers = len(sizes) - 1
    if n_layers > MAX_LAYERS:
        raise ValueError(f"at most {MAX_LAYERS - 1} hidden layers, got {n_layers - 1}")
    info = np.zeros(NET_SHAPE, np.int64)
    info[0, : n_layers + 1] = sizes
    p = 0
    for layer in range(n_layers):
        info[1, layer] = p
        p += int(sizes[layer] * sizes[layer + 1])
        info[2, layer] = p
        p += int(sizes[layer + 1])
    info[3, 1 : n_layers + 1] = np.cumsum(sizes[:-1])
    info[4, :8] = [*codes[:3], bias, n_layers, p, int(np.sum(sizes)), sizes[0]]
    return info


def lane_args(
    xt: np.ndarray,
    y: np.ndarray,
    net: np.ndarray,
    schedule: tuple[int, int, int, bool, bool],
    address: int,
    lanes: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    outputs: tuple[np.ndarray, ...],
) -> tuple[Any, ...]:
    """The arguments of one :func:`kernels.lockstep_loop.train_lanes` call: ``schedule``
    is (optimizer code, epochs, batch size, shuffle, bias), ``lanes`` the runs' initial
    weights (a column each), learning rates, targets (NaN for none), whether to stop
    there and seeds (at most :data:`LANES`), ``outputs`` the arrays the call fills."""
    theta, lrs, targets, stops, seeds = lanes
    p, count = theta.shape
    n_rows, n_inputs, n = int(net[4, 6]), int(net[4, 7]), xt.shape[1]
    weights = np.zeros((2 * p, LANES))
    weights[:p, :count] = theta
    lane_f = np.zeros((6, LANES))
    lane_f[1] = math.nan
    lane_f[0, :count], lane_f[1, :count], lane_f[2, :count] = lrs, targets, stops
    lane_i = np.zeros((3, LANES), np.int64)
    lane_i[0], lane_i[1] = np.arange(LANES), -1
    state = np.zeros(LANES, np.uint64)
    state[:count] = seed_states(seeds)
    order = np.repeat(np.arange(n, dtype=np.int64)[:, None], LANES, axis=1)
    buffers = (
        weights,
        np.zeros((p, LANES)),
        np.zeros((2, p, LANES)),
        np.zeros((2, LANES)),
        np.zeros((3, n_rows, LANES)),
        np.zeros((GROUP * (n_inputs + 1), LANES)),
        lane_f,
        lane_i,
        state,
        order,
    )
    return (xt, y, net, *schedule, address, count, *buffers, *outputs)


def _per_run(value: object, n_runs: int, what: str) -> list:  # type: ignore[type-arg]
    """``value`` repeated for every run, or checked to hold one entry per run."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence | np.ndarray):
        return [value] * n_runs
    values = list(value)
    if len(values) != n_runs:
        raise ValueError(f"{what} must be one value or {n_runs} (one per run), got {len(values)}")
    return values


def train_many(
    x: np.ndarray,
    y: np.ndarray,
    inits: Sequence[Params],
    *,
    lr: float | Sequence[float] = 0.1,
    seed: int | Sequence[int] = 0,
    target_loss: float | None | Sequence[float | None] = None,
    activation: str = "sigmoid",
    output_activation: str = "sigmoid",
    loss: str = "mse",
    optimizer: str = "sgd",
    epochs: int = 10_000,
    stop_at_target: bool | Sequence[bool] = True,
    batch_size: int | None = None,
    shuffle: bool = True,
    bias: bool = True,
    passes: str = "auto",
) -> list[TrainOutput]:
    """Train one run per entry of ``inits`` (all the same net) in lockstep, on the same data.

    What :func:`kernels.train.train` does for one run, for many at once: ``lr``,
    ``seed`` (the mini-batch order), ``target_loss`` and ``stop_at_target`` are one
    value for all runs or one per run; everything else is shared. Returns one
    :class:`TrainOutput` per run, in order; a run's result does not depend on the others.

    ``passes``: ``"generic"`` (any net), ``"generated"`` (the pass written out for this
    net, activation, loss and batch mode, :mod:`kernels.codegen`: compiled here on
    first use, a few seconds, then loaded from Numba's disk cache), or ``"auto"``: the
    generated pass where :func:`generated_passes` says it is faster and it is in the
    disk cache already (:func:`kernels.specialised.is_ready`; a sweep compiles the
    ones that pay in another process), else the generic passes. All give the same bits.
    """
    x, yv = checked_data(x, y)
    n = x.shape[0]
    n_runs = len(inits)
    if n_runs == 0:
        return []
    sizes = sizes_of(inits[0], x.shape[1])
    for k, params in enumerate(inits[1:], start=1):
        other = sizes_of(params, x.shape[1])
        if not np.array_equal(other, sizes):
            raise ValueError(f"run {k}: net {other.tolist()} differs from run 0's {sizes.tolist()}")
    hidden_code, out_code, loss_code, opt_code = checked_codes(
        activation, output_activation, loss, optimizer
    )
    lrs = np.array(_per_run(lr, n_runs, "lr"), dtype=np.float64)
    if not (np.all(lrs > 0) and np.all(np.isfinite(lrs))):
        raise ValueError(
            f"lr must be positive numbers, got {lrs[~(lrs > 0) | ~np.isfinite(lrs)][0]}"
        )
    seeds = np.array(_per_run(seed, n_runs, "seed"), dtype=np.int64)
    targets = np.array(
        [math.nan if t is None else float(t) for t in _per_run(target_loss, n_runs, "target_loss")]
    )
    stops = np.array(_per_run(stop_at_target, n_runs, "stop_at_target"), dtype=np.bool_)
    check_schedule(epochs, batch_size)
    theta = np.stack([pack(params) for params in inits], axis=1)
    if not bias:
        zero_biases(theta, sizes)
    theta_out = np.empty_like(theta)
    loss_out = np.empty((n_runs, epochs))
    acc_out = np.empty((n_runs, epochs))
    symmetry_out = np.empty((n_runs, epochs, len(sizes) - 2))
    epochs_run = np.empty(n_runs, np.int64)
    convergence = np.empty(n_runs, np.int64)
    diverged = np.empty(n_runs, np.bool_)
    if passes not in ("auto", "generated", "generic"):
        raise ValueError(f"passes must be 'auto', 'generated' or 'generic', got {passes!r}")
    size = n if batch_size is None else int(batch_size)
    mode = batch_mode(n, size, opt_code)
    key = (tuple(int(v) for v in sizes), hidden_code, out_code, loss_code, bool(bias), mode)
    if passes == "generated" or (
        passes == "auto" and generated_passes(sizes.tolist(), loss) and specialised.is_ready(key)
    ):
        address = specialised.address(key)
    else:
        address = generic_address(mode)
    xt = np.ascontiguousarray(x.T)
    net = net_info(sizes, (hidden_code, out_code, loss_code), bool(bias))
    schedule = (opt_code, int(epochs), size, bool(shuffle), bool(bias))
    for first in range(0, n_runs, LANES):
        runs = slice(first, first + LANES)
        lanes = (theta[:, runs], lrs[runs], targets[runs], stops[runs], seeds[runs])
        weights_out = np.empty((len(theta), len(lanes[1])))  # C-contiguous: one signature
        outputs: tuple[np.ndarray, ...] = (weights_out, loss_out[runs], acc_out[runs])
        outputs += (symmetry_out[runs],)
        outputs += (epochs_run[runs], convergence[runs], diverged[runs])
        train_lanes(*lane_args(xt, yv, net, schedule, address, lanes, outputs))
        theta_out[:, runs] = weights_out
    return [
        TrainOutput(
            loss=loss_out[k, : epochs_run[k]].copy(),
            accuracy=acc_out[k, : epochs_run[k]].copy(),
            symmetry=symmetry_out[k, : epochs_run[k]].copy(),
            weights=unpack(theta_out[:, k], sizes),
            epochs_run=int(epochs_run[k]),
            convergence_epoch=None if convergence[k] < 0 else int(convergence[k]),
            diverged=bool(diverged[k]),
        )
        for k in range(n_runs)
    ]
