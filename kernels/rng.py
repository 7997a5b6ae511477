"""The mini-batch shuffle: one small generator per run, the same in every kernel.

A run's order depends on its seed only, never on the process, the thread or the
other runs it is trained with: SplitMix64 (Steele, Lea and Flood 2014; the seeder
of Java's ``SplittableRandom`` and of xoshiro) keeps one uint64 of state per run,
so :mod:`kernels.lockstep` holds a state per lane where NumPy's (or Numba's) global
generator would be shared by every run of a thread.
"""

import numpy as np
from numba import njit

from kernels.options import JIT_OPTIONS

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)


@njit(**JIT_OPTIONS)
def seed_state(seed: int) -> np.uint64:
    """The starting state for ``seed`` (any int64; negative ones wrap)."""
    return np.uint64(seed)


@njit(**JIT_OPTIONS)
def next_u64(state: np.ndarray, k: int) -> np.uint64:
    """The next 64 random bits of generator ``state[k]`` (advanced in place)."""
    state[k] += GOLDEN
    z = state[k]
    z = (z ^ (z >> np.uint64(30))) * MIX1
    z = (z ^ (z >> np.uint64(27))) * MIX2
    return z ^ (z >> np.uint64(31))


@njit(**JIT_OPTIONS)
def shuffle(order: np.ndarray, state: np.ndarray, k: int) -> None:
    """Fisher-Yates shuffle of ``order`` in place from generator ``state[k]``.

    ``j = bits mod (i + 1)``: the modulo bias is below 2^-57 for any data set here.
    """
    for i in range(order.shape[0] - 1, 0, -1):
        j = np.int64(next_u64(state, k) % np.uint64(i + 1))
        order[i], order[j] = order[j], order[i]
