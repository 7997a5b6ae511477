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

The rooms:

- :mod:`~kernels.mlp.layout`: the flat and strided layouts, padding, and a pass's shape.
- :mod:`~kernels.mlp.tiles`: the 4 x 4 register-tiled products.
- :mod:`~kernels.mlp.passes`: forward and backward over a batch, by neuron or by sample.
- :mod:`~kernels.mlp.one_sample`: forward and backward of one sample (online training).
"""

from kernels.mlp.layout import (
    LANES,
    block,
    from_strided,
    layout,
    padded_widths,
    pass_width,
    samples_outer,
    strided_layout,
    strided_positions,
    to_strided,
    weights,
    widest_hidden,
)
from kernels.mlp.one_sample import (
    backward_one,
    forward_one,
)
from kernels.mlp.passes import (
    backward,
    delta_back,
    forward,
    grads_by_neuron,
    grads_by_sample,
    z_by_neuron,
    z_by_sample,
)
from kernels.mlp.tiles import (
    ONE,
    ZERO,
    four,
    mix_rows,
    outer_sums,
)

__all__ = [
    "LANES",
    "ONE",
    "ZERO",
    "backward",
    "backward_one",
    "block",
    "delta_back",
    "forward",
    "forward_one",
    "four",
    "from_strided",
    "grads_by_neuron",
    "grads_by_sample",
    "layout",
    "mix_rows",
    "outer_sums",
    "padded_widths",
    "pass_width",
    "samples_outer",
    "strided_layout",
    "strided_positions",
    "to_strided",
    "weights",
    "widest_hidden",
    "z_by_neuron",
    "z_by_sample",
]
