"""``python -m sweep report | show | status`` end to end, as a user runs them."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from analysis_fixtures import N_RUNS, NARROW_RUNS, STOP_AFTER, interrupted_sweep, small_sweep

import analysis
from sweep.store import read_runs

__all__ = ["interrupted_sweep", "small_sweep"]


def sweep_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sweep", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_report_end_to_end(small_sweep: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = sweep_cli("report", small_sweep, "--out", out)
    assert result.returncode == 0, result.stderr
    assert "report.md" in result.stdout
    page = (out / "report.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page)
    # Every figure the sweep allows: 2 heatmaps, curves by 4 axes, prediction and
    # boundaries per data set, symmetry (init and final; over training), convergence bars.
    assert len(images) == 2 + 4 + 2 + 2 + 2 + 1
    for image in images:
        assert not Path(image).is_absolute()
        assert (out / image).stat().st_size > 10_000
        assert (out / image).with_suffix(".svg").is_file()
    assert "## Figures not drawn" not in page
    assert f"all {N_RUNS} runs done" in page
    # The summary table is best first: its first row is the best config of summarize().
    best = analysis.summarize(analysis.load(small_sweep)).iloc[0]
    table = [line for line in page.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + 25  # header + TOP_ROWS
    first = [c.strip() for c in table[1].strip("|").split("|")]
    assert first[:5] == [
        str(best["dataset"]),
        f"[{best['hidden'][0]}, {best['hidden'][1]}]",
        str(best["activation"]),
        f"{best['lr']:g}",
        str(best["init"]),
    ]
    assert (out / "summary.csv").read_text().count("\n") == 1 + N_RUNS // 3


def test_report_on_an_interrupted_sweep_notes_what_it_cannot_show(
    interrupted_sweep: Path, tmp_path: Path
) -> None:
    out = tmp_path / "r"
    result = sweep_cli("report", interrupted_sweep, "--out", out)
    assert result.returncode == 0, result.stderr
    page = (out / "report.md").read_text(encoding="utf-8")
    assert f"{STOP_AFTER} of {NARROW_RUNS} runs on disk" in page
    assert "interrupted" in page
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page)
    assert images == [
        "curves_lr.png",
        "prediction_xor.png",
        "boundaries_xor.png",
        "convergence.png",
    ]
    for image in images:
        assert (out / image).stat().st_size > 10_000
    # Only the learning rate varies: no heatmap, no symmetry figure, each with its reason.
    notes = page[page.index("## Figures not drawn") :].split("## Notes")[0]
    assert "convergence-epoch heatmap over learning rate x hidden units per layer" in notes
    assert "does not vary hidden units per layer" in notes
    assert "zero-init symmetry" in notes
    assert "symmetry over training: the sweep does not compare init schemes" in notes
    assert result.stdout.count("not drawn:") == 4


@pytest.mark.parametrize("command", ["report", "status", "show"])
def test_missing_or_empty_folder_is_one_line_exit_2(command: str, tmp_path: Path) -> None:
    extra = ["abc"] if command == "show" else []
    missing = tmp_path / "nope"
    result = sweep_cli(command, missing, *extra)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("sweep: error: ")
    assert "no such results folder" in result.stderr
    assert not missing.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    result = sweep_cli(command, empty, *extra)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert list(empty.iterdir()) == []


def test_report_into_a_folder_that_cannot_be_made_is_one_line_exit_2(
    small_sweep: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = sweep_cli("report", small_sweep, "--out", blocker / "report")
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "cannot create the report folder" in result.stderr
    assert blocker.read_text() == "not a folder"


def test_show_prints_config_metrics_and_weights(small_sweep: Path) -> None:
    runs = analysis.load(small_sweep)
    row = runs[(runs["init"] == "zeros") & (runs["hidden_size"] == 8)].iloc[0]
    rid = str(row["run_id"])
    result = sweep_cli("show", small_sweep, rid[:10], "--init")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith(f"run {rid}")
    assert re.search(rf"lr\s+{row['lr']:g}\n", text)
    assert re.search(r"init\s+zeros\n", text)
    assert f"final_accuracy     {row['final_accuracy']:.6g}" in text
    # Layer by layer, unit by unit: 8 + 8 + 1 units, at init and after training.
    assert text.count("    unit ") == 2 * (8 + 8 + 1)
    assert "1 distinct unit of 8 (every unit identical: the symmetry never broke)" in text
    final = text[text.index("final weights") :]
    units = re.findall(r"unit \d+: (w = \[.*\]  b = .*)", final.split("layer 2")[0])
    assert len(units) == 8 and len(set(units)) == 1


def test_show_rejects_unknown_and_ambiguous_ids(small_sweep: Path) -> None:
    unknown = sweep_cli("show", small_sweep, "not-a-run")
    assert unknown.returncode == 2
    assert "no run id starts with 'not-a-run'" in unknown.stderr
    ids = read_runs(small_sweep)["run_id"]
    prefix = ids.str[0].value_counts().index[0]  # shared by several of the 144 ids
    ambiguous = sweep_cli("show", small_sweep, prefix)
    assert ambiguous.returncode == 2
    assert "give more digits" in ambiguous.stderr and ambiguous.stderr.count("\n") == 1


def test_status_counts_done_of_total(small_sweep: Path, interrupted_sweep: Path) -> None:
    done = sweep_cli("status", small_sweep)
    assert done.returncode == 0, done.stderr
    ok = int((analysis.load(small_sweep)["status"] == "ok").sum())
    assert f"small: {N_RUNS} of {N_RUNS} runs done (100%)" in done.stdout
    assert f"{ok} ok, {N_RUNS - ok} diverged, 0 failed" in done.stdout
    assert "finished" in done.stdout
    part = sweep_cli("status", interrupted_sweep)
    assert part.returncode == 0, part.stderr
    assert f"narrow: {STOP_AFTER} of {NARROW_RUNS} runs done (50%)" in part.stdout
    assert f"{NARROW_RUNS - STOP_AFTER} to go" in part.stdout
    assert "not finished" in part.stdout
