"""The Numba options every kernel is compiled with: two sets, one for reductions.

- ``cache=True``: compile once per machine, workers load the on-disk cache.
- ``nogil=True``: a kernel releases the GIL, so joblib's threading backend can run
  several of them at once.
- ``error_model="numpy"``: division by zero gives inf/NaN like NumPy instead of a
  Python exception, which keeps a branch out of every sigmoid and lets a diverging
  run report its non-finite loss.
- ``fastmath``: never ``nnan``/``ninf`` (``np.isfinite`` must still catch a diverged
  run). Element-wise code gets ``contract`` only (fused multiply-add), which keeps the
  exact operation order that :func:`kernels.activations.expm1_clamped`'s range reduction
  needs. Code that sums over samples gets ``reassoc`` too (:data:`REDUCE_OPTIONS`):
  without it LLVM may not reorder a sum, so it cannot vectorise it. The optimizer
  step gets no flag at all (:data:`EXACT_OPTIONS`): with ``contract`` LLVM fused
  ``b1 * m + (1 - b1) * g`` one way in the vector body and the other way in the
  scalar remainder, so equal parameters at different positions got updates 1 ulp
  apart and a zero init's symmetry broke (its cost is nil: one pass per update).
  Lockstep SGD is the exception (:func:`kernels.optimizers.sgd_one`): one product,
  fused one way only, so the generated online passes can make it in their loop.
"""

import hashlib
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numba

JIT_OPTIONS: dict[str, Any] = {
    "nogil": True,
    "cache": True,
    "error_model": "numpy",
    "fastmath": {"contract"},
}

REDUCE_OPTIONS: dict[str, Any] = {**JIT_OPTIONS, "fastmath": {"contract", "reassoc", "nsz"}}

EXACT_OPTIONS: dict[str, Any] = {**JIT_OPTIONS, "fastmath": False}


@contextmanager
def source_keyed_cache() -> Iterator[None]:
    """Point Numba's disk cache, while the kernels are defined, at a folder keyed on
    a hash of every kernel source file.

    Numba checks only the source of the file that defines a function: after an edit to
    ``mlp.py`` alone, ``train.py``'s cached ``_train`` (which inlines ``mlp``) would be
    loaded with the old code compiled in, silently. A folder per source hash makes any
    edit to any kernel file a cold cache instead. The folder is
    ``$NUMBA_CACHE_DIR/sweep-kernels-<hash>`` when the user set one, else
    ``kernels/__pycache__/numba-<hash>``; older ``numba-*`` folders there are pruned.
    The setting is restored on exit, so other Numba users in the process are unaffected
    (each dispatcher fixes its cache folder when it is decorated).
    """
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256(numba.__version__.encode())
    for source in sorted(here.glob("*.py")):
        digest.update(source.name.encode() + source.read_bytes())
    key = digest.hexdigest()[:16]
    user_dir = os.environ.get("NUMBA_CACHE_DIR")
    if user_dir:
        folder = Path(user_dir) / f"sweep-kernels-{key}"
    else:
        folder = here / "__pycache__" / f"numba-{key}"
        for old in folder.parent.glob("numba-*"):
            if old != folder:
                shutil.rmtree(old, ignore_errors=True)
    config: Any = numba.config  # its settings are set at run time: no static attributes
    previous = config.CACHE_DIR
    config.CACHE_DIR = str(folder)
    try:
        yield
    finally:
        config.CACHE_DIR = previous
