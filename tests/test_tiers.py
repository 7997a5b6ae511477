"""Which kernel trains a group, which kernels a sweep compiles, and the compiler beside it.

The plan is tested with the disk cache's answers set by hand (``is_compiled`` patched),
so each case says exactly what is compiled already; the background compiler is tested
on a real worker process against an empty cache of its own.
"""

import os
import time

import pytest

from kernels.lanes import BATCH_MODES
from kernels.options import cache_folder
from sweep import tiers
from sweep.compiling import BackgroundCompiler, Compiled
from sweep.config import RunConfig


def compiled(monkeypatch: pytest.MonkeyPatch, *kinds: object) -> None:
    """Make the plan see exactly ``kinds`` as compiled (a kind is a name or a net)."""
    have = set(kinds)
    monkeypatch.setattr(tiers, "is_compiled", lambda kind: kind in have)


def lab_runs(n_seeds: int, epochs: int, **fields: object) -> list[RunConfig]:
    base = {"dataset": "xor", "hidden": (4, 4), "epochs": epochs, **fields}
    return [RunConfig(seed=s, **base) for s in range(n_seeds)]  # type: ignore[arg-type]


def test_a_small_net_is_lockstep_and_gets_a_generated_pass() -> None:
    kernels = tiers.kernels_of(RunConfig(dataset="xor", hidden=(4, 4)))
    assert kernels.family == "lockstep" and kernels.generated
    assert kernels.net[0] == (2, 4, 4, 1) and kernels.generic == "generic full batch"
    wide = tiers.kernels_of(RunConfig(dataset="linear", hidden=(32, 32)))
    assert wide.family == tiers.ONE_RUN
    # bce keeps the loop over runs scalar in a generated pass: the generic ones serve it
    assert not tiers.kernels_of(RunConfig(dataset="xor", hidden=(4, 4), loss="bce")).generated


def test_the_group_kernel_is_the_fastest_compiled_one(monkeypatch) -> None:
    kernels = tiers.kernels_of(RunConfig(dataset="xor", hidden=(4, 4)))
    compiled(monkeypatch)
    assert tiers.group_kernel(kernels, 64) == tiers.ONE_LANE
    compiled(monkeypatch, "loop", "generic full batch")
    assert tiers.group_kernel(kernels, 64) == tiers.GENERIC
    assert tiers.group_kernel(kernels, 1) == tiers.ONE_LANE  # a lone run: no lanes to fill
    compiled(monkeypatch, "loop", "generic full batch", kernels.net)
    assert tiers.group_kernel(kernels, 64) == tiers.GENERATED
    compiled(monkeypatch, kernels.net)  # the pass without the loop that calls it
    assert tiers.group_kernel(kernels, 64) == tiers.ONE_LANE
    wide = tiers.kernels_of(RunConfig(dataset="linear", hidden=(32, 32)))
    assert tiers.group_kernel(wide, 64) == tiers.ONE_RUN


def test_on_an_empty_cache_the_first_tier_is_compiled_before_training(monkeypatch) -> None:
    compiled(monkeypatch)
    small = lab_runs(2, 10)
    assert tiers.plan(small).before == [tiers.ONE_LANE]
    wide = [RunConfig(dataset="linear", hidden=(32, 32), epochs=10)]
    # the one-run kernel of the batch modes these runs use, and it first (the slower)
    assert tiers.plan(small + wide).before == ["one run full batch", tiers.ONE_LANE]
    online = [RunConfig(dataset="linear", hidden=(32, 32), epochs=10, batch_size=1)]
    before = tiers.plan(online + wide + small).before
    assert before == ["one run full batch", "one run online", tiers.ONE_LANE]
    compiled(monkeypatch, tiers.ONE_LANE, "one run full batch")
    assert tiers.plan(small + wide).before == []
    assert tiers.plan(online).before == ["one run online"]


def test_with_other_runs_to_train_a_one_run_kernel_compiles_beside_them(monkeypatch) -> None:
    """Sharing the workers' process, a sweep trains its other runs while the one-run
    kernel compiles beside it; with nothing else to train, or workers in processes of
    their own (which cannot be told it is ready), it is compiled before training."""
    compiled(monkeypatch)
    small = lab_runs(2, 10)
    wide = [RunConfig(dataset="linear", hidden=(32, 32), epochs=10)]
    mixed = tiers.plan(small + wide, first_beside=True)
    assert mixed.first_beside == ["one run full batch"] and mixed.before == [tiers.ONE_LANE]
    alone = tiers.plan(wide, first_beside=True)
    assert alone.first_beside == [] and alone.before == ["one run full batch"]
    assert tiers.plan(small + wide).first_beside == []


def test_a_run_waits_for_the_kernel_compiled_beside_and_only_while_it_is() -> None:
    import threading

    tiers.wait_for("one run online")  # nothing expected: at once
    tiers.expect("one run online")
    done = threading.Event()
    waiter = threading.Thread(target=lambda: (tiers.wait_for("one run online"), done.set()))
    waiter.start()
    assert not done.wait(0.2)  # still compiling
    tiers.arrived("one run online")
    assert done.wait(5)
    waiter.join()
    tiers.arrived("one run online")  # twice (the compile ended, then the sweep stopped): fine
    tiers.wait_for("one run online")
    # a compiler that stopped without a word does not keep anyone waiting
    working = [True]
    tiers.expect("one run mini-batch", alive=lambda: working[0])
    done.clear()
    waiter = threading.Thread(target=lambda: (tiers.wait_for("one run mini-batch"), done.set()))
    waiter.start()
    assert not done.wait(0.7)
    working[0] = False
    assert done.wait(5)
    waiter.join()
    tiers.arrived("one run mini-batch")


def test_auto_compiles_beside_only_what_pays_for_itself(monkeypatch) -> None:
    compiled(monkeypatch, tiers.ONE_LANE)
    net = tiers.kernels_of(lab_runs(1, 10)[0]).net
    # 2 runs of 10 epochs: microseconds of training, nothing pays for a compile
    short = tiers.plan(lab_runs(2, 10), n_workers=2)
    assert short.beside == [] and [job.kind for job in short.skipped] == [net]
    # 5,000 runs of 20,000 epochs: the generated pass, and the loop that calls it first
    long = tiers.plan(lab_runs(5000, 20_000), n_workers=2)
    assert [job.kind for job in long.beside] == ["loop", net] and long.skipped == []
    job = long.beside[1]
    assert job.saving > job.seconds > 0
    # once it is compiled, nothing is left to do
    compiled(monkeypatch, tiers.ONE_LANE, "loop", net)
    assert tiers.plan(lab_runs(5000, 20_000), n_workers=2).beside == []


def test_all_compiles_every_faster_kernel_and_none_compiles_none(monkeypatch) -> None:
    compiled(monkeypatch, tiers.ONE_LANE)
    cfgs = lab_runs(2, 10) + lab_runs(2, 10, loss="bce") + lab_runs(2, 10, batch_size=1)
    everything = tiers.plan(cfgs, policy="all")
    kinds = [job.kind for job in everything.beside]
    assert "generic full batch" in kinds  # bce gets no generated pass
    nets = [kind for kind in kinds if not isinstance(kind, str)]
    assert sorted(net[5] for net in nets) == [0, 2]  # the mse net's full-batch and online
    nothing = tiers.plan(cfgs, policy="none")
    assert nothing.beside == [] and nothing.before == []
    assert {job.kind for job in nothing.skipped} == set(kinds)
    with pytest.raises(ValueError, match="policy must be one of auto, all, none"):
        tiers.plan(cfgs, policy="some")


def test_runs_that_share_a_generic_pass_add_up_their_savings(monkeypatch) -> None:
    compiled(monkeypatch, tiers.ONE_LANE, "loop")
    one = tiers.plan(lab_runs(4, 100, loss="bce"), policy="all").beside
    two = tiers.plan(lab_runs(4, 100, loss="bce") + lab_runs(4, 100, loss="bce", lr=0.5))
    (job,) = [j for j in one if j.kind == "generic full batch"]
    (both,) = [j for j in two.beside + two.skipped if j.kind == "generic full batch"]
    assert both.saving == pytest.approx(2 * job.saving)


def test_describe_kind_names_a_net_in_words() -> None:
    net = tiers.kernels_of(RunConfig(dataset="xor", hidden=(4, 4), activation="tanh")).net
    assert tiers.describe_kind(net) == "2-4-4-1 tanh/sigmoid mse, full batch"
    online = tiers.kernels_of(RunConfig(dataset="xor", hidden=(3,), bias=False, batch_size=1))
    assert tiers.describe_kind(online.net) == "2-3-1 sigmoid/sigmoid mse no bias, online"
    assert tiers.describe_kind("loop") == "loop"
    assert set(BATCH_MODES) == {"full batch", "mini-batch", "online"}


def test_the_background_compiler_compiles_in_its_own_process_and_reports() -> None:
    """A job compiled in the worker process lands in the shared disk cache (its marker
    is there for this process to see); a bad job is reported and the next still runs."""
    done: list[Compiled] = []
    compiler = BackgroundCompiler([("kind", "no such kernel"), ("kind", "one lane")], done.append)
    deadline = time.monotonic() + 300
    while compiler.busy and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not compiler.busy
    bad, good = done
    assert bad.job == ("kind", "no such kernel") and "ValueError" in (bad.error or "")
    assert good.job == ("kind", "one lane") and good.error is None and good.seconds > 0
    assert (cache_folder() / "one-lane.ready").exists()


def test_stopping_the_background_compiler_abandons_what_is_left(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    done: list[Compiled] = []
    compiler = BackgroundCompiler([("kind", "loop"), ("kind", "generic online")], done.append)
    compiler.stop()
    assert not compiler.busy and done == [] and compiler.pending
    markers = [name for _, _, names in os.walk(tmp_path) for name in names]
    assert not any(name.endswith(".ready") for name in markers)
