"""MISP warning lists: does a value look like a known false positive (public resolver, private
range, top site, empty-file hash, …)?

Data.  The 119 lists that ``pymispwarninglists`` packages (``data/misp-warninglists/lists/<id>/
list.json``) are read as package resources (through the import system's resource reader, as
``importlib.resources`` does), lazily, on the first call that needs them.  Neither the package's
``WarningLists`` class (seconds to load, exact matching only) nor its ``__init__`` (which imports
``jsonschema``: almost two seconds) is run.  :func:`available_lists` describes every list (its
``id`` is the directory name, e.g. ``rfc1918``; its ``name`` the list's own name);
:func:`warning_lists` compiles a selection: by default every list of at most ``max_entries``
entries (100 000: the million-entry Tranco and Chrome CrUX top-site lists and the 197 000
benign-file hashes are left out unless included by name or id).  Compiled selections are cached
per process, so hubs share them.  ``DEFAULT_EXCLUDED_LISTS`` names the lists of services
attackers use too (VPN and hosting ranges, dynamic DNS, shorteners, …), which a hub should pass
as ``exclude``.

Values are checked as lookup *items* (``"kind|value"``, normalised by
:func:`shieldwall.domain.lookup.normalise`; kinds ``ipv4``, ``ipv6``, ``domain``, ``url``,
``email`` and lower-case hash names such as ``md5``, ``sha256``, ``ssdeep``).  A list applies to
a kind when its ``matching_attributes`` names a MISP attribute type of that kind (``ip-src``,
``ip-dst`` → IPs; ``domain``, ``hostname`` → ``domain``; ``url``; ``email-src``, ``email-dst``,
``target-email``, … → ``email``; ``md5``, ``sha256``, … → that hash); a composite type applies
to the kinds of its parts, as MISP splits ``domain|ip`` or ``filename|md5`` values and checks
each part (so ``domain|ip`` applies to domains and IPs, ``ip-dst|port`` to IPs).  A list without
``matching_attributes`` (or with ``ALL``) applies to every kind.  Within a list, MISP's matching
(``app/Model/Warninglist.php``) decides, with these refinements:

* ``cidr``: the address lies in a listed range; a network item (``10.1.0.0/16``) hits only when
  it lies wholly inside a listed range.  ``matched`` is the range in canonical form.
* ``string``: the value equals an entry, ignoring case (MISP compares case-sensitively; our
  items are lower-cased, the lists are not always).  Entries written with a leading dot
  (``.google.com`` in the ``google`` list) therefore match nothing, exactly as in MISP.
* ``hostname``: the host (the value itself, a URL's host, an e-mail address's domain) or one of
  its parent domains equals an entry (entries lower-cased, outer dots removed).  An IP address
  has no parent domains: it must equal an entry.  ``matched`` is the most specific entry.
* ``substring``: an entry occurs in the value, ignoring case; empty entries are ignored (they
  would match everything).  ``matched`` is the leftmost, then longest, entry found.
* ``regex``: a PCRE entry written ``/…/flags`` matches (``re.search``; flags ``i``, ``m``, ``s``,
  ``x`` honoured, ``u``, ``g`` and ``D`` ignored); entries Python cannot compile are skipped.

Beyond MISP, a URL's host is also checked as an item of its own (``domain``, ``ipv4`` or
``ipv6``) against the lists of that kind, so ``https://8.8.8.8/x`` hits the public-resolver
list.  An e-mail address is checked as an address only: the lists that apply to addresses
(disposable-mail domains as substrings, role accounts as a regex) already look at its domain,
and checking that domain against top-site lists would flag every webmail account.

A value hits a list at most once; :class:`WarningHit` names the list, its description, what
matched and the item that matched (the checked item, or its host's item).  Hits are ordered
by list name (ignoring case, then id).  Malformed values, items, patterns and objects give no
hits; nothing here raises for them.  Pure: no I/O besides reading package data, no clock, no
randomness.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import orjson

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.lookup import guess, normalise
from shieldwall.domain.observables import object_items, pattern_items

__all__ = [
    "DEFAULT_EXCLUDED_LISTS",
    "DEFAULT_MAX_ENTRIES",
    "LIST_TYPES",
    "WarningHit",
    "WarningListInfo",
    "WarningLists",
    "available_lists",
    "misp_type_kinds",
    "object_items",
    "pattern_items",
    "warning_lists",
]

DEFAULT_MAX_ENTRIES = 100_000
# Lists (by id) a hub had better not check: services attackers use as much as anyone (cloud,
# CDN and hosting ranges, VPN and Tor exits, dynamic DNS, URL shorteners, IPFS gateways,
# link-in-bio pages, "living off trusted sites", disposable mail), so a hit is no sign that a
# value is benign.  ``warning_lists`` does not apply it by itself; callers pass it as
# ``exclude`` (the hub's settings do by default).
DEFAULT_EXCLUDED_LISTS: tuple[str, ...] = (
    # Services attackers use too, where a hit says nothing about a value being benign.
    # Cloud and CDN ranges stay checked: flagging them is what MISP users expect, and a
    # submitter confirms an indicator that really is hosted there.
    "vpn-ipv4", "vpn-ipv6", "dynamic-dns", "url-shortener", "public-ipfs-gateways",
    "link-in-bio", "lots-project", "disposable-email", "parking-domain", "parking-domain-ns",
)  # fmt: skip
LIST_TYPES = frozenset(("cidr", "string", "hostname", "substring", "regex"))

_PACKAGE = "pymispwarninglists"
_LISTS_DIR = ("data", "misp-warninglists", "lists")

_IP_KINDS = frozenset(("ipv4", "ipv6"))
_EMAIL_TYPES = (
    "email", "email-src", "email-dst", "email-reply-to", "target-email",
    "whois-registrant-email", "dns-soa-email",
)  # fmt: skip
# MISP attribute types (single, or one part of a composite type) → hub kinds
_MISP_KINDS: dict[str, frozenset[str]] = {
    "ip-src": _IP_KINDS,
    "ip-dst": _IP_KINDS,
    "ip": _IP_KINDS,  # the second part of ``domain|ip``
    "domain": frozenset(("domain",)),
    "hostname": frozenset(("domain",)),
    "url": frozenset(("url",)),
    **dict.fromkeys(_EMAIL_TYPES, frozenset(("email",))),
}
# file hash types, written as the hub writes hash kinds (``hash_name(...).lower()``)
_HASH_KINDS = frozenset((
    "md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha512224", "sha512256", "sha3224",
    "sha3256", "sha3384", "sha3512", "ssdeep", "tlsh", "imphash", "impfuzzy", "authentihash",
    "pehash", "vhash", "telfhash", "cdhash",
))  # fmt: skip
_SUBSTRING_WIDTH = 4  # at most: the width of the character grams that find substring entries
_URL_HOST_END = re.compile(r"[/?#]")
_COARSE = {4: 16, 6: 32}  # per IP family: ranges at least this long are indexed by this prefix

_Record = Callable[[tuple[int, ...], str], None]


# ---------------------------------------------------------------------------------- types


@dataclass(frozen=True, slots=True)
class WarningListInfo:
    """One MISP warning list as packaged.

    ``id`` is its directory in the MISP repository (``rfc1918``), ``name`` its own name
    (``List of RFC 1918 CIDR blocks``); ``entries`` counts the entries as written;
    ``kinds`` is the set of hub kinds it applies to, or ``None`` for every kind.
    """

    id: str
    name: str
    description: str
    type: str
    version: int
    entries: int
    matching_attributes: tuple[str, ...]
    kinds: frozenset[str] | None

    def applies_to(self, kind: str) -> bool:
        """Whether values of hub kind ``kind`` are checked against this list."""
        return self.kinds is None or kind in self.kinds


@dataclass(frozen=True, slots=True)
class WarningHit:
    """A value found on a warning list.

    ``matched`` is what matched, in the form compared: the range (``8.8.8.0/24``), the
    entry lower-cased (hostname entries without outer dots), or the regex as written.
    ``item`` is the item that matched: the one checked or, for a URL, its host's item.
    """

    list_id: str
    list_name: str
    description: str
    matched: str
    item: str


def misp_type_kinds(misp_type: str) -> frozenset[str]:
    """The hub kinds a MISP attribute type stands for (a composite type: those of its parts);
    empty for types no hub kind corresponds to (``filename``, ``port``, ``phone-number``)."""
    kinds: set[str] = set()
    for part in misp_type.strip().lower().split("|"):
        found = _MISP_KINDS.get(part)
        if found is not None:
            kinds |= found
            continue
        name = part.replace("-", "").replace("_", "").replace("/", "")
        if name in _HASH_KINDS:
            kinds.add(name)
    return frozenset(kinds)


def _list_kinds(matching_attributes: Sequence[str]) -> frozenset[str] | None:
    if not matching_attributes or "ALL" in matching_attributes:
        return None
    kinds: set[str] = set()
    for misp_type in matching_attributes:
        kinds |= misp_type_kinds(misp_type)
    return frozenset(kinds)


# ------------------------------------------------------------------------- reading lists


def _package_files() -> Traversable:
    """The package's files, found without running its ``__init__`` (which imports
    ``jsonschema`` and ``requests``: close to two seconds); ``importlib.resources`` does the
    same after importing the package."""
    spec = importlib.util.find_spec(_PACKAGE)
    get_reader = getattr(spec.loader, "get_resource_reader", None) if spec else None
    reader = get_reader(_PACKAGE) if get_reader is not None else None
    files = getattr(reader, "files", None)
    root = files() if files is not None else None
    return root if isinstance(root, Traversable) else resources.files(_PACKAGE)


def _list_files() -> list[tuple[str, Traversable]]:
    root = _package_files().joinpath(*_LISTS_DIR)
    found = []
    for directory in root.iterdir():
        document = directory.joinpath("list.json")
        if document.is_file():
            found.append((directory.name, document))
    return sorted(found, key=lambda pair: pair[0])


_LIST_KEY = re.compile(rb'"list"\s*:\s*\[')


def _header_and_count(raw: bytes) -> tuple[dict[str, Any], int]:
    """The document without its ``list`` (as ``[]``) and the number of entries, without
    building a million strings when the text has no escapes (then every ``"`` delimits a
    string and ``"list": [`` can only be the key)."""
    if b"\\" not in raw:
        key = _LIST_KEY.search(raw)
        if key is not None:
            start = end = key.end()
            while True:
                end = raw.find(b"]", end)
                if end < 0 or raw.count(b'"', start, end) % 2 == 0:
                    break
                end += 1
            if end >= 0:
                header = orjson.loads(raw[: key.start()] + b'"list":[]' + raw[end + 1 :])
                if isinstance(header, dict):
                    return header, raw.count(b'"', start, end) // 2
    document = orjson.loads(raw)
    if not isinstance(document, dict) or not isinstance(document.get("list"), list):
        raise ValueError("not a warning list")
    count = len(document["list"])
    document["list"] = []
    return document, count


def _info(list_id: str, document: Mapping[str, Any], entries: int) -> WarningListInfo:
    """The description of a list document; ``ValueError`` if it is not one."""
    name, description, kind = (document.get(k) for k in ("name", "description", "type"))
    attributes = document.get("matching_attributes") or []
    version = document.get("version", 0)
    if not (isinstance(name, str) and isinstance(description, str) and kind in LIST_TYPES):
        raise ValueError(f"warning list {list_id!r} has no name, description or known type")
    if not isinstance(attributes, list) or not all(isinstance(a, str) for a in attributes):
        raise ValueError(f"warning list {list_id!r} has malformed matching_attributes")
    return WarningListInfo(
        id=list_id,
        name=name,
        description=description,
        type=str(kind),
        version=version if isinstance(version, int) else 0,
        entries=entries,
        matching_attributes=tuple(attributes),
        kinds=_list_kinds(attributes),
    )


@lru_cache(maxsize=1)
def available_lists() -> tuple[WarningListInfo, ...]:
    """Every packaged warning list, by id (files that are not valid lists are left out).

    Reads all packaged files once per process (about 65 MB, a few tenths of a second)."""
    infos = []
    for list_id, document in _list_files():
        try:
            header, count = _header_and_count(document.read_bytes())
            infos.append(_info(list_id, header, count))
        except (ValueError, orjson.JSONDecodeError):
            continue
    return tuple(infos)


def _read_list(list_id: str) -> dict[str, Any]:
    path = _package_files().joinpath(*_LISTS_DIR, list_id, "list.json")
    document = orjson.loads(path.read_bytes())
    if not isinstance(document, dict):
        raise ValueError(f"warning list {list_id!r} is not a JSON object")
    return document


# ------------------------------------------------------------------------- IP ranges


def _ipv4_network(text: str) -> tuple[int, int] | None:
    """``a.b.c.d`` or ``a.b.c.d/n`` → (address as an int, prefix length); host bits kept."""
    address, slash, length = text.partition("/")
    parts = address.split(".")
    if len(parts) != 4:
        return None
    number = 0
    for part in parts:
        if not (part.isascii() and part.isdigit()) or len(part) > 3 or part[0] == "0" != part:
            return None
        octet = int(part)
        if octet > 255:
            return None
        number = number << 8 | octet
    if not slash:
        return number, 32
    if not (length.isascii() and length.isdigit()) or int(length) > 32 or len(length) > 2:
        return None
    return number, int(length)


def _ipv6_network(text: str) -> tuple[int, int] | None:
    """``addr`` or ``addr/n`` → (address as an int, prefix length); host bits kept."""
    address, slash, length = text.partition("/")
    if slash and not (length.isascii() and length.isdigit() and len(length) <= 3):
        return None
    prefix = int(length) if slash else 128
    try:
        return (int(ipaddress.IPv6Address(address)), prefix) if prefix <= 128 else None
    except ValueError:
        return None


def _ip_network(text: str) -> tuple[int, int, int] | None:
    """(family, address int, prefix length) of an address or network text, or None."""
    parsed = _ipv6_network(text) if ":" in text else _ipv4_network(text)
    return None if parsed is None else ((6 if ":" in text else 4), *parsed)


_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_V4_ADDRESS = rf"(?:{_OCTET}\.){{3}}{_OCTET}"
_V4_NET = rf"{_V4_ADDRESS}/(?:3[0-2]|[12]?\d)"
_V4_ADDRESS_LINES = re.compile(rf"{_V4_ADDRESS}(?:\n{_V4_ADDRESS})*", re.ASCII)
_V4_NET_LINES = re.compile(rf"{_V4_NET}(?:\n{_V4_NET})*", re.ASCII)
_V4_ADDRESS_TEXT = re.compile(_V4_ADDRESS, re.ASCII)


def _ipv4_entries(texts: Sequence[str]) -> tuple[list[str], list[tuple[int, int]]]:
    """A list's IPv4 entries as canonical address texts (``a.b.c.d`` and ``a.b.c.d/32``) and
    (address, prefix length) networks; malformed entries are dropped.  A hundred thousand
    entries take a few C-level passes when all of them are well formed."""
    addresses = [t.removesuffix("/32") for t in texts if "/" not in t or t.endswith("/32")]
    if addresses and _V4_ADDRESS_LINES.fullmatch("\n".join(addresses)) is None:
        addresses = [text for text in addresses if _V4_ADDRESS_TEXT.fullmatch(text)]
    networks = [text for text in texts if "/" in text and not text.endswith("/32")]
    if not networks:
        return addresses, []
    joined = "\n".join(networks)
    if _V4_NET_LINES.fullmatch(joined) is None:
        return addresses, [n for n in map(_ipv4_network, networks) if n is not None]
    numbers = iter(map(int, joined.replace("/", ".").replace("\n", ".").split(".")))
    quintets = zip(numbers, numbers, numbers, numbers, numbers, strict=True)
    return addresses, [(a << 24 | b << 16 | c << 8 | d, n) for a, b, c, d, n in quintets]


def _range_text(family: int, bits: int, length: int) -> str:
    """The canonical text of the range whose first ``length`` bits are ``bits``."""
    if family == 4:
        address = bits << (32 - length)
        octets = (address >> 24, address >> 16 & 255, address >> 8 & 255, address & 255)
        return "{}.{}.{}.{}/{}".format(*octets, length)
    return str(ipaddress.IPv6Network((bits << (128 - length), length)))


# -------------------------------------------------------------------------- regex entries

_PCRE_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
_PCRE_IGNORED = frozenset("ugD")
_CLOSING = {"(": ")", "[": "]", "{": "}", "<": ">"}


def _pcre(entry: str) -> re.Pattern[str] | None:
    """A PHP ``preg_match`` pattern (``/body/flags``) as a Python regex, or None."""
    text = entry.strip()
    if len(text) < 2 or text[0].isalnum() or text[0] in "\\ ":
        return None
    closing = _CLOSING.get(text[0], text[0])
    end = text.rfind(closing)
    if end <= 0:
        return None
    flags = 0
    for flag in text[end + 1 :]:
        if flag in _PCRE_FLAGS:
            flags |= _PCRE_FLAGS[flag]
        elif flag not in _PCRE_IGNORED:
            return None
    try:
        return re.compile(text[1:end], flags)
    except (re.error, RecursionError, OverflowError):
        return None


# ------------------------------------------------------------------------- the compiled form


def _host_of(kind: str, text: str) -> str:
    """What hostname lists look at: a URL's host, an e-mail address's domain, else the value."""
    if kind == "url":
        rest = text.partition("://")[2]
        host = _URL_HOST_END.split(rest, maxsplit=1)[0].rpartition("@")[2]
        if host.startswith("["):
            return host[1:].partition("]")[0]
        return host.partition(":")[0].rstrip(".")
    if kind == "email":
        return text.rpartition("@")[2].rstrip(".")
    return text


def _url_host_item(url: str) -> str | None:
    host = _host_of("url", url)
    if not host:
        return None
    if ":" in host:
        return normalise("ipv6", host)
    return normalise("ipv4", host) or normalise("domain", host)


class WarningLists:
    """A compiled set of warning lists; immutable, so one instance serves every thread.

    Build it with :func:`warning_lists` (packaged lists, cached) or directly from MISP list
    documents (``{id: list.json content}``), e.g. for lists of one's own.  An item costs a
    few dict look-ups per prefix length, parent domain or character, never a pass over a
    list: address ranges are indexed by prefix length, strings and hostnames by dict,
    substrings by their first characters (some microseconds per item in all).
    """

    def __init__(self, documents: Mapping[str, Mapping[str, Any]]) -> None:
        """Compile ``documents`` (list id → MISP ``list.json`` content); ``InvalidInput`` if
        one is not a warning list.  Entries that cannot be read (a range that is no range,
        a regex Python cannot compile) are skipped."""
        infos: list[WarningListInfo] = []
        self._strings: dict[str, tuple[int, ...]] = {}
        self._hosts: dict[str, tuple[int, ...]] = {}
        self._v4_addresses: dict[str, tuple[int, ...]] = {}  # the /32 ranges, as text
        nets: dict[int, dict[int, dict[int, tuple[int, ...]]]] = {4: {}, 6: {}}
        substrings: dict[str, tuple[int, ...]] = {}
        regexes: list[tuple[int, str, re.Pattern[str]]] = []
        # one document at a time (a lazy mapping need not hold them all)
        for index, (list_id, document) in enumerate(documents.items()):
            entries = document.get("list")
            if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
                raise InvalidInput(f"warning list {list_id!r} has no list of strings")
            try:
                info = _info(list_id, document, len(entries))
            except ValueError as error:
                raise InvalidInput(str(error)) from None
            infos.append(info)
            if info.kinds is not None and not info.kinds:
                continue  # applies to no hub kind (phone numbers, Azure application ids)
            if info.type == "cidr":
                self._add_ranges(index, entries, nets)
            elif info.type == "string":
                self._add_keys(self._strings, index, (e.strip().lower() for e in entries))
            elif info.type == "hostname":
                self._add_keys(self._hosts, index, (e.strip().strip(".").lower() for e in entries))
            elif info.type == "substring":
                self._add_keys(substrings, index, (e.strip().lower() for e in entries))
            else:
                for entry in entries:
                    compiled = _pcre(entry)
                    if compiled is not None:
                        regexes.append((index, entry, compiled))
        order = sorted(range(len(infos)), key=lambda i: (infos[i].name.casefold(), infos[i].id))
        self.lists: tuple[WarningListInfo, ...] = tuple(infos[i] for i in order)
        self._infos = tuple(infos)  # by index
        self._kinds = tuple(info.kinds for info in infos)
        self._rank = {index: rank for rank, index in enumerate(order)}
        # longest prefix first, so a hit names the most specific range; the prefixes of
        # ``_COARSE`` bits that hold a longer range let most addresses skip the long lengths
        self._nets = {
            family: tuple(sorted(by_length.items(), reverse=True))
            for family, by_length in nets.items()
        }
        self._coarse = {
            family: frozenset(
                bits >> (length - _COARSE[family])
                for length, by_bits in by_length.items()
                if length >= _COARSE[family]
                for bits in by_bits
            )
            for family, by_length in nets.items()
        }
        substrings.pop("", None)
        # every prefix (of at least ``width`` characters) of an entry, so a match is found by
        # extending a ``width``-gram of the value one character at a time
        width = min([_SUBSTRING_WIDTH, *map(len, substrings)])
        self._substring_width = width
        self._substrings = substrings
        self._substring_prefixes = frozenset(
            entry[:end] for entry in substrings for end in range(width, len(entry) + 1)
        )
        self._regexes = tuple(regexes)
        self._types_by_kind = {
            kind: self._types_for(kind)
            for kind in (*_IP_KINDS, "domain", "url", "email", *_HASH_KINDS)
        }

    def __repr__(self) -> str:
        return f"<WarningLists of {len(self.lists)} lists>"

    def _types_for(self, kind: str) -> frozenset[str]:
        """The types of the loaded lists that apply to ``kind``."""
        return frozenset(info.type for info in self.lists if info.applies_to(kind))

    def _add_keys(
        self, index_: dict[str, tuple[int, ...]], list_index: int, keys: Iterable[str]
    ) -> None:
        single = (list_index,)
        for key in keys:
            present = index_.get(key)
            if present is None:
                index_[key] = single
            elif present[-1] != list_index:
                index_[key] = (*present, list_index)

    def _add_ranges(
        self,
        list_index: int,
        entries: Iterable[str],
        nets: dict[int, dict[int, dict[int, tuple[int, ...]]]],
    ) -> None:
        texts = [entry.strip() for entry in entries]
        addresses, v4 = _ipv4_entries([text for text in texts if ":" not in text])
        self._add_keys(self._v4_addresses, list_index, addresses)
        v6 = filter(None, map(_ipv6_network, (text for text in texts if ":" in text)))
        single = (list_index,)
        for family, width, parsed in ((4, 32, v4), (6, 128, v6)):
            by_length = nets[family]
            for address, length in parsed:
                by_bits = by_length.get(length)
                if by_bits is None:
                    by_bits = by_length[length] = {}
                bits = address >> (width - length)
                present = by_bits.get(bits)
                if present is None:
                    by_bits[bits] = single
                elif present[-1] != list_index:
                    by_bits[bits] = (*present, list_index)

    # ------------------------------------------------------------------------------ checks

    def check(self, kind: str, value: str) -> tuple[WarningHit, ...]:
        """The hits of ``value`` taken as kind ``kind`` (normalised by ``lookup.normalise``);
        empty when the value is not of that kind."""
        item = normalise(kind, value)
        return () if item is None else self._check_normalised(item)

    def check_item(self, item: str) -> tuple[WarningHit, ...]:
        """The hits of an item ``"kind|value"`` (normalised again; empty if malformed)."""
        kind, bar, value = item.partition("|")
        return self.check(kind, value) if bar else ()

    def check_value(self, value: str) -> tuple[WarningHit, ...]:
        """The hits of a raw value whose kind ``lookup.guess`` decides (empty if none)."""
        item = guess(value)
        return () if item is None else self._check_normalised(item)

    def check_items(self, items: Iterable[str]) -> dict[str, tuple[WarningHit, ...]]:
        """``check_item`` for many items: item as given → hits, for items with hits only,
        in the order given (each item once)."""
        found: dict[str, tuple[WarningHit, ...]] = {}
        for item in items:
            if item not in found:
                hits = self.check_item(item)
                if hits:
                    found[item] = hits
        return found

    def check_pattern(self, pattern: str) -> dict[str, tuple[WarningHit, ...]]:
        """The hits of every value a STIX pattern names (see :func:`pattern_items`):
        item → hits, for items with hits only, in pattern order."""
        return self._check_all(pattern_items(pattern))

    def check_object(self, stix_object: Mapping[str, Any]) -> dict[str, tuple[WarningHit, ...]]:
        """The hits of a STIX object's values (see :func:`object_items`): item → hits."""
        return self._check_all(object_items(stix_object))

    def _check_all(self, items: Iterable[str]) -> dict[str, tuple[WarningHit, ...]]:
        found = {}
        for item in items:
            hits = self._check_normalised(item)
            if hits:
                found[item] = hits
        return found

    def _check_normalised(self, item: str) -> tuple[WarningHit, ...]:
        kind, _, value = item.partition("|")
        found: dict[int, tuple[str, str]] = {}
        self._match(kind, value, item, found)
        if kind == "url":
            host_item = _url_host_item(value)
            if host_item is not None:
                host_kind, _, host = host_item.partition("|")
                self._match(host_kind, host, host_item, found)
        rank = self._rank
        infos = self._infos
        return tuple(
            WarningHit(
                list_id=infos[index].id,
                list_name=infos[index].name,
                description=infos[index].description,
                matched=matched,
                item=hit_item,
            )
            for index, (matched, hit_item) in sorted(found.items(), key=lambda p: rank[p[0]])
        )

    def _match(self, kind: str, value: str, item: str, found: dict[int, tuple[str, str]]) -> None:
        """Record in ``found`` (list index → (matched, item)) the lists ``value`` hits."""
        kinds = self._kinds

        def record(ids: tuple[int, ...], matched: str) -> None:
            for index in ids:
                allowed = kinds[index]
                if index not in found and (allowed is None or kind in allowed):
                    found[index] = (matched, item)

        types = self._types_by_kind.get(kind)
        if types is None:
            types = self._types_for(kind)
        text = value.lower()
        hit = self._strings.get(text)
        if hit is not None:
            record(hit, text)
        if kind in _IP_KINDS:
            if "cidr" in types:
                self._match_ranges(value, record)
            hit = self._hosts.get(text) if "hostname" in types else None
            if hit is not None:  # an IP address has no parent domains
                record(hit, text)
        elif "hostname" in types:
            host = _host_of(kind, text)
            if ":" in host or host.replace(".", "").isdigit():  # a URL's IP address
                hit = self._hosts.get(host)
                if hit is not None:
                    record(hit, host)
                host = ""
            while host:
                hit = self._hosts.get(host)
                if hit is not None:
                    record(hit, host)
                host = host.partition(".")[2]
        if "substring" in types:
            self._match_substrings(text, record)
        if "regex" in types:
            for index, entry, regex in self._regexes:
                allowed = kinds[index]
                applies = allowed is None or kind in allowed
                if applies and index not in found and regex.search(value) is not None:
                    record((index,), entry)

    def _match_ranges(self, value: str, record: _Record) -> None:
        hit = self._v4_addresses.get(value)
        if hit is not None:
            record(hit, value + "/32")
        parsed = _ip_network(value)
        if parsed is None:
            return
        family, address, length = parsed
        width, coarse = (32 if family == 4 else 128), _COARSE[family]
        long_ranges = length >= coarse and address >> (width - coarse) in self._coarse[family]
        for listed, by_bits in self._nets[family]:
            if listed <= length and (long_ranges or listed < coarse):
                hit = by_bits.get(address >> (width - listed))
                if hit is not None:
                    record(hit, _range_text(family, address >> (width - listed), listed))

    def _match_substrings(self, text: str, record: _Record) -> None:
        width, prefixes, entries = self._substring_width, self._substring_prefixes, self._substrings
        grams = {text[start : start + width] for start in range(len(text) - width + 1)}
        common = grams & prefixes
        if not common:
            return
        found = []
        for gram in common:
            start = text.find(gram)
            while start >= 0:
                end = start + width
                while end <= len(text) and text[start:end] in prefixes:
                    ids = entries.get(text[start:end])
                    if ids is not None:
                        found.append((start, start - end, text[start:end], ids))
                    end += 1
                start = text.find(gram, start + 1)
        for _, _, entry, ids in sorted(found):  # leftmost, then longest, first
            record(ids, entry)


# ----------------------------------------------------------------------------- selection


def _resolve(names: Iterable[str], by_key: Mapping[str, str], what: str) -> frozenset[str]:
    ids = set()
    for name in names:
        list_id = by_key.get(name)
        if list_id is None:
            raise InvalidInput(f"no warning list is named {name!r} (to {what})")
        ids.add(list_id)
    return frozenset(ids)


def warning_lists(
    max_entries: int | None = DEFAULT_MAX_ENTRIES,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
) -> WarningLists:
    """The packaged lists compiled: those of at most ``max_entries`` entries (``None``: all),
    plus ``include`` whatever their size, minus ``exclude``; lists are named by ``name`` or
    ``id``.  ``InvalidInput`` for a negative ``max_entries``, an unknown name, or a list both
    included and excluded.  Cached per resulting selection (the first call for a selection
    reads and compiles it, about half a second by default)."""
    if max_entries is not None and max_entries < 0:
        raise InvalidInput("max_entries must not be negative")
    infos = available_lists()
    by_key = {info.id: info.id for info in infos} | {info.name: info.id for info in infos}
    included = _resolve(include, by_key, "include")
    excluded = _resolve(exclude, by_key, "exclude")
    if included & excluded:
        raise InvalidInput(
            f"warning lists both included and excluded: {sorted(included & excluded)}"
        )
    selected = tuple(
        info.id
        for info in infos
        if info.id not in excluded
        and (info.id in included or max_entries is None or info.entries <= max_entries)
    )
    return _compiled(selected)


class _PackagedLists(Mapping[str, Mapping[str, Any]]):
    """The packaged documents of some lists, each read when asked for and not kept."""

    def __init__(self, list_ids: tuple[str, ...]) -> None:
        self._ids = list_ids

    def __getitem__(self, list_id: str) -> Mapping[str, Any]:
        if list_id not in self._ids:
            raise KeyError(list_id)
        return _read_list(list_id)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


@lru_cache(maxsize=8)
def _compiled(list_ids: tuple[str, ...]) -> WarningLists:
    return WarningLists(_PackagedLists(list_ids))
