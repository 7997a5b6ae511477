"""The Numba options every kernel is compiled with: two sets, one for reductions.

- ``cache=True``: compile once per machine, workers load the on-disk cache.
- ``nogil=True``: a kernel releases the GIL, so joblib's threading backend can run
  several of them at once.
- ``error_model="numpy"``: division by zero gives inf/NaN like NumPy instead of a
  Python exception, which keeps a branch out of every sigmoid and lets a diverging
  run report its non-finite loss.
- ``fastmath``: never ``nnan``/``ninf`` (``np.isfinite`` must still catch a diverged
  run). Element-wise code gets ``contract`` only (fused multiply-add), which keeps the
  exact operation order that :func:`kernels.activations.exp_row`'s range reduction
  needs. Code that sums over samples gets ``reassoc`` too (:data:`REDUCE_OPTIONS`):
  without it LLVM may not reorder a sum, so it cannot vectorise it. The optimizer
  step gets no flag at all (:data:`EXACT_OPTIONS`): with ``contract`` LLVM fused
  ``b1 * m + (1 - b1) * g`` one way in the vector body and the other way in the
  scalar remainder, so equal parameters at different positions got updates 1 ulp
  apart and a zero init's symmetry broke (its cost is nil: one pass per update).
"""

from typing import Any

JIT_OPTIONS: dict[str, Any] = {
    "nogil": True,
    "cache": True,
    "error_model": "numpy",
    "fastmath": {"contract"},
}

REDUCE_OPTIONS: dict[str, Any] = {**JIT_OPTIONS, "fastmath": {"contract", "reassoc", "nsz"}}

EXACT_OPTIONS: dict[str, Any] = {**JIT_OPTIONS, "fastmath": False}
