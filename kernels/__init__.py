"""Numba-compiled training kernels: pure numbers, no files, no pandas.

Everything here imports numpy and numba (and llvmlite, numba's own) only, so it can be
read and tested alone. The public entry points are :func:`kernels.train.train` (a
whole training run in one compiled call), :func:`kernels.lockstep.train_many` (many
runs of one net in one call), :func:`kernels.one_lane.train_one_lane` (one run with
the lockstep's bits, vectorised over its samples),
:func:`kernels.lockstep.prefers_lockstep` (which of the two families is faster for a
configuration) and :func:`kernels.train.predict`; the name tables (:data:`ACTIVATIONS`,
:data:`LOSSES`, :data:`OPTIMIZERS`, :data:`INITS`) map the config names to the small
integer codes the compiled code branches on.
"""

from kernels.options import source_keyed_cache

# Every kernel module is first imported here, so all of them cache under one folder
# keyed on the kernels' sources (see source_keyed_cache).
with source_keyed_cache():
    from kernels import lockstep_loop, lockstep_passes  # noqa: F401 (cached under the same folder)
    from kernels.activations import ACTIVATION_ALIASES, ACTIVATIONS, OUTPUT_ACTIVATIONS
    from kernels.checks import TrainOutput
    from kernels.init import INITS, init_params
    from kernels.lockstep import prefers_lockstep, train_many
    from kernels.losses import LOSSES
    from kernels.one_lane import train_one_lane
    from kernels.optimizers import OPTIMIZERS
    from kernels.train import predict, train
    from kernels.warm import warm_up

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_ALIASES",
    "OUTPUT_ACTIVATIONS",
    "INITS",
    "LOSSES",
    "OPTIMIZERS",
    "TrainOutput",
    "init_params",
    "predict",
    "prefers_lockstep",
    "train",
    "train_many",
    "train_one_lane",
    "warm_up",
]
