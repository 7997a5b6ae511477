"""kernels.train_one_lane gives a run the bits of the same run in the lockstep kernel.

Every case is compared with ``train_many(..., [params], passes="generic")[0]``, array
by array (weights, curves, the symmetry measure, epochs run, convergence epoch,
divergence, NaN positions). The one-lane kernel has one compiled signature whatever
the net or the options, so the matrix costs run time only; the generic passes
compile once per batch mode (and are shared with tests/test_lockstep.py).
"""

import itertools
from typing import Any

import numpy as np
import pytest

import kernels
from kernels.activations import ACTIVATIONS
from kernels.losses import LOSSES
from kernels.optimizers import OPTIMIZERS
from sweep.datasets import make_dataset

NETS = [[2, 1], [2, 3, 1], [2, 4, 4, 1], [2, 5, 2, 3, 1]]
CASES: list[dict[str, Any]] = [
    dict(activation="sigmoid", optimizer="sgd", lr=1.0),
    dict(activation="tanh", optimizer="adam", loss="bce", batch_size=7, lr=0.05),
    dict(activation="relu", optimizer="rmsprop", loss="mae", batch_size=1, lr=0.01),
    dict(activation="leaky_relu", optimizer="momentum", output_activation="identity"),
    dict(activation="identity", optimizer="adagrad", batch_size=16, bias=False),
    dict(activation="sigmoid", optimizer="sgd", batch_size=1, lr=2.0),  # online SGD
    dict(activation="tanh", optimizer="sgd", batch_size=5, shuffle=False, lr=0.5),
    dict(activation="relu", optimizer="adam", batch_size=1, bias=False, lr=0.02),
    dict(activation="sigmoid", optimizer="momentum", loss="bce", batch_size=30, lr=0.5),
    dict(activation="leaky_relu", optimizer="sgd", loss="mae", batch_size=4, seed=-7),
    # stopping at the target, and noting it without stopping
    dict(activation="sigmoid", optimizer="adam", lr=0.1, target_loss=0.25),
    dict(activation="tanh", optimizer="sgd", batch_size=3, target_loss=0.24, stop_at_target=False),
    # divergence: non-finite losses stop the run
    dict(activation="relu", optimizer="sgd", output_activation="identity", lr=1e3),
    dict(
        activation="identity", optimizer="sgd", output_activation="identity", lr=1e4, batch_size=2
    ),
    dict(activation="leaky_relu", optimizer="momentum", output_activation="identity", lr=1e3),
]


def same(a: kernels.TrainOutput, b: kernels.TrainOutput) -> bool:
    """Whether two results are equal to the bit (NaN where the other has NaN)."""
    return (
        len(a.weights) == len(b.weights)
        and all(
            np.array_equal(wa, wb, equal_nan=True) and np.array_equal(ba, bb, equal_nan=True)
            for (wa, ba), (wb, bb) in zip(a.weights, b.weights, strict=True)
        )
        and np.array_equal(a.loss, b.loss, equal_nan=True)
        and np.array_equal(a.accuracy, b.accuracy, equal_nan=True)
        and np.array_equal(a.symmetry, b.symmetry, equal_nan=True)
        and (a.epochs_run, a.convergence_epoch, a.diverged)
        == (b.epochs_run, b.convergence_epoch, b.diverged)
    )


def both(x: np.ndarray, y: np.ndarray, params: Any, **kw: Any) -> list[kernels.TrainOutput]:
    one = kernels.train_one_lane(x, y, params, **kw)
    lane = kernels.train_many(x, y, [params], passes="generic", **kw)[0]
    return [one, lane]


@pytest.mark.parametrize("sizes", NETS, ids=lambda s: "-".join(map(str, s)))
@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{v}" for v in c.values()))
def test_a_run_has_the_bits_of_its_lockstep_lane(sizes: list[int], case: dict[str, Any]) -> None:
    x, y = make_dataset("xor")
    params = kernels.init_params(sizes, "normal", 4)
    one, lane = both(x, y, params, epochs=40, **case)
    assert same(one, lane)


def test_the_cases_stop_converge_and_diverge() -> None:
    """The matrix above reaches every way a run ends (else it would test less than it says)."""
    x, y = make_dataset("xor")
    params = kernels.init_params([2, 4, 4, 1], "normal", 4)
    ends = [kernels.train_one_lane(x, y, params, epochs=40, **case) for case in CASES]
    assert any(o.diverged and np.isnan(o.loss[-1]) for o in ends)
    assert any(o.convergence_epoch is not None and o.epochs_run < 40 for o in ends)
    assert any(o.convergence_epoch is not None and o.epochs_run == 40 for o in ends)
    assert any(not o.diverged and o.epochs_run == 40 for o in ends)


def test_every_combination_of_the_name_tables_has_the_lockstep_bits() -> None:
    """Every activation, output activation, loss and optimizer, in each batch mode
    (full batch, mini-batches with a short last one, online), with and without bias."""
    x, y = make_dataset("linear", n=23)
    params = kernels.init_params([2, 3, 2, 1], "normal", 1)
    failed = []
    names = itertools.product(ACTIVATIONS, ["sigmoid", "identity"], LOSSES, OPTIMIZERS)
    for k, (act, out, loss, opt) in enumerate(names):
        if loss == "bce" and out != "sigmoid":
            continue
        kw = dict(activation=act, output_activation=out, loss=loss, optimizer=opt, lr=0.3)
        kw.update(batch_size=(None, 5, 1)[k % 3], bias=k % 2 == 0, seed=k, epochs=8)
        one, lane = both(x, y, params, **kw)
        if not same(one, lane):
            failed.append(kw)
    assert not failed


def test_an_all_zero_init_keeps_its_hidden_units_equal_and_its_bits() -> None:
    x, y = make_dataset("xor")
    params = [
        (np.zeros_like(w), np.zeros_like(b))
        for w, b in kernels.init_params([2, 4, 4, 1], "normal", 0)
    ]
    for batch_size in (None, 4, 1):
        one, lane = both(x, y, params, epochs=30, batch_size=batch_size, optimizer="adam")
        assert same(one, lane)
        (w1, b1), (w2, b2), (w3, _) = one.weights
        assert np.all(w1 == w1[:, :1]) and np.all(b1 == b1[0])  # one unit, four times
        assert np.all(w2 == w2[0, 0]) and np.all(b2 == b2[0]) and np.all(w3 == w3[0])


def test_the_lab_net_learns_linear() -> None:
    x, y = make_dataset("linear")
    out = kernels.train_one_lane(
        x, y, kernels.init_params([2, 4, 4, 1], "normal", 0), lr=1.0, epochs=300
    )
    assert out.loss[-1] < 0.5 * out.loss[0]
    assert out.accuracy[-1] > 0.9
    assert np.all(np.diff(out.loss[50:]) < 0)  # full-batch SGD at this rate: downhill


def test_it_refuses_what_the_one_run_kernel_refuses() -> None:
    x, y = make_dataset("xor")
    params = kernels.init_params([2, 3, 1], "normal", 0)
    for kw, message in [
        (dict(activation="swish"), "activation must be one of"),
        (dict(loss="bce", output_activation="identity"), "needs output_activation"),
        (dict(lr=0.0), "lr must be"),
        (dict(epochs=0), "epochs must be"),
        (dict(batch_size=0), "batch_size must be"),
    ]:
        with pytest.raises(ValueError, match=message):
            kernels.train_one_lane(x, y, params, **kw)
