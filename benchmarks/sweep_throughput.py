"""Runs per second of a whole sweep, end to end: ``python -m sweep run`` as a user runs it.

The grid: 2,000 runs of a 2-4-4-1 sigmoid net on ``linear`` (100 points), 2,000 epochs
each, full-batch SGD, no target loss (so every run does every epoch), curves kept every
20th epoch: 10 learning rates x 200 seeds. Each case is a fresh ``python -m sweep run``
process into an empty folder, so the figures include start-up, warm-up (Numba's disk
cache already filled), worker start, Parquet writing and consolidation; ``sweep s`` is
the sweep's own time (from warm-up to consolidated files), ``wall s`` the command's.

Cases: n_jobs=1 (joblib runs in-process, whatever the backend), n_jobs=2 with the
threading backend (the kernels release the GIL) and with loky (worker processes), and
the Dask backend on a local cluster of 2 single-threaded workers when dask is installed.
Parallel efficiency is the speed-up over n_jobs=1 divided by 2. Where each case's
best run spent its wall comes from the seconds its manifest records for the start
(loading the kernels, training, consolidating); the rest is Python, the imports,
planning and exit.

The yardstick is the grid's pure kernel time: the same runs through
``kernels.train_many`` in groups of 64 lanes in one warm process (best of ``repeats``),
against which the issue's goal puts the 2-job sweep at most 1.3x of kernel time / 2.
The project's bytecode is compiled first, as Python does at a module's first import
and pip at a regular install: with ``PYTHONDONTWRITEBYTECODE`` set, as on this
project's machine, an editable install would compile ``sweep``, ``kernels`` and
``analysis`` again in every process (~40 ms of start-up a user does not pay).

The environment counts: with SciPy installed (JAX brings it, for the peer columns of
``kernel_speed.py``) Numba imports it at its first dispatch to look for a BLAS, about
0.2 s of start-up a project-only install (``pip install -e .``) does not pay; the
script says which it ran in.

Then the start-up cost of a tiny sweep (8 runs x 100 epochs): cold, with an empty
``NUMBA_CACHE_DIR`` so the parent compiles every kernel, against warm, with that cache
filled, for threading and loky.

Usage: ``python benchmarks/sweep_throughput.py [--repeats 3] [--quick]``; prints
Markdown tables (``--quick``: 400 runs and one repeat, to check the script runs).
"""

import argparse
import compileall
import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GRID = """\
[sweep]
name = "throughput"
seeds = {seeds}
record_every = 20

[fixed]
dataset = "linear"
hidden = [4, 4]
activation = "sigmoid"
epochs = 2000

[grid]
lr = {{ start = 0.01, stop = 1.0, num = 10, log = true }}
"""

TINY = """\
[sweep]
name = "tiny"
seeds = 4

[fixed]
dataset = "xor"
epochs = 100

[grid]
lr = [0.1, 1.0]
"""

PHASES = ("kernels", "training", "consolidation")  # as the manifest records a start
# The command's last line; its runs/s gives the sweep's seconds to 4 digits (its "in
# 2.8 s" to 2).
TRAINED = re.compile(r"trained ([\d,]+) runs in [\d.]+ s \(([\d,.]+) runs/s\)")


def run(
    grid: Path, out: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[float, float, dict[str, float]]:
    """``(wall seconds, sweep seconds, the sweep's phases)`` of one ``python -m sweep
    run`` into ``out``; the phases are the seconds its manifest records for this start
    (loading or compiling the kernels, training, consolidating)."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "sweep", "run", str(grid), "--out", str(out), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"sweep failed ({proc.returncode}): {proc.stderr.strip()}")
    found = TRAINED.search(proc.stdout)
    if not found:
        raise RuntimeError(f"unexpected output: {proc.stdout!r}")
    phases = json.loads((out / "manifest.json").read_text())["starts"][-1]["seconds"]
    n_runs, per_second = (float(g.replace(",", "")) for g in found.groups())
    return wall, n_runs / per_second, phases


def best(grid: Path, work: Path, repeats: int, *args: str) -> tuple[float, float, dict[str, float]]:
    """The fastest of ``repeats`` runs, each into a new folder."""
    results = []
    for _ in range(repeats):
        out = Path(tempfile.mkdtemp(dir=work))
        results.append(run(grid, out, "--quiet", *args))
    return min(results, key=lambda r: r[1])


KERNEL_TIME = """\
import sys, time
from kernels import init_params, train_many
from sweep.datasets import make_dataset
from sweep.grid import load_grid
cfgs = list(load_grid(sys.argv[1]).runs)
x, y = make_dataset("linear")
train_many(x, y, [init_params(cfgs[0].sizes, "normal", 0)], epochs=1)
best = float("inf")
for _ in range(int(sys.argv[2])):
    start = time.perf_counter()
    for i in range(0, len(cfgs), 64):
        group = cfgs[i : i + 64]
        inits = [init_params(c.sizes, c.init, c.seed) for c in group]
        train_many(x, y, inits, lr=[c.lr for c in group], epochs=group[0].epochs)
    best = min(best, time.perf_counter() - start)
print(best)
"""


def compile_all() -> list[str]:
    """``["--compile", "all"]`` where ``sweep run`` has the flag, else nothing."""
    proc = subprocess.run(
        [sys.executable, "-m", "sweep", "run", "--help"], capture_output=True, text=True
    )
    return ["--compile", "all"] if "--compile" in proc.stdout else []


def kernel_seconds(grid: Path, repeats: int) -> float:
    """The grid's pure kernel time (see the module docstring), in a fresh process."""
    proc = subprocess.run(
        [sys.executable, "-c", KERNEL_TIME, str(grid), str(repeats)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(proc.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    opts = parser.parse_args()
    repeats = 1 if opts.quick else opts.repeats
    seeds = 40 if opts.quick else 200
    n_runs = 10 * seeds

    for package in ("sweep", "kernels", "analysis"):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            for folder in spec.submodule_search_locations:
                compileall.compile_dir(folder, quiet=1)
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        grid = work / "throughput.toml"
        grid.write_text(GRID.format(seeds=seeds))
        # Fill Numba's cache first, so no case below pays for compiling: with every
        # kernel these runs can use (``--compile all``; a tree from before the flag
        # compiled them all anyway).
        run(grid, work / "fill-cache", "--jobs", "1", "--quiet", *compile_all())

        cases = [("n_jobs=1", "threading", 1), ("threading", "threading", 2), ("loky", "loky", 2)]
        try:
            import dask.distributed  # noqa: F401

            cases.append(("dask (LocalCluster)", "dask", 2))
        except ImportError:
            pass
        kernel = kernel_seconds(grid, repeats)
        rows = []
        phases = {}
        base = None
        for label, backend, jobs in cases:
            wall, sweep, phases[label] = best(
                grid, work, repeats, "--backend", backend, "--jobs", str(jobs)
            )
            base = base or sweep
            rows.append((label, jobs, wall, sweep, n_runs / sweep, base / sweep / jobs))

        tiny = work / "tiny.toml"
        tiny.write_text(TINY)
        starts = []
        for backend in ("threading", "loky"):
            cache = work / f"numba-cache-{backend}"
            env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
            cold = run(tiny, work / f"cold-{backend}", "--backend", backend, "--jobs", "2", env=env)
            warm = run(tiny, work / f"warm-{backend}", "--backend", backend, "--jobs", "2", env=env)
            starts.append((backend, cold[0], warm[0]))

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.system()}; "
        f"load average {load_before:.1f} before, {load:.1f} after\n"
    )
    print(f"{n_runs:,} runs of a 2-4-4-1 net x 2,000 epochs (linear, curves every 20th epoch), ")
    scipy = "installed" if importlib.util.find_spec("scipy") else "not installed"
    print(f"best of {repeats}; SciPy {scipy}; pure kernel time {kernel:.2f} s:\n")
    print("| case | n_jobs | wall s | sweep s | runs/s | parallel efficiency | wall / (kernel/2) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, jobs, wall, sweep, rate, eff in rows:
        cells = f"{wall:.2f} | {sweep:.2f} | {rate:,.0f} | {eff:.0%} | {wall / (kernel / 2):.2f}x"
        print(f"| {label} | {jobs} | {cells} |")
    print(
        "\nWhere the wall goes (the same best runs; outside = Python, imports, planning, exit):\n"
    )
    print("| case | outside the phases s | kernels from cache s | training s | consolidation s |")
    print("|---|---:|---:|---:|---:|")
    for label, _, wall, _, _, _ in rows:
        p = phases[label]
        outside = wall - sum(p[k] for k in PHASES)
        cells = (
            f"{outside:.2f} | {p['kernels']:.2f} | {p['training']:.2f} | {p['consolidation']:.2f}"
        )
        print(f"| {label} | {cells} |")
    print("\nStart-up of a tiny sweep (8 runs x 100 epochs, n_jobs=2), cold vs warm Numba cache:\n")
    print("| backend | cold wall s | warm wall s | compile overhead s |")
    print("|---|---:|---:|---:|")
    for backend, cold, warm in starts:
        print(f"| {backend} | {cold:.1f} | {warm:.1f} | {cold - warm:.1f} |")


if __name__ == "__main__":
    main()
