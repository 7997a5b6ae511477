"""Forward and backward passes over a batch of samples, by neuron or by sample
(see :mod:`kernels.mlp`).
"""

import numpy as np
from numba import njit

from kernels.activations import activate_row, scale_by_derivative
from kernels.mlp.layout import block, weights
from kernels.mlp.tiles import ONE, ZERO, mix_rows, outer_sums
from kernels.options import INTERNAL_OPTIONS, INTERNAL_REDUCE_OPTIONS


@njit(**INTERNAL_OPTIONS)
def z_by_neuron(
    sizes: np.ndarray, widths: np.ndarray, woff: np.ndarray, boff: np.ndarray, roff: np.ndarray,
    layer: int, theta: np.ndarray, pre: np.ndarray, act: np.ndarray,
) -> None:  # fmt: skip
    """Neuron-major ``z[j, s] = b[j] + sum_i W[i, j] a[i, s]`` of layer ``layer + 1``.

    The real neurons only: the padding rows are never written.
    """
    fan_in = sizes[layer]
    fan_out = sizes[layer + 1]
    first = roff[layer + 1]
    m = act.shape[1]
    for j in range(fan_out):
        z = pre[first + j]
        bj = theta[boff[layer] + j]
        for s in range(m):
            z[s] = bj
    stride = widths[layer + 1]
    mix_rows(act, roff[layer], fan_in, pre, first, fan_out, theta, woff[layer], stride, ONE, m)


@njit(**INTERNAL_OPTIONS)
def z_by_sample(
    sizes: np.ndarray, widths: np.ndarray, woff: np.ndarray, boff: np.ndarray, roff: np.ndarray,
    layer: int, theta: np.ndarray, pre: np.ndarray, act: np.ndarray,
) -> None:  # fmt: skip
    """Sample-major ``z[s, j] = b[j] + sum_i a[s, i] W[i, j]``: rows of W mixed by a[s, i].

    The rows run over the padded width (the padding columns of W and b are 0, so
    the padding neurons get z = 0), the sum over the real inputs ``i``. The output
    neuron (fan_out 1) is one dot product per sample instead.
    """
    fan_in = sizes[layer]
    width_in = widths[layer]
    width = widths[layer + 1]
    m = act.shape[1]
    bias = theta[boff[layer] : boff[layer] + width]
    a = block(act, roff[layer], width_in)
    if sizes[layer + 1] == 1:
        z = pre[roff[layer + 1]]
        w = theta[woff[layer] : woff[layer] + fan_in].reshape(1, fan_in)
        outer_sums(a, ZERO, m, w, ZERO, ONE, z, ZERO, ONE, fan_in)
        for s in range(m):
            z[s] += bias[0]
        return
    z = block(pre, roff[layer + 1], width)
    for s in range(m):  # element by element: an array assigned to a row compiles a
        row = z[s]  # shape check whose error message costs ~2.5 s of compile
        for j in range(width):
            row[j] = bias[j]
    w = weights(theta, woff, sizes, widths, layer)
    mix_rows(w, ZERO, fan_in, z, ZERO, m, act.reshape(-1), roff[layer] * m, ONE, width_in, width)


@njit(**INTERNAL_OPTIONS)
def forward(
    sizes: np.ndarray,
    widths: np.ndarray,
    woff: np.ndarray,
    boff: np.ndarray,
    roff: np.ndarray,
    theta: np.ndarray,
    pre: np.ndarray,
    act: np.ndarray,
    hidden_code: int,
    out_code: int,
    by_sample: bool,
) -> None:
    """Fill ``pre`` (z) and ``act`` (f(z)) of layers 1..L from the inputs in layer 0.

    Every column of the ``(n_rows, m)`` buffers is a sample (padding included), in
    the layout :func:`kernels.mlp.samples_outer` picks (``by_sample``). A layer's
    values are contiguous in either, so its activation runs as one long row of
    ``widths[l] * m`` values (padding neurons included).
    """
    m = act.shape[1]
    n_layers = sizes.shape[0] - 1
    for layer in range(n_layers):
        if by_sample:
            z_by_sample(sizes, widths, woff, boff, roff, layer, theta, pre, act)
        else:
            z_by_neuron(sizes, widths, woff, boff, roff, layer, theta, pre, act)
        first = roff[layer + 1]
        width = widths[layer + 1]
        code = out_code if layer == n_layers - 1 else hidden_code
        z = pre[first : first + width].reshape(-1)
        a = act[first : first + width].reshape(-1)
        activate_row(code, z, a, width * m)


@njit(**INTERNAL_REDUCE_OPTIONS)
def grads_by_neuron(
    sizes: np.ndarray, widths: np.ndarray, woff: np.ndarray, boff: np.ndarray, roff: np.ndarray,
    layer: int, act: np.ndarray, delta: np.ndarray, grad: np.ndarray,
) -> None:  # fmt: skip
    """Neuron-major ``db[j] = sum_s d[j, s]``, ``dW[i, j] = sum_s a[i, s] d[j, s]``."""
    fan_in = sizes[layer]
    fan_out = sizes[layer + 1]
    first = roff[layer + 1]
    m = act.shape[1]
    for j in range(fan_out):
        row = delta[first + j]
        acc = 0.0
        for s in range(m):
            acc += row[s]
        grad[boff[layer] + j] = acc
    stride = widths[layer + 1]
    outer_sums(act, roff[layer], fan_in, delta, first, fan_out, grad, woff[layer], stride, m)


@njit(**INTERNAL_REDUCE_OPTIONS)
def grads_by_sample(
    sizes: np.ndarray, widths: np.ndarray, woff: np.ndarray, boff: np.ndarray, roff: np.ndarray,
    layer: int, act: np.ndarray, delta: np.ndarray, grad: np.ndarray,
) -> None:  # fmt: skip
    """Sample-major ``db[j] = sum_s d[s, j]``, ``dW[i, j] = sum_s a[s, i] d[s, j]``.

    dW is built from rows of D mixed by the a[s, i] (for the output neuron, from
    rows of A mixed by the d[s]), so the inner loops run over neurons: over the
    padded width, whose deltas are 0 (their gradients are then 0 and the padding
    of theta stays 0), the sum over the samples.
    """
    fan_in = sizes[layer]
    fan_out = sizes[layer + 1]
    width_in = widths[layer]
    width = widths[layer + 1]
    first = roff[layer + 1]
    m = act.shape[1]
    d = block(delta, first, width)
    db = grad[boff[layer] : boff[layer] + width]
    db[:] = 0.0
    for s in range(m):
        for j in range(width):
            db[j] += d[s, j]
    dw = weights(grad, woff, sizes, widths, layer)
    dw[:] = 0.0
    if fan_out == 1:
        a = block(act, roff[layer], width_in)
        dw_row = dw.reshape(1, fan_in)
        mix_rows(a, ZERO, m, dw_row, ZERO, ONE, delta.reshape(-1), first * m, ONE, ZERO, fan_in)
    else:
        a_flat = act.reshape(-1)
        mix_rows(d, ZERO, m, dw, ZERO, fan_in, a_flat, roff[layer] * m, width_in, ONE, width)


@njit(**INTERNAL_OPTIONS)
def delta_back(
    sizes: np.ndarray, widths: np.ndarray, woff: np.ndarray, roff: np.ndarray, layer: int,
    theta: np.ndarray, delta: np.ndarray, by_sample: bool,
) -> None:  # fmt: skip
    """``delta_prev = W delta`` (before the derivative) into layer ``layer``'s rows.

    Neuron-major: rows of D mixed by W. Sample-major: one dot product per sample and
    neuron, (row s of D) . (row i of W), over the padded width (the padding of both
    is 0; over the 100 real neurons of a row the scalar remainder of 4 cost 18%: 21
    samples x 100 x 100, 11.4 -> 9.6 us a pass); for the output neuron, d[s] w[i].
    The padding neurons' deltas are never written (they stay 0).
    """
    fan_in = sizes[layer]
    fan_out = sizes[layer + 1]
    width_in = widths[layer]
    width = widths[layer + 1]
    first = roff[layer + 1]
    prev = roff[layer]
    m = delta.shape[1]
    if not by_sample:
        delta[prev : prev + fan_in] = 0.0
        mix_rows(delta, first, fan_out, delta, prev, fan_in, theta, woff[layer], ONE, width, m)
        return
    w = weights(theta, woff, sizes, widths, layer)
    if fan_out == 1:
        dp = block(delta, prev, width_in)
        dp[:] = 0.0
        w_row = w.reshape(1, fan_in)
        mix_rows(w_row, ZERO, ONE, dp, ZERO, m, delta.reshape(-1), first * m, ZERO, ONE, fan_in)
    else:
        d = block(delta, first, width)
        dp_flat = delta.reshape(-1)
        outer_sums(d, ZERO, m, w, ZERO, fan_in, dp_flat, prev * m, width_in, width)


@njit(**INTERNAL_OPTIONS)
def backward(
    sizes: np.ndarray,
    widths: np.ndarray,
    woff: np.ndarray,
    boff: np.ndarray,
    roff: np.ndarray,
    theta: np.ndarray,
    act: np.ndarray,
    delta: np.ndarray,
    grad: np.ndarray,
    hidden_code: int,
    use_bias: bool,
    by_sample: bool,
) -> None:
    """Gradients of every parameter into ``grad``, from the output row of ``delta``.

    ``delta`` holds dLoss/dz per neuron and sample, laid out like ``act`` (the
    layout :func:`kernels.mlp.samples_outer` picks, ``by_sample``); on entry only the
    output neuron's row is filled, and the padding neurons' deltas are 0.
    Backpropagation:
    dW[i, j] = sum_s a_prev[i, s] delta[j, s],  db[j] = sum_s delta[j, s],
    delta_prev[i, s] = f'(a_prev[i, s]) sum_j W[i, j] delta[j, s].
    """
    m = act.shape[1]
    n_layers = sizes.shape[0] - 1
    for layer in range(n_layers - 1, -1, -1):
        if by_sample:
            grads_by_sample(sizes, widths, woff, boff, roff, layer, act, delta, grad)
        else:
            grads_by_neuron(sizes, widths, woff, boff, roff, layer, act, delta, grad)
        if not use_bias:
            grad[boff[layer] : boff[layer] + sizes[layer + 1]] = 0.0
        if layer == 0:
            break
        delta_back(sizes, widths, woff, roff, layer, theta, delta, by_sample)
        prev = roff[layer]
        width_in = widths[layer]
        a = act[prev : prev + width_in].reshape(-1)
        dp = delta[prev : prev + width_in].reshape(-1)
        scale_by_derivative(hidden_code, a, dp, width_in * m)
