"""Peak memory of a whole sweep against its number of runs: does it stay flat?

The performance issue asks that a 100,000-run sweep stream its results to disk and
never hold all curves in memory. This script runs ``python -m sweep run`` (threading
backend, ``--jobs 2``, ``--quiet``) as a fresh process per case on grids of growing
size: tiny 2-2-1 sigmoid nets on ``xor`` (21 points), full-batch SGD, no target loss
(every run does every epoch), curves kept every epoch, so each run adds ``epochs``
curve rows (100,000 runs x 100 epochs = 10 million rows). The runs are 10 learning
rates x N seeds. Two series: 100 epochs (curves dominate what is written) and 2
epochs (almost no curves: what remains is the cost per run itself).

For each case: the command's peak resident set size (``ru_maxrss`` of the child from
``os.wait4``: the threading backend trains in that one process; with loky or dask
the workers would not be counted), its wall time, and the results folder's size on
disk. The command line has Arrow allocate with malloc unless
``ARROW_DEFAULT_MEMORY_POOL`` is set; set it (e.g. to ``mimalloc``) to measure
another pool. A first case of 10 runs in each series gives the fixed cost (Python, NumPy,
Numba, pandas, pyarrow, the compiled kernels loaded from Numba's cache, filled by a
run before the cases); "above base" is the peak minus that.

Usage: ``python benchmarks/sweep_memory.py [--sizes 1000,10000,100000,300000]
[--epochs 100,2]`` (about 3 minutes on 2 cores; ``--quick``: 1,000 and 10,000 runs
x 100 epochs, to check the script runs). Prints a Markdown table.
"""

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GRID = """\
[sweep]
name = "memory"
seeds = {seeds}
record_every = 1

[fixed]
dataset = "xor"
hidden = [2]
activation = "sigmoid"
epochs = {epochs}

[grid]
lr = {{ start = 0.01, stop = 1.0, num = 10, log = true }}
"""


def cpu_name() -> str:
    """The CPU's model name (Linux), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def folder_bytes(path: Path) -> int:
    """The size of every file under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def measure(grid: Path, out: Path, log: Path) -> tuple[float, float]:
    """``(peak RSS in MB, wall seconds)`` of one ``python -m sweep run`` into ``out``."""
    command = [sys.executable, "-m", "sweep", "run", str(grid), "--out", str(out)]
    command += ["--jobs", "2", "--backend", "threading", "--quiet"]
    with open(log, "w") as sink:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"sweep failed ({proc.returncode}): {log.read_text().strip()}")
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return usage.ru_maxrss * scale / 2**20, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,300000", help="runs per case")
    parser.add_argument("--epochs", default="100,2", help="epochs per run, one series each")
    parser.add_argument("--quick", action="store_true")
    opts = parser.parse_args()
    sizes = [1000, 10000] if opts.quick else [int(s) for s in opts.sizes.split(",")]
    series = [100] if opts.quick else [int(e) for e in opts.epochs.split(",")]
    if any(size % 10 for size in sizes):
        parser.error("--sizes must be multiples of 10 (10 learning rates x seeds)")

    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # Fill Numba's cache first, so no case pays (in time and memory) for compiling.
        warm = work / "warm.toml"
        warm.write_text(GRID.format(seeds=1, epochs=2))
        measure(warm, work / "warm", work / "log-warm.txt")
        for epochs in series:
            for size in [10, *sizes]:
                case = f"{size}-{epochs}"
                grid = work / f"memory-{case}.toml"
                grid.write_text(GRID.format(seeds=size // 10, epochs=epochs))
                out = work / f"out-{case}"
                rss, wall = measure(grid, out, work / f"log-{case}.txt")
                disk = folder_bytes(out) / 2**20
                rows.append((epochs, size, size * epochs, rss, wall, disk))
                print(f"{case}: {rss:.0f} MB, {wall:.1f} s", file=sys.stderr, flush=True)
                shutil.rmtree(out)

    print(
        f"Machine: {cpu_name()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.system()}; "
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after\n"
    )
    print("2-2-1 sigmoid nets on xor, curves every epoch; threading, n_jobs=2:\n")
    print("| epochs | runs | curve rows | peak RSS MB | above base MB | wall s | disk MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    base = 0.0
    for epochs, size, curve_rows, rss, wall, disk in rows:
        base = rss if size == 10 else base
        print(
            f"| {epochs} | {size:,} | {curve_rows:,} | {rss:.0f} | {rss - base:.0f} "
            f"| {wall:.1f} | {disk:.1f} |"
        )


if __name__ == "__main__":
    main()
