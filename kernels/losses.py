"""Losses over one pass, each with its gradient at the output layer's logit.

``mse`` = mean((yhat-y)^2), gradient 2(yhat-y)/N at yhat;
``mae`` = mean(|yhat-y|), gradient sign(yhat-y)/N at yhat (0 at 0, as PyTorch);
``bce`` = mean(softplus(z) - y z) from the logit z (what PyTorch's
``BCEWithLogitsLoss`` computes), gradient (sigmoid(z) - y)/N straight at the logit, so
a saturated output never produces inf or NaN. For mse and mae the gradient at yhat is
then multiplied by the output activation's derivative.
"""

import math

import numpy as np
from numba import njit

from kernels.activations import scale_by_derivative
from kernels.options import JIT_OPTIONS, REDUCE_OPTIONS

MSE = 0
MAE = 1
BCE = 2

LOSSES: dict[str, int] = {"mse": MSE, "mae": MAE, "bce": BCE}


@njit(**JIT_OPTIONS)
def softplus(z: float) -> float:
    # log(1 + e^z) without overflow: max(z, 0) + log1p(e^-|z|).
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


@njit(**REDUCE_OPTIONS)
def loss_and_delta(
    code: int,
    out_code: int,
    z: np.ndarray,
    yhat: np.ndarray,
    y: np.ndarray,
    delta: np.ndarray,
    m: int,
) -> tuple[float, int]:
    """Loss, number of correct predictions, and the gradient at the logit into ``delta``.

    ``z``, ``yhat`` and ``delta`` are the output neuron's rows, ``y`` the targets; the
    first ``m`` samples count, and the padding columns after them get a zero delta
    (so they add exactly nothing to any gradient). Class 1 is ``yhat > 0.5``.
    """
    total = 0.0
    correct = 0
    inv_m = 1.0 / m
    for s in range(m):
        p = yhat[s]
        t = y[s]
        d = p - t
        if code == MSE:
            total += d * d
            delta[s] = 2.0 * d * inv_m
        elif code == MAE:
            total += abs(d)
            delta[s] = (1.0 if d > 0.0 else (-1.0 if d < 0.0 else 0.0)) * inv_m
        else:
            zs = z[s]
            total += softplus(zs) - t * zs
            delta[s] = d * inv_m
        if (p > 0.5) == (t > 0.5):
            correct += 1
    if code != BCE:
        scale_by_derivative(out_code, yhat, delta, m)
    for s in range(m, delta.shape[0]):
        delta[s] = 0.0
    return total * inv_m, correct
