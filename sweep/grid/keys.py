"""What a grid file may say: its tables, the keys of each, and what every key allows.

Declared as data: the validators read these tables, and so do the error messages and
the README's reference (:func:`reference_table`). Run settings come from
:data:`sweep.config.FIELDS`, so the grid, the Python API and the README say the same.
"""

from sweep.config import FIELDS, MAX_HIDDEN_LAYERS, MAX_WIDTH, Field, suggest
from sweep.grid.source import GridError, GridFile

TABLES = ("sweep", "fixed", "grid", "sample")
BACKENDS = ("loky", "threading", "dask")
MAX_SEED = 2**32 - 1
MAX_RUNS = 500_000
RANGE_KEYS = ("start", "stop", "num", "log")

#: The two pseudo-fields that build ``hidden`` = ``(hidden_size,) * hidden_layers``.
PSEUDO_FIELDS: dict[str, Field] = {
    "hidden_size": Field(
        "hidden_size", "int", 4, "width of every hidden layer", low=1, high=MAX_WIDTH
    ),
    "hidden_layers": Field(
        "hidden_layers", "int", 2, "number of hidden layers", low=0, high=MAX_HIDDEN_LAYERS
    ),
}

#: What [fixed] and [grid] may set: every RunConfig field but ``seed``, and the pseudo-fields.
SETTABLE: dict[str, Field] = {k: f for k, f in FIELDS.items() if k != "seed"} | PSEUDO_FIELDS

#: The words a nullable field takes for "unset" (TOML has no null).
NULL_WORDS: dict[str, tuple[str, ...]] = {
    "target_loss": ("none",),
    "batch_size": ("full", "none"),
    "n": ("none",),
}

#: [sweep] keys and what each allows (errors and the README's table read this).
SWEEP_KEYS: dict[str, str] = {
    "name": "a folder name of letters, digits, '.', '_' and '-', starting with a letter, digit "
    "or '_'; default: the file name without .toml",
    "description": "a string (free text, shown by `sweep validate`)",
    "seeds": f"an integer n in [1, {MAX_RUNS:_}] (seeds 0..n-1), or a non-empty list of "
    f"distinct integers in [0, {MAX_SEED:_}]; default 1",
    "n_jobs": "a non-zero integer, joblib's meaning (-1 = all cores, -2 = all but one); default -1",
    "backend": "one of "
    + ", ".join(repr(b) for b in BACKENDS)
    + "; default: unset (the runner decides)",
    "scheduler": "a dask scheduler address such as 'tcp://10.0.0.5:8786' (backend 'dask' only)",
    "record_every": "an integer >= 1: keep every k-th epoch of the curves; default 1",
    "chunk_size": "an integer >= 1: runs per joblib task; default: unset (the runner decides)",
}


def unknown_key(file: GridFile, table: str, index: int, key: str) -> GridError:
    """The error for a key ``table`` does not take, saying where it belongs if anywhere."""
    where = file.where(table, index, key)
    if table == "sweep":
        if key in SETTABLE or key == "seed":
            return file.error(
                where,
                f"{key} is a run setting, not a sweep setting",
                "put it under [fixed] (one value) or [grid] (an axis)",
            )
        return file.error(
            where,
            f"unknown key {key!r}{suggest(key, list(SWEEP_KEYS))}",
            "allowed in [sweep]: " + ", ".join(SWEEP_KEYS),
        )
    if key in ("seed", "seeds"):
        return file.error(
            where,
            f"{key} is not set per run here",
            "seeds come from [sweep] seeds (an integer n for 0..n-1, or a list)",
        )
    if key in SWEEP_KEYS:
        return file.error(where, f"{key} is a sweep setting", "put it under [sweep]")
    return file.error(
        where,
        f"unknown field {key!r}{suggest(key, list(SETTABLE))}",
        "allowed: " + ", ".join(SETTABLE),
    )


def reference_table() -> str:
    """The Markdown table of the [sweep] keys and what each allows (for the README)."""
    rows = ["| `[sweep]` key | allowed |", "|---|---|"]
    rows += [f"| `{key}` | {allowed} |" for key, allowed in SWEEP_KEYS.items()]
    return "\n".join(rows)
