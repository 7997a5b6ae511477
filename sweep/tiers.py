"""Which kernel trains each group of runs, and which kernels a sweep compiles beside it.

Every configuration belongs to one kernel *family*, decided by the configuration alone
(:func:`kernels.prefers_lockstep`), and its runs get that family's bits whichever of
its kernels trains them (tested): so a run can start on whatever kernel is compiled
and the rest can move to a faster one the moment it is, chunk by chunk.

- The one-run family (wide nets): :func:`kernels.train`.
- The lockstep family: :func:`kernels.train_one_lane` (one run at a time, vectorised
  over samples, no compile per net: the first tier), the generic lockstep passes (runs in
  lanes, any net) and, for small nets, the pass generated for the net
  (:mod:`kernels.codegen`), fastest but a compile of its own per net and batch mode.

:func:`group_kernel` picks the fastest kernel that is compiled already.
:func:`plan` decides, for the runs a sweep is about to train, what must be compiled
before they start (the first tier of each family they use) and which faster kernels
to compile in another process while they train: those whose saving on these runs, in
core-seconds and counting only the runs left when the compile is done, exceeds their
compile time (``policy="auto"``); all of them, before training (``"all"``); none
(``"none"``). The estimates are rough on purpose (within ~2x): they order the jobs and
leave out the ones that clearly do not pay.
"""

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from kernels import ACTIVATIONS, LOSSES, OPTIMIZERS, OUTPUT_ACTIVATIONS, prefers_lockstep
from kernels.codegen import Net, module_source
from kernels.lanes import BATCH_MODES, batch_mode
from kernels.lockstep import generated_passes
from kernels.train import one_run_mode
from kernels.warm import is_compiled
from sweep.config import RunConfig
from sweep.datasets import DATASETS

POLICIES = ("auto", "all", "none")
ONE_RUN, ONE_LANE, GENERIC, GENERATED = "one run", "one lane", "generic", "generated"
# Per-run cost of each kernel relative to the generated passes, per sample and unit of
# work, by batch mode (full batch, mini-batch, online): measured at 2-4-4-1 on linear
# and xor, 64 runs in lockstep against one run alone (the one-lane kernel vectorises
# over samples, which online training does not have: one sample a pass).
SLOWDOWN = {
    GENERATED: (1.0, 1.0, 1.0),
    GENERIC: (1.8, 1.4, 1.6),
    ONE_LANE: (2.5, 2.6, 16.0),
}
SECONDS_PER_UNIT = 6e-10  # generated passes: per epoch x sample x (weights + neurons)
# Compile seconds on the project's 2-core machine (benchmarks/cold_start.py; Zen 3
# AVX2, about 1.5x those of the Zen 4 kind).
COMPILE_SECONDS = {"loop": 5.5, "first generic": 10.0, "generic": 2.5, "pass line": 0.011}


@dataclass(frozen=True)
class Kernels:
    """The kernels that can train the runs of one lockstep key."""

    family: str  # ONE_RUN or "lockstep"
    net: Net  # the net as the generated passes name it (sizes, codes, bias, batch mode)
    generated: bool  # whether the net gets a generated pass
    first: str  # the kernel it trains on with no compile of its own (kernels.warm.SHARED)

    @property
    def mode(self) -> int:
        return self.net[5]

    @property
    def generic(self) -> str:
        """The name of the generic pass of the batch mode (:data:`kernels.warm.SHARED`)."""
        return f"generic {BATCH_MODES[self.mode]}"


def samples(cfg: RunConfig) -> int:
    """The number of training samples of ``cfg``'s data set."""
    return cfg.n if cfg.n is not None else DATASETS[cfg.dataset][1]


def kernels_of(cfg: RunConfig) -> Kernels:
    """The family and the possible kernels of ``cfg`` (the same for its lockstep key)."""
    n = samples(cfg)
    sizes = cfg.sizes
    batch = n if cfg.batch_size is None else cfg.batch_size
    mode = batch_mode(n, batch, OPTIMIZERS[cfg.optimizer])
    codes = (ACTIVATIONS[cfg.activation], OUTPUT_ACTIVATIONS[cfg.output_activation])
    net: Net = (tuple(sizes), *codes, LOSSES[cfg.loss], cfg.bias, mode)
    family = "lockstep" if prefers_lockstep(sizes, n, cfg.batch_size, cfg.loss) else ONE_RUN
    if family == ONE_RUN:
        return Kernels(family, net, False, f"{ONE_RUN} {one_run_mode(n, cfg.batch_size)}")
    return Kernels(family, net, generated_passes(sizes, cfg.loss), ONE_LANE)


def group_kernel(kernels: Kernels, n_runs: int) -> str:
    """The fastest kernel compiled now for ``n_runs`` runs of one lockstep key."""
    if kernels.family == ONE_RUN:
        return ONE_RUN
    if n_runs > 1 and is_compiled("loop"):
        if kernels.generated and is_compiled(kernels.net):
            return GENERATED
        if is_compiled(kernels.generic):
            return GENERIC
    return ONE_LANE


def work_units(cfg: RunConfig) -> float:
    """Epochs x samples x (weights + neurons) of one run of ``cfg``: its cost, up to the
    kernel's factor (mini-batch and online epochs also score the set: twice the work)."""
    sizes = cfg.sizes
    units = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True)) + sum(sizes)
    n = samples(cfg)
    full = cfg.batch_size is None or cfg.batch_size >= n
    return float(cfg.epochs * n * units * (1 if full else 2))


def pass_compile_seconds(net: Net) -> float:
    """About how long ``net``'s generated pass takes to compile (in proportion to its
    source, whose size grows with the weights and the batch mode's scoring)."""
    return COMPILE_SECONDS["pass line"] * module_source(net).count("\n")


@dataclass
class Job:
    """A kernel worth compiling: what it is, what it saves and costs (seconds)."""

    kind: str | Net
    saving: float
    seconds: float


@dataclass
class Plan:
    """What a sweep compiles: ``before`` training starts (in this process), and
    ``beside`` it (another process, in this order); ``skipped``: kernels that would be
    faster but were not worth their compile here. ``first_beside``: one-run kernels
    that some runs need and the others do not: compiled first in the other process
    while the others train; the runs that need one train last, and wait for it
    (:func:`wait_for`)."""

    before: list[str] = field(default_factory=list)
    beside: list[Job] = field(default_factory=list)
    skipped: list[Job] = field(default_factory=list)
    first_beside: list[str] = field(default_factory=list)


# The kernels compiled beside this process that runs are waiting for: each an event set
# when it is done, and whether its compiler is still at work (a dead one sets nothing).
_awaited: dict[str, tuple[threading.Event, Callable[[], bool]]] = {}


def expect(kind: str, alive: Callable[[], bool] = lambda: True) -> None:
    """``kind`` is being compiled beside this process, by a compiler at work while
    ``alive()``: :func:`wait_for` waits for it."""
    _awaited.setdefault(kind, (threading.Event(), alive))


def arrived(kind: str) -> None:
    """``kind`` is compiled (or its compile ended): whoever waits for it goes on."""
    entry = _awaited.pop(kind, None)
    if entry is not None:
        entry[0].set()


def wait_for(kind: str) -> None:
    """Return once ``kind`` is not being compiled beside this process (at once if not;
    also if its compiler stopped without saying: the caller then compiles it)."""
    entry = _awaited.get(kind)
    if entry is None:
        return
    event, alive = entry
    while not event.wait(0.5):
        if not alive():
            return


def plan(
    cfgs: Iterable[RunConfig],
    *,
    policy: str = "auto",
    n_workers: int = 1,
    first_beside: bool = False,
) -> Plan:
    """What to compile for training ``cfgs`` on ``n_workers`` workers (see the module).

    ``first_beside``: the workers share this process (joblib's threading backend), so
    runs can wait for a kernel compiled beside it (:attr:`Plan.first_beside`).
    """
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {policy!r}")
    work: dict[Kernels, float] = {}
    seen: dict[tuple[object, ...], tuple[Kernels, float]] = {}  # per lockstep key
    for cfg in cfgs:
        key: tuple[object, ...] = (cfg.hidden, cfg.dataset, cfg.n, cfg.batch_size, cfg.epochs)
        key += (cfg.optimizer, cfg.activation, cfg.output_activation, cfg.loss, cfg.bias)
        if key not in seen:
            seen[key] = (kernels_of(cfg), work_units(cfg) * SECONDS_PER_UNIT)
        kernels, seconds = seen[key]
        work[kernels] = work.get(kernels, 0.0) + seconds
    result = Plan()
    lockstep = {k: w for k, w in work.items() if k.family != ONE_RUN}
    # The one-run kernels first: the one-lane kernel compiles in a third of their time.
    for tier in sorted({k.first for k in work}, key=lambda kind: (kind == ONE_LANE, kind)):
        if is_compiled(tier):
            continue
        if first_beside and lockstep and tier != ONE_LANE:
            result.first_beside.append(tier)
        else:
            result.before.append(tier)
    if not lockstep:
        return result
    # The faster kernel each lockstep net could use, what it saves over the first tier
    # on these runs, and what it costs to compile.
    candidates: list[Job] = []
    generic_done = any(is_compiled(f"generic {mode}") for mode in BATCH_MODES)
    for kernels, seconds in lockstep.items():
        kind: str | Net
        if kernels.generated and not is_compiled(kernels.net):
            target, kind, cost = GENERATED, kernels.net, pass_compile_seconds(kernels.net)
        elif not kernels.generated and not is_compiled(kernels.generic):
            target, kind = GENERIC, kernels.generic
            cost = COMPILE_SECONDS["first generic" if not generic_done else "generic"]
        else:
            continue
        saving = seconds * (SLOWDOWN[ONE_LANE][kernels.mode] - SLOWDOWN[target][kernels.mode])
        if saving > 0:
            candidates.append(Job(kind, saving, cost))
    merged: dict[str | Net, Job] = {}
    for job in candidates:  # several keys can share a generic pass
        if job.kind in merged:
            merged[job.kind].saving += job.saving
        else:
            merged[job.kind] = job
    candidates = sorted(merged.values(), key=lambda j: j.saving / j.seconds, reverse=True)
    loop = 0.0 if is_compiled("loop") else COMPILE_SECONDS["loop"]
    if policy == "all":
        result.beside = candidates
        return result
    if policy == "none":
        result.skipped = candidates
        return result
    # The sweep's length on the first tier, spread over the workers (and the core the
    # compiler takes): a kernel ready at time t helps only the runs still waiting then.
    wall = sum(w * SLOWDOWN[ONE_LANE][k.mode] for k, w in lockstep.items()) / max(1, n_workers)
    ready_at = 0.0
    for job in candidates:
        cost = job.seconds + loop
        left = max(0.0, 1.0 - (ready_at + cost) / wall) if wall > 0 else 0.0
        if job.saving * left > cost:
            result.beside.append(job)
            ready_at += cost
            loop = 0.0
        else:
            result.skipped.append(job)
    if result.beside and not is_compiled("loop"):
        result.beside.insert(0, Job("loop", 0.0, COMPILE_SECONDS["loop"]))
    return result


def describe_kind(kind: str | Net) -> str:
    """A kernel in words: ``2-4-4-1 sigmoid/sigmoid mse, full batch`` for a generated
    pass, its name for the others."""
    if isinstance(kind, str):
        return kind
    sizes, hidden, output, loss, bias, mode = kind
    names = {v: k for k, v in ACTIVATIONS.items()}
    outputs = {v: k for k, v in OUTPUT_ACTIVATIONS.items()}
    losses = {v: k for k, v in LOSSES.items()}
    text = f"{'-'.join(map(str, sizes))} {names[hidden]}/{outputs[output]} {losses[loss]}"
    return f"{text}{'' if bias else ' no bias'}, {BATCH_MODES[mode]}"
