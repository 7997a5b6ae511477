"""Activation functions and their derivatives, one name table.

Each derivative is computed from the activation's *output* ``a`` (as scikit-learn's
``DERIVATIVES`` do), so the backward pass needs no stored pre-activations:
sigmoid' = a(1-a), tanh' = 1-a^2, relu' = [a>0], leaky_relu' = 1 or 0.01.
The row functions take the choice as a small integer code and run the branch once
per row, with the loop over samples inside, so the loop can be vectorised.

The sigmoid and tanh use :func:`expm1_clamped`, a vectorisable exp (Numba calls
libm's scalar ``exp``/``tanh`` for ``math.exp``/``math.tanh``, which no compiler
can vectorise without Intel's SVML): on rows of 400 values 0.86 ns per sigmoid
(4.5 ns with ``math.exp``) and 0.97 ns per tanh (26 ns with libm's); both within
3 ulp (tests/test_activations.py). :func:`sigmoid_lane` and :func:`tanh_lane` are
that arithmetic for one value, which the row loops here inline and the generated
lockstep passes (:mod:`kernels.codegen`) call as :func:`sigmoid_call` and
:func:`tanh_call`, so every kernel gets the same bits.
"""

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from kernels.options import INTERNAL_OPTIONS, JIT_OPTIONS

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
# Adding 1.5 * 2^52 rounds a float of magnitude < 2^51 to an integer, held in the low
# bits of the sum's pattern; the 1023 is the exponent bias, so those bits shifted left
# by 52 are the pattern of the float 2^k.
ROUND_SHIFT = 6755399441055744.0 + 1023.0
EXP_MAX = 708.0  # exp(v) is taken at v clamped to [EXP_MIN, EXP_MAX]: 2^k stays normal,
EXP_MIN = -708.0  # and 1 / (1 + exp(v)) is 3.3e-308 or exactly 1 past the ends
# Q(r) = (exp(r) - 1 - r) / r^2 on |r| <= ln(2)/2, degree 9, minimax (Remez, absolute
# error 1.1e-16 in Q, so 1.4e-17 in exp(r) - 1: a tenth of an ulp).
Q0, Q1, Q2, Q3, Q4 = (
    0.5000000000000001,
    0.16666666666666674,
    0.04166666666662416,
    0.008333333333322215,
    0.0013888888917198386,
)
Q5, Q6, Q7, Q8, Q9 = (
    0.00019841269886566399,
    2.4801521320156154e-05,
    2.755724236484932e-06,
    2.7620076799169895e-07,
    2.511003917993252e-08,
)
# Rows shorter than this (online training's layers) use libm's scalar exp and tanh:
# the vector loop's scalar remainder is slower there (2-4-4-1 forward of one sample
# 286 -> 196 ns).
SHORT_ROW = 8


@intrinsic
def float_from_bits(typingctx: object, bits: types.Integer) -> tuple:  # type: ignore[type-arg]
    """The float64 whose bit pattern is the int64 ``bits`` (a register move, vectorisable)."""
    sig = types.float64(types.int64)

    def codegen(context: object, builder: ir.IRBuilder, signature: object, args: list) -> ir.Value:  # type: ignore[type-arg]
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


@intrinsic
def bits_of_float(typingctx: object, x: types.Float) -> tuple:  # type: ignore[type-arg]
    """The int64 bit pattern of the float64 ``x`` (a register move, vectorisable)."""
    sig = types.int64(types.float64)

    def codegen(context: object, builder: ir.IRBuilder, signature: object, args: list) -> ir.Value:  # type: ignore[type-arg]
        return builder.bitcast(args[0], ir.IntType(64))

    return sig, codegen


@njit(inline="always", **JIT_OPTIONS)
def expm1_clamped(c: float) -> tuple[float, float]:
    """``(2^k, q)`` with ``exp(c) = 2^k (1 + q)``, for ``c`` in [EXP_MIN, EXP_MAX] (or NaN).

    Callers clamp where it is cheapest (a comparison with NaN is false, so the clamp
    keeps NaN): :func:`sigmoid_lane` clamps ``z`` before negating it, :func:`tanh_lane`
    needs the lower end only.

    k = round(c / ln 2) by the ROUND_SHIFT addition (one multiply-add; the sum's low
    bits give 2^k by a shift), r = c - k ln 2 with |r| <= ln(2)/2, and
    q = exp(r) - 1 = r + r^2 Q(r), kept without the leading 1 so that expm1 stays
    accurate near 0 (the tanh needs it). Q is its even and odd halves, each by
    Horner's rule in r^2: two independent chains of 4 multiply-adds instead of one
    of 9, and 3 multiplies fewer than Estrin's scheme (lockstep 2-4-4-1 on linear,
    ns per run and sample: 16.4 Horner, 16.4-17.0 Estrin, 15.7-16.6 halves).
    Branch-free and made of register operations only, so a loop of these vectorises.
    NaN passes through (the clamp keeps it, and q is NaN). Compiled with ``contract``
    only: reassociation would cancel the range reduction.

    Each multiply-add of Q costs ~0.25 ns per run and sample in the lockstep pass
    (two terms dropped, too inaccurate to keep: 15.0 -> 14.5 ns). A table-driven exp
    (k = round(32 c / ln 2), 2^(j/32) from a table of 32, |r| <= ln(2)/64, degree 6:
    five multiply-adds fewer) lost: the table load, a NumPy global or an LLVM constant
    array alike, is an access LLVM's loop-access analysis cannot bound, so the loop
    over lanes is no longer vectorised (4.4 us per run-epoch against 1.1).
    """
    t = c * LOG2E + ROUND_SHIFT
    k = t - ROUND_SHIFT
    r = (c - k * LN2_HI) - k * LN2_LO
    r2 = r * r
    even = Q0 + r2 * (Q2 + r2 * (Q4 + r2 * (Q6 + r2 * Q8)))
    odd = Q1 + r2 * (Q3 + r2 * (Q5 + r2 * (Q7 + r2 * Q9)))
    q = r + r2 * (even + r * odd)
    return float_from_bits(bits_of_float(t) << 52), q  # type: ignore[call-arg]


@njit(inline="always", **JIT_OPTIONS)
def sigmoid_lane(z: float) -> float:
    """``1 / (1 + exp(-z))`` by :func:`expm1_clamped`: one division, no libm call.

    Within about 1 ulp; 1 for z > 708, 3.3e-308 for z < -708 (the exact value is
    smaller there, or 0 in float64 once exp overflows); NaN stays NaN.

    ``z`` is clamped to [-EXP_MAX, -EXP_MIN] and then negated, the same bits as
    clamping ``-z`` (the range is symmetric, negation exact), but LLVM then makes the
    clamp two instructions (a compare and a masked min) and folds the negation into
    the multiply-adds of the range reduction, where clamping ``-z`` took five (a
    negation, two compares, two blends): lockstep 2-4-4-1 on linear 15.8 -> 15.0 ns
    per run and sample, the same bits. The division is not free there: a multiply
    in its place measured 13.9.
    """
    c = -EXP_MAX if z < -EXP_MAX else z
    c = -EXP_MIN if c > -EXP_MIN else c
    two_k, q = expm1_clamped(-c)
    return 1.0 / (1.0 + (two_k + two_k * q))


@njit(inline="always", **JIT_OPTIONS)
def tanh_lane(z: float) -> float:
    """``tanh(z)`` as ``sign(z) |u| / (2 + u)``, ``u = expm1(-2|z|)`` by :func:`expm1_clamped`.

    u lies in [-1, 0], so nothing overflows, and expm1 keeps the small-``z`` end
    accurate (a few ulp); 2^k (1 + q) - 1 = 2^k q + (2^k - 1) is an exact split,
    2^k - 1 being exact for k <= 0. NaN stays NaN. -2|z| is never above EXP_MAX, so
    only the lower end is clamped.
    """
    v = -2.0 * abs(z)
    two_k, q = expm1_clamped(EXP_MIN if v < EXP_MIN else v)
    u = two_k * q + (two_k - 1.0)
    return math.copysign(abs(u) / (2.0 + u), z)


@njit(**JIT_OPTIONS)
def sigmoid_call(z: float) -> float:
    """:func:`sigmoid_lane` compiled once as a function of its own, which LLVM inlines.

    For the generated lockstep passes (:mod:`kernels.codegen`), which apply it some 40
    times: Numba's ``inline="always"`` types and lowers the callee anew at every call
    site, LLVM's inliner copies optimised IR. 2-4-4-1's module compiles in 20-22 s
    instead of 38-42 (two sittings), and runs as fast or faster (11.4 -> 10.9 ns per
    run and sample on linear, A/B in one process); the same bits (tested against the
    generic passes).
    """
    return sigmoid_lane(z)  # type: ignore[no-any-return]


@njit(**JIT_OPTIONS)
def tanh_call(z: float) -> float:
    """:func:`tanh_lane` as a function of its own, as :func:`sigmoid_call`."""
    return tanh_lane(z)  # type: ignore[no-any-return]


@njit(**JIT_OPTIONS)
def sigmoid_row(z: np.ndarray, a: np.ndarray, m: int) -> None:
    """``a[:m] = 1 / (1 + exp(-z[:m]))``.

    Rows of :data:`SHORT_ROW` or more by :func:`sigmoid_lane`, which vectorises
    (1.1 ns per sigmoid against 4.5 ns with libm's ``exp``); shorter ones by libm.
    """
    if m < SHORT_ROW:
        for s in range(m):
            a[s] = 1.0 / (1.0 + math.exp(-z[s]))
        return
    sigmoid_vector(z, a, m)


@njit(**JIT_OPTIONS)
def sigmoid_vector(z: np.ndarray, a: np.ndarray, m: int) -> None:
    """``a[:m] = sigmoid_lane(z[:m])`` at any length (no libm for short rows)."""
    for s in range(m):
        a[s] = sigmoid_lane(z[s])


@njit(**JIT_OPTIONS)
def tanh_row(z: np.ndarray, a: np.ndarray, m: int) -> None:
    """``a[:m] = tanh(z[:m])``.

    Rows of :data:`SHORT_ROW` or more by :func:`tanh_lane`, which vectorises (23x
    faster than libm's scalar ``tanh``); shorter ones by libm.
    """
    if m < SHORT_ROW:
        for s in range(m):
            a[s] = math.tanh(z[s])
        return
    tanh_vector(z, a, m)


@njit(**JIT_OPTIONS)
def tanh_vector(z: np.ndarray, a: np.ndarray, m: int) -> None:
    """``a[:m] = tanh_lane(z[:m])`` at any length."""
    for s in range(m):
        a[s] = tanh_lane(z[s])


@njit(**JIT_OPTIONS)
def activate_row(code: int, z: np.ndarray, a: np.ndarray, m: int) -> None:
    """``a[:m] = f(z[:m])`` for activation ``code``."""
    if code == SIGMOID:
        sigmoid_row(z, a, m)
    elif code == TANH:
        tanh_row(z, a, m)
    elif code == RELU:
        for s in range(m):
            a[s] = z[s] if z[s] > 0.0 else 0.0
    elif code == LEAKY_RELU:
        for s in range(m):
            a[s] = z[s] if z[s] > 0.0 else LEAKY_SLOPE * z[s]
    else:
        for s in range(m):
            a[s] = z[s]


@njit(**INTERNAL_OPTIONS)
def activate_lanes(code: int, z: np.ndarray, a: np.ndarray, m: int) -> None:
    """``a[:m] = f(z[:m])`` by the lane formulas at every length, as the lockstep passes
    compute it: a value must not depend on how many share the call, so short rows never
    switch to libm here (:func:`kernels.one_lane.train_one_lane`, which has to give the
    lockstep's bits). One function, the formulas inlined once each: cheap to compile."""
    if code == SIGMOID:
        for s in range(m):
            a[s] = sigmoid_lane(z[s])
    elif code == TANH:
        for s in range(m):
            a[s] = tanh_lane(z[s])
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
