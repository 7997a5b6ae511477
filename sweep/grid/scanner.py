"""Where things stand in TOML text: the line of every header and key, and what is left open.

tomllib parses the file but reports no positions of valid keys, and for a construct
left open it reports where it gave up (often the end of the file), not where the
construct opens. So this scans the text itself, tracking brackets and quotes: to skip
the lines inside a multi-line array or string when finding keys, and to find the array,
inline table, string or header that was never closed.
"""

import re
from dataclasses import dataclass

_HEADER = re.compile(r"\s*(\[\[?)\s*([A-Za-z0-9_-]+(?:\s*\.\s*[A-Za-z0-9_-]+)*)\s*\]")
_KEY = re.compile(r"""\s*("?)([A-Za-z0-9_-]+)\1\s*=""")

_KINDS = {
    "[": "array",
    "{": "inline table",
    '"': "string",
    "'": "literal string",
    '"""': "multi-line string",
    "'''": "multi-line literal string",
}
_CLOSERS = {"[": "]", "[[": "]]", "{": "}"}


@dataclass(frozen=True)
class Opening:
    """A construct opened in the text: its opening mark, and its line and column (from 1).

    ``header`` marks the bracket of a ``[table]`` or ``[[table]]`` header.
    """

    mark: str
    line: int
    column: int
    header: bool = False

    @property
    def closer(self) -> str:
        return _CLOSERS.get(self.mark, self.mark)

    @property
    def kind(self) -> str:
        if self.header:
            return "table header" if self.mark == "[" else "array-of-tables header"
        return _KINDS[self.mark]

    def advice(self) -> str:
        """What to do about it left open: ``close it with ']'``, and where."""
        advice = f"close it with {self.closer!r}"
        if self.header or self.mark in ("{", '"', "'"):
            advice += " on the same line"
        if self.mark == "{":
            advice += " (an inline table is one line)"
        if self.mark == '"':
            advice += ' (""" starts a multi-line string)'
        return advice


class _Scanner:
    """Reads TOML text a line at a time, keeping the brackets and multi-line string
    still open (``stack``) and every construct found left open (``unclosed``)."""

    def __init__(self) -> None:
        self.stack: list[Opening] = []
        self.unclosed: list[Opening] = []

    def at_top(self) -> bool:
        """Whether the next line starts outside any bracket and string."""
        return not self.stack

    def feed(self, number: int, line: str) -> None:
        header = self.at_top() and line.lstrip().startswith("[")
        i = 0
        while i < len(line):
            if self.stack and self.stack[-1].mark in ('"""', "'''"):
                i = self._close_multiline(line, i)
                continue
            char = line[i]
            if char == "#":
                break
            if line.startswith(('"""', "'''"), i):
                self.stack.append(Opening(line[i : i + 3], number, i + 1))
                i += 3
            elif char in "\"'":
                i = self._close_string(number, line, i)
            elif char in "[{":
                self.stack.append(Opening(char, number, i + 1, header))
                i += 1
            elif char in "]}":
                self._close_bracket(char)
                i += 1
            else:
                i += 1
        # A header ends with its line, and so does an inline table with nothing open
        # inside it (a multi-line array may stand in one).
        if header and self.stack and self.stack[0].header:
            first = self.stack[0]
            mark = "[[" if line.lstrip().startswith("[[") else "["
            self.unclosed.append(Opening(mark, first.line, first.column, header=True))
            self.stack = []
        while self.stack and self.stack[-1].mark == "{":
            self.unclosed.append(self.stack.pop())

    def finish(self) -> None:
        """At the end of the text, whatever is still open was never closed."""
        self.unclosed += reversed(self.stack)
        self.stack = []

    def _close_multiline(self, line: str, i: int) -> int:
        """Past the end of the open multi-line string, or of the line if it goes on."""
        mark = self.stack[-1].mark
        while True:
            end = line.find(mark, i)
            if end < 0:
                return len(line)
            if mark == '"""' and _escaped(line, end):
                i = end + 1
                continue
            end += len(mark)
            for _ in range(2):  # up to two quotes more belong to the string: """a""""
                if line.startswith(mark[0], end):
                    end += 1
            self.stack.pop()
            return end

    def _close_string(self, number: int, line: str, i: int) -> int:
        """Past the one-line string opening at ``i``; one left open ends the line."""
        char = line[i]
        end = i + 1
        while end < len(line) and line[end] != char:
            end += 2 if char == '"' and line[end] == "\\" else 1
        if end >= len(line):
            self.unclosed.append(Opening(char, number, i + 1))
        return end + 1

    def _close_bracket(self, char: str) -> None:
        """Close the innermost bracket; one of another kind above it was left open."""
        while self.stack and self.stack[-1].closer != char:
            if not any(o.closer == char for o in self.stack):
                return  # a stray closer: tomllib names its line
            self.unclosed.append(self.stack.pop())
        if self.stack and self.stack[-1].closer == char:
            self.stack.pop()


def _escaped(line: str, at: int) -> bool:
    """Whether the character at ``at`` follows an odd number of backslashes."""
    slashes = len(line[:at]) - len(line[:at].rstrip("\\"))
    return slashes % 2 == 1


def key_lines(text: str) -> dict[tuple[str, int, str], int]:
    """``(table, index, key) -> line number`` of every header and top-level key of a table.

    ``index`` counts ``[[table]]`` repeats; a header is stored under key ``""``. Lines
    inside a multi-line array or string are skipped by tracking brackets and quotes
    (tomllib does not report positions of valid keys).
    """
    found: dict[tuple[str, int, str], int] = {}
    counts: dict[str, int] = {}
    table, index = "", 0
    scanner = _Scanner()
    for number, line in enumerate(text.splitlines(), 1):
        if scanner.at_top():
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
        scanner.feed(number, line)
    return found


def left_open(text: str) -> list[Opening]:
    """Every construct of ``text`` left open, in the order found: a header, inline table
    or one-line string at the end of its line, a bracket when a closer of another kind
    comes, an array or multi-line string at the end of the text."""
    scanner = _Scanner()
    for number, line in enumerate(text.splitlines(), 1):
        scanner.feed(number, line)
    scanner.finish()
    return scanner.unclosed
