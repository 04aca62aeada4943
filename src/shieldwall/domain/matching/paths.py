"""Object paths over an observation's objects, and the normalisations of the default mode.

``select`` follows stix2-matcher 3.0.0 step by step: a key step keeps the dicts that have the
key and takes its value (``*_hex``/``*_bin`` properties are decoded to bytes); a key ending in
``_ref`` then swaps each reference for the object it names in the same observation, one ending
in ``_refs`` swaps each list of references for the list of objects (so ``x_refs[*].name``);
``[n]`` and ``[*]`` step into lists.  What does not fit (a missing key, a non-list, a dangling
reference) drops out silently.  Where stix2-matcher raises instead (a reference that is not a
string, undecodable hex) the value drops out too.

Normalisation (``Matcher.compile(..., normalise=True)``, the default) makes equality, ``IN``
and ``LIKE`` forgiving where case or spelling carries no meaning: hash values (but not SSDEEP)
and hash names (``SHA-256`` = ``SHA256`` = ``sha256``), ``domain-name:value`` and
``email-addr:value`` in lower case, IPv6 addresses in RFC 5952 text, no ``/32`` or ``/128``
on a single address.  With ``normalise=False``
comparisons are exact, as in stix2-matcher.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence

from shieldwall.domain.patterns import PathStep

__all__ = [
    "SDO_TYPES", "Normaliser", "equality_key", "hash_name", "hex_key", "ip_family", "ipv4_text",
    "ipv6_text", "normaliser", "select",
]  # fmt: skip

# stix2-matcher (STIX 2.1 mode) never selects objects of these types: they are SDOs, not SCOs.
SDO_TYPES = frozenset(
    (
        "attack-pattern", "bundle", "campaign", "course-of-action", "extension-definition",
        "grouping", "identity", "incident", "indicator", "infrastructure", "intrusion-set",
        "language-content", "location", "malware", "malware-analysis", "marking-definition",
        "note", "observed-data", "opinion", "relationship", "report", "threat-actor", "tool",
        "sighting", "vulnerability",
    )
)  # fmt: skip

Normaliser = Callable[[str], str]


def _decode(key: str, value: object) -> tuple[bool, object]:
    """``(True, value)``, ``*_hex``/``*_bin`` values decoded; ``(False, None)``: undecodable."""
    try:
        if key.endswith("_hex"):
            return True, binascii.a2b_hex(value)  # type: ignore[arg-type]
        if key.endswith("_bin"):
            return True, base64.standard_b64decode(value)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return False, None
    return True, value


def select(
    objects: Mapping[str, Mapping[str, object]],
    root: Mapping[str, object],
    steps: Sequence[PathStep],
    loose_hashes: bool = False,
) -> list[object]:
    """The values ``steps`` reaches from ``root``; references resolve within ``objects``.

    With ``loose_hashes`` a key step after ``hashes`` matches keys by ``hash_name``.
    """
    values: list[object] = [root]
    previous: PathStep = ""
    for step in steps:
        if step == "*":
            values = [item for value in values if isinstance(value, list) for item in value]
        elif isinstance(step, int):
            values = [
                value[step] for value in values if isinstance(value, list) and step < len(value)
            ]
        else:
            stepped: list[object] = []
            for value in values:
                if not isinstance(value, Mapping):
                    continue
                if step in value:
                    found = value[step]
                elif loose_hashes and previous == "hashes":
                    keys = [key for key in value if isinstance(key, str) and hash_name(key) == step]
                    if not keys:
                        continue
                    found = value[keys[0]]
                else:
                    continue
                ok, decoded = _decode(step, found)
                if ok:
                    stepped.append(decoded)
            if step.endswith("_ref"):
                stepped = [
                    objects[ref] for ref in stepped if isinstance(ref, str) and ref in objects
                ]
            elif step.endswith("_refs"):
                lists: list[object] = []
                for refs in stepped:
                    if isinstance(refs, list):
                        resolved = [objects[r] for r in refs if isinstance(r, str) and r in objects]
                        if resolved:
                            lists.append(resolved)
                stepped = lists
            values = stepped
        previous = step
    return values


# ------------------------------------------------------------------------------ normalisation


def hash_name(name: str) -> str:
    """``SHA-256``, ``sha256``, ``SHA_256`` → ``SHA256``."""
    return name.upper().replace("-", "").replace("_", "")


def ipv4_text(text: str) -> str:
    """``a.b.c.d/32`` → ``a.b.c.d``; other text unchanged.

    Leading zeros are left alone on purpose: ``010.0.0.1`` is 8.0.0.1 to inet_aton and
    10.0.0.1 to most log parsers, so it is no address we could name canonically.
    """
    return text[:-3] if text.endswith("/32") else text


# Lower-case text that passes this test and has "::" only for two or more groups is already in
# RFC 5952 form; anything else goes through ipaddress.
_V6_SUSPECT = re.compile(r"(?:^|:)0[0-9a-f]|(?:^|:)0:0(?::|$)|::0(?::|$)|(?:^|:)0::|[^0-9a-f:]")


def ipv6_text(text: str) -> str:
    """RFC 5952 text (lower case, shortest), ``/128`` dropped; other text lower-cased."""
    lowered = text.lower()
    if _V6_SUSPECT.search(lowered) is None and (
        "::" not in lowered or sum(1 for field in lowered.split(":") if field) <= 6
    ):
        return lowered
    address, slash, length = lowered.partition("/")
    try:
        canonical = ipaddress.IPv6Address(address).compressed
    except ValueError:
        return lowered
    if not slash:
        return canonical
    if not (length.isascii() and length.isdigit() and int(length) <= 128):
        return lowered
    return canonical if int(length) == 128 else f"{canonical}/{int(length)}"


def ip_family(object_type: str, steps: Sequence[PathStep]) -> bool:
    """Whether the path is an IP address value (``ipv4-addr:value``, ``ipv6-addr:value``)."""
    return object_type in ("ipv4-addr", "ipv6-addr") and tuple(steps) == ("value",)


def hex_key(text: str) -> bytes | str:
    """Equality key of a hash value: its bytes when it is hex (any case), else lower case."""
    try:
        data = bytes.fromhex(text)
    except ValueError:
        return text.lower()
    return data if len(text) == 2 * len(data) else text.lower()


def equality_key(object_type: str, steps: Sequence[PathStep]) -> Callable[[str], object] | None:
    """The key of a string value in equality tables when normalising (hashes: bytes)."""
    norm = normaliser(object_type, steps)
    if norm is str.lower and steps[-2:-1] == ("hashes",):
        return hex_key
    return norm


def normaliser(object_type: str, steps: Sequence[PathStep]) -> Normaliser | None:
    """The normalisation for values at this path in normalising mode, if any."""
    if tuple(steps) == ("value",):
        if object_type in ("domain-name", "email-addr"):
            return str.lower
        if object_type == "ipv4-addr":
            return ipv4_text
        if object_type == "ipv6-addr":
            return ipv6_text
    last = steps[-1]
    if len(steps) >= 2 and steps[-2] == "hashes" and isinstance(last, str):
        return None if hash_name(last) == "SSDEEP" else str.lower
    return None
