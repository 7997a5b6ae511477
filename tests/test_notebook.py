"""notebooks/explore.ipynb runs top to bottom on a real sweep, with nbclient."""

from pathlib import Path

import nbformat
import pytest
from analysis_fixtures import small_sweep
from nbclient import NotebookClient

__all__ = ["small_sweep"]

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "explore.ipynb"


def test_notebook_runs_on_a_sweep(small_sweep: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWEEP_RESULTS", str(small_sweep))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    # two library figures, the custom seaborn plot and the symmetry over training
    assert len(images) == 4
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "144 runs; axes that vary: ['dataset', 'hidden', 'activation', 'lr', 'init']" in text
    assert "Name: symmetry" in text and "not drawn" not in text  # the symmetry medians
    tables = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any("convergence_rate" in html for html in tables)  # the summary table
