"""The flat and the strided layouts of a net's parameters, and the shape of a pass.

See :mod:`kernels.mlp` for the layout; here its offsets, padding, copies between the
two layouts, and how a pass of ``m`` samples is laid out (padded width, sample-major
or neuron-major). All of it is worked out once per run by the kernel's Python wrapper
(:func:`kernels.train`), in NumPy: compiled, these small functions cost ~1.5 s of the
one-run kernel's first compile for microseconds of work. The passes get the result;
only :func:`block` and :func:`weights`, views the passes take, are compiled.
"""

import numpy as np
from numba import njit

from kernels.options import INTERNAL_OPTIONS

LANES = 8  # doubles in one AVX-512 register


def strided_layout(
    sizes: np.ndarray, widths: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Offsets of every layer's weights, biases and first neuron row; total sizes.

    Layer ``l`` has ``widths[l] >= sizes[l]`` slots: W of layer ``l`` is stored
    ``(sizes[l], widths[l+1])`` (row stride ``widths[l+1]``), its bias
    ``widths[l+1]`` long, and the layer owns ``widths[l]`` rows of the buffers.
    """
    sizes = np.asarray(sizes, np.int64)
    widths = np.asarray(widths, np.int64)
    per_layer = sizes[:-1] * widths[1:] + widths[1:]
    ends = np.cumsum(per_layer)
    woff = ends - per_layer
    boff = woff + sizes[:-1] * widths[1:]
    roff = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
    return woff, boff, roff, int(ends[-1]), int(widths.sum())


def layout(sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """:func:`strided_layout` without padding: the flat vector of the public API."""
    return strided_layout(sizes, sizes)


def padded_widths(sizes: np.ndarray) -> np.ndarray:
    """Slots per layer: hidden layers of :data:`LANES` neurons or more rounded up to it.

    The inputs and the output keep their size (the passes treat them apart), as do
    narrower layers: padding 4 neurons to 8 would double a layer's work for loops
    that are short either way.
    """
    widths = np.array(sizes, np.int64)
    hidden = widths[1:-1]
    wide = hidden >= LANES
    hidden[wide] = (hidden[wide] + LANES - 1) // LANES * LANES
    return widths


def strided_positions(sizes: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """For each parameter of the flat layout, its index in the strided layout."""
    woff, boff, _, _, _ = strided_layout(sizes, widths)
    positions = []
    for layer in range(len(sizes) - 1):
        fan_in, fan_out, stride = int(sizes[layer]), int(sizes[layer + 1]), int(widths[layer + 1])
        rows = woff[layer] + np.arange(fan_in)[:, None] * stride + np.arange(fan_out)
        positions += [rows.ravel(), boff[layer] + np.arange(fan_out)]
    return np.concatenate(positions).astype(np.int64)


def to_strided(sizes: np.ndarray, widths: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """``theta`` (the flat layout) copied into the strided layout, padding at 0."""
    out = np.zeros(strided_layout(sizes, widths)[3])
    out[strided_positions(sizes, widths)] = theta
    return out


def from_strided(
    sizes: np.ndarray, widths: np.ndarray, strided: np.ndarray, theta: np.ndarray
) -> None:
    """The inverse of :func:`to_strided`, written into ``theta`` (the flat layout)."""
    theta[:] = strided[strided_positions(sizes, widths)]


def widest_hidden(sizes: np.ndarray) -> int:
    return int(max(sizes[1:-1], default=0))


def samples_outer(sizes: np.ndarray, width: int) -> bool:
    """Whether a pass over buffers of ``width`` columns uses the sample-major layout.

    The innermost loops run over the samples (neuron-major) or over a layer's
    neurons (sample-major); the longer the better, as each 4 x 4 tile then carries
    more work for its fixed cost. Measured at 100 x 100: sample-major 18 against 13
    multiply-adds per ns with 24 samples, 19 against 6 with 8 (benchmarks/README.md).
    """
    return widest_hidden(sizes) > width


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


@njit(**INTERNAL_OPTIONS)
def block(buf: np.ndarray, first: int, fan: int) -> np.ndarray:
    """Rows ``first .. first+fan`` of the ``(n_rows, m)`` buffer seen sample-major, ``(m, fan)``.

    A layer owns the same contiguous stretch of a buffer in both layouts.
    """
    m = buf.shape[1]
    return buf[first : first + fan].reshape(m, fan)


@njit(**INTERNAL_OPTIONS)
def weights(
    v: np.ndarray, woff: np.ndarray, sizes: np.ndarray, widths: np.ndarray, layer: int
) -> np.ndarray:
    """Layer ``layer``'s ``W`` (or its gradient) in ``v``, ``(fan_in, widths[layer + 1])``.

    The columns past ``fan_out`` are the padding of :func:`strided_layout`.
    """
    fan_in = sizes[layer]
    stride = widths[layer + 1]
    return v[woff[layer] : woff[layer] + fan_in * stride].reshape(fan_in, stride)
