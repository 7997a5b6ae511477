"""Parameter updates with PyTorch's rules and default constants (``torch.optim``).

All parameters live in one flat vector ``theta`` with its gradient ``grad`` and up to
two state vectors, so each rule is one loop. ``t`` is the 1-based update count.

- sgd:      p -= lr g
- momentum: b = 0.9 b + g; p -= lr b                       (SGD(momentum=0.9))
- adagrad:  s += g^2; p -= lr g / (sqrt(s) + 1e-10)
- rmsprop:  v = 0.99 v + 0.01 g^2; p -= lr g / (sqrt(v) + 1e-8)
- adam:     m = 0.9 m + 0.1 g; v = 0.999 v + 0.001 g^2;
            p -= (lr / (1-0.9^t)) m / (sqrt(v) / sqrt(1-0.999^t) + 1e-8)
"""

import math

import numpy as np
from numba import njit

from kernels.options import EXACT_OPTIONS, JIT_OPTIONS

SGD = 0
MOMENTUM = 1
ADAGRAD = 2
RMSPROP = 3
ADAM = 4

OPTIMIZERS: dict[str, int] = {
    "sgd": SGD,
    "momentum": MOMENTUM,
    "adagrad": ADAGRAD,
    "rmsprop": RMSPROP,
    "adam": ADAM,
}

MOMENTUM_COEF = 0.9
ADAGRAD_EPS = 1e-10
RMSPROP_ALPHA = 0.99
RMSPROP_EPS = 1e-8
ADAM_BETA1 = 0.9
ADAM_BETA2 = 0.999
ADAM_EPS = 1e-8


@njit(inline="always", **JIT_OPTIONS)
def sgd_one(p: float, lr: float, g: float) -> float:
    """``p - lr g`` as one fused multiply-add: the lockstep SGD update of one parameter.

    Inlined (at Numba's level, so it takes the caller's ``contract``) by
    :func:`sgd_lanes` and by the generated online passes of :mod:`kernels.codegen`,
    which update each parameter in the pass: both round it the same way. One product
    can be fused one way only, so unlike momentum's or Adam's updates (see
    :data:`kernels.options.EXACT_OPTIONS`) a vector body and its scalar remainder agree.
    (An unfused version can't be had there: Numba puts the function's fast-math flags
    on every instruction, an intrinsic's too, and a call to a separately compiled
    function stops the loop around it from vectorising: online 34 -> 103 ns per run
    and sample.)
    """
    return p - lr * g


@njit(**EXACT_OPTIONS)
def step(
    code: int,
    theta: np.ndarray,
    grad: np.ndarray,
    s1: np.ndarray,
    s2: np.ndarray,
    lr: float,
    t: int,
) -> None:
    """One update of every parameter in place, the same rounding at every position."""
    n = theta.shape[0]
    if code == SGD:
        for k in range(n):
            theta[k] -= lr * grad[k]
    elif code == MOMENTUM:
        for k in range(n):
            s1[k] = MOMENTUM_COEF * s1[k] + grad[k]
            theta[k] -= lr * s1[k]
    elif code == ADAGRAD:
        for k in range(n):
            s1[k] += grad[k] * grad[k]
            theta[k] -= lr * grad[k] / (math.sqrt(s1[k]) + ADAGRAD_EPS)
    elif code == RMSPROP:
        for k in range(n):
            s1[k] = RMSPROP_ALPHA * s1[k] + (1.0 - RMSPROP_ALPHA) * grad[k] * grad[k]
            theta[k] -= lr * grad[k] / (math.sqrt(s1[k]) + RMSPROP_EPS)
    else:
        step_size = lr / (1.0 - ADAM_BETA1**t)
        root_bc2 = math.sqrt(1.0 - ADAM_BETA2**t)
        for k in range(n):
            s1[k] = ADAM_BETA1 * s1[k] + (1.0 - ADAM_BETA1) * grad[k]
            s2[k] = ADAM_BETA2 * s2[k] + (1.0 - ADAM_BETA2) * grad[k] * grad[k]
            theta[k] -= step_size * s1[k] / (math.sqrt(s2[k]) / root_bc2 + ADAM_EPS)


@njit(**JIT_OPTIONS)
def sgd_lanes(theta: np.ndarray, grad: np.ndarray, lr: np.ndarray, m: int) -> None:
    """The SGD update of lanes ``[0, m)`` (a row per parameter), each with its ``lr[r]``."""
    for k in range(theta.shape[0]):
        p, g = theta[k], grad[k]
        for r in range(m):
            p[r] = sgd_one(p[r], lr[r], g[r])


@njit(**EXACT_OPTIONS)
def step_lanes(
    code: int,
    theta: np.ndarray,
    grad: np.ndarray,
    s1: np.ndarray,
    s2: np.ndarray,
    lr: np.ndarray,
    t: int,
    scratch: np.ndarray,
    m: int,
) -> None:
    """:func:`step` for runs in lockstep: a row per parameter, a column (lane) per run.

    The first ``m`` lanes are updated, each with its own ``lr[r]``, by exactly the
    arithmetic :func:`step` does for one run; ``scratch`` holds Adam's per-lane step
    size.
    """
    n = theta.shape[0]
    if code == SGD:
        sgd_lanes(theta, grad, lr, m)
    elif code == MOMENTUM:
        for k in range(n):
            p, g, b = theta[k], grad[k], s1[k]
            for r in range(m):
                b[r] = MOMENTUM_COEF * b[r] + g[r]
                p[r] -= lr[r] * b[r]
    elif code == ADAGRAD:
        for k in range(n):
            p, g, acc = theta[k], grad[k], s1[k]
            for r in range(m):
                acc[r] += g[r] * g[r]
                p[r] -= lr[r] * g[r] / (math.sqrt(acc[r]) + ADAGRAD_EPS)
    elif code == RMSPROP:
        for k in range(n):
            p, g, v = theta[k], grad[k], s1[k]
            for r in range(m):
                v[r] = RMSPROP_ALPHA * v[r] + (1.0 - RMSPROP_ALPHA) * g[r] * g[r]
                p[r] -= lr[r] * g[r] / (math.sqrt(v[r]) + RMSPROP_EPS)
    else:
        bc1 = 1.0 - ADAM_BETA1**t
        root_bc2 = math.sqrt(1.0 - ADAM_BETA2**t)
        for r in range(m):
            scratch[r] = lr[r] / bc1
        for k in range(n):
            p, g, mom, v = theta[k], grad[k], s1[k], s2[k]
            for r in range(m):
                mom[r] = ADAM_BETA1 * mom[r] + (1.0 - ADAM_BETA1) * g[r]
                v[r] = ADAM_BETA2 * v[r] + (1.0 - ADAM_BETA2) * g[r] * g[r]
                p[r] -= scratch[r] * mom[r] / (math.sqrt(v[r]) / root_bc2 + ADAM_EPS)
