"""The lockstep training loop: up to :data:`LANES` runs of one net, every epoch, one call.

This file is also the template :mod:`kernels.codegen` compiles once per net: it swaps
the import of the generic per-sample passes (the line :data:`PASSES_IMPORT`) for
straight-line ones generated for that net. As it stands it is the generic kernel,
for any net.

Conventions as :mod:`kernels.train`: ``loss[e]`` scores the weights at the start of
epoch ``e`` on the whole set; full batch reuses that pass's gradient, mini-batch
training and online training score a copy of those weights in the passes that
update; a run stops at its target (when it stops there) or
at its first non-finite loss, keeping the weights that scored it. A stopped lane is
swapped with the last active one, so the loops cover the live runs ``[0, active)``.
"""

import math

import numpy as np
from numba import njit
from numba.extending import register_jitable

from kernels.lockstep_passes import learn_picked, learn_set, sgd_online
from kernels.mlp import layout
from kernels.optimizers import SGD, step_lanes
from kernels.options import JIT_OPTIONS
from kernels.rng import seed_state, shuffle_lanes

LANES = 64  # runs per call: the stride of every lane array (a constant in generated code)
GROUP = 4  # samples per iteration of the generated learning passes' loop over lanes
PASSES_IMPORT = "from kernels.lockstep_passes import learn_picked, learn_set, sgd_online\n"
# How an epoch learns, which decides the passes it calls (see batch_mode).
FULL_BATCH = 0  # learn_set: the scoring pass is the gradient, one update
MINI_BATCH = 1  # learn_picked and an update per mini-batch, scoring the epoch's start
ONLINE = 2  # sgd_online: plain SGD, an update per sample, scoring the epoch's start
BATCH_MODES = ("full batch", "mini-batch", "online")


@register_jitable
def batch_mode(n: int, batch_size: int, opt_code: int) -> int:
    """:data:`FULL_BATCH`, :data:`MINI_BATCH` or :data:`ONLINE`: which passes an epoch
    of ``n`` samples in batches of ``batch_size`` with optimizer ``opt_code`` calls."""
    if batch_size >= n:
        return FULL_BATCH
    if batch_size == 1 and opt_code == SGD:
        return ONLINE
    return MINI_BATCH


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
def train_lanes(
    xt: np.ndarray,
    y: np.ndarray,
    sizes: np.ndarray,
    theta_in: np.ndarray,
    lr_in: np.ndarray,
    seeds: np.ndarray,
    target_in: np.ndarray,
    stops_in: np.ndarray,
    hidden_code: int,
    out_code: int,
    loss_code: int,
    opt_code: int,
    epochs: int,
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
    """Train the runs of ``theta_in``'s columns (at most :data:`LANES`) in lockstep.

    Per run ``k`` (a column of every ``(.., R)`` argument, an entry of every ``(R,)``
    one): its learning rate, shuffle seed, target loss (NaN for none) and whether to
    stop there in; its final weights (``theta_out[:, k]``), curves
    (``loss_out[k, :epochs_run[k]]``), convergence epoch (-1 for never) and whether it
    diverged out.
    """
    n_inputs, n = xt.shape
    n_runs = theta_in.shape[1]
    woff, boff, roff, n_params, n_rows = layout(sizes)
    net = (sizes, woff, boff, roff, hidden_code, out_code, loss_code, use_bias)
    work = (
        np.zeros((n_rows, LANES)),
        np.zeros((n_rows, LANES)),
        np.zeros((n_rows, LANES)),
        np.zeros(n_rows * LANES, np.int64),
        np.zeros((n_inputs, LANES)),
        np.zeros(LANES),
        np.zeros((GROUP * n_inputs, LANES)),  # a group of picked samples' inputs and
        np.zeros(GROUP * LANES),  # targets, a row per sample (generated passes only)
        np.zeros((2, LANES)),  # sums the generic passes make and nothing reads
    )
    # The weights, then (mini-batch, online) a copy of them at the start of the epoch:
    # one array, so the generated passes read both from one base (no alias checks).
    weights = np.zeros((2 * n_params, LANES))
    theta, start = weights[:n_params], weights[n_params:]
    theta[:, :n_runs] = theta_in
    grad = np.zeros((n_params, LANES))
    s1 = np.zeros((n_params, LANES))
    s2 = np.zeros((n_params, LANES))
    scores = np.zeros((2, LANES))  # one array for the same reason
    total, correct = scores[0], scores[1]
    scratch = np.zeros(LANES)
    # Per-lane state that moves with its run when lanes are compacted.
    run = np.arange(LANES)
    conv = np.full(LANES, -1, np.int64)
    lr = np.zeros(LANES)
    lr[:n_runs] = lr_in
    target = np.full(LANES, math.nan)
    target[:n_runs] = target_in
    stops = np.zeros(LANES, np.bool_)
    stops[:n_runs] = stops_in
    state = np.zeros(LANES, np.uint64)
    for r in range(n_runs):
        state[r] = seed_state(seeds[r])
    order = np.empty((n, LANES), np.int64)
    picks = np.empty(LANES, np.int64)
    for s in range(n):
        order[s] = s
    mode = batch_mode(n, batch_size, opt_code)
    inv_n = 1.0 / n
    active = n_runs
    t = 0
    for e in range(epochs):
        total[:active] = 0.0
        correct[:active] = 0.0
        # The whole set in order scores the weights at the start of epoch e: in full
        # batch it is the epoch's gradient; else it goes along in the passes that
        # update (independent chains for the core), from a copy of those weights, each
        # batch's samples in order with the batch.
        if mode == FULL_BATCH:
            grad[:, :active] = 0.0
            learn_set(theta, grad, xt, y, total, correct, inv_n, active, net, work)
        else:
            if shuffle_batches:
                shuffle_lanes(order, state, picks, active)
            start[:, :active] = theta[:, :active]
        if mode == ONLINE:
            sgd_online(weights, grad, xt, y, order, lr, scores, inv_n, active, net, work)
            t += n
        elif mode == MINI_BATCH:
            for first in range(0, n, batch_size):
                m = min(batch_size, n - first)
                grad[:, :active] = 0.0
                stop = first + m
                learn_picked(
                    weights, grad, xt, y, order, first, stop, scores, 1.0 / m, active, net, work
                )
                t += 1
                step_lanes(opt_code, theta, grad, s1, s2, lr, t, scratch, active)
        scored = theta if mode == FULL_BATCH else start
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
            theta_out[:, k] = scored[:, r]
            epochs_run[k] = e + 1
            convergence[k] = conv[r]
            diverged[k] = not math.isfinite(loss)
            active -= 1
            if r != active:
                for arr in (weights, s1, s2, grad):
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
        if mode == FULL_BATCH:
            t += 1
            step_lanes(opt_code, theta, grad, s1, s2, lr, t, scratch, active)
    for r in range(active):
        k = run[r]
        theta_out[:, k] = theta[:, r]
        epochs_run[k] = epochs
        convergence[k] = conv[r]
        diverged[k] = False
