"""Generic lockstep passes: one sample through any net, for runs in lanes.

Every array has a row per parameter or neuron and a column (lane) per run; every
innermost loop runs over the lanes ``[0, m)``. :func:`score_lanes` takes one sample
(each lane its own, in the rows of ``xin`` and ``yl``) forward and scores it,
:func:`learn_lanes` adds its gradient too; :func:`full_batch`, :func:`mini_batch` and
:func:`online` feed them a pass's samples, each compiled on first use as a C function
the training loop (:mod:`kernels.lockstep_loop`) calls by address, as it calls a
generated pass. :mod:`kernels.codegen` writes the same operations out as
straight-line code for one net (its neurons in registers, benchmarks/README.md, "Many
runs in lockstep"); these passes serve any net and are the reference the generated
code is tested against, bit for bit.

Kept cheap to compile: every net larger than the generated passes' uses them, and a
sweep compiles them beside its training. A sample's pass is two compiled functions with
the choices (activation, loss) as integer codes, the small loops they are made of
inlined by Numba (one or two call sites each), the three passes compiled only for the
batch modes a process uses, and no Python wrapper on anything Python never calls.
"""

from typing import Any

import numpy as np
from numba import carray, cfunc, njit

from kernels.activations import (
    IDENTITY,
    LEAKY_RELU,
    LEAKY_SLOPE,
    RELU,
    SIGMOID,
    TANH,
    sigmoid_lane,
    tanh_lane,
)
from kernels.call import PASS_SIGNATURE
from kernels.lanes import FULL_BATCH, LANES, MINI_BATCH, NET_SHAPE, ONLINE
from kernels.losses import BCE, MAE, MSE, softplus
from kernels.optimizers import sgd_lanes
from kernels.options import CFUNC_OPTIONS, INTERNAL_OPTIONS, source_keyed_cache


@njit(inline="always", **INTERNAL_OPTIONS)
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
    ``acc + w * x`` in order, which ``contract`` fuses one way only.
    """
    k = 0
    while k + 4 <= count:
        x0, x1 = rows[first + k], rows[first + k + 1]
        x2, x3 = rows[first + k + 2], rows[first + k + 3]
        w = w_first + k * w_stride
        w0, w1 = theta[w], theta[w + w_stride]
        w2, w3 = theta[w + 2 * w_stride], theta[w + 3 * w_stride]
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


@njit(inline="always", **INTERNAL_OPTIONS)
def outer_lanes(
    grad: np.ndarray, g_first: int, x: np.ndarray, rows: np.ndarray, first: int, count: int, m: int
) -> None:
    """``grad[g_first + k] += x * rows[first + k]`` for k < ``count``, in lanes ``[0, m)``.

    Four gradient rows per pass, so each ``x`` is loaded once for four of them.
    """
    k = 0
    while k + 4 <= count:
        g0, g1 = grad[g_first + k], grad[g_first + k + 1]
        g2, g3 = grad[g_first + k + 2], grad[g_first + k + 3]
        d0, d1 = rows[first + k], rows[first + k + 1]
        d2, d3 = rows[first + k + 2], rows[first + k + 3]
        for r in range(m):
            v = x[r]
            g0[r] += v * d0[r]
            g1[r] += v * d1[r]
            g2[r] += v * d2[r]
            g3[r] += v * d3[r]
        k += 4
    while k < count:
        g = grad[g_first + k]
        d = rows[first + k]
        for r in range(m):
            g[r] += x[r] * d[r]
        k += 1


@njit(inline="always", **INTERNAL_OPTIONS)
def activate_rows(code: int, z: np.ndarray, a: np.ndarray, first: int, count: int, m: int) -> None:
    """``a = f(z)`` in rows ``first .. first + count`` and lanes ``[0, m)``.

    The lane formulas of :mod:`kernels.activations` at every length (a lane's value
    must not depend on how many runs share the call, so no libm for short rows).
    """
    for j in range(first, first + count):
        zj, aj = z[j], a[j]
        if code == SIGMOID:
            for r in range(m):
                aj[r] = sigmoid_lane(zj[r])
        elif code == TANH:
            for r in range(m):
                aj[r] = tanh_lane(zj[r])
        elif code == RELU:
            for r in range(m):
                aj[r] = zj[r] if zj[r] > 0.0 else 0.0
        elif code == LEAKY_RELU:
            for r in range(m):
                aj[r] = zj[r] if zj[r] > 0.0 else LEAKY_SLOPE * zj[r]
        else:
            for r in range(m):
                aj[r] = zj[r]


@njit(inline="always", **INTERNAL_OPTIONS)
def scale_rows(code: int, a: np.ndarray, delta: np.ndarray, first: int, count: int, m: int) -> None:
    """``delta *= f'(.)``, the derivative written in terms of the output ``a``, in rows
    ``first .. first + count`` and lanes ``[0, m)`` (as :func:`kernels.activations.scale_one`)."""
    if code == IDENTITY:
        return
    for j in range(first, first + count):
        aj, dj = a[j], delta[j]
        if code == SIGMOID:
            for r in range(m):
                dj[r] *= aj[r] * (1.0 - aj[r])
        elif code == TANH:
            for r in range(m):
                dj[r] *= 1.0 - aj[r] * aj[r]
        elif code == RELU:
            for r in range(m):
                dj[r] = dj[r] if aj[r] > 0.0 else 0.0
        else:
            for r in range(m):
                dj[r] = dj[r] if aj[r] > 0.0 else LEAKY_SLOPE * dj[r]


@njit(**INTERNAL_OPTIONS)
def score_lanes(
    theta: np.ndarray,
    xin: np.ndarray,
    yl: np.ndarray,
    total: np.ndarray,
    correct: np.ndarray,
    inv_m: float,
    m: int,
    sizes: np.ndarray,
    offsets: np.ndarray,
    codes: np.ndarray,
    neurons: np.ndarray,
) -> None:
    """One sample forward in lanes ``[0, m)`` through ``theta`` (a row per parameter):
    its loss and hit added to ``total``/``correct``, its delta at the output neuron's
    logit (scaled by ``inv_m``, before the output activation's derivative) in
    ``neurons[2]``.

    ``xin`` holds each lane's inputs (a row per input), ``yl`` its target; ``offsets``
    the rows of each layer's weights, biases and first neuron
    (:func:`kernels.lockstep.lane_layout`); ``codes`` the hidden and output activation
    and the loss; ``neurons`` z, a and delta, a row per neuron. The forward pass is
    ``z = b + sum_i W[i, j] a_i``, ``a = f(z)``.
    """
    woff, boff, roff = offsets[0], offsets[1], offsets[2]
    z, a, delta = neurons[0], neurons[1], neurons[2]
    hidden_code, out_code, loss_code = codes[0], codes[1], codes[2]
    n_layers = sizes.shape[0] - 1
    for k in range(sizes[0]):
        row, src = a[k], xin[k]
        for r in range(m):
            row[r] = src[r]
    for layer in range(n_layers):
        fan_out = sizes[layer + 1]
        first = roff[layer + 1]
        for j in range(fan_out):
            zj = z[first + j]
            b = theta[boff[layer] + j]
            for r in range(m):
                zj[r] = b[r]
            dot_lanes(zj, a, roff[layer], sizes[layer], theta, woff[layer] + j, fan_out, m)
        code = out_code if layer == n_layers - 1 else hidden_code
        activate_rows(code, z, a, first, fan_out, m)
    # The loss at the output and its delta at the logit (mse and mae at the output,
    # the derivative follows in learn_lanes; bce from the logit, no derivative).
    out = roff[n_layers]
    zo, yhat, do = z[out], a[out], delta[out]
    if loss_code == MSE:
        for r in range(m):
            d = yhat[r] - yl[r]
            total[r] += d * d
            do[r] = 2.0 * d * inv_m
    elif loss_code == MAE:
        for r in range(m):
            d = yhat[r] - yl[r]
            total[r] += abs(d)
            do[r] = (1.0 if d > 0.0 else (-1.0 if d < 0.0 else 0.0)) * inv_m
    else:
        for r in range(m):
            total[r] += softplus(zo[r]) - yl[r] * zo[r]
            do[r] = (yhat[r] - yl[r]) * inv_m
    for r in range(m):
        correct[r] += 1.0 if (yhat[r] > 0.5) == (yl[r] > 0.5) else 0.0


@njit(**INTERNAL_OPTIONS)
def learn_lanes(
    theta: np.ndarray,
    grad: np.ndarray,
    xin: np.ndarray,
    yl: np.ndarray,
    total: np.ndarray,
    correct: np.ndarray,
    inv_m: float,
    m: int,
    sizes: np.ndarray,
    offsets: np.ndarray,
    codes: np.ndarray,
    use_bias: bool,
    neurons: np.ndarray,
) -> None:
    """:func:`score_lanes`, then the sample's gradient added to ``grad``, from the old
    weights: dW[i, j] += a_i delta_j, db[j] += delta_j,
    delta_i = f'(a_i) sum_j W[i, j] delta_j."""
    score_lanes(theta, xin, yl, total, correct, inv_m, m, sizes, offsets, codes, neurons)
    woff, boff, roff = offsets[0], offsets[1], offsets[2]
    a, delta = neurons[1], neurons[2]
    n_layers = sizes.shape[0] - 1
    if codes[2] != BCE:
        scale_rows(codes[1], a, delta, roff[n_layers], 1, m)
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
        scale_rows(codes[0], a, delta, prev, fan_in, m)


@njit(**INTERNAL_OPTIONS)
def in_order(
    xt: np.ndarray, y: np.ndarray, s: int, xin: np.ndarray, yl: np.ndarray, m: int
) -> None:
    """Sample ``s`` of ``xt`` (a row per input) and its target in every lane ``[0, m)``."""
    for k in range(xt.shape[0]):
        row, v = xin[k], xt[k, s]
        for r in range(m):
            row[r] = v
    for r in range(m):
        yl[r] = y[s]


@njit(**INTERNAL_OPTIONS)
def picked(
    xt: np.ndarray, y: np.ndarray, pick: np.ndarray, xin: np.ndarray, yl: np.ndarray, m: int
) -> None:
    """Sample ``pick[r]`` and its target in lane ``r``, for every lane ``[0, m)``."""
    for k in range(xt.shape[0]):
        row = xin[k]
        for r in range(m):
            row[r] = xt[k, pick[r]]
    for r in range(m):
        yl[r] = y[pick[r]]


@njit(inline="always", **INTERNAL_OPTIONS)
def views(th, g, xt, y, order, lr, sc, xs, n, net, work):  # type: ignore[no-untyped-def]
    """The arrays behind a pass's pointers (:data:`kernels.call.PASS_SIGNATURE`)."""
    info = carray(net, NET_SHAPE)
    n_layers, n_params, n_rows, n_inputs = info[4, 4], info[4, 5], info[4, 6], info[4, 7]
    return (
        info[0, : n_layers + 1],
        info[1:4],
        info[4, :3],
        info[4, 3] != 0,
        carray(th, (2 * n_params, LANES)),
        carray(g, (n_params, LANES)),
        carray(xt, (n_inputs, n)),
        carray(y, (n,)),
        carray(order, (n, LANES)),
        carray(lr, (LANES,)),
        carray(sc, (2, LANES)),
        carray(xs, (n_inputs + 3, LANES)),
        carray(work, (3, n_rows, LANES)),
    )


def full_batch(th, g, xt, y, order, lr, sc, xs, yl, start, stop, n, m, inv_m, net, work):  # type: ignore[no-untyped-def]
    """The generic full-batch pass: every sample in order scored and learnt from."""
    sizes, offsets, codes, use_bias, weights, grad, xt, y, _, _, sc, samples, neurons = views(
        th, g, xt, y, order, lr, sc, xs, n, net, work
    )
    theta, xin = weights[: grad.shape[0]], samples[:-3]
    ylane = samples[-3]
    for s in range(n):
        in_order(xt, y, s, xin, ylane, m)
        learn_lanes(
            theta, grad, xin, ylane, sc[0], sc[1], inv_m, m, sizes, offsets, codes, use_bias,
            neurons,
        )  # fmt: skip


def mini_batch(th, g, xt, y, order, lr, sc, xs, yl, start, stop, n, m, inv_m, net, work):  # type: ignore[no-untyped-def]
    """The generic mini-batch pass: samples ``start .. stop`` in order scored at the
    epoch's start weights (rows ``n_params`` on), then each lane's picked samples
    ``order[start:stop, r]`` learnt from at the current ones."""
    sizes, offsets, codes, use_bias, weights, grad, xt, y, order, _, sc, samples, neurons = views(
        th, g, xt, y, order, lr, sc, xs, n, net, work
    )
    n_params = grad.shape[0]
    theta, start_copy, xin = weights[:n_params], weights[n_params:], samples[:-3]
    ylane, unused_total, unused_correct = samples[-3], samples[-2], samples[-1]
    for s in range(start, stop):
        in_order(xt, y, s, xin, ylane, m)
        score_lanes(start_copy, xin, ylane, sc[0], sc[1], inv_m, m, sizes, offsets, codes, neurons)
    for s in range(start, stop):
        picked(xt, y, order[s], xin, ylane, m)
        learn_lanes(
            theta, grad, xin, ylane, unused_total, unused_correct, inv_m, m, sizes, offsets,
            codes, use_bias, neurons,
        )  # fmt: skip


def online(th, g, xt, y, order, lr, sc, xs, yl, start, stop, n, m, inv_m, net, work):  # type: ignore[no-untyped-def]
    """The generic online SGD epoch: the start weights (rows ``n_params`` on) scored over
    the set, then per sample ``order[s, r]`` its gradient and the SGD update, as batches
    of one sample and :func:`kernels.optimizers.step_lanes` would (the same bits)."""
    sizes, offsets, codes, use_bias, weights, grad, xt, y, order, lr, sc, samples, neurons = views(
        th, g, xt, y, order, lr, sc, xs, n, net, work
    )
    n_params = grad.shape[0]
    theta, start_copy, xin = weights[:n_params], weights[n_params:], samples[:-3]
    ylane, unused_total, unused_correct = samples[-3], samples[-2], samples[-1]
    for s in range(n):
        in_order(xt, y, s, xin, ylane, m)
        score_lanes(start_copy, xin, ylane, sc[0], sc[1], 1.0, m, sizes, offsets, codes, neurons)
    for s in range(n):
        for k in range(n_params):
            row = grad[k]
            for r in range(m):
                row[r] = 0.0
        picked(xt, y, order[s], xin, ylane, m)
        learn_lanes(
            theta, grad, xin, ylane, unused_total, unused_correct, 1.0, m, sizes, offsets,
            codes, use_bias, neurons,
        )  # fmt: skip
        sgd_lanes(theta, grad, lr, m)


GENERIC = {FULL_BATCH: full_batch, MINI_BATCH: mini_batch, ONLINE: online}
_compiled: dict[int, int] = {}


def generic_address(mode: int) -> int:
    """The address of batch mode ``mode``'s generic pass, compiled (or loaded from the
    disk cache) on first use: a sweep of full-batch runs compiles no online pass."""
    if mode not in _compiled:
        with source_keyed_cache():
            compiled: Any = cfunc(PASS_SIGNATURE, **CFUNC_OPTIONS)(GENERIC[mode])
            _compiled[mode] = compiled.address
    return _compiled[mode]
