"""Suricata EVE JSON (``eve.json``): one event per line.

Contract: the timestamp is ``timestamp`` (ISO 8601 with offset).  Observables, in this
order: ``src_ip``, ``dest_ip``;
``alert.source.ip``/``alert.target.ip``; DNS (``dns.rrname``,
``dns.rdata``, ``dns.queries[].rrname``, ``dns.answers[].rrname``/``rdata``, every list of
``dns.grouped``; names → domains, addresses → IPs); HTTP (``http.hostname`` → domain or IP,
``http.url`` → URL ``http://hostname/url``, an absolute ``url`` as it is;
``http.http_refer`` → URL); TLS (``tls.sni`` → domain); files (``fileinfo.md5``, ``sha1``,
``sha256`` → hashes); mail (``smtp.helo`` → host, ``smtp.mail_from``/``rcpt_to``,
``email.from``/``to``/``cc`` → e-mails).  Other members (signatures, flow counters, JA3
digests, certificate subjects) are not read.  A line that is not a JSON object is read as
JSON lines are (see ``jsonl``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from shieldwall.domain.logs import times
from shieldwall.domain.logs.classify import (
    domain,
    email_in,
    file_hash,
    host,
    http_url,
    ip,
    ip_or_domain,
    url,
)
from shieldwall.domain.logs.jsonl import JsonLinesParser, load
from shieldwall.domain.logs.model import LogObservable, Parsed

__all__ = ["SuricataParser", "is_eve"]

Check = Callable[[str], LogObservable | None]


def is_eve(document: object) -> bool:
    """True for an EVE event (an object with ``event_type``)."""
    return isinstance(document, dict) and isinstance(document.get("event_type"), str)


def _each(raw: object, check: Check, found: list[LogObservable]) -> None:
    """Append what ``check`` finds in a string, or in each string of a list."""
    if type(raw) is str:
        observable = check(raw)
        if observable is not None:
            found.append(observable)
    elif type(raw) is list:
        for item in raw:
            if type(item) is str:
                observable = check(item)
                if observable is not None:
                    found.append(observable)


def _alert(alert: dict[str, object], found: list[LogObservable]) -> None:
    for key in ("source", "target"):
        party = alert.get(key)
        if type(party) is dict:
            _each(party.get("ip"), ip, found)


def _dns(dns: dict[str, object], found: list[LogObservable]) -> None:
    _each(dns.get("rrname"), domain, found)
    _each(dns.get("rdata"), ip_or_domain, found)
    for key in ("queries", "answers"):
        records = dns.get(key)
        if type(records) is list:
            for record in records:
                if type(record) is dict:
                    _each(record.get("rrname"), domain, found)
                    _each(record.get("rdata"), ip_or_domain, found)
    grouped = dns.get("grouped")
    if type(grouped) is dict:
        for items in grouped.values():
            _each(items, ip_or_domain, found)


def _http(http: dict[str, object], found: list[LogObservable]) -> None:
    hostname = http.get("hostname")
    if type(hostname) is not str:
        hostname = ""
    _each(hostname, host, found)
    target = http.get("url")
    if type(target) is str:
        found.extend(http_url(hostname, target))
    referer = http.get("http_refer")
    if type(referer) is str:
        found.extend(url(referer))


def _tls(tls: dict[str, object], found: list[LogObservable]) -> None:
    _each(tls.get("sni"), domain, found)


def _fileinfo(fileinfo: dict[str, object], found: list[LogObservable]) -> None:
    for key in ("md5", "sha1", "sha256"):
        _each(fileinfo.get(key), file_hash, found)


def _smtp(smtp: dict[str, object], found: list[LogObservable]) -> None:
    _each(smtp.get("helo"), host, found)
    _each(smtp.get("mail_from"), email_in, found)
    _each(smtp.get("rcpt_to"), email_in, found)


def _email(mail: dict[str, object], found: list[LogObservable]) -> None:
    for key in ("from", "to", "cc"):
        _each(mail.get(key), email_in, found)


_SECTIONS: dict[str, Callable[[dict[str, object], list[LogObservable]], None]] = {
    "alert": _alert,
    "dns": _dns,
    "http": _http,
    "tls": _tls,
    "fileinfo": _fileinfo,
    "smtp": _smtp,
    "email": _email,
}


class SuricataParser:
    """Reads EVE JSON lines; stateless."""

    def __init__(self, head: Sequence[str] = ()) -> None:
        self._fallback = JsonLinesParser(head)

    def parse(self, line: str) -> Parsed:
        """See the module."""
        document = load(line)
        if not isinstance(document, dict):
            return self._fallback.parse(line)
        found: list[LogObservable] = []
        for key in ("src_ip", "dest_ip"):
            raw = document.get(key)
            if type(raw) is str:
                address = ip(raw)
                if address is not None:
                    found.append(address)
        for key, read in _SECTIONS.items():
            section = document.get(key)
            if section is not None and type(section) is dict:
                read(section, found)
        stamp = document.get("timestamp")
        return found, times.iso(stamp) if type(stamp) is str else None
