"""Reading a stream of log lines into records, lazily.

Contract: :func:`read_records` checks ``fmt`` at once (``InvalidInput`` for an unknown
name, the only error it raises); it then yields one ``LogRecord`` per line, numbered from 1,
lines without observables included.  ``"auto"`` reads the first ``HEAD`` lines, detects the
format from them and continues the stream.  A line's trailing ``\\n``/``\\r\\n`` is dropped.
Parsers are written not to raise; should one fail on some line anyway, that line is yielded
without observables rather than ending the stream.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain, islice

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.logs.access import AccessParser
from shieldwall.domain.logs.delimited import DelimitedParser
from shieldwall.domain.logs.detect import HEAD, detect_format
from shieldwall.domain.logs.dns import DnsParser
from shieldwall.domain.logs.jsonl import JsonLinesParser
from shieldwall.domain.logs.model import LineParser, LogRecord, Parsed, distinct, record
from shieldwall.domain.logs.plain import PlainParser
from shieldwall.domain.logs.suricata import SuricataParser
from shieldwall.domain.logs.zeek import ZeekParser

__all__ = ["FORMATS", "PARSERS", "read_records"]

FORMATS: tuple[str, ...] = ("auto", "plain", "csv", "jsonl", "zeek", "suricata", "access", "dns")

PARSERS: dict[str, Callable[[Sequence[str]], LineParser]] = {
    "plain": PlainParser,
    "csv": DelimitedParser,
    "jsonl": JsonLinesParser,
    "zeek": ZeekParser,
    "suricata": SuricataParser,
    "access": AccessParser,
    "dns": DnsParser,
}


def read_records(lines: Iterable[str], fmt: str = "auto", source: str = "-") -> Iterator[LogRecord]:
    """The records of ``lines`` (see the module); ``source`` names them in each record."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown log format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return _records(iter(lines), fmt, source)


def _line(raw: str) -> str:
    return raw.rstrip("\r\n")


def _records(lines: Iterator[str], fmt: str, source: str) -> Iterator[LogRecord]:
    head = [_line(raw) for raw in islice(lines, HEAD)]
    if fmt == "auto":
        fmt = detect_format(head)
    parse = PARSERS[fmt](head).parse
    for line_no, line in enumerate(chain(head, map(_line, lines)), start=1):
        parsed: Parsed
        try:
            parsed = parse(line)
        except Exception:  # the contract: one odd line never ends a stream of millions
            parsed = ([], None)
        observables, stamp = parsed
        yield record(source, line_no, line, distinct(observables), stamp)
