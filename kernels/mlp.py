"""Forward and backward passes of a fully connected net, explicit per-neuron loops.

Layout (chosen for speed, see benchmarks/README.md): all parameters are one flat
vector ``theta``; layer ``l`` maps ``sizes[l]`` inputs to ``sizes[l+1]`` outputs with
``W[i, j] = theta[woff[l] + i * sizes[l+1] + j]`` (``W`` shaped ``(fan_in, fan_out)``,
``z = a_prev @ W + b``) followed by ``b[j] = theta[boff[l] + j]``.

Activations are stored *neurons outside, samples inside*: neuron ``j`` of layer ``l``
holds its ``m`` samples contiguously at ``act[aoff[l] + j * cap + s]``. With 4 hidden
units a loop over neurons is too short to vectorise while a loop over 100 samples is
not, so every innermost loop here runs over samples.
"""

import numpy as np
from numba import njit

from kernels.activations import activate_row, scale_by_derivative
from kernels.options import JIT_OPTIONS


@njit(**JIT_OPTIONS)
def layout(sizes: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Offsets of every layer's weights, biases and activation rows; total sizes."""
    n_layers = sizes.shape[0] - 1
    woff = np.empty(n_layers, np.int64)
    boff = np.empty(n_layers, np.int64)
    aoff = np.empty(n_layers + 1, np.int64)
    p = 0
    for layer in range(n_layers):
        woff[layer] = p
        p += sizes[layer] * sizes[layer + 1]
        boff[layer] = p
        p += sizes[layer + 1]
    a = 0
    for layer in range(n_layers + 1):
        aoff[layer] = a
        a += sizes[layer] * cap
    return woff, boff, aoff, p, a


@njit(**JIT_OPTIONS)
def forward(
    sizes: np.ndarray,
    woff: np.ndarray,
    boff: np.ndarray,
    aoff: np.ndarray,
    cap: int,
    m: int,
    theta: np.ndarray,
    pre: np.ndarray,
    act: np.ndarray,
    hidden_code: int,
    out_code: int,
) -> None:
    """Fill ``pre`` (z) and ``act`` (f(z)) of layers 1..L for the ``m`` samples in layer 0."""
    n_layers = sizes.shape[0] - 1
    for layer in range(n_layers):
        fan_in = sizes[layer]
        fan_out = sizes[layer + 1]
        code = out_code if layer == n_layers - 1 else hidden_code
        for j in range(fan_out):
            zo = aoff[layer + 1] + j * cap
            bj = theta[boff[layer] + j]
            for s in range(m):
                pre[zo + s] = bj
            for i in range(fan_in):
                w = theta[woff[layer] + i * fan_out + j]
                ao = aoff[layer] + i * cap
                for s in range(m):
                    pre[zo + s] += w * act[ao + s]
            activate_row(code, pre, act, zo, m)


@njit(**JIT_OPTIONS)
def backward(
    sizes: np.ndarray,
    woff: np.ndarray,
    boff: np.ndarray,
    aoff: np.ndarray,
    cap: int,
    m: int,
    theta: np.ndarray,
    act: np.ndarray,
    delta: np.ndarray,
    grad: np.ndarray,
    hidden_code: int,
    use_bias: bool,
) -> None:
    """Gradients of every parameter into ``grad``, from the output rows of ``delta``.

    ``delta`` holds dLoss/dz per neuron and sample, laid out like ``act``; on entry
    only the output layer's row is filled. Backpropagation:
    dW[i, j] = sum_s a_prev[i, s] delta[j, s],  db[j] = sum_s delta[j, s],
    delta_prev[i, s] = f'(a_prev[i, s]) sum_j W[i, j] delta[j, s].
    """
    n_layers = sizes.shape[0] - 1
    for layer in range(n_layers - 1, -1, -1):
        fan_in = sizes[layer]
        fan_out = sizes[layer + 1]
        for j in range(fan_out):
            do = aoff[layer + 1] + j * cap
            acc = 0.0
            for s in range(m):
                acc += delta[do + s]
            grad[boff[layer] + j] = acc if use_bias else 0.0
            for i in range(fan_in):
                ao = aoff[layer] + i * cap
                acc = 0.0
                for s in range(m):
                    acc += act[ao + s] * delta[do + s]
                grad[woff[layer] + i * fan_out + j] = acc
        if layer == 0:
            break
        for i in range(fan_in):
            po = aoff[layer] + i * cap
            for s in range(m):
                delta[po + s] = 0.0
            for j in range(fan_out):
                w = theta[woff[layer] + i * fan_out + j]
                do = aoff[layer + 1] + j * cap
                for s in range(m):
                    delta[po + s] += w * delta[do + s]
            scale_by_derivative(hidden_code, act, delta, po, m)
