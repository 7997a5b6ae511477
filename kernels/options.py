"""The one set of Numba options every kernel is compiled with.

- ``cache=True``: compile once per machine, workers load the on-disk cache.
- ``nogil=True``: a kernel releases the GIL, so joblib's threading backend can run
  several of them at once.
- ``error_model="numpy"``: division by zero gives inf/NaN like NumPy instead of a
  Python exception, which keeps a branch out of every sigmoid and lets a diverging
  run report its non-finite loss.
- ``fastmath``: only flags that keep IEEE inf/NaN semantics (no ``nnan``/``ninf``),
  so ``np.isfinite`` still catches a diverged run. ``reassoc`` lets LLVM vectorise
  the reductions over samples; ``contract`` allows fused multiply-add.
"""

JIT_OPTIONS: dict[str, object] = {
    "nogil": True,
    "cache": True,
    "error_model": "numpy",
    "fastmath": {"nsz", "arcp", "contract", "reassoc"},
}
