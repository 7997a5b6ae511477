"""The forward and backward pass of one sample, for online training (see
:mod:`kernels.mlp`): a value per neuron, no loop over samples.
"""

import numpy as np
from numba import njit

from kernels.activations import SHORT_ROW, activate_one, activate_row, scale_one
from kernels.options import INTERNAL_OPTIONS, INTERNAL_REDUCE_OPTIONS


@njit(**INTERNAL_OPTIONS)
def forward_one(
    sizes: np.ndarray,
    widths: np.ndarray,
    woff: np.ndarray,
    boff: np.ndarray,
    roff: np.ndarray,
    theta: np.ndarray,
    z: np.ndarray,
    a: np.ndarray,
    hidden_code: int,
    out_code: int,
) -> None:
    """:func:`forward` for one sample (online training): ``z``, ``a`` hold a value per neuron.

    With a single sample the tiled routines are mostly set-up (about 50 ns a call
    for 4 neurons). A wide layer runs ``z += a_i W[i, :]`` along rows of W, which
    still vectorises; a layer under :data:`kernels.activations.SHORT_ROW` neurons
    takes one neuron at a time, its sum in a register and its activation inlined
    (an ``activate_row`` call on 4 values is mostly set-up too). Measured, online
    epoch of a 2-4-4-1 net on 100 samples: 110 us through the tiled passes, 40 us
    along rows of W, 30 us one neuron at a time (benchmarks/README.md). Real
    neurons only: the padding of :func:`strided_layout` is skipped.
    """
    n_layers = sizes.shape[0] - 1
    for layer in range(n_layers):
        fan_in = sizes[layer]
        fan_out = sizes[layer + 1]
        stride = widths[layer + 1]
        first = roff[layer + 1]
        code = out_code if layer == n_layers - 1 else hidden_code
        if fan_out < SHORT_ROW:
            # A narrow layer: one neuron at a time, its sum in a register and its
            # activation inlined (no row loops to set up).
            prev = roff[layer]
            for j in range(fan_out):
                acc = theta[boff[layer] + j]
                for i in range(fan_in):
                    acc += a[prev + i] * theta[woff[layer] + i * stride + j]
                z[first + j] = acc
                a[first + j] = activate_one(code, acc)
            continue
        zl = z[first : first + fan_out]
        for j in range(fan_out):  # not zl[:] = ...: see kernels.mlp.passes.z_by_sample
            zl[j] = theta[boff[layer] + j]
        for i in range(fan_in):
            ai = a[roff[layer] + i]
            w = theta[woff[layer] + i * stride : woff[layer] + i * stride + fan_out]
            for j in range(fan_out):
                zl[j] += ai * w[j]
        activate_row(code, zl, a[first : first + fan_out], fan_out)


@njit(**INTERNAL_REDUCE_OPTIONS)
def backward_one(
    sizes: np.ndarray,
    widths: np.ndarray,
    woff: np.ndarray,
    boff: np.ndarray,
    roff: np.ndarray,
    theta: np.ndarray,
    a: np.ndarray,
    delta: np.ndarray,
    grad: np.ndarray,
    hidden_code: int,
    use_bias: bool,
) -> None:
    """:func:`backward` for one sample: dW[i, :] = a_i delta, delta_prev_i = W[i, :] . delta."""
    n_layers = sizes.shape[0] - 1
    for layer in range(n_layers - 1, -1, -1):
        fan_in = sizes[layer]
        fan_out = sizes[layer + 1]
        stride = widths[layer + 1]
        d = delta[roff[layer + 1] : roff[layer + 1] + fan_out]
        db = grad[boff[layer] : boff[layer] + fan_out]
        for j in range(fan_out):
            db[j] = d[j] if use_bias else 0.0
        prev = roff[layer]
        for i in range(fan_in):
            ai = a[prev + i]
            start = woff[layer] + i * stride
            dw = grad[start : start + fan_out]
            for j in range(fan_out):
                dw[j] = ai * d[j]
        if layer == 0:
            break
        for i in range(fan_in):
            start = woff[layer] + i * stride
            w = theta[start : start + fan_out]
            acc = 0.0
            for j in range(fan_out):
                acc += w[j] * d[j]
            delta[prev + i] = scale_one(hidden_code, a[prev + i], acc)
