"""One run, from its :class:`RunConfig` to a :class:`RunResult`: the API notebooks use."""

import time
from dataclasses import dataclass

import numpy as np

from kernels import init_params, predict, train
from sweep.config import RunConfig
from sweep.datasets import make_dataset

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
    if init_weights is None:
        init = init_params(cfg.sizes, cfg.init, cfg.seed)
    else:
        init = [
            (np.array(w, dtype=np.float64), np.array(b, dtype=np.float64)) for w, b in init_weights
        ]
        shapes = [w.shape for w, _ in init]
        expected = list(zip(cfg.sizes[:-1], cfg.sizes[1:], strict=True))
        if shapes != expected:
            raise ValueError(f"init_weights: W shapes {shapes} do not match hidden {cfg.hidden}")
    if data is None:
        x, y = make_dataset(cfg.dataset, seed=cfg.data_seed, n=cfg.n, noise=cfg.noise)
    else:
        x, y = data
    start = time.perf_counter()
    out = train(
        x,
        y,
        init,
        activation=cfg.activation,
        output_activation=cfg.output_activation,
        loss=cfg.loss,
        optimizer=cfg.optimizer,
        lr=cfg.lr,
        epochs=cfg.epochs,
        target_loss=cfg.target_loss,
        stop_at_target=cfg.stop_at_target,
        batch_size=cfg.batch_size,
        shuffle=cfg.shuffle,
        seed=cfg.seed,
        bias=cfg.bias,
    )
    seconds = time.perf_counter() - start
    if not cfg.bias:
        init = [(w, np.zeros_like(b)) for w, b in init]
    return RunResult(
        config=cfg,
        loss=out.loss,
        accuracy=out.accuracy,
        init_weights=init,
        weights=out.weights,
        epochs_run=out.epochs_run,
        convergence_epoch=out.convergence_epoch,
        diverged=out.diverged,
        train_seconds=seconds,
    )
