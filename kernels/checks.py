"""What every kernel shares before and after its compiled loop: checks, packing, results.

The one-run kernel (:mod:`kernels.train`) and the lockstep kernels
(:mod:`kernels.lockstep`) take the same inputs and give the same
:class:`TrainOutput`; this module is the one place that checks those inputs, turns
the ``[(W, b), ...]`` of the public API into the flat float64 vector the compiled
code works on (``W`` row-major ``(fan_in, fan_out)``, then ``b``, layer by layer)
and back, and resolves the config's names to the kernels' integer codes. It imports
no compiled code, so both kernels import it and it imports neither.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kernels.activations import ACTIVATIONS, OUTPUT_ACTIVATIONS, SIGMOID
from kernels.losses import BCE, LOSSES
from kernels.optimizers import OPTIMIZERS

Params = list[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class TrainOutput:
    """What one compiled training run returns.

    ``loss[e]``/``accuracy[e]`` score the whole training set with the weights at the
    start of epoch ``e``; ``len(loss) == epochs_run``; ``weights`` are the ones that
    scored the last epoch; ``convergence_epoch`` is None when the target was never met.
    ``symmetry[e, l]`` measures how far apart the units of hidden layer ``l`` are at
    the start of epoch ``e``: the largest difference between two of its units' incoming
    weights, bias included (exactly 0 while they are all equal, as after an all-zero
    init; :func:`kernels.symmetry.spread`); shape ``(epochs_run, hidden layers)``.
    """

    loss: np.ndarray
    accuracy: np.ndarray
    symmetry: np.ndarray
    weights: Params
    epochs_run: int
    convergence_epoch: int | None
    diverged: bool


def n_params(sizes: Sequence[int]) -> int:
    """Weights and biases of the net ``sizes``."""
    return sum(int(a) * int(b) + int(b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def pack(params: Params) -> np.ndarray:
    """``[(W, b), ...]`` to one flat float64 vector in the kernels' layout."""
    parts: list[np.ndarray] = []
    for w, b in params:
        parts.append(np.ascontiguousarray(w, dtype=np.float64).ravel())
        parts.append(np.ascontiguousarray(b, dtype=np.float64).ravel())
    return np.concatenate(parts) if parts else np.empty(0)


def unpack(theta: np.ndarray, sizes: np.ndarray) -> Params:
    """The inverse of :func:`pack`: copies, shaped ``(fan_in, fan_out)`` and ``(fan_out,)``."""
    params: Params = []
    p = 0
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        w = theta[p : p + fan_in * fan_out].reshape(fan_in, fan_out).copy()
        p += fan_in * fan_out
        params.append((w, theta[p : p + fan_out].copy()))
        p += fan_out
    return params


def sizes_of(params: Params, n_inputs: int) -> np.ndarray:
    """The layer widths ``[n_inputs, ..., 1]`` of ``params``, checked layer by layer."""
    sizes = [n_inputs]
    for k, (w, b) in enumerate(params):
        w = np.asarray(w)
        b = np.asarray(b)
        if w.ndim != 2 or w.shape[0] != sizes[-1] or b.shape != (w.shape[1],):
            raise ValueError(
                f"layer {k}: expected W of shape ({sizes[-1]}, fan_out) and b of shape "
                f"(fan_out,), got {w.shape} and {b.shape}"
            )
        sizes.append(w.shape[1])
    if sizes[-1] != 1:
        raise ValueError(f"the last layer must have 1 output, got {sizes[-1]}")
    return np.asarray(sizes, dtype=np.int64)


def bias_slices(sizes: np.ndarray) -> list[tuple[int, int, int]]:
    """``(layer, offset, length)`` of every bias vector in the flat layout."""
    out = []
    p = 0
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        p += int(fan_in * fan_out)
        out.append((layer, p, int(fan_out)))
        p += int(fan_out)
    return out


def zero_biases(theta: np.ndarray, sizes: np.ndarray) -> None:
    """Set every bias of ``theta`` (flat layout, a row per parameter) to 0 in place."""
    for _, start, length in bias_slices(sizes):
        theta[start : start + length] = 0.0


def code_of(table: dict[str, int], name: str, what: str) -> int:
    """The integer code of ``name`` in ``table``, or a ValueError naming what is allowed."""
    if name not in table:
        raise ValueError(f"{what} must be one of {sorted(table)}, got {name!r}")
    return table[name]


def checked_data(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x`` as a float64 ``(n, d)`` array and ``y`` as ``n`` contiguous float64 targets."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"x must be a non-empty (n, d) array, got shape {x.shape}")
    yv = np.ascontiguousarray(np.asarray(y, dtype=np.float64).reshape(-1))
    if yv.shape[0] != x.shape[0]:
        raise ValueError(f"y must hold {x.shape[0]} targets, got {yv.shape[0]}")
    return x, yv


def checked_codes(
    activation: str, output_activation: str, loss: str, optimizer: str
) -> tuple[int, int, int, int]:
    """The kernels' integer codes of the four names, checked together."""
    hidden_code = code_of(ACTIVATIONS, activation, "activation")
    out_code = code_of(OUTPUT_ACTIVATIONS, output_activation, "output_activation")
    loss_code = code_of(LOSSES, loss, "loss")
    if loss_code == BCE and out_code != SIGMOID:
        raise ValueError("loss 'bce' needs output_activation 'sigmoid'")
    return hidden_code, out_code, loss_code, code_of(OPTIMIZERS, optimizer, "optimizer")


def check_lr(lr: float) -> None:
    """A run's learning rate: a positive finite number."""
    if not lr > 0 or not math.isfinite(lr):
        raise ValueError(f"lr must be a positive number, got {lr}")


def check_schedule(epochs: int, batch_size: int | None) -> None:
    """Epochs and batch size: at least 1 each (None is the full batch)."""
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be >= 1 or None, got {batch_size}")


def checked_run(
    x: np.ndarray,
    y: np.ndarray,
    params: Params,
    names: tuple[str, str, str, str],
    lr: float,
    epochs: int,
    batch_size: int | None,
    bias: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int, int, int], np.ndarray]:
    """What a one-run wrapper checks and packs: ``(x, y, sizes, codes, theta)`` for
    ``names`` = (activation, output activation, loss, optimizer); ``theta`` the flat
    weights, their biases zeroed without ``bias``."""
    x, yv = checked_data(x, y)
    sizes = sizes_of(params, x.shape[1])
    codes = checked_codes(*names)
    check_lr(lr)
    check_schedule(epochs, batch_size)
    theta = pack(params)
    if not bias:
        zero_biases(theta, sizes)
    return x, yv, sizes, codes, theta


def run_output(
    curves: tuple[np.ndarray, np.ndarray, np.ndarray],
    theta: np.ndarray,
    sizes: np.ndarray,
    outcome: tuple[int, int, bool] | np.ndarray,
) -> TrainOutput:
    """A run's :class:`TrainOutput` from its curve buffers (loss, accuracy, symmetry;
    ``epochs_run`` of them filled), its trained flat weights and ``(epochs_run,
    convergence epoch or -1, diverged)``."""
    epochs_run, convergence, diverged = (int(v) for v in outcome)
    loss_out, acc_out, symmetry_out = curves
    return TrainOutput(
        loss=loss_out[:epochs_run].copy(),
        accuracy=acc_out[:epochs_run].copy(),
        symmetry=symmetry_out[:epochs_run].copy(),
        weights=unpack(theta, sizes),
        epochs_run=epochs_run,
        convergence_epoch=None if convergence < 0 else convergence,
        diverged=bool(diverged),
    )
