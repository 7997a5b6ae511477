"""Small real sweeps for the analysis tests, run once per test session with the real runner.

``small_sweep``: xor and linear, lr 0.1/1/10, hidden size 2/8 (two layers), sigmoid and
relu, normal and zeros init, 3 seeds: 144 runs of at most 2000 epochs, curves every 10th
epoch. ``interrupted_sweep``: a narrow grid (xor, lr 0.1/1/10, 4 seeds: 12 runs) stopped
after 6 runs (parts only, no consolidated files), as a sweep killed half-way leaves it;
it varies only the learning rate, so the report must skip figures.

Imported by several test modules; the folders are cached here so each is trained once.
"""

from pathlib import Path

import pytest
from matplotlib.figure import Figure

from sweep.grid import load_grid
from sweep.runner import run_sweep

GRID = """\
[sweep]
name = "small"
description = "analysis test sweep"
seeds = 3
record_every = 10
chunk_size = 8

[fixed]
hidden_layers = 2
epochs = 2000
target_loss = 0.005

[grid]
dataset = ["xor", "linear"]
lr = [0.1, 1.0, 10.0]
hidden_size = [2, 8]
activation = ["sigmoid", "relu"]
init = ["normal", "zeros"]
"""
N_RUNS = 2 * 3 * 2 * 2 * 2 * 3

NARROW_GRID = """\
[sweep]
name = "narrow"
seeds = 4
record_every = 10
chunk_size = 2

[fixed]
dataset = "xor"
hidden = [4, 4]
epochs = 2000
target_loss = 0.005

[grid]
lr = [0.1, 1.0, 10.0]
"""
NARROW_RUNS = 3 * 4
STOP_AFTER = 6

_folders: dict[str, Path] = {}


def write_grid(folder: Path, text: str = GRID, name: str = "small") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    grid = folder / f"{name}.toml"
    grid.write_text(text, encoding="utf-8")
    return grid


def _run(root: Path, name: str, text: str, stop_after: int | None) -> Path:
    out = root / name
    spec = load_grid(write_grid(root, text, name))

    def progress(done: int, total: int) -> None:
        if stop_after is not None and done >= stop_after:
            raise KeyboardInterrupt  # what Ctrl-C does to a running sweep

    try:
        run_sweep(spec=spec, out_dir=out, n_jobs=1, quiet=True, progress=progress)
    except KeyboardInterrupt:
        pass
    return out


@pytest.fixture(scope="session")
def small_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished sweep's results folder (consolidated files)."""
    if "small" not in _folders:
        _folders["small"] = _run(tmp_path_factory.mktemp("analysis"), "small", GRID, None)
    return _folders["small"]


@pytest.fixture(scope="session")
def interrupted_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The narrow sweep stopped after STOP_AFTER runs: parts on disk, nothing consolidated."""
    if "interrupted" not in _folders:
        root = tmp_path_factory.mktemp("analysis_interrupted")
        _folders["interrupted"] = _run(root, "narrow", NARROW_GRID, STOP_AFTER)
    return _folders["interrupted"]


def panels(fig: Figure) -> int:
    """Visible axes of a figure that are panels (colour bars left out)."""
    return sum(1 for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>")


def assert_written(stem: Path) -> None:
    """``stem``.png and .svg exist, the PNG is a real, non-trivial PNG."""
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000
    assert svg.read_text(encoding="utf-8").lstrip().startswith("<?xml")
