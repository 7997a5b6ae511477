"""The ``[sweep]`` table: how to run (name, seeds, jobs, backend, recording, chunks)."""

import re
from dataclasses import dataclass
from typing import Any

from sweep.config import suggest
from sweep.grid.keys import BACKENDS, MAX_RUNS, MAX_SEED, SWEEP_KEYS, unknown_key
from sweep.grid.source import GridError, GridFile
from sweep.grid.values import show

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,99}")


@dataclass(frozen=True)
class SweepSettings:
    """The ``[sweep]`` table of a grid file, validated (defaults filled in)."""

    name: str
    seeds: tuple[int, ...]
    n_jobs: int
    backend: str | None
    scheduler: str | None
    record_every: int
    chunk_size: int | None
    description: str


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_sweep(file: GridFile, table: dict[str, Any]) -> SweepSettings:
    """The ``[sweep]`` table checked, with defaults filled in."""
    for key in table:
        if key not in SWEEP_KEYS:
            raise unknown_key(file, "sweep", 0, key)

    def bad(key: str, value: Any, extra: str = "") -> GridError:
        return file.error(
            file.where("sweep", 0, key), f"got {show(value)}{extra}", "allowed: " + SWEEP_KEYS[key]
        )

    stem = file.path.name.removesuffix(".toml")
    name = table.get("name", stem)
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        if "name" not in table:
            raise file.error(
                "[sweep] name",
                f"not given, and the file name {stem!r} is not a valid sweep name",
                "allowed: " + SWEEP_KEYS["name"],
            )
        extra = (
            " (a path separator)" if isinstance(name, str) and ("/" in name or "\\" in name) else ""
        )
        extra = extra or (" (empty)" if name == "" else "")
        raise bad("name", name, extra)

    seeds_value = table.get("seeds", 1)
    if _is_int(seeds_value):
        if not 1 <= seeds_value <= MAX_RUNS:
            raise bad("seeds", seeds_value)
        seeds = tuple(range(seeds_value))
    elif isinstance(seeds_value, list) and seeds_value:
        if not all(_is_int(s) and 0 <= s <= MAX_SEED for s in seeds_value):
            raise bad("seeds", seeds_value)
        if len(set(seeds_value)) != len(seeds_value):
            twice = next(s for s in seeds_value if seeds_value.count(s) > 1)
            raise bad("seeds", seeds_value, f" (seed {twice} twice)")
        seeds = tuple(seeds_value)
    else:
        raise bad("seeds", seeds_value)

    n_jobs = table.get("n_jobs", -1)
    if not _is_int(n_jobs) or n_jobs == 0:
        raise bad("n_jobs", n_jobs)

    backend = table.get("backend")
    if backend is not None and backend not in BACKENDS:
        raise bad("backend", backend, suggest(str(backend), BACKENDS))

    scheduler = table.get("scheduler")
    if scheduler is not None:
        if backend != "dask":
            raise file.error(
                file.where("sweep", 0, "scheduler"),
                "scheduler given "
                + ("without a backend" if backend is None else f"with backend {backend!r}"),
                "allowed: scheduler only together with backend = 'dask'",
            )
        if not isinstance(scheduler, str) or not scheduler or re.search(r"\s", scheduler):
            raise bad("scheduler", scheduler)

    record_every = table.get("record_every", 1)
    if not _is_int(record_every) or record_every < 1:
        raise bad("record_every", record_every)

    chunk_size = table.get("chunk_size")
    if chunk_size is not None and (not _is_int(chunk_size) or chunk_size < 1):
        raise bad("chunk_size", chunk_size)

    description = table.get("description", "")
    if not isinstance(description, str):
        raise bad("description", description)

    return SweepSettings(
        name, seeds, n_jobs, backend, scheduler, record_every, chunk_size, description
    )
