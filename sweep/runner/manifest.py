"""What ``manifest.json`` records: the tool, the machine, the packages, and each start.

The manifest is rewritten at the start and at the end of every start of a sweep; its
``starts`` list keeps one record per start (what it trained, with which backend and
workers, how long its phases took, which kernels it compiled).
"""

import contextlib
import os
import platform
from datetime import datetime
from importlib import metadata
from typing import Any

from sweep.grid import SweepSpec


def start_record(
    *, backend: str, scheduler: str | None, n_jobs: int, n_workers: int, to_train: int
) -> dict[str, Any]:
    """The record of one start, as it begins (its end fills in the rest)."""
    return {
        "started": now(),
        "finished": None,
        "backend": backend,
        "scheduler": scheduler,
        "n_jobs": n_jobs,
        "n_workers": n_workers,
        "n_chunks": None,
        "to_train": to_train,
        "trained": 0,
        "seconds": None,
    }


def sweep_manifest(
    spec: SweepSpec, *, previous: dict[str, Any], this_start: dict[str, Any]
) -> dict[str, Any]:
    """The manifest of ``spec``'s sweep with ``this_start`` added to the ``previous``
    manifest's starts (empty for a new sweep)."""
    return {
        "tool": "sweep",
        "version": metadata.version("sweep") if installed("sweep") else "unknown",
        "name": spec.name,
        "grid_file": str(spec.path),
        "record_every": spec.record_every,
        "packages": versions(this_start["backend"]),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "started": previous.get("started", this_start["started"]),
        "finished": None,
        "runs": previous.get("runs", {}),
        "starts": [*previous.get("starts", []), this_start],
    }


def versions(backend: str) -> dict[str, str]:
    """The versions of the packages a sweep on ``backend`` runs with."""
    names = ["numpy", "numba", "pandas", "pyarrow", "joblib", "tqdm"]
    if backend == "dask":
        names += ["dask", "distributed"]
    out = {}
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


def now() -> str:
    """The local time, to the second, with its UTC offset."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def installed(name: str) -> bool:
    """Whether the distribution ``name`` is installed (has metadata)."""
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True
