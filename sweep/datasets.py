"""The lab's two data sets, exactly as the lab generates them, and three harder ones.

Every generator draws from ``np.random.default_rng(seed)`` and returns ``x`` of shape
``(n, 2)`` and ``y`` of shape ``(n, 1)``, both float64, labels 0/1.

- ``linear``: n points (default 100) uniform in [0, 1]^2, label 0 when x0 > x1, else 1.
- ``xor``: for i = 0..10, the point (0.1 i, 0.1 i) labelled 0 and, unless i == 5, the
  point (0.1 i, 1 - 0.1 i) labelled 1: 21 points, no randomness, ``n`` fixed.
- ``circle``: two concentric circles (radius 1, label 0; radius 0.5, label 1).
- ``moons``: two interleaving half circles (scikit-learn's ``make_moons`` shape).
- ``spiral``: two interleaved spiral arms, one per class.

``noise`` is the standard deviation of Gaussian jitter added to the coordinates after
the labels are set (so a noisy ``linear`` or ``xor`` keeps the lab's labels).
"""

from collections.abc import Callable

import numpy as np

Dataset = tuple[np.ndarray, np.ndarray]


def _linear(n: int, rng: np.random.Generator) -> Dataset:
    x = rng.uniform(0.0, 1.0, (n, 2))
    y = np.where(x[:, 0] > x[:, 1], 0.0, 1.0)
    return x, y


def _xor(n: int, rng: np.random.Generator) -> Dataset:
    points: list[tuple[float, float]] = []
    labels: list[float] = []
    for i in range(11):
        points.append((0.1 * i, 0.1 * i))
        labels.append(0.0)
        if i == 5:
            continue
        points.append((0.1 * i, 1.0 - 0.1 * i))
        labels.append(1.0)
    return np.array(points), np.array(labels)


def _circle(n: int, rng: np.random.Generator) -> Dataset:
    n_outer = n // 2
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    radius = np.where(np.arange(n) < n_outer, 1.0, 0.5)
    x = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    y = (np.arange(n) >= n_outer).astype(np.float64)
    return x, y


def _moons(n: int, rng: np.random.Generator) -> Dataset:
    n_upper = n // 2
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n - n_upper)
    x = np.vstack(
        [
            np.column_stack([np.cos(t_upper), np.sin(t_upper)]),
            np.column_stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)]),
        ]
    )
    y = np.concatenate([np.zeros(n_upper), np.ones(n - n_upper)])
    order = rng.permutation(n)
    return x[order], y[order]


def _spiral(n: int, rng: np.random.Generator) -> Dataset:
    n_first = n // 2
    label = (np.arange(n) >= n_first).astype(np.float64)
    t = rng.uniform(0.25, 1.0, n) * 3.0 * np.pi
    angle = t + np.pi * label
    x = np.column_stack([t * np.cos(angle), t * np.sin(angle)]) / (3 * np.pi)
    return x, label


# name -> (generator, default n, whether n may be chosen)
DATASETS: dict[str, tuple[Callable[[int, np.random.Generator], Dataset], int, bool]] = {
    "linear": (_linear, 100, True),
    "xor": (_xor, 21, False),
    "circle": (_circle, 100, True),
    "moons": (_moons, 100, True),
    "spiral": (_spiral, 200, True),
}


def make_dataset(
    name: str, seed: int = 0, n: int | None = None, noise: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Points ``x`` (n, 2) and labels ``y`` (n, 1) of data set ``name``.

    Parameters
    ----------
    name : one of ``linear``, ``xor``, ``circle``, ``moons``, ``spiral``.
    seed : the data's own seed (``data_seed`` in a config), independent of the run's.
    n : number of points, None for the data set's default (``xor`` is always 21).
    noise : standard deviation of Gaussian jitter on the coordinates, >= 0.
    """
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {name!r}")
    generate, default_n, sizable = DATASETS[name]
    if n is not None and not sizable:
        raise ValueError(f"n: dataset {name!r} has a fixed size ({default_n}); leave n unset")
    if n is not None and n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    if not noise >= 0.0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    rng = np.random.default_rng(seed)
    x, y = generate(default_n if n is None else n, rng)
    if noise > 0.0:
        x = x + rng.normal(0.0, noise, x.shape)
    return np.ascontiguousarray(x, dtype=np.float64), y.astype(np.float64).reshape(-1, 1)
