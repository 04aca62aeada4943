"""The lexical formats STIX 2.1 prescribes, as compiled regular expressions.

§2 common data types (identifier §2.9 with an RFC 4122 UUID, hashes §2.7 with the digest size
of each algorithm in the hash-algorithm vocabulary, hex, binary/base64, dictionary keys), §3.1
type and property names, §7.2.3 granular-marking selectors, RFC 5646 language tags, the
external-reference ids of §2.5 (CVE, CAPEC), and light syntax checks for the values of §6
cyber observables (IPv4, MAC, domain names, email addresses, URLs).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

_TYPE_NAME: Final = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")

_PROPERTY_NAME: Final = re.compile(r"[a-z][a-z0-9_]{2,249}")

_UUID: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
)

_IDENTIFIER: Final = re.compile(
    r"([a-z][a-z0-9]*(?:-[a-z0-9]+)*)--"
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
)

_EXTENSION_DEFINITION_KEY: Final = re.compile(
    r"extension-definition--"
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
)

_DICT_KEY: Final = re.compile(r"[a-zA-Z0-9_-]{1,250}")

_HASH_KEY: Final = re.compile(r"[a-zA-Z0-9_-]{3,250}")

_SELECTOR: Final = re.compile(r"[a-z0-9_-]{3,249}(?:\.(?:\[\d+\]|[a-z0-9_-]{1,250}))*|id")

_LANG: Final = re.compile(r"[a-zA-Z]{2,8}(?:-[a-zA-Z0-9]{1,8})*")

_URL: Final = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:\S*")

_HEX: Final = re.compile(r"(?:[0-9a-fA-F]{2})+")

_BASE64: Final = re.compile(
    r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)"
)

_CVE: Final = re.compile(r"CVE-\d{4}-(?:0\d{3}|[1-9]\d{3,})")

_CAPEC: Final = re.compile(r"CAPEC-\d+")

_RELATIONSHIP_TYPE: Final = re.compile(r"[a-z0-9-]+")

_IPV4: Final = re.compile(
    r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}"
    r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?:/(?:3[0-2]|[12]?[0-9]))?"
)

_MAC: Final = re.compile(r"(?:[0-9a-f]{2}:){5}[0-9a-f]{2}")

_DOMAIN: Final = re.compile(r"[^\s./@]{1,63}(?:\.[^\s./@]{1,63})*\.?")

_EMAIL: Final = re.compile(r"[^\s@]+@[^\s@]+")

_HASH_FORMATS: Final[Mapping[str, re.Pattern[str]]] = {
    "MD5": re.compile(r"[a-fA-F0-9]{32}"),
    "SHA-1": re.compile(r"[a-fA-F0-9]{40}"),
    "SHA-256": re.compile(r"[a-fA-F0-9]{64}"),
    "SHA-512": re.compile(r"[a-fA-F0-9]{128}"),
    "SHA3-256": re.compile(r"[a-fA-F0-9]{64}"),
    "SHA3-512": re.compile(r"[a-fA-F0-9]{128}"),
    "SSDEEP": re.compile(r"[a-zA-Z0-9/+:.]{1,128}"),
    "TLSH": re.compile(r"(?:T1)?[a-fA-F0-9]{70}"),
}
