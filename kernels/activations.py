"""Activation functions and their derivatives, one name table.

Each derivative is computed from the activation's *output* ``a`` (as scikit-learn's
``DERIVATIVES`` do), so the backward pass needs no stored pre-activations:
sigmoid' = a(1-a), tanh' = 1-a^2, relu' = [a>0], leaky_relu' = 1 or 0.01.
The row functions take the choice as a small integer code and run the branch once
per row, with the loop over samples inside, so the loop can be vectorised.

The sigmoid uses :func:`exp_row`, a vectorisable exp (Numba calls libm's scalar
``exp`` for ``math.exp``, which no compiler can vectorise without Intel's SVML):
measured 1.5 ns per sigmoid against 4.5 ns with ``math.exp`` (benchmarks/README.md).
"""

import math

import numpy as np
from numba import njit

from kernels.options import JIT_OPTIONS

SIGMOID = 0
TANH = 1
RELU = 2
LEAKY_RELU = 3
IDENTITY = 4

ACTIVATIONS: dict[str, int] = {
    "sigmoid": SIGMOID,
    "tanh": TANH,
    "relu": RELU,
    "leaky_relu": LEAKY_RELU,
    "identity": IDENTITY,
}
ACTIVATION_ALIASES: dict[str, str] = {"none": "identity"}
OUTPUT_ACTIVATIONS: dict[str, int] = {"sigmoid": SIGMOID, "identity": IDENTITY}
LEAKY_SLOPE = 0.01

LOG2E = 1.4426950408889634
# ln 2 split in two (Cody and Waite): k * LN2_HI is exact for |k| < 2^11.
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
EXP_MAX = 709.0  # exp overflows above ~709.78: answer inf
EXP_MIN = -708.0  # below, 2^k would be subnormal: answer 0 (the sigmoid is then 0 or 1)


@njit(**JIT_OPTIONS)
def exp_row(x: np.ndarray, sign: float, out: np.ndarray, scale_bits: np.ndarray, m: int) -> None:
    """``out[:m] = exp(sign * x[:m])`` to within 1 ulp (inf above 709, 0 below -708, NaN kept).

    ``sign`` is 1.0 or -1.0 (exact), so the sigmoid needs no extra pass; ``x`` and
    ``out`` must be different rows.

    exp(x) = 2^k exp(r) with k = round(x / ln 2) and |r| <= ln(2)/2; exp(r) by its
    Taylor series to degree 13 (truncation error < 1e-17); 2^k by writing k + 1023
    into the exponent bits of ``scale_bits`` (an int64 scratch row). Compiled with
    ``contract`` only: reassociation would cancel the range reduction.
    """
    for s in range(m):
        v = min(max(sign * x[s], EXP_MIN), EXP_MAX)
        k = math.floor(v * LOG2E + 0.5)
        r = (v - k * LN2_HI) - k * LN2_LO
        p = 1.0 + r * (
            1.0
            + r
            * (
                1.0 / 2
                + r
                * (
                    1.0 / 6
                    + r
                    * (
                        1.0 / 24
                        + r
                        * (
                            1.0 / 120
                            + r
                            * (
                                1.0 / 720
                                + r
                                * (
                                    1.0 / 5040
                                    + r
                                    * (
                                        1.0 / 40320
                                        + r
                                        * (
                                            1.0 / 362880
                                            + r
                                            * (
                                                1.0 / 3628800
                                                + r
                                                * (
                                                    1.0 / 39916800
                                                    + r * (1.0 / 479001600 + r * (1.0 / 6227020800))
                                                )
                                            )
                                        )
                                    )
                                )
                            )
                        )
                    )
                )
            )
        )
        out[s] = p
        scale_bits[s] = (np.int64(k) + 1023) << 52
    scale = scale_bits.view(np.float64)
    for s in range(m):
        v = sign * x[s]
        e = out[s] * scale[s]
        e = math.inf if v > EXP_MAX else e
        e = 0.0 if v < EXP_MIN else e
        out[s] = e if v == v else v


@njit(**JIT_OPTIONS)
def activate_row(code: int, z: np.ndarray, a: np.ndarray, scratch: np.ndarray, m: int) -> None:
    """``a[:m] = f(z[:m])`` for activation ``code``; ``scratch`` is an int64 row."""
    if code == SIGMOID:
        # 1 / (1 + e^-z): e^-z = inf for z < -709 gives exactly 0, never NaN.
        exp_row(z, -1.0, a, scratch, m)
        for s in range(m):
            a[s] = 1.0 / (1.0 + a[s])
    elif code == TANH:
        for s in range(m):
            a[s] = math.tanh(z[s])
    elif code == RELU:
        for s in range(m):
            a[s] = z[s] if z[s] > 0.0 else 0.0
    elif code == LEAKY_RELU:
        for s in range(m):
            a[s] = z[s] if z[s] > 0.0 else LEAKY_SLOPE * z[s]
    else:
        for s in range(m):
            a[s] = z[s]


@njit(**JIT_OPTIONS)
def scale_by_derivative(code: int, a: np.ndarray, delta: np.ndarray, m: int) -> None:
    """``delta[:m] *= f'(.)``, the derivative written in terms of the output ``a``."""
    if code == SIGMOID:
        for s in range(m):
            delta[s] *= a[s] * (1.0 - a[s])
    elif code == TANH:
        for s in range(m):
            delta[s] *= 1.0 - a[s] * a[s]
    elif code == RELU:
        for s in range(m):
            delta[s] = delta[s] if a[s] > 0.0 else 0.0
    elif code == LEAKY_RELU:
        for s in range(m):
            delta[s] = delta[s] if a[s] > 0.0 else LEAKY_SLOPE * delta[s]
    # identity: derivative 1, nothing to do
