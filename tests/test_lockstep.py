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
from kernels.lanes import BATCH_MODES, FULL_BATCH, MINI_BATCH, ONLINE, batch_mode
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
def test_a_generated_kernel_holds_only_the_pass_of_its_batch_mode(
    n: int, batch_size: int, optimizer: str, mode: int
) -> None:
    """A sweep of full-batch runs compiles no mini-batch or online pass, and no copy of
    the training loop: a net's module is one C function, its batch mode's pass, which
    the loop (compiled once for every net) calls by address."""
    assert batch_mode(n, batch_size, OPTIMIZERS[optimizer]) == mode
    source = codegen.module_source(((2, 4, 4, 1), 0, 0, 0, True, mode))
    assert source.count("def ") == 1 and source.count("@cfunc(") == 1
    assert "def lockstep_pass(" in source and "njit" not in source
    assert f"# {codegen.PASS_NAMES[mode]}: the pass of {BATCH_MODES[mode]} training" in source
    assert ("sgd_one(" in source) == (mode == ONLINE)  # only online updates in the pass
    assert ("order[" in source) == (mode != FULL_BATCH)  # full batch picks no samples
    assert "train_lanes" not in source and "step_lanes" not in source
    assert len(source.splitlines()) > 40


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc (Linux)")
def test_generated_kernels_work_where_the_cache_cannot_be_written() -> None:
    """With an unusable NUMBA_CACHE_DIR the generated module goes to the temp directory
    and is compiled in the process: same results, no error."""
    code = (
        "import numpy as np, kernels\n"
        "from sweep.datasets import make_dataset\n"
        "x, y = make_dataset('xor')\n"
        "out = kernels.train_many(x, y, [kernels.init_params([2, 3, 1], 'normal', 0)],"
        " epochs=30, activation='tanh', passes='generated')\n"
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


def test_a_generated_pass_is_compiled_once_and_loaded_by_any_process(tmp_path: Path) -> None:
    """A generated pass is one C function: the process that compiles it and a process
    that loads it from the disk cache call the same code (round six found online
    training 4x slower in the compiling process, which had bound the loop to a second,
    unvectorised copy of its pass). Compiled in a child with an empty cache, it is
    marked ready and loaded by a second child; both give the same bits as this process
    and as the generic passes."""
    code = (
        "import kernels\n"
        "from kernels import specialised\n"
        "from kernels.lanes import ONLINE\n"
        "from sweep.datasets import make_dataset\n"
        "net = ((2, 4, 4, 1), 0, 0, 0, True, ONLINE)\n"
        "print(specialised.is_ready(net))\n"
        "x, y = make_dataset('linear')\n"
        "inits = [kernels.init_params([2, 4, 4, 1], 'normal', s) for s in range(3)]\n"
        "out = kernels.train_many(x, y, inits, lr=0.1, epochs=3, batch_size=1, seed=[1, 2, 3])\n"
        "print(specialised.is_ready(net), out[2].loss.tobytes().hex())\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    seen = []
    for _ in range(2):
        child = subprocess.run(
            [sys.executable, "-c", code.replace("epochs=3,", "epochs=3, passes='generated',")]
            if not seen
            else [sys.executable, "-c", code],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert child.returncode == 0, child.stderr
        seen.append(child.stdout.split())
    (before, after, bits), (loaded_before, loaded_after, loaded_bits) = [
        (lines[0], lines[1], lines[2]) for lines in seen
    ]
    assert (before, after) == ("False", "True")  # compiled and marked by the first child
    assert (loaded_before, loaded_after) == ("True", "True")  # found by the second
    x, y = make_dataset("linear")
    inits = [kernels.init_params([2, 4, 4, 1], "normal", s) for s in range(3)]
    here = kernels.train_many(
        x, y, inits, lr=0.1, epochs=3, batch_size=1, seed=[1, 2, 3], passes="generic"
    )
    assert bits == loaded_bits == here[2].loss.tobytes().hex()
