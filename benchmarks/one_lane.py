"""One run with the lockstep's bits: :func:`kernels.train_one_lane`, cold and warm.

Cold: a fresh process on an empty ``NUMBA_CACHE_DIR`` imports ``kernels`` and trains a
2-4-4-1 net for 3 epochs; the CPU seconds (user + system, ``time.process_time``) of the
import and of that first call, which compiles the kernel, are printed apart (the best of
``--cold`` processes: the machine is shared, so the least disturbed one is the
nearest to the cost). Warm: per-epoch microseconds of ``train_one_lane``, of the one-run
kernel ``kernels.train`` and of the interim one-lane kernel it replaced, one lane of
the generic lockstep passes (``train_many(..., [params], passes="generic")``), on
2-4-4-1 sigmoid nets, SGD at lr 0.1: full batch on ``linear`` (n=100) and ``xor``
(n=21), mini-batches of 16 and online on ``linear``. The three are timed in turn within
one process, round after round, each figure the best round.

Usage: ``python benchmarks/one_lane.py [--cold N] [--rounds N]``; prints Markdown.
"""

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial

CHILD = """
import time
start = time.process_time()
import kernels
from sweep import make_dataset
imported = time.process_time()
x, y = make_dataset("linear")
params = kernels.init_params([2, 4, 4, 1], "normal", 0)
before = time.process_time()
kernels.train_one_lane(x, y, params, epochs=3)
print(imported - start, time.process_time() - before)
"""
CASES = [("linear", None), ("xor", None), ("linear", 16), ("linear", 1)]


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cold(processes: int) -> tuple[float, float]:
    """CPU seconds of the import and of the first call, each the best of ``processes``."""
    imports, calls = [], []
    for _ in range(processes):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "NUMBA_CACHE_DIR": cache}
            out = subprocess.run(
                [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True
            )
        first, second = out.stdout.split()
        imports.append(float(first))
        calls.append(float(second))
    return min(imports), min(calls)


def warm(rounds: int) -> list[tuple[str, float, float, float]]:
    """Per-epoch microseconds of (one lane, one run, generic lane) for each case."""
    import kernels
    from sweep import make_dataset

    params = kernels.init_params([2, 4, 4, 1], "normal", 0)
    rows = []
    for dataset, batch_size in CASES:
        x, y = make_dataset(dataset)
        epochs = {None: 2000, 16: 300, 1: 100}[batch_size]
        kw = dict(lr=0.1, epochs=epochs, batch_size=batch_size, target_loss=None)
        runs: list[Callable[[], object]] = [
            partial(kernels.train_one_lane, x, y, params, **kw),
            partial(kernels.train, x, y, params, **kw),
            partial(kernels.train_many, x, y, [params], passes="generic", **kw),
        ]
        best = [float("inf")] * len(runs)
        for run in runs:
            run()  # compile or load
        for _ in range(rounds):
            for k, run in enumerate(runs):
                start = time.perf_counter()
                run()
                best[k] = min(best[k], (time.perf_counter() - start) / epochs * 1e6)
        mode = {None: "full batch", 16: "batch 16", 1: "online"}[batch_size]
        rows.append((f"{dataset}, {mode}", best[0], best[1], best[2]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", type=int, default=3, help="fresh processes to time (best)")
    parser.add_argument("--rounds", type=int, default=7, help="warm rounds (best)")
    args = parser.parse_args()
    print(f"CPU: {cpu_model()} ({os.cpu_count()} cores), Python {platform.python_version()}\n")
    imported, called = cold(args.cold)
    print("| cold, empty cache (CPU s) | import kernels | first train_one_lane call |")
    print("|---|---|---|")
    print(f"| best of {args.cold} processes | {imported:.2f} | {called:.2f} |\n")
    print("| 2-4-4-1, per epoch (us) | one lane | kernels.train | ratio | generic lane | ratio |")
    print("|---|---|---|---|---|---|")
    for name, one, run, generic in warm(args.rounds):
        print(
            f"| {name} | {one:.2f} | {run:.2f} | {one / run:.2f} | {generic:.2f} "
            f"| {one / generic:.2f} |"
        )


if __name__ == "__main__":
    main()
