"""Activation functions and their derivatives, one name table.

Each derivative is computed from the activation's *output* ``a`` (as scikit-learn's
``DERIVATIVES`` do), so the backward pass needs no stored pre-activations:
sigmoid' = a(1-a), tanh' = 1-a^2, relu' = [a>0], leaky_relu' = 1 or 0.01.
The row functions take the choice as a small integer code and run the branch once
per row, with the loop over samples inside, so the loop can be vectorised.
"""

import math

import numpy as np
from numba import njit

from kernels.options import JIT_OPTIONS

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


@njit(**JIT_OPTIONS)
def sigmoid(z: float) -> float:
    # exp(-z) overflows to inf for z < -709, giving exactly 0: no NaN.
    return 1.0 / (1.0 + math.exp(-z))


@njit(**JIT_OPTIONS)
def relu(z: float) -> float:
    return z if z > 0.0 else 0.0


@njit(**JIT_OPTIONS)
def leaky_relu(z: float) -> float:
    return z if z > 0.0 else LEAKY_SLOPE * z


@njit(**JIT_OPTIONS)
def activate_row(code: int, z: np.ndarray, a: np.ndarray, start: int, m: int) -> None:
    """``a[start:start+m] = f(z[start:start+m])`` for activation ``code``."""
    if code == SIGMOID:
        for s in range(start, start + m):
            a[s] = sigmoid(z[s])
    elif code == TANH:
        for s in range(start, start + m):
            a[s] = math.tanh(z[s])
    elif code == RELU:
        for s in range(start, start + m):
            a[s] = relu(z[s])
    elif code == LEAKY_RELU:
        for s in range(start, start + m):
            a[s] = leaky_relu(z[s])
    else:
        for s in range(start, start + m):
            a[s] = z[s]


@njit(**JIT_OPTIONS)
def scale_by_derivative(code: int, a: np.ndarray, delta: np.ndarray, start: int, m: int) -> None:
    """``delta *= f'(.)`` on one row, the derivative written in terms of the output ``a``."""
    if code == SIGMOID:
        for s in range(start, start + m):
            delta[s] *= a[s] * (1.0 - a[s])
    elif code == TANH:
        for s in range(start, start + m):
            delta[s] *= 1.0 - a[s] * a[s]
    elif code == RELU:
        for s in range(start, start + m):
            delta[s] = delta[s] if a[s] > 0.0 else 0.0
    elif code == LEAKY_RELU:
        for s in range(start, start + m):
            delta[s] = delta[s] if a[s] > 0.0 else LEAKY_SLOPE * delta[s]
    # identity: derivative 1, nothing to do
