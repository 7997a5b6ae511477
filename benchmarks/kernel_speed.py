"""Per-epoch cost of one training run: our kernel against the peers, in one process.

Cases (the performance issue's table): 2-H-H-1 sigmoid, MSE, full-batch SGD, float64,
H=4 on linear (n=100) and xor (n=21), H=32 on linear, H=100 on xor; plus mini-batch
(B=16) and online (B=1) training of the H=4 linear case, reported per sample-update
relative to full batch. Peers: a plain NumPy implementation (per-layer matmul, the
lab's way), PyTorch eager with one thread, JAX with the whole loop jit-compiled and
jit(vmap) over 1000 runs (each only when importable). The lower bound counts the
multiply-adds at one core's FMA peak plus one vectorised exp per sigmoid.

Usage: ``python benchmarks/kernel_speed.py [--quick]``; prints a Markdown table.
"""

import argparse
import os
import platform
import time

import numpy as np

from kernels import init_params, train, warm_up
from sweep import make_dataset

CASES = [("linear", 4), ("xor", 4), ("linear", 32), ("xor", 100)]
PEAK_FLOPS_PER_CYCLE = 16  # 2 FMA pipes x 4 doubles x 2 flops (AVX2 / Zen 4 AVX-512)
EXP_CYCLES = 1.5  # per element, a vectorised polynomial exp (8 lanes, ~12 ops)


def cpu_ghz() -> float:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("cpu MHz"):
                    return float(line.split(":")[1]) / 1000
    except OSError:
        pass
    return 2.6


def lower_bound_us(n: int, h: int) -> float:
    """FLOPs of one epoch at one core's peak + one vectorised exp per sigmoid output."""
    sizes = [2, h, h, 1]
    macs = sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    back = sum(a * b for a, b in zip(sizes[1:-1], sizes[2:], strict=True))
    flops = 2 * n * (2 * macs + back)
    exps = n * (2 * h + 1)
    cycles = flops / PEAK_FLOPS_PER_CYCLE + exps * EXP_CYCLES / 8
    return cycles / (cpu_ghz() * 1e3)


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def ours(x, y, h, epochs, batch_size=None) -> float:
    params = init_params([2, h, h, 1], "normal", 0)
    sec = best_of(lambda: train(x, y, params, lr=0.1, epochs=epochs, batch_size=batch_size), 5)
    return sec / epochs * 1e6


def numpy_ref(x, y, h, epochs) -> float:
    params = init_params([2, h, h, 1], "normal", 0)

    def run() -> None:
        ws = [w.copy() for w, _ in params]
        bs = [b.copy() for _, b in params]
        for _ in range(epochs):
            acts = [x]
            for w, b in zip(ws, bs, strict=True):
                acts.append(1.0 / (1.0 + np.exp(-(acts[-1] @ w + b))))
            d = 2.0 * (acts[-1] - y) / len(y) * acts[-1] * (1.0 - acts[-1])
            for k in range(len(ws) - 1, -1, -1):
                gw = acts[k].T @ d
                gb = d.sum(axis=0)
                if k:
                    d = (d @ ws[k].T) * acts[k] * (1.0 - acts[k])
                ws[k] -= 0.1 * gw
                bs[k] -= 0.1 * gb

    return best_of(run, 3) / epochs * 1e6


def torch_eager(x, y, h, epochs) -> float | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    xt = torch.tensor(x)
    yt = torch.tensor(y)
    params = init_params([2, h, h, 1], "normal", 0)

    def run() -> None:
        ps = []
        for w, b in params:
            ps += [torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)]
        opt = torch.optim.SGD(ps, lr=0.1)
        for _ in range(epochs):
            a = xt
            for k in range(0, len(ps), 2):
                a = torch.sigmoid(a @ ps[k] + ps[k + 1])
            loss = torch.mean((a - yt) ** 2)
            opt.zero_grad()
            loss.backward()
            opt.step()

    return best_of(run, 3) / epochs * 1e6


def jax_cases(x, y, h, epochs, n_runs=1000) -> tuple[float | None, float | None]:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None, None
    jax.config.update("jax_enable_x64", True)
    xj, yj = jnp.asarray(x), jnp.asarray(y)

    def loss_fn(ps):
        a = xj
        for w, b in ps:
            a = jax.nn.sigmoid(a @ w + b)
        return jnp.mean((a - yj) ** 2)

    grad = jax.grad(loss_fn)

    def fit(ps):
        def body(_, ps):
            return jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, ps, grad(ps))

        return jax.lax.fori_loop(0, epochs, body, ps)

    single = jax.jit(fit)
    ps = [(jnp.asarray(w), jnp.asarray(b)) for w, b in init_params([2, h, h, 1], "normal", 0)]
    jax.block_until_ready(single(ps))
    t_single = best_of(lambda: jax.block_until_ready(single(ps)), 3) / epochs * 1e6
    many = jax.jit(jax.vmap(fit))
    stacked = jax.tree_util.tree_map(lambda p: jnp.stack([p] * n_runs), ps)
    jax.block_until_ready(many(stacked))
    t_many = best_of(lambda: jax.block_until_ready(many(stacked)), 2) / epochs / n_runs * 1e6
    return t_single, t_many


def fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs (noisier)")
    parser.add_argument("--no-peers", action="store_true", help="our kernel and NumPy only")
    args = parser.parse_args()
    scale = 0.2 if args.quick else 1.0
    warm_up()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{cpu_ghz():.2f} GHz; numpy {np.__version__}"
    )
    print()
    print(
        "| us per epoch (one run) | ours | NumPy | NumPy/ours | torch eager | JAX jit | "
        "JAX vmap/run | lower bound | ours/bound |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, h in CASES:
        x, y = make_dataset(name)
        epochs = int((20_000 if h <= 4 else 2_000) * scale)
        t_ours = ours(x, y, h, epochs)
        t_np = numpy_ref(x, y, h, max(200, epochs // 10))
        t_torch = None if args.no_peers else torch_eager(x, y, h, max(100, epochs // 40))
        t_jax, t_vmap = (
            (None, None)
            if args.no_peers
            else jax_cases(x, y, h, max(200, epochs // 10), n_runs=1000 if h <= 4 else 100)
        )
        bound = lower_bound_us(len(y), h)
        print(
            f"| H={h}, {name} (n={len(y)}) | {fmt(t_ours)} | {fmt(t_np)} | {t_np / t_ours:.0f}x "
            f"| {fmt(t_torch)} | {fmt(t_jax)} | {fmt(t_vmap)} | {bound:.2f} | "
            f"{t_ours / bound:.1f}x |"
        )
    print()
    x, y = make_dataset("linear")
    epochs = int(5_000 * scale)
    full = ours(x, y, 4, epochs)
    print("| H=4, linear, per sample-update | us | vs full batch |")
    print("|---|---|---|")
    print(f"| full batch | {full / len(y) * 1e3:.1f} ns | 1.00x |")
    for b in (16, 1):
        t = ours(x, y, 4, epochs, batch_size=b)
        # per epoch: one full scoring pass + n/B updates; cost per sample-update
        print(f"| batch {b} | {t / len(y) * 1e3:.1f} ns | {t / full:.2f}x |")


if __name__ == "__main__":
    main()
