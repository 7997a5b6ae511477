"""The shape of lockstep training: lanes, sample groups and batch modes.

Every lockstep array has a row per parameter (or neuron) and a column, a *lane*, per
run; a call trains up to :data:`LANES` runs. The constants here are shared by the
training loop (:mod:`kernels.lockstep_loop`), the generic and the generated passes
(:mod:`kernels.lockstep_passes`, :mod:`kernels.codegen`) and the Python side that
picks a kernel (:mod:`kernels.lockstep`).
"""

from numba.extending import register_jitable

from kernels.optimizers import SGD

LANES = 64  # runs per call: the stride of every lane array (a constant in generated code)
GROUP = 4  # samples per iteration of the generated learning passes' loop over lanes
# How an epoch learns, which decides the pass it calls (see batch_mode).
FULL_BATCH = 0  # learn_set: the scoring pass is the gradient, one update
MINI_BATCH = 1  # learn_picked and an update per mini-batch, scoring the epoch's start
ONLINE = 2  # sgd_online: plain SGD, an update per sample, scoring the epoch's start
BATCH_MODES = ("full batch", "mini-batch", "online")
MAX_LAYERS = 9  # weight layers of the deepest net a config allows (8 hidden layers)
# A net as the passes read it (kernels.lockstep.net_info): rows of sizes, weight, bias
# and neuron offsets, then hidden, output activation and loss codes, bias, layers,
# parameters, neuron rows and inputs.
NET_SHAPE = (5, MAX_LAYERS + 1)


@register_jitable
def batch_mode(n: int, batch_size: int, opt_code: int) -> int:
    """:data:`FULL_BATCH`, :data:`MINI_BATCH` or :data:`ONLINE`: which pass an epoch
    of ``n`` samples in batches of ``batch_size`` with optimizer ``opt_code`` calls."""
    if batch_size >= n:
        return FULL_BATCH
    if batch_size == 1 and opt_code == SGD:
        return ONLINE
    return MINI_BATCH
