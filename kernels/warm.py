"""Compile (or load from Numba's disk cache) the kernels every net shares, in one call."""

import numpy as np

from kernels.init import init_params
from kernels.lockstep import train_many
from kernels.train import predict, train


def warm_up() -> None:
    """Compile (or load from Numba's disk cache) the kernels every net shares, once.

    The one-run kernel, ``predict`` and the generic lockstep kernel: their codes are
    plain integers, so one compilation serves every activation, loss, optimizer and
    init. The lockstep kernels generated per small net compile on first use
    (:func:`sweep.training.compile_kernels_for` does a grid's up front).
    """
    x = np.array([[0.0, 0.0], [1.0, 1.0]])
    y = np.array([0.0, 1.0])
    params = init_params([2, 2, 1], "normal", 0)
    train(x, y, params, epochs=2, target_loss=1e-9, batch_size=1)
    train(x, y, params, epochs=2)
    predict(x, params)
    train_many(
        x, y, [params, params], epochs=2, target_loss=[1e-9, None], batch_size=1, passes="generic"
    )
