"""The lockstep training loop: up to :data:`LANES` runs of one net, every epoch, one call.

One compiled loop serves every net. Each epoch calls the pass of its batch mode: the
generic one (:mod:`kernels.lockstep_passes`, sample by sample, any net) or the one
generated for the net (:mod:`kernels.codegen`), each a C function of its own called by
address (:mod:`kernels.call`): a net adds one pass to compile, not a copy of this loop.
Both give the same bits. Every buffer is made by the caller
(:func:`kernels.lockstep.train_many`), so the loop allocates nothing.

Conventions as :mod:`kernels.train`: ``loss[e]`` scores the weights at the start of
epoch ``e`` on the whole set; full batch reuses that pass's gradient, mini-batch
training and online training score a copy of those weights as they update; a run
stops at its target (when it stops there) or at its first non-finite loss, keeping
the weights that scored it. A stopped lane is swapped with the last active one, so the
loops cover the live runs ``[0, active)``.
"""

import math

import numpy as np
from numba import njit

from kernels.call import call_pass
from kernels.lanes import FULL_BATCH, GROUP, MINI_BATCH, ONLINE, batch_mode
from kernels.optimizers import step_lanes
from kernels.options import INTERNAL_OPTIONS, JIT_OPTIONS
from kernels.rng import shuffle_lanes


@njit(**INTERNAL_OPTIONS)
def swap_columns(arr: np.ndarray, r: int, q: int) -> None:
    """Exchange lanes ``r`` and ``q`` of a 2-D lane array."""
    for k in range(arr.shape[0]):
        arr[k, r], arr[k, q] = arr[k, q], arr[k, r]


@njit(**INTERNAL_OPTIONS)
def zero_rows(arr: np.ndarray, m: int) -> None:
    """``arr[:, :m] = 0``."""
    for k in range(arr.shape[0]):
        row = arr[k]
        for r in range(m):
            row[r] = 0.0


@njit(**INTERNAL_OPTIONS)
def spread_lanes(
    weights: np.ndarray, base: int, net: np.ndarray, layer: int, work: np.ndarray, m: int
) -> None:
    """``work[0, :m]``: how far apart the units of ``layer`` are, per lane: the largest
    difference between two of its units' incoming weights (bias included), 0 when they
    are all equal (the symmetry an all-zero init never breaks); ``work[1:3]`` scratch.

    The rows of the flat layout (:func:`kernels.checks.pack`) that hold each input's
    weights, then the biases, are scanned in order, each value compared with ``>`` and
    ``<``, as every kernel scans them (:func:`kernels.symmetry.spread`), so the measure
    has the bits of the run whichever kernel trained it.
    """
    spread, hi, lo = work[0], work[1], work[2]
    fan_in, fan_out, first = net[0, layer], net[0, layer + 1], base + net[1, layer]
    for r in range(m):
        spread[r] = 0.0
    for row in range(fan_in + 1):  # the weights of input ``row``; the last: the biases
        q = first + row * fan_out
        src = weights[q]
        for r in range(m):
            hi[r] = src[r]
            lo[r] = src[r]
        for j in range(1, fan_out):
            src = weights[q + j]
            for r in range(m):
                v = src[r]
                hi[r] = v if v > hi[r] else hi[r]
                lo[r] = v if v < lo[r] else lo[r]
        for r in range(m):
            d = hi[r] - lo[r]
            spread[r] = d if d > spread[r] else spread[r]


@njit(**JIT_OPTIONS)
def train_lanes(
    xt: np.ndarray,
    y: np.ndarray,
    net: np.ndarray,
    opt_code: int,
    epochs: int,
    batch_size: int,
    shuffle_batches: bool,
    use_bias: bool,
    pass_address: int,
    n_runs: int,
    weights: np.ndarray,
    grad: np.ndarray,
    moments: np.ndarray,
    scores: np.ndarray,
    neurons: np.ndarray,
    group: np.ndarray,
    lane_f: np.ndarray,
    lane_i: np.ndarray,
    state: np.ndarray,
    order: np.ndarray,
    theta_out: np.ndarray,
    loss_out: np.ndarray,
    acc_out: np.ndarray,
    symmetry_out: np.ndarray,
    epochs_run: np.ndarray,
    convergence: np.ndarray,
    diverged: np.ndarray,
) -> None:
    """Train the ``n_runs`` runs in the first columns of ``weights`` in lockstep.

    In: ``net``, the net as the passes read it (:func:`kernels.lockstep.net_info`);
    ``pass_address``, the address of the batch mode's pass, generic
    (:func:`kernels.lockstep_passes.generic_address`) or generated for the net
    (:mod:`kernels.specialised`). The buffers, a column per lane: ``weights`` (the
    weights, then a copy of them at the epoch's start), ``grad``, ``moments`` (the
    optimizer's two state arrays), ``scores`` (total, correct), ``neurons`` (z, a,
    delta: a row per neuron), ``group`` (a group of picked samples' inputs, a row per
    input and sample, then their targets; the generic passes use its first rows for
    one sample's inputs, its target and two rows of sums nothing reads), ``lane_f``
    (learning rate, target loss or NaN, whether to stop there, three scratch rows),
    ``lane_i`` (the run in the lane, its convergence epoch or -1, a scratch row),
    ``state`` (each lane's shuffle generator), ``order`` (each lane's sample order).
    Out, per run ``k``: its final weights (``theta_out[:, k]``), curves
    (``loss_out[k, :epochs_run[k]]``, and ``symmetry_out[k, e, l]``, hidden layer
    ``l``'s :func:`spread_lanes` at the weights that scored epoch ``e``), convergence
    epoch (-1 for never) and whether it diverged.
    """
    n = xt.shape[1]
    n_params = grad.shape[0]
    theta, start = weights[:n_params], weights[n_params:]
    s1, s2 = moments[0], moments[1]
    total, correct = scores[0], scores[1]
    xs, ygroup = group[:-GROUP], group[-GROUP:]
    lr, target, stops, scratch = lane_f[0], lane_f[1], lane_f[2], lane_f[3]
    run, conv, picks = lane_i[0], lane_i[1], lane_i[2]
    mode = batch_mode(n, batch_size, opt_code)
    inv_n = 1.0 / n
    active = n_runs
    t = 0
    for e in range(epochs):
        for r in range(active):
            total[r] = 0.0
            correct[r] = 0.0
        # The whole set in order scores the weights at the start of epoch e: in full
        # batch it is the epoch's gradient; else it goes along in the passes that
        # update, from a copy of those weights (rows n_params on of ``weights``).
        if mode == FULL_BATCH:
            zero_rows(grad, active)
            call_pass(
                pass_address,
                (weights, grad, xt, y, order, lr, scores, xs, ygroup, 0, n, n, active, inv_n)
                + (net, neurons),
            )
        else:
            if shuffle_batches:
                shuffle_lanes(order, state, picks, active)
            for k in range(n_params):
                src, dst = theta[k], start[k]
                for r in range(active):
                    dst[r] = src[r]
        if mode == ONLINE:
            call_pass(
                pass_address,
                (weights, grad, xt, y, order, lr, scores, xs, ygroup, 0, n, n, active, 1.0)
                + (net, neurons),
            )
            t += n
        elif mode == MINI_BATCH:
            for first in range(0, n, batch_size):
                m = min(batch_size, n - first)
                zero_rows(grad, active)
                call_pass(
                    pass_address,
                    (weights, grad, xt, y, order, lr, scores, xs, ygroup, first, first + m)
                    + (n, active, 1.0 / m, net, neurons),
                )
                t += 1
                step_lanes(opt_code, theta, grad, s1, s2, lr, t, scratch, active)
        base = 0 if mode == FULL_BATCH else n_params  # the weights that scored epoch e
        for layer in range(symmetry_out.shape[2]):
            spread_lanes(weights, base, net, layer, lane_f[3:], active)
            for r in range(active):
                symmetry_out[run[r], e, layer] = lane_f[3, r]
        # Record, then retire the lanes that stop here (from the last down, each
        # replaced by the last active lane, which has been looked at already).
        for r in range(active - 1, -1, -1):
            k = run[r]
            loss = total[r] * inv_n
            loss_out[k, e] = loss
            acc_out[k, e] = correct[r] / n
            stop_here = not math.isfinite(loss)
            if not stop_here and target[r] == target[r] and conv[r] < 0 and loss < target[r]:
                conv[r] = e
                stop_here = stops[r] != 0.0
            if not stop_here:
                continue
            for p in range(n_params):
                theta_out[p, k] = weights[base + p, r]
            epochs_run[k] = e + 1
            convergence[k] = conv[r]
            diverged[k] = not math.isfinite(loss)
            active -= 1
            if r != active:
                swap_columns(weights, r, active)
                swap_columns(moments[0], r, active)
                swap_columns(moments[1], r, active)
                swap_columns(grad, r, active)
                swap_columns(order, r, active)
                swap_columns(lane_f, r, active)
                swap_columns(lane_i[:2], r, active)
                state[r], state[active] = state[active], state[r]
        if active == 0:
            return
        if mode == FULL_BATCH:
            t += 1
            step_lanes(opt_code, theta, grad, s1, s2, lr, t, scratch, active)
    for r in range(active):
        k = run[r]
        for p in range(n_params):
            theta_out[p, k] = weights[p, r]
        epochs_run[k] = epochs
        convergence[k] = conv[r]
        diverged[k] = False
