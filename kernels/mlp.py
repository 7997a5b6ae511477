"""Forward and backward passes of a fully connected net, explicit per-neuron loops.

Layout (chosen for speed, see benchmarks/README.md): all parameters are one flat
vector ``theta``; layer ``l`` maps ``sizes[l]`` inputs to ``sizes[l+1]`` outputs with
``W[i, j] = theta[woff[l] + i * sizes[l+1] + j]`` (``W`` shaped ``(fan_in, fan_out)``,
``z = a_prev @ W + b``) followed by ``b[j] = theta[boff[l] + j]``.

Activations are stored *neurons outside, samples inside*: one 2-D buffer with a row
per neuron of the whole net (layer ``l``'s neuron ``j`` is row ``roff[l] + j``) and a
column per sample. With 4 hidden units a loop over neurons is too short to vectorise
while a loop over 100 samples is not, so every innermost loop here runs over the
samples of one row. (Indexing one flat buffer at computed offsets instead measured
8x slower: Numba's negative-index wraparound on a computed index blocks
vectorisation, while a row view indexed by the ``range`` variable does not.)
"""

import numpy as np
from numba import njit

from kernels.activations import activate_row, scale_by_derivative
from kernels.options import JIT_OPTIONS, REDUCE_OPTIONS


@njit(**JIT_OPTIONS)
def layout(sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Offsets of every layer's weights, biases and first neuron row; total sizes."""
    n_layers = sizes.shape[0] - 1
    woff = np.empty(n_layers, np.int64)
    boff = np.empty(n_layers, np.int64)
    roff = np.empty(n_layers + 1, np.int64)
    p = 0
    for layer in range(n_layers):
        woff[layer] = p
        p += sizes[layer] * sizes[layer + 1]
        boff[layer] = p
        p += sizes[layer + 1]
    r = 0
    for layer in range(n_layers + 1):
        roff[layer] = r
        r += sizes[layer]
    return woff, boff, roff, p, r


@njit(**JIT_OPTIONS)
def forward(
    sizes: np.ndarray,
    woff: np.ndarray,
    boff: np.ndarray,
    roff: np.ndarray,
    m: int,
    theta: np.ndarray,
    pre: np.ndarray,
    act: np.ndarray,
    scratch: np.ndarray,
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
            z = pre[roff[layer + 1] + j]
            bj = theta[boff[layer] + j]
            for s in range(m):
                z[s] = bj
            for i in range(fan_in):
                w = theta[woff[layer] + i * fan_out + j]
                a = act[roff[layer] + i]
                for s in range(m):
                    z[s] += w * a[s]
            activate_row(code, z, act[roff[layer + 1] + j], scratch, m)


@njit(**REDUCE_OPTIONS)
def backward(
    sizes: np.ndarray,
    woff: np.ndarray,
    boff: np.ndarray,
    roff: np.ndarray,
    m: int,
    theta: np.ndarray,
    act: np.ndarray,
    delta: np.ndarray,
    grad: np.ndarray,
    hidden_code: int,
    use_bias: bool,
) -> None:
    """Gradients of every parameter into ``grad``, from the output row of ``delta``.

    ``delta`` holds dLoss/dz per neuron and sample, laid out like ``act``; on entry
    only the output neuron's row is filled. Backpropagation:
    dW[i, j] = sum_s a_prev[i, s] delta[j, s],  db[j] = sum_s delta[j, s],
    delta_prev[i, s] = f'(a_prev[i, s]) sum_j W[i, j] delta[j, s].
    """
    n_layers = sizes.shape[0] - 1
    for layer in range(n_layers - 1, -1, -1):
        fan_in = sizes[layer]
        fan_out = sizes[layer + 1]
        for j in range(fan_out):
            d = delta[roff[layer + 1] + j]
            acc = 0.0
            for s in range(m):
                acc += d[s]
            grad[boff[layer] + j] = acc if use_bias else 0.0
            for i in range(fan_in):
                a = act[roff[layer] + i]
                acc = 0.0
                for s in range(m):
                    acc += a[s] * d[s]
                grad[woff[layer] + i * fan_out + j] = acc
        if layer == 0:
            break
        for i in range(fan_in):
            dp = delta[roff[layer] + i]
            for s in range(m):
                dp[s] = 0.0
            for j in range(fan_out):
                w = theta[woff[layer] + i * fan_out + j]
                d = delta[roff[layer + 1] + j]
                for s in range(m):
                    dp[s] += w * d[s]
            scale_by_derivative(hidden_code, act[roff[layer] + i], dp, m)
