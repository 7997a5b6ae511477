"""One setting's values: checked against its field, ranges expanded, shown as written."""

import dataclasses
import math
from typing import Any

from sweep.config import Field, suggest
from sweep.grid.keys import MAX_RUNS, NULL_WORDS, RANGE_KEYS, SETTABLE
from sweep.grid.source import GridFile


def show(value: Any) -> str:
    """A value as the user wrote it (TOML's true/false, lists with their items)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {show(v)}" for k, v in value.items()) + "}"
    return repr(value)


def show_setting(key: str, value: Any) -> str:
    """Like :func:`show`, an unset value as the word the grid file uses for it."""
    if value is None and key in NULL_WORDS:
        return repr(NULL_WORDS[key][0])
    return show(value)


def allowed_text(key: str) -> str:
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


def setting_value(file: GridFile, where: str, key: str, value: Any) -> Any:
    """``value`` of setting ``key`` checked and normalised, or a GridError."""
    field = SETTABLE[key]
    if field.optional and isinstance(value, str) and value in NULL_WORDS[key]:
        return None
    try:
        return field.check(value)
    except ValueError:
        raise file.error(
            where, f"got {show(value)}{_hint(field, value)}", "allowed: " + allowed_text(key)
        ) from None


def range_values(file: GridFile, where: str, key: str, spec: dict[str, Any]) -> list[Any]:
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
            raise file.error(where, f"range {k} is {show(v)}", "allowed: a finite number")
    if isinstance(num, bool) or not isinstance(num, int) or not 1 <= num <= MAX_RUNS:
        raise file.error(
            where,
            f"range num is {show(num)}",
            f"allowed: an integer in [1, {MAX_RUNS:_}] (the number of values)",
        )
    if not isinstance(log, bool):
        raise file.error(where, f"range log is {show(log)}", "allowed: true or false")
    if log and (start <= 0 or stop <= 0):
        raise file.error(
            where,
            f"a log range from {show(start)} to {show(stop)}",
            "allowed: start > 0 and stop > 0 with log = true (or log = false)",
        )
    points = _spaced(float(start), float(stop), num, log)
    if field.kind == "int":
        odd = [p for p in points if abs(p - round(p)) > 1e-9 * max(1.0, abs(p))]
        if odd:
            raise file.error(
                where,
                f"range gives non-integer values {show(odd[:3])} for the integer field {key}",
                "allowed: a range whose values are all integers (e.g. start = 1, stop = 64, "
                "num = 7, log = true), or a list",
            )
        return [setting_value(file, where, key, int(round(p))) for p in points]
    return [setting_value(file, where, key, p) for p in points]


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
