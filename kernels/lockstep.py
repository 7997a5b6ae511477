"""Many runs of one net trained in lockstep: one compiled call, the innermost loop over runs.

A sweep trains thousands of runs of the same small net that differ only in their
seed, learning rate, init or target. :func:`kernels.train.train` vectorises one run
over its samples; here the runs themselves are the vector: every array has a row
per parameter (or neuron) and a column, a *lane*, per run, and every innermost loop
runs over the lanes. Each lane does the same arithmetic as the others, one sample
at a time, so nothing needs padding or a horizontal sum, and a 2-4-4-1 net keeps
eight runs in each AVX-512 register however few its neurons or samples (measured
against the one-run kernel in benchmarks/README.md).

A lane's numbers never depend on the other lanes: the activations use the
vectorisable exp at every row length (:func:`kernels.activations.activate_lanes`),
the shuffle has a generator per lane (:mod:`kernels.rng`), and the optimizer step is
compiled exact. A run's result is therefore bit-identical whether it is trained
alone or with 500 others, in any position (tested).

Runs stop on their own (target reached, or diverged): a stopped lane's results are
copied out and the last active lane is moved into its place, so the loops always
cover the active lanes ``[0, A)`` only and a group costs what its live runs cost.

The curves and stopping rules are those of :mod:`kernels.train`: ``loss[e]`` scores
the weights at the start of epoch ``e`` on the whole set; full batch reuses that
pass's gradient, mini-batch and online training make their updates after it.
"""

import math
from collections.abc import Sequence

import numpy as np
from numba import njit

from kernels.activations import (
    activate_lanes,
    scale_by_derivative,
)
from kernels.losses import BCE, MAE, MSE, softplus
from kernels.mlp import layout
from kernels.optimizers import step_lanes
from kernels.options import JIT_OPTIONS
from kernels.rng import seed_state, shuffle
from kernels.train import (
    Params,
    TrainOutput,
    _bias_slices,
    _sizes,
    check_schedule,
    checked_codes,
    checked_data,
    pack,
    unpack,
)


@njit(**JIT_OPTIONS)
def dot_lanes(
    out: np.ndarray,
    rows: np.ndarray,
    first: int,
    count: int,
    theta: np.ndarray,
    w_first: int,
    w_stride: int,
    m: int,
) -> None:
    """``out += sum_k theta[w_first + k w_stride] * rows[first + k]`` in lanes ``[0, m)``.

    Four terms per pass over the lanes, their sum kept in a register: each lane's
    accumulator is loaded and stored once per four multiply-adds instead of once per
    one (the loop is bound by loads and stores, not arithmetic). Always
    ``acc + w * x`` in order, which ``contract`` can fuse one way only.
    """
    k = 0
    while k + 4 <= count:
        x0, x1, x2, x3 = (
            rows[first + k],
            rows[first + k + 1],
            rows[first + k + 2],
            rows[first + k + 3],
        )
        w = w_first + k * w_stride
        w0, w1, w2, w3 = (
            theta[w],
            theta[w + w_stride],
            theta[w + 2 * w_stride],
            theta[w + 3 * w_stride],
        )
        for r in range(m):
            out[r] = out[r] + w0[r] * x0[r] + w1[r] * x1[r] + w2[r] * x2[r] + w3[r] * x3[r]
        k += 4
    left = count - k
    w = w_first + k * w_stride
    if left == 3:
        x0, x1, x2 = rows[first + k], rows[first + k + 1], rows[first + k + 2]
        w0, w1, w2 = theta[w], theta[w + w_stride], theta[w + 2 * w_stride]
        for r in range(m):
            out[r] = out[r] + w0[r] * x0[r] + w1[r] * x1[r] + w2[r] * x2[r]
    elif left == 2:
        x0, x1 = rows[first + k], rows[first + k + 1]
        w0, w1 = theta[w], theta[w + w_stride]
        for r in range(m):
            out[r] = out[r] + w0[r] * x0[r] + w1[r] * x1[r]
    elif left == 1:
        x0 = rows[first + k]
        w0 = theta[w]
        for r in range(m):
            out[r] = out[r] + w0[r] * x0[r]


@njit(**JIT_OPTIONS)
def outer_lanes(
    grad: np.ndarray, g_first: int, x: np.ndarray, rows: np.ndarray, first: int, count: int, m: int
) -> None:
    """``grad[g_first + k] += x * rows[first + k]`` for k < ``count``, in lanes ``[0, m)``.

    Four gradient rows per pass, so each ``x`` is loaded once for four of them.
    """
    k = 0
    while k + 4 <= count:
        g0, g1, g2, g3 = (
            grad[g_first + k],
            grad[g_first + k + 1],
            grad[g_first + k + 2],
            grad[g_first + k + 3],
        )
        d0, d1, d2, d3 = (
            rows[first + k],
            rows[first + k + 1],
            rows[first + k + 2],
            rows[first + k + 3],
        )
        for r in range(m):
            v = x[r]
            g0[r] += v * d0[r]
            g1[r] += v * d1[r]
            g2[r] += v * d2[r]
            g3[r] += v * d3[r]
        k += 4
    for q in range(k, count):
        g = grad[g_first + q]
        d = rows[first + q]
        for r in range(m):
            g[r] += x[r] * d[r]


@njit(**JIT_OPTIONS)
def forward_lanes(
    sizes: np.ndarray,
    woff: np.ndarray,
    boff: np.ndarray,
    roff: np.ndarray,
    theta: np.ndarray,
    z: np.ndarray,
    a: np.ndarray,
    bits: np.ndarray,
    hidden_code: int,
    out_code: int,
    m: int,
) -> None:
    """One sample through the net in lanes ``[0, m)``: ``z = b + sum_i W[i, j] a_i``, ``a = f(z)``.

    ``theta`` has a row per parameter (the flat layout of :mod:`kernels.mlp`), ``z`` and
    ``a`` a row per neuron; the input rows of ``a`` are filled by the caller. A layer's
    activations run over all its rows and every lane at once (lanes past ``m`` hold
    stale numbers, harmless): one call per neuron left too few values in flight to
    hide the exp's latency (9 sigmoids of 8 lanes: 550 ns one row at a time).
    """
    n_layers = sizes.shape[0] - 1
    width = z.shape[1]
    for layer in range(n_layers):
        fan_in = sizes[layer]
        fan_out = sizes[layer + 1]
        prev = roff[layer]
        first = roff[layer + 1]
        for j in range(fan_out):
            zj = z[first + j]
            b = theta[boff[layer] + j]
            for r in range(m):
                zj[r] = b[r]
            dot_lanes(zj, a, prev, fan_in, theta, woff[layer] + j, fan_out, m)
        code = out_code if layer == n_layers - 1 else hidden_code
        zl = z[first : first + fan_out].reshape(-1)
        al = a[first : first + fan_out].reshape(-1)
        activate_lanes(code, zl, al, bits, fan_out * width)


@njit(**JIT_OPTIONS)
def loss_lanes(
    code: int,
    out_code: int,
    z: np.ndarray,
    yhat: np.ndarray,
    target: np.ndarray,
    delta: np.ndarray,
    total: np.ndarray,
    correct: np.ndarray,
    inv_m: float,
    m: int,
) -> None:
    """Add one sample's loss and hit to each lane's ``total``/``correct``; its delta at the logit.

    The formulas of :func:`kernels.losses.loss_and_delta`, one sample per lane.
    """
    if code == MSE:
        for r in range(m):
            d = yhat[r] - target[r]
            total[r] += d * d
            delta[r] = 2.0 * d * inv_m
    elif code == MAE:
        for r in range(m):
            d = yhat[r] - target[r]
            total[r] += abs(d)
            delta[r] = (1.0 if d > 0.0 else (-1.0 if d < 0.0 else 0.0)) * inv_m
    else:
        for r in range(m):
            total[r] += softplus(z[r]) - target[r] * z[r]
            delta[r] = (yhat[r] - target[r]) * inv_m
    for r in range(m):
        correct[r] += 1.0 if (yhat[r] > 0.5) == (target[r] > 0.5) else 0.0
    if code != BCE:
        scale_by_derivative(out_code, yhat, delta, m)


@njit(**JIT_OPTIONS)
def backward_lanes(
    sizes: np.ndarray,
    woff: np.ndarray,
    boff: np.ndarray,
    roff: np.ndarray,
    theta: np.ndarray,
    a: np.ndarray,
    delta: np.ndarray,
    grad: np.ndarray,
    hidden_code: int,
    use_bias: bool,
    m: int,
) -> None:
    """Add one sample's gradient to ``grad`` in lanes ``[0, m)``, from the output row of ``delta``.

    dW[i, j] += a_i delta_j, db[j] += delta_j, delta_i = f'(a_i) sum_j W[i, j] delta_j.
    """
    n_layers = sizes.shape[0] - 1
    width = a.shape[1]
    for layer in range(n_layers - 1, -1, -1):
        fan_in = sizes[layer]
        fan_out = sizes[layer + 1]
        prev = roff[layer]
        first = roff[layer + 1]
        if use_bias:
            for j in range(fan_out):
                g = grad[boff[layer] + j]
                dj = delta[first + j]
                for r in range(m):
                    g[r] += dj[r]
        for i in range(fan_in):
            outer_lanes(grad, woff[layer] + i * fan_out, a[prev + i], delta, first, fan_out, m)
        if layer == 0:
            break
        for i in range(fan_in):
            di = delta[prev + i]
            for r in range(m):
                di[r] = 0.0
            dot_lanes(di, delta, first, fan_out, theta, woff[layer] + i * fan_out, 1, m)
        dl = delta[prev : prev + fan_in].reshape(-1)
        al = a[prev : prev + fan_in].reshape(-1)
        scale_by_derivative(hidden_code, al, dl, fan_in * width)


@njit(**JIT_OPTIONS)
def swap_columns(arr: np.ndarray, r: int, q: int) -> None:
    """Exchange lanes ``r`` and ``q`` of a 2-D lane array."""
    for k in range(arr.shape[0]):
        arr[k, r], arr[k, q] = arr[k, q], arr[k, r]


@njit(**JIT_OPTIONS)
def swap(vec: np.ndarray, r: int, q: int) -> None:
    """Exchange entries ``r`` and ``q`` of a per-lane vector."""
    vec[r], vec[q] = vec[q], vec[r]


@njit(**JIT_OPTIONS)
def _train_many(
    xt: np.ndarray,
    y: np.ndarray,
    sizes: np.ndarray,
    theta: np.ndarray,
    lr: np.ndarray,
    seeds: np.ndarray,
    target: np.ndarray,
    hidden_code: int,
    out_code: int,
    loss_code: int,
    opt_code: int,
    epochs: int,
    stop_at_target: np.ndarray,
    batch_size: int,
    shuffle_batches: bool,
    use_bias: bool,
    theta_out: np.ndarray,
    loss_out: np.ndarray,
    acc_out: np.ndarray,
    epochs_run: np.ndarray,
    convergence: np.ndarray,
    diverged: np.ndarray,
) -> None:
    """Train the runs of ``theta``'s columns in lockstep (it is used as scratch).

    Per run ``k`` (a column of every argument shaped ``(.., R)``, an entry of every
    ``(R,)`` one): its learning rate, shuffle seed and target loss (NaN for none) in;
    its final weights (``theta_out[:, k]``), curves (``loss_out[k, :epochs_run[k]]``),
    convergence epoch (-1 for never) and whether it diverged out.
    """
    n_inputs, n = xt.shape
    width = theta.shape[1]
    woff, boff, roff, n_params, n_rows = layout(sizes)
    out = n_rows - 1
    z = np.zeros((n_rows, width))
    a = np.zeros((n_rows, width))
    delta = np.zeros((n_rows, width))
    grad = np.zeros((n_params, width))
    s1 = np.zeros((n_params, width))
    s2 = np.zeros((n_params, width))
    bits = np.zeros(n_rows * width, np.int64)
    total = np.zeros(width)
    correct = np.zeros(width)
    scratch = np.zeros(width)
    y_lane = np.zeros(width)
    # Per-lane state that moves with its run when lanes are compacted.
    run = np.arange(width)
    conv = np.full(width, -1, np.int64)
    lr = lr.copy()
    target = target.copy()
    stops = stop_at_target.copy()
    state = np.empty(width, np.uint64)
    for r in range(width):
        state[r] = seed_state(seeds[r])
    order = np.empty((n, width), np.int64)
    for s in range(n):
        order[s] = s
    full_batch = batch_size >= n
    inv_n = 1.0 / n
    active = width
    t = 0

    for e in range(epochs):
        total[:active] = 0.0
        correct[:active] = 0.0
        if full_batch:
            grad[:, :active] = 0.0
        # The whole set in order: scores the weights at the start of epoch e (and, in
        # full batch, is the epoch's gradient).
        for s in range(n):
            for k in range(n_inputs):
                row = a[k]
                v = xt[k, s]
                for r in range(active):
                    row[r] = v
            for r in range(active):
                y_lane[r] = y[s]
            forward_lanes(sizes, woff, boff, roff, theta, z, a, bits, hidden_code, out_code, active)
            loss_lanes(
                loss_code,
                out_code,
                z[out],
                a[out],
                y_lane,
                delta[out],
                total,
                correct,
                inv_n,
                active,
            )
            if full_batch:
                backward_lanes(
                    sizes, woff, boff, roff, theta, a, delta, grad, hidden_code, use_bias, active
                )
        # Record, then retire the lanes that stop here (from the last down, each
        # replaced by the last active lane, which has been looked at already).
        for r in range(active - 1, -1, -1):
            k = run[r]
            loss = total[r] * inv_n
            loss_out[k, e] = loss
            acc_out[k, e] = correct[r] / n
            stop = not math.isfinite(loss)
            if not stop and target[r] == target[r] and conv[r] < 0 and loss < target[r]:
                conv[r] = e
                stop = stops[r]
            if not stop:
                continue
            theta_out[:, k] = theta[:, r]
            epochs_run[k] = e + 1
            convergence[k] = conv[r]
            diverged[k] = not math.isfinite(loss)
            active -= 1
            if r != active:
                for arr in (theta, s1, s2, grad):
                    swap_columns(arr, r, active)
                swap_columns(order, r, active)
                swap(run, r, active)
                swap(conv, r, active)
                swap(lr, r, active)
                swap(target, r, active)
                swap(stops, r, active)
                swap(state, r, active)
        if active == 0:
            return
        if full_batch:
            t += 1
            step_lanes(opt_code, theta, grad, s1, s2, lr, t, scratch, active)
            continue
        if shuffle_batches:
            for r in range(active):
                shuffle(order[:, r], state, r)
        for start in range(0, n, batch_size):
            m = min(batch_size, n - start)
            inv_m = 1.0 / m
            grad[:, :active] = 0.0
            for s in range(start, start + m):
                pick = order[s]
                for k in range(n_inputs):
                    row = a[k]
                    for r in range(active):
                        row[r] = xt[k, pick[r]]
                for r in range(active):
                    y_lane[r] = y[pick[r]]
                forward_lanes(
                    sizes, woff, boff, roff, theta, z, a, bits, hidden_code, out_code, active
                )
                loss_lanes(
                    loss_code,
                    out_code,
                    z[out],
                    a[out],
                    y_lane,
                    delta[out],
                    total,
                    correct,
                    inv_m,
                    active,
                )
                backward_lanes(
                    sizes, woff, boff, roff, theta, a, delta, grad, hidden_code, use_bias, active
                )
            t += 1
            step_lanes(opt_code, theta, grad, s1, s2, lr, t, scratch, active)
    for r in range(active):
        k = run[r]
        theta_out[:, k] = theta[:, r]
        epochs_run[k] = epochs
        convergence[k] = conv[r]
        diverged[k] = False


LOCKSTEP_MAX_WIDTH = 16
FULL_BATCH_MAX_SAMPLES = 32
MINI_BATCH_MAX_WIDTH = 8


def prefers_lockstep(sizes: Sequence[int], n: int, batch_size: int | None) -> bool:
    """Whether :func:`train_many` trains a run of this net faster than :func:`kernels.train`.

    Per run, in groups of 64 (benchmarks/README.md, "Which kernel"): lockstep wins
    where the one-run kernel has little to vectorise, that is online training (up to
    16 units a layer), small mini-batches (up to 8 units) and full batches of few
    samples (``xor``'s 21, up to 4 units). The one-run kernel's register tiles win
    full batches of many samples and wide layers. Depends on the configuration only,
    so a run gets the same kernel, and the same bits, alone or in a sweep.
    """
    widest = max(sizes[1:-1], default=0)
    batch = n if batch_size is None else min(batch_size, n)
    if widest > LOCKSTEP_MAX_WIDTH:
        return False
    if batch == 1:
        return True
    if batch < n:
        return widest <= MINI_BATCH_MAX_WIDTH
    return n <= FULL_BATCH_MAX_SAMPLES and widest <= 4


def _per_run(value: object, n_runs: int, what: str, kind: type) -> list:  # type: ignore[type-arg]
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
) -> list[TrainOutput]:
    """Train one run per entry of ``inits`` (all the same net) in lockstep, on the same data.

    What :func:`kernels.train.train` does for one run, for many at once: ``lr``,
    ``seed`` (the mini-batch order), ``target_loss`` and ``stop_at_target`` are one
    value for all runs or one per run; everything else is shared. Returns one
    :class:`TrainOutput` per run, in order; a run's result does not depend on the others.
    """
    x, yv = checked_data(x, y)
    n = x.shape[0]
    n_runs = len(inits)
    if n_runs == 0:
        return []
    sizes = _sizes(inits[0], x.shape[1])
    for k, params in enumerate(inits[1:], start=1):
        other = _sizes(params, x.shape[1])
        if not np.array_equal(other, sizes):
            raise ValueError(f"run {k}: net {other.tolist()} differs from run 0's {sizes.tolist()}")
    hidden_code, out_code, loss_code, opt_code = checked_codes(
        activation, output_activation, loss, optimizer
    )
    lrs = np.array(_per_run(lr, n_runs, "lr", float), dtype=np.float64)
    if not (np.all(lrs > 0) and np.all(np.isfinite(lrs))):
        raise ValueError(
            f"lr must be positive numbers, got {lrs[~(lrs > 0) | ~np.isfinite(lrs)][0]}"
        )
    seeds = np.array(_per_run(seed, n_runs, "seed", int), dtype=np.int64)
    targets = np.array(
        [
            math.nan if t is None else float(t)
            for t in _per_run(target_loss, n_runs, "target_loss", float)
        ]
    )
    stops = np.array(_per_run(stop_at_target, n_runs, "stop_at_target", bool), dtype=np.bool_)
    check_schedule(epochs, batch_size)
    theta = np.stack([pack(params) for params in inits], axis=1)
    if not bias:
        for _, start, length in _bias_slices(sizes):
            theta[start : start + length] = 0.0
    theta_out = np.empty_like(theta)
    loss_out = np.empty((n_runs, epochs))
    acc_out = np.empty((n_runs, epochs))
    epochs_run = np.empty(n_runs, np.int64)
    convergence = np.empty(n_runs, np.int64)
    diverged = np.empty(n_runs, np.bool_)
    _train_many(
        np.ascontiguousarray(x.T),
        yv,
        sizes,
        np.ascontiguousarray(theta),
        lrs,
        seeds,
        targets,
        hidden_code,
        out_code,
        loss_code,
        opt_code,
        int(epochs),
        stops,
        n if batch_size is None else int(batch_size),
        bool(shuffle),
        bool(bias),
        theta_out,
        loss_out,
        acc_out,
        epochs_run,
        convergence,
        diverged,
    )
    return [
        TrainOutput(
            loss=loss_out[k, : epochs_run[k]].copy(),
            accuracy=acc_out[k, : epochs_run[k]].copy(),
            weights=unpack(theta_out[:, k], sizes),
            epochs_run=int(epochs_run[k]),
            convergence_epoch=None if convergence[k] < 0 else int(convergence[k]),
            diverged=bool(diverged[k]),
        )
        for k in range(n_runs)
    ]
