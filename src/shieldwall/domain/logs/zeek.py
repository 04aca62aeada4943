"""Zeek logs: the TSV writer (``#separator``/``#fields``/``#types`` headers) and the JSON writer.

Contract: header lines (``#…``) have no observables and set the state for the lines after
them (a concatenation of logs may change headers midway).  Fields are read by name, then by
type:

* ``ts`` → the timestamp (epoch seconds; ISO 8601 text in JSON logs written so);
* fields of type ``addr`` (``id.orig_h``, ``id.resp_h``, ``tx_hosts``, …) → IP addresses;
* ``query``, ``server_name``, ``san.dns`` → domains; ``answers`` → IPs or domains (CNAMEs);
* ``host`` → a domain or IP, and with ``uri`` (http.log) the URL ``http://host/uri``
  (an absolute ``uri``, as proxies see, is the URL itself); ``referrer``, ``san.uri`` → URLs;
* ``md5``, ``sha1``, ``sha256``, ``sha512`` → hashes (typed by length);
* ``mailfrom``, ``rcptto``, ``from``, ``to``, ``cc``, ``reply_to``, ``san.email`` → e-mails;
* ``msg``, ``sub`` (notice.log) → free text;
* identifiers (``uid``, ``fuid``…), certificate subjects, serials and fingerprints
  (``cert_chain_fps``), JA3/JA4/HASSH digests, user agents → nothing;
* other ``string`` fields → one careful value each; other types → nothing.

``set[…]``/``vector[…]`` fields are split on ``#set_separator``; ``#unset_field`` (``-``) and
``#empty_field`` (``(empty)``) mean no value.  JSON logs carry no types: keys are read by
name, other strings carefully (nested objects are flattened to dotted keys).  A data line
before any ``#fields`` header is read as free text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from shieldwall.domain.logs import times
from shieldwall.domain.logs.classify import (
    careful_value,
    domain,
    email,
    email_in,
    file_hash,
    host,
    http_url,
    ip,
    ip_or_domain,
    url,
    words,
)
from shieldwall.domain.logs.jsonl import load, strings, time_value
from shieldwall.domain.logs.model import LogObservable, Parsed

__all__ = ["ZeekParser", "is_zeek_json"]

Read = Callable[[str], Sequence[LogObservable]]


def _one(check: Callable[[str], LogObservable | None]) -> Read:
    """``check`` as a reader (cached: logs repeat their values)."""

    @lru_cache(maxsize=1 << 12)
    def read(raw: str) -> Sequence[LogObservable]:
        found = check(raw)
        return (found,) if found is not None else ()

    return read


def _uri(raw: str) -> Sequence[LogObservable]:  # a marker: combined with ``host``
    return ()


_IP = _one(ip)
_BY_NAME: dict[str, Read] = {
    "query": _one(domain),
    "server_name": _one(domain),
    "san.dns": _one(domain),
    "answers": _one(ip_or_domain),
    "host": _one(host),
    "uri": _uri,
    "referrer": url,
    "san.uri": url,
    "san.ip": _IP,
    "md5": _one(file_hash),
    "sha1": _one(file_hash),
    "sha256": _one(file_hash),
    "sha512": _one(file_hash),
    "mailfrom": _one(email_in),
    "rcptto": _one(email_in),
    "from": _one(email_in),
    "to": _one(email_in),
    "cc": _one(email_in),
    "reply_to": _one(email_in),
    "san.email": _one(email),
    "msg": words,
    "sub": words,
}
_SKIP = frozenset({
    "uid", "fuid", "uids", "fuids", "conn_uids", "parent_fuid", "orig_fuids", "resp_fuids",
    "cert_chain_fuids", "client_cert_chain_fuids", "history", "user_agent", "subject",
    "issuer", "client_subject", "client_issuer", "certificate.subject", "certificate.issuer",
    "certificate.serial", "fingerprint", "id", "ja3", "ja3s", "filename", "note", "name",
    # enumerations and descriptions that never hold an observable (skipped for speed)
    "proto", "service", "conn_state", "qclass_name", "qtype_name", "rcode_name", "method",
    "version", "status_msg", "info_msg", "cipher", "curve", "next_protocol", "ssl_history",
    "mime_type", "source", "analyzers", "tunnel_parents", "tags", "orig_mime_types",
    "resp_mime_types", "orig_filenames", "resp_filenames", "username", "password",
    "last_alert", "local_orig", "local_resp", "extracted", "action", "actions",
})  # fmt: skip
_SKIP_ENDINGS = ("uid", "uids", "_fps", "fingerprint")
# hex digests that are not file hashes: certificate, TLS and SSH client fingerprints
_DIGESTS = ("ja3", "ja4", "hassh", "fingerprint", "serial")
_ESCAPE = re.compile(r"\\x([0-9A-Fa-f]{2})")


@lru_cache(maxsize=1024)
def reader(name: str, zeek_type: str | None) -> Read | None:
    """How to read field ``name`` of Zeek type ``zeek_type`` (None: untyped JSON), if at all."""
    if name in _SKIP or name.endswith(_SKIP_ENDINGS) or any(part in name for part in _DIGESTS):
        return None
    known = _BY_NAME.get(name)
    if known is not None:
        return known
    base = _element(zeek_type) if zeek_type is not None else None
    if base == "addr":
        return _IP
    if zeek_type is None or base == "string":
        return careful_value
    return None


def _element(zeek_type: str) -> str:
    """``set[addr]`` → ``addr``; a scalar type unchanged."""
    if zeek_type.endswith("]") and "[" in zeek_type:
        return zeek_type[zeek_type.index("[") + 1 : -1]
    return zeek_type


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)


def is_zeek_json(document: object) -> bool:
    """True for an object of a Zeek JSON log (``ts`` with ``uid``, ``fuid`` or ``id.orig_h``)."""
    if not isinstance(document, dict) or "ts" not in document:
        return False
    return (
        "uid" in document
        or "fuid" in document
        or "id.orig_h" in document
        or isinstance(document.get("id"), dict)
    )


class ZeekParser:
    """Reads Zeek TSV and JSON logs; keeps the latest TSV header."""

    def __init__(self, head: Sequence[str] = ()) -> None:
        del head
        self._separator = "\t"
        self._set_separator = ","
        self._empty = "(empty)"
        self._unset = "-"
        self._fields: list[str] = []
        self._types: list[str] = []
        # (column, read, split into items) in column order; the timestamp and host columns
        self._columns: tuple[tuple[int, Read, bool], ...] | None = None
        self._ts: int | None = None
        self._host: int | None = None

    def parse(self, line: str) -> Parsed:
        """See the module."""
        if not line:
            return [], None
        if line[0] == "#":
            self._header(line)
            return [], None
        if line[0] == "{":
            return self._json(line)
        columns = self._columns
        if columns is None:
            return words(line), None
        row = line.split(self._separator)
        width = len(row)
        unset, empty, split_on = self._unset, self._empty, self._set_separator
        found: list[LogObservable] = []
        for index, read, split in columns:
            if index >= width:
                break
            cell = row[index]
            if not cell or cell in (unset, empty):
                continue
            if read is _uri:
                if self._host is not None and self._host < width:
                    found.extend(http_url(self._host_cell(row[self._host]), cell))
            elif split:
                for item in cell.split(split_on):
                    found.extend(read(item))
            else:
                found.extend(read(cell))
        stamp = None
        if self._ts is not None and self._ts < width:
            stamp = times.epoch_text(row[self._ts])
        return found, stamp

    def _host_cell(self, cell: str) -> str:
        return "" if cell in (self._unset, self._empty) else cell

    def _header(self, line: str) -> None:
        if line.startswith("#separator"):
            self._separator = _unescape(line[len("#separator") :].strip(" ")) or "\t"
            return
        key, _, rest = line.partition(self._separator)
        if key == "#set_separator":
            self._set_separator = _unescape(rest) or ","
        elif key == "#empty_field":
            self._empty = rest
        elif key == "#unset_field":
            self._unset = rest
        elif key == "#fields":
            self._fields = rest.split(self._separator)
            self._types = []
            self._plan()
        elif key == "#types":
            self._types = rest.split(self._separator)
            self._plan()

    def _plan(self) -> None:
        fields = self._fields
        types: Sequence[str | None] = self._types
        if len(types) != len(fields):
            types = [None] * len(fields)
        columns: list[tuple[int, Read, bool]] = []
        self._ts = self._host = None
        for index, (name, zeek_type) in enumerate(zip(fields, types, strict=True)):
            if name == "ts":
                self._ts = index
                continue
            if name == "host":
                self._host = index
            read = reader(name, zeek_type if zeek_type is not None else "string")
            if read is not None:
                split = zeek_type is not None and zeek_type.startswith(("set[", "vector["))
                columns.append((index, read, split))
        self._columns = tuple(columns)

    def _json(self, line: str) -> Parsed:
        document = load(line)
        if not isinstance(document, dict):
            found: list[LogObservable] = []
            if document is None:
                return words(line), None
            strings(document, found)
            return found, None
        found = []
        stamp = None
        pending: list[tuple[str, object]] = list(reversed(document.items()))
        while pending:
            key, item = pending.pop()
            if isinstance(item, dict):
                pending.extend(
                    (f"{key}.{inner}", deeper) for inner, deeper in reversed(item.items())
                )
                continue
            if key == "ts":
                stamp = time_value(item)
                continue
            read = reader(key, None)
            if read is None:
                continue
            if read is _uri:
                host_value = document.get("host")
                if isinstance(item, str) and isinstance(host_value, str):
                    found.extend(http_url(host_value, item))
                continue
            for raw in item if isinstance(item, list) else (item,):
                if isinstance(raw, str):
                    found.extend(read(raw))
        return found, stamp
