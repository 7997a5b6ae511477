"""Runs, from :class:`RunConfig` to :class:`RunResult`: the API notebooks and the sweep use.

Each run goes to the kernel that trains its configuration fastest
(:func:`kernels.prefers_lockstep`): :func:`kernels.train_many` for small nets (with
passes generated for them) and, for larger nets or ``bce``, online, in small
mini-batches or on few samples; :func:`kernels.train` otherwise. The choice
depends on the configuration only, so :func:`train_one` gives the bits a sweep
stores for the same configuration.
"""

import dataclasses
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kernels import init_params, predict, prefers_lockstep, train, train_many
from kernels.lanes import FULL_BATCH, ONLINE, batch_mode
from kernels.lockstep import generated_passes
from kernels.optimizers import OPTIMIZERS
from sweep.config import RunConfig
from sweep.datasets import DATASETS, make_dataset

Params = list[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class RunResult:
    """A trained run: per-epoch curves, weights before and after, and the outcome.

    ``loss[e]``/``accuracy[e]`` score the weights at the start of epoch ``e`` on the
    whole training set; ``epochs_run == len(loss)``; ``convergence_epoch`` is the first
    epoch whose loss is below ``config.target_loss`` (None when never, or no target).
    """

    config: RunConfig
    loss: np.ndarray
    accuracy: np.ndarray
    init_weights: Params
    weights: Params
    epochs_run: int
    convergence_epoch: int | None
    diverged: bool
    train_seconds: float

    @property
    def converged(self) -> bool:
        return self.convergence_epoch is not None

    @property
    def final_loss(self) -> float:
        return float(self.loss[-1])

    @property
    def final_accuracy(self) -> float:
        return float(self.accuracy[-1])

    @property
    def best_loss(self) -> float:
        finite = self.loss[np.isfinite(self.loss)]
        return float(finite.min()) if finite.size else float("nan")

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Outputs ``(n, 1)`` of the final weights for inputs ``x`` of shape ``(n, 2)``."""
        return predict(
            x,
            self.weights,
            activation=self.config.activation,
            output_activation=self.config.output_activation,
        )


def train_one(
    cfg: RunConfig,
    *,
    init_weights: Params | None = None,
    data: tuple[np.ndarray, np.ndarray] | None = None,
) -> RunResult:
    """Train one run of ``cfg``.

    Parameters
    ----------
    cfg : the run's configuration.
    init_weights : start from these ``[(W, b), ...]`` instead of drawing them from
        ``cfg.init`` and ``cfg.seed`` (they must match ``cfg.hidden``).
    data : ``(x, y)`` to train on instead of ``make_dataset`` of the config's data
        fields (the sweep passes the data set it already made).
    """
    init = _initial_weights(cfg, init_weights)
    if data is None:
        data = make_dataset(cfg.dataset, seed=cfg.data_seed, n=cfg.n, noise=cfg.noise)
    return train_group([cfg], data=data, init_weights=[init])[0]


SHARED_FIELDS = tuple(
    f.name
    for f in dataclasses.fields(RunConfig)
    if f.name not in ("seed", "lr", "init", "target_loss", "stop_at_target")
)


def lockstep_key(cfg: RunConfig) -> tuple[object, ...]:
    """What runs trained in one :func:`train_group` call must share: every field but the
    seed, learning rate, init scheme, target loss and whether to stop there."""
    return tuple(getattr(cfg, name) for name in SHARED_FIELDS)


def _initial_weights(cfg: RunConfig, init_weights: Params | None) -> Params:
    if init_weights is None:
        return init_params(cfg.sizes, cfg.init, cfg.seed)
    init = [(np.array(w, dtype=np.float64), np.array(b, dtype=np.float64)) for w, b in init_weights]
    shapes = [w.shape for w, _ in init]
    expected = list(zip(cfg.sizes[:-1], cfg.sizes[1:], strict=True))
    if shapes != expected:
        raise ValueError(f"init_weights: W shapes {shapes} do not match hidden {cfg.hidden}")
    return init


def train_group(
    cfgs: Sequence[RunConfig],
    *,
    data: tuple[np.ndarray, np.ndarray],
    init_weights: Sequence[Params] | None = None,
) -> list[RunResult]:
    """Train runs that share their :func:`lockstep_key` on ``data``, one result per run.

    In one :func:`kernels.train_many` call when that kernel suits the configuration,
    else one :func:`kernels.train` call per run; each result is what :func:`train_one`
    gives for its run. ``train_seconds`` of a lockstep group is its time shared out in
    proportion to the epochs each run ran.
    """
    if not cfgs:
        return []
    first = cfgs[0]
    key = lockstep_key(first)
    for k, cfg in enumerate(cfgs[1:], start=1):
        if lockstep_key(cfg) != key:
            fields = [f for f in SHARED_FIELDS if getattr(cfg, f) != getattr(first, f)]
            raise ValueError(
                f"train_group: run {k} differs from run 0 in {', '.join(fields)}; "
                "a group shares everything beyond lockstep_key's free fields"
            )
    inits = [
        _initial_weights(cfg, None if init_weights is None else init_weights[k])
        for k, cfg in enumerate(cfgs)
    ]
    x, y = data
    shared: dict[str, Any] = dict(
        activation=first.activation,
        output_activation=first.output_activation,
        loss=first.loss,
        optimizer=first.optimizer,
        epochs=first.epochs,
        batch_size=first.batch_size,
        shuffle=first.shuffle,
        bias=first.bias,
    )
    start = time.perf_counter()
    if prefers_lockstep(first.sizes, len(x), first.batch_size, first.loss):
        outs = train_many(
            x,
            y,
            inits,
            lr=[cfg.lr for cfg in cfgs],
            seed=[cfg.seed for cfg in cfgs],
            target_loss=[cfg.target_loss for cfg in cfgs],
            stop_at_target=[cfg.stop_at_target for cfg in cfgs],
            **shared,
        )
        total = time.perf_counter() - start
        epochs = sum(out.epochs_run for out in outs)
        seconds = [total * out.epochs_run / epochs for out in outs]
    else:
        outs, seconds = [], []
        for cfg, init in zip(cfgs, inits, strict=True):
            start = time.perf_counter()
            outs.append(
                train(
                    x,
                    y,
                    init,
                    lr=cfg.lr,
                    seed=cfg.seed,
                    target_loss=cfg.target_loss,
                    stop_at_target=cfg.stop_at_target,
                    **shared,
                )
            )
            seconds.append(time.perf_counter() - start)
    results = []
    for cfg, init, out, secs in zip(cfgs, inits, outs, seconds, strict=True):
        if not cfg.bias:
            init = [(w, np.zeros_like(b)) for w, b in init]
        results.append(
            RunResult(
                config=cfg,
                loss=out.loss,
                accuracy=out.accuracy,
                init_weights=init,
                weights=out.weights,
                epochs_run=out.epochs_run,
                convergence_epoch=out.convergence_epoch,
                diverged=out.diverged,
                train_seconds=secs,
            )
        )
    return results


def compile_kernels_for(cfgs: Iterable[RunConfig]) -> int:
    """Compile (or load from Numba's disk cache) every kernel that training ``cfgs``
    needs, and only those; how many.

    The one-run kernel if some run takes it, the generic lockstep kernel if some net
    is too large for generated passes, and the generated kernel of every distinct
    small net and batch mode (full batch, mini-batch or online: 8-13 s each the first
    time on a machine, then cached on disk). The
    sweep calls this in the parent before its workers start, so each kernel is
    compiled once, not once per worker process, and a grid of lab nets does not wait
    for kernels it never uses.
    """
    kinds: set[tuple[object, ...]] = set()
    looked_at: set[tuple[object, ...]] = set()  # what decides the kernel, per config
    for cfg in cfgs:
        fields: tuple[object, ...] = (cfg.hidden, cfg.dataset, cfg.n, cfg.batch_size)
        fields += (cfg.activation, cfg.output_activation, cfg.loss, cfg.bias, cfg.optimizer)
        if fields in looked_at:
            continue
        looked_at.add(fields)
        n = cfg.n if cfg.n is not None else DATASETS[cfg.dataset][1]
        if not prefers_lockstep(cfg.sizes, n, cfg.batch_size, cfg.loss):
            kind: tuple[object, ...] = ("one run",)
        elif not generated_passes(cfg.sizes, cfg.loss):
            kind = ("generic lockstep",)
        else:
            batch = n if cfg.batch_size is None else cfg.batch_size
            mode = batch_mode(n, batch, OPTIMIZERS[cfg.optimizer])
            kind = (tuple(cfg.sizes), cfg.activation, cfg.output_activation, cfg.loss, cfg.bias)
            kind += (mode,)
        if kind in kinds:
            continue
        kinds.add(kind)
        init = init_params(cfg.sizes, "normal", 0)
        x, y = np.zeros((3, cfg.sizes[0])), np.zeros(3)
        if kind[0] == "one run":
            train(x, y, init, epochs=1)
        elif kind[0] == "generic lockstep":
            train_many(x, y, [init], epochs=1, passes="generic")
        else:  # three samples in batches that give the runs' batch mode
            batch_size = None if mode == FULL_BATCH else (1 if mode == ONLINE else 2)
            train_many(
                x,
                y,
                [init],
                activation=cfg.activation,
                output_activation=cfg.output_activation,
                loss=cfg.loss,
                bias=cfg.bias,
                optimizer=cfg.optimizer,
                batch_size=batch_size,
                epochs=1,
            )
    return len(kinds)
