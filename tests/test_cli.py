"""``python -m sweep`` as a user runs it: exit codes, one-line errors, kill -9, Ctrl-C, resume."""

import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sweep import store
from sweep.cli import main
from sweep.grid import load_grid, run_id

GOOD = """\
[sweep]
name = "lab"
seeds = 2
record_every = 10

[fixed]
dataset = "xor"
epochs = 100

[grid]
lr = [0.5, 1.0]
hidden_size = [2, 4]
"""


def sweep(
    cwd: Path, *args: str, preexec=None, timeout: float = 120, env=None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sweep", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec,
        env=env,
        check=False,
    )


def listing(root: Path) -> dict[str, int]:
    """Every path under ``root`` with its modification time (ns)."""
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in sorted(root.rglob("*"))}


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sweep: error: "), proc.stderr
    return lines[0]


def test_run_then_rerun_does_nothing_and_says_so(tmp_path):
    (tmp_path / "lab.toml").write_text(GOOD)
    first = sweep(tmp_path, "run", "lab.toml")
    assert first.returncode == 0, first.stderr
    assert "trained 8 runs" in first.stdout and "8 ok" in first.stdout
    assert "run/s" not in first.stderr and "%|" not in first.stderr  # no bar off a terminal
    out = tmp_path / "results" / "lab"
    assert sorted(p.name for p in out.iterdir()) == [
        ".lock",
        "curves.parquet",
        "grid.toml",
        "manifest.json",
        "runs.parquet",
        "weights.parquet",
    ]
    again = sweep(tmp_path, "run", "lab.toml", "--quiet")
    assert again.returncode == 0
    assert again.stdout.startswith("nothing to do: all 8 runs of 'lab' are already in")
    assert store.read_manifest(out)["starts"][-1]["trained"] == 0


def test_validate_and_dry_run_print_the_grid_and_touch_nothing(tmp_path):
    (tmp_path / "lab.toml").write_text(GOOD)
    before = listing(tmp_path)
    shown = sweep(tmp_path, "validate", "lab.toml")
    assert shown.returncode == 0 and "runs: 8 (4 configs x 2 seeds" in shown.stdout
    dry = sweep(tmp_path, "run", "lab.toml", "--dry-run", "--out", "elsewhere")
    assert dry.returncode == 0 and "runs: 8" in dry.stdout
    assert "results: elsewhere (0 of 8 runs already there)" in dry.stdout
    assert listing(tmp_path) == before


BAD_GRIDS = {
    "syntax": (GOOD.replace("seeds = 2", "seeds = = 2"), "line 3, column"),
    "left open": (GOOD.replace("[0.5, 1.0]", "[0.5,\n 1.0,"), "line 11, column 6 (lr = [0.5,)"),
    "unknown key": (GOOD.replace("epochs = 100", "epoch = 100"), "did you mean 'epochs'"),
    "bad value": (GOOD.replace("lr = [0.5, 1.0]", "lr = [0.5, -1.0]"), "lr"),
    "bad backend": (GOOD.replace("seeds = 2", "seeds = 2\nbackend = 'mpi'"), "backend"),
}


def test_a_bad_grid_is_one_line_exit_2_and_the_results_untouched(tmp_path, monkeypatch, capsys):
    (tmp_path / "lab.toml").write_text(GOOD)
    assert sweep(tmp_path, "run", "lab.toml", "--quiet").returncode == 0
    monkeypatch.chdir(tmp_path)
    for case, (text, needle) in BAD_GRIDS.items():
        (tmp_path / "lab.toml").write_text(text)
        before = listing(tmp_path)
        line = one_line_error(sweep(tmp_path, "run", "lab.toml"))
        assert "lab.toml" in line and needle in line, case
        # The same through main() in this process, with --fresh: still nothing moved.
        assert main(["run", "lab.toml", "--fresh"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [line], case
        assert listing(tmp_path) == before, case


def test_a_bad_grid_creates_no_results_folder(tmp_path):
    (tmp_path / "lab.toml").write_text(GOOD.replace("[grid]", "[grdi]"))
    line = one_line_error(sweep(tmp_path, "run", "lab.toml"))
    assert "did you mean 'grid'" in line
    assert one_line_error(sweep(tmp_path, "run", "missing.toml")).startswith(
        "sweep: error: missing.toml: no such file"
    )
    assert sorted(os.listdir(tmp_path)) == ["lab.toml"]


BAD_FLAGS = [
    (["--jobs", "0"], "--jobs must be a non-zero integer"),
    (["--jobs", "two"], "--jobs must be a non-zero integer"),
    (["--backend", "mpi"], "invalid choice: 'mpi'"),
    (["--scheduler", "tcp://h:1"], "--scheduler needs --backend dask"),
    (["--out", "lab.toml"], "exists and is not a folder"),
    (["--frsh"], "unrecognized arguments: --frsh"),
]


def test_bad_flags_are_one_line_exit_2(tmp_path, monkeypatch, capsys):
    (tmp_path / "lab.toml").write_text(GOOD)
    for args, needle in BAD_FLAGS[:2]:
        assert needle in one_line_error(sweep(tmp_path, "run", "lab.toml", *args))
    monkeypatch.chdir(tmp_path)
    for args, needle in BAD_FLAGS:
        try:
            code = main(["run", "lab.toml", *args])
        except SystemExit as e:  # argparse's own errors exit from parse_args
            code = e.code
        assert code == 2, args
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert line.startswith("sweep: error: ") and needle in line, args
    assert sorted(os.listdir(tmp_path)) == ["lab.toml"]


def test_a_results_path_that_cannot_be_made_is_one_line_exit_2(tmp_path):
    (tmp_path / "lab.toml").write_text(GOOD)
    (tmp_path / "results").write_text("a file where the results folder should go")
    line = one_line_error(sweep(tmp_path, "run", "lab.toml", "--quiet"))
    assert "results/lab" in line and "is a file" in line
    assert (tmp_path / "results").read_text().startswith("a file")
    (tmp_path / "taken").write_text("x")
    line = one_line_error(sweep(tmp_path, "run", "lab.toml", "--out", "taken/sub", "--quiet"))
    assert "taken/sub" in line
    line = one_line_error(sweep(tmp_path, "run", "lab.toml", "--out", "/proc/sweep", "--quiet"))
    assert "/proc/sweep" in line


def test_a_folder_of_another_grid_is_refused_until_fresh_moves_it_aside(tmp_path):
    (tmp_path / "lab.toml").write_text(GOOD)
    assert sweep(tmp_path, "run", "lab.toml", "--quiet").returncode == 0
    out = tmp_path / "results" / "lab"
    old_runs = pd.read_parquet(out / "runs.parquet")
    (tmp_path / "lab.toml").write_text(GOOD.replace("lr = [0.5, 1.0]", "lr = [0.25]"))
    before = listing(tmp_path)
    line = one_line_error(sweep(tmp_path, "run", "lab.toml"))
    assert "holds results of a different grid (8 of its runs" in line and "--fresh" in line
    assert listing(tmp_path) == before
    fresh = sweep(tmp_path, "run", "lab.toml", "--fresh")
    assert fresh.returncode == 0 and "moved the old results aside to" in fresh.stdout
    moved = [p for p in (tmp_path / "results").iterdir() if p.name.startswith("lab.old-")]
    assert len(moved) == 1
    pd.testing.assert_frame_equal(pd.read_parquet(moved[0] / "runs.parquet"), old_runs)
    assert len(pd.read_parquet(out / "runs.parquet")) == 4


def test_run_never_imports_pandas(tmp_path):
    # Neither training, writing, consolidating nor reading what is done loads pandas
    # (0.14 s of start-up): a fresh start, then a second start with nothing to do.
    (tmp_path / "lab.toml").write_text(GOOD)
    code = (
        "import sys; from sweep.__main__ import run; sys.argv = ['sweep', 'run', 'lab.toml', "
        "'--jobs', '2', '--quiet']; code = run(); print(code, 'pandas' in sys.modules)"
    )
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert proc.stdout.splitlines()[-1].split() == ["0", "False"], proc.stderr
    assert len(pd.read_parquet(tmp_path / "results" / "lab" / "runs.parquet")) == 8


def test_dask_missing_is_a_clear_error(tmp_path):
    (tmp_path / "lab.toml").write_text(GOOD)
    code = (
        "import sys; sys.modules['dask'] = sys.modules['dask.distributed'] = None; "
        "from sweep.cli import main; sys.exit(main(['run', 'lab.toml', '--backend', 'dask']))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    line = one_line_error(proc)
    assert "needs dask.distributed, which is not installed" in line
    assert sorted(os.listdir(tmp_path)) == ["lab.toml"]


def test_an_unreachable_scheduler_is_one_line_exit_2(tmp_path):
    pytest.importorskip("dask.distributed")
    (tmp_path / "lab.toml").write_text(GOOD)
    env = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"}
    proc = sweep(
        tmp_path,
        "run",
        "lab.toml",
        "--backend",
        "dask",
        "--scheduler",
        "tcp://127.0.0.1:9",
        env=env,
    )
    assert "cannot reach the dask scheduler at tcp://127.0.0.1:9" in one_line_error(proc)
    assert sorted(os.listdir(tmp_path)) == ["lab.toml"]


FAIL = """\
[sweep]
name = "oom"
seeds = 2

[fixed]
dataset = "linear"
epochs = 50

[[grid]]
hidden = [[4]]

[[grid]]
hidden = [[1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024]]
n = [100000]
"""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is Linux's")
def test_failed_runs_are_recorded_and_exit_1(tmp_path):
    """A run needing 3 x 6.5 GB of buffers under a 3 GB address-space limit raises
    MemoryError in the kernel: stored as failed, the others finish, exit status 1;
    a later start skips it (and still exits 1)."""
    (tmp_path / "oom.toml").write_text(FAIL)
    proc = sweep(tmp_path, "run", "oom.toml", "--jobs", "2", preexec=_limit_memory)
    assert proc.returncode == 1, proc.stderr
    assert "2 ok, 0 diverged, 2 failed" in proc.stdout
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("sweep: 2 runs failed (first: ") and "MemoryError" in line
    runs = pd.read_parquet(tmp_path / "results" / "oom" / "runs.parquet")
    assert sorted(runs.status) == ["failed", "failed", "ok", "ok"]
    assert runs[runs.status == "failed"].hidden_layers.tolist() == [8, 8]
    again = sweep(tmp_path, "run", "oom.toml", preexec=_limit_memory)
    assert again.returncode == 1 and again.stdout.startswith("nothing to do")


KILL = """\
[sweep]
name = "kill"
seeds = 500
record_every = 50

[fixed]
dataset = "xor"
hidden = [4, 4]
epochs = 2000

[grid]
lr = [0.3, 1.0, 3.0]
"""


def start_until_a_part(cwd: Path, grid: str, out: Path) -> subprocess.Popen[str]:
    """``sweep run grid --jobs 2`` started, returned once a runs part is on disk in ``out``."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sweep", "run", grid, "--jobs", "2", "--quiet"],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not list((out / "parts").glob("runs-*.parquet")):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            pytest.fail("the sweep ended, or wrote no part within 120 s")
        time.sleep(0.05)
    return proc


def test_kill_9_mid_sweep_then_resume_keeps_every_run_exactly_once(tmp_path):
    (tmp_path / "kill.toml").write_text(KILL)
    out = tmp_path / "results" / "kill"
    proc = start_until_a_part(tmp_path, "kill.toml", out)
    try:
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert not (out / "runs.parquet").exists()
    saved = set(store.read_runs(out).run_id)
    spec = load_grid(tmp_path / "kill.toml")
    ids = [run_id(c) for c in spec.runs]
    assert 0 < len(saved) < len(ids) and saved <= set(ids)

    resumed = sweep(tmp_path, "run", "kill.toml", "--jobs", "2")
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(saved):,} already in" in resumed.stdout
    assert f"trained {len(ids) - len(saved):,} runs" in resumed.stdout
    assert not (out / "parts").exists()
    runs = pd.read_parquet(out / "runs.parquet")
    assert runs.run_id.tolist() == ids  # every run exactly once, in the grid's order
    curves = pd.read_parquet(out / "curves.parquet")
    assert not curves.duplicated(["run_id", "epoch"]).any()
    per_run = curves.groupby("run_id").size()
    expected = runs.set_index("run_id").epochs_run.map(lambda e: len(store.recorded_epochs(e, 50)))
    assert per_run.loc[ids].tolist() == expected.loc[ids].tolist()
    weights = pd.read_parquet(out / "weights.parquet")
    assert (weights.groupby("run_id").size().loc[ids] == 6).all()  # 3 layers x init/final
    assert sweep(tmp_path, "run", "kill.toml").stdout.startswith("nothing to do")


INTERRUPT = KILL.replace('"kill"', '"ctrl-c"').replace("xor", "linear").replace("500", "1000")


def test_ctrl_c_mid_sweep_saves_what_finished_says_so_in_one_line_and_resumes(tmp_path):
    """SIGINT (Ctrl-C) once a part is on disk: exit 130 with one line on stderr, the
    chunks finished by then saved as parts, nothing consolidated; the same command
    trains the rest, every run once."""
    (tmp_path / "ctrl-c.toml").write_text(INTERRUPT)
    out = tmp_path / "results" / "ctrl-c"
    proc = start_until_a_part(tmp_path, "ctrl-c.toml", out)
    try:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines() == [
        "sweep: interrupted; finished runs are saved, run the same command to resume"
    ]
    assert not (out / "runs.parquet").exists()
    saved = store.read_runs(out)
    ids = [run_id(c) for c in load_grid(tmp_path / "ctrl-c.toml").runs]
    assert 0 < len(saved) < len(ids) and set(saved.run_id) <= set(ids)
    assert (saved.status == "ok").all() and not saved.run_id.duplicated().any()

    resumed = sweep(tmp_path, "run", "ctrl-c.toml", "--jobs", "2")
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(saved):,} already in" in resumed.stdout
    assert pd.read_parquet(out / "runs.parquet").run_id.tolist() == ids


def test_a_first_sweep_says_it_compiled_its_kernels_and_the_next_does_not(tmp_path):
    (tmp_path / "lab.toml").write_text(GOOD)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    cold = sweep(tmp_path, "run", "lab.toml", "--compile", "all", env=env, timeout=600)
    assert cold.returncode == 0, cold.stderr
    # 2-2-2-1 and 2-4-4-1 nets: one generated lockstep kernel each
    assert re.search(r"^compiled 2 kernels for these nets in \d+ s \(once", cold.stdout, re.M)
    warm = sweep(tmp_path, "run", "lab.toml", "--out", "again", env=env)
    assert warm.returncode == 0, warm.stderr
    assert "compiled" not in warm.stdout and "trained 8 runs" in warm.stdout


def test_import_sweep_loads_no_numpy_so_the_command_can_set_up_its_process_first():
    code = (
        "import sys, sweep; assert 'numpy' not in sys.modules and 'numba' not in sys.modules; "
        "from sweep import RunConfig, train_one; assert RunConfig.__module__ == 'sweep.config'; "
        "import sweep.__main__ as m, os, gc; m.BLAS_THREADS; print(gc.isenabled())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        import sweep

        sweep.nope  # noqa: B018
