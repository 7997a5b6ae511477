"""Lockstep kernels generated for one net: its per-sample passes as straight-line code.

The generic lockstep passes (:mod:`kernels.lockstep_passes`) loop over neurons and,
inside, over the runs; every neuron's values go through memory, and each short loop
pays LLVM's set-up and alias checks. For one net (its sizes, activations, loss and
bias) the whole sample is a fixed sequence of operations, so this module writes it
out: one loop over the runs whose body is the forward pass, the loss and the backward
pass of one run (of four samples at once when learning, see :func:`passes_source`),
every neuron a local variable (a register), every weight read at a constant offset
times the lane stride. LLVM vectorises that loop across runs (it inlines
:func:`kernels.activations.sigmoid_call` and :func:`tanh_call`, the vectorisable
exp). The operations are those of the generic passes in the same order, so the
results are the same to the bit (tested).

The source is :mod:`kernels.lockstep_loop` with its import of the generic passes
replaced by the generated ones, written as a module file beside Numba's cache for
the kernels (the folder keyed on the kernels' sources, see
:func:`kernels.options.source_keyed_cache`), so it is compiled once per net, batch
mode and machine and loaded from the cache afterwards, in any process.

A module holds only the passes its batch mode calls (:data:`PASSES`; the others are
stubs that raise): a sweep compiles what it trains with, not every way a net can
train. Cold compile of the 2-4-4-1 lab net's module, one process each: 20.3 s with
all four passes, 10.0 s full batch, 13.2 s mini-batch (before its scoring moved into
``learn_picked``), 7.8 s online (plus ~4 s, once, for the functions every module
shares).
"""

import hashlib
import importlib.util
import os
import re
import sys
import tempfile
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import numba

from kernels.activations import IDENTITY, LEAKY_RELU, RELU, SIGMOID, TANH
from kernels.lockstep_loop import (
    BATCH_MODES,
    FULL_BATCH,
    GROUP,
    LANES,
    MINI_BATCH,
    ONLINE,
    PASSES_IMPORT,
)
from kernels.losses import BCE, MAE, MSE
from kernels.options import source_keyed_cache

# sizes; hidden, output and loss codes; bias; batch mode (kernels.lockstep_loop.batch_mode)
Net = tuple[tuple[int, ...], int, int, int, bool, int]
# The passes each batch mode calls; the module has only these (the others raise).
PASSES = {
    FULL_BATCH: ("learn_set",),
    MINI_BATCH: ("learn_picked",),
    ONLINE: ("sgd_online",),
}


_loaded: dict[Net, ModuleType] = {}
_lock = threading.Lock()


def activation(code: int, z: str) -> str:
    """The expression of activation ``code`` at ``z`` (as :func:`activate_lanes` computes it)."""
    if code == SIGMOID:
        return f"sigmoid_call({z})"
    if code == TANH:
        return f"tanh_call({z})"
    if code == RELU:
        return f"({z} if {z} > 0.0 else 0.0)"
    if code == LEAKY_RELU:
        return f"({z} if {z} > 0.0 else LEAKY_SLOPE * {z})"
    assert code == IDENTITY
    return z


def passes_source(net: Net) -> str:
    """The generated ``learn_set``, ``learn_picked`` and ``sgd_online``: those that
    ``net``'s batch mode calls written out, the others stubs.

    They take the generic ones' arguments. The loop over a pass's samples is inside,
    so the call's fixed costs (views, reference counts, LLVM's alias checks) are paid
    once per pass, not once per sample (2-4-4-1 full batch on linear, 64 runs: 21.8
    -> 19.6 ns per run and sample), and a sample that every lane takes is read once,
    before the loop over lanes. ``sgd_online`` makes each parameter's update in the
    pass, from its gradient in a register, once every delta is known from the old
    weights (online: 43 -> 34 ns per run and sample).

    ``learn_set`` and ``learn_picked`` take :data:`GROUP` samples per
    iteration of the loop over lanes (the last ``n % GROUP`` one by one; the picked ones
    are gathered into ``work[6]`` and ``work[7]``, a row per input and sample). One
    sample's pass is a single chain (a layer's sigmoids wait for the one before, the
    deltas for the output), which the core could not overlap with the next lanes' in its
    window: 2-4-4-1 learn_set took ~450 cycles per 8 lanes and sample for ~330 vector
    operations. Four independent chains, written line by line in turn, fill the pipes,
    and each weight is loaded once for the four (no store comes between). Every gradient
    term is still added to its parameter in sample order, so the bits do not change
    (tested against the generic passes). A/B in one process, 2-4-4-1 on linear, ns per
    run and sample: full batch one sample 15.0-15.3, two in turn 13.8, two line by line
    12.0, four in turn 12.8, four line by line 11.1-11.5, five to eight 11.2-11.4; xor
    16.0 -> 12.0; mini-batches of 16 28.7 -> 22.4; online 30.6 -> 28.8 (its scoring
    pass). Online SGD's pass stays one sample at a time: each sample's update changes
    the weights the next one reads. The module is twice the code; it compiles in ~20 s
    instead of ~10 (and ~38 when Numba, not LLVM, inlined the sigmoids: see
    :func:`kernels.activations.sigmoid_call`).

    Online SGD's one chain per iteration left the core idle (IPC ~0.7), while its epoch
    also paid a separate scoring pass. So ``sgd_online`` scores the epoch's start in the
    same iteration: sample ``s`` through a copy of the start weights (rows ``n_params``
    on of the one ``weights`` array, so LLVM needs no alias check between the two),
    its lines woven one by one with the update's; the sums go in sample order, as
    ``score_set`` adds them (same bits). A/B in one process, 2-4-4-1 on linear, scoring
    plus online pass, ns per run and sample: 29.4 -> 25.8 woven, 30.7 with the scoring
    lines all first; the whole online epoch 2.90-2.95 -> 2.62-2.69 us per run. Each
    lane's picked sample is gathered in one loop over lanes instead of one per row
    (helper, round five: mini-batches of 16 22.5-22.7 -> 22.2-22.4 ns per run and
    sample, of 4 25.0 -> 24.6).

    Mini-batches score the same way (round six): ``learn_picked`` scores samples
    ``start`` to ``stop`` in order, a group of :data:`GROUP` through the start copy
    woven line by line with the group it learns, and the picked samples' own losses,
    never read, are no longer summed; the separate ``score_set`` pass is gone from
    the mini-batch module. B=16 epoch, 64 runs, A/B in one process on a shared machine:
    2.31-2.34 -> 2.25-2.29 us per run (full batch 1.15-1.18). The passes are near the
    core's limits rather than idle: a zmm ``vdivpd`` issues every ~9 cycles and one
    zmm FMA per cycle (measured on this Zen 4), and the generated score_set of then ran
    at ~60% of its FMA bound, so weaving buys little beyond the pass it removes; 256-bit vectors
    (``-force-vector-width=4``) lost everywhere (full 1.17 -> 1.39, B=16 2.29 ->
    2.71, online 2.62 -> 3.42 us).

    Also tried for online SGD (helper, round five, branch ``hon``): the weights read in
    one loop (forward and deltas, the values the updates need kept in ``grad``'s rows)
    and updated in a second, lanes ``r`` and ``r + 32`` line by line in the first
    while more than 48 are active (the upper lane's sigmoids inlined by Numba: with all
    18 called LLVM did not vectorise it). ``sgd_online`` alone 19.5-20.6 -> 16.8-17.9
    ns, the online epoch 2.60 us per run: as fast as the woven scoring at 64 lanes,
    slower below 48, with two thresholds and ~2 s more compile; and with the scoring
    woven into either of its loops LLVM vectorised neither (9.5 and 8.2-8.6 us). Kept:
    the simpler woven pass.

    Tried and lost (full batch on linear): every weight loaded into a local before any
    store, so that the deltas need not reload them (16.1 against 15.9 ns: LLVM spills
    the locals instead); the two halves of the lanes in one iteration instead of four
    samples (the loop is no longer vectorised; likely the limit met online, below: 74
    gradient addresses read and written). Online: lanes ``r`` and ``r + 32``
    each updating its weights in one loop (not vectorised, nor with the upper lanes'
    weights in another array: LLVM 22 gave up, with no reason in its remarks, on a
    loop that stores to and reads from more than ~61 addresses of the arrays it
    writes: 37 weights x 2 lanes is 74; the loop-access options ``max-dependences``,
    ``memory-check-merge-threshold``, ``runtime-memory-check-threshold`` changed
    nothing); four lanes (not vectorised either, and 27 Numba-inlined sigmoids compile
    ~6 s longer); pairing at any count (64 lanes' work for 32 to 48 active: 32 runs
    19.8 -> 29.2) or at a run-time offset ``r + h`` (34 ns: LLVM's code for it spilled
    twice as much); ``llvmlite.binding.set_option("", "-force-vector-interleave=2")``
    before the first compile (honoured: ``-force-vector-width=4`` does change the
    code) left the fused loop's code as it was, presumably because LLVM interleaves
    only loops safe at any vector width, which its stores and loads of the same
    weights are not.
    """
    sizes, hidden_code, out_code, loss_code, use_bias, batch = net
    n_layers = len(sizes) - 1
    woff, boff = [], []
    p = 0
    for layer in range(n_layers):
        woff.append(p)
        p += sizes[layer] * sizes[layer + 1]
        boff.append(p)
        p += sizes[layer + 1]

    n_params = p

    def at(row: int) -> str:
        return f"{row * LANES} + r"

    def forward(picked: bool, base: int = 0) -> list[str]:
        """One sample through the weights at rows ``base`` on of ``th``, to ``d``."""
        if picked:  # lane r's own sample, gathered before the loop over lanes
            lines = [f"a0_{i} = xs[{at(i)}]" for i in range(sizes[0])]
            lines.append("t = yl[r]")
        else:  # the sample of every lane, read before the loop over lanes
            lines = [f"a0_{i} = x{i}" for i in range(sizes[0])]
        for layer in range(n_layers):
            fan_out = sizes[layer + 1]
            code = out_code if layer == n_layers - 1 else hidden_code
            for j in range(fan_out):
                terms = [f"th[{at(base + boff[layer] + j)}]"]
                terms += [
                    f"th[{at(base + woff[layer] + i * fan_out + j)}] * a{layer}_{i}"
                    for i in range(sizes[layer])
                ]
                lines.append(f"z{layer + 1}_{j} = {' + '.join(terms)}")
                lines.append(f"a{layer + 1}_{j} = {activation(code, f'z{layer + 1}_{j}')}")
        lines.append(f"d = a{n_layers}_0 - t")
        return lines

    def scored(total: str = "total[r]", correct: str = "correct[r]") -> list[str]:
        zo, ao = f"z{n_layers}_0", f"a{n_layers}_0"
        loss = {MSE: "d * d", MAE: "abs(d)", BCE: f"softplus({zo}) - t * {zo}"}[loss_code]
        return [
            f"{total} += {loss}",
            f"{correct} += 1.0 if ({ao} > 0.5) == (t > 0.5) else 0.0",
        ]

    def suffixed(lines: list[str], suffix: str) -> list[str]:
        """``lines`` with every local they assign (and the inputs and target) renamed."""
        names = {f"x{i}" for i in range(sizes[0])} | {"t"}
        names |= {line.split(" = ")[0] for line in lines if " = " in line}
        names = {name for name in names if name.isidentifier()}  # not th[..] = ...
        local = re.compile(r"\b(" + "|".join(sorted(names, key=len, reverse=True)) + r")\b")
        return [local.sub(lambda name: f"{name.group(1)}{suffix}", line) for line in lines]

    def deltas(layer: int) -> list[str]:
        """The deltas of ``layer``'s inputs from those of its outputs (old weights)."""
        fan_in, fan_out = sizes[layer], sizes[layer + 1]
        lines = []
        for i in range(fan_in):
            terms = ["0.0"] + [
                f"th[{at(woff[layer] + i * fan_out + j)}] * d{layer + 1}_{j}"
                for j in range(fan_out)
            ]
            lines.append(f"back = {' + '.join(terms)}")
            lines.append(f"d{layer}_{i} = scale_one({hidden_code}, a{layer}_{i}, back)")
        return lines

    def gradient(layer: int, add: str) -> list[str]:
        """``add`` (a format with ``p``, a parameter's index, and ``v``, its gradient term)
        for each of ``layer``'s parameters: bias terms first, then weights."""
        fan_in, fan_out = sizes[layer], sizes[layer + 1]
        lines = []
        if use_bias:
            for j in range(fan_out):
                lines.append(add.format(p=at(boff[layer] + j), v=f"d{layer + 1}_{j}"))
        for i in range(fan_in):
            for j in range(fan_out):
                w = at(woff[layer] + i * fan_out + j)
                lines.append(add.format(p=w, v=f"a{layer}_{i} * d{layer + 1}_{j}"))
        return lines

    def output_delta() -> list[str]:
        ao = f"a{n_layers}_0"
        if loss_code == BCE:
            return [f"d{n_layers}_0 = d * inv_m"]
        e = (
            "2.0 * d * inv_m"
            if loss_code == MSE
            else ("(1.0 if d > 0.0 else (-1.0 if d < 0.0 else 0.0)) * inv_m")
        )
        return [f"e = {e}", f"d{n_layers}_0 = scale_one({out_code}, {ao}, e)"]

    def sample(mode: str, picked: bool) -> list[str]:
        """One sample's forward pass, its score and (learning) every delta, all from
        the old weights: its gradient terms or updates come after, so no weight is
        read after a store (LLVM cannot tell ``th`` from ``g`` and would reload it)."""
        lines = forward(picked)
        if not picked:  # a picked sample's own loss is not wanted
            lines += scored()
        lines += output_delta()
        for layer in range(n_layers - 1, 0, -1):
            lines += deltas(layer)
        return lines

    def updates(mode: str) -> list[str]:
        """The gradient terms added (learn), or each parameter's SGD update from its
        gradient, 0.0 + term as accumulated from a zeroed row (online)."""
        if mode == "learn":
            add = "g[{p}] += {v}"
            return [line for layer in reversed(range(n_layers)) for line in gradient(layer, add)]
        sgd = "th[{p}] = sgd_one(th[{p}], rate, 0.0 + {v})"
        return ["rate = lr[r]"] + [
            line for layer in reversed(range(n_layers)) for line in gradient(layer, sgd)
        ]

    def grouped(mode: str, picked: bool) -> list[str]:
        """:data:`GROUP` samples in one body, sample ``k``'s locals suffixed ``_s{k}``:
        each line for every sample in turn, then each gradient term in sample order,
        the order in which the generic pass adds them. Picked samples are read from
        their rows of ``xs`` and ``yl``, ``n_inputs`` and one per sample."""
        one = sample(mode, picked)
        skip = sizes[0] + 1 if picked else 0  # picked: sample k's inputs read below
        each = [suffixed(one + updates(mode), f"_s{k}")[skip:] for k in range(GROUP)]
        lines = []
        if picked:
            for k in range(GROUP):
                lines += [f"a0_{i}_s{k} = xs[{at(k * sizes[0] + i)}]" for i in range(sizes[0])]
                lines.append(f"t_s{k} = yl[{at(k)}]")
        return lines + [line for group in zip(*each, strict=True) for line in group]

    def start_scored(suffix: str = "_q") -> list[str]:
        """Sample ``s`` scored, in a pass that updates, by the copy of the epoch's start
        weights (rows from ``n_params`` on), its locals suffixed ``suffix``, its sums in
        the rows of ``sc``."""
        return suffixed(forward(False, n_params) + scored("sc[r]", f"sc[{LANES} + r]"), suffix)

    def group_scored() -> list[str]:
        """:func:`start_scored` for samples ``s + k``, ``k`` < :data:`GROUP`, suffixed
        ``_q{k}``, each line for every sample in turn (their sums in sample order)."""
        each = [start_scored(f"_q{k}") for k in range(GROUP)]
        return [line for group in zip(*each, strict=True) for line in group]

    def weave(lines: list[str], other: list[str]) -> list[str]:
        """Two independent chains line by line in turn, the longer one's rest after."""
        both = [line for pair in zip(lines, other, strict=False) for line in pair]
        n = min(len(lines), len(other))
        return both + lines[n:] + other[n:]

    def fill(pick: str, row: str, target: str, by_row: bool = False) -> list[str]:
        """Lane ``r``'s sample ``pick[r]`` into rows ``row + i`` of ``xin`` and at
        ``target + r`` of ``yl``, for every lane: in one loop over lanes (mini-batches
        of 16 22.5 -> 22.2 ns per run and sample) or, ``by_row``, a loop per row (online
        SGD's woven pass: 2.83-3.06 us per epoch with the one loop, 2.62-2.68 so)."""
        if by_row:
            return [
                f"for i in range({sizes[0]}):",
                f"    row = xin[{row}i]",
                "    for r in range(m):",
                f"        row[r] = xt[i, {pick}[r]]",
                "for r in range(m):",
                f"    yl[{target}r] = y[{pick}[r]]",
            ]
        return [f"x_{i} = xin[{row}{i}]" for i in range(sizes[0])] + [
            "for r in range(m):",
            f"    p = {pick}[r]",
            *[f"    x_{i}[r] = xt[{i}, p]" for i in range(sizes[0])],
            f"    yl[{target}r] = y[p]",
        ]

    def signature(name: str, mode: str, picked: bool) -> list[str]:
        """The decorator and ``def`` line: the generic pass's arguments."""
        if mode == "online":
            args = "weights, grad, xt, y, order, lr, scores, inv_n, m, net, work"
        elif picked:
            args = "weights, grad, xt, y, order, start, stop, scores, inv_m, m, net, work"
        else:
            args = "theta, grad, xt, y, total, correct, inv_m, m, net, work"
        return ["@njit(**JIT_OPTIONS)", f"def {name}({args}):"]

    def function(name: str, mode: str, picked: bool) -> str:
        weights = "weights" if picked else "theta"
        decorator, define = signature(name, mode, picked)
        if mode == "online":
            # Numba inlines it into train_lanes, so no copy of its own is compiled.
            # Compiled on its own, LLVM's first round leaves Numba's negative-index
            # selects in its addresses and vectorises nothing ("cannot identify array
            # bounds"); train_lanes' copy, optimised again, is vectorised, but in the
            # process that compiled both the JIT bound the call to the first (a weak
            # symbol): online training there ran at 11.4 us per run-epoch against
            # 2.65 from the disk cache (2-4-4-1 on linear, 64 runs). Inlined: 2.70 in
            # both, for ~0.5 s more compile. The other passes lose their vectorised
            # loops when Numba inlines them (mini-batches of 16: 11.8 us against 2.25).
            decorator = '@njit(inline="always", **JIT_OPTIONS)'
        head = [decorator, define, f"    th = {weights}.reshape(-1)"]
        if mode == "learn":
            head.append("    g = grad.reshape(-1)")
        if picked:
            head.append("    sc = scores.reshape(-1)")
        if mode == "online":
            head += ["    inv_m = 1.0", "    start, stop = 0, xt.shape[1]"]
        if picked:  # each lane's sample(s) gathered into rows (the group's own rows)
            rows = "work[4], work[5]" if mode == "online" else "work[6], work[7]"
            head += [f"    xin, yl = {rows}", "    xs = xin.reshape(-1)"]
        else:
            head += ["    start, stop = 0, xt.shape[1]"]
        rest = "start"
        if mode != "online":  # GROUP samples at a time, then the rest one by one
            rest = "whole"
            head += [
                f"    whole = stop - (stop - start) % {GROUP}",
                f"    for s in range(start, whole, {GROUP}):",
            ]
            if picked:
                head += [f"        for k in range({GROUP}):", "            pick = order[s + k]"]
                head += [
                    f"            {line}"
                    for line in fill("pick", f"k * {sizes[0]} + ", f"k * {LANES} + ")
                ]
                for k in range(GROUP):  # the samples scored at the start weights
                    head += [f"        x{i}_q{k} = xt[{i}, s + {k}]" for i in range(sizes[0])]
                    head.append(f"        t_q{k} = y[s + {k}]")
            else:
                for k in range(GROUP):
                    at_k = f"s + {k}" if k else "s"
                    head += [f"        x{i}_s{k} = xt[{i}, {at_k}]" for i in range(sizes[0])]
                    head.append(f"        t_s{k} = y[{at_k}]")
            head.append("        for r in range(m):")
            body = grouped(mode, picked)
            if picked:
                body = weave(group_scored(), body)
            head += [f"            {line}" for line in body]
        head.append(f"    for s in range({rest}, stop):")
        if picked:
            head.append("        pick = order[s]")
            head += [f"        {line}" for line in fill("pick", "", "", mode == "online")]
        suffix = "_q" if picked else ""  # picked: sample s is the scored one
        head += [f"        x{i}{suffix} = xt[{i}, s]" for i in range(sizes[0])]
        head.append(f"        t{suffix} = y[s]")
        head.append("        for r in range(m):")
        body = sample(mode, picked) + updates(mode)
        if picked:
            body = weave(start_scored(), body)
        head += [f"            {line}" for line in body]
        return "\n".join(head) + "\n"

    def unused(name: str, mode: str, picked: bool) -> str:
        """A pass this batch mode never calls: its arguments, and an error if called."""
        why = f"{name} is not generated for {BATCH_MODES[batch]} training"
        return (
            "\n".join([*signature(name, mode, picked), f"    raise RuntimeError({why!r})"]) + "\n"
        )

    imports = (
        "from kernels.activations import LEAKY_SLOPE, scale_one, sigmoid_call, tanh_call\n"
        "from kernels.losses import softplus\n"
        "from kernels.optimizers import sgd_one\n"
        "from kernels.options import JIT_OPTIONS\n"
    )
    kinds = {
        "learn_set": ("learn", False),
        "learn_picked": ("learn", True),
        "sgd_online": ("online", True),
    }
    passes = [
        function(name, *kind) if name in PASSES[batch] else unused(name, *kind)
        for name, kind in kinds.items()
    ]
    return f"# generated by kernels.codegen for {net}\n{imports}\n\n" + "\n\n".join(passes)


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
