"""Cold against warm: what a sweep of nets new to the machine costs, in one sitting.

"Cold" is Numba's disk cache as a first use finds it: an empty ``NUMBA_CACHE_DIR``, or
only what the steps before it in this sitting compiled. Each step is a fresh ``python
-m sweep run`` (``--jobs 2``, threading) as a user runs it, timed whole (start-up
included), its peak memory the largest sum of the resident sizes of its process and
its children (the background compiler) sampled every 20 ms; then the same grid again
into another folder, warm, and the two results compared run by run (the same runs,
the same final losses to the bit).

Steps: the first use (a 1-run, 10-epoch grid of a 2-3-1 tanh net on an empty cache);
then ``grids/lr.toml``, ``activations.toml``, ``depth.toml``, ``lab.toml`` and
``benchmarks/grids/architectures.toml`` (144 nets, 3 seeds: a benchmark, not a lab grid), each cold
then warm, against the goal
max(1.5 x warm, warm + 10 s); a script that calls ``train_one`` once for each of 300
configurations spanning 60 nets (5 activations x mse/mae/bce x 0-3 hidden layers, 200
epochs, 21-100 samples) on an empty cache, against 300 s and 1 GB; and, warm, the
per-epoch cost of one ``train_one`` call of a small net against the one-run kernel
``kernels.train`` (goal: at most 1.2x).

Usage: ``python benchmarks/cold_start.py [--only STEP ...] [--quick]`` (``--quick``:
the first use and ``lr.toml`` only); prints Markdown tables. Run it from outside the
repository for an A/B of two trees (``python -m`` puts the current folder first).
"""

import argparse
import compileall
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRIDS = ["lr", "activations", "depth", "lab", "architectures"]
FIRST_USE = """\
[sweep]
name = "first"
seeds = 1

[fixed]
dataset = "xor"
hidden = [3]
activation = "tanh"
epochs = 10
"""
TRAIN_ONE = """\
import itertools, sys, time
from sweep import RunConfig, train_one
start = time.perf_counter()
configs = []
nets = itertools.product(
    ["sigmoid", "tanh", "relu", "leaky_relu", "identity"], ["mse", "mae", "bce"], range(4)
)
for k, (activation, loss, depth) in enumerate(nets):
    for j, dataset in enumerate(["xor", "linear", "circle", "moons", "xor"]):
        configs.append(RunConfig(
            dataset=dataset, hidden=(4,) * depth, activation=activation, loss=loss,
            lr=(0.1, 0.5, 1.0)[(k + j) % 3], epochs=200, seed=j,
        ))
for cfg in configs:
    train_one(cfg)
print(len(configs), len({(c.hidden, c.activation, c.loss) for c in configs}),
      time.perf_counter() - start)
"""
PER_EPOCH = """\
import time
import kernels
from sweep import RunConfig, make_dataset, train_one
rows = []
for dataset, batch_size, epochs in [("linear", None, 3000), ("xor", None, 3000),
                                    ("linear", 16, 1000), ("linear", 1, 300)]:
    cfg = RunConfig(dataset=dataset, hidden=(4, 4), lr=0.1, epochs=epochs,
                    batch_size=batch_size)
    x, y = make_dataset(dataset)
    init = kernels.init_params(cfg.sizes, cfg.init, cfg.seed)
    one, alone = float("inf"), float("inf")
    train_one(cfg); kernels.train(x, y, init, lr=0.1, epochs=2, batch_size=batch_size)
    for _ in range(9):  # alternated, best of each
        t = time.perf_counter(); a = train_one(cfg); one = min(one, time.perf_counter() - t)
        t = time.perf_counter()
        b = kernels.train(x, y, init, lr=0.1, epochs=epochs, batch_size=batch_size)
        alone = min(alone, time.perf_counter() - t)
    assert a.epochs_run == b.epochs_run == epochs
    rows.append((dataset, batch_size, one / epochs * 1e6, alone / epochs * 1e6))
print(rows)
"""


def tree_rss(pid: int) -> int:
    """Resident bytes of process ``pid`` and its descendants (0 once it is gone)."""
    try:
        import psutil
    except ImportError:
        return 0
    try:
        parent = psutil.Process(pid)
        procs = [parent, *parent.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            pass
    return total


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """``(wall seconds, peak MB of the process tree, stdout)`` of ``cmd``."""
    peak = [0]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err.strip()[-2000:]}")
    return wall, peak[0] / 2**20, out


def final_losses(folder: Path) -> dict[str, bytes]:
    """Each run's final loss, as its float64 bytes, by run id."""
    import pyarrow.parquet as pq

    table = pq.read_table(folder / "runs.parquet", columns=["run_id", "final_loss"])
    ids = table.column("run_id").to_pylist()
    losses = table.column("final_loss").to_numpy(zero_copy_only=False)
    return {rid: loss.tobytes() for rid, loss in zip(ids, losses, strict=True)}


def sweep(grid: Path, out: Path, env: dict[str, str], *args: str) -> tuple[float, float, dict]:
    cmd = [sys.executable, "-m", "sweep", "run", str(grid), "--out", str(out), "--jobs", "2"]
    cmd += args
    wall, peak, _ = timed(cmd, env)
    start = json.loads((out / "manifest.json").read_text())["starts"][-1]
    return wall, peak, start.get("kernels", {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--only", nargs="*", help="steps: first, the grids' names, train_one, epoch"
    )
    opts = parser.parse_args()
    steps = opts.only or (
        ["first", "lr"] if opts.quick else ["first", *GRIDS, "train_one", "epoch"]
    )
    for package in ("sweep", "kernels", "analysis"):  # as a first import would
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            for folder in spec.submodule_search_locations:
                compileall.compile_dir(folder, quiet=1)
    load_before = os.getloadavg()[0]
    rows, notes = [], []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "NUMBA_CACHE_DIR": str(work / "numba-cache")}
        grids = {
            name: ROOT
            / ("benchmarks/grids" if name == "architectures" else "grids")
            / f"{name}.toml"
            for name in GRIDS
        }
        (work / "first.toml").write_text(FIRST_USE)
        grids["first"] = work / "first.toml"
        # Warm is every kernel these runs can use compiled (a cache of its own, filled
        # by a ``--compile all`` run first), so that a kernel a cold run decided not to
        # compile does not make warm slower; the cold cache only ever holds what the
        # cold steps before compiled.
        warm_env = {**os.environ, "NUMBA_CACHE_DIR": str(work / "numba-cache-warm")}
        for name in [s for s in steps if s in grids]:
            cold, cold_peak, kernels = sweep(grids[name], work / f"{name}-cold", env)
            sweep(grids[name], work / f"{name}-fill", warm_env, "--compile", "all")
            warm, warm_peak, _ = sweep(grids[name], work / f"{name}-warm", warm_env)
            same = final_losses(work / f"{name}-cold") == final_losses(work / f"{name}-warm")
            goal = max(1.5 * warm, warm + 10.0)
            beside = kernels.get("compiled_beside", [])
            rows.append((name, cold, warm, goal, cold_peak, warm_peak, same, len(beside)))
            if beside:
                notes.append(
                    f"{name}: compiled beside the training "
                    + ", ".join(f"{k['kernel']} ({k['seconds']:.1f} s)" for k in beside)
                )
        if "train_one" in steps:
            cache = {**os.environ, "NUMBA_CACHE_DIR": str(work / "numba-cache-train-one")}
            wall, peak, out = timed([sys.executable, "-c", TRAIN_ONE], cache)
            n, nets, _ = out.split()
            rows.append((f"train_one x {n} ({nets} nets)", wall, None, 300.0, peak, None, True, 0))
        epochs = None
        if "epoch" in steps:
            out = subprocess.run(
                [sys.executable, "-c", PER_EPOCH], env=env, capture_output=True, text=True,
                check=True,
            ).stdout  # fmt: skip
            epochs = eval(out)  # noqa: S307 (our own script's repr of a list of tuples)
    load = os.getloadavg()[0]
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        flags = Path("/proc/cpuinfo").read_text()
        cpu += ", AVX-512" if " avx512f" in flags else ", AVX2"
    except (OSError, StopIteration):
        pass
    print(
        f"Machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"load average {load_before:.1f} before, {load:.1f} after\n"
    )
    print("| step | cold s | warm s | goal s | cold peak MB | warm peak MB | same results | "
          "compiled beside |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---|---:|")
    for name, cold, warm, goal, cpeak, wpeak, same, beside in rows:
        warm_text = "" if warm is None else f"{warm:.1f}"
        wpeak_text = "" if wpeak is None else f"{wpeak:.0f}"
        met = "" if cold <= goal else " (over)"
        print(
            f"| {name} | {cold:.1f}{met} | {warm_text} | {goal:.1f} | {cpeak:.0f} | "
            f"{wpeak_text} | {'yes' if same else 'NO'} | {beside} |"
        )
    for note in notes:
        print(f"\n- {note}")
    if epochs:
        print("\nOne `train_one` call against the one-run kernel, 2-4-4-1, us per epoch (warm):\n")
        print("| data | batch | train_one | kernels.train | ratio |")
        print("|---|---|---:|---:|---:|")
        for dataset, batch, one, alone in epochs:
            print(
                f"| {dataset} | {batch or 'full'} | {one:.2f} | {alone:.2f} | {one / alone:.2f}x |"
            )


if __name__ == "__main__":
    main()
