"""A whole training run, every epoch, inside one compiled call.

``_train_full_batch``, ``_train_mini_batch`` and ``_train_online`` do the loops, a
compiled kernel a batch mode (each compiled on its first use, so a sweep waits only
for the modes it trains); :func:`train` checks inputs, packs the weights into one flat
float64 vector, works out the padded layout (:mod:`kernels.mlp.layout`, in NumPy),
allocates the buffers and calls the kernel of its batch mode (stumpy's
``_stump``/``stump`` pattern). Conventions the rest of the tool relies on:

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
from kernels.call import link
from kernels.checks import (
    Params,
    TrainOutput,
    checked_run,
    code_of,
    pack,
    run_output,
    sizes_of,
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
from kernels.options import INTERNAL_OPTIONS, JIT_OPTIONS
from kernels.rng import seed_states
from kernels.rng import shuffle as shuffle_order
from kernels.symmetry import spread


@njit(**INTERNAL_OPTIONS)
def _load_columns(
    xt: np.ndarray,
    y: np.ndarray,
    idx: np.ndarray,
    start: int,
    m: int,
    act: np.ndarray,
    ybuf: np.ndarray,
    by_sample: bool,
) -> None:
    """Copy samples ``idx[start:start+m]`` into the inputs of ``act`` and into ``ybuf``.

    The padding columns after them get copies of the first sample, so every
    activation computed there is as finite as a real one. The inputs are layer 0
    in the layout ``by_sample`` names (:func:`kernels.mlp.samples_outer`).
    """
    d = xt.shape[0]
    width = act.shape[1]
    if by_sample:
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


@njit(**INTERNAL_OPTIONS)
def _score(
    e: int,
    net: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    work: np.ndarray,
    whole: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    by_sample: bool,
    codes: tuple[int, int, int, int],
    curves: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> float:
    """The full-set pass that scores the weights at the start of epoch ``e``: its loss,
    accuracy and symmetry recorded in ``curves``; the loss returned (the deltas of
    the pass are left in ``whole`` for a full-batch update)."""
    sizes, widths, woff, boff, roff = net
    pre, act, delta, ybuf = whole
    hidden_code, out_code, loss_code, _ = codes
    loss_out, acc_out, symmetry_out = curves
    out = roff[roff.shape[0] - 1]  # the output neuron's row
    n = ybuf.shape[0]
    forward(sizes, widths, woff, boff, roff, work, pre, act, hidden_code, out_code, by_sample)
    loss, correct = loss_and_delta(loss_code, out_code, pre[out], act[out], ybuf, delta[out], n)
    loss_out[e] = loss
    acc_out[e] = correct / n
    for layer in range(symmetry_out.shape[1]):
        fan_in, fan_out = sizes[layer], sizes[layer + 1]
        symmetry_out[e, layer] = spread(
            work, woff[layer], widths[layer + 1], boff[layer], fan_in, fan_out
        )
    return loss


@njit(**INTERNAL_OPTIONS)
def _stops(e: int, loss: float, target: tuple[float, bool], convergence: int) -> tuple[int, int]:
    """After epoch ``e`` scored ``loss``: ``(how, convergence epoch or -1)``, ``how``
    0 to go on, 1 to stop at the target, 2 diverged (a non-finite loss)."""
    target_loss, stop_at_target = target
    if not math.isfinite(loss):
        return 2, convergence
    if not math.isnan(target_loss) and convergence < 0 and loss < target_loss:
        return (1 if stop_at_target else 0), e
    return 0, convergence


@njit(**JIT_OPTIONS)
def _train_full_batch(
    net: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    work: np.ndarray,
    whole: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    by_sample: bool,
    optimizer: tuple[np.ndarray, np.ndarray, np.ndarray],
    codes: tuple[int, int, int, int],
    lr: float,
    epochs: int,
    target: tuple[float, bool],
    use_bias: bool,
    curves: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[int, int, bool]:
    """Full-batch training of ``work`` in place, the update from each epoch's scoring
    pass; ``(epochs_run, convergence_epoch or -1, diverged)`` (the buffers: :func:`train`)."""
    sizes, widths, woff, boff, roff = net
    _, act, delta, _ = whole
    grad, s1, s2 = optimizer
    hidden_code, _, _, opt_code = codes
    convergence = -1
    for e in range(epochs):
        loss = _score(e, net, work, whole, by_sample, codes, curves)
        how, convergence = _stops(e, loss, target, convergence)
        if how > 0:
            return e + 1, convergence, how == 2
        backward(
            sizes, widths, woff, boff, roff, work, act, delta, grad, hidden_code, use_bias,
            by_sample,
        )  # fmt: skip
        step(opt_code, work, grad, s1, s2, lr, e + 1)
    return epochs, convergence, False


@njit(**JIT_OPTIONS)
def _train_mini_batch(
    xt: np.ndarray,
    y: np.ndarray,
    net: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    work: np.ndarray,
    whole: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    batch: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    by_sample: tuple[bool, bool],
    optimizer: tuple[np.ndarray, np.ndarray, np.ndarray],
    order: tuple[np.ndarray, np.ndarray, bool],
    codes: tuple[int, int, int, int],
    lr: float,
    epochs: int,
    target: tuple[float, bool],
    use_bias: bool,
    curves: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[int, int, bool]:
    """Mini-batch training: after each epoch's scoring pass, the samples in ``order``
    (reshuffled each epoch when asked), an update a batch of the ``batch`` buffers' width."""
    sizes, widths, woff, boff, roff = net
    b_pre, b_act, b_delta, b_ybuf = batch
    whole_by_sample, b_by_sample = by_sample
    grad, s1, s2 = optimizer
    idx, rng, shuffle = order
    hidden_code, out_code, loss_code, opt_code = codes
    out = roff[roff.shape[0] - 1]
    n = xt.shape[1]
    batch_size = b_ybuf.shape[0]
    convergence = -1
    t = 0
    for e in range(epochs):
        loss = _score(e, net, work, whole, whole_by_sample, codes, curves)
        how, convergence = _stops(e, loss, target, convergence)
        if how > 0:
            return e + 1, convergence, how == 2
        if shuffle:
            shuffle_order(idx, rng, 0)
        for start in range(0, n, batch_size):
            m = min(batch_size, n - start)
            _load_columns(xt, y, idx, start, m, b_act, b_ybuf, b_by_sample)
            forward(
                sizes, widths, woff, boff, roff, work, b_pre, b_act, hidden_code, out_code,
                b_by_sample,
            )  # fmt: skip
            loss_and_delta(loss_code, out_code, b_pre[out], b_act[out], b_ybuf, b_delta[out], m)
            backward(
                sizes, widths, woff, boff, roff, work, b_act, b_delta, grad, hidden_code,
                use_bias, b_by_sample,
            )  # fmt: skip
            t += 1
            step(opt_code, work, grad, s1, s2, lr, t)
    return epochs, convergence, False


@njit(**JIT_OPTIONS)
def _train_online(
    xt: np.ndarray,
    y: np.ndarray,
    net: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    work: np.ndarray,
    whole: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    by_sample: bool,
    one: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    optimizer: tuple[np.ndarray, np.ndarray, np.ndarray],
    order: tuple[np.ndarray, np.ndarray, bool],
    codes: tuple[int, int, int, int],
    lr: float,
    epochs: int,
    target: tuple[float, bool],
    use_bias: bool,
    curves: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[int, int, bool]:
    """Online training: after each epoch's scoring pass, an update per sample in
    ``order``, through the one-sample passes (a value per neuron, ``one``)."""
    sizes, widths, woff, boff, roff = net
    z1, a1, d1, y1 = one
    grad, s1, s2 = optimizer
    idx, rng, shuffle = order
    hidden_code, out_code, loss_code, opt_code = codes
    out = roff[roff.shape[0] - 1]
    n = xt.shape[1]
    convergence = -1
    t = 0
    for e in range(epochs):
        loss = _score(e, net, work, whole, by_sample, codes, curves)
        how, convergence = _stops(e, loss, target, convergence)
        if how > 0:
            return e + 1, convergence, how == 2
        if shuffle:
            shuffle_order(idx, rng, 0)
        for k in range(n):
            for i in range(xt.shape[0]):
                a1[i] = xt[i, idx[k]]
            y1[0] = y[idx[k]]
            forward_one(sizes, widths, woff, boff, roff, work, z1, a1, hidden_code, out_code)
            loss_and_delta(loss_code, out_code, z1[out:], a1[out:], y1, d1[out:], 1)
            backward_one(sizes, widths, woff, boff, roff, work, a1, d1, grad, hidden_code, use_bias)
            t += 1
            step(opt_code, work, grad, s1, s2, lr, t)
    return epochs, convergence, False


@njit(**JIT_OPTIONS)
def _predict(
    net: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    work: np.ndarray,
    pre: np.ndarray,
    act: np.ndarray,
    by_sample: bool,
    hidden_code: int,
    out_code: int,
) -> None:
    sizes, widths, woff, boff, roff = net
    forward(sizes, widths, woff, boff, roff, work, pre, act, hidden_code, out_code, by_sample)


Net = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
# A kernel a batch mode, each compiled on first use: a sweep of full-batch runs waits
# for ~half the compile of all three (benchmarks/README.md, "Cold start").
ONE_RUN_MODES = ("full batch", "mini-batch", "online")


def one_run_mode(n: int, batch_size: int | None) -> str:
    """Which of :data:`ONE_RUN_MODES` trains ``n`` samples in batches of ``batch_size``
    (online for batches of one with any optimizer; the lockstep kernels differ)."""
    if batch_size is None or batch_size >= n:
        return "full batch"
    return "online" if batch_size == 1 else "mini-batch"


def _strided_net(sizes: np.ndarray) -> tuple[Net, int, int]:
    """``(sizes, widths, woff, boff, roff)``, the number of strided parameters and of
    buffer rows: the net in the padded layout the passes use."""
    widths = padded_widths(sizes)
    woff, boff, roff, n_params, n_rows = strided_layout(sizes, widths)
    return (sizes, widths, woff, boff, roff), n_params, n_rows


def _pass_buffers(
    sizes: np.ndarray, n_rows: int, m: int
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], bool]:
    """z, activations, deltas (a row per neuron, :func:`kernels.mlp.pass_width` columns
    for ``m`` samples) and ``m`` targets; whether the pass is sample-major."""
    width = pass_width(sizes, m)
    buffers = (np.zeros((n_rows, width)), np.zeros((n_rows, width)), np.zeros((n_rows, width)))
    return (*buffers, np.zeros(m)), samples_outer(sizes, width)


def _load_set(xt: np.ndarray, act: np.ndarray, by_sample: bool) -> None:
    """The whole set's inputs into layer 0 of ``act``, the padding columns copies of
    the first sample (what ``_load_columns`` does for a batch, in NumPy)."""
    d, n = xt.shape
    width = act.shape[1]
    cols = np.concatenate([np.arange(n), np.zeros(width - n, np.int64)])
    if by_sample:
        act[:d].reshape(width, d)[:] = xt[:, cols].T
    else:
        act[:d] = xt[:, cols]


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
    link()
    names = (activation, output_activation, loss, optimizer)
    x, yv, sizes, codes, theta = checked_run(x, y, params, names, lr, epochs, batch_size, bias)
    n = x.shape[0]
    net, n_params, n_rows = _strided_net(sizes)
    work = to_strided(sizes, net[1], theta)
    xt = np.ascontiguousarray(x.T)
    whole, by_sample = _pass_buffers(sizes, n_rows, n)
    _load_set(xt, whole[1], by_sample)
    whole[3][:] = yv
    optimizer_state = (np.zeros(n_params), np.zeros(n_params), np.zeros(n_params))
    target = (math.nan if target_loss is None else float(target_loss), bool(stop_at_target))
    curves = (np.empty(epochs), np.empty(epochs), np.empty((epochs, len(sizes) - 2)))
    rng = seed_states(int(seed))
    order = (np.arange(n), rng, bool(shuffle))
    common = (float(lr), int(epochs), target, bool(bias), curves)
    mode = one_run_mode(n, batch_size)
    if mode == "full batch":
        outcome = _train_full_batch(net, work, whole, by_sample, optimizer_state, codes, *common)
    elif mode == "online":
        one = (np.zeros(n_rows), np.zeros(n_rows), np.zeros(n_rows), np.zeros(1))
        outcome = _train_online(
            xt, yv, net, work, whole, by_sample, one, optimizer_state, order, codes, *common
        )
    else:
        assert batch_size is not None  # mini-batches have a size
        batch, b_by_sample = _pass_buffers(sizes, n_rows, int(batch_size))
        outcome = _train_mini_batch(
            xt, yv, net, work, whole, batch, (by_sample, b_by_sample), optimizer_state, order,
            codes, *common,
        )  # fmt: skip
    from_strided(sizes, net[1], work, theta)
    return run_output(curves, theta, sizes, outcome)


def predict(
    x: np.ndarray,
    params: Params,
    *,
    activation: str = "sigmoid",
    output_activation: str = "sigmoid",
) -> np.ndarray:
    """Outputs ``(n, 1)`` of the net ``params`` for inputs ``x`` of shape ``(n, d)``."""
    link()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must be an (n, d) array, got shape {x.shape}")
    sizes = sizes_of(params, x.shape[1])
    if x.shape[0] == 0:
        return np.empty((0, 1))
    net, _, n_rows = _strided_net(sizes)
    xt = np.ascontiguousarray(x.T)
    (pre, act, _, _), by_sample = _pass_buffers(sizes, n_rows, x.shape[0])
    _load_set(xt, act, by_sample)
    work = to_strided(sizes, net[1], pack(params))
    _predict(
        net,
        work,
        pre,
        act,
        by_sample,
        code_of(ACTIVATIONS, activation, "activation"),
        code_of(OUTPUT_ACTIVATIONS, output_activation, "output_activation"),
    )
    out = act[n_rows - 1, : x.shape[0]].copy()
    return out.reshape(-1, 1)
