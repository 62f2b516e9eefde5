"""Which line of a TOML file each key path comes from.

tomllib returns plain data without positions. To name the line of a problem such as
criterion[3].rule[0].points, this scans the text once, following table headers, arrays of
tables and key/value lines, and skipping the inside of multi-line strings and arrays. It
is deliberately a locator, not a parser: the data always comes from tomllib, and a path
it cannot place falls back to its nearest placed parent.
"""
from __future__ import annotations

import re

from .files import text_lines

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def key_lines(text: str) -> dict[tuple, int]:
    lines: dict[tuple, int] = {}
    arrays: dict[tuple, int] = {}  # concrete path of an array of tables -> elements so far
    table: tuple = ()
    state = _Scanner()
    for number, raw in enumerate(text_lines(text), start=1):
        if state.inside:
            state.feed(raw)
            continue
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[["):
            keys = _keys(line[2:line.find("]]")] if "]]" in line else line[2:])
            parent = _resolve(keys[:-1], arrays)
            array = parent + (keys[-1],)
            arrays[array] = arrays.get(array, 0) + 1
            table = array + (arrays[array] - 1,)
            lines.setdefault(array, number)
            lines[table] = number
            continue
        if line.startswith("["):
            table = _resolve(_keys(line[1:line.find("]")] if "]" in line else line[1:]), arrays)
            lines.setdefault(table, number)
            continue
        key_text, sep, value = _split_assignment(line)
        if not sep:
            continue
        path = table + tuple(_keys(key_text))
        lines.setdefault(path, number)
        for inner in _inline_keys(value):
            lines.setdefault(path + (inner,), number)
        state.feed(value)
    return lines


def line_of(lines: dict[tuple, int], path: tuple) -> int | None:
    """The line of the longest prefix of path that was placed."""
    for size in range(len(path), -1, -1):
        if path[:size] in lines:
            return lines[path[:size]]
    return None


def _resolve(keys: list[str], arrays: dict[tuple, int]) -> tuple:
    """[a.b] inside arrays of tables means the last element of each array on the way."""
    path: tuple = ()
    for key in keys:
        path += (key,)
        if path in arrays:
            path += (arrays[path] - 1,)
    return path


def _keys(text: str) -> list[str]:
    keys, rest = [], text.strip()
    while rest:
        if rest[0] in "\"'":
            end = rest.find(rest[0], 1)
            end = len(rest) if end < 0 else end
            keys.append(rest[1:end])
            rest = rest[end + 1:].strip()
        else:
            match = _BARE_KEY.match(rest)
            if not match:
                break
            keys.append(match.group())
            rest = rest[match.end():].strip()
        if rest.startswith("."):
            rest = rest[1:].strip()
        else:
            break
    return keys


def _split_assignment(line: str) -> tuple[str, str, str]:
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "=":
            return line[:i], "=", line[i + 1:]
    return line, "", ""


def _inline_keys(value: str) -> list[str]:
    """Top-level keys of a one-line inline table: bind = { r = "first reply" }."""
    value = value.strip()
    if not value.startswith("{"):
        return []
    found, depth, quote, start = [], 0, None, 1
    for i, ch in enumerate(value):
        if quote:
            if ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        elif ch == "," and depth == 1:
            start = i + 1
        elif ch == "=" and depth == 1:
            found.extend(_keys(value[start:i])[:1])
    return found


class _Scanner:
    """Tracks whether a value continues on the next lines (open brackets or triple quotes)."""

    def __init__(self):
        self.depth = 0
        self.triple: str | None = None

    @property
    def inside(self) -> bool:
        return self.depth > 0 or self.triple is not None

    def feed(self, text: str) -> None:
        i = 0
        quote = None
        while i < len(text):
            if self.triple:
                end = text.find(self.triple, i)
                if end < 0:
                    return
                i = end + 3
                self.triple = None
                continue
            ch = text[i]
            if quote:
                if ch == "\\" and quote == '"':
                    i += 2
                    continue
                if ch == quote:
                    quote = None
            elif text.startswith('"""', i) or text.startswith("'''", i):
                self.triple = text[i:i + 3]
                i += 3
                continue
            elif ch in "\"'":
                quote = ch
            elif ch == "#":
                return
            elif ch in "[{":
                self.depth += 1
            elif ch in "]}":
                self.depth -= 1
            i += 1
