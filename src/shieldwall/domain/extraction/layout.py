"""Where a position sits in the plain text: its line, its table cell and column header,
and the label lines above it.  The scanner uses this as *context* for typing values.

Contract: tables are runs of consecutive lines with the same number (≥ 2) of ``|``- or
tab-separated cells; the first line of a run is its header when it holds no value-like
text (no digits runs, dots inside words, ``://``, ``@``, ``\\``, ``%``).  Labels are the
nearest lines above a position that read like headings (short, words, no values), found
by walking back over blank lines and lines of listed values.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

_VALUE_LIKE = re.compile(r"\d{4}|\w\.\w|://|@|\\|%|[0-9a-fA-F]{16}")
_WORD = re.compile(r"[A-Za-z]{3,}")
_LIST_MARK = re.compile(r"^\s*(?:[-*•+]|\d+\.)\s+")


@dataclass(frozen=True)
class Cell:
    start: int
    end: int
    column: int
    header: str | None


class Layout:
    def __init__(self, text: str) -> None:
        self.text = text
        self.starts: list[int] = []
        self.ends: list[int] = []
        offset = 0
        for line in text.split("\n"):
            self.starts.append(offset)
            self.ends.append(offset + len(line))
            offset += len(line) + 1
        self._cells: dict[int, list[Cell]] = {}
        self._header_lines: set[int] = set()
        self._find_tables()
        self._classify_lines()

    # -- lines
    def line_of(self, position: int) -> int:
        return max(0, bisect_right(self.starts, position) - 1)

    def line(self, index: int) -> str:
        return self.text[self.starts[index] : self.ends[index]]

    def _split(self, index: int) -> list[tuple[int, int]]:
        line = self.line(index)
        separator = "|" if "|" in line else "\t" if "\t" in line else None
        if separator is None:
            return []
        spans: list[tuple[int, int]] = []
        begin = 0
        for pos, char in enumerate(line):
            if char == separator and not (separator == "|" and pos and line[pos - 1] == "\\"):
                spans.append((begin, pos))
                begin = pos + 1
        spans.append((begin, len(line)))
        return [(self.starts[index] + a, self.starts[index] + b) for a, b in spans]

    def _find_tables(self) -> None:
        index = 0
        count = len(self.starts)
        while index < count:
            cells = self._split(index)
            if len(cells) < 2:
                index += 1
                continue
            run = [index]
            while run[-1] + 1 < count and len(self._split(run[-1] + 1)) == len(cells):
                run.append(run[-1] + 1)
            header: list[str] | None = None
            head_text = [self.text[a:b].strip() for a, b in cells]
            if (
                len(run) >= 2
                and all(len(cell) <= 60 and not _VALUE_LIKE.search(cell) for cell in head_text)
                and any(head_text)
            ):
                header = head_text
                self._header_lines.add(run[0])
            for line_index in run:
                spans = self._split(line_index)
                self._cells[line_index] = [
                    Cell(a, b, column, header[column] if header else None)
                    for column, (a, b) in enumerate(spans)
                ]
            index = run[-1] + 1

    # -- context
    def cell(self, position: int) -> Cell | None:
        for cell in self._cells.get(self.line_of(position), ()):
            if cell.start <= position <= cell.end:
                return cell
        return None

    def is_header(self, position: int) -> bool:
        return self.line_of(position) in self._header_lines

    def prefix(self, position: int, width: int = 60) -> str:
        """Text before ``position`` on its line (or in its cell), at most ``width`` chars."""
        cell = self.cell(position)
        begin = cell.start if cell else self.starts[self.line_of(position)]
        return self.text[max(begin, position - width) : position]

    def labels(self, position: int) -> list[str]:
        """Up to two heading-like lines above the block holding ``position``: the nearest
        label line, and the one above it when only blank lines or table rows separate them."""
        first = self._previous_label[self.line_of(position)]
        if first < 0:
            return []
        found = [self._label_text(first)]
        second = self._previous_label[first]
        if second >= 0 and self._previous_other[first] < second:
            found.append(self._label_text(second))
        return found

    def _label_text(self, index: int) -> str:
        return _LIST_MARK.sub("", self.line(index).strip())

    def _classify_lines(self) -> None:
        """For every line, the nearest label line above it and the nearest other line
        (neither blank, nor a table data row, nor a label) above it; -1 when none."""
        count = len(self.starts)
        self._previous_label = [-1] * count
        self._previous_other = [-1] * count
        label, other = -1, -1
        for index in range(count):
            self._previous_label[index] = label
            self._previous_other[index] = other
            line = self.line(index).strip()
            if not line or (index in self._cells and index not in self._header_lines):
                continue
            body = _LIST_MARK.sub("", line)
            if (
                len(body) <= 120
                and _WORD.search(body)
                and (" " in body or len(body) <= 40)
                and not _VALUE_LIKE.search(body)
            ):
                label = index
            else:
                other = index
