"""One run with the lockstep's bits, vectorised over its samples: what ``train_one`` uses.

A run in a sweep is trained in lockstep with others (:mod:`kernels.lockstep_loop`):
one sample at a time, a lane per run. Alone, the same run trained that way fills one
lane of 64 and pays the whole loop's overhead for it. Here one run's samples are the
vector instead: a sample's arithmetic does not depend on the other samples, so the
forward pass, the loss and the deltas run over all the samples of a pass at once (a
row per neuron, a column per sample), and only what sums over samples (the gradient,
the loss, the hits) is added in the lockstep's order, sample by sample. Every
operation is the lockstep's (the lane formulas of :mod:`kernels.activations`, the same
fused multiply-adds in the same order, :func:`kernels.optimizers.step` for the updates
and the fused SGD of :func:`kernels.optimizers.sgd_one`), so a run's result is the
same to the bit here and in a sweep (tested against the generic lockstep passes).

One compiled function with one signature (and the row helpers it calls, each with one
signature), every buffer made by :func:`train_one_lane`: a process that trains any
number of distinct nets this way compiles it once, in a few seconds.
"""

import math

import numpy as np
from numba import njit

from kernels.activations import activate_lanes, scale_by_derivative
from kernels.checks import (
    Params,
    TrainOutput,
    checked_run,
    run_output,
)
from kernels.lanes import FULL_BATCH, ONLINE, batch_mode
from kernels.lockstep import net_info
from kernels.losses import BCE, MAE, MSE, softplus
from kernels.optimizers import SGD, sgd_one, step
from kernels.options import INTERNAL_OPTIONS, JIT_OPTIONS
from kernels.rng import seed_states
from kernels.rng import shuffle as shuffle_order
from kernels.symmetry import spread

# Typed constants: a literal 0 or 1 argument would compile a callee once more for it.
ZERO = np.int64(0)
ONE = np.int64(1)


@njit(**INTERNAL_OPTIONS)
def forward_cols(theta: np.ndarray, net: np.ndarray, z: np.ndarray, a: np.ndarray, m: int) -> None:
    """Columns ``[0, m)`` of ``a`` (their inputs in its first rows) forward through
    ``theta``: ``z = b + W[0, j] a_0 + W[1, j] a_1 + ...`` in that order, ``a = f(z)``."""
    n_layers = net[4, 4]
    for layer in range(n_layers):
        fan_in, fan_out = net[0, layer], net[0, layer + 1]
        woff, boff, prev, first = net[1, layer], net[2, layer], net[3, layer], net[3, layer + 1]
        code = net[4, 1] if layer == n_layers - 1 else net[4, 0]
        for j in range(fan_out):
            zj = z[first + j]
            b = theta[boff + j]
            for s in range(m):
                zj[s] = b
            for k in range(fan_in):
                w = theta[woff + k * fan_out + j]
                ak = a[prev + k]
                for s in range(m):
                    zj[s] = zj[s] + w * ak[s]
            activate_lanes(code, zj, a[first + j], m)


@njit(**INTERNAL_OPTIONS)
def score_cols(
    net: np.ndarray,
    z: np.ndarray,
    a: np.ndarray,
    delta: np.ndarray,
    y: np.ndarray,
    inv_m: float,
    m: int,
    sums: np.ndarray,
) -> None:
    """Each column's loss and hit added to ``sums`` (total, correct) in column order,
    and its delta at the output logit (scaled by ``inv_m``) in ``delta``."""
    out, loss_code = net[3, net[4, 4]], net[4, 2]
    zo, yhat, do = z[out], a[out], delta[out]
    total, correct = sums[0], sums[1]
    if loss_code == MSE:
        for s in range(m):
            d = yhat[s] - y[s]
            total = total + d * d
            do[s] = 2.0 * d * inv_m
    elif loss_code == MAE:
        for s in range(m):
            d = yhat[s] - y[s]
            total = total + abs(d)
            do[s] = (1.0 if d > 0.0 else (-1.0 if d < 0.0 else 0.0)) * inv_m
    else:
        for s in range(m):
            total = total + (softplus(zo[s]) - y[s] * zo[s])
            do[s] = (yhat[s] - y[s]) * inv_m
    for s in range(m):
        correct += 1.0 if (yhat[s] > 0.5) == (y[s] > 0.5) else 0.0
    sums[0], sums[1] = total, correct


@njit(**INTERNAL_OPTIONS)
def add_products(
    g: np.ndarray,
    at: int,
    x: np.ndarray,
    first_x: int,
    rows: np.ndarray,
    first: int,
    fan_in: int,
    fan_out: int,
    m: int,
) -> None:
    """``g[at + i fan_out + j] += x[first_x + i][s] rows[first + j][s]`` for every
    ``i < fan_in``, ``j < fan_out``, s in order: four parameters at a time, so four
    sums run side by side however narrow the layer."""
    count = fan_in * fan_out
    p = 0
    while p + 4 <= count:
        x0, d0 = x[first_x + p // fan_out], rows[first + p % fan_out]
        x1, d1 = x[first_x + (p + 1) // fan_out], rows[first + (p + 1) % fan_out]
        x2, d2 = x[first_x + (p + 2) // fan_out], rows[first + (p + 2) % fan_out]
        x3, d3 = x[first_x + (p + 3) // fan_out], rows[first + (p + 3) % fan_out]
        g0, g1, g2, g3 = g[at + p], g[at + p + 1], g[at + p + 2], g[at + p + 3]
        for s in range(m):
            g0 += x0[s] * d0[s]
            g1 += x1[s] * d1[s]
            g2 += x2[s] * d2[s]
            g3 += x3[s] * d3[s]
        g[at + p], g[at + p + 1], g[at + p + 2], g[at + p + 3] = g0, g1, g2, g3
        p += 4
    while p < count:
        x0, d0 = x[first_x + p // fan_out], rows[first + p % fan_out]
        g0 = g[at + p]
        for s in range(m):
            g0 += x0[s] * d0[s]
        g[at + p] = g0
        p += 1


@njit(**INTERNAL_OPTIONS)
def backward_cols(
    theta: np.ndarray,
    grad: np.ndarray,
    net: np.ndarray,
    a: np.ndarray,
    delta: np.ndarray,
    ones: np.ndarray,
    m: int,
) -> None:
    """The gradient of columns ``[0, m)`` added to ``grad`` in column order, from the
    output delta :func:`score_cols` left: dW[i, j] += a_i delta_j, db[j] += delta_j,
    delta_i = f'(a_i) (0 + W[i, 0] delta_0 + W[i, 1] delta_1 + ...)."""
    n_layers = net[4, 4]
    if net[4, 2] != BCE:
        out = net[3, n_layers]
        scale_by_derivative(net[4, 1], a[out], delta[out], m)
    for layer in range(n_layers - 1, -1, -1):
        fan_in, fan_out = net[0, layer], net[0, layer + 1]
        woff, boff, prev, first = net[1, layer], net[2, layer], net[3, layer], net[3, layer + 1]
        if net[4, 3] != 0:  # bias: the products with a row of ones
            add_products(grad, boff, ones, ZERO, delta, first, ONE, fan_out, m)
        add_products(grad, woff, a, prev, delta, first, fan_in, fan_out, m)
        if layer == 0:
            break
        for i in range(fan_in):
            di = delta[prev + i]
            for s in range(m):
                di[s] = 0.0
            for j in range(fan_out):
                w = theta[woff + i * fan_out + j]
                dj = delta[first + j]
                for s in range(m):
                    di[s] = di[s] + w * dj[s]
            scale_by_derivative(net[4, 0], a[prev + i], di, m)


@njit(**JIT_OPTIONS)
def train_lane(
    xt: np.ndarray,
    y: np.ndarray,
    net: np.ndarray,
    schedule: np.ndarray,
    rates: np.ndarray,
    theta: np.ndarray,
    start: np.ndarray,
    grad: np.ndarray,
    s1: np.ndarray,
    s2: np.ndarray,
    full: np.ndarray,
    batch: np.ndarray,
    ybatch: np.ndarray,
    ones: np.ndarray,
    sums: np.ndarray,
    order: np.ndarray,
    state: np.ndarray,
    loss_out: np.ndarray,
    acc_out: np.ndarray,
    symmetry_out: np.ndarray,
    result: np.ndarray,
) -> None:
    """Train ``theta`` in place (see :func:`train_one_lane`).

    ``schedule``: optimizer code, epochs, batch size, shuffle; ``rates``: learning
    rate, target loss (NaN for none), whether to stop there. ``full`` and ``batch``:
    z, a and delta (a row per neuron, the inputs first, a column per sample) for the
    whole set (its inputs loaded once) and for one batch's picked samples. Out:
    ``result`` = epochs run, convergence epoch or -1, diverged; ``theta`` the weights
    that scored the last epoch when the run stopped, else the final ones.
    """
    n, n_inputs, n_params = xt.shape[1], xt.shape[0], grad.shape[0]
    opt_code, epochs, batch_size, shuffle = schedule[0], schedule[1], schedule[2], schedule[3]
    lr, target, stops = rates[0], rates[1], rates[2]
    mode = batch_mode(n, batch_size, opt_code)
    fz, fa, fd = full[0], full[1], full[2]
    bz, ba, bd = batch[0], batch[1], batch[2]
    for k in range(n_inputs):
        for s in range(n):
            fa[k, s] = xt[k, s]
    inv_n = 1.0 / n
    conv = -1
    t = 0
    for e in range(epochs):
        sums[0], sums[1] = 0.0, 0.0
        # The whole set in order scores the weights at the start of epoch e: in full
        # batch its gradient is the epoch's; else those weights are kept in ``start``.
        scored = theta
        if mode == FULL_BATCH:
            for k in range(n_params):
                grad[k] = 0.0
            forward_cols(theta, net, fz, fa, n)
            score_cols(net, fz, fa, fd, y, inv_n, n, sums)
            backward_cols(theta, grad, net, fa, fd, ones, n)
        else:
            for k in range(n_params):
                start[k] = theta[k]
            scored = start
            forward_cols(start, net, fz, fa, n)
            score_cols(net, fz, fa, fd, y, inv_n, n, sums)
            if shuffle:
                shuffle_order(order, state, 0)
            step_size = 1 if mode == ONLINE else batch_size
            for first in range(0, n, step_size):
                m = min(step_size, n - first)
                for k in range(n_params):
                    grad[k] = 0.0
                for c in range(m):
                    p = order[first + c]
                    for k in range(n_inputs):
                        ba[k, c] = xt[k, p]
                    ybatch[c] = y[p]
                forward_cols(theta, net, bz, ba, m)
                score_cols(net, bz, ba, bd, ybatch, 1.0 / m, m, sums[2:])
                backward_cols(theta, grad, net, ba, bd, ones, m)
                t += 1
                if opt_code == SGD:
                    for k in range(n_params):
                        theta[k] = sgd_one(theta[k], lr, grad[k])
                else:
                    step(opt_code, theta, grad, s1, s2, lr, t)
        loss = sums[0] * inv_n
        loss_out[e] = loss
        acc_out[e] = sums[1] / n
        for layer in range(symmetry_out.shape[1]):
            fan_in, fan_out = net[0, layer], net[0, layer + 1]
            symmetry_out[e, layer] = spread(
                scored, net[1, layer], fan_out, net[2, layer], fan_in, fan_out
            )
        stop_here = not math.isfinite(loss)
        if not stop_here and target == target and conv < 0 and loss < target:
            conv = e
            stop_here = stops != 0.0
        if stop_here:
            for k in range(n_params):
                theta[k] = scored[k]
            result[0], result[1], result[2] = e + 1, conv, 0 if math.isfinite(loss) else 1
            return
        if mode == FULL_BATCH:
            t += 1
            if opt_code == SGD:
                for k in range(n_params):
                    theta[k] = sgd_one(theta[k], lr, grad[k])
            else:
                step(opt_code, theta, grad, s1, s2, lr, t)
    result[0], result[1], result[2] = epochs, conv, 0


def train_one_lane(
    x: np.ndarray,
    y: np.ndarray,
    params: Params,
    *,
    activation: str = "sigmoid",
    output_activation: str = "sigmoid",
    loss: str = "mse",
    optimizer: str = "sgd",
    lr: float = 0.1,
    epochs: int = 10_000,
    target_loss: float | None = None,
    stop_at_target: bool = True,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
    bias: bool = True,
) -> TrainOutput:
    """One run, as :func:`kernels.train.train` takes it, with the bits it gets in a sweep
    (:func:`kernels.lockstep.train_many`), vectorised over its samples."""
    names = (activation, output_activation, loss, optimizer)
    x, yv, sizes, codes, theta = checked_run(x, y, params, names, lr, epochs, batch_size, bias)
    n = x.shape[0]
    size = n if batch_size is None else int(batch_size)
    net = net_info(sizes, codes[:3], bool(bias))
    n_rows, width = int(np.sum(sizes)), max(1, min(size, n))
    loss_out, acc_out = np.empty(epochs), np.empty(epochs)
    symmetry_out = np.empty((epochs, len(sizes) - 2))
    result = np.zeros(3, np.int64)
    state = seed_states(seed)
    train_lane(
        np.ascontiguousarray(x.T),
        yv,
        net,
        np.array([codes[3], epochs, size, bool(shuffle)], np.int64),
        np.array([lr, math.nan if target_loss is None else target_loss, bool(stop_at_target)]),
        theta,
        np.empty_like(theta),
        np.zeros_like(theta),
        np.zeros_like(theta),
        np.zeros_like(theta),
        np.zeros((3, n_rows, n)),
        np.zeros((3, n_rows, width)),
        np.zeros(width),
        np.ones((1, n)),
        np.zeros(4),
        np.arange(n, dtype=np.int64),
        state,
        loss_out,
        acc_out,
        symmetry_out,
        result,
    )
    return run_output((loss_out, acc_out, symmetry_out), theta, sizes, result)
