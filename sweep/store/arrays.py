"""Arrow arrays built from numpy buffers and read back into numpy, without pandas.

pyarrow imports pandas the first time ``pa.array``, ``to_numpy`` or a Python scalar in
a compute call meets it, to check for pandas objects, and that import was 0.14 s of a
sweep's start-up, a fifth of a warm ``python -m sweep run`` of a tiny grid. Writing
and consolidating therefore build their arrays here (:func:`number_array`,
:func:`string_array`, :func:`list_array`) and read them back the same way
(:func:`numpy_values`); only the ``read_*`` functions that return frames import pandas.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

_NUMPY_TYPES = {pa.int32(): np.int32, pa.int64(): np.int64, pa.float64(): np.float64}


def _validity(valid: np.ndarray | None) -> tuple[pa.Buffer | None, int]:
    """An Arrow validity bitmap for the mask ``valid`` (None when nothing is null), and
    the null count."""
    if valid is None or valid.all():
        return None, 0
    return pa.py_buffer(np.packbits(valid, bitorder="little")), int(np.count_nonzero(~valid))


def number_array(values: Any, kind: pa.DataType, valid: np.ndarray | None = None) -> pa.Array:
    """``values`` as an Arrow array of ``kind`` (int32, int64, float64 or bool), null
    where ``valid`` is False."""
    bitmap, nulls = _validity(valid)
    if kind == pa.bool_():
        bits = np.asarray(values, bool)
        data = np.packbits(bits, bitorder="little")
        n = len(bits)
    else:
        data = np.ascontiguousarray(values, _NUMPY_TYPES[kind])
        n = len(data)
    return pa.Array.from_buffers(kind, n, [bitmap, pa.py_buffer(data)], null_count=nulls)


def string_array(values: Iterable[str | None]) -> pa.Array:
    """Python strings (None for null) as an Arrow string array."""
    items = list(values)
    valid = None
    if None in items:
        valid = np.array([v is not None for v in items], bool)
    encoded = [b"" if v is None else v.encode() for v in items]
    offsets = np.zeros(len(encoded) + 1, np.int32)
    np.cumsum(np.fromiter(map(len, encoded), np.int32, len(encoded)), out=offsets[1:])
    bitmap, nulls = _validity(valid)
    buffers = [bitmap, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(pa.string(), len(encoded), buffers, null_count=nulls)


def picked_strings(strings: Sequence[str], indices: np.ndarray) -> pa.Array:
    """``strings[indices[i]]`` for each i, built as a dictionary then cast (cheap)."""
    codes = number_array(np.asarray(indices, np.int32), pa.int32())
    return pa.DictionaryArray.from_arrays(codes, string_array(strings)).cast(pa.string())


def list_array(arrays: list[np.ndarray], kind: pa.DataType) -> pa.Array:
    """A ``list<kind>`` array, one list per (raveled, row-major) numpy array."""
    dtype = _NUMPY_TYPES[kind]
    offsets = np.zeros(len(arrays) + 1, dtype=np.int32)
    np.cumsum([a.size for a in arrays], out=offsets[1:])
    values = np.concatenate([a.ravel() for a in arrays]) if arrays else np.zeros(0, dtype)
    return pa.ListArray.from_arrays(number_array(offsets, pa.int32()), number_array(values, kind))


def rows_array(matrices: list[np.ndarray], kind: pa.DataType) -> pa.Array:
    """A ``list<kind>`` array, one list per row of each 2-D numpy array, in order."""
    dtype = _NUMPY_TYPES[kind]
    widths = [np.full(m.shape[0], m.shape[1], np.int32) for m in matrices]
    offsets = np.zeros(sum(m.shape[0] for m in matrices) + 1, dtype=np.int32)
    if widths:
        np.cumsum(np.concatenate(widths), out=offsets[1:])
    values = np.concatenate([m.ravel() for m in matrices]) if matrices else np.zeros(0, dtype)
    return pa.ListArray.from_arrays(number_array(offsets, pa.int32()), number_array(values, kind))


def column_array(values: list[Any], kind: pa.DataType) -> pa.Array:
    """A column of Python values (None for null) as an Arrow array of ``kind``."""
    if pa.types.is_string(kind):
        return string_array(values)
    if pa.types.is_list(kind):
        if any(v is None for v in values):
            raise ValueError("list columns hold no nulls here")
        dtype = _NUMPY_TYPES[kind.value_type]
        return list_array([np.asarray(v, dtype) for v in values], kind.value_type)
    valid = np.array([v is not None for v in values], bool)
    return number_array([0 if v is None else v for v in values], kind, valid)


def numpy_values(array: pa.Array | pa.ChunkedArray, fill: Any = 0) -> np.ndarray:
    """A numeric or boolean Arrow array's values as numpy, ``fill`` where null."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    n, offset = len(array), array.offset
    bitmap, data = array.buffers()[:2]
    if n == 0:  # an empty array may come without a data buffer
        return np.zeros(0, bool if array.type == pa.bool_() else _NUMPY_TYPES[array.type])
    if array.type == pa.bool_():
        bits = np.unpackbits(np.frombuffer(data, np.uint8), count=offset + n, bitorder="little")
        values: np.ndarray = bits[offset:].astype(bool)
    else:
        dtype = np.dtype(_NUMPY_TYPES[array.type])
        values = np.frombuffer(data, dtype, count=n, offset=offset * dtype.itemsize).copy()
    if array.null_count:
        valid = np.unpackbits(np.frombuffer(bitmap, np.uint8), count=offset + n, bitorder="little")
        values[~valid[offset:].astype(bool)] = fill
    return values
