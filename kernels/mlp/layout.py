"""The flat and the strided layouts of a net's parameters, and the shape of a pass.

See :mod:`kernels.mlp` for the layout; here its offsets, padding, copies between the
two layouts, and how a pass of ``m`` samples is laid out (padded width, sample-major
or neuron-major).
"""

import numpy as np
from numba import njit

from kernels.options import JIT_OPTIONS

LANES = 8  # doubles in one AVX-512 register


@njit(**JIT_OPTIONS)
def strided_layout(
    sizes: np.ndarray, widths: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Offsets of every layer's weights, biases and first neuron row; total sizes.

    Layer ``l`` has ``widths[l] >= sizes[l]`` slots: W of layer ``l`` is stored
    ``(sizes[l], widths[l+1])`` (row stride ``widths[l+1]``), its bias
    ``widths[l+1]`` long, and the layer owns ``widths[l]`` rows of the buffers.
    """
    n_layers = sizes.shape[0] - 1
    woff = np.empty(n_layers, np.int64)
    boff = np.empty(n_layers, np.int64)
    roff = np.empty(n_layers + 1, np.int64)
    p = 0
    for layer in range(n_layers):
        woff[layer] = p
        p += sizes[layer] * widths[layer + 1]
        boff[layer] = p
        p += widths[layer + 1]
    r = 0
    for layer in range(n_layers + 1):
        roff[layer] = r
        r += widths[layer]
    return woff, boff, roff, p, r


@njit(**JIT_OPTIONS)
def layout(sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """:func:`strided_layout` without padding: the flat vector of the public API."""
    return strided_layout(sizes, sizes)


@njit(**JIT_OPTIONS)
def padded_widths(sizes: np.ndarray) -> np.ndarray:
    """Slots per layer: hidden layers of :data:`LANES` neurons or more rounded up to it.

    The inputs and the output keep their size (the passes treat them apart), as do
    narrower layers: padding 4 neurons to 8 would double a layer's work for loops
    that are short either way.
    """
    widths = sizes.copy()
    for layer in range(1, sizes.shape[0] - 1):
        if sizes[layer] >= LANES:
            widths[layer] = (sizes[layer] + LANES - 1) // LANES * LANES
    return widths


@njit(**JIT_OPTIONS)
def strided_positions(sizes: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """For each parameter of the flat layout, its index in the strided layout."""
    woff, boff, _, n_flat, _ = layout(sizes)
    swoff, sboff, _, _, _ = strided_layout(sizes, widths)
    pos = np.empty(n_flat, np.int64)
    for layer in range(sizes.shape[0] - 1):
        fan_in = sizes[layer]
        fan_out = sizes[layer + 1]
        stride = widths[layer + 1]
        for i in range(fan_in):
            for j in range(fan_out):
                pos[woff[layer] + i * fan_out + j] = swoff[layer] + i * stride + j
        for j in range(fan_out):
            pos[boff[layer] + j] = sboff[layer] + j
    return pos


@njit(**JIT_OPTIONS)
def to_strided(sizes: np.ndarray, widths: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """``theta`` (the flat layout) copied into the strided layout, padding at 0."""
    pos = strided_positions(sizes, widths)
    out = np.zeros(strided_layout(sizes, widths)[3])
    for k in range(pos.shape[0]):
        out[pos[k]] = theta[k]
    return out


@njit(**JIT_OPTIONS)
def from_strided(
    sizes: np.ndarray, widths: np.ndarray, strided: np.ndarray, theta: np.ndarray
) -> None:
    """The inverse of :func:`to_strided`, written into ``theta`` (the flat layout)."""
    pos = strided_positions(sizes, widths)
    for k in range(pos.shape[0]):
        theta[k] = strided[pos[k]]


@njit(**JIT_OPTIONS)
def widest_hidden(sizes: np.ndarray) -> int:
    widest = 0
    for layer in range(1, sizes.shape[0] - 1):
        widest = max(widest, sizes[layer])
    return widest


@njit(**JIT_OPTIONS)
def samples_outer(sizes: np.ndarray, width: int) -> bool:
    """Whether a pass over buffers of ``width`` columns uses the sample-major layout.

    The innermost loops run over the samples (neuron-major) or over a layer's
    neurons (sample-major); the longer the better, as each 4 x 4 tile then carries
    more work for its fixed cost. Measured at 100 x 100: sample-major 18 against 13
    multiply-adds per ns with 24 samples, 19 against 6 with 8 (benchmarks/README.md).
    """
    return widest_hidden(sizes) > width


@njit(**JIT_OPTIONS)
def pass_width(sizes: np.ndarray, m: int) -> int:
    """Columns of the buffers for passes over ``m`` samples.

    Neuron-major passes pad ``m`` to a multiple of :data:`LANES`: a loop of 21
    iterations mostly runs in LLVM's scalar remainder, one of 24 in vector
    registers. Sample-major passes gain nothing from padding. Consistent with
    :func:`samples_outer`: ``samples_outer(sizes, pass_width(sizes, m))`` is the
    layout chosen for ``m``.
    """
    padded = (m + LANES - 1) // LANES * LANES
    return m if widest_hidden(sizes) > padded else padded


@njit(**JIT_OPTIONS)
def block(buf: np.ndarray, first: int, fan: int) -> np.ndarray:
    """Rows ``first .. first+fan`` of the ``(n_rows, m)`` buffer seen sample-major, ``(m, fan)``.

    A layer owns the same contiguous stretch of a buffer in both layouts.
    """
    m = buf.shape[1]
    return buf[first : first + fan].reshape(m, fan)


@njit(**JIT_OPTIONS)
def weights(
    v: np.ndarray, woff: np.ndarray, sizes: np.ndarray, widths: np.ndarray, layer: int
) -> np.ndarray:
    """Layer ``layer``'s ``W`` (or its gradient) in ``v``, ``(fan_in, widths[layer + 1])``.

    The columns past ``fan_out`` are the padding of :func:`strided_layout`.
    """
    fan_in = sizes[layer]
    stride = widths[layer + 1]
    return v[woff[layer] : woff[layer] + fan_in * stride].reshape(fan_in, stride)
