"""The 4 x 4 register-tiled products the passes are made of (see :mod:`kernels.mlp`).

Each is compiled once, as a C function of its own (:func:`kernels.call.link`), and the passes call
it by name (:func:`kernels.call.calls_symbol`): inlined, its loops were optimised
again by LLVM in every pass and every caller above it, two thirds of the one-run
kernel's first compile (24 -> ~9 s CPU), for no speed (each call does a layer's work).
"""

from typing import Any

import numpy as np
from numba import carray, njit, types

from kernels.call import by_name, calls_symbol
from kernels.options import (
    INTERNAL_OPTIONS,
    INTERNAL_REDUCE_OPTIONS,
    JIT_OPTIONS,
    REDUCE_OPTIONS,
)

# Integer arguments of the tiled routines are passed as int64 values, never as
# literals: Numba compiles a separate copy of a function for every literal
# argument it sees (mix_rows was compiled 6 times, outer_sums 3; cold compile
# 24 -> 15.6 s CPU).
ZERO = np.int64(0)
ONE = np.int64(1)


@njit(**INTERNAL_OPTIONS)
def four(v: np.ndarray, start: int, stride: int) -> tuple[float, float, float, float]:
    """``v[start + k * stride]`` for k = 0..3: one row or column of a 4 x 4 weight tile."""
    return v[start], v[start + stride], v[start + 2 * stride], v[start + 3 * stride]


# Inlined into its C function in Numba's IR: compiled nowhere else (see kernels.call).
@njit(inline="always", **INTERNAL_OPTIONS)
def mix_rows_body(
    src: np.ndarray,
    src_first: int,
    n_src: int,
    dst: np.ndarray,
    dst_first: int,
    n_dst: int,
    theta: np.ndarray,
    off: int,
    src_stride: int,
    dst_stride: int,
    m: int,
) -> None:
    """``dst[d] += sum_k w(k, d) src[k]`` over rows, ``w(k, d) = theta[off + k*ss + d*ds]``.

    ``ss``/``ds`` are ``src_stride``/``dst_stride``; rows ``src_first + k`` and
    ``dst_first + d``, the first ``m`` columns. Forward it
    is ``z += W^T a`` (strides ``fan_out``, 1); backward ``delta_prev += W delta``
    (strides 1, ``fan_out``). Tiles of 4 x 4 rows, then the leftover rows one by one.
    """
    d = 0
    while d + 4 <= n_dst:
        o0 = dst[dst_first + d]
        o1 = dst[dst_first + d + 1]
        o2 = dst[dst_first + d + 2]
        o3 = dst[dst_first + d + 3]
        w = off + d * dst_stride
        k = 0
        while k + 4 <= n_src:
            i0 = src[src_first + k]
            i1 = src[src_first + k + 1]
            i2 = src[src_first + k + 2]
            i3 = src[src_first + k + 3]
            r0 = w + k * src_stride
            r1 = r0 + src_stride
            r2 = r1 + src_stride
            r3 = r2 + src_stride
            w00, w01, w02, w03 = four(theta, r0, dst_stride)
            w10, w11, w12, w13 = four(theta, r1, dst_stride)
            w20, w21, w22, w23 = four(theta, r2, dst_stride)
            w30, w31, w32, w33 = four(theta, r3, dst_stride)
            for s in range(m):
                x0 = i0[s]
                x1 = i1[s]
                x2 = i2[s]
                x3 = i3[s]
                o0[s] += w00 * x0 + w10 * x1 + w20 * x2 + w30 * x3
                o1[s] += w01 * x0 + w11 * x1 + w21 * x2 + w31 * x3
                o2[s] += w02 * x0 + w12 * x1 + w22 * x2 + w32 * x3
                o3[s] += w03 * x0 + w13 * x1 + w23 * x2 + w33 * x3
            k += 4
        while k < n_src:
            i0 = src[src_first + k]
            r0 = w + k * src_stride
            w0, w1, w2, w3 = four(theta, r0, dst_stride)
            for s in range(m):
                x0 = i0[s]
                o0[s] += w0 * x0
                o1[s] += w1 * x0
                o2[s] += w2 * x0
                o3[s] += w3 * x0
            k += 1
        d += 4
    while d < n_dst:
        o0 = dst[dst_first + d]
        w = off + d * dst_stride
        k = 0
        while k + 4 <= n_src:
            i0 = src[src_first + k]
            i1 = src[src_first + k + 1]
            i2 = src[src_first + k + 2]
            i3 = src[src_first + k + 3]
            r0 = w + k * src_stride
            w0, w1, w2, w3 = four(theta, r0, src_stride)
            for s in range(m):
                o0[s] += w0 * i0[s] + w1 * i1[s] + w2 * i2[s] + w3 * i3[s]
            k += 4
        while k < n_src:
            i0 = src[src_first + k]
            w0 = theta[w + k * src_stride]
            for s in range(m):
                o0[s] += w0 * i0[s]
            k += 1
        d += 1


@njit(inline="always", **INTERNAL_REDUCE_OPTIONS)
def outer_sums_body(
    act: np.ndarray,
    a_first: int,
    fan_in: int,
    delta: np.ndarray,
    d_first: int,
    fan_out: int,
    grad: np.ndarray,
    off: int,
    stride: int,
    m: int,
) -> None:
    """``grad[off + i*stride + j] = sum_s act[a_first + i, s] delta[d_first + j, s]``, s < m.

    Every dot product of a row of one block with a row of another: the weight
    gradient dW = A D^T in the neuron-major layout, and in the sample-major one
    delta_prev = D W^T and the output layer's z = A w. Tiles of 4 x 4 (16 sums kept
    in vector registers over one pass), then leftovers.
    """
    i = 0
    while i < fan_in:
        ti = min(4, fan_in - i)
        j = 0
        while j < fan_out:
            tj = min(4, fan_out - j)
            if ti == 4 and tj == 4:
                a0, a1, a2, a3 = (
                    act[a_first + i],
                    act[a_first + i + 1],
                    act[a_first + i + 2],
                    act[a_first + i + 3],
                )
                d0, d1, d2, d3 = (
                    delta[d_first + j],
                    delta[d_first + j + 1],
                    delta[d_first + j + 2],
                    delta[d_first + j + 3],
                )
                g00 = g01 = g02 = g03 = g10 = g11 = g12 = g13 = 0.0
                g20 = g21 = g22 = g23 = g30 = g31 = g32 = g33 = 0.0
                for s in range(m):
                    x0, x1, x2, x3 = a0[s], a1[s], a2[s], a3[s]
                    e0, e1, e2, e3 = d0[s], d1[s], d2[s], d3[s]
                    g00 += x0 * e0
                    g01 += x0 * e1
                    g02 += x0 * e2
                    g03 += x0 * e3
                    g10 += x1 * e0
                    g11 += x1 * e1
                    g12 += x1 * e2
                    g13 += x1 * e3
                    g20 += x2 * e0
                    g21 += x2 * e1
                    g22 += x2 * e2
                    g23 += x2 * e3
                    g30 += x3 * e0
                    g31 += x3 * e1
                    g32 += x3 * e2
                    g33 += x3 * e3
                r = off + i * stride + j
                grad[r], grad[r + 1], grad[r + 2], grad[r + 3] = g00, g01, g02, g03
                r += stride
                grad[r], grad[r + 1], grad[r + 2], grad[r + 3] = g10, g11, g12, g13
                r += stride
                grad[r], grad[r + 1], grad[r + 2], grad[r + 3] = g20, g21, g22, g23
                r += stride
                grad[r], grad[r + 1], grad[r + 2], grad[r + 3] = g30, g31, g32, g33
            elif tj == 4:
                # Fewer than 4 rows left in act: each against the 4-row block of
                # delta in one pass, not one dot product at a time (sample-major
                # delta_back at 21 samples x 100 x 100: 12.7 -> 11.4 us; 20
                # samples take 10.3).
                d0, d1, d2, d3 = (
                    delta[d_first + j],
                    delta[d_first + j + 1],
                    delta[d_first + j + 2],
                    delta[d_first + j + 3],
                )
                for ii in range(i, i + ti):
                    a = act[a_first + ii]
                    g0 = g1 = g2 = g3 = 0.0
                    for s in range(m):
                        x = a[s]
                        g0 += x * d0[s]
                        g1 += x * d1[s]
                        g2 += x * d2[s]
                        g3 += x * d3[s]
                    r = off + ii * stride + j
                    grad[r], grad[r + 1], grad[r + 2], grad[r + 3] = g0, g1, g2, g3
            else:
                for ii in range(i, i + ti):
                    a = act[a_first + ii]
                    for jj in range(j, j + tj):
                        d = delta[d_first + jj]
                        acc = 0.0
                        for s in range(m):
                            acc += a[s] * d[s]
                        grad[off + ii * stride + jj] = acc
            j += tj
        i += ti


F64 = types.CPointer(types.float64)
I64 = types.int64
# Each array as its pointer and shape; then the integer arguments.
MIX_ROWS = types.void(F64, *[I64] * 4, F64, *[I64] * 4, F64, *[I64] * 5)
OUTER_SUMS = types.void(F64, *[I64] * 4, F64, *[I64] * 4, F64, *[I64] * 4)
call_mix_rows = calls_symbol("sweep_mix_rows")
call_outer_sums = calls_symbol("sweep_outer_sums")


@by_name("sweep_mix_rows", MIX_ROWS, JIT_OPTIONS["fastmath"])
def mix_rows_c(
    src_p: Any, src_rows: int, src_cols: int, src_first: int, n_src: int,
    dst_p: Any, dst_rows: int, dst_cols: int, dst_first: int, n_dst: int,
    theta_p: Any, theta_len: int, off: int, src_stride: int, dst_stride: int, m: int,
) -> None:  # fmt: skip
    """:func:`mix_rows` as a C function: its arrays as pointers and shapes."""
    src = carray(src_p, (src_rows, src_cols))
    dst = carray(dst_p, (dst_rows, dst_cols))
    theta = carray(theta_p, (theta_len,))
    mix_rows_body(
        src, src_first, n_src, dst, dst_first, n_dst, theta, off, src_stride, dst_stride, m
    )


@by_name("sweep_outer_sums", OUTER_SUMS, REDUCE_OPTIONS["fastmath"])
def outer_sums_c(
    act_p: Any, act_rows: int, act_cols: int, a_first: int, fan_in: int,
    delta_p: Any, delta_rows: int, delta_cols: int, d_first: int, fan_out: int,
    grad_p: Any, grad_len: int, off: int, stride: int, m: int,
) -> None:  # fmt: skip
    """:func:`outer_sums` as a C function: its arrays as pointers and shapes."""
    act = carray(act_p, (act_rows, act_cols))
    delta = carray(delta_p, (delta_rows, delta_cols))
    grad = carray(grad_p, (grad_len,))
    outer_sums_body(act, a_first, fan_in, delta, d_first, fan_out, grad, off, stride, m)


@njit(**INTERNAL_OPTIONS)
def mix_rows(
    src: np.ndarray,
    src_first: int,
    n_src: int,
    dst: np.ndarray,
    dst_first: int,
    n_dst: int,
    theta: np.ndarray,
    off: int,
    src_stride: int,
    dst_stride: int,
    m: int,
) -> None:
    """``dst[d] += sum_k w(k, d) src[k]`` over rows, ``w(k, d) = theta[off + k*ss + d*ds]``
    (:func:`mix_rows_body`), by a call to its C function."""
    call_mix_rows(
        (
            src, np.int64(src.shape[0]), np.int64(src.shape[1]), np.int64(src_first),
            np.int64(n_src), dst, np.int64(dst.shape[0]), np.int64(dst.shape[1]),
            np.int64(dst_first), np.int64(n_dst), theta, np.int64(theta.shape[0]),
            np.int64(off), np.int64(src_stride), np.int64(dst_stride), np.int64(m),
        )
    )  # fmt: skip


@njit(**INTERNAL_OPTIONS)
def outer_sums(
    act: np.ndarray,
    a_first: int,
    fan_in: int,
    delta: np.ndarray,
    d_first: int,
    fan_out: int,
    grad: np.ndarray,
    off: int,
    stride: int,
    m: int,
) -> None:
    """``grad[off + i*stride + j] = sum_s act[a_first + i, s] delta[d_first + j, s]``
    (:func:`outer_sums_body`), by a call to its C function."""
    call_outer_sums(
        (
            act, np.int64(act.shape[0]), np.int64(act.shape[1]), np.int64(a_first),
            np.int64(fan_in), delta, np.int64(delta.shape[0]), np.int64(delta.shape[1]),
            np.int64(d_first), np.int64(fan_out), grad, np.int64(grad.shape[0]),
            np.int64(off), np.int64(stride), np.int64(m),
        )
    )  # fmt: skip
