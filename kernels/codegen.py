"""Lockstep kernels generated for one net: its per-sample passes as straight-line code.

The generic lockstep passes (:mod:`kernels.lockstep_passes`) loop over neurons and,
inside, over the runs; every neuron's values go through memory, and each short loop
pays LLVM's set-up and alias checks. For one net (its sizes, activations, loss and
bias) the whole sample is a fixed sequence of operations, so this module writes it
out: one loop over the runs whose body is the forward pass, the loss and the backward
pass of one run, every neuron a local variable (a register), every weight read at a
constant offset times the lane stride. LLVM vectorises that loop across runs
(:func:`kernels.activations.sigmoid_lane` and :func:`tanh_lane` inline the
vectorisable exp). The operations are those of the generic passes in the same order,
so the results are the same to the bit (tested).

The source is :mod:`kernels.lockstep_loop` with its import of the generic passes
replaced by the generated ones, written as a module file beside Numba's cache for
the kernels (the folder keyed on the kernels' sources, see
:func:`kernels.options.source_keyed_cache`), so it is compiled once per net and
machine and loaded from the cache afterwards, in any process.
"""

import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import numba

from kernels.activations import IDENTITY, LEAKY_RELU, RELU, SIGMOID, TANH
from kernels.lockstep_loop import LANES, PASSES_IMPORT
from kernels.losses import BCE, MAE, MSE
from kernels.options import source_keyed_cache

Net = tuple[tuple[int, ...], int, int, int, bool]  # sizes, hidden, output, loss codes, bias

_loaded: dict[Net, ModuleType] = {}
_lock = threading.Lock()


def activation(code: int, z: str) -> str:
    """The expression of activation ``code`` at ``z`` (as :func:`activate_lanes` computes it)."""
    if code == SIGMOID:
        return f"sigmoid_lane({z})"
    if code == TANH:
        return f"tanh_lane({z})"
    if code == RELU:
        return f"({z} if {z} > 0.0 else 0.0)"
    if code == LEAKY_RELU:
        return f"({z} if {z} > 0.0 else LEAKY_SLOPE * {z})"
    assert code == IDENTITY
    return z


def passes_source(net: Net) -> str:
    """The generated ``score`` and ``learn`` for ``net``, with the generic ones' signatures."""
    sizes, hidden_code, out_code, loss_code, use_bias = net
    n_layers = len(sizes) - 1
    woff, boff = [], []
    p = 0
    for layer in range(n_layers):
        woff.append(p)
        p += sizes[layer] * sizes[layer + 1]
        boff.append(p)
        p += sizes[layer + 1]

    def at(row: int) -> str:
        return f"{row * LANES} + r"

    def body(learning: bool) -> list[str]:
        lines = [f"a0_{i} = xs[{at(i)}]" for i in range(sizes[0])]
        lines.append("t = yl[r]")
        for layer in range(n_layers):
            fan_out = sizes[layer + 1]
            code = out_code if layer == n_layers - 1 else hidden_code
            for j in range(fan_out):
                terms = [f"th[{at(boff[layer] + j)}]"]
                terms += [
                    f"th[{at(woff[layer] + i * fan_out + j)}] * a{layer}_{i}"
                    for i in range(sizes[layer])
                ]
                lines.append(f"z{layer + 1}_{j} = {' + '.join(terms)}")
                lines.append(f"a{layer + 1}_{j} = {activation(code, f'z{layer + 1}_{j}')}")
        zo, ao = f"z{n_layers}_0", f"a{n_layers}_0"
        lines.append(f"d = {ao} - t")
        if loss_code == MSE:
            lines.append("total[r] += d * d")
            delta = "2.0 * d * inv_m"
        elif loss_code == MAE:
            lines.append("total[r] += abs(d)")
            delta = "(1.0 if d > 0.0 else (-1.0 if d < 0.0 else 0.0)) * inv_m"
        else:
            assert loss_code == BCE
            lines.append(f"total[r] += softplus({zo}) - t * {zo}")
            delta = "d * inv_m"
        lines.append(f"correct[r] += 1.0 if ({ao} > 0.5) == (t > 0.5) else 0.0")
        if not learning:
            return lines
        if loss_code != BCE:
            lines.append(f"e = {delta}")
            delta = f"scale_one({out_code}, {ao}, e)"
        lines.append(f"d{n_layers}_0 = {delta}")
        for layer in range(n_layers - 1, -1, -1):
            fan_in, fan_out = sizes[layer], sizes[layer + 1]
            if use_bias:
                for j in range(fan_out):
                    lines.append(f"g[{at(boff[layer] + j)}] += d{layer + 1}_{j}")
            for i in range(fan_in):
                for j in range(fan_out):
                    w = at(woff[layer] + i * fan_out + j)
                    lines.append(f"g[{w}] += a{layer}_{i} * d{layer + 1}_{j}")
            if layer == 0:
                break
            for i in range(fan_in):
                terms = ["0.0"] + [
                    f"th[{at(woff[layer] + i * fan_out + j)}] * d{layer + 1}_{j}"
                    for j in range(fan_out)
                ]
                lines.append(f"s = {' + '.join(terms)}")
                lines.append(f"d{layer}_{i} = scale_one({hidden_code}, a{layer}_{i}, s)")
        return lines

    def function(name: str, learning: bool) -> str:
        grad = "grad, " if learning else ""
        head = [
            "@njit(**JIT_OPTIONS)",
            f"def {name}(theta, {grad}xin, yl, total, correct, inv_m, m, net, work):",
            "    th = theta.reshape(-1)",
            "    xs = xin.reshape(-1)",
        ]
        if learning:
            head.append("    g = grad.reshape(-1)")
        head.append("    for r in range(m):")
        return "\n".join(head + [f"        {line}" for line in body(learning)]) + "\n"

    imports = (
        "from kernels.activations import LEAKY_SLOPE, scale_one, sigmoid_lane, tanh_lane\n"
        "from kernels.losses import softplus\n"
        "from kernels.options import JIT_OPTIONS\n"
    )
    return (
        f"# generated by kernels.codegen for {net}\n{imports}\n\n"
        + function("score", False)
        + "\n\n"
        + function("learn", True)
    )


def module_source(net: Net) -> str:
    """:mod:`kernels.lockstep_loop`'s source with ``net``'s generated passes in."""
    template = Path(__file__).with_name("lockstep_loop.py").read_text()
    if template.count(PASSES_IMPORT) != 1:
        raise RuntimeError("kernels/lockstep_loop.py must import the generic passes once")
    return template.replace(PASSES_IMPORT, passes_source(net))


def kernel_for(net: Net) -> ModuleType:
    """The lockstep module generated for ``net``, written and compiled on first use."""
    with _lock:
        if net in _loaded:
            return _loaded[net]
        source = module_source(net)
        name = "sweep_lockstep_" + hashlib.sha256(source.encode()).hexdigest()[:16]
        with source_keyed_cache():
            config: Any = numba.config  # its settings are set at run time
            path = _write(Path(config.CACHE_DIR), name, source)
            spec = importlib.util.spec_from_file_location(name, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        _loaded[net] = module
        return module


def _write(folder: Path, name: str, source: str) -> Path:
    """``folder/name.py`` holding ``source`` (written atomically when missing or stale).

    Beside the kernels' Numba cache when that folder can be written; else (a
    read-only install, an unusable ``NUMBA_CACHE_DIR``) in the temporary directory,
    where the module still works, compiled anew by each process.
    """
    for where in (folder, Path(tempfile.gettempdir()) / f"sweep-kernels-{os.getuid()}"):
        path = where / f"{name}.py"
        try:
            where.mkdir(parents=True, exist_ok=True)
            if not path.exists() or path.read_text() != source:
                tmp = path.with_suffix(f".tmp-{os.getpid()}-{threading.get_ident()}")
                tmp.write_text(source)
                tmp.replace(path)
        except OSError:
            continue
        return path
    raise OSError(f"cannot write the generated kernel {name}.py in {folder} or the temp dir")
