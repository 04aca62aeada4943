"""Typed TAXII 2.1 object queries and stateless paging cursors (TAXII 2.1 §3.4, §3.6).

``web/`` parses query strings into an ``ObjectQuery``; nothing below it sees
``match[...]``. A ``next`` token encodes only the position of the last row served
(``date_added``, ``seq``) and a fingerprint of the filters, so any app process can serve
any page and a page costs O(page).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.timestamps import parse_timestamp

DEFAULT_PAGE_LIMIT = 1000
MAX_PAGE_LIMIT = 10000
_STIX_ID = re.compile(
    r"^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}"
    r"-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
_STIX_TYPE = re.compile(r"^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]$")
_SPEC_VERSIONS = frozenset({"2.0", "2.1"})


@dataclass(frozen=True, slots=True)
class VersionFilter:
    """``match[version]``: any union of ``first``, ``last``, ``all`` and exact versions."""

    first: bool = False
    last: bool = True
    all: bool = False
    exact: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Cursor:
    """Position after which the next page starts."""

    date_added: int
    seq: int


@dataclass(frozen=True, slots=True)
class Probe:
    """One lookup in the index: ``kind`` with ``key`` in ``keys``, or ``low <= key < high``
    when ``keys`` is empty. ``relation`` says what a hit is to the
    probed key (``same``, ``inside``, ``contains``, ``subdomain``, ``parent``)."""

    kind: str
    keys: tuple[str, ...] = ()
    low: str | None = None
    high: str | None = None
    relation: str = "same"


@dataclass(frozen=True, slots=True)
class ObjectQuery:
    """Filters for objects and manifest listings."""

    ids: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    versions: VersionFilter = field(default_factory=VersionFilter)
    spec_versions: frozenset[str] = frozenset()
    added_after: int | None = None
    limit: int = DEFAULT_PAGE_LIMIT
    cursor: Cursor | None = None
    text: str | None = None
    tlps: frozenset[int] = frozenset()
    # Internal filters (no TAXII parameter sets them): versions that refer to one of these
    # ids, and versions holding an observable one of these probes finds.
    refers_to: frozenset[str] = frozenset()
    observables: tuple[Probe, ...] = ()
    # feed filters (internal too): versions an attributed submitter of one of these sectors
    # / countries added (an object anonymous to members has no submitter and never matches),
    # and newest-first order (the same keyset paging, backwards; ``cursor`` then means
    # "strictly before").
    submitter_sectors: frozenset[str] = frozenset()
    submitter_countries: frozenset[str] = frozenset()
    newest_first: bool = False

    def fingerprint(self) -> str:
        """A short digest of the filters (not the position), bound into ``next`` tokens."""
        parts = [
            ",".join(sorted(self.ids)),
            ",".join(sorted(self.types)),
            f"{self.versions.first}{self.versions.last}{self.versions.all}",
            ",".join(str(v) for v in sorted(self.versions.exact)),
            ",".join(sorted(self.spec_versions)),
            str(self.added_after),
            self.text or "",
            ",".join(str(t) for t in sorted(self.tlps)),
            ",".join(sorted(self.refers_to)),
            repr(self.observables),
        ]
        if self.submitter_sectors or self.submitter_countries or self.newest_first:
            # feed filters (only when set, so tokens issued without them stay valid)
            parts.append(",".join(sorted(self.submitter_sectors)))
            parts.append(",".join(sorted(self.submitter_countries)))
            parts.append(str(self.newest_first))
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]


def _split(value: str | None) -> list[str]:
    if value is None:
        return []
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_ids(value: str | None) -> frozenset[str]:
    """``match[id]``: a comma-separated list of STIX ids."""
    ids = _split(value)
    for item in ids:
        if not _STIX_ID.match(item):
            raise InvalidInput(f"match[id]: {item!r} is not a STIX identifier (type--UUID)")
    return frozenset(ids)


def parse_types(value: str | None) -> frozenset[str]:
    """``match[type]``: a comma-separated list of STIX object types."""
    types = _split(value)
    for item in types:
        if not _STIX_TYPE.match(item):
            raise InvalidInput(f"match[type]: {item!r} is not a STIX object type")
    return frozenset(types)


def parse_versions(value: str | None) -> VersionFilter:
    """``match[version]``: ``last`` (default), ``first``, ``all`` or timestamps, comma-separated."""
    items = _split(value)
    if not items:
        return VersionFilter()
    first = last = every = False
    exact: set[int] = set()
    for item in items:
        if item == "first":
            first = True
        elif item == "last":
            last = True
        elif item == "all":
            every = True
        else:
            exact.add(parse_timestamp(item, "match[version]"))
    return VersionFilter(first=first, last=last, all=every, exact=frozenset(exact))


def parse_spec_versions(value: str | None) -> frozenset[str]:
    """``match[spec_version]``: ``2.0`` and/or ``2.1``."""
    versions = _split(value)
    for item in versions:
        if item not in _SPEC_VERSIONS:
            raise InvalidInput(f"match[spec_version]: {item!r} is not a STIX version (2.0, 2.1)")
    return frozenset(versions)


def parse_limit(value: str | None) -> int:
    """``limit``: a positive integer; values above the server maximum are lowered to it."""
    if value is None or value == "":
        return DEFAULT_PAGE_LIMIT
    if not value.isdigit() or int(value) < 1:
        raise InvalidInput(f"limit must be a positive integer, not {value!r}")
    return min(int(value), MAX_PAGE_LIMIT)


def parse_added_after(value: str | None) -> int | None:
    """``added_after``: a timestamp; only objects added strictly later are returned."""
    if value is None or value == "":
        return None
    return parse_timestamp(value, "added_after")


def encode_cursor(cursor: Cursor, fingerprint: str) -> str:
    """The opaque ``next`` token for ``cursor`` under the filters digested as ``fingerprint``."""
    raw = f"1.{cursor.date_added}.{cursor.seq}.{fingerprint}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, fingerprint: str) -> Cursor:
    """Decode a ``next`` token; raise ``InvalidInput`` when it is malformed or was issued
    for different filters."""
    try:
        padded = token + "=" * (-len(token) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        version, date_added, seq, digest = raw.split(".")
        if version != "1":
            raise ValueError(version)
        cursor = Cursor(int(date_added), int(seq))
        if not (-(2**63) <= cursor.date_added < 2**63 and 0 <= cursor.seq < 2**63):
            raise ValueError("position out of range")
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidInput(f"next token {token[:40]!r} is not one this server issued") from None
    if digest != fingerprint:
        raise InvalidInput(
            "next token was issued for different filters: repeat the request's match[...],"
            " added_after and other filters unchanged when following next"
        )
    return cursor
