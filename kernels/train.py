"""A whole training run, every epoch, inside one compiled call.

``_train`` does the loops; :func:`train` checks inputs, packs the weights into one
flat float64 vector, allocates the buffers and calls it (stumpy's ``_stump``/``stump``
pattern). Conventions the rest of the tool relies on:

- ``loss[e]``/``accuracy[e]`` are measured on the whole training set with the weights
  at the *start* of epoch ``e``, before any of its updates (``loss[0]`` is the initial
  loss). Full batch reuses that forward pass for the update; mini-batch and online
  training make one extra full-set pass per epoch so curves of any batch size compare.
- A run stops at the first epoch whose loss is below ``target_loss`` (when
  ``stop_at_target``), without that epoch's update, or at the first non-finite loss
  (``diverged``); either way ``len(loss) == epochs_run == e + 1`` and the returned
  weights are the ones that scored ``loss[e]``.
- Mini-batches are reshuffled every epoch from ``seed`` by :mod:`kernels.rng` (a
  generator per run, so the order is the same in every process and in both this
  kernel and :mod:`kernels.lockstep`).
"""

import math

import numpy as np
from numba import njit

from kernels.activations import ACTIVATIONS, OUTPUT_ACTIVATIONS
from kernels.checks import (
    Params,
    TrainOutput,
    check_lr,
    check_schedule,
    checked_codes,
    checked_data,
    code_of,
    pack,
    sizes_of,
    unpack,
    zero_biases,
)
from kernels.losses import loss_and_delta
from kernels.mlp import (
    backward,
    backward_one,
    forward,
    forward_one,
    from_strided,
    padded_widths,
    pass_width,
    samples_outer,
    strided_layout,
    to_strided,
)
from kernels.optimizers import step
from kernels.options import JIT_OPTIONS
from kernels.rng import seed_state
from kernels.rng import shuffle as shuffle_order
from kernels.symmetry import spread


@njit(**JIT_OPTIONS)
def _load_columns(
    sizes: np.ndarray,
    xt: np.ndarray,
    y: np.ndarray,
    idx: np.ndarray,
    start: int,
    m: int,
    act: np.ndarray,
    ybuf: np.ndarray,
) -> None:
    """Copy samples ``idx[start:start+m]`` into the inputs of ``act`` and into ``ybuf``.

    The padding columns after them get copies of the first sample, so every
    activation computed there is as finite as a real one. The inputs are layer 0
    in the layout :func:`samples_outer` picks for the net ``sizes``.
    """
    d = xt.shape[0]
    width = act.shape[1]
    if samples_outer(sizes, width):
        inputs = act[:d].reshape(width, d)
        for s in range(width):
            col = idx[start + s] if s < m else idx[start]
            for k in range(d):
                inputs[s, k] = xt[k, col]
    else:
        for k in range(d):
            for s in range(width):
                act[k, s] = xt[k, idx[start + s] if s < m else idx[start]]
    for s in range(m):
        ybuf[s] = y[idx[start + s]]


@njit(**JIT_OPTIONS)
def _buffers(sizes: np.ndarray, n_rows: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z, activations, deltas (a row per neuron, :func:`pass_width` columns for ``m``
    samples)."""
    width = pass_width(sizes, m)
    return (
        np.zeros((n_rows, width)),
        np.zeros((n_rows, width)),
        np.zeros((n_rows, width)),
    )


@njit(**JIT_OPTIONS)
def _train(
    xt: np.ndarray,
    y: np.ndarray,
    sizes: np.ndarray,
    theta: np.ndarray,
    hidden_code: int,
    out_code: int,
    loss_code: int,
    opt_code: int,
    lr: float,
    epochs: int,
    target_loss: float,
    stop_at_target: bool,
    batch_size: int,
    shuffle: bool,
    seed: int,
    use_bias: bool,
    loss_out: np.ndarray,
    acc_out: np.ndarray,
    symmetry_out: np.ndarray,
) -> tuple[int, int, bool]:
    """Train in place; returns ``(epochs_run, convergence_epoch or -1, diverged)``.

    The passes update a copy of ``theta`` in the padded layout of
    :func:`kernels.mlp.strided_layout`, copied back into ``theta`` at the end.
    """
    n = xt.shape[1]
    widths = padded_widths(sizes)
    woff, boff, roff, n_params, n_rows = strided_layout(sizes, widths)
    work = to_strided(sizes, widths, theta)
    out = n_rows - 1  # the output neuron's row
    # The whole set's buffers (its input rows are loaded once, never overwritten) and,
    # for mini-batches, a narrower set sized to one batch.
    pre, act, delta = _buffers(sizes, n_rows, n)
    full_batch = batch_size >= n
    b_pre, b_act, b_delta = _buffers(sizes, n_rows, 1 if full_batch else batch_size)
    grad = np.zeros(n_params)
    s1 = np.zeros(n_params)
    s2 = np.zeros(n_params)
    ybuf = np.empty(n)
    b_ybuf = np.empty(n)
    # online training: one value per neuron (see kernels.mlp.forward_one)
    z1, a1, d1, y1 = np.zeros(n_rows), np.zeros(n_rows), np.zeros(n_rows), np.zeros(1)
    order = np.arange(n)
    state = np.empty(1, np.uint64)
    state[0] = seed_state(seed)
    has_target = not math.isnan(target_loss)
    convergence = -1
    epochs_run = epochs
    diverged = False
    t = 0
    _load_columns(sizes, xt, y, np.arange(n), 0, n, act, ybuf)
    for e in range(epochs):
        # The full-set pass that scores the weights at the start of epoch e.
        forward(sizes, widths, woff, boff, roff, work, pre, act, hidden_code, out_code)
        loss, correct = loss_and_delta(loss_code, out_code, pre[out], act[out], ybuf, delta[out], n)
        loss_out[e] = loss
        acc_out[e] = correct / n
        for layer in range(symmetry_out.shape[1]):
            fan_in, fan_out = sizes[layer], sizes[layer + 1]
            symmetry_out[e, layer] = spread(
                work, woff[layer], widths[layer + 1], boff[layer], fan_in, fan_out
            )
        if not math.isfinite(loss):
            epochs_run = e + 1
            diverged = True
            break
        if has_target and convergence < 0 and loss < target_loss:
            convergence = e
            if stop_at_target:
                epochs_run = e + 1
                break
        if full_batch:
            backward(sizes, widths, woff, boff, roff, work, act, delta, grad, hidden_code, use_bias)
            t += 1
            step(opt_code, work, grad, s1, s2, lr, t)
            continue
        if shuffle:
            shuffle_order(order, state, 0)
        if batch_size == 1:
            for k in range(n):
                for i in range(xt.shape[0]):
                    a1[i] = xt[i, order[k]]
                y1[0] = y[order[k]]
                forward_one(sizes, widths, woff, boff, roff, work, z1, a1, hidden_code, out_code)
                loss_and_delta(loss_code, out_code, z1[out:], a1[out:], y1, d1[out:], 1)
                backward_one(
                    sizes, widths, woff, boff, roff, work, a1, d1, grad, hidden_code, use_bias
                )
                t += 1
                step(opt_code, work, grad, s1, s2, lr, t)
            continue
        for start in range(0, n, batch_size):
            m = min(batch_size, n - start)
            _load_columns(sizes, xt, y, order, start, m, b_act, b_ybuf)
            forward(
                sizes, widths, woff, boff, roff, work, b_pre, b_act,
                hidden_code, out_code,
            )  # fmt: skip
            loss_and_delta(loss_code, out_code, b_pre[out], b_act[out], b_ybuf, b_delta[out], m)
            backward(
                sizes, widths, woff, boff, roff, work, b_act, b_delta, grad, hidden_code, use_bias
            )
            t += 1
            step(opt_code, work, grad, s1, s2, lr, t)
    from_strided(sizes, widths, work, theta)
    return epochs_run, convergence, diverged


@njit(**JIT_OPTIONS)
def _predict(
    xt: np.ndarray, sizes: np.ndarray, theta: np.ndarray, hidden_code: int, out_code: int
) -> np.ndarray:
    n = xt.shape[1]
    widths = padded_widths(sizes)
    woff, boff, roff, _, n_rows = strided_layout(sizes, widths)
    work = to_strided(sizes, widths, theta)
    pre, act, _ = _buffers(sizes, n_rows, n)
    _load_columns(sizes, xt, np.zeros(n), np.arange(n), 0, n, act, np.empty(n))
    forward(sizes, widths, woff, boff, roff, work, pre, act, hidden_code, out_code)
    return act[n_rows - 1, :n].copy()


def train(
    x: np.ndarray,
    y: np.ndarray,
    params: Params,
    *,
    activation: str = "sigmoid",
    output_activation: str = "sigmoid",
    loss: str = "mse",
    optimizer: str = "sgd",
    lr: float = 0.1,
    epochs: int = 10_000,
    target_loss: float | None = None,
    stop_at_target: bool = True,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
    bias: bool = True,
) -> TrainOutput:
    """Train the net given by its initial ``params`` on ``(x, y)``; the inputs are not modified.

    Parameters
    ----------
    x : (n, d) array of inputs; y : (n,) or (n, 1) array of 0/1 targets.
    params : initial ``[(W, b), ...]``, ``W`` shaped ``(fan_in, fan_out)``; last fan_out is 1.
    batch_size : None (or >= n) for full batch, 1 for online training.
    bias : when False the biases are zeroed and never updated.
    """
    x, yv = checked_data(x, y)
    n = x.shape[0]
    sizes = sizes_of(params, x.shape[1])
    hidden_code, out_code, loss_code, opt_code = checked_codes(
        activation, output_activation, loss, optimizer
    )
    check_lr(lr)
    check_schedule(epochs, batch_size)
    theta = pack(params)
    if not bias:
        zero_biases(theta, sizes)
    loss_out = np.empty(epochs)
    acc_out = np.empty(epochs)
    symmetry_out = np.empty((epochs, len(sizes) - 2))
    epochs_run, convergence, diverged = _train(
        np.ascontiguousarray(x.T),
        yv,
        sizes,
        theta,
        hidden_code,
        out_code,
        loss_code,
        opt_code,
        float(lr),
        int(epochs),
        math.nan if target_loss is None else float(target_loss),
        bool(stop_at_target),
        n if batch_size is None else int(batch_size),
        bool(shuffle),
        int(seed),
        bool(bias),
        loss_out,
        acc_out,
        symmetry_out,
    )
    return TrainOutput(
        loss=loss_out[:epochs_run].copy(),
        accuracy=acc_out[:epochs_run].copy(),
        symmetry=symmetry_out[:epochs_run].copy(),
        weights=unpack(theta, sizes),
        epochs_run=int(epochs_run),
        convergence_epoch=None if convergence < 0 else int(convergence),
        diverged=bool(diverged),
    )


def predict(
    x: np.ndarray,
    params: Params,
    *,
    activation: str = "sigmoid",
    output_activation: str = "sigmoid",
) -> np.ndarray:
    """Outputs ``(n, 1)`` of the net ``params`` for inputs ``x`` of shape ``(n, d)``."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must be an (n, d) array, got shape {x.shape}")
    sizes = sizes_of(params, x.shape[1])
    if x.shape[0] == 0:
        return np.empty((0, 1))
    out = _predict(
        np.ascontiguousarray(x.T),
        sizes,
        pack(params),
        code_of(ACTIVATIONS, activation, "activation"),
        code_of(OUTPUT_ACTIVATIONS, output_activation, "output_activation"),
    )
    return out.reshape(-1, 1)
