"""Forward and backward passes of a fully connected net, explicit per-neuron loops.

Layout (chosen for speed, see benchmarks/README.md): all parameters are one flat
vector ``theta``; layer ``l`` maps ``sizes[l]`` inputs to ``sizes[l+1]`` outputs with
``W[i, j] = theta[woff[l] + i * sizes[l+1] + j]`` (``W`` shaped ``(fan_in, fan_out)``,
``z = a_prev @ W + b``) followed by ``b[j] = theta[boff[l] + j]``.

Inside a training run the passes work on a *strided* copy of that vector
(:func:`strided_layout`): a hidden layer of ``sizes[l]`` neurons takes
``widths[l]`` slots (:func:`padded_widths`, the count rounded up to :data:`LANES`),
so its rows of W, its biases and its stretch of every buffer end in padding, all
exact zeros (padding neurons get z = 0 and delta = 0, so their gradients are 0 and
the padding of theta stays 0). The sample-major passes run their innermost loops
over the padded width, all in vector registers (a row of 100 neurons otherwise ends
in a scalar remainder of 4 after 12 vectors of 8). Those loops are element-wise
except in :func:`delta_back`, whose dot products over a layer's neurons then add
0 x 0 terms in a different grouping: the deltas before the last hidden layer move
by rounding (1 ulp or so); every other value is what the unpadded layout gives,
to the bit.

Activations are stored *neurons outside, samples inside*: one 2-D buffer with a row
per neuron of the whole net (layer ``l``'s neuron ``j`` is row ``roff[l] + j``) and a
column per sample. With 4 hidden units a loop over neurons is too short to vectorise
while a loop over 100 samples is not, so every innermost loop here runs over the
samples of one row. (Indexing one flat buffer at computed offsets instead measured
8x slower: Numba's negative-index wraparound on a computed index blocks
vectorisation, while a row view indexed by the ``range`` variable does not.)

Neuron-major passes pad the sample count to a multiple of :data:`LANES`
(:func:`pass_width`; columns past the real samples hold copies of a real sample and
a zero output delta, so they add exactly 0 to every gradient): a loop of 21
iterations mostly runs in LLVM's scalar remainder, one of 24 in vector registers.
A pass with fewer samples than the widest hidden layer reads the same buffers
*sample-major* instead (:func:`samples_outer`), with the inner loops over neurons;
online training (one sample) has its own short pass (:func:`forward_one`).

Both matrix products (``z += W^T a`` forward, ``delta_prev += W delta`` backward)
and the weight gradients are register-tiled 4 x 4: four input rows and four output
rows per pass over the samples, so each loaded value feeds four multiply-adds and
each output row is stored once per four inputs instead of once per input
(measured 2-3x over one row pair at a time for H >= 32, benchmarks/README.md).
"""

import numpy as np
from numba import njit

from kernels.activations import (
    SHORT_ROW,
    activate_one,
    activate_row,
    scale_by_derivative,
    scale_one,
)
from kernels.options import JIT_OPTIONS, REDUCE_OPTIONS

LANES = 8  # doubles in one AVX-512 register

# Integer arguments of the tiled routines are passed as int64 values, never as
# literals: Numba compiles a separate copy of a function for every literal
# argument it sees (mix_rows was compiled 6 times, outer_sums 3; cold compile
# 24 -> 15.6 s CPU).
ZERO = np.int64(0)
ONE = np.int64(1)


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
def four(v: np.ndarray, start: int, stride: int) -> tuple[float, float, float, float]:
    """``v[start + k * stride]`` for k = 0..3: one row or column of a 4 x 4 weight tile."""
    return v[start], v[start + stride], v[start + 2 * stride], v[start + 3 * stride]


@njit(**JIT_OPTIONS)
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


@njit(**REDUCE_OPTIONS)
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


@njit(**JIT_OPTIONS)
def z_by_neuron(
    sizes: np.ndarray, widths: np.ndarray, woff: np.ndarray, boff: np.ndarray, roff: np.ndarray,
    layer: int, theta: np.ndarray, pre: np.ndarray, act: np.ndarray,
) -> None:  # fmt: skip
    """Neuron-major ``z[j, s] = b[j] + sum_i W[i, j] a[i, s]`` of layer ``layer + 1``.

    The real neurons only: the padding rows are never written.
    """
    fan_in = sizes[layer]
    fan_out = sizes[layer + 1]
    first = roff[layer + 1]
    m = act.shape[1]
    for j in range(fan_out):
        z = pre[first + j]
        bj = theta[boff[layer] + j]
        for s in range(m):
            z[s] = bj
    stride = widths[layer + 1]
    mix_rows(act, roff[layer], fan_in, pre, first, fan_out, theta, woff[layer], stride, ONE, m)


@njit(**JIT_OPTIONS)
def z_by_sample(
    sizes: np.ndarray, widths: np.ndarray, woff: np.ndarray, boff: np.ndarray, roff: np.ndarray,
    layer: int, theta: np.ndarray, pre: np.ndarray, act: np.ndarray,
) -> None:  # fmt: skip
    """Sample-major ``z[s, j] = b[j] + sum_i a[s, i] W[i, j]``: rows of W mixed by a[s, i].

    The rows run over the padded width (the padding columns of W and b are 0, so
    the padding neurons get z = 0), the sum over the real inputs ``i``. The output
    neuron (fan_out 1) is one dot product per sample instead.
    """
    fan_in = sizes[layer]
    width_in = widths[layer]
    width = widths[layer + 1]
    m = act.shape[1]
    bias = theta[boff[layer] : boff[layer] + width]
    a = block(act, roff[layer], width_in)
    if sizes[layer + 1] == 1:
        z = pre[roff[layer + 1]]
        w = theta[woff[layer] : woff[layer] + fan_in].reshape(1, fan_in)
        outer_sums(a, ZERO, m, w, ZERO, ONE, z, ZERO, ONE, fan_in)
        for s in range(m):
            z[s] += bias[0]
        return
    z = block(pre, roff[layer + 1], width)
    for s in range(m):
        z[s] = bias
    w = weights(theta, woff, sizes, widths, layer)
    mix_rows(w, ZERO, fan_in, z, ZERO, m, act.reshape(-1), roff[layer] * m, ONE, width_in, width)


@njit(**JIT_OPTIONS)
def forward(
    sizes: np.ndarray,
    widths: np.ndarray,
    woff: np.ndarray,
    boff: np.ndarray,
    roff: np.ndarray,
    theta: np.ndarray,
    pre: np.ndarray,
    act: np.ndarray,
    scratch: np.ndarray,
    hidden_code: int,
    out_code: int,
) -> None:
    """Fill ``pre`` (z) and ``act`` (f(z)) of layers 1..L from the inputs in layer 0.

    Every column of the ``(n_rows, m)`` buffers is a sample (padding included), in
    the layout :func:`samples_outer` picks. A layer's values are contiguous in
    either, so its activation runs as one long row of ``widths[l] * m`` values
    (padding neurons included; ``scratch`` must be as long).
    """
    m = act.shape[1]
    by_sample = samples_outer(sizes, m)
    n_layers = sizes.shape[0] - 1
    for layer in range(n_layers):
        if by_sample:
            z_by_sample(sizes, widths, woff, boff, roff, layer, theta, pre, act)
        else:
            z_by_neuron(sizes, widths, woff, boff, roff, layer, theta, pre, act)
        first = roff[layer + 1]
        width = widths[layer + 1]
        code = out_code if layer == n_layers - 1 else hidden_code
        z = pre[first : first + width].reshape(-1)
        a = act[first : first + width].reshape(-1)
        activate_row(code, z, a, scratch, width * m)


@njit(**REDUCE_OPTIONS)
def grads_by_neuron(
    sizes: np.ndarray, widths: np.ndarray, woff: np.ndarray, boff: np.ndarray, roff: np.ndarray,
    layer: int, act: np.ndarray, delta: np.ndarray, grad: np.ndarray,
) -> None:  # fmt: skip
    """Neuron-major ``db[j] = sum_s d[j, s]``, ``dW[i, j] = sum_s a[i, s] d[j, s]``."""
    fan_in = sizes[layer]
    fan_out = sizes[layer + 1]
    first = roff[layer + 1]
    m = act.shape[1]
    for j in range(fan_out):
        row = delta[first + j]
        acc = 0.0
        for s in range(m):
            acc += row[s]
        grad[boff[layer] + j] = acc
    stride = widths[layer + 1]
    outer_sums(act, roff[layer], fan_in, delta, first, fan_out, grad, woff[layer], stride, m)


@njit(**REDUCE_OPTIONS)
def grads_by_sample(
    sizes: np.ndarray, widths: np.ndarray, woff: np.ndarray, boff: np.ndarray, roff: np.ndarray,
    layer: int, act: np.ndarray, delta: np.ndarray, grad: np.ndarray,
) -> None:  # fmt: skip
    """Sample-major ``db[j] = sum_s d[s, j]``, ``dW[i, j] = sum_s a[s, i] d[s, j]``.

    dW is built from rows of D mixed by the a[s, i] (for the output neuron, from
    rows of A mixed by the d[s]), so the inner loops run over neurons: over the
    padded width, whose deltas are 0 (their gradients are then 0 and the padding
    of theta stays 0), the sum over the samples.
    """
    fan_in = sizes[layer]
    fan_out = sizes[layer + 1]
    width_in = widths[layer]
    width = widths[layer + 1]
    first = roff[layer + 1]
    m = act.shape[1]
    d = block(delta, first, width)
    db = grad[boff[layer] : boff[layer] + width]
    db[:] = 0.0
    for s in range(m):
        for j in range(width):
            db[j] += d[s, j]
    dw = weights(grad, woff, sizes, widths, layer)
    dw[:] = 0.0
    if fan_out == 1:
        a = block(act, roff[layer], width_in)
        dw_row = dw.reshape(1, fan_in)
        mix_rows(a, ZERO, m, dw_row, ZERO, ONE, delta.reshape(-1), first * m, ONE, ZERO, fan_in)
    else:
        a_flat = act.reshape(-1)
        mix_rows(d, ZERO, m, dw, ZERO, fan_in, a_flat, roff[layer] * m, width_in, ONE, width)


@njit(**JIT_OPTIONS)
def delta_back(
    sizes: np.ndarray, widths: np.ndarray, woff: np.ndarray, roff: np.ndarray, layer: int,
    theta: np.ndarray, delta: np.ndarray, by_sample: bool,
) -> None:  # fmt: skip
    """``delta_prev = W delta`` (before the derivative) into layer ``layer``'s rows.

    Neuron-major: rows of D mixed by W. Sample-major: one dot product per sample and
    neuron, (row s of D) . (row i of W), over the padded width (the padding of both
    is 0; over the 100 real neurons of a row the scalar remainder of 4 cost 18%: 21
    samples x 100 x 100, 11.4 -> 9.6 us a pass); for the output neuron, d[s] w[i].
    The padding neurons' deltas are never written (they stay 0).
    """
    fan_in = sizes[layer]
    fan_out = sizes[layer + 1]
    width_in = widths[layer]
    width = widths[layer + 1]
    first = roff[layer + 1]
    prev = roff[layer]
    m = delta.shape[1]
    if not by_sample:
        delta[prev : prev + fan_in] = 0.0
        mix_rows(delta, first, fan_out, delta, prev, fan_in, theta, woff[layer], ONE, width, m)
        return
    w = weights(theta, woff, sizes, widths, layer)
    if fan_out == 1:
        dp = block(delta, prev, width_in)
        dp[:] = 0.0
        w_row = w.reshape(1, fan_in)
        mix_rows(w_row, ZERO, ONE, dp, ZERO, m, delta.reshape(-1), first * m, ZERO, ONE, fan_in)
    else:
        d = block(delta, first, width)
        dp_flat = delta.reshape(-1)
        outer_sums(d, ZERO, m, w, ZERO, fan_in, dp_flat, prev * m, width_in, width)


@njit(**JIT_OPTIONS)
def backward(
    sizes: np.ndarray,
    widths: np.ndarray,
    woff: np.ndarray,
    boff: np.ndarray,
    roff: np.ndarray,
    theta: np.ndarray,
    act: np.ndarray,
    delta: np.ndarray,
    grad: np.ndarray,
    hidden_code: int,
    use_bias: bool,
) -> None:
    """Gradients of every parameter into ``grad``, from the output row of ``delta``.

    ``delta`` holds dLoss/dz per neuron and sample, laid out like ``act`` (the
    layout :func:`samples_outer` picks); on entry only the output neuron's row is
    filled, and the padding neurons' deltas are 0. Backpropagation:
    dW[i, j] = sum_s a_prev[i, s] delta[j, s],  db[j] = sum_s delta[j, s],
    delta_prev[i, s] = f'(a_prev[i, s]) sum_j W[i, j] delta[j, s].
    """
    m = act.shape[1]
    by_sample = samples_outer(sizes, m)
    n_layers = sizes.shape[0] - 1
    for layer in range(n_layers - 1, -1, -1):
        if by_sample:
            grads_by_sample(sizes, widths, woff, boff, roff, layer, act, delta, grad)
        else:
            grads_by_neuron(sizes, widths, woff, boff, roff, layer, act, delta, grad)
        if not use_bias:
            grad[boff[layer] : boff[layer] + sizes[layer + 1]] = 0.0
        if layer == 0:
            break
        delta_back(sizes, widths, woff, roff, layer, theta, delta, by_sample)
        prev = roff[layer]
        width_in = widths[layer]
        a = act[prev : prev + width_in].reshape(-1)
        dp = delta[prev : prev + width_in].reshape(-1)
        scale_by_derivative(hidden_code, a, dp, width_in * m)


@njit(**JIT_OPTIONS)
def forward_one(
    sizes: np.ndarray,
    widths: np.ndarray,
    woff: np.ndarray,
    boff: np.ndarray,
    roff: np.ndarray,
    theta: np.ndarray,
    z: np.ndarray,
    a: np.ndarray,
    scratch: np.ndarray,
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
        zl[:] = theta[boff[layer] : boff[layer] + fan_out]
        for i in range(fan_in):
            ai = a[roff[layer] + i]
            w = theta[woff[layer] + i * stride : woff[layer] + i * stride + fan_out]
            for j in range(fan_out):
                zl[j] += ai * w[j]
        activate_row(code, zl, a[first : first + fan_out], scratch, fan_out)


@njit(**REDUCE_OPTIONS)
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
