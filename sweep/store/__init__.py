"""A sweep's results folder: typed Parquet written in parts, consolidated, read back.

The layout (a contract with ``analysis/``; see the README's "Results" section)::

    <sweep>/grid.toml            the grid file as given
    <sweep>/manifest.json        tool and package versions, machine, times, run counts
    <sweep>/runs.parquet         one row per run          } consolidated at the end
    <sweep>/curves.parquet       run_id, epoch, loss, acc } of a sweep
    <sweep>/weights.parquet      init and final weights   }
    <sweep>/parts/{runs,curves,weights}-<uuid>.parquet     while a sweep runs

One joblib task's runs land in one part of each kind sharing a uuid. Every file is
whole or absent, and a chunk becomes visible when its ``runs`` part is renamed into
place, last; readers union the consolidated files and the visible parts, each
``run_id`` once, so a sweep killed at any moment reads back whole. Writing and
consolidating never import pandas; only the ``read_*`` functions that return frames do.

The rooms, in the order data passes through them:

- :mod:`~sweep.store.schema`: file names, kinds, statuses and the Arrow schemas.
- :mod:`~sweep.store.arrays`: Arrow arrays from numpy buffers and back (no pandas).
- :mod:`~sweep.store.tables`: a chunk's runs, curves and weights as Arrow tables.
- :mod:`~sweep.store.files`: atomic writes (fsync, rename), parts, the manifest.
- :mod:`~sweep.store.keys`: run ids as 8-byte keys, and :class:`RunOrder`.
- :mod:`~sweep.store.reading`: the sources of each kind, scanned a batch at a time,
  each run once; ``read_runs``, ``read_curves``, ``read_weights``.
- :mod:`~sweep.store.consolidation`: parts merged into one file of each kind.
- :mod:`~sweep.store.folder`: whether a folder can take a sweep, moving it aside, its lock.

Everything a caller outside the package uses is importable from ``sweep.store``.
"""

from sweep.store.consolidation import consolidate
from sweep.store.files import (
    read_manifest,
    write_manifest,
    write_options,
    write_part,
    write_table,
    write_text,
)
from sweep.store.folder import FolderPlan, open_folder, plan_folder
from sweep.store.keys import RunOrder, id_keys
from sweep.store.reading import (
    done_run_ids,
    read_curves,
    read_runs,
    read_weights,
    run_keys,
    run_statuses,
)
from sweep.store.schema import (
    CURVES_SCHEMA,
    GRID_FILE,
    KINDS,
    LOCK_FILE,
    MANIFEST_FILE,
    PARTS,
    RUNS_SCHEMA,
    SCHEMAS,
    STAGES,
    STATUSES,
    WEIGHTS_SCHEMA,
)
from sweep.store.tables import (
    Params,
    curves_table,
    recorded_epochs,
    run_row,
    runs_table,
    weights_table,
)

__all__ = [
    "CURVES_SCHEMA",
    "GRID_FILE",
    "KINDS",
    "LOCK_FILE",
    "MANIFEST_FILE",
    "PARTS",
    "RUNS_SCHEMA",
    "SCHEMAS",
    "STAGES",
    "STATUSES",
    "WEIGHTS_SCHEMA",
    "FolderPlan",
    "Params",
    "RunOrder",
    "consolidate",
    "curves_table",
    "done_run_ids",
    "id_keys",
    "open_folder",
    "plan_folder",
    "read_curves",
    "read_manifest",
    "read_runs",
    "read_weights",
    "recorded_epochs",
    "run_keys",
    "run_row",
    "run_statuses",
    "runs_table",
    "weights_table",
    "write_manifest",
    "write_options",
    "write_part",
    "write_table",
    "write_text",
]
