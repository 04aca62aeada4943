"""DNS server query logs: BIND, dnsmasq and Pi-hole, Windows DNS debug logs, Unbound.

Lines recognised (anywhere after a syslog or date prefix):

* BIND ``client @0x7f… 192.0.2.1#5353 (example.com): query: example.com IN A + (10.0.0.1)``
  (also without ``@0x…``, the parenthesised name or with ``view …:``) → client IP, name;
* dnsmasq / Pi-hole ``query[A] example.com from 192.168.1.2`` → name, client IP;
  ``reply example.com is 1.2.3.4`` (also ``cached``, ``config``, ``gravity blocked``, a hosts
  file…) → name, answer (an IP; ``0.0.0.0``/``::`` block markers and ``<CNAME>``,
  ``NXDOMAIN`` … are not answers); ``forwarded example.com to 9.9.9.9`` → name only (the
  upstream server is ours);
* Windows DNS debug ``… PACKET 0000… UDP Rcv 192.168.1.20 9a6b   Q [0001 D NOERROR] A
  (7)example(3)com(0)`` → client IP, name (length-prefixed labels decoded);
* Unbound ``[1591367999] unbound[1234:0] info: 192.168.1.2 example.com. A IN`` → client IP,
  name.

The address of the server itself (BIND's trailing ``(10.0.0.1)``) is not reported.
Timestamps come from a full date at the start of the line: BIND ``05-Jun-2020 14:39:59.305``,
ISO 8601 (RFC 5424 syslog), Windows ``6/5/2020 2:39:59 PM``, Unbound's epoch seconds; these
logs write local time, read as UTC.  Classic syslog dates (``Jun  5 14:39:59``) have no year:
no timestamp.  Other lines are read as free text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from shieldwall.domain.logs import times
from shieldwall.domain.logs.classify import domain, ip, words
from shieldwall.domain.logs.model import LogObservable, Parsed

__all__ = ["DnsParser", "is_dns_line"]

_BIND_TIME = re.compile(r"(\d{1,2}-[A-Za-z]{3}-\d{4} \d{2}:\d{2}:\d{2}(?:\.\d{1,9})?)\s", re.ASCII)
_ISO_TIME = re.compile(
    r"(?:<\d{1,3}>\d{0,2} ?)?"
    r"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?)\s",
    re.ASCII,
)
_WINDOWS_TIME = re.compile(
    r"(\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2}(?: ?[AaPp][Mm])?)\s", re.ASCII
)
_UNBOUND_TIME = re.compile(r"\[(\d{9,11})\] ", re.ASCII)

_BIND = re.compile(
    r"client (?:@0x[0-9A-Fa-f]+ )?(?P<client>[0-9A-Fa-f:.]+)#\d+(?: \([^)]*\))?: "
    r"(?:view [^:]*: )?query: (?P<name>\S+) ",
    re.ASCII,
)
_DNSMASQ_QUERY = re.compile(r"\bquery\[[A-Za-z0-9]+\] (?P<name>\S+) from (?P<client>\S+)", re.ASCII)
_DNSMASQ_FORWARD = re.compile(r"\bforwarded (?P<name>\S+) to \S+", re.ASCII)
_DNSMASQ_REPLY = re.compile(r"\s(?P<name>\S+) is (?P<answer>\S+)\s*$", re.ASCII)
_WINDOWS = re.compile(
    r"\b(?:UDP|TCP) +(?:Rcv|Snd) +(?P<client>[0-9A-Fa-f:.]+) +[0-9A-Fa-f]{1,4} "
    r".*?(?P<name>(?:\(\d{1,2}\)[^()\s]*)+\(0\))",
    re.ASCII,
)
_WINDOWS_HEADER = re.compile(r"DNS Server log file creation|Message logging key \(for packets")
_UNBOUND = re.compile(
    r"\binfo: (?P<client>[0-9A-Fa-f:.]+) (?P<name>\S+\.) [A-Z0-9]+ [A-Z]{2,4}\b", re.ASCII
)
_LABEL_LENGTH = re.compile(r"\(\d{1,2}\)")
_BLOCKED = frozenset({"0.0.0.0", "::"})  # noqa: S104 - Pi-hole's "blocked" answers


def is_dns_line(line: str) -> bool:
    """True for a line this module recognises (dnsmasq replies only with a dnsmasq tag)."""
    if (
        _BIND.search(line)
        or _DNSMASQ_QUERY.search(line)
        or _WINDOWS.search(line)
        or _WINDOWS_HEADER.search(line)
        or _UNBOUND.search(line)
    ):
        return True
    tagged = "dnsmasq" in line or "pihole" in line
    return tagged and bool(_DNSMASQ_FORWARD.search(line) or _DNSMASQ_REPLY.search(line))


def _timestamp(line: str) -> int | None:
    first = line[:1]
    if not first:
        return None
    if first == "[":
        match = _UNBOUND_TIME.match(line)
        return times.epoch_text(match.group(1)) if match else None
    if not (first.isdigit() or first == "<"):
        return None
    for pattern, parse in (
        (_ISO_TIME, times.iso),
        (_BIND_TIME, times.bind),
        (_WINDOWS_TIME, times.windows),
    ):
        match = pattern.match(line)
        if match:
            return parse(match.group(1))
    return None


def _add(found: list[LogObservable], observable: LogObservable | None) -> None:
    if observable is not None:
        found.append(observable)


def windows_name(encoded: str) -> str:
    """``(7)example(3)com(0)`` → ``example.com``."""
    return _LABEL_LENGTH.sub(".", encoded).strip(".")


class DnsParser:
    """Reads DNS server query logs; stateless."""

    def __init__(self, head: Sequence[str] = ()) -> None:
        del head

    def parse(self, line: str) -> Parsed:
        """See the module."""
        found: list[LogObservable] = []
        if "query" in line:
            match = _BIND.search(line)
            if match:
                _add(found, ip(match.group("client")))
                _add(found, domain(match.group("name")))
                return found, _timestamp(line)
            match = _DNSMASQ_QUERY.search(line)
            if match:
                _add(found, domain(match.group("name")))
                _add(found, ip(match.group("client")))
                return found, _timestamp(line)
        if "forwarded " in line:
            match = _DNSMASQ_FORWARD.search(line)
            if match:
                _add(found, domain(match.group("name")))
                return found, _timestamp(line)
        if " is " in line:
            match = _DNSMASQ_REPLY.search(line)
            if match:
                name = domain(match.group("name"))
                if name is not None:
                    found.append(name)
                    answer = match.group("answer")
                    if answer not in _BLOCKED:
                        _add(found, ip(answer))
                    return found, _timestamp(line)
        if "(0)" in line:
            match = _WINDOWS.search(line)
            if match:
                _add(found, ip(match.group("client")))
                _add(found, domain(windows_name(match.group("name"))))
                return found, _timestamp(line)
        if "info: " in line:
            match = _UNBOUND.search(line)
            if match:
                _add(found, ip(match.group("client")))
                _add(found, domain(match.group("name")))
                return found, _timestamp(line)
        return (words(line) if line.strip() else []), _timestamp(line)
