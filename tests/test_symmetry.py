"""The symmetry measure every kernel records per epoch (kernels.symmetry).

Against the plain NumPy measure of the weights at both ends of a run (the curve's first
epoch scores the initial weights, epoch e those e epochs of training return); exactly zero at every
epoch after an all-zero init, whatever the optimizer and batch mode; the same bits
whichever kernel of the lockstep family trained the run.
"""

import numpy as np
import pytest

import kernels
from kernels.symmetry import layer_spreads
from sweep.datasets import make_dataset

X, Y = make_dataset("xor")
KERNELS = {
    "one run": lambda init, **kw: kernels.train(X, Y, init, **kw),
    "lockstep": lambda init, **kw: kernels.train_many(X, Y, [init], passes="generic", **kw)[0],
    "one lane": lambda init, **kw: kernels.train_one_lane(X, Y, init, **kw),
}


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("batch_size", [None, 4, 1])
@pytest.mark.parametrize("sizes", [[2, 4, 3, 1], [2, 5, 1], [2, 1]])
def test_the_measure_is_the_spread_of_the_weights_that_scored_the_epoch(
    kernel: str, batch_size: int | None, sizes: list[int]
) -> None:
    init = kernels.init_params(sizes, "normal", 3)
    kw = {"lr": 0.5, "batch_size": batch_size, "optimizer": "adam"}
    out = KERNELS[kernel](init, epochs=31, **kw)
    assert out.symmetry.shape == (31, len(sizes) - 2)
    if len(sizes) == 2:
        return
    np.testing.assert_array_equal(out.symmetry[0], layer_spreads(init))
    # epoch 30 starts from the weights 30 epochs of training end with
    after_30 = KERNELS[kernel](init, epochs=30, **kw).weights
    np.testing.assert_array_equal(out.symmetry[30], layer_spreads(after_30))
    assert np.all(out.symmetry > 0) and not np.all(out.symmetry == out.symmetry[0])


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("batch_size", [None, 4, 1])
def test_an_all_zero_init_stays_exactly_symmetric_at_every_epoch(
    kernel: str, optimizer: str, batch_size: int | None
) -> None:
    init = kernels.init_params([2, 4, 3, 1], "zeros", 0)
    out = KERNELS[kernel](init, lr=0.5, epochs=40, batch_size=batch_size, optimizer=optimizer)
    assert out.epochs_run == 40 and np.all(out.symmetry == 0.0)
    # ... while the weights do move: the units stay equal, not still
    assert not np.allclose(out.weights[0][0], 0.0) or not np.allclose(out.weights[-1][0], 0.0)


def test_a_unit_apart_from_the_others_is_measured_by_its_largest_difference() -> None:
    w = np.zeros((2, 3))
    w[1, 2] = -0.75  # unit 2's weight from input 1
    b = np.array([0.1, 0.1, 0.4])  # and its bias 0.3 above the others
    params = [(w, b), (np.zeros((3, 1)), np.zeros(1))]
    assert layer_spreads(params).tolist() == [0.75]
    out = kernels.train(X, Y, params, lr=1e-12, epochs=1)
    assert out.symmetry.tolist() == [[0.75]]


def test_generated_passes_record_the_generic_bits() -> None:
    init = [kernels.init_params([2, 4, 3, 1], "normal", s) for s in range(5)]
    kw = {"lr": 0.5, "epochs": 50}
    generic = kernels.train_many(X, Y, init, passes="generic", **kw)
    generated = kernels.train_many(X, Y, init, passes="generated", **kw)
    for a, b in zip(generic, generated, strict=True):
        assert a.symmetry.tobytes() == b.symmetry.tobytes()
