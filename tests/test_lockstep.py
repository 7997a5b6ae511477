"""Runs trained in lockstep (kernels.train_many) are each what they are alone, to the bit.

Their agreement with the NumPy reference is tested with every other kernel test
(tests/test_kernels.py runs each case through both kernels); here: a run's numbers do
not depend on how many runs share the call, on its lane, or on the others stopping.
"""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import kernels
from kernels import codegen
from kernels.lockstep_loop import BATCH_MODES, FULL_BATCH, MINI_BATCH, ONLINE, batch_mode
from kernels.optimizers import OPTIMIZERS
from sweep.datasets import make_dataset

GROUP = 13  # not a multiple of any vector width: lanes land in vector bodies and remainders
CASES: list[dict[str, Any]] = [
    dict(activation="sigmoid", optimizer="sgd"),
    dict(activation="tanh", optimizer="adam", loss="bce", batch_size=7),
    dict(activation="relu", optimizer="rmsprop", loss="mae", batch_size=1),
    dict(activation="leaky_relu", optimizer="momentum", output_activation="identity"),
    dict(activation="identity", optimizer="adagrad", batch_size=16, bias=False),
]


def group(sizes: list[int], runs: int) -> dict[str, Any]:
    """Inits, learning rates, seeds and targets of ``runs`` runs: some meet their target
    early, some diverge (a huge learning rate), the rest run every epoch."""
    rng = np.random.default_rng(3)
    lrs = rng.choice([0.01, 0.1, 1.0, 1e3], size=runs)
    return dict(
        inits=[kernels.init_params(sizes, "normal", int(s)) for s in rng.integers(0, 99, runs)],
        lr=lrs.tolist(),
        seed=rng.integers(0, 2**31, runs).tolist(),
        target_loss=[(0.5, 0.249, None)[k % 3] for k in range(runs)],
    )


def digest(out: kernels.TrainOutput) -> tuple[bytes, bytes, bytes, int, int | None, bool]:
    flat = np.concatenate([np.concatenate([w.ravel(), b]) for w, b in out.weights])
    return (
        out.loss.tobytes(),
        out.accuracy.tobytes(),
        flat.tobytes(),
        out.epochs_run,
        out.convergence_epoch,
        out.diverged,
    )


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['activation']}-{c['optimizer']}")
def test_a_run_is_the_same_alone_in_a_group_and_in_any_lane(case: dict[str, Any]) -> None:
    x, y = make_dataset("xor")
    g = group([2, 4, 3, 1], GROUP)
    together = kernels.train_many(
        x,
        y,
        g["inits"],
        epochs=300,
        lr=g["lr"],
        seed=g["seed"],
        target_loss=g["target_loss"],
        **case,
    )
    reverse = slice(None, None, -1)
    backwards = kernels.train_many(
        x,
        y,
        g["inits"][reverse],
        epochs=300,
        lr=g["lr"][reverse],
        seed=g["seed"][reverse],
        target_loss=g["target_loss"][reverse],
        **case,
    )
    # Runs left at different epochs (met their target or diverged): lanes moved.
    assert len({o.epochs_run for o in together}) >= 2
    for k in range(GROUP):
        alone = kernels.train_many(
            x,
            y,
            [g["inits"][k]],
            epochs=300,
            lr=g["lr"][k],
            seed=g["seed"][k],
            target_loss=g["target_loss"][k],
            **case,
        )[0]
        assert digest(together[k]) == digest(alone) == digest(backwards[GROUP - 1 - k])


def test_runs_that_differ_differ() -> None:
    """Each lane really has its own learning rate and seed (the bitwise test above would
    also pass if every lane computed lane 0)."""
    x, y = make_dataset("linear")
    init = kernels.init_params([2, 4, 4, 1], "normal", 0)
    a, b, c = kernels.train_many(
        x, y, [init] * 3, lr=[0.5, 0.5, 1.0], seed=[1, 2, 1], epochs=20, batch_size=10
    )
    assert not np.array_equal(a.loss, b.loss)  # another shuffle
    assert not np.array_equal(a.loss, c.loss)  # another learning rate
    assert a.loss[0] == b.loss[0] == c.loss[0]  # the same start


def test_the_one_run_kernel_agrees() -> None:
    x, y = make_dataset("linear")
    g = group([2, 8, 1], 5)
    outs = kernels.train_many(x, y, g["inits"], lr=0.3, epochs=200, batch_size=8, seed=g["seed"])
    for k, out in enumerate(outs):
        one = kernels.train(
            x, y, g["inits"][k], lr=0.3, epochs=200, batch_size=8, seed=g["seed"][k]
        )
        np.testing.assert_allclose(out.loss, one.loss, rtol=1e-12)


@pytest.mark.parametrize(
    ("inits", "kw", "message"),
    [
        ("mixed", {}, r"run 1: net \[2, 3, 1\] differs from run 0's \[2, 4, 1\]"),
        ("same", {"lr": [0.1, 0.2, 0.3]}, r"lr must be one value or 2 \(one per run\), got 3"),
        ("same", {"lr": [0.1, -1.0]}, "lr must be positive numbers, got -1.0"),
        ("same", {"seed": [1]}, r"seed must be one value or 2 \(one per run\), got 1"),
        ("same", {"optimizer": "lbfgs"}, "optimizer must be one of"),
        ("same", {"loss": "bce", "output_activation": "identity"}, "needs output_activation"),
    ],
)
def test_bad_arguments_are_refused(inits: str, kw: dict[str, Any], message: str) -> None:
    x, y = make_dataset("xor")
    first = kernels.init_params([2, 4, 1], "normal", 0)
    second = kernels.init_params([2, 3, 1] if inits == "mixed" else [2, 4, 1], "normal", 1)
    with pytest.raises(ValueError, match=message):
        kernels.train_many(x, y, [first, second], epochs=5, **kw)


def test_no_runs_is_no_results() -> None:
    x, y = make_dataset("xor")
    assert kernels.train_many(x, y, [], epochs=5) == []


GENERATED = [
    ([2, 4, 3, 1], case)
    for case in CASES  # the nets above: no extra compiles
] + [
    ([2, 1], dict(activation="sigmoid", optimizer="adam")),
    ([2, 3, 4, 2, 1], dict(activation="tanh", loss="mae", output_activation="identity")),
]


@pytest.mark.parametrize(("sizes", "case"), GENERATED, ids=lambda v: str(v))
def test_generated_passes_give_the_generic_bits(sizes: list[int], case: dict[str, Any]) -> None:
    """The passes written out for one net do the generic passes' operations in their
    order: every optimizer, full batch, mini-batch and online, to the bit."""
    x, y = make_dataset("xor")
    g = group(sizes, 6)
    for optimizer in ["sgd", "momentum", "adagrad", "rmsprop", "adam"]:
        for batch_size in [None, 5, 1]:
            kw: dict[str, Any] = {
                **case,
                "optimizer": optimizer,
                "batch_size": case.get("batch_size", batch_size),
            }
            runs = dict(lr=g["lr"], seed=g["seed"], target_loss=g["target_loss"], epochs=40)
            generated = kernels.train_many(x, y, g["inits"], passes="generated", **runs, **kw)
            generic = kernels.train_many(x, y, g["inits"], passes="generic", **runs, **kw)
            for a, b in zip(generated, generic, strict=True):
                assert digest(a) == digest(b)


@pytest.mark.parametrize(
    ("n", "batch_size", "optimizer", "mode"),
    [
        (100, 100, "sgd", FULL_BATCH),
        (21, 32, "adam", FULL_BATCH),
        (100, 16, "sgd", MINI_BATCH),
        (100, 1, "adam", MINI_BATCH),
        (100, 1, "sgd", ONLINE),
    ],
)
def test_a_generated_kernel_holds_only_the_passes_of_its_batch_mode(
    n: int, batch_size: int, optimizer: str, mode: int
) -> None:
    """A sweep of full-batch runs compiles no mini-batch or online pass (about half the
    compile); a pass the mode never calls raises if it ever were."""
    assert batch_mode(n, batch_size, OPTIMIZERS[optimizer]) == mode
    source = codegen.passes_source(((2, 4, 4, 1), 0, 0, 0, True, mode))
    assert "def score_set(" not in source  # no batch mode calls one (the loop scores in passes)
    for name in ("learn_set", "learn_picked", "sgd_online"):
        body = source.split(f"def {name}(")[1].split("@njit")[0]
        stub = f"raise RuntimeError('{name} is not generated for {BATCH_MODES[mode]} training')"
        assert (stub in body) == (name not in codegen.PASSES[mode])
        assert len(body.splitlines()) > 20 or name not in codegen.PASSES[mode]


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc (Linux)")
def test_generated_kernels_work_where_the_cache_cannot_be_written() -> None:
    """With an unusable NUMBA_CACHE_DIR the generated module goes to the temp directory
    and is compiled in the process: same results, no error."""
    code = (
        "import numpy as np, kernels\n"
        "from sweep.datasets import make_dataset\n"
        "x, y = make_dataset('xor')\n"
        "out = kernels.train_many(x, y, [kernels.init_params([2, 3, 1], 'normal', 0)],"
        " epochs=30, activation='tanh')\n"
        "print(out[0].loss.tobytes().hex())\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": "/proc/no-such-cache"}
    child = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600
    )
    assert child.returncode == 0, child.stderr
    x, y = make_dataset("xor")
    here = kernels.train_many(
        x, y, [kernels.init_params([2, 3, 1], "normal", 0)], epochs=30, activation="tanh"
    )
    assert child.stdout.strip() == here[0].loss.tobytes().hex()


def test_generated_online_sgd_gives_the_generic_bits_in_a_full_group() -> None:
    """Online SGD's generated pass, scoring the epoch's start as it updates, in a full
    group: 64 runs that reach their targets at different epochs are retired and
    swapped mid-epoch-loop, each keeping the copy of the weights that scored it; the
    same bits as the generic passes."""
    x, y = make_dataset("xor")
    inits = group([2, 4, 3, 1], 64)["inits"]
    lr = np.random.default_rng(5).choice([1.0, 3.0, 10.0], size=64).tolist()
    targets = [(0.2, 0.24, None)[k % 3] for k in range(64)]
    runs = dict(lr=lr, seed=list(range(64)), target_loss=targets, epochs=200)
    kw: dict[str, Any] = {**CASES[0], "batch_size": 1}
    generated = kernels.train_many(x, y, inits, passes="generated", **runs, **kw)
    generic = kernels.train_many(x, y, inits, passes="generic", **runs, **kw)
    left = sorted(o.epochs_run for o in generated)
    assert 1 < left[0] and left[16] < 200  # all 64 active after epoch 0, fewer later
    for a, b in zip(generated, generic, strict=True):
        assert digest(a) == digest(b)


def test_online_sgd_has_no_compiled_copy_of_its_own(tmp_path: Path) -> None:
    """The generated online pass is inlined into the training loop, never compiled
    alone: a copy of its own is not vectorised, and in the process that compiled it
    the loop's call went to that copy (online training 4x slower there than from the
    disk cache). In a process compiling from an empty cache, its dispatcher holds no
    compiled signature after training; mini-batch passes stay compiled on their own."""
    code = (
        "import kernels\n"
        "from kernels import codegen\n"
        "from kernels.lockstep_loop import ONLINE\n"
        "from sweep.datasets import make_dataset\n"
        "x, y = make_dataset('linear')\n"
        "inits = [kernels.init_params([2, 4, 4, 1], 'normal', s) for s in range(3)]\n"
        "kernels.train_many(x, y, inits, lr=0.1, epochs=3, batch_size=1)\n"
        "module = codegen.kernel_for(((2, 4, 4, 1), 0, 0, 0, True, ONLINE))\n"
        "print(len(module.train_lanes.signatures), len(module.sgd_online.signatures))\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    child = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == ["1", "0"]
    assert "inline" not in codegen.passes_source(((2, 4, 4, 1), 0, 0, 0, True, MINI_BATCH))
