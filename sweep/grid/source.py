"""The grid file's text: read, parsed by tomllib, and the one-line error naming a place.

:class:`GridFile` knows the line of every header and key (from
:mod:`sweep.grid.scanner`), so every later check can name the file, the table, the key
and its line.
"""

import re
import tomllib
from pathlib import Path
from typing import Any

from sweep.grid.scanner import key_lines, left_open

_AT_END = re.compile(r"\s*\(at end of document\)$")


class GridError(ValueError):
    """A mistake in a grid file; ``str(e)`` is one line: file, where, what, what is allowed."""


class GridFile:
    """The file being read: its name for messages, and where each key is written."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = key_lines(text)
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


def read_text(path: Path) -> str:
    """The file's text, or a GridError saying what the path is instead."""
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


def parse_toml(path: Path, text: str) -> dict[str, Any]:
    """The TOML document, or a GridError naming the line of the syntax error.

    A construct left open (an array, inline table, string or header) is named at the
    line where it opens, not where tomllib gave up (for an array or a multi-line
    string, the end of the file); any other error at the end of the file is named at
    the file's last line.
    """
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        message = str(e)
        at = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        stopped = (int(at.group(1)), int(at.group(2))) if at else None
        message = message[: at.start()] if at else _AT_END.sub("", message)
        advice = (
            "write key = value lines under [table] headers (strings in quotes, lists in [ ], "
            "each key once per table)"
        )
        opened = [o for o in left_open(text) if stopped is None or (o.line, o.column) <= stopped]
        lines = text.splitlines()
        if opened:
            last = max(opened, key=lambda o: (o.line, o.column))
            line, column = last.line, last.column
            message = f"unclosed {last.kind} {last.mark!r} opened here"
            advice = last.advice()
        elif stopped:
            line, column = stopped
        else:
            filled = [n for n, s in enumerate(lines, 1) if s.strip()]
            line, column = (filled[-1], 0) if filled else (0, 0)
            message += " at the end of the file"
        where = "end of file"
        if line:
            source = lines[line - 1].strip() if line <= len(lines) else ""
            where = f"line {line}" + (f", column {column}" if column else "")
            where += f" ({source[:60]})" if source else ""
        raise GridError(f"{path}: {where}: TOML syntax error: {message}; {advice}") from None
