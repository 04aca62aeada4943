"""CSV and other delimited text: every cell read carefully.

Contract: the delimiter (``,``, tab, ``;`` or ``|``) is the one the first lines use the same
number of times (see :func:`sniff`; default ``,``); cells are split with :mod:`csv` line by
line (a quoted cell running over lines is read piecewise).  The header row is optional: the
first row, or the last ``#`` comment row before the data (abuse.ch feeds comment theirs
out), of two or more cells that are all names like ``dst_ip`` or ``First Seen (UTC)`` and
none an observable.  Rows
starting with ``#`` have no observables.  Every data cell is read carefully (one value, or
free text when it holds spaces).  The timestamp is read from the first column whose header
is a time name (``time``, ``timestamp``, ``ts``, ``date``, ``@timestamp``, ``datetime``,
``eventTime``, ``dateadded``, or a name ending in ``time``/``date``/``timestamp``, or starting
with ``time``/``date``/``first seen``) as ISO 8601, epoch, Apache or Windows time.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence

from shieldwall.domain.logs import times
from shieldwall.domain.logs.classify import text, value, words
from shieldwall.domain.logs.model import LogObservable, Parsed

__all__ = ["DELIMITERS", "DelimitedParser", "sniff"]

DELIMITERS = (",", "\t", ";", "|")
_NAME = re.compile(r"[A-Za-z_@#][\w .@/()\-:]{0,63}")
_TIME_NAMES = frozenset({
    "time", "timestamp", "ts", "date", "datetime", "eventtime", "dateadded", "firstseen",
    "firstseenutc", "lastseen", "lastseenutc", "created", "when",
})  # fmt: skip
_NOT_ALNUM = re.compile(r"[^a-z0-9]")


def sniff(lines: Sequence[str], minimum_lines: int = 1) -> str | None:
    """The delimiter that ≥ 80% of the non-comment lines use equally often (≥ 1), or None.

    Delimiters inside quoted cells do not count.

    With several, the most frequent one per line wins.  ``minimum_lines`` non-comment lines
    are needed to decide.
    """
    rows = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if len(rows) < minimum_lines or not rows:
        return None
    best: tuple[int, str] | None = None
    for delimiter in DELIMITERS:
        counts = [_width(row, delimiter) - 1 for row in rows]
        mode = max(set(counts), key=counts.count)
        steady = mode >= 1 and counts.count(mode) >= 0.8 * len(counts)
        if steady and (best is None or mode > best[0]):
            best = (mode, delimiter)
    return best[1] if best else None


def _width(row: str, delimiter: str) -> int:
    """The number of cells of ``row`` (delimiters inside quotes do not count)."""
    if '"' not in row:
        return row.count(delimiter) + 1
    try:
        return len(next(csv.reader([row], delimiter=delimiter), []))
    except csv.Error:
        return 1


def is_time_name(name: str) -> bool:
    """True for a column name that says the column holds the time."""
    key = _NOT_ALNUM.sub("", name.lower())
    return (
        key in _TIME_NAMES
        or key.endswith(("time", "date", "timestamp"))
        or key.startswith(("time", "date", "firstseen"))
    )


class DelimitedParser:
    """Reads delimited text; remembers the header row."""

    def __init__(self, head: Sequence[str] = ()) -> None:
        self._delimiter = sniff(head) or ","
        self._header: list[str] | None = None
        self._seen_data = False
        self._time_column: int | None = None

    def parse(self, line: str) -> Parsed:
        """See the module."""
        if not line.strip():
            return [], None
        comment = line.lstrip().startswith("#")
        cells = self._cells(line.lstrip().lstrip("#") if comment else line)
        if cells is None:
            return ([] if comment else words(line)), None
        if comment or not self._seen_data:
            header = not self._seen_data and self._is_header(cells)
            if header:  # a later commented header replaces an earlier one
                self._set_header([cell.strip() for cell in cells])
            if comment or header:
                return [], None
        self._seen_data = True
        found: list[LogObservable] = []
        for cell in cells:
            stripped = cell.strip()
            if stripped:
                found.extend(text(stripped))
        stamp = None
        column = self._time_column
        if column is not None and column < len(cells):
            stamp = times.any_text(cells[column])
        return found, stamp

    def _cells(self, line: str) -> list[str] | None:
        if '"' not in line:  # what csv would do, without building a reader per line
            return line.split(self._delimiter)
        try:
            return next(csv.reader([line], delimiter=self._delimiter), [])
        except csv.Error:  # e.g. a cell over the field size limit
            return None

    def _is_header(self, cells: list[str]) -> bool:
        names = [cell.strip() for cell in cells]
        if len(names) < 2 or not all(names) or not all(_NAME.fullmatch(name) for name in names):
            return False
        return not any(value(name) for name in names)

    def _set_header(self, names: list[str]) -> None:
        self._header = names
        self._time_column = next(
            (index for index, name in enumerate(names) if is_time_name(name)), None
        )
