"""The [sample] table: drawn configurations, reproducible, within bounds; every mistake."""

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sweep.grid import GridError, describe, load_grid, run_id

SAMPLED = """
[sweep]
name = "sampled"
seeds = 2

[fixed]
dataset = "xor"
epochs = 20

[sample]
method = "{method}"
n = {n}
seed = {seed}
lr = {{ low = 0.001, high = 10.0, log = true }}
hidden_size = {{ low = 2, high = 16 }}
activation = ["sigmoid", "tanh", "relu"]
"""


def write(tmp_path: Path, text: str, name: str = "study.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def sampled(tmp_path: Path, method: str = "sobol", n: int = 64, seed: int = 0) -> Path:
    return write(tmp_path, SAMPLED.format(method=method, n=n, seed=seed), f"{method}{seed}.toml")


def grid_error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(GridError) as info:
        load_grid(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message


@pytest.mark.parametrize("method", ["random", "lhs", "sobol"])
def test_draws_are_within_bounds_of_the_right_kind_and_reproducible(tmp_path, method):
    spec = load_grid(sampled(tmp_path, method))
    assert spec.n_configs == 64 and len(spec.runs) == 128 and len(spec.draws) == 64
    lrs = [d["lr"] for d in spec.draws]
    assert all(0.001 <= lr <= 10.0 for lr in lrs)
    # log-uniform: about as many draws in each of the four decades
    decades = [sum(10.0**k <= lr < 10.0 ** (k + 1) for lr in lrs) for k in range(-3, 1)]
    assert min(decades) >= 8, decades
    sizes = [d["hidden_size"] for d in spec.draws]
    assert all(isinstance(h, int) and 2 <= h <= 16 for h in sizes) and len(set(sizes)) >= 10
    assert {d["activation"] for d in spec.draws} == {"sigmoid", "tanh", "relu"}
    cfgs = list(spec.runs)
    assert {(c.lr, c.hidden, c.activation) for c in cfgs} == {
        (d["lr"], (d["hidden_size"],) * 2, d["activation"]) for d in spec.draws
    }
    assert {c.seed for c in cfgs} == {0, 1} and {c.epochs for c in cfgs} == {20}
    same = load_grid(sampled(tmp_path, method))
    assert [run_id(c) for c in same.runs] == [run_id(c) for c in spec.runs]
    other = load_grid(sampled(tmp_path, method, seed=1))
    assert {d["lr"] for d in other.draws}.isdisjoint(lrs)


def test_sobol_and_lhs_cover_the_range_more_evenly_than_random(tmp_path):
    """One coordinate's draws in 8 equal bins: a Latin hypercube puts 8 in each of 8
    bins of 64 draws, Sobol' nearly so; random draws are lumpier."""
    counts = {}
    for method in ("random", "lhs", "sobol"):
        lrs = [d["lr"] for d in load_grid(sampled(tmp_path, method)).draws]
        bins = [0] * 8
        for lr in lrs:
            bins[min(int((math.log10(lr) + 3) / 4 * 8), 7)] += 1
        counts[method] = max(bins) - min(bins)
    assert counts["lhs"] <= 1 and counts["sobol"] <= 2
    assert counts["random"] >= counts["sobol"]


def test_a_sample_beside_a_grid_crosses_every_draw_with_every_point(tmp_path):
    path = write(
        tmp_path,
        """
        [fixed]
        epochs = 10
        [grid]
        dataset = ["xor", "linear"]
        [sample]
        method = "random"
        n = 5
        lr = { low = 0.01, high = 1.0 }
        """,
    )
    spec = load_grid(path)
    assert spec.n_configs == 10
    pairs = {(c.dataset, c.lr) for c in spec.runs}
    assert pairs == {(ds, d["lr"]) for ds in ("xor", "linear") for d in spec.draws}
    text = describe(spec)
    assert "sampled: random, 5 draws (seed 0) of lr" in text and "draw 4: lr=" in text


def test_a_sampled_sweep_runs_and_resumes(tmp_path):
    path = sampled(tmp_path, "lhs", n=6)
    run = [sys.executable, "-m", "sweep", "run", str(path), "--jobs", "2", "--out", "out"]
    first = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    assert "12 ok, 0 diverged, 0 failed" in first.stdout
    again = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "nothing to do: all 12 runs" in again.stdout


BAD = [
    ('method = "grid"\nn = 4\nlr = { low = 0.1, high = 1.0 }', "unknown method 'grid'"),
    ("n = 0\nlr = { low = 0.1, high = 1.0 }", "n is 0"),
    ("lr = { low = 0.1, high = 1.0 }", "no n"),
    ("n = 4\nlr = { low = 1.0, high = 0.1 }", "low 1.0 >= high 0.1"),
    ("n = 4\nlr = { low = 0.0, high = 1.0, log = true }", "a log range from 0.0"),
    ("n = 4\nlr = { low = 0.1, hi = 1.0 }", "unknown range key 'hi'"),
    ("n = 4\nactivation = { low = 1, high = 2 }", "for a non-numeric field"),
    ("n = 4\nhidden_size = { low = 2, high = 9, integer = false }", "hidden_size takes integers"),
    ("n = 4\nlr = { low = 0.1, high = 1.5, integer = true }", "integer bounds"),
    ("n = 4\nhidden_size = { low = 0, high = 9 }", "hidden_size"),
    ("n = 4\nseed = -1\nlr = { low = 0.1, high = 1.0 }", "seed is -1"),
    ("n = 4\nepochs = [10, 10]", "listed twice"),
    ("n = 4\nseeds = 3", "seeds"),
    ("n = 4\nlrr = { low = 0.1, high = 1.0 }", "unknown field 'lrr'"),
    ("n = 4", "nothing to sample"),
    ("n = 4\nepochs = { low = 10, high = 20 }", "both sampled here and fixed"),
    ("n = 4\ndataset = ['xor']", "both sampled here and an axis"),
    ("n = 4\nhidden = [[4], [8]]\nhidden_size = { low = 2, high = 4 }", "sampled together"),
]


@pytest.mark.parametrize(("lines", "expected"), BAD, ids=[e for _, e in BAD])
def test_every_mistake_in_a_sample_is_one_line_naming_it(tmp_path, lines, expected):
    text = "[fixed]\nepochs = 5\n[grid]\ndataset = ['xor', 'linear']\n[sample]\n" + lines + "\n"
    if "sampled here and fixed" not in expected:
        text = text.replace("epochs = 5\n", "")
    message = grid_error(tmp_path, text)
    assert expected in message and "[sample]" in message


def test_a_bad_sample_is_exit_2_and_touches_nothing(tmp_path):
    path = write(tmp_path, '[sample]\nmethod = "sobl"\nn = 4\nlr = { low = 0.1, high = 1.0 }\n')
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "keep.txt").write_text("mine")
    done = subprocess.run(
        [sys.executable, "-m", "sweep", "run", str(path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "did you mean 'sobol'" in done.stderr
    assert [p.name for p in (tmp_path / "results").iterdir()] == ["keep.txt"]


def test_without_scipy_a_quasi_random_method_is_one_line_naming_the_extra(tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_scipy(name, *args, **kwargs):
        if name.startswith("scipy"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_scipy)
    path = sampled(tmp_path, "lhs", n=4)
    with pytest.raises(GridError, match=r"needs SciPy .*pip install -e '\.\[sample\]'"):
        load_grid(path)
    assert len(load_grid(sampled(tmp_path, "random", n=4)).draws) == 4
