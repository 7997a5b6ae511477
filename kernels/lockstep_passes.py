"""Generic lockstep passes: one sample through any net, for runs in lanes.

Every array has a row per parameter or neuron and a column (lane) per run; every
innermost loop runs over the lanes ``[0, m)``. :func:`score` and :func:`learn` take
one sample; :func:`learn_set`, :func:`learn_picked` and :func:`sgd_online`, what
:mod:`kernels.lockstep_loop` calls, take a pass's samples (the last two score the
epoch's start weights as they go; :func:`score_set` scores a whole set). :mod:`kernels.codegen`
replaces those three, for one net and one choice of activation and loss, by
straight-line code that keeps a lane's neurons in registers (benchmarks/README.md,
"Many runs in lockstep"); these are the version for any net, and the reference the
generated code is tested against, bit for bit.
"""

import numpy as np
from numba import njit

from kernels.activations import activate_lanes, scale_by_derivative
from kernels.losses import BCE, MAE, MSE, softplus
from kernels.optimizers import sgd_lanes
from kernels.options import JIT_OPTIONS


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
def _inputs(xin: np.ndarray, a: np.ndarray, m: int) -> None:
    for k in range(xin.shape[0]):
        row, src = a[k], xin[k]
        for r in range(m):
            row[r] = src[r]


@njit(**JIT_OPTIONS)
def score(
    theta: np.ndarray,
    xin: np.ndarray,
    yl: np.ndarray,
    total: np.ndarray,
    correct: np.ndarray,
    inv_m: float,
    m: int,
    net: tuple,  # type: ignore[type-arg]
    work: tuple,  # type: ignore[type-arg]
) -> None:
    """One sample (``xin``, a row per input, ``yl`` its targets) forward in lanes ``[0, m)``:
    its loss and hit added to ``total``/``correct``, its output delta in ``work``.

    ``net`` is ``(sizes, woff, boff, roff, hidden_code, out_code, loss_code, use_bias)``,
    ``work`` the scratch ``(z, a, delta, bits, xin, yl, ...)`` (then the generated
    passes' rows for a group of samples, and two rows for sums nothing reads; ``xin``
    must keep one row per input).
    """
    sizes, woff, boff, roff, hidden_code, out_code, loss_code, _ = net
    z, a, delta, bits = work[0], work[1], work[2], work[3]
    out = a.shape[0] - 1
    _inputs(xin, a, m)
    forward_lanes(sizes, woff, boff, roff, theta, z, a, bits, hidden_code, out_code, m)
    loss_lanes(loss_code, out_code, z[out], a[out], yl, delta[out], total, correct, inv_m, m)


@njit(**JIT_OPTIONS)
def learn(
    theta: np.ndarray,
    grad: np.ndarray,
    xin: np.ndarray,
    yl: np.ndarray,
    total: np.ndarray,
    correct: np.ndarray,
    inv_m: float,
    m: int,
    net: tuple,  # type: ignore[type-arg]
    work: tuple,  # type: ignore[type-arg]
) -> None:
    """:func:`score`, then the sample's gradient added to ``grad`` (scaled by ``inv_m``)."""
    sizes, woff, boff, roff, hidden_code, _, _, use_bias = net
    a, delta = work[1], work[2]
    score(theta, xin, yl, total, correct, inv_m, m, net, work)
    backward_lanes(sizes, woff, boff, roff, theta, a, delta, grad, hidden_code, use_bias, m)


@njit(**JIT_OPTIONS)
def _sample_in_lanes(
    xt: np.ndarray, y: np.ndarray, s: int, xin: np.ndarray, yl: np.ndarray, m: int
) -> None:
    """Sample ``s`` of ``xt`` (a row per input) and its target in every lane ``[0, m)``."""
    for k in range(xt.shape[0]):
        xin[k, :m] = xt[k, s]
    yl[:m] = y[s]


@njit(**JIT_OPTIONS)
def _picked_in_lanes(
    xt: np.ndarray, y: np.ndarray, pick: np.ndarray, xin: np.ndarray, yl: np.ndarray, m: int
) -> None:
    """Sample ``pick[r]`` and its target in lane ``r``, for every lane ``[0, m)``."""
    for k in range(xt.shape[0]):
        row = xin[k]
        for r in range(m):
            row[r] = xt[k, pick[r]]
    for r in range(m):
        yl[r] = y[pick[r]]


@njit(**JIT_OPTIONS)
def score_set(
    theta: np.ndarray,
    xt: np.ndarray,
    y: np.ndarray,
    total: np.ndarray,
    correct: np.ndarray,
    inv_m: float,
    m: int,
    net: tuple,  # type: ignore[type-arg]
    work: tuple,  # type: ignore[type-arg]
) -> None:
    """Every sample of ``xt`` (a row per input) in order through :func:`score`, every lane."""
    xin, yl = work[4], work[5]
    for s in range(xt.shape[1]):
        _sample_in_lanes(xt, y, s, xin, yl, m)
        score(theta, xin, yl, total, correct, inv_m, m, net, work)


@njit(**JIT_OPTIONS)
def learn_set(
    theta: np.ndarray,
    grad: np.ndarray,
    xt: np.ndarray,
    y: np.ndarray,
    total: np.ndarray,
    correct: np.ndarray,
    inv_m: float,
    m: int,
    net: tuple,  # type: ignore[type-arg]
    work: tuple,  # type: ignore[type-arg]
) -> None:
    """Every sample of ``xt`` in order through :func:`learn`: a full batch's gradient."""
    xin, yl = work[4], work[5]
    for s in range(xt.shape[1]):
        _sample_in_lanes(xt, y, s, xin, yl, m)
        learn(theta, grad, xin, yl, total, correct, inv_m, m, net, work)


@njit(**JIT_OPTIONS)
def learn_each(
    theta: np.ndarray,
    grad: np.ndarray,
    xt: np.ndarray,
    y: np.ndarray,
    order: np.ndarray,
    start: int,
    stop: int,
    total: np.ndarray,
    correct: np.ndarray,
    inv_m: float,
    m: int,
    net: tuple,  # type: ignore[type-arg]
    work: tuple,  # type: ignore[type-arg]
) -> None:
    """Samples ``order[start:stop, r]`` through :func:`learn`, lane ``r`` its own."""
    xin, yl = work[4], work[5]
    for s in range(start, stop):
        _picked_in_lanes(xt, y, order[s], xin, yl, m)
        learn(theta, grad, xin, yl, total, correct, inv_m, m, net, work)


@njit(**JIT_OPTIONS)
def learn_picked(
    weights: np.ndarray,
    grad: np.ndarray,
    xt: np.ndarray,
    y: np.ndarray,
    order: np.ndarray,
    start: int,
    stop: int,
    scores: np.ndarray,
    inv_m: float,
    m: int,
    net: tuple,  # type: ignore[type-arg]
    work: tuple,  # type: ignore[type-arg]
) -> None:
    """A mini-batch, scored: ``weights`` holds theta's rows, then a copy of them from the
    epoch's start, which scores samples ``start`` to ``stop`` in order into ``scores``
    (total, correct); samples ``order[start:stop, r]`` (lane ``r`` its own) add their
    gradient of theta to ``grad``.

    The batches of an epoch score the whole set in order, the sums in the order
    :func:`score_set` adds them (the same bits); the generated version weaves the
    scoring into the learning pass.
    """
    n_params = weights.shape[0] // 2
    xin, yl = work[4], work[5]
    for s in range(start, stop):
        _sample_in_lanes(xt, y, s, xin, yl, m)
        score(weights[n_params:], xin, yl, scores[0], scores[1], inv_m, m, net, work)
    unused = work[8]  # the picked samples' own losses, not wanted
    learn_each(
        weights[:n_params],
        grad,
        xt,
        y,
        order,
        start,
        stop,
        unused[0],
        unused[1],
        inv_m,
        m,
        net,
        work,
    )


@njit(**JIT_OPTIONS)
def sgd_online(
    weights: np.ndarray,
    grad: np.ndarray,
    xt: np.ndarray,
    y: np.ndarray,
    order: np.ndarray,
    lr: np.ndarray,
    scores: np.ndarray,
    inv_n: float,
    m: int,
    net: tuple,  # type: ignore[type-arg]
    work: tuple,  # type: ignore[type-arg]
) -> None:
    """An epoch of online SGD, scored: ``weights`` holds theta's rows, then a copy of them
    from the epoch's start, which :func:`score_set` scores into ``scores`` (total,
    correct); then per sample ``order[s, r]``, its gradient and the update of theta.

    What batches of one sample through :func:`learn_each` and
    :func:`kernels.optimizers.step_lanes` do (the same bits); the generated version
    updates each parameter as soon as its gradient is known, without storing the
    gradient, and scores sample ``s`` in the same iteration.
    """
    n_params = weights.shape[0] // 2
    theta = weights[:n_params]
    score_set(weights[n_params:], xt, y, scores[0], scores[1], inv_n, m, net, work)
    unused = work[8]  # the updates' own losses, not wanted
    for s in range(xt.shape[1]):
        grad[:, :m] = 0.0
        learn_each(theta, grad, xt, y, order, s, s + 1, unused[0], unused[1], 1.0, m, net, work)
        sgd_lanes(theta, grad, lr, m)
