"""The one-lane kernel: one run with the bits the same run gets in a sweep.

Against the generic lockstep passes (themselves tested against the NumPy twin and the
generated passes) over every activation, output activation, loss, optimizer, batch
mode and bias setting, nets of 0 to 2 hidden layers, runs that stop at their target
and runs that diverge: weights, curves, symmetry measure, epochs and flags equal to
the bit. One compiled signature serves the whole matrix.
"""

import itertools

import numpy as np
import pytest

import kernels
from sweep.datasets import make_dataset

X, Y = make_dataset("xor")
LX, LY = make_dataset("linear")


def same_bits(a: kernels.TrainOutput, b: kernels.TrainOutput) -> bool:
    return (
        a.loss.tobytes() == b.loss.tobytes()
        and a.accuracy.tobytes() == b.accuracy.tobytes()
        and a.symmetry.tobytes() == b.symmetry.tobytes()
        and all(
            p.tobytes() == q.tobytes()
            for (pw, pb), (qw, qb) in zip(a.weights, b.weights, strict=True)
            for p, q in ((pw, qw), (pb, qb))
        )
        and (a.epochs_run, a.convergence_epoch, a.diverged)
        == (b.epochs_run, b.convergence_epoch, b.diverged)
    )


CHOICES = list(
    itertools.product(
        ["sigmoid", "tanh", "relu", "leaky_relu", "identity"],
        ["sigmoid", "identity"],
        ["mse", "mae", "bce"],
    )
)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adagrad", "rmsprop", "adam"])
@pytest.mark.parametrize("batch_size", [None, 4, 1])
def test_every_choice_gives_the_lockstep_bits(optimizer: str, batch_size: int | None) -> None:
    for k, (activation, output, loss) in enumerate(CHOICES):
        if loss == "bce" and output != "sigmoid":
            continue
        sizes = [[2, 4, 3, 1], [2, 5, 1], [2, 1]][k % 3]
        init = kernels.init_params(sizes, "normal", k)
        kw = {
            "activation": activation,
            "output_activation": output,
            "loss": loss,
            "optimizer": optimizer,
            "batch_size": batch_size,
            "bias": k % 2 == 0,
            "lr": 0.3,
            "epochs": 20,
            "seed": k,
        }
        alone = kernels.train_one_lane(X, Y, init, **kw)
        lanes = kernels.train_many(X, Y, [init], passes="generic", **kw)[0]
        assert same_bits(alone, lanes), kw


@pytest.mark.parametrize("batch_size", [None, 16, 1])
def test_a_run_stops_at_its_target_or_at_divergence_as_in_lockstep(batch_size: int | None) -> None:
    init = kernels.init_params([2, 4, 4, 1], "normal", 0)
    for kw in [
        {"lr": 1.0, "epochs": 400, "target_loss": 0.05},  # converges, stops there
        {"lr": 1.0, "epochs": 60, "target_loss": 0.05, "stop_at_target": False},
        {"lr": 1e6, "epochs": 60, "output_activation": "identity"},  # diverges
    ]:
        alone = kernels.train_one_lane(LX, LY, init, batch_size=batch_size, **kw)
        lanes = kernels.train_many(LX, LY, [init], passes="generic", batch_size=batch_size, **kw)
        assert same_bits(alone, lanes[0]), kw
    assert alone.diverged and not np.isfinite(alone.loss[-1])


def test_it_learns_and_keeps_a_zero_init_symmetric() -> None:
    init = kernels.init_params([2, 4, 4, 1], "normal", 0)
    out = kernels.train_one_lane(LX, LY, init, lr=1.0, epochs=300)
    assert out.loss[-1] < 0.5 * out.loss[0] and out.accuracy[-1] > 0.9
    zeros = kernels.init_params([2, 4, 4, 1], "zeros", 0)
    out = kernels.train_one_lane(X, Y, zeros, lr=1.0, epochs=50, optimizer="adam")
    w = out.weights[0][0]
    assert np.all(w == w[:, :1]) and np.all(out.symmetry == 0.0)


def test_bad_arguments_are_refused() -> None:
    init = kernels.init_params([2, 3, 1], "normal", 0)
    with pytest.raises(ValueError, match="lr must be a positive number"):
        kernels.train_one_lane(X, Y, init, lr=0.0)
    with pytest.raises(ValueError, match="activation"):
        kernels.train_one_lane(X, Y, init, activation="swish")
