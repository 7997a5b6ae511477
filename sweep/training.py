"""Runs, from :class:`RunConfig` to :class:`RunResult`: the API notebooks and the sweep use.

Each configuration belongs to one kernel family (:mod:`sweep.tiers`), so
:func:`train_one` gives the bits a sweep stores for the same configuration, whichever
of the family's kernels trains it: the fastest one compiled at the time
(:func:`sweep.tiers.group_kernel`). A lone run of a small net trains one run at a time
with the lockstep's bits (:func:`kernels.train_one_lane`), so a notebook that loops
``train_one`` over many nets compiles nothing per net.
"""

import dataclasses
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kernels import init_params, predict, train, train_many, train_one_lane
from kernels.codegen import Net
from kernels.warm import compile_kernel
from sweep.config import RunConfig
from sweep.datasets import make_dataset
from sweep.tiers import GENERATED, ONE_LANE, ONE_RUN, group_kernel, kernels_of, wait_for

Params = list[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class RunResult:
    """A trained run: per-epoch curves, weights before and after, and the outcome.

    ``loss[e]``/``accuracy[e]`` score the weights at the start of epoch ``e`` on the
    whole training set; ``symmetry[e, l]`` how far apart the units of hidden layer ``l``
    are then (:attr:`kernels.TrainOutput.symmetry`); ``epochs_run == len(loss)``;
    ``convergence_epoch`` is the first epoch whose loss is below ``config.target_loss``
    (None when never, or no target).
    """

    config: RunConfig
    loss: np.ndarray
    accuracy: np.ndarray
    symmetry: np.ndarray
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

    In one :func:`kernels.train_many` call when a lockstep kernel is compiled for the
    configuration, else one call per run (:func:`kernels.train_one_lane` or
    :func:`kernels.train`, by the family); each result is what :func:`train_one` gives
    for its run. ``train_seconds`` of a lockstep group is its time shared out in
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
    kernels = kernels_of(first)
    kernel = group_kernel(kernels, len(cfgs))
    if kernel == ONE_RUN:  # a sweep may be compiling it beside (sweep.tiers.Plan)
        wait_for(kernels.first)
    start = time.perf_counter()
    if kernel not in (ONE_RUN, ONE_LANE):
        outs = train_many(
            x,
            y,
            inits,
            lr=[cfg.lr for cfg in cfgs],
            seed=[cfg.seed for cfg in cfgs],
            target_loss=[cfg.target_loss for cfg in cfgs],
            stop_at_target=[cfg.stop_at_target for cfg in cfgs],
            passes="generated" if kernel == GENERATED else "generic",
            **shared,
        )
        total = time.perf_counter() - start
        epochs = sum(out.epochs_run for out in outs)
        seconds = [total * out.epochs_run / epochs for out in outs]
    else:
        outs, seconds = [], []
        one = train if kernel == ONE_RUN else train_one_lane
        for cfg, init in zip(cfgs, inits, strict=True):
            start = time.perf_counter()
            outs.append(
                one(
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
                symmetry=out.symmetry,
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
    """Compile (or load from Numba's disk cache) the fastest kernel of every lockstep key
    of ``cfgs``, here and now; how many distinct kernels that is.

    The one-run kernel if some run takes it; else per net the pass generated for it
    (each net and batch mode its own) or the generic pass of its batch mode, with the
    lockstep loop that calls them. What ``python -m sweep run --compile all`` does before
    training; by default a sweep starts at once on the kernels that need no compile per
    net and compiles these in another process only where they pay (:mod:`sweep.tiers`).
    """
    kinds: list[str | Net] = []
    for cfg in cfgs:
        kernels = kernels_of(cfg)
        kind: str | Net = (
            kernels.first
            if kernels.family == ONE_RUN
            else (kernels.net if kernels.generated else kernels.generic)
        )
        if kind not in kinds:
            kinds.append(kind)
    for kind in kinds:
        compile_kernel(kind)
    return len(kinds)
