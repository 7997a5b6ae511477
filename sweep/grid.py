"""Grid files: read a sweep's TOML file, validate all of it, expand it to RunConfigs.

A grid file has three tables (see the README's "Grid files" section)::

    [sweep]   how to run: name, seeds, n_jobs, backend, scheduler, record_every, ...
    [fixed]   RunConfig fields, one value for every run
    [grid]    axes: lists of values whose cartesian product (x seeds) is the study

``[[grid]]`` (an array of tables) unites several grids, like scikit-learn's list of
parameter grids. :func:`load_grid` checks everything before any work is done and raises
:class:`GridError`, one line naming the file, the table and key (and line), what is
wrong and what is allowed. Allowed field values come from :data:`sweep.config.FIELDS`,
so the grid, the Python API and the README say the same thing.
"""

import array
import dataclasses
import hashlib
import itertools
import json
import math
import re
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

import numpy as np

from sweep.config import FIELDS, MAX_HIDDEN_LAYERS, MAX_WIDTH, Field, RunConfig, suggest

TABLES = ("sweep", "fixed", "grid")
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

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,99}")


class GridError(ValueError):
    """A mistake in a grid file; ``str(e)`` is one line: file, where, what, what is allowed."""


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


@dataclass(frozen=True)
class SweepSpec(SweepSettings):
    """A validated grid file: its ``[sweep]`` settings and its runs, expanded lazily.

    ``runs`` (a :class:`GridRuns` sequence, not a list: a 300,000-run grid is never held
    in memory) are in a stable order: grids in file order; within a grid the cartesian
    product of its axes in the order they are written (first key outermost), seeds
    innermost; a run equal to an earlier one is dropped (counted in ``n_duplicates``).
    ``axes`` maps every setting that varies across ``runs`` to its values, for printing:
    the axes written in the file first (``hidden_size``/``hidden_layers`` rather than
    ``hidden`` when the file uses them), numbers ascending, other values as first seen.
    ``values`` maps every setting (``seed`` aside) to its distinct values, first seen first.
    """

    path: Path
    text: str
    axes: dict[str, list[Any]]
    runs: "GridRuns"
    n_duplicates: int
    values: dict[str, list[Any]]

    @property
    def fixed(self) -> dict[str, Any]:
        """Every RunConfig field (but ``seed``) with the one value all runs share."""
        return {k: v[0] for k, v in self.values.items() if len(v) == 1 and k in FIELDS}

    @property
    def n_configs(self) -> int:
        """Distinct configs, seeds aside."""
        return self.runs.n_points


def run_id(cfg: RunConfig) -> str:
    """A stable id of one run: the first 16 hex digits of the SHA-256 of its config.

    The config (seed included) is written as canonical JSON (sorted keys, no spaces), so
    the same run gets the same id in every process, sweep and machine.
    """
    return hashlib.sha256(_canonical(cfg).encode()).hexdigest()[:16]


def _canonical(cfg: RunConfig) -> str:
    return json.dumps(cfg.to_dict(), sort_keys=True, separators=(",", ":"))


# --------------------------------------------------------------------------- reading


class _File:
    """The file being read: its name for messages, and where each key is written."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = _key_lines(text)
        self.grid_array = False

    def table(self, table: str, index: int = 0) -> str:
        if table == "grid" and self.grid_array:
            return f"[[grid]] #{index + 1}"
        return f"[{table}]"

    def where(self, table: str, index: int = 0, key: str | None = None) -> str:
        """``[table] key (line N)``; the line when the key is found in the text."""
        text = self.table(table, index)
        if key is not None:
            text += f" {key}"
        line = self.lines.get((table, index, key or ""))
        return f"{text} (line {line})" if line else text

    def error(self, where: str, what: str, allowed: str) -> GridError:
        """``<file>: <where>: <what is wrong>; <what is allowed>``, on one line."""
        message = f"{self.path}: {where + ': ' if where else ''}{what}; {allowed}"
        return GridError(" ".join(message.splitlines()))


_HEADER = re.compile(r"\s*(\[\[?)\s*([A-Za-z0-9_-]+(?:\s*\.\s*[A-Za-z0-9_-]+)*)\s*\]")
_KEY = re.compile(r"""\s*("?)([A-Za-z0-9_-]+)\1\s*=""")


def _key_lines(text: str) -> dict[tuple[str, int, str], int]:
    """``(table, index, key) -> line number`` of every header and top-level key of a table.

    ``index`` counts ``[[table]]`` repeats; a header is stored under key ``""``. Lines
    inside a multi-line array or string are skipped by tracking brackets and quotes
    (tomllib does not report positions of valid keys).
    """
    found: dict[tuple[str, int, str], int] = {}
    counts: dict[str, int] = {}
    table, index, depth, in_string = "", 0, 0, ""
    for number, line in enumerate(text.splitlines(), 1):
        if depth == 0 and not in_string:
            header = _HEADER.match(line)
            key = _KEY.match(line)
            if header:
                table = header.group(2).replace(" ", "")
                index = counts.get(table, -1) + 1 if header.group(1) == "[[" else 0
                counts[table] = index
                found.setdefault((table, index, ""), number)
                continue
            if key:
                found.setdefault((table, index, key.group(2)), number)
        depth, in_string = _scan_brackets(line, depth, in_string)
    return found


def _scan_brackets(line: str, depth: int, in_string: str) -> tuple[int, str]:
    """Bracket depth and open multi-line string after ``line`` (strings and comments skipped)."""
    i = 0
    while i < len(line):
        if in_string:
            end = line.find(in_string, i)
            if end < 0:
                return depth, in_string
            i, in_string = end + len(in_string), ""
            continue
        char = line[i]
        if char == "#":
            break
        if line.startswith(('"""', "'''"), i):
            in_string = line[i : i + 3]
            i += 3
            continue
        if char in "\"'":
            end = i + 1
            while end < len(line) and line[end] != char:
                end += 2 if char == '"' and line[end] == "\\" else 1
            i = end + 1
            continue
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth = max(depth - 1, 0)
        i += 1
    return depth, in_string


def _read_text(path: Path) -> str:
    if not path.exists():
        raise GridError(
            f"{path}: no such file; give the path of a grid TOML file, e.g. grids/lr.toml"
        )
    if path.is_dir():
        tomls = sorted(p.name for p in path.glob("*.toml"))
        listed = ", ".join(tomls[:8]) + (", ..." if len(tomls) > 8 else "")
        hint = f"one of its files: {listed}" if tomls else "a grid TOML file"
        raise GridError(f"{path}: is a directory, not a file; give {hint}")
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise GridError(f"{path}: not UTF-8 text ({e.reason}); give a grid TOML file") from None
    except OSError as e:
        raise GridError(
            f"{path}: cannot be read ({e.strerror}); give a readable grid TOML file"
        ) from None


def _parse_toml(path: Path, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        message = str(e)
        at = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        where = "end of file"
        if at:
            line = int(at.group(1))
            source = text.splitlines()[line - 1].strip() if line <= len(text.splitlines()) else ""
            where = f"line {line}, column {at.group(2)}" + (f" ({source[:60]})" if source else "")
            message = message[: at.start()]
        else:
            message = re.sub(r"\s*\(at end of document\)$", "", message)
        raise GridError(
            f"{path}: {where}: TOML syntax error: {message}; write key = value lines under "
            "[table] headers (strings in quotes, lists in [ ], each key once per table)"
        ) from None


# --------------------------------------------------------------------------- values


def _show(value: Any) -> str:
    """A value as the user wrote it (TOML's true/false, lists with their items)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_show(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _show_setting(key: str, value: Any) -> str:
    """Like :func:`_show`, an unset value as the word the grid file uses for it."""
    if value is None and key in NULL_WORDS:
        return repr(NULL_WORDS[key][0])
    return _show(value)


def _allowed(key: str) -> str:
    """What ``key`` allows in a grid file (the field's words, with the grid's null words)."""
    field = SETTABLE[key]
    if not field.optional:
        return field.allowed()
    words = " or ".join(repr(w) for w in NULL_WORDS[key])
    unset = "unset: full batch" if key == "batch_size" else "unset"
    return f"{dataclasses.replace(field, optional=False).allowed()}, or {words} ({unset})"


def _hint(field: Field, value: Any) -> str:
    if isinstance(value, bool) and field.kind in ("int", "float"):
        return " (a boolean)"
    if isinstance(value, str) and field.kind in ("int", "float"):
        close = suggest(value, NULL_WORDS[field.name]) if field.optional else ""
        return close or " (a string: write numbers without quotes)"
    if isinstance(value, str) and field.kind == "choice":
        return suggest(value, [*field.choices, *(a for a, _ in field.aliases)])
    if isinstance(value, int) and field.kind == "hidden":
        return " (write a list, e.g. [4, 4])"
    return ""


def _value(file: _File, where: str, key: str, value: Any) -> Any:
    """``value`` of setting ``key`` checked and normalised, or a GridError."""
    field = SETTABLE[key]
    if field.optional and isinstance(value, str) and value in NULL_WORDS[key]:
        return None
    try:
        return field.check(value)
    except ValueError:
        raise file.error(
            where, f"got {_show(value)}{_hint(field, value)}", "allowed: " + _allowed(key)
        ) from None


def _range(file: _File, where: str, key: str, spec: dict[str, Any]) -> list[Any]:
    """The values of a range ``{start, stop, num, log}``: inclusive linspace or logspace.

    Values are rounded to 12 significant digits (so decades such as 0.001 come out
    exact); an integer field needs every value to be an integer.
    """
    field = SETTABLE[key]
    shape = "a range {start = .., stop = .., num = .., log = true|false}"
    if field.kind not in ("int", "float"):
        raise file.error(
            where, f"{shape} given for a non-numeric field", "allowed: a list of values"
        )
    for k in spec:
        if k not in RANGE_KEYS:
            raise file.error(
                where,
                f"unknown range key {k!r}{suggest(k, RANGE_KEYS)}",
                f"allowed: {shape} (log optional, default false)",
            )
    missing = [k for k in RANGE_KEYS[:3] if k not in spec]
    if missing:
        raise file.error(where, f"range without {', '.join(missing)}", f"allowed: {shape}")
    start, stop, num, log = spec["start"], spec["stop"], spec["num"], spec.get("log", False)
    for k, v in (("start", start), ("stop", stop)):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise file.error(where, f"range {k} is {_show(v)}", "allowed: a finite number")
    if isinstance(num, bool) or not isinstance(num, int) or not 1 <= num <= MAX_RUNS:
        raise file.error(
            where,
            f"range num is {_show(num)}",
            f"allowed: an integer in [1, {MAX_RUNS:_}] (the number of values)",
        )
    if not isinstance(log, bool):
        raise file.error(where, f"range log is {_show(log)}", "allowed: true or false")
    if log and (start <= 0 or stop <= 0):
        raise file.error(
            where,
            f"a log range from {_show(start)} to {_show(stop)}",
            "allowed: start > 0 and stop > 0 with log = true (or log = false)",
        )
    points = _spaced(float(start), float(stop), num, log)
    if field.kind == "int":
        odd = [p for p in points if abs(p - round(p)) > 1e-9 * max(1.0, abs(p))]
        if odd:
            raise file.error(
                where,
                f"range gives non-integer values {_show(odd[:3])} for the integer field {key}",
                "allowed: a range whose values are all integers (e.g. start = 1, stop = 64, "
                "num = 7, log = true), or a list",
            )
        return [_value(file, where, key, int(round(p))) for p in points]
    return [_value(file, where, key, p) for p in points]


def _spaced(start: float, stop: float, num: int, log: bool) -> list[float]:
    """``num`` values from ``start`` to ``stop`` inclusive, evenly spaced (in log10 if ``log``)."""
    if num == 1:
        return [start]
    if log:
        a, b = math.log10(start), math.log10(stop)
        inner = [10 ** (a + (b - a) * i / (num - 1)) for i in range(1, num - 1)]
    else:
        inner = [start + (stop - start) * i / (num - 1) for i in range(1, num - 1)]
    return [start, *(float(f"{v:.12g}") for v in inner), stop]


# --------------------------------------------------------------------------- tables


def _unknown_key(file: _File, table: str, index: int, key: str) -> GridError:
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


def _table(file: _File, doc: dict[str, Any], name: str) -> dict[str, Any]:
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise file.error(
            file.where(name),
            f"{name} is {'an array of tables' if isinstance(value, list) else 'a value'}",
            f"allowed: one table [{name}] of key = value lines",
        )
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _read_sweep(file: _File, table: dict[str, Any]) -> SweepSettings:
    for key in table:
        if key not in SWEEP_KEYS:
            raise _unknown_key(file, "sweep", 0, key)

    def bad(key: str, value: Any, extra: str = "") -> GridError:
        return file.error(
            file.where("sweep", 0, key), f"got {_show(value)}{extra}", "allowed: " + SWEEP_KEYS[key]
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


def _read_fixed(file: _File, table: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in table.items():
        if key not in SETTABLE:
            raise _unknown_key(file, "fixed", 0, key)
        where = file.where("fixed", 0, key)
        if isinstance(value, dict):
            raise file.error(
                where, "a range in [fixed]", "allowed: one value (put ranges in [grid])"
            )
        if isinstance(value, list) and key != "hidden":
            raise file.error(
                where,
                f"a list {_show(value)} in [fixed]",
                f"allowed: one value ({_allowed(key)}); put lists of values in [grid]",
            )
        out[key] = _value(file, where, key, value)
    return out


def _read_axis(file: _File, index: int, key: str, value: Any) -> list[Any]:
    where = file.where("grid", index, key)
    if isinstance(value, dict):
        values = _range(file, where, key, value)
    elif not isinstance(value, list):
        raise file.error(
            where,
            f"an axis must be a list, got {_show(value)}",
            f"write {key} = [{_show(value)}] (or put one value in [fixed])",
        )
    elif not value:
        no_layer = " (no hidden layer: hidden = [[]])" if key == "hidden" else ""
        raise file.error(
            where, "an empty axis (no values)", f"allowed: a list of at least one value{no_layer}"
        )
    elif key == "hidden" and not all(isinstance(v, list) for v in value):
        raise file.error(
            where,
            f"got {_show(value)}, an axis of hidden is a list of layer lists",
            "write e.g. hidden = [[4, 4], [8, 8, 8]] (or hidden = [[4, 4]] for one value), "
            f"each a list of 0 to {MAX_HIDDEN_LAYERS} widths from 1 to {MAX_WIDTH}",
        )
    else:
        values = [_value(file, where, key, v) for v in value]
    for i, v in enumerate(values):
        if v in values[:i]:
            raise file.error(
                where,
                f"the value {_show(v)} is listed twice",
                "allowed: a list of distinct values",
            )
    return values


def _read_grids(file: _File, doc: dict[str, Any]) -> list[dict[str, list[Any]]]:
    raw = doc.get("grid", {})
    if isinstance(raw, list):
        file.grid_array = True
        if not raw or not all(isinstance(g, dict) for g in raw):
            raise file.error(
                "grid", "grid is a list of values", "allowed: [grid] or [[grid]] tables"
            )
    elif isinstance(raw, dict):
        raw = [raw]
    else:
        raise file.error(
            "grid", f"grid = {_show(raw)}", "allowed: a [grid] table or [[grid]] tables"
        )
    grids = []
    for index, table in enumerate(raw):
        grid = {}
        for key, value in table.items():
            if key not in SETTABLE:
                raise _unknown_key(file, "grid", index, key)
            grid[key] = _read_axis(file, index, key, value)
        grids.append(grid)
    return grids


# --------------------------------------------------------------------------- expansion


def _source(file: _File, fixed: dict[str, Any], grid: dict[str, Any], index: int, key: str) -> str:
    if key in grid:
        return file.where("grid", index, key)
    if key in fixed:
        return file.where("fixed", 0, key)
    return f"{key} (default)"


def _check_conflicts(file: _File, fixed: dict[str, Any], grids: list[dict[str, Any]]) -> None:
    for index, grid in enumerate(grids):
        for key in grid:
            if key in fixed:
                raise file.error(
                    file.where("grid", index, key),
                    f"{key} is both an axis here and fixed in {file.where('fixed', 0, key)}",
                    "allowed: set each field in one place",
                )
        keys = set(fixed) | set(grid)
        if "hidden" in keys and keys & set(PSEUDO_FIELDS):
            pseudo = sorted(keys & set(PSEUDO_FIELDS))[0]
            other = _source(file, fixed, grid, index, pseudo)
            raise file.error(
                _source(file, fixed, grid, index, "hidden"),
                f"hidden given together with {pseudo} ({other})",
                "allowed: either hidden (the layer widths) or hidden_size/hidden_layers",
            )


def _config_kwargs(point: dict[str, Any]) -> dict[str, Any]:
    """RunConfig keywords of one grid point: hidden_size/hidden_layers become ``hidden``."""
    kw = {k: v for k, v in point.items() if k not in PSEUDO_FIELDS}
    if "hidden_size" in point or "hidden_layers" in point:
        width = point.get("hidden_size", PSEUDO_FIELDS["hidden_size"].default)
        depth = point.get("hidden_layers", PSEUDO_FIELDS["hidden_layers"].default)
        kw["hidden"] = (width,) * depth
    return kw


#: A validated RunConfig's attributes with every field at its default, the base of the
#: configs :class:`GridRuns` builds without validating them again.
_DEFAULTS: dict[str, Any] = dict(vars(RunConfig()))


def _unchecked(kw: dict[str, Any], seed: int) -> RunConfig:
    """The RunConfig of keywords ``kw`` (already normalised and validated) and ``seed``.

    Validation costs about 12 us a config, ten times the rest of an iteration; every
    grid point was validated once by :func:`load_grid` and each of its values was
    normalised by its field's check, so iterating again skips it.
    """
    cfg = object.__new__(RunConfig)
    attributes = vars(cfg)
    attributes.update(_DEFAULTS)
    attributes.update(kw)
    attributes["seed"] = seed
    return cfg


class GridRuns(Sequence[RunConfig]):
    """The runs of a grid file in the grid's order, built as they are asked for.

    Holds only the axes, the seeds and the indices of the grid points dropped as
    duplicates, so its memory does not grow with the number of runs (a list of
    300,000 RunConfigs took about 90 MB). Iterating builds each config afresh;
    ``runs[i]`` decodes position ``i`` directly; a slice gives a list. ``fixed``,
    ``grids`` and ``seeds`` are the file's validated tables it expands.
    """

    def __init__(
        self,
        fixed: dict[str, Any],
        grids: list[dict[str, list[Any]]],
        seeds: tuple[int, ...],
        dropped: np.ndarray | None = None,
    ) -> None:
        self.fixed = fixed
        self.grids = grids
        self.seeds = seeds
        sizes = [math.prod(len(v) for v in g.values()) for g in grids]
        self._starts = np.cumsum([0, *sizes])
        self._dropped = np.zeros(0, np.int64) if dropped is None else np.sort(dropped)
        # _dropped[j] - j is how many kept points come before the j-th dropped one.
        self._gaps = self._dropped - np.arange(len(self._dropped))
        self.n_dropped = len(self._dropped)
        self.n_points = int(self._starts[-1]) - self.n_dropped

    def __len__(self) -> int:
        return self.n_points * len(self.seeds)

    def points(self, *, kept: bool = True) -> Iterator[dict[str, Any]]:
        """The RunConfig keywords of every grid point (``seed`` aside), in grid order;
        the dropped duplicates too when ``kept`` is False."""
        dropped = iter(self._dropped.tolist() if kept else [])
        skip = next(dropped, -1)
        index = 0
        for grid in self.grids:
            keys = list(grid)
            for combo in itertools.product(*(grid[k] for k in keys)):
                if index == skip:
                    skip = next(dropped, -1)
                else:
                    yield _config_kwargs({**self.fixed, **dict(zip(keys, combo, strict=True))})
                index += 1

    def __iter__(self) -> Iterator[RunConfig]:
        for kw in self.points():
            for seed in self.seeds:
                yield _unchecked(kw, seed)

    def with_ids(self) -> Iterator[tuple[str, RunConfig]]:
        """``(run_id(cfg), cfg)`` of every run, in order; hashes the JSON of a point's
        config once and only appends each seed's end to it (about 10x faster)."""
        for kw in self.points():
            first = _unchecked(kw, 0)
            head, found, tail = _canonical(first).partition('"seed":0,')
            if not found:  # the canonical JSON always has seed followed by shuffle
                raise AssertionError(f"no seed in {head!r}")
            prefix = hashlib.sha256(head.encode())
            for seed in self.seeds:
                digest = prefix.copy()
                digest.update(f'"seed":{seed},{tail}'.encode())
                yield digest.hexdigest()[:16], _unchecked(kw, seed)

    def ids(self) -> Iterator[str]:
        """``run_id`` of every run, in order."""
        return (rid for rid, _ in self.with_ids())

    @overload
    def __getitem__(self, index: int) -> RunConfig: ...

    @overload
    def __getitem__(self, index: slice) -> list[RunConfig]: ...

    def __getitem__(self, index: int | slice) -> RunConfig | list[RunConfig]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"run {index} of a grid of {len(self)} runs")
        kept, seed = divmod(index, len(self.seeds))
        point = kept + int(np.searchsorted(self._gaps, kept, side="right"))
        return _unchecked(self._point(point), self.seeds[seed])

    def _point(self, point: int) -> dict[str, Any]:
        """The keywords of grid point ``point`` (counting dropped ones): the last axis
        of its grid varies fastest."""
        g = int(np.searchsorted(self._starts, point, side="right")) - 1
        grid = self.grids[g]
        rest = point - int(self._starts[g])
        combo: dict[str, Any] = {}
        for key in reversed(list(grid)):
            rest, i = divmod(rest, len(grid[key]))
            combo[key] = grid[key][i]
        return _config_kwargs({**self.fixed, **dict(reversed(combo.items()))})


def _expand(
    file: _File, fixed: dict[str, Any], grids: list[dict[str, list[Any]]], seeds: tuple[int, ...]
) -> tuple[GridRuns, dict[str, list[Any]]]:
    """Validate every grid point, find the duplicates; the lazy runs and every
    setting's distinct values.

    A point equal to an earlier one is found by its hash (8 bytes a point, not a set of
    configs), and confirmed by comparing the configs of points whose hashes collide.
    """
    total = sum(math.prod(len(v) for v in g.values()) for g in grids) * len(seeds)
    if total > MAX_RUNS:
        raise file.error(
            "[grid]",
            f"the grids expand to {total:_} runs",
            f"allowed: at most {MAX_RUNS:_} runs per file (split the study into several files)",
        )
    values: dict[str, dict[Any, None]] = {k: {} for k in SETTABLE}
    hashes = array.array("q")
    for g, grid in enumerate(grids):
        keys = list(grid)
        for combo in itertools.product(*(grid[k] for k in keys)):
            kw = _config_kwargs({**fixed, **dict(zip(keys, combo, strict=True))})
            try:
                cfg = RunConfig(**kw, seed=seeds[0])
            except ValueError as e:
                raise _combination_error(file, fixed, grid, g, kw, str(e)) from None
            hashes.append(hash(cfg))
            _note_values(values, cfg)
    dropped = _duplicates(np.frombuffer(hashes, np.int64), GridRuns(fixed, grids, seeds))
    settings = {k: [list(v) if isinstance(v, tuple) else v for v in d] for k, d in values.items()}
    return GridRuns(fixed, grids, seeds, dropped), settings


def _duplicates(hashes: np.ndarray, runs: GridRuns) -> np.ndarray:
    """Indices of the grid points equal to an earlier point (``runs`` has none dropped)."""
    order = np.argsort(hashes, kind="stable")
    ranked = hashes[order]
    same = np.flatnonzero(ranked[1:] == ranked[:-1])
    if not len(same):
        return np.zeros(0, np.int64)
    dropped = []
    # Points sharing a hash, earliest first: each is a duplicate if equal to an earlier one.
    for group in np.split(order, np.flatnonzero(np.diff(ranked) != 0) + 1):
        if len(group) < 2:
            continue
        seen: list[RunConfig] = []
        for point in group.tolist():
            cfg = _unchecked(runs._point(point), 0)
            if cfg in seen:
                dropped.append(point)
            else:
                seen.append(cfg)
    return np.array(sorted(dropped), np.int64)


def _combination_error(
    file: _File,
    fixed: dict[str, Any],
    grid: dict[str, Any],
    index: int,
    kw: dict[str, Any],
    message: str,
) -> GridError:
    """A pair of values that cannot run together, named with where each was set."""
    positions = {k: m.start() for k in FIELDS if (m := re.search(rf"(?<!\w){k}(?!\w)", message))}
    keys = sorted(positions, key=positions.__getitem__)
    combo = ", ".join(f"{k} = {_show(kw.get(k, FIELDS[k].default))}" for k in keys)
    where = " with ".join(_source(file, fixed, grid, index, k) for k in keys)
    return file.error(
        where,
        f"the combination {combo} cannot run: {message}",
        "allowed: keep such values in separate [[grid]] tables",
    )


def _note_values(values: dict[str, dict[Any, None]], run: RunConfig) -> None:
    """Add ``run``'s value of every setting (RunConfig fields but seed, plus
    hidden_size/hidden_layers) to ``values``, which keeps them in first-seen order."""
    for key in FIELDS:
        if key != "seed":
            values[key][getattr(run, key)] = None
    hidden = run.hidden
    values["hidden_layers"][len(hidden)] = None
    if hidden:  # with no hidden layer the width means nothing
        values["hidden_size"][hidden[0] if len(set(hidden)) == 1 else None] = None


def _axes(
    settings: dict[str, list[Any]], grids: list[dict[str, list[Any]]]
) -> dict[str, list[Any]]:
    """The settings that vary across runs: written axes first (file order), then the rest."""
    varying = {k: v for k, v in settings.items() if len(v) > 1}
    written = list(dict.fromkeys(k for g in grids for k in g))
    order = [k for k in written if k in varying]
    order += [k for k in varying if k not in order and k not in PSEUDO_FIELDS]
    if "hidden" in order and "hidden" not in written and set(written) & set(PSEUDO_FIELDS):
        order.remove("hidden")
    return {k: _display_order(varying[k]) for k in order}


def _display_order(values: list[Any]) -> list[Any]:
    """Numbers ascending (two [[grid]] tables may list them in any order); others as found."""
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    return sorted(values) if numeric else values


def load_grid(path: str | Path) -> SweepSpec:
    """Read, validate and expand a grid file.

    Parameters
    ----------
    path : the grid TOML file.

    Returns
    -------
    SweepSpec : the sweep settings and every run, in a stable order (expanded lazily:
        every grid point is built and validated here, the runs again when iterated).

    Raises
    ------
    GridError : one line naming the file, table, key (and line) and what is allowed;
        raised before any run starts, for any mistake in the file.
    """
    path = Path(path)
    text = _read_text(path)
    doc = _parse_toml(path, text)
    file = _File(path, text)
    if not doc:
        raise file.error("", "the file is empty", "allowed: tables [sweep], [fixed] and [grid]")
    for key, value in doc.items():
        if key not in TABLES:
            line = file.lines.get((key, 0, "")) or file.lines.get(("", 0, key))
            where = (f"[{key}]" if isinstance(value, dict | list) else key) + (
                f" (line {line})" if line else ""
            )
            if isinstance(value, dict | list):
                what = f"unknown table [{key}]{suggest(key, TABLES)}"
            else:
                what = f"{key} is outside any table"
            if not isinstance(value, dict | list) and key in SETTABLE:
                raise file.error(
                    where, what, "put it under [fixed] (one value) or [grid] (an axis)"
                )
            raise file.error(where, what, "allowed tables: [sweep], [fixed], [grid] (or [[grid]])")
    settings = _read_sweep(file, _table(file, doc, "sweep"))
    fixed = _read_fixed(file, _table(file, doc, "fixed"))
    grids = _read_grids(file, doc)
    _check_conflicts(file, fixed, grids)
    runs, values = _expand(file, fixed, grids, settings.seeds)
    return SweepSpec(
        path=path,
        text=text,
        axes=_axes(values, grids),
        runs=runs,
        n_duplicates=runs.n_dropped * len(settings.seeds),
        values=values,
        **dataclasses.asdict(settings),
    )


# --------------------------------------------------------------------------- describe


def _seeds_text(seeds: tuple[int, ...]) -> str:
    if seeds == tuple(range(len(seeds))) and len(seeds) > 2:
        return f"0..{len(seeds) - 1}"
    return ", ".join(str(s) for s in seeds)


def describe(spec: SweepSpec) -> str:
    """What a grid file will run, for ``sweep validate``: counts, seeds, axes, fixed values."""
    n_seeds = len(spec.seeds)
    lines = [f"sweep {spec.name!r} ({spec.path})"]
    if spec.description:
        lines.append(f"  {spec.description}")
    lines.append(
        f"runs: {len(spec.runs)} ({spec.n_configs} configs x {n_seeds} seed"
        f"{'s' if n_seeds != 1 else ''}; {spec.n_duplicates} duplicates removed)"
    )
    lines.append(f"seeds: {_seeds_text(spec.seeds)}")
    backend = spec.backend or "auto"
    if spec.scheduler:
        backend += f" at {spec.scheduler}"
    chunk = spec.chunk_size if spec.chunk_size is not None else "auto"
    lines.append(
        f"jobs: n_jobs={spec.n_jobs}, backend={backend}, chunk_size={chunk}, "
        f"record_every={spec.record_every}"
    )
    lines.append("axes:" if spec.axes else "axes: none (one config)")
    for key, values in spec.axes.items():
        shown = ", ".join(_show_setting(key, v) for v in values)
        lines.append(f"  {key} ({len(values)}): {shown}")
    lines.append("fixed:")
    settings = spec.values
    for key, values in settings.items():
        if key in spec.axes or len(values) != 1:
            continue
        if key in PSEUDO_FIELDS and len(settings["hidden"]) == 1:
            continue
        value = values[0]
        default = SETTABLE[key].default
        mark = (
            "  (default)"
            if value == (list(default) if isinstance(default, tuple) else default)
            else ""
        )
        lines.append(f"  {key} = {_show_setting(key, value)}{mark}")
    return "\n".join(lines)


def reference_table() -> str:
    """The Markdown table of the [sweep] keys and what each allows (for the README)."""
    rows = ["| `[sweep]` key | allowed |", "|---|---|"]
    rows += [f"| `{key}` | {allowed} |" for key, allowed in SWEEP_KEYS.items()]
    return "\n".join(rows)
