"""Log lines → observables for the STIX matcher (pure: lines in, records out).

Public API::

    LogObservable(kind, value)        kind: an object path for Matcher.match_values
    LogRecord(source, line_no, line, observables, timestamp)
    FORMATS = ("auto", "plain", "csv", "jsonl", "zeek", "suricata", "access", "dns")
    detect_format(head) -> str        a format of FORMATS other than "auto"
    read_records(lines, fmt="auto", source="-") -> Iterator[LogRecord]   (lazy)

Module map: ``model`` (records, observables), ``classify`` (what a string is: typed, lenient
and careful readings, free text), ``times`` (log timestamps → epoch microseconds), one module
per format (``plain``, ``delimited`` for csv, ``jsonl``, ``zeek``, ``suricata``, ``access``,
``dns``), ``detect`` (format detection), ``reader`` (the stream).

Contracts: no I/O, no clock; results depend only on the lines (caches are bounded and keyed
by input).  Observable kinds are ``ipv4-addr:value``, ``ipv6-addr:value``,
``domain-name:value``, ``url:value``, ``email-addr:value`` and ``file:hashes.MD5``,
``file:hashes.'SHA-1'``, ``file:hashes.'SHA-256'``, ``file:hashes.'SHA-512'``.  Values are as
written (refanged, trimmed; domains lower-cased without a trailing dot), distinct per record
and in order of appearance.  Only an unknown format name raises (``InvalidInput``); a
malformed line is yielded with whatever could be read from it.
"""

from __future__ import annotations

from shieldwall.domain.logs.detect import detect_format
from shieldwall.domain.logs.model import KINDS, LogObservable, LogRecord
from shieldwall.domain.logs.reader import FORMATS, read_records

__all__ = ["FORMATS", "KINDS", "LogObservable", "LogRecord", "detect_format", "read_records"]
