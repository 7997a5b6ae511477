"""Losses over one pass, each with its gradient at the output layer's logit.

``mse`` = mean((yhat-y)^2), gradient 2(yhat-y)/N at yhat;
``mae`` = mean(|yhat-y|), gradient sign(yhat-y)/N at yhat (0 at 0, as PyTorch);
``bce`` = mean(softplus(z) - y z) from the logit z (what PyTorch's
``BCEWithLogitsLoss`` computes), gradient (sigmoid(z) - y)/N straight at the logit, so
a saturated output never produces inf or NaN. For mse and mae the gradient at yhat is
then multiplied by the output activation's derivative.
"""

import math
from typing import Any

import numpy as np
from numba import carray, njit, types

from kernels.activations import scale_by_derivative
from kernels.call import by_name, calls_symbol
from kernels.options import INTERNAL_OPTIONS, INTERNAL_REDUCE_OPTIONS, REDUCE_OPTIONS

MSE = 0
MAE = 1
BCE = 2

LOSSES: dict[str, int] = {"mse": MSE, "mae": MAE, "bce": BCE}


@njit(**INTERNAL_OPTIONS)
def softplus(z: float) -> float:
    # log(1 + e^z) without overflow: max(z, 0) + log1p(e^-|z|).
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


@njit(inline="always", **INTERNAL_REDUCE_OPTIONS)
def loss_terms(
    code: int, z: np.ndarray, yhat: np.ndarray, y: np.ndarray, delta: np.ndarray, m: int
) -> float:
    """The sum of the first ``m`` samples' loss terms; their gradients at ``yhat`` (at
    the logit for ``bce``) into ``delta``, divided by ``m``."""
    total = 0.0
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
    return total


F64 = types.CPointer(types.float64)
I64 = types.int64


@by_name(
    "sweep_loss_terms",
    types.float64(I64, F64, I64, F64, I64, F64, I64, F64, I64, I64),
    REDUCE_OPTIONS["fastmath"],
)
def loss_terms_c(
    code: int, z_p: Any, n_z: int, yhat_p: Any, n_yhat: int, y_p: Any, n_y: int,
    delta_p: Any, n_delta: int, m: int,
) -> float:  # fmt: skip
    """:func:`loss_terms` as a C function: its arrays as pointers and lengths."""
    z = carray(z_p, (n_z,))
    yhat = carray(yhat_p, (n_yhat,))
    y = carray(y_p, (n_y,))
    delta = carray(delta_p, (n_delta,))
    return loss_terms(code, z, yhat, y, delta, m)


call_loss_terms = calls_symbol("sweep_loss_terms", types.float64)


@njit(**INTERNAL_OPTIONS)
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

    The sum over samples (:func:`loss_terms`, vectorised with ``reassoc``) is one C
    function called by name: inlined, its order depended on where it was compiled,
    and a process that had compiled the kernel and one that loaded it from the disk
    cache gave MAE losses 1 ulp apart. One sample (online training) has no sum to
    order, and no call.
    """
    if m == 1:
        total = loss_terms(code, z, yhat, y, delta, 1)
    else:
        total = call_loss_terms(
            (
                np.int64(code), z, np.int64(z.shape[0]), yhat, np.int64(yhat.shape[0]),
                y, np.int64(y.shape[0]), delta, np.int64(delta.shape[0]), np.int64(m),
            )
        )  # fmt: skip
    correct = 0
    for s in range(m):
        if (yhat[s] > 0.5) == (y[s] > 0.5):
            correct += 1
    if code != BCE:
        scale_by_derivative(out_code, yhat, delta, m)
    for s in range(m, delta.shape[0]):
        delta[s] = 0.0
    return total * (1.0 / m), correct
