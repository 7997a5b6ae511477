"""Activation functions and their derivatives, one name table.

Each derivative is computed from the activation's *output* ``a`` (as scikit-learn's
``DERIVATIVES`` do), so the backward pass needs no stored pre-activations:
sigmoid' = a(1-a), tanh' = 1-a^2, relu' = [a>0], leaky_relu' = 1 or 0.01.
The row functions take the choice as a small integer code and run the branch once
per row, with the loop over samples inside, so the loop can be vectorised.

The sigmoid and tanh use :func:`expm1_parts`, a vectorisable exp (Numba calls
libm's scalar ``exp``/``tanh`` for ``math.exp``/``math.tanh``, which no compiler
can vectorise without Intel's SVML): measured 1.1 ns per sigmoid against 4.5 ns
with ``math.exp``, 1.1 ns per tanh against 26 ns (benchmarks/README.md).
"""

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

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
# Rows shorter than this (online training's layers) use libm's scalar exp and tanh:
# the vector loop's scalar remainder is slower there (2-4-4-1 forward of one sample
# 286 -> 196 ns).
SHORT_ROW = 8


@njit(**JIT_OPTIONS)
def expm1_parts(
    x: np.ndarray, scale: float, fold: bool, q: np.ndarray, bits: np.ndarray, m: int
) -> None:
    """Split ``exp(v)`` for ``v = scale * x[s]`` (``-|scale * x[s]|`` when ``fold``) into parts.

    exp(v) = 2^k (1 + q) with k = round(v / ln 2), v - k ln 2 = r, |r| <= ln(2)/2 and
    q = exp(r) - 1 by its Taylor series to degree 13 (truncation error < 1e-17), kept
    without the leading 1 so that expm1 stays accurate near 0 (the tanh needs it);
    ``bits[s]`` is the int64 bit pattern of the float 2^k (k + 1023 written into the
    exponent), turned into a float by a view in the second pass, the only way Numba
    can vectorise it. ``v`` is clamped to [EXP_MIN, EXP_MAX]; the finishing pass
    handles the ends and NaN. ``scale`` must be exact (1, -1, -2): ``x`` and ``q``
    may not be the same row. Compiled with ``contract`` only: reassociation would
    cancel the range reduction.
    """
    for s in range(m):
        v = scale * (-abs(x[s]) if fold else x[s])
        v = min(max(v, EXP_MIN), EXP_MAX)
        k = math.floor(v * LOG2E + 0.5)
        r = (v - k * LN2_HI) - k * LN2_LO
        # fmt: off
        q[s] = r * (1.0 + r * (1.0 / 2 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120
               + r * (1.0 / 720 + r * (1.0 / 5040 + r * (1.0 / 40320 + r * (1.0 / 362880
               + r * (1.0 / 3628800 + r * (1.0 / 39916800 + r * (1.0 / 479001600
               + r * (1.0 / 6227020800)))))))))))))
        # fmt: on
        bits[s] = (np.int64(k) + 1023) << 52


@njit(**JIT_OPTIONS)
def sigmoid_row(z: np.ndarray, a: np.ndarray, bits: np.ndarray, m: int) -> None:
    """``a[:m] = 1 / (1 + exp(-z[:m]))``, one division per element, NaN kept.

    exp(-z) = inf above 709 gives exactly 0, exp(-z) = 0 below -708 exactly 1.
    """
    if m < SHORT_ROW:
        for s in range(m):
            a[s] = 1.0 / (1.0 + math.exp(-z[s]))
        return
    sigmoid_vector(z, a, bits, m)


@njit(**JIT_OPTIONS)
def sigmoid_vector(z: np.ndarray, a: np.ndarray, bits: np.ndarray, m: int) -> None:
    """:func:`sigmoid_row` by the vectorisable exp at any length (no libm for short rows)."""
    expm1_parts(z, -1.0, np.bool_(False), a, bits, m)
    two_k = bits.view(np.float64)
    for s in range(m):
        v = -z[s]
        e = two_k[s] + two_k[s] * a[s]
        e = math.inf if v > EXP_MAX else e
        e = 0.0 if v < EXP_MIN else e
        a[s] = 1.0 / (1.0 + e) if v == v else v


@njit(**JIT_OPTIONS)
def tanh_row(z: np.ndarray, a: np.ndarray, bits: np.ndarray, m: int) -> None:
    """``a[:m] = tanh(z[:m])`` as ``sign(z) |u| / (2 + u)``, ``u = expm1(-2|z|)``, NaN kept.

    u lies in [-1, 0], so nothing overflows, and expm1 keeps the small-``z`` end
    accurate (a few ulp). Vectorised: 23x faster than libm's scalar ``tanh``.
    """
    if m < SHORT_ROW:
        for s in range(m):
            a[s] = math.tanh(z[s])
        return
    tanh_vector(z, a, bits, m)


@njit(**JIT_OPTIONS)
def tanh_vector(z: np.ndarray, a: np.ndarray, bits: np.ndarray, m: int) -> None:
    """:func:`tanh_row` by the vectorisable expm1 at any length."""
    expm1_parts(z, 2.0, np.bool_(True), a, bits, m)
    two_k = bits.view(np.float64)
    for s in range(m):
        v = -2.0 * abs(z[s])
        # 2^k (1 + q) - 1 = 2^k q + (2^k - 1): exact split, 2^k - 1 is exact for k <= 0.
        u = two_k[s] * a[s] + (two_k[s] - 1.0)
        u = -1.0 if v < EXP_MIN else u
        a[s] = math.copysign(abs(u) / (2.0 + u), z[s]) if v == v else z[s]


@njit(**JIT_OPTIONS)
def activate_row(code: int, z: np.ndarray, a: np.ndarray, scratch: np.ndarray, m: int) -> None:
    """``a[:m] = f(z[:m])`` for activation ``code``; ``scratch`` is an int64 row."""
    if code == SIGMOID:
        sigmoid_row(z, a, scratch, m)
    elif code == TANH:
        tanh_row(z, a, scratch, m)
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
def activate_lanes(code: int, z: np.ndarray, a: np.ndarray, scratch: np.ndarray, m: int) -> None:
    """:func:`activate_row` over one neuron's lanes (:mod:`kernels.lockstep`).

    The same formula for every length: a lane's value must not depend on how many
    other runs share the call, so short rows never switch to libm here.
    """
    if code == SIGMOID:
        sigmoid_vector(z, a, scratch, m)
    elif code == TANH:
        tanh_vector(z, a, scratch, m)
    else:
        activate_row(code, z, a, scratch, m)


@njit(**JIT_OPTIONS)
def activate_one(code: int, z: float) -> float:
    """f(z) for one value, the same formulas as the short rows of :func:`activate_row`.

    For online training's narrow layers: a call of :func:`activate_row` on a row of
    4 values is mostly set-up; inlined here a 2-4-4-1 one-sample forward measured
    195 -> 122 ns.
    """
    if code == SIGMOID:
        return 1.0 / (1.0 + math.exp(-z))
    if code == TANH:
        return math.tanh(z)
    if code == RELU:
        return z if z > 0.0 else 0.0
    if code == LEAKY_RELU:
        return z if z > 0.0 else LEAKY_SLOPE * z
    return z


@njit(**JIT_OPTIONS)
def scale_one(code: int, a: float, delta: float) -> float:
    """``delta * f'(.)`` for one value, as :func:`scale_by_derivative` computes it."""
    if code == SIGMOID:
        return delta * (a * (1.0 - a))
    if code == TANH:
        return delta * (1.0 - a * a)
    if code == RELU:
        return delta if a > 0.0 else 0.0
    if code == LEAKY_RELU:
        return delta if a > 0.0 else LEAKY_SLOPE * delta
    return delta


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


@intrinsic
def float_from_bits(typingctx: object, bits: types.Integer) -> tuple:  # type: ignore[type-arg]
    """The float64 whose bit pattern is the int64 ``bits`` (a register move, vectorisable)."""
    sig = types.float64(types.int64)

    def codegen(context: object, builder: ir.IRBuilder, signature: object, args: list) -> ir.Value:  # type: ignore[type-arg]
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


@njit(inline="always", **JIT_OPTIONS)
def expm1_lane(v: float) -> tuple[float, float]:
    """``(2^k, q)`` with ``exp(v) = 2^k (1 + q)``: :func:`expm1_parts` for one value, in registers.

    The same operations in the same order, so a lane's result equals the row
    version's to the bit; inlined into the generated lockstep passes, whose loop over
    runs LLVM then vectorises (the bit pattern becomes a float by a register move).
    """
    c = min(max(v, EXP_MIN), EXP_MAX)
    k = math.floor(c * LOG2E + 0.5)
    r = (c - k * LN2_HI) - k * LN2_LO
    # fmt: off
    q = r * (1.0 + r * (1.0 / 2 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120
        + r * (1.0 / 720 + r * (1.0 / 5040 + r * (1.0 / 40320 + r * (1.0 / 362880
        + r * (1.0 / 3628800 + r * (1.0 / 39916800 + r * (1.0 / 479001600
        + r * (1.0 / 6227020800)))))))))))))
    # fmt: on
    return float_from_bits((np.int64(k) + 1023) << 52), q  # type: ignore[call-arg]


@njit(inline="always", **JIT_OPTIONS)
def sigmoid_lane(z: float) -> float:
    """:func:`sigmoid_vector` for one value (bit for bit)."""
    v = -1.0 * z
    two_k, q = expm1_lane(v)
    v = -z
    e = two_k + two_k * q
    e = math.inf if v > EXP_MAX else e
    e = 0.0 if v < EXP_MIN else e
    return 1.0 / (1.0 + e) if v == v else v


@njit(inline="always", **JIT_OPTIONS)
def tanh_lane(z: float) -> float:
    """:func:`tanh_vector` for one value (bit for bit)."""
    two_k, q = expm1_lane(2.0 * -abs(z))
    v = -2.0 * abs(z)
    u = two_k * q + (two_k - 1.0)
    u = -1.0 if v < EXP_MIN else u
    return math.copysign(abs(u) / (2.0 + u), z) if v == v else z
