"""The results folder itself: whether it can take a sweep, moving it aside, its lock."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from sweep.errors import UserError
from sweep.store.files import write_text
from sweep.store.keys import RunOrder
from sweep.store.reading import run_keys
from sweep.store.schema import GRID_FILE, LOCK_FILE


@dataclass(frozen=True)
class FolderPlan:
    """What :func:`open_folder` will do with a results folder (decided without touching it).

    ``move_aside``: the old folder's new name under ``--fresh``; ``new_grid``: the
    folder holds another grid file whose runs are all in the new grid (an extension,
    such as more seeds or another axis value), which replaces it.
    """

    path: Path
    move_aside: Path | None
    new_grid: bool


def _check_creatable(path: Path) -> None:
    """UserError unless ``path`` can be created: its nearest existing ancestor must be a
    writable folder (checked before any work, so a bad --out costs nothing)."""
    ancestor = path.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UserError(f"{path}: cannot be created, {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise UserError(f"{path}: cannot be created, {ancestor} is not writable")


def plan_folder(
    out_dir: str | Path, *, grid_text: str, run_ids: RunOrder | Iterable[str], fresh: bool
) -> FolderPlan:
    """Check that ``out_dir`` can take this sweep, touching nothing; UserError if not.

    The folder may be absent or empty, or hold a sweep: of the same grid file (resume),
    or of a grid whose recorded runs all belong to this one (an extension: its runs
    are kept, its grid.toml replaced). Any other content is refused unless ``fresh``,
    which moves the whole folder aside to ``<dir>.old-<timestamp>`` (nothing is deleted).
    ``run_ids`` are the new grid's (read only when its grid file differs).
    """
    path = Path(out_dir)
    if path.exists() and not path.is_dir():
        raise UserError(f"{path}: exists and is not a folder; give --out a folder path")
    if not path.exists():
        _check_creatable(path)
        return FolderPlan(path, None, False)
    if not os.access(path, os.W_OK | os.X_OK):
        raise UserError(f"{path}: the folder is not writable; give --out a folder you can write")
    if not any(path.iterdir()):
        return FolderPlan(path, None, False)
    if fresh:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = path.with_name(f"{path.name}.old-{stamp}")
        counter = 1
        while aside.exists():
            aside = path.with_name(f"{path.name}.old-{stamp}-{counter}")
            counter += 1
        return FolderPlan(path, aside, False)
    grid = path / GRID_FILE
    if not grid.is_file():
        raise UserError(
            f"{path}: the folder is not empty and holds no sweep (no {GRID_FILE}); "
            "give --out an empty or new folder"
        )
    try:
        old_text = grid.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(
            f"{grid}: cannot be read ({e}); use --fresh to move the folder aside"
        ) from None
    if old_text == grid_text:
        return FolderPlan(path, None, False)
    recorded, _ = run_keys(path)
    foreign = np.count_nonzero(~RunOrder.of(run_ids).contains(recorded))
    if foreign:
        raise UserError(
            f"{path}: holds results of a different grid ({foreign:,} of its runs are not "
            "in this one); use --fresh to move them aside, or --out another folder"
        )
    return FolderPlan(path, None, True)


@contextlib.contextmanager
def _try_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path/.lock`` (POSIX), or raise UserError if taken."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; run one sweep per folder.
        yield
        return
    with open(path / LOCK_FILE, "a+") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise UserError(
                f"{path}: another sweep is running into this folder; wait for it or use --out"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def open_folder(plan: FolderPlan, grid_text: str) -> Iterator[None]:
    """Carry out ``plan``: move an old folder aside, create the folder, copy the grid
    file in, and hold the folder's lock while the sweep runs."""
    if plan.move_aside is not None:
        with _try_lock(plan.path):
            os.replace(plan.path, plan.move_aside)
    try:
        plan.path.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # what plan_folder cannot foresee (read-only mounts, /proc, ...)
        raise UserError(f"{plan.path}: cannot create the results folder ({e.strerror})") from None
    with _try_lock(plan.path):
        grid = plan.path / GRID_FILE
        if not grid.exists() or plan.new_grid:
            write_text(grid, grid_text)
        yield
