"""The observable index: which (kind, key) pairs an object contributes, and the probes that
find other objects sharing them (correlation, architecture.md §2).

One row per object version and key, never one per pair of objects, so the index grows
linearly with the observables stored. Keys are written so that the relations correlation
needs are equality or range lookups on ``(kind, key)``:

============  =========================================  ==================================
kind          key                                        found by
============  =========================================  ==================================
``ipv4``      address as 8 hex digits (``c0000201``)     same key; inside a network (range)
``ipv4net``   ``<8 hex>/<length>`` (length < 32)         the networks around an address
``ipv6``      address as 32 hex digits                   as ``ipv4``
``ipv6net``   ``<32 hex>/<length>`` (length < 128)       as ``ipv4net``
``domain``    labels reversed (``com.example.www``)      same key; parents up to the
                                                         registrable domain; subdomains
                                                         (a prefix range)
``url``       normalised URL (``lookup.normalise``)      same key (its host is also a
                                                         ``domain`` key)
``email``     lower-cased address                        same key
hash names    lower-case hex (``md5``, ``sha256``, …)    same key
============  =========================================  ==================================

Objects contribute the *items* (``"kind|value"``, ``domain.lookup``) of ``object_items``:
every value an indicator's pattern compares with ``=``, ``IN`` or ``ISSUBSET`` (not negated,
in any observation), or a cyber-observable's value or hashes (``observed-data`` those of its
embedded ``objects``). Warning lists check the same items. Keys
longer than ``MAX_KEY`` characters are replaced by ``sha256:<hex>`` of themselves.
Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterator, Mapping

from shieldwall.domain.errors import PatternSyntaxError
from shieldwall.domain.extraction.network import public_suffix
from shieldwall.domain.lookup import HASHED_TYPES, VALUE_TYPES, guess, items_from_pattern, normalise
from shieldwall.domain.matching.paths import hash_name
from shieldwall.domain.patterns import Comparison, comparisons, parse_pattern
from shieldwall.domain.queries import Probe

MAX_KEY = 500
_REF_KINDS = frozenset(("ipv4", "ipv6", "domain", "url", "email"))
_IP_KINDS = frozenset(("ipv4", "ipv6"))
_HEX = frozenset("0123456789abcdef")

Key = tuple[str, str]


def _bounded(key: str) -> str:
    if len(key) <= MAX_KEY:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def key_of_item(item: str) -> list[Key]:
    """The index keys for one lookup item (``"kind|value"``, see ``domain.lookup``)."""
    kind, _, value = item.partition("|")
    if kind in ("ipv4", "ipv6"):
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            return []
        width = 8 if network.version == 4 else 32
        hexed = format(int(network.network_address), f"0{width}x")
        if network.prefixlen == network.max_prefixlen:
            return [(kind, hexed)]
        return [(kind + "net", f"{hexed}/{network.prefixlen}")]
    if kind == "domain":
        return [("domain", ".".join(reversed(value.split("."))))]
    if kind == "url":
        keys: list[Key] = [("url", _bounded(value))]
        host = value.partition("://")[2].partition("/")[0].rpartition("@")[2]
        host = host.rpartition(":")[0] if host.count(":") == 1 else host
        domain = normalise("domain", host)
        if domain is not None:
            keys.extend(key_of_item(domain))
        return keys
    if kind == "email":
        return [("email", _bounded(value))]
    if kind.isalnum() and value and set(value) <= _HEX:
        return [(kind, _bounded(value))]
    return []


# ------------------------------------------------------------------------- items of objects


def _comparison_items(comparison: Comparison) -> Iterator[str]:
    """The items an ``=``/``IN`` comparison (or ``ISSUBSET`` over an IP value) names."""
    if comparison.negated or comparison.operator not in ("=", "IN", "ISSUBSET"):
        return
    path, object_type = comparison.path, comparison.object_type
    kind: str | None = None
    if object_type in VALUE_TYPES and path == ("value",):
        kind = VALUE_TYPES[object_type]
    elif object_type in HASHED_TYPES and len(path) == 2 and path[0] == "hashes":
        if not isinstance(path[1], str):
            return
        kind = hash_name(path[1]).lower()
    elif not (len(path) >= 2 and path[-1] == "value" and str(path[0]).endswith(("_ref", "_refs"))):
        return  # not a value we know, nor ``x_ref.value`` / ``x_refs[*].value`` (kind guessed)
    values = comparison.value if isinstance(comparison.value, tuple) else (comparison.value,)
    for value in values:
        if not isinstance(value, str):
            continue
        item = guess(value) if kind is None else normalise(kind, value)
        item_kind = "" if item is None else item.partition("|")[0]
        if item is None or (kind is None and item_kind not in _REF_KINDS):
            continue  # not a value, or a guessed reference value that is no observable's
        if comparison.operator == "ISSUBSET" and item_kind not in _IP_KINDS:
            continue  # "inside this network" is meaningful for IP values only
        yield item


def pattern_items(pattern: str) -> list[str]:
    """The distinct items a STIX pattern names, in pattern order: those of
    :func:`shieldwall.domain.lookup.items_from_pattern` when it answers, else every value of
    an ``=``/``IN`` comparison (not negated) over ``ipv4-addr``/``ipv6-addr``/
    ``domain-name``/``url``/``email-addr`` ``:value`` or ``file``/``artifact``
    ``:hashes.*``, of an ``ISSUBSET`` over an IP value, and of ``…_ref.value`` /
    ``…_refs[*].value`` (kind guessed), wherever it stands (AND, FOLLOWEDBY, qualifiers).
    Empty for a pattern that does not parse."""
    if "AND" not in pattern and "FOLLOWEDBY" not in pattern:
        # the shapes ``items_from_pattern`` answers (by a regex, mostly); it would parse the
        # others only to refuse them, and parsing costs more than the rest of a check
        items = items_from_pattern(pattern)
        if items:
            return items
    try:
        parsed = parse_pattern(pattern)
    except PatternSyntaxError:
        return []
    found = (item for comparison in comparisons(parsed) for item in _comparison_items(comparison))
    return list(dict.fromkeys(found))


def object_items(stix_object: Mapping[str, object]) -> list[str]:
    """The items of a STIX object: an indicator's by :func:`pattern_items` (STIX patterns
    only), the ``value`` of ``ipv4-addr``/``ipv6-addr``/``domain-name``/``url``/
    ``email-addr``, the ``hashes`` of ``file``/``artifact``; empty for anything else."""
    object_type = stix_object.get("type")
    if object_type == "indicator":
        pattern = stix_object.get("pattern")
        pattern_type = stix_object.get("pattern_type", "stix")
        return pattern_items(pattern) if isinstance(pattern, str) and pattern_type == "stix" else []
    if object_type in VALUE_TYPES:
        value = stix_object.get("value")
        item = normalise(VALUE_TYPES[str(object_type)], value) if isinstance(value, str) else None
        return [] if item is None else [item]
    if object_type in HASHED_TYPES:
        hashes = stix_object.get("hashes")
        if not isinstance(hashes, Mapping):
            return []
        found = (
            normalise(hash_name(name).lower(), digest)
            for name, digest in hashes.items()
            if isinstance(name, str) and isinstance(digest, str)
        )
        return list(dict.fromkeys(item for item in found if item is not None))
    return []


def indexed_items(obj: Mapping[str, object]) -> list[str]:
    """The items ``obj`` is indexed by: its ``object_items``, or for ``observed-data``
    those of its embedded ``objects``."""
    if obj.get("type") != "observed-data":
        return object_items(obj)
    embedded = obj.get("objects")
    return [
        item
        for sco in (embedded.values() if isinstance(embedded, Mapping) else ())
        if isinstance(sco, Mapping)
        for item in object_items(sco)
    ]


def keys_of_items(items: list[str]) -> frozenset[Key]:
    """The index keys of these items."""
    return frozenset(key for item in items for key in key_of_item(item))


def keys_of(obj: Mapping[str, object]) -> frozenset[Key]:
    """Every index key ``obj`` contributes (see the module docstring)."""
    return keys_of_items(indexed_items(obj))


# ---------------------------------------------------------------------------- correlation


def _registrable_depth(labels: list[str]) -> int:
    """How many labels (counted from the top) the registrable domain of ``labels`` has."""
    host = ".".join(reversed(labels))
    suffix = public_suffix(host)
    return (suffix.count(".") + 2) if suffix is not None else 2


def probes(key: Key) -> list[Probe]:
    """The lookups finding every object related to ``key``: the same key, addresses inside a
    network and networks around an address, subdomains and parent domains (down to the
    registrable domain, never a public suffix such as ``co.uk``)."""
    kind, value = key
    found = [Probe(kind, (value,))]
    if kind in ("ipv4", "ipv6"):
        bits = 32 if kind == "ipv4" else 128
        number = int(value, 16)
        around = tuple(
            f"{format(number >> (bits - length) << (bits - length), f'0{bits // 4}x')}/{length}"
            for length in range(bits)
        )
        found.append(Probe(kind + "net", around, relation="contains"))
    elif kind in ("ipv4net", "ipv6net"):
        bits = 32 if kind == "ipv4net" else 128
        address = kind[:4]
        hexed, _, length_text = value.partition("/")
        length, number, width = int(length_text), int(hexed, 16), bits // 4
        last = number | ((1 << (bits - length)) - 1)
        # "g" sorts after every hex digit: the range then runs to the last address
        high = format(last + 1, f"0{width}x") if last + 1 < 1 << bits else "g"
        found.append(Probe(address, low=format(number, f"0{width}x"), high=high, relation="inside"))
        around = tuple(
            f"{format(number >> (bits - shorter) << (bits - shorter), f'0{width}x')}/{shorter}"
            for shorter in range(length)
        )
        if around:
            found.append(Probe(kind, around, relation="contains"))
    elif kind == "domain":
        labels = value.split(".")
        depth = _registrable_depth(labels)
        parents = tuple(".".join(labels[:n]) for n in range(depth, len(labels)))
        if parents:
            found.append(Probe("domain", parents, relation="parent"))
        found.append(Probe("domain", low=value + ".", high=value + "/", relation="subdomain"))
    return found


def describe(key: Key) -> tuple[str, str]:
    """A key as people read it: (STIX-ish kind, value), e.g. ``("ipv4", "192.0.2.1")``."""
    kind, value = key
    if kind in ("ipv4", "ipv6", "ipv4net", "ipv6net"):
        hexed, _, length = value.partition("/")
        number = int(hexed, 16)
        address = ipaddress.IPv6Address(number) if kind[3] == "6" else ipaddress.IPv4Address(number)
        return kind[:4], f"{address}/{length}" if length else str(address)
    if kind == "domain":
        return kind, ".".join(reversed(value.split(".")))
    return kind, value
