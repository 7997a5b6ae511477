"""``python -m sweep`` and the ``sweep`` command: set up the process, then run the CLI.

Two settings for a process that only runs the tool, made before NumPy and Numba load
(``import sweep`` loads neither), and never by the library for a Python caller:

- One thread for NumPy's BLAS, as joblib's worker processes get: the tool's parallelism
  is its joblib workers, and each BLAS library loaded spins up a thread pool that
  busy-waits next to them (numpy's OpenBLAS, and SciPy's when Numba finds it).
- No garbage collection while the tool's modules import (for ``run``, the runner's
  joblib and pyarrow too; pandas only for analysis's commands), then those objects
  frozen (:func:`gc.freeze`): later collections, and the one at exit, skip the
  imported libraries' objects instead of walking them again.

Start-up and exit of a sweep of the lab net (imports, loading its kernel from the
cache, exit), CPU seconds: 1.25 before, 0.70 with both (0.85 freezing before the
runner's imports); ``benchmarks/sweep_throughput.py`` has the whole sweep.
"""

import gc
import os
import sys

BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")


def run() -> int:
    """The ``sweep`` command: :func:`sweep.cli.main` in a process set up for it."""
    for name in BLAS_THREADS:
        os.environ.setdefault(name, "1")
    gc.disable()
    try:
        from sweep.cli import arrow_uses_malloc, main

        if sys.argv[1:2] == ["run"]:
            arrow_uses_malloc()  # before pyarrow loads
            import sweep.runner  # noqa: F401
    finally:
        gc.freeze()
        gc.enable()
    try:
        return main()
    finally:
        gc.freeze()  # the collection at exit skips what the command made, too


if __name__ == "__main__":
    sys.exit(run())
