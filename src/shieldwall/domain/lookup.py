"""Private lookup: which items an indicator contributes, which items a member asks about, and
the Bloom filter file both sides share (architecture.md §4).

An *item* is one normalised observable, written ``"<kind>|<value>"``; kinds are ``ipv4``,
``ipv6``, ``domain``, ``url``, ``email`` and hash names (``md5``, ``sha1``, ``sha256``,
``sha512``, …).  The hub contributes the items of every indicator whose pattern matches a lone
observable holding that one value (``=``/``IN`` comparisons joined by ``OR``, no qualifiers);
a pattern that needs more than one value (``AND``, ``FOLLOWEDBY``) cannot be answered by a
value alone and contributes nothing.  IP ranges contribute their network (``ipv4|10.0.0.0/8``)
and the filter announces which prefix lengths occur, so a member asks for each address once
per announced length as well.

The filter holds ``F(item)`` for every item, where ``F`` is either the hub's VOPRF (RFC 9497,
ristretto255-SHA512; ``oprf`` filters: a member learns ``F(x)`` only by asking the hub to
evaluate a blinded ``x``, so the hub learns how many items were asked, never which) or
HMAC-SHA-256 under a random key written into the file (``offline`` filters, for air-gapped
matching: whoever holds the file can test any value, so it is as sensitive as the indicators).
Pure: no I/O, no clock, no randomness (keys and times are arguments).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import orjson
import rbloom

from shieldwall.domain.errors import InvalidInput, PatternSyntaxError
from shieldwall.domain.matching.paths import hash_name, ipv6_text
from shieldwall.domain.patterns import (
    Comparison,
    ComparisonExpr,
    ComparisonOr,
    ObservationExpr,
    ObservationExpression,
    ObservationOr,
    parse_pattern,
)
from shieldwall.domain.tokens import evaluate_elements, evaluate_known, public_key_for

MAGIC = b"SWLOOKUP1\n"
ONLINE = "oprf"
OFFLINE = "offline"
MAX_ITEM_BYTES = 1024
DEFAULT_FPR = 1e-7
MAX_EVALUATE_BATCH = 1000

# cyber-observable types whose ``value`` is an item of a kind, and those with ``hashes``
VALUE_TYPES = {
    "ipv4-addr": "ipv4",
    "ipv6-addr": "ipv6",
    "domain-name": "domain",
    "url": "url",
    "email-addr": "email",
}
HASHED_TYPES = frozenset(("file", "artifact"))
# the matcher's object path for each item kind (server-side and local matching of raw values)
MATCH_PATHS = {
    "ipv4": "ipv4-addr:value",
    "ipv6": "ipv6-addr:value",
    "domain": "domain-name:value",
    "url": "url:value",
    "email": "email-addr:value",
    "md5": "file:hashes.MD5",
    "sha1": "file:hashes.'SHA-1'",
    "sha256": "file:hashes.'SHA-256'",
    "sha512": "file:hashes.'SHA-512'",
}
_HEX = re.compile(r"[0-9a-fA-F]+")
_HASH_BY_LENGTH = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
_IPV4 = re.compile(
    r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"
)
_DOMAIN = re.compile(
    r"(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}"
)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


# -------------------------------------------------------------------------- normalisation


def _ipv4(text: str) -> str | None:
    """``a.b.c.d`` or ``a.b.c.d/n`` in canonical form (network address, ``/32`` dropped)."""
    address, slash, length = text.partition("/")
    if not _IPV4.fullmatch(address):
        return None
    if not slash or length == "32":
        return address
    try:
        return str(ipaddress.IPv4Network(text, strict=False))
    except ValueError:
        return None


def _ipv6(text: str) -> str | None:
    """RFC 5952 address, or canonical network for ``addr/n`` (``/128`` dropped)."""
    address, slash, _ = text.partition("/")
    if ":" not in address:
        return None
    try:
        if not slash:
            return ipv6_text(str(ipaddress.IPv6Address(address)))
        network = ipaddress.IPv6Network(text, strict=False)
    except ValueError:
        return None
    return network.network_address.compressed if network.prefixlen == 128 else str(network)


def _url(text: str) -> str | None:
    """Scheme and host lower-cased; the rest as written."""
    scheme, sep, rest = text.partition("://")
    if not sep or not scheme.isascii() or not scheme.isalpha() or not rest:
        return None
    host, slash, tail = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{tail}"


def _domain(text: str) -> str | None:
    lowered = text.lower().rstrip(".")
    return lowered if _DOMAIN.fullmatch(lowered) else None


def normalise(kind: str, value: str) -> str | None:
    """The item for ``value`` of a known ``kind``, or None if the value is not of that kind."""
    text = value.strip()
    if kind == "ipv4":
        canonical = _ipv4(text)
    elif kind == "ipv6":
        canonical = _ipv6(text)
    elif kind == "domain":
        canonical = _domain(text)
    elif kind == "url":
        canonical = _url(text)
    elif kind == "email":
        canonical = text.lower() if _EMAIL.fullmatch(text) else None
    elif kind in _HASH_BY_LENGTH.values() or kind.isalnum():
        canonical = text.lower() if text else None
    else:
        return None
    return None if canonical is None else f"{kind}|{canonical}"


def guess(value: str) -> str | None:
    """The item for a raw value whose kind is not given: IP, hash (by length), URL, e-mail
    address or domain name, in that order; None when it is none of them."""
    text = value.strip()
    if not text:
        return None
    if _IPV4.fullmatch(text.partition("/")[0]):
        return normalise("ipv4", text)
    if ":" in text and "://" not in text and "@" not in text:
        item = normalise("ipv6", text)
        if item is not None:
            return item
    kind = _HASH_BY_LENGTH.get(len(text))
    if kind is not None and _HEX.fullmatch(text):
        return normalise(kind, text)
    if "://" in text:
        return normalise("url", text)
    if "@" in text:
        return normalise("email", text)
    return normalise("domain", text)


def item_bytes(item: str) -> bytes:
    """The bytes ``F`` is applied to (long items are hashed first; VOPRF inputs are bounded)."""
    data = item.encode()
    if len(data) <= MAX_ITEM_BYTES:
        return data
    return b"sha256:" + hashlib.sha256(data).digest()


# ------------------------------------------------------------------------ hub-side items


def _path_kind(comparison: Comparison) -> str | None:
    path = comparison.path
    if comparison.object_type in VALUE_TYPES and path == ("value",):
        return VALUE_TYPES[comparison.object_type]
    if (
        comparison.object_type in HASHED_TYPES
        and len(path) == 2
        and path[0] == "hashes"
        and isinstance(path[1], str)
    ):
        return hash_name(path[1]).lower()
    return None


def _comparison_items(node: ComparisonExpr, out: list[str]) -> bool:
    """Collect items of an OR of equality comparisons; False if any operand is not one."""
    if isinstance(node, ComparisonOr):
        return all(_comparison_items(operand, out) for operand in node.operands)
    if not isinstance(node, Comparison) or node.negated or node.operator not in ("=", "IN"):
        return False
    kind = _path_kind(node)
    if kind is None:
        return False
    values = node.value if node.operator == "IN" else (node.value,)
    if not isinstance(values, tuple):
        return False
    for value in values:
        if not isinstance(value, str):
            return False
        item = normalise(kind, value)
        if item is None:
            return False
        out.append(item)
    return True


def _observation_items(node: ObservationExpr, out: list[str]) -> bool:
    if isinstance(node, ObservationOr):
        return all(_observation_items(operand, out) for operand in node.operands)
    if isinstance(node, ObservationExpression):
        return _comparison_items(node.comparison, out)
    return False  # AND, FOLLOWEDBY and qualified expressions need more than one value


# The common feed shape ``[type:value = '...']`` / ``[file:hashes.X = '...']``, read without
# the general parser (a tenth of the filter build time at a million indicators).
_SIMPLE = re.compile(
    r"\[\s*(ipv4-addr|ipv6-addr|domain-name|url|email-addr):value\s*=\s*'([^'\\]*)'\s*\]"
    r"|\[\s*(?:file|artifact):hashes\.(?:'([A-Za-z0-9-]+)'|([A-Za-z0-9_]+))\s*=\s*'([0-9A-Fa-f]+)'\s*\]"
)


def items_from_pattern(pattern: str) -> list[str]:
    """The distinct items an indicator with this STIX pattern contributes (see module doc);
    empty for patterns a single value cannot satisfy and for patterns that do not parse."""
    simple = _SIMPLE.fullmatch(pattern.strip())
    if simple is not None:
        object_type, value, quoted, bare, digest = simple.groups()
        if object_type is not None:
            item = normalise(VALUE_TYPES[object_type], value)
        else:
            kind = hash_name(quoted or bare).lower()
            fits = _HASH_BY_LENGTH.get(len(digest)) == kind
            item = normalise(kind, digest) if fits else None  # others: the parser checks
        if item is not None:
            return [item]
    return _parsed_items(pattern)


def _parsed_items(pattern: str) -> list[str]:
    """``items_from_pattern`` through the general parser (the reference for the fast path)."""
    try:
        parsed = parse_pattern(pattern)
    except PatternSyntaxError:
        return []
    found: list[str] = []
    if not _observation_items(parsed.expression, found):
        return []
    return list(dict.fromkeys(found))


def prefix_lengths(items: Iterable[str]) -> dict[str, list[int]]:
    """The network prefix lengths that occur among ``items``, per IP kind."""
    lengths: dict[str, set[int]] = {"ipv4": set(), "ipv6": set()}
    for item in items:
        kind, _, value = item.partition("|")
        if kind in lengths and "/" in value:
            lengths[kind].add(int(value.rpartition("/")[2]))
    return {kind: sorted(found) for kind, found in lengths.items()}


# --------------------------------------------------------------------- member-side items


def queries_for(item: str, prefixes: dict[str, list[int]]) -> list[str]:
    """What a member asks for ``item``: the item itself and, for an address, its networks of
    every announced prefix length (so ranges in the filter are found)."""
    kind, _, value = item.partition("|")
    lengths = prefixes.get(kind, [])
    if not lengths or "/" in value:
        return [item]
    wanted = [item]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return wanted
    for length in lengths:
        if length < address.max_prefixlen:
            wanted.append(f"{kind}|{ipaddress.ip_network(f'{value}/{length}', strict=False)}")
    return wanted


# ------------------------------------------------------------------------------ the filter


def _bloom_hash(element: bytes) -> int:
    """Filter elements are already uniform digests: their first 16 bytes are the hash."""
    return int.from_bytes(element[:16], "big", signed=True)


def oprf_info(generation: int) -> bytes:
    """The RFC 9497 ``info`` bound into the lookup key of a key generation."""
    return f"shieldwall private lookup {generation}".encode()


def oprf_public_key(seed: bytes, generation: int) -> str:
    """The hex public key of the lookup key derived from ``seed``."""
    return public_key_for(seed, oprf_info(generation)).hex()


def oprf_outputs(seed: bytes, generation: int, items: Iterable[str]) -> Iterator[bytes]:
    """``F(item)`` under the hub's lookup key, as a member would obtain it by blind evaluation."""
    return evaluate_known(seed, oprf_info(generation), map(item_bytes, items))


def oprf_output_list(seed: bytes, generation: int, items: list[str]) -> list[bytes]:
    """``list(oprf_outputs(...))``: a picklable entry point for worker processes."""
    return list(oprf_outputs(seed, generation, items))


def check_evaluate_batch(count: int) -> None:
    """``InvalidInput`` unless 1 to ``MAX_EVALUATE_BATCH`` items are to be evaluated."""
    if not 1 <= count <= MAX_EVALUATE_BATCH:
        raise InvalidInput(f"send 1 to {MAX_EVALUATE_BATCH} blinded items at a time, not {count}")


def oprf_evaluate_blinded(seed: bytes, generation: int, blinded: Sequence[bytes]) -> bytes:
    """Evaluate a member's blinded items; the serialized batch output with one DLEQ proof.
    Raises ``InvalidInput`` for an empty or oversized batch or a malformed element."""
    check_evaluate_batch(len(blinded))
    return evaluate_elements(seed, oprf_info(generation), blinded, "item")


def hmac_output(key: bytes, item: str) -> bytes:
    """``F(item)`` of an offline filter."""
    return hmac.digest(key, item_bytes(item), "sha256")


@dataclass
class LookupFilter:
    """A Bloom filter of ``F(item)`` and what a member needs to query it.

    ``header`` is JSON-serialisable: ``mode`` (``oprf``/``offline``), ``items``, ``fpr``,
    ``prefixes`` and, for ``oprf``, ``public_key`` and ``generation``; for ``offline``,
    ``hmac_key`` (hex).  The hub may add descriptive fields (``created``, ``tlp``, …).
    """

    header: dict[str, object]
    bloom: rbloom.Bloom = field(repr=False)

    @classmethod
    def empty(
        cls, header: dict[str, object], capacity: int, fpr: float = DEFAULT_FPR
    ) -> LookupFilter:
        """A filter sized for ``capacity`` elements at false-positive rate ``fpr``."""
        bloom = rbloom.Bloom(max(capacity, 1), fpr, hash_func=_bloom_hash)
        return cls({**header, "fpr": fpr, "capacity": max(capacity, 1)}, bloom)

    def add(self, outputs: Iterable[bytes]) -> None:
        """Insert ``F`` values."""
        self.bloom.update(outputs)

    def __contains__(self, output: object) -> bool:
        return isinstance(output, bytes) and output in self.bloom

    def to_bytes(self) -> bytes:
        """The file: ``MAGIC``, one line of JSON header (with the SHA-256 of the filter
        bytes, so damage is detected), then the Bloom filter."""
        body = self.bloom.save_bytes()
        header = {**self.header, "sha256": hashlib.sha256(body).hexdigest()}
        return MAGIC + orjson.dumps(header) + b"\n" + body

    @classmethod
    def from_bytes(cls, data: bytes) -> LookupFilter:
        """Read a filter file; ``InvalidInput`` if it is not one."""
        if not data.startswith(MAGIC):
            raise InvalidInput("this is not a Shieldwall lookup filter")
        head, newline, body = data[len(MAGIC) :].partition(b"\n")
        try:
            header = orjson.loads(head)
            if not newline or not isinstance(header, dict):
                raise ValueError
            if header.pop("sha256", None) != hashlib.sha256(body).hexdigest():
                raise ValueError
            bloom = rbloom.Bloom.load_bytes(body, _bloom_hash)
        except (ValueError, orjson.JSONDecodeError):
            raise InvalidInput("the lookup filter is damaged") from None
        if header.get("mode") not in (ONLINE, OFFLINE):
            raise InvalidInput("the lookup filter names an unknown mode")
        return cls(header, bloom)

    @property
    def prefixes(self) -> dict[str, list[int]]:
        """The announced IP prefix lengths per kind."""
        raw = self.header.get("prefixes")
        if not isinstance(raw, dict):
            return {}
        return {str(k): [int(n) for n in v] for k, v in raw.items() if isinstance(v, list)}

    def offline_contains(self, item: str) -> bool:
        """For an offline filter: whether ``item`` (or a network holding it) is in it."""
        key = self.header.get("hmac_key")
        if self.header.get("mode") != OFFLINE or not isinstance(key, str):
            raise InvalidInput("this filter needs the hub to evaluate items (use --private)")
        secret = bytes.fromhex(key)
        return any(hmac_output(secret, q) in self.bloom for q in queries_for(item, self.prefixes))
