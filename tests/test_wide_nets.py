"""Nets of 8 neurons a layer or more: the padded layout and both pass layouts.

The one-run kernel pads such hidden layers to a multiple of 8 slots
(:func:`kernels.mlp.padded_widths`) and runs a pass sample-major when it has fewer
samples than the widest hidden layer (:func:`kernels.mlp.samples_outer`). The tests
in test_kernels.py use layers of 2 to 4 neurons, which take neither path; here the
same NumPy reference checks every path, and what the padding changes is checked.
"""

from typing import Any

import naive
import numpy as np
import pytest
from numba import njit
from numpy.testing import assert_allclose, assert_array_equal
from test_kernels import assert_kernel_matches, make_data

import kernels
from kernels import mlp
from kernels.activations import ACTIVATIONS
from kernels.call import link
from kernels.losses import LOSSES, loss_and_delta
from kernels.options import JIT_OPTIONS

SIZES = [2, 13, 9, 1]  # padded to 16 and 16 slots


def wide_params(sizes: list[int], seed: int = 0) -> naive.Params:
    """Weights N(0, 1/fan_in), biases N(0, 0.5^2): wide layers that do not saturate."""
    rng = np.random.default_rng(seed)
    return [
        (rng.normal(0.0, a**-0.5, (a, b)), rng.normal(0.0, 0.5, b))
        for a, b in zip(sizes[:-1], sizes[1:], strict=True)
    ]


def sample_major(sizes: list[int], m: int) -> bool:
    s = np.asarray(sizes, np.int64)
    return bool(mlp.samples_outer(s, mlp.pass_width(s, m)))


@pytest.mark.parametrize(
    ("n", "batch_size"),
    [(12, None), (5, None), (12, 5), (12, 1)],
    ids=["neuron-major", "sample-major", "mini-batch", "online"],
)
@pytest.mark.parametrize(
    ("activation", "loss", "output_activation", "optimizer"),
    [
        ("sigmoid", "mse", "sigmoid", "sgd"),
        ("tanh", "bce", "sigmoid", "adam"),
        ("relu", "mae", "sigmoid", "rmsprop"),
        ("leaky_relu", "mse", "identity", "momentum"),
        ("identity", "mse", "identity", "adagrad"),
    ],
)
def test_wide_nets_match_reference(
    n: int,
    batch_size: int | None,
    activation: str,
    loss: str,
    output_activation: str,
    optimizer: str,
) -> None:
    assert mlp.padded_widths(np.asarray(SIZES, np.int64)).tolist() == [2, 16, 16, 1]
    # The cases cover both layouts (the mini-batches' passes are sample-major; online
    # training has a pass of its own).
    m = n if batch_size is None else batch_size
    assert m == 1 or sample_major(SIZES, m) == (m == 5)
    x, y = make_data(n)
    params = wide_params(SIZES)
    kw: dict[str, Any] = dict(
        activation=activation,
        output_activation=output_activation,
        loss=loss,
        optimizer=optimizer,
        lr=0.01 if optimizer in ("adam", "rmsprop") else 0.05,
        epochs=100,
        batch_size=batch_size,
    )
    assert_kernel_matches(x, y, params, **kw)
    out = kernels.train(x, y, params, shuffle=False, **kw)
    assert (
        max(np.abs(w - w0).max() for (w, _), (w0, _) in zip(out.weights, params, strict=True))
        > 1e-3
    )


@pytest.mark.parametrize("n", [5, 200])
@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_wide_predict_matches_reference(n: int, activation: str) -> None:
    sizes = [2, 100, 20, 1]
    assert sample_major(sizes, n) == (n == 5)
    x = np.random.default_rng(3).normal(0.0, 2.0, (n, 2))
    params = wide_params(sizes)
    _, acts = naive.forward(x, params, activation, "sigmoid")
    out = kernels.predict(x, params, activation=activation)
    assert_allclose(out, acts[-1], rtol=1e-13, atol=1e-15)


@njit(**JIT_OPTIONS)
def _pass(
    sizes: np.ndarray, widths: np.ndarray, woff: np.ndarray, boff: np.ndarray,
    roff: np.ndarray, work: np.ndarray, buffers: tuple[np.ndarray, np.ndarray, np.ndarray],
    y: np.ndarray, grad: np.ndarray, by_sample: bool,
) -> None:  # fmt: skip
    """Forward, the mse loss's delta and backward of one full batch (sigmoid)."""
    pre, act, delta = buffers
    sigmoid = 0
    out = roff[roff.shape[0] - 1]
    mlp.forward(sizes, widths, woff, boff, roff, work, pre, act, sigmoid, sigmoid, by_sample)
    loss_and_delta(0, sigmoid, pre[out], act[out], y, delta[out], y.shape[0])
    mlp.backward(sizes, widths, woff, boff, roff, work, act, delta, grad, sigmoid, True, by_sample)


def one_pass(
    sizes: np.ndarray, widths: np.ndarray, theta: np.ndarray, xt: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Outputs and gradients (in the flat layout) of one full-batch pass with ``widths``."""
    assert ACTIVATIONS["sigmoid"] == 0 and LOSSES["mse"] == 0
    link()
    n = xt.shape[1]
    woff, boff, roff, n_params, n_rows = mlp.strided_layout(sizes, widths)
    work = mlp.to_strided(sizes, widths, theta)
    width = mlp.pass_width(sizes, n)
    buffers = (np.zeros((n_rows, width)), np.zeros((n_rows, width)), np.zeros((n_rows, width)))
    by_sample = mlp.samples_outer(sizes, width)
    act = buffers[1]
    inputs = xt[:, list(range(n)) + [0] * (width - n)]
    if by_sample:
        act[:2].reshape(width, 2)[:] = inputs.T
    else:
        act[:2] = inputs
    grad = np.zeros(n_params)
    _pass(sizes, widths, woff, boff, roff, work, buffers, np.asarray(y), grad, by_sample)
    flat_grad = np.zeros_like(theta)
    mlp.from_strided(sizes, widths, grad, flat_grad)
    return act[n_rows - 1, :n].copy(), flat_grad


@pytest.mark.parametrize("n", [21, 200])
def test_padding_changes_what_it_should(n: int) -> None:
    """One pass in the padded layout against the unpadded one. Outputs and the last
    two layers' gradients are the same to the bit (the padding is only written, never
    summed into them); neuron-major, all gradients are. Sample-major, ``delta_back``
    sums over the padded width (padding terms 0 x 0), whose vector sum groups the
    terms otherwise: layer 0's gradients move by rounding only."""
    sizes = np.array([2, 100, 100, 1], np.int64)
    assert sample_major(sizes.tolist(), n) == (n == 21)
    widths = mlp.padded_widths(sizes)
    assert widths.tolist() == [2, 104, 104, 1]
    x, y = make_data(n)
    params = wide_params([2, 100, 100, 1])
    theta = np.concatenate([np.concatenate([w.ravel(), b]) for w, b in params])
    xt = np.ascontiguousarray(x.T)
    out_plain, grad_plain = one_pass(sizes, sizes, theta, xt, y.ravel())
    out_padded, grad_padded = one_pass(sizes, widths, theta, xt, y.ravel())
    assert np.abs(grad_plain).max() > 1e-6  # a pass that computed something
    assert_array_equal(out_padded, out_plain)
    first = 2 * 100 + 100  # layer 0's W and b come first
    assert_array_equal(grad_padded[first:], grad_plain[first:])
    if n == 21:
        scale = np.abs(grad_plain[:first]).max()
        assert_allclose(grad_padded[:first], grad_plain[:first], rtol=1e-12, atol=1e-15 * scale)
    else:
        assert_array_equal(grad_padded, grad_plain)


def test_wide_divergence_stops_where_the_reference_does() -> None:
    """Padding neurons never turn a diverging run's numbers into others: an identity
    net blown up by a large learning rate stops at the reference's epoch."""
    assert sample_major(SIZES, 5)
    x, y = make_data(5)
    kw: dict[str, Any] = dict(
        activation="identity", output_activation="identity", lr=3.0, epochs=200
    )
    out = kernels.train(x, y, wide_params(SIZES), **kw)
    ref = naive.train(x, y, wide_params(SIZES), **kw)
    assert out.diverged and ref.diverged
    assert out.epochs_run == ref.epochs_run < 200
    assert_allclose(out.loss[:-1], ref.loss[:-1], rtol=1e-6)
