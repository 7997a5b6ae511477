"""Run ids as 8-byte keys, and a grid's run order held by key."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import pyarrow as pa

from sweep.store.arrays import string_array

_HEX_DIGITS = np.full(256, 16, np.uint8)
_HEX_DIGITS[np.frombuffer(b"0123456789abcdef", np.uint8)] = np.arange(16, dtype=np.uint8)


def id_keys(ids: pa.Array | pa.ChunkedArray | Iterable[str]) -> np.ndarray:
    """Each run id as a 64-bit key (``uint64``): its 16 hex digits read as a number.

    A run id is the first 64 bits of a SHA-256 in hex (:func:`sweep.grid.run_id`), so
    the key is the id itself in 8 bytes instead of a ~65-byte Python string, and sets
    of a sweep's ids become sorted numpy arrays. Any other string (never written by
    the tool) gets the first 8 bytes of its BLAKE2b hash instead. The digits are read
    in place from the Arrow buffer (16 bytes a row, no index arrays).
    """
    if not isinstance(ids, pa.Array | pa.ChunkedArray):
        ids = string_array(ids)
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    if not pa.types.is_string(ids.type):
        ids = ids.cast(pa.string())
    n = len(ids)
    if n == 0:
        return np.zeros(0, np.uint64)
    offsets_buffer, data_buffer = ids.buffers()[1:3]
    offsets = np.frombuffer(offsets_buffer, np.int32, count=n + 1, offset=4 * ids.offset)
    data = np.zeros(0, np.uint8) if data_buffer is None else np.frombuffer(data_buffer, np.uint8)
    regular = np.diff(offsets) == 16
    if regular.all():  # the usual case: the ids lie back to back, 16 bytes each
        text = data[offsets[0] : offsets[-1]].reshape(n, 16)
    else:
        text = np.zeros((n, 16), np.uint8)
        text[regular] = data[offsets[:-1][regular, None] + np.arange(16)]
    digits = _HEX_DIGITS[text]
    hexadecimal = regular & (digits < 16).all(axis=1)
    # Two hex digits make a byte; eight bytes, big-endian, the key.
    packed = (digits[:, 0::2] << 4) | digits[:, 1::2]
    keys = np.ascontiguousarray(packed).view(">u8").ravel().astype(np.uint64)
    for i in np.flatnonzero(~hexadecimal).tolist():
        digest = hashlib.blake2b(str(ids[i].as_py()).encode(), digest_size=8).digest()
        keys[i] = int.from_bytes(digest, "big")
    return keys


class RunOrder:
    """Run ids in an order (a grid's), by key: where each id stands, 16 bytes a run.

    ``RunOrder(keys)`` takes the :func:`id_keys` of the ids in order (a 300,000-run
    grid: 4.8 MB, where a list and a set of its ids took ~40 MB).
    """

    def __init__(self, keys: np.ndarray) -> None:
        self.keys = np.asarray(keys, np.uint64)
        self._sorter = np.argsort(self.keys, kind="stable")
        self._sorted = self.keys[self._sorter]

    @classmethod
    def of(cls, run_ids: RunOrder | Iterable[str]) -> RunOrder:
        """``run_ids`` as a RunOrder (itself if it is one)."""
        return run_ids if isinstance(run_ids, RunOrder) else cls(id_keys(run_ids))

    def __len__(self) -> int:
        return len(self.keys)

    def rank(self, keys: np.ndarray) -> np.ndarray:
        """The position of each key in the order (``int64``), -1 for a key not in it."""
        if not len(self.keys):
            return np.full(len(keys), -1, np.int64)
        at = np.minimum(np.searchsorted(self._sorted, keys), len(self.keys) - 1)
        return np.where(self._sorted[at] == keys, self._sorter[at], -1).astype(np.int64)

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Whether each key is in the order."""
        return self.rank(keys) >= 0


def locate_keys(sorted_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(found, position)`` of each of ``keys`` in the sorted array ``sorted_keys``."""
    if not len(sorted_keys):
        return np.zeros(len(keys), bool), np.zeros(len(keys), np.int64)
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[at] == keys, at
