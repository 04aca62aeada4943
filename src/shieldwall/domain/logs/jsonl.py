"""JSON lines: one JSON value (normally an object) per line.

Contract: every string value, nested at any depth, is read carefully (one value, or free text
when it holds spaces: see ``classify``); keys and numbers are not read.  The timestamp is the
first of the top-level keys ``timestamp``, ``@timestamp``, ``ts``, ``time``, ``eventTime``
that holds a readable time (ISO 8601 text, or a number or decimal text of time since the
epoch).  A line that is not JSON is read as free text.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from shieldwall.domain.logs import times
from shieldwall.domain.logs.classify import text, words
from shieldwall.domain.logs.model import LogObservable, Parsed

__all__ = ["JsonLinesParser", "load", "strings", "timestamp"]

TIME_KEYS = ("timestamp", "@timestamp", "ts", "time", "eventTime")


def load(line: str) -> object:
    """The JSON value of ``line``, or ``None`` when it is not JSON."""
    try:
        return orjson.loads(line)
    except ValueError:  # orjson.JSONDecodeError, and text that is not UTF-8 (surrogates)
        return None


def strings(document: object, found: list[LogObservable]) -> None:
    """Append the observables of every string in ``document``, in document order."""
    stack: list[object] = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.extend(text(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))


def time_value(raw: object) -> int | None:
    """A JSON value read as a time: ISO or epoch text, or an epoch number."""
    if isinstance(raw, str):
        return times.any_text(raw)
    return times.epoch_number(raw)


def timestamp(document: dict[str, object], keys: Sequence[str] = TIME_KEYS) -> int | None:
    """The first readable time among ``keys`` of ``document``."""
    for key in keys:
        raw = document.get(key)
        if raw is not None:
            found = time_value(raw)
            if found is not None:
                return found
    return None


class JsonLinesParser:
    """Reads JSON lines; stateless."""

    def __init__(self, head: Sequence[str] = ()) -> None:
        del head

    def parse(self, line: str) -> Parsed:
        """See the module."""
        document = load(line)
        if document is None:
            return (words(line) if line.strip() else []), None
        found: list[LogObservable] = []
        strings(document, found)
        return found, timestamp(document) if isinstance(document, dict) else None
