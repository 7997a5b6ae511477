"""The Python API (RunConfig -> train_one -> RunResult): the lab's headline cases and
the contract every consumer relies on (curve lengths, stopping, weights, round trips)."""

from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import kernels
from sweep import RunConfig, make_dataset, train_one
from sweep.training import compile_kernels_for, lockstep_key, train_group

LAB = dict(hidden=(4, 4), activation="sigmoid", loss="mse", optimizer="sgd", lr=1.0)


def mse(res: Any, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((res.predict(x) - y) ** 2))


def same_weights(a: Any, b: Any) -> bool:
    return len(a) == len(b) and all(
        np.array_equal(wa, wb) and np.array_equal(ba, bb)
        for (wa, ba), (wb, bb) in zip(a, b, strict=True)
    )


# -- the lab's headline results --------------------------------------------------------


@pytest.mark.parametrize("dataset", ["xor", "linear"])
def test_the_lab_net_learns_both_datasets_for_most_seeds(dataset: str) -> None:
    """2-4-4-1 sigmoid, MSE, plain SGD with lr 1, full batch: below 0.005 within 10,000
    epochs for at least 7 of 10 seeds (9 of 10 on xor and 10 of 10 on linear when written)."""
    results = [
        train_one(RunConfig(dataset=dataset, epochs=10_000, target_loss=0.005, seed=s, **LAB))
        for s in range(10)
    ]
    converged = [r for r in results if r.converged]
    assert len(converged) >= 7
    for r in converged:
        assert r.final_loss < 0.005
        assert r.final_accuracy == 1.0


def test_a_linear_net_cannot_fit_xor() -> None:
    """Without a non-linearity the net is one linear map: its MSE on xor can never go below
    the least-squares fit's (about 0.249), and xor is not linearly separable."""
    x, y = make_dataset("xor")
    design = np.column_stack([x, np.ones(len(x))])
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    best_linear = float(np.mean((design @ coef - y) ** 2))
    assert best_linear > 0.24
    for seed in range(3):
        cfg = RunConfig(
            dataset="xor",
            activation="identity",
            output_activation="identity",
            lr=0.01,
            epochs=5000,
            seed=seed,
        )
        res = train_one(cfg)
        assert not res.diverged
        assert res.loss.min() >= best_linear * (1 - 1e-9)
        assert res.loss[-1] < 1.01 * best_linear  # it did train: it reached the linear optimum
        assert res.accuracy.max() < 1.0
        # 'none' is the same net through a sigmoid output: still a linear boundary.
        res = train_one(RunConfig(dataset="xor", activation="none", lr=1.0, seed=seed))
        assert res.config.activation == "identity"
        assert res.loss.min() > 0.2
        assert res.accuracy.max() < 1.0


# -- the contract ----------------------------------------------------------------------


def test_a_full_run_scores_every_epoch_and_returns_the_weights_after_the_last() -> None:
    cfg = RunConfig(dataset="xor", epochs=300, seed=1, **LAB)
    res = train_one(cfg)
    assert res.epochs_run == len(res.loss) == len(res.accuracy) == 300
    assert res.loss.dtype == res.accuracy.dtype == np.float64
    assert not res.converged and res.convergence_epoch is None and not res.diverged
    assert res.final_loss == res.loss[-1] and res.final_accuracy == res.accuracy[-1]
    assert res.best_loss == res.loss.min()
    assert res.train_seconds >= 0.0
    # loss[e] scores the weights at the start of epoch e: 300 epochs then 200 more from
    # the returned weights is the curve of 500 (plain SGD keeps no state).
    more = train_one(RunConfig(dataset="xor", epochs=200, seed=1, **LAB), init_weights=res.weights)
    whole = train_one(RunConfig(dataset="xor", epochs=500, seed=1, **LAB))
    assert_array_equal(np.concatenate([res.loss, more.loss]), whole.loss)
    assert same_weights(more.weights, whole.weights)
    x, y = make_dataset("xor")
    assert mse(res, x, y) == pytest.approx(more.loss[0], rel=1e-12)


@pytest.mark.parametrize("stop_at_target", [True, False])
def test_convergence_is_the_first_epoch_below_target(stop_at_target: bool) -> None:
    cfg = RunConfig(
        dataset="linear",
        epochs=5000,
        target_loss=0.01,
        stop_at_target=stop_at_target,
        seed=2,
        **LAB,
    )
    res = train_one(cfg)
    conv = res.convergence_epoch
    assert res.converged and conv is not None and conv > 0
    assert res.loss[conv] < 0.01
    assert (res.loss[:conv] >= 0.01).all()
    assert res.epochs_run == len(res.loss) == (conv + 1 if stop_at_target else 5000)
    if stop_at_target:
        # Stopped without epoch conv's update: the weights are those that scored loss[-1].
        x, y = make_dataset("linear")
        assert mse(res, x, y) == pytest.approx(res.loss[-1], rel=1e-12)
        assert res.final_loss < 0.01
    else:
        assert res.loss[-1] < res.loss[conv]


def test_a_diverged_run_stops_at_its_first_non_finite_loss() -> None:
    cfg = RunConfig(
        dataset="xor", activation="identity", output_activation="identity", lr=10.0, seed=0
    )
    res = train_one(cfg)
    assert res.diverged and not res.converged
    assert res.epochs_run == len(res.loss) < cfg.epochs
    assert not np.isfinite(res.loss[-1]) and np.isfinite(res.loss[:-1]).all()
    assert res.best_loss == res.loss[:-1].min()
    calm = train_one(
        RunConfig(
            dataset="xor", activation="identity", output_activation="identity", lr=0.01, seed=0
        )
    )
    assert not calm.diverged and np.isfinite(calm.loss).all()


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"batch_size": 5, "shuffle": True, "optimizer": "adam", "lr": 0.01},
        {"batch_size": 1, "optimizer": "momentum", "lr": 0.05, "hidden": (3,)},
        {"bias": False, "init": "xavier", "hidden": (5, 3, 2)},
    ],
)
def test_init_weights_round_trip_reproduces_the_run(extra: dict[str, Any]) -> None:
    cfg = RunConfig(**{**LAB, "dataset": "xor", "epochs": 400, "seed": 5, **extra})
    res = train_one(cfg)
    again = train_one(cfg, init_weights=res.init_weights)
    assert_array_equal(again.loss, res.loss)
    assert_array_equal(again.accuracy, res.accuracy)
    assert same_weights(again.weights, res.weights)
    assert same_weights(again.init_weights, res.init_weights)
    assert not same_weights(res.weights, res.init_weights)
    assert [w.shape for w, _ in res.init_weights] == list(
        zip(cfg.sizes[:-1], cfg.sizes[1:], strict=True)
    )
    if not cfg.bias:
        assert all(not b.any() for _, b in res.init_weights + res.weights)


def test_the_seed_draws_the_weights_and_same_config_repeats_bit_for_bit() -> None:
    cfg = RunConfig(dataset="linear", batch_size=10, epochs=200, seed=3, **LAB)
    a, b = train_one(cfg), train_one(cfg)
    assert_array_equal(a.loss, b.loss)
    assert same_weights(a.weights, b.weights)
    c = train_one(RunConfig(dataset="linear", batch_size=10, epochs=200, seed=4, **LAB))
    assert not same_weights(a.init_weights, c.init_weights)
    assert not np.array_equal(a.loss, c.loss)


def test_init_weights_must_match_the_config() -> None:
    res = train_one(RunConfig(dataset="xor", epochs=5, **LAB))
    with pytest.raises(ValueError, match="init_weights"):
        train_one(RunConfig(dataset="xor", hidden=(4,), epochs=5), init_weights=res.init_weights)


def test_training_leaves_the_given_weights_untouched() -> None:
    init = train_one(RunConfig(dataset="xor", epochs=1, **LAB)).init_weights
    copy = [(w.copy(), b.copy()) for w, b in init]
    train_one(RunConfig(dataset="xor", epochs=50, **LAB), init_weights=init)
    assert same_weights(init, copy)


def test_data_overrides_the_config_dataset() -> None:
    cfg = RunConfig(dataset="xor", epochs=100, **LAB)
    x, y = make_dataset("xor")
    assert_array_equal(train_one(cfg, data=(x, y)).loss, train_one(cfg).loss)
    other = make_dataset("linear", seed=1, n=40)
    res = train_one(cfg, data=other)
    assert not np.array_equal(res.loss, train_one(cfg).loss)
    assert res.predict(other[0]).shape == (40, 1)


def test_predict_gives_one_output_per_row() -> None:
    res = train_one(RunConfig(dataset="xor", epochs=50, **LAB))
    grid = np.random.default_rng(0).uniform(0.0, 1.0, (7, 2))
    out = res.predict(grid)
    assert out.shape == (7, 1) and out.dtype == np.float64
    assert ((out > 0.0) & (out < 1.0)).all()  # a sigmoid output
    assert res.predict(np.empty((0, 2))).shape == (0, 1)


@pytest.mark.parametrize(
    ("dataset", "hidden", "batch_size", "lockstep"),
    [("xor", (4, 4), None, True), ("linear", (4, 4), 1, True), ("linear", (8, 8), None, False)],
)
def test_a_group_gives_each_run_what_train_one_gives(
    dataset: str, hidden: tuple[int, ...], batch_size: int | None, lockstep: bool
) -> None:
    cfgs = [
        RunConfig(
            dataset=dataset,
            hidden=hidden,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
            init=init,
            epochs=60,
            target_loss=0.3,
            stop_at_target=stop,
        )
        for lr, seed, init, stop in [
            (0.5, 0, "normal", True),
            (2.0, 1, "xavier", False),
            (0.1, 2, "zeros", True),
        ]
    ]
    sizes = cfgs[0].sizes
    assert kernels.prefers_lockstep(sizes, len(make_dataset(dataset)[1]), batch_size) is lockstep
    group = train_group(cfgs, data=make_dataset(dataset))
    for cfg, res in zip(cfgs, group, strict=True):
        alone = train_one(cfg)
        assert res.config == cfg
        assert_array_equal(res.loss, alone.loss)
        assert same_weights(res.weights, alone.weights)
        assert same_weights(res.init_weights, alone.init_weights)
        assert res.convergence_epoch == alone.convergence_epoch
    assert len({res.epochs_run for res in group}) > 1  # some stopped at the target


def test_a_group_must_share_everything_but_seed_lr_init_and_target() -> None:
    cfgs = [RunConfig(dataset="xor", epochs=5), RunConfig(dataset="xor", epochs=6)]
    with pytest.raises(ValueError, match="run 1 differs from run 0 in epochs"):
        train_group(cfgs, data=make_dataset("xor"))
    assert lockstep_key(RunConfig(lr=0.1, seed=1)) == lockstep_key(RunConfig(lr=2.0, seed=9))


def test_the_sweep_compiles_each_kernel_it_needs_once_up_front() -> None:
    cfgs = [
        RunConfig(dataset="xor", hidden=(4, 4), lr=lr, seed=s) for lr in (0.1, 1.0) for s in (0, 1)
    ]
    cfgs += [RunConfig(dataset="linear", hidden=(4, 4))]  # the same net, full batch too
    assert compile_kernels_for(cfgs) == 1
    cfgs += [RunConfig(dataset="linear", hidden=(4, 4), batch_size=1)]  # online: its own
    cfgs += [RunConfig(dataset="linear", hidden=(4, 4), batch_size=1, optimizer="adam")]
    assert compile_kernels_for(cfgs) == 3  # ... and mini-batches (adam one sample at a time)
    cfgs += [RunConfig(dataset="linear", hidden=(32, 32))]  # the one-run kernel
    cfgs += [RunConfig(dataset="linear", hidden=(8, 8), batch_size=1)]  # generic lockstep
    cfgs += [RunConfig(dataset="xor", hidden=(4, 4), activation="tanh")]  # another net
    assert compile_kernels_for(cfgs) == 6
    assert compile_kernels_for([]) == 0


def test_bce_small_nets_take_the_vectorised_kernels() -> None:
    """bce's softplus calls libm, so generated passes would run scalar: small bce nets
    go by the generic rule (full batch on linear: one run at a time)."""
    assert kernels.lockstep.generated_passes([2, 4, 4, 1], "mse")
    assert not kernels.lockstep.generated_passes([2, 4, 4, 1], "bce")
    assert kernels.prefers_lockstep([2, 4, 4, 1], 100, None, "mse")
    assert not kernels.prefers_lockstep([2, 4, 4, 1], 100, None, "bce")
    assert kernels.prefers_lockstep([2, 4, 4, 1], 21, None, "bce")  # few samples
    assert kernels.prefers_lockstep([2, 4, 4, 1], 100, 1, "bce")  # online
