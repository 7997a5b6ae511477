"""Where things stand in TOML text: the line of every header and top-level key.

tomllib parses the file but reports no positions of valid keys, so this scans the text
itself, tracking brackets and quotes to skip the lines inside a multi-line array or
string.
"""

import re

_HEADER = re.compile(r"\s*(\[\[?)\s*([A-Za-z0-9_-]+(?:\s*\.\s*[A-Za-z0-9_-]+)*)\s*\]")
_KEY = re.compile(r"""\s*("?)([A-Za-z0-9_-]+)\1\s*=""")


def key_lines(text: str) -> dict[tuple[str, int, str], int]:
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
