"""The ``[sample]`` table: configurations drawn from ranges and lists.

::

    [sample]
    method = "sobol"          # "random", "lhs" (Latin hypercube) or "sobol"
    n = 64                    # configurations drawn (each trained `seeds` times)
    seed = 0                  # the draw's own seed (default 0)
    lr = { low = 0.001, high = 10.0, log = true }
    hidden_size = { low = 2, high = 16 }      # an integer field: integers, both ends in
    activation = ["sigmoid", "tanh", "relu"]  # a list: one drawn uniformly

Each sampled setting is one dimension of the unit cube the design fills
(``scipy.stats.qmc``'s Sobol' and Latin hypercube, or NumPy's generator for
``random``), in the order the file writes them: a range maps its coordinate to
``[low, high]`` (log-uniformly with ``log = true``; integers, each of ``low..high``
equally likely, for an integer field or ``integer = true``), a list to one of its
values. Floats are rounded to 6 significant digits (readable in tables; equal draws
are dropped as duplicates like a grid's). The draws depend on the file alone, so the
same file gives the same runs and run ids. Beside ``[grid]`` each drawn configuration
is crossed with every grid point.
"""

import math
import warnings
from typing import Any

import numpy as np

from sweep.config import suggest
from sweep.grid.keys import PSEUDO_FIELDS, SETTABLE, unknown_key
from sweep.grid.source import GridFile
from sweep.grid.values import setting_value, show

METHODS = ("random", "lhs", "sobol")
SAMPLE_KEYS = ("method", "n", "seed")
BOUND_KEYS = ("low", "high", "log", "integer")
MAX_SAMPLES = 100_000
DIGITS = 6


def _dimension(file: GridFile, key: str, spec: Any) -> tuple[str, Any]:
    """One sampled setting, checked: ``("choice", values)`` or ``("range", bounds)``."""
    where = file.where("sample", 0, key)
    field = SETTABLE[key]
    if isinstance(spec, list):
        if not spec:
            raise file.error(where, "an empty list", "allowed: a list of at least one value")
        values = [setting_value(file, where, key, v) for v in spec]
        for i, v in enumerate(values):
            if v in values[:i]:
                raise file.error(
                    where, f"the value {show(v)} is listed twice", "allowed: distinct values"
                )
        return "choice", values
    shape = "{low = .., high = .., log = true|false, integer = true|false}"
    if not isinstance(spec, dict):
        raise file.error(
            where,
            f"got {show(spec)}",
            f"allowed: a range {shape} or a list of values to draw from",
        )
    if field.kind not in ("int", "float"):
        raise file.error(
            where, f"a range {shape} for a non-numeric field", "allowed: a list of values"
        )
    for k in spec:
        if k not in BOUND_KEYS:
            raise file.error(
                where, f"unknown range key {k!r}{suggest(k, BOUND_KEYS)}", f"allowed: {shape}"
            )
    missing = [k for k in ("low", "high") if k not in spec]
    if missing:
        raise file.error(where, f"range without {', '.join(missing)}", f"allowed: {shape}")
    low, high = spec["low"], spec["high"]
    for k, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise file.error(where, f"range {k} is {show(v)}", "allowed: a finite number")
    log, integer = spec.get("log", False), spec.get("integer", field.kind == "int")
    for k, v in (("log", log), ("integer", integer)):
        if not isinstance(v, bool):
            raise file.error(where, f"range {k} is {show(v)}", "allowed: true or false")
    if low >= high:
        raise file.error(where, f"low {show(low)} >= high {show(high)}", "allowed: low < high")
    if log and low <= 0:
        raise file.error(where, f"a log range from {show(low)}", "allowed: low > 0 with log = true")
    if field.kind == "int" and not integer:
        raise file.error(where, f"{key} takes integers", "allowed: integer = true (the default)")
    if integer and (low != int(low) or high != int(high)):
        raise file.error(
            where,
            f"integer bounds {show(low)}, {show(high)}",
            "allowed: whole numbers for low and high with integer = true",
        )
    for v in (low, high):  # both ends must be values the field takes
        setting_value(file, where, key, int(v) if integer else float(v))
    return "range", (float(low), float(high), log, integer)


def _draw(file: GridFile, method: str, n: int, d: int, seed: int) -> np.ndarray:
    """``(n, d)`` points of the unit cube by ``method``."""
    if method == "random":
        return np.random.default_rng(seed).random((n, d))
    try:
        from scipy.stats import qmc  # only a sampled sweep pays its import
    except ImportError:
        raise file.error(
            file.where("sample", 0, "method"),
            f"method {method!r} needs SciPy (scipy.stats.qmc), which is not installed",
            "install it with pip install -e '.[sample]', or use method = 'random'",
        ) from None

    if method == "lhs":
        return qmc.LatinHypercube(d=d, seed=seed).random(n)
    with warnings.catch_warnings():  # "balance properties need n = 2^m": advice, not error
        warnings.simplefilter("ignore", UserWarning)
        return qmc.Sobol(d=d, scramble=True, seed=seed).random(n)


def _value(kind: str, spec: Any, u: float) -> Any:
    """The setting at coordinate ``u`` in [0, 1) of its dimension."""
    if kind == "choice":
        return spec[min(int(u * len(spec)), len(spec) - 1)]
    low, high, log, integer = spec
    if integer:
        if log:
            lo, hi = math.log(low), math.log(high + 1)
            return min(int(math.exp(lo + u * (hi - lo))), int(high))
        return min(int(low + u * (high - low + 1)), int(high))
    x = (
        math.exp(math.log(low) + u * (math.log(high) - math.log(low)))
        if log
        else low + u * (high - low)
    )
    x = float(f"{x:.{DIGITS}g}")
    return min(max(x, low), high)


def read_sample(
    file: GridFile,
    doc: dict[str, Any],
    fixed: dict[str, Any],
    grids: list[dict[str, list[Any]]],
) -> list[dict[str, Any]] | None:
    """The configurations the ``[sample]`` table draws (None without one), each a
    mapping of the sampled settings to one checked value."""
    if "sample" not in doc:
        return None
    table = doc["sample"]
    if not isinstance(table, dict):
        raise file.error(
            file.where("sample"), "sample is not a table", "allowed: one [sample] table"
        )
    method = table.get("method", "random")
    if method not in METHODS:
        raise file.error(
            file.where("sample", 0, "method"),
            f"unknown method {show(method)}{suggest(str(method), METHODS)}",
            "allowed: " + ", ".join(repr(m) for m in METHODS),
        )
    n = table.get("n")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_SAMPLES:
        raise file.error(
            file.where("sample", 0, "n") if "n" in table else file.where("sample"),
            f"n is {show(n)}" if "n" in table else "no n (how many configurations to draw)",
            f"allowed: n = an integer in [1, {MAX_SAMPLES:_}]",
        )
    seed = table.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise file.error(
            file.where("sample", 0, "seed"), f"seed is {show(seed)}", "allowed: an integer >= 0"
        )
    dims = []
    for key, spec in table.items():
        if key in SAMPLE_KEYS:
            continue
        if key not in SETTABLE:
            raise unknown_key(file, "sample", 0, key)
        where = file.where("sample", 0, key)
        if key in fixed:
            raise file.error(
                where,
                f"{key} is both sampled here and fixed in {file.where('fixed', 0, key)}",
                "allowed: set each field in one place",
            )
        for index, grid in enumerate(grids):
            if key in grid:
                raise file.error(
                    where,
                    f"{key} is both sampled here and an axis in {file.where('grid', index, key)}",
                    "allowed: set each field in one place",
                )
        others = set(fixed).union(*grids, table)
        clash = None
        if key == "hidden" and others & set(PSEUDO_FIELDS):
            clash = sorted(others & set(PSEUDO_FIELDS))[0]
        elif key in PSEUDO_FIELDS and "hidden" in others:
            clash = "hidden"
        if clash is not None:
            raise file.error(
                where,
                f"{key} sampled together with {clash}",
                "allowed: either hidden (the layer widths) or hidden_size/hidden_layers",
            )
        dims.append((key, *_dimension(file, key, spec)))
    if not dims:
        raise file.error(
            file.where("sample"),
            "nothing to sample",
            "allowed: settings as ranges {low = .., high = ..} or lists, beside method, n, seed",
        )
    points = _draw(file, method, n, len(dims), seed)
    return [
        {key: _value(kind, spec, float(u)) for (key, kind, spec), u in zip(dims, row, strict=True)}
        for row in points
    ]
