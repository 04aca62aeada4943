"""What reading a log produces: one ``LogRecord`` per line, holding ``LogObservable`` values.

Contract: ``LogObservable.kind`` is one of ``KINDS``, an object path that
:meth:`shieldwall.domain.matching.Matcher.match_values` understands; ``value`` is the value as
the log wrote it (refanged, trimmed; domain names lower-cased without a trailing dot).  A
record's ``observables`` are distinct and in order of appearance; ``timestamp`` is
microseconds since the Unix epoch (UTC) when the line carries a full date, else ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

IPV4 = "ipv4-addr:value"
IPV6 = "ipv6-addr:value"
DOMAIN = "domain-name:value"
URL = "url:value"
EMAIL = "email-addr:value"
MD5 = "file:hashes.MD5"
SHA1 = "file:hashes.'SHA-1'"
SHA256 = "file:hashes.'SHA-256'"
SHA512 = "file:hashes.'SHA-512'"

KINDS: tuple[str, ...] = (IPV4, IPV6, DOMAIN, URL, EMAIL, MD5, SHA1, SHA256, SHA512)
HASH_BY_LENGTH: dict[int, str] = {32: MD5, 40: SHA1, 64: SHA256, 128: SHA512}


@dataclass(frozen=True, slots=True)
class LogObservable:
    """One value seen in a log line, typed by the object path it would fill."""

    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One line of a log: where it is, what it says, what it holds."""

    source: str
    line_no: int
    line: str
    observables: tuple[LogObservable, ...]
    timestamp: int | None


# Building frozen dataclasses through their generated ``__init__`` (one ``object.__setattr__``
# per field) costs more than reading a Zeek line; the reader builds millions.  These set the
# slots directly: the objects are the same as the constructors make (no defaults, no
# ``__post_init__``), and tests compare them.
_new = object.__new__
_set_kind = vars(LogObservable)["kind"].__set__
_set_value = vars(LogObservable)["value"].__set__
_set_source = vars(LogRecord)["source"].__set__
_set_line_no = vars(LogRecord)["line_no"].__set__
_set_line = vars(LogRecord)["line"].__set__
_set_observables = vars(LogRecord)["observables"].__set__
_set_timestamp = vars(LogRecord)["timestamp"].__set__


@lru_cache(maxsize=1 << 15)
def observable(kind: str, value: str) -> LogObservable:
    """``LogObservable(kind, value)``, shared: cached, since logs repeat their values."""
    made = _new(LogObservable)
    _set_kind(made, kind)
    _set_value(made, value)
    return made


def record(
    source: str,
    line_no: int,
    line: str,
    observables: tuple[LogObservable, ...],
    timestamp: int | None,
) -> LogRecord:
    """``LogRecord(source, line_no, line, observables, timestamp)``, built faster."""
    made = _new(LogRecord)
    _set_source(made, source)
    _set_line_no(made, line_no)
    _set_line(made, line)
    _set_observables(made, observables)
    _set_timestamp(made, timestamp)
    return made


def distinct(found: list[LogObservable]) -> tuple[LogObservable, ...]:
    """``found`` without repeats, first appearance kept."""
    if len(found) < 2:
        return tuple(found)
    # keyed on plain tuples: twice as fast as hashing the dataclasses
    return tuple({(item.kind, item.value): item for item in found}.values())


Parsed = tuple[list[LogObservable], int | None]


class LineParser(Protocol):
    """A format's reader of one line: its observables (repeats allowed) and timestamp.

    Parsers are built per stream from its first lines (``head``) and may keep state between
    lines (Zeek headers, a CSV header row).  ``parse`` must not raise on any text.
    """

    def parse(self, line: str) -> Parsed:
        """The observables of ``line`` in order of appearance, and its timestamp if any."""
        ...
