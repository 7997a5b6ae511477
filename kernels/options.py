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
from llvmlite import binding as llvm

JIT_OPTIONS: dict[str, Any] = {
    "nogil": True,
    "cache": True,
    "error_model": "numpy",
    "fastmath": {"contract"},
}

REDUCE_OPTIONS: dict[str, Any] = {**JIT_OPTIONS, "fastmath": {"contract", "reassoc", "nsz"}}

EXACT_OPTIONS: dict[str, Any] = {**JIT_OPTIONS, "fastmath": False}

# Functions only compiled code calls (never Python): no Python or C wrapper to build,
# and no cache entry of their own (their callers' cached code holds them).
INTERNAL_OPTIONS: dict[str, Any] = {
    **JIT_OPTIONS,
    "cache": False,
    "no_cpython_wrapper": True,
    "no_cfunc_wrapper": True,
}

# The same for code that sums over samples (REDUCE_OPTIONS' flags).
INTERNAL_REDUCE_OPTIONS: dict[str, Any] = {
    **INTERNAL_OPTIONS,
    "fastmath": REDUCE_OPTIONS["fastmath"],
}

# The generated passes: C functions called by address from the compiled loop
# (kernels.call), so no Python wrapper and no GIL to release; JIT_OPTIONS' flags.
CFUNC_OPTIONS: dict[str, Any] = {
    "cache": True,
    "error_model": "numpy",
    "fastmath": {"contract"},
}


_folder: Path | None = None


def source_key(package: Path) -> str:
    """A hash of every Python source under ``package`` (its subpackages included, by
    path), the Numba version and this machine's CPU: the name of the cache folder."""
    digest = hashlib.sha256(numba.__version__.encode())
    digest.update(llvm.get_host_cpu_name().encode())
    digest.update(llvm.get_host_cpu_features().flatten().encode())
    for source in sorted(package.rglob("*.py")):
        name = source.relative_to(package).as_posix()
        digest.update(name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:16]


def cache_folder() -> Path:
    """The folder of the kernels' Numba cache, keyed on a hash of every kernel source
    file, the Numba version and this machine's CPU.

    Numba checks only the source of the file that defines a function: after an edit to
    ``mlp/tiles.py`` alone, ``train.py``'s cached ``_train`` (which inlines it) would be
    loaded with the old code compiled in, silently. A folder per source hash makes any
    edit to any kernel file a cold cache instead. The CPU is in the key because Numba
    compiles for the host's instruction set: a checkout moved to a machine of another
    kind starts cold rather than finding code it cannot load. The folder is
    ``$NUMBA_CACHE_DIR/sweep-kernels-<hash>`` when the user set one, else
    ``kernels/__pycache__/numba-<hash>``; older ``numba-*`` folders there are pruned.
    """
    global _folder
    if _folder is not None:
        return _folder
    here = Path(__file__).resolve().parent
    key = source_key(here)
    user_dir = os.environ.get("NUMBA_CACHE_DIR")
    if user_dir:
        folder = Path(user_dir) / f"sweep-kernels-{key}"
    else:
        folder = here / "__pycache__" / f"numba-{key}"
        for old in folder.parent.glob("numba-*"):
            if old != folder:
                shutil.rmtree(old, ignore_errors=True)
    _folder = folder
    return folder


@contextmanager
def source_keyed_cache() -> Iterator[None]:
    """Point Numba's disk cache at :func:`cache_folder` while kernels are defined.

    The setting is restored on exit, so other Numba users in the process are unaffected
    (each dispatcher fixes its cache folder when it is decorated).
    """
    config: Any = numba.config  # its settings are set at run time: no static attributes
    previous = config.CACHE_DIR
    config.CACHE_DIR = str(cache_folder())
    try:
        yield
    finally:
        config.CACHE_DIR = previous
