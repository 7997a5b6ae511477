"""How far apart the units of a hidden layer are: the symmetry an all-zero init never breaks.

A hidden layer's units are interchangeable while every unit has the same incoming
weights and bias: they compute the same output, get the same gradient and stay equal
at every epoch (the lab's all-zero-init finding). The measure of a layer is the
largest difference between two of its units' incoming weights, bias included,

    spread = max over inputs i (and the bias) of (max_j w[i, j] - min_j w[i, j]),

exactly 0 while the units are all equal, and recorded per epoch by every kernel
(:attr:`kernels.checks.TrainOutput.symmetry`). Each kernel scans a layer the same way,
input by input then the biases, unit by unit, comparing with ``>`` and ``<``
(:func:`spread` here; :func:`kernels.lockstep_loop.spread_lanes` for many runs), so a
run's measure has the same bits whichever kernel trained it. :func:`layer_spreads` is
the plain NumPy measure of given weights.
"""

import numpy as np
from numba import njit

from kernels.checks import Params
from kernels.options import INTERNAL_OPTIONS


@njit(**INTERNAL_OPTIONS)
def spread(
    values: np.ndarray, weights_at: int, row_stride: int, biases_at: int, fan_in: int, fan_out: int
) -> float:
    """The spread of one layer whose weight of input ``i`` to unit ``j`` is
    ``values[weights_at + i * row_stride + j]`` and bias of unit ``j`` is
    ``values[biases_at + j]``."""
    out = 0.0
    for row in range(fan_in + 1):  # the weights of input ``row``; the last: the biases
        q = weights_at + row * row_stride if row < fan_in else biases_at
        hi = values[q]
        lo = hi
        for j in range(1, fan_out):
            v = values[q + j]
            hi = v if v > hi else hi
            lo = v if v < lo else lo
        d = hi - lo
        out = d if d > out else out
    return out


def layer_spreads(params: Params) -> np.ndarray:
    """The spread of each hidden layer of ``params`` (``[(W, b), ...]``), in NumPy."""
    out = []
    for w, b in params[:-1]:
        rows = np.vstack([np.asarray(w, np.float64), np.asarray(b, np.float64).reshape(1, -1)])
        out.append(float(np.max(rows.max(axis=1) - rows.min(axis=1), initial=0.0)))
    return np.array(out)
