"""Initial weights, one name table, drawn in NumPy from the run's seed.

Numba's random state is not NumPy's, so weights are drawn here, before the kernel
runs, from ``np.random.default_rng(seed)``; the same seed gives the same weights in
any process. Biases always start at 0. Layer by layer, in order, ``W`` is drawn with
shape ``(fan_in, fan_out)``:

- ``normal``:  N(0, 1), as in the lab;
- ``uniform``: U(-1, 1);
- ``xavier``:  Glorot uniform, U(-r, r) with r = sqrt(6 / (fan_in + fan_out));
- ``he``:      Kaiming normal (fan_in), N(0, 2 / fan_in);
- ``zeros``:   all 0, which keeps every hidden unit of a layer identical for ever.
"""

from collections.abc import Sequence

import numpy as np

NORMAL = 0
UNIFORM = 1
XAVIER = 2
HE = 3
ZEROS = 4

INITS: dict[str, int] = {
    "normal": NORMAL,
    "uniform": UNIFORM,
    "xavier": XAVIER,
    "he": HE,
    "zeros": ZEROS,
}


def draw_layer(code: int, fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """One weight matrix ``(fan_in, fan_out)`` of scheme ``code``."""
    shape = (fan_in, fan_out)
    if code == NORMAL:
        return rng.standard_normal(shape)
    if code == UNIFORM:
        return rng.uniform(-1.0, 1.0, shape)
    if code == XAVIER:
        r = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-r, r, shape)
    if code == HE:
        return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
    if code == ZEROS:
        return np.zeros(shape)
    raise ValueError(f"unknown init code {code}")


def init_params(
    sizes: Sequence[int], scheme: str, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Initial ``[(W, b), ...]`` for layer widths ``sizes`` (input first, output last)."""
    if scheme not in INITS:
        raise ValueError(f"init must be one of {sorted(INITS)}, got {scheme!r}")
    rng = np.random.default_rng(seed)
    return [
        (draw_layer(INITS[scheme], fan_in, fan_out, rng), np.zeros(fan_out))
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True)
    ]
