"""What one MISP attribute value means in STIX 2.1: a pattern and cyber-observables.

Contract: :func:`map_attribute` turns a MISP ``type`` and ``value`` into a
:class:`Meaning`: the comparisons of one observation expression (joined by AND, so a
composite such as ``filename|sha1`` is one file with both properties), and the SCOs that
describe the same thing (ids per STIX 2.1 §2.9 through
:func:`shieldwall.domain.extraction.bundle.sco_id`, the first one being the main
observable), or the reason there can be no SCO.  It raises :class:`Unmappable` with a
reason when the type has no STIX pattern property or the value does not fit its type
(a port that is no number, a composite without ``|`` …).  :func:`pattern` writes the
comparisons as a STIX pattern, escaping ``\\`` and ``'`` in values.  Types that are no
observables (``link``, ``text``, ``vulnerability`` …) are the converter's business.

Object paths follow STIX 2.1 §6 and the MISP types' meanings: ``ip-src``/``ip-dst`` →
``ipv4-addr:value`` or ``ipv6-addr:value`` (a CIDR block compared with ``ISSUBSET``);
``ip-dst|port`` → ``network-traffic:dst_ref.type/value`` and ``dst_port``; ``domain|ip`` →
``domain-name:value`` and ``domain-name:resolves_to_refs[*].value``; hashes →
``file:hashes.'SHA-256'`` …; ``imphash`` → ``file:extensions.'windows-pebinary-ext'.imphash``;
``regkey|value`` → ``windows-registry-key:key`` (abbreviated hives such as ``HKLM`` written
out, as §6.13 requires) and ``values[*].data``; ``user-agent`` →
``network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'``;
``email-src``/``email-dst`` → ``email-message:from_ref.value``/``to_refs[*].value``;
``btc``/``xmr``/``dash`` → ``cryptocurrency-wallet:address`` (a community type: STIX 2.1 has
no wallet object, so these never become SCOs).  Observed ``ip-src|port``/``ip-dst|port`` become
``network-traffic`` with ``protocols`` ``["ipv4"]``/``["ipv6"]``; ``hostname|port``, whose
IP version is unknown, with ``["tcp"]`` (STIX requires a protocol; MISP ports are service
ports).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from shieldwall.domain.extraction.bundle import sco_id
from shieldwall.domain.misp.common import Json

PatternValue = str | int
Comparison = tuple[str, PatternValue]

#: MISP hash types → STIX ``hashes`` keys (hashing-algorithm-ov names where they exist).
HASH_KEYS: dict[str, str] = {
    "md5": "MD5", "sha1": "SHA-1", "sha224": "SHA-224", "sha256": "SHA-256",
    "sha384": "SHA-384", "sha512": "SHA-512", "sha3-224": "SHA3-224", "sha3-256": "SHA3-256",
    "sha3-384": "SHA3-384", "sha3-512": "SHA3-512", "ssdeep": "SSDEEP", "tlsh": "TLSH",
    "authentihash": "AUTHENTIHASH", "vhash": "VHASH", "pehash": "PEHASH",
    "telfhash": "TELFHASH",
}  # fmt: skip

#: Detection rules: indicators whose ``pattern_type`` is the rule language (MISP's
#: ``stix2-pattern`` holds a STIX pattern as written).
RULE_TYPES: dict[str, str] = {
    "yara": "yara", "snort": "snort", "sigma": "sigma", "stix2-pattern": "stix"
}  # fmt: skip

_IMPHASH = "extensions.'windows-pebinary-ext'.imphash"
_X509 = {"x509-fingerprint-md5": "MD5", "x509-fingerprint-sha1": "SHA-1",
         "x509-fingerprint-sha256": "SHA-256"}  # fmt: skip
_WALLETS = frozenset({"btc", "xmr", "dash"})
_PLAIN_STEP = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAC = re.compile(r"[0-9a-f]{2}(?:[:-]?[0-9a-f]{2}){5}")
_AS = re.compile(r"(?:AS)?\s*(\d{1,10})", re.IGNORECASE)
_HIVES = {
    "HKLM": "HKEY_LOCAL_MACHINE", "HKCU": "HKEY_CURRENT_USER", "HKCR": "HKEY_CLASSES_ROOT",
    "HKU": "HKEY_USERS", "HKCC": "HKEY_CURRENT_CONFIG", "HKPD": "HKEY_PERFORMANCE_DATA",
    "HKDD": "HKEY_DYN_DATA",
}  # fmt: skip
_IP_PATHS = frozenset(
    {"ipv4-addr:value", "ipv6-addr:value", "domain-name:resolves_to_refs[*].value"}
)
_NO_SCO_WALLET = "STIX 2.1 has no cyber-observable for cryptocurrency wallets"


class Unmappable(Exception):
    """The attribute has no STIX pattern; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Meaning:
    """One attribute as STIX: pattern comparisons and SCOs (or why there are none)."""

    comparisons: tuple[Comparison, ...]
    observables: tuple[Json, ...] = ()
    no_observable: str | None = None


def pattern(comparisons: tuple[Comparison, ...]) -> str:
    """``[a = 'x' AND b = 2]``: one observation expression with every comparison.

    A comparison on an IP address ``value`` that is a CIDR block uses ``ISSUBSET`` (STIX 2.1
    §9.5), so every address of the block matches; all others use ``=``.
    """
    return "[" + " AND ".join(_comparison(path, value) for path, value in comparisons) + "]"


def _comparison(property_path: str, value: PatternValue) -> str:
    cidr = isinstance(value, str) and "/" in value and _is_ip_path(property_path)
    return f"{property_path} {'ISSUBSET' if cidr else '='} {_literal(value)}"


def _is_ip_path(property_path: str) -> bool:
    return property_path in _IP_PATHS or (
        property_path.startswith("network-traffic:") and property_path.endswith("_ref.value")
    )


def escape(value: str) -> str:
    """``value`` as the body of a STIX pattern string literal (``\\`` and ``'`` escaped)."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _literal(value: PatternValue) -> str:
    return str(value) if isinstance(value, int) else f"'{escape(value)}'"


def path(object_type: str, *steps: str) -> str:
    """An object path; steps that are not plain identifiers are quoted (``'SHA-256'``)."""
    return f"{object_type}:" + ".".join(_step(step) for step in steps)


def _step(step: str) -> str:
    """``name`` or ``'quoted-name'``, keeping a trailing ``[*]`` list index outside."""
    base, index = (step[:-3], "[*]") if step.endswith("[*]") else (step, "")
    return (base if _PLAIN_STEP.fullmatch(base) else f"'{base}'") + index


def sco(object_type: str, **properties: object) -> Json:
    """An SCO with its deterministic id; every given property contributes to the id."""
    return {
        "type": object_type,
        "spec_version": "2.1",
        "id": sco_id(object_type, dict(properties)),
        **properties,
    }


def map_attribute(misp_type: str, value: str) -> Meaning:
    """The STIX meaning of a MISP attribute (see the module docstring)."""
    kind = misp_type.strip().lower()
    if kind in HASH_KEYS:
        return _hash(HASH_KEYS[kind], value.strip())
    if kind.startswith("filename|") or kind == "malware-sample":
        return _filename_hash(kind.removeprefix("filename|"), value)
    handler = _HANDLERS.get(kind)
    if handler is not None:
        return handler(value)
    if kind in _X509:
        key = _X509[kind]
        digest = value.strip()
        return Meaning(
            ((path("x509-certificate", "hashes", key), digest),),
            (sco("x509-certificate", hashes={key: digest}),),
        )
    if kind in _WALLETS:
        return Meaning(
            ((path("cryptocurrency-wallet", "address"), value.strip()),),
            no_observable=_NO_SCO_WALLET,
        )
    raise Unmappable(f"MISP type {misp_type!r} has no STIX 2.1 mapping")


def _hash(key: str, digest: str) -> Meaning:
    return Meaning(((path("file", "hashes", key), digest),), (sco("file", hashes={key: digest}),))


def _filename_hash(hash_type: str, value: str) -> Meaning:
    name, digest = _split(value, last=True)
    if hash_type == "malware-sample":
        hash_type = "md5"
    if hash_type == "imphash":
        return Meaning(
            ((path("file", "name"), name), (f"file:{_IMPHASH}", digest)),
            no_observable="an imphash belongs in windows-pebinary-ext, which needs a pe_type",
        )
    key = HASH_KEYS.get(hash_type)
    if key is None:
        raise Unmappable(f"MISP type 'filename|{hash_type}' has no STIX 2.1 mapping")
    return Meaning(
        ((path("file", "name"), name), (path("file", "hashes", key), digest)),
        (sco("file", name=name, hashes={key: digest}),),
    )


def _split(value: str, *, last: bool = False) -> tuple[str, str]:
    """A composite value's two parts (MISP separates them with ``|``), stripped."""
    if "|" not in value:
        raise Unmappable(f"composite value {value[:80]!r} has no '|' between its parts")
    first, second = value.rsplit("|", 1) if last else value.split("|", 1)
    first, second = first.strip(), second.strip()
    if not first or not second:
        raise Unmappable(f"composite value {value[:80]!r} has an empty part")
    return first, second


def _ip_type(address: str) -> str:
    return "ipv6-addr" if ":" in address else "ipv4-addr"


def _ip(value: str) -> Meaning:
    address = value.strip()
    kind = _ip_type(address)
    return Meaning(((path(kind, "value"), address),), (sco(kind, value=address),))


def _domain(value: str) -> Meaning:
    name = value.strip()
    return Meaning(((path("domain-name", "value"), name),), (sco("domain-name", value=name),))


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise Unmappable(f"port {text[:20]!r} is not a number from 0 to 65535")
    return int(text)


def _endpoint(direction: str, host_type: str | None) -> Callable[[str], Meaning]:
    """``ip-src|port``, ``ip-dst|port`` and ``hostname|port``."""

    def handler(value: str) -> Meaning:
        host, port_text = _split(value, last=True)
        port = _port(port_text)
        kind = host_type or _ip_type(host)
        host_sco = sco(kind, value=host)
        protocols = [kind.removesuffix("-addr")] if host_type is None else ["tcp"]
        traffic = sco(
            "network-traffic",
            **{f"{direction}_ref": host_sco["id"], f"{direction}_port": port},
            protocols=protocols,
        )
        return Meaning(
            (
                (path("network-traffic", f"{direction}_ref", "type"), kind),
                (path("network-traffic", f"{direction}_ref", "value"), host),
                (path("network-traffic", f"{direction}_port"), port),
            ),
            (traffic, host_sco),
        )

    return handler


def _domain_ip(value: str) -> Meaning:
    domain, address = _split(value)
    address_sco = sco(_ip_type(address), value=address)
    domain_sco = sco("domain-name", value=domain)
    domain_sco["resolves_to_refs"] = [address_sco["id"]]  # not id-contributing (§6.4)
    return Meaning(
        (
            (path("domain-name", "value"), domain),
            (path("domain-name", "resolves_to_refs[*]", "value"), address),
        ),
        (domain_sco, address_sco),
    )


def _url(value: str) -> Meaning:
    url = value.strip()
    return Meaning(((path("url", "value"), url),), (sco("url", value=url),))


def _email(property_path: str) -> Callable[[str], Meaning]:
    def handler(value: str) -> Meaning:
        address = value.strip()
        return Meaning(((property_path, address),), (sco("email-addr", value=address),))

    return handler


def _email_subject(value: str) -> Meaning:
    return Meaning(
        ((path("email-message", "subject"), value),),
        (sco("email-message", subject=value) | {"is_multipart": False},),
    )


def _single(property_path: str, no_observable: str) -> Callable[[str], Meaning]:
    def handler(value: str) -> Meaning:
        return Meaning(((property_path, value.strip()),), no_observable=no_observable)

    return handler


def _filename(value: str) -> Meaning:
    return Meaning(((path("file", "name"), value),), (sco("file", name=value),))


def _mutex(value: str) -> Meaning:
    return Meaning(((path("mutex", "name"), value),), (sco("mutex", name=value),))


def registry_key(key: str) -> str:
    """``key`` with an abbreviated hive written out (§6.13: ``HKLM`` → ``HKEY_LOCAL_MACHINE``)."""
    key = key.strip()
    hive, separator, rest = key.partition("\\")
    full = _HIVES.get(hive.upper())
    return f"{full}{separator}{rest}" if full else key


def _regkey(value: str) -> Meaning:
    key = registry_key(value)
    return Meaning(
        ((path("windows-registry-key", "key"), key),),
        (sco("windows-registry-key", key=key),),
    )


def _regkey_value(value: str) -> Meaning:
    raw_key, data = _split(value)
    key = registry_key(raw_key)
    return Meaning(
        (
            (path("windows-registry-key", "key"), key),
            (path("windows-registry-key", "values[*]", "data"), data),
        ),
        (sco("windows-registry-key", key=key, values=[{"data": data}]),),
    )


def _autonomous_system(value: str) -> Meaning:
    match = _AS.fullmatch(value.strip())
    if match is None or int(match.group(1)) > 4294967295:
        raise Unmappable(f"{value[:40]!r} is not an autonomous system number")
    number = int(match.group(1))
    return Meaning(
        ((path("autonomous-system", "number"), number),),
        (sco("autonomous-system", number=number),),
    )


def _mac(value: str) -> Meaning:
    raw = value.strip().lower()
    if _MAC.fullmatch(raw) is None:
        raise Unmappable(f"{value[:40]!r} is not a MAC-48 address")
    digits = raw.replace(":", "").replace("-", "")
    address = ":".join(digits[index : index + 2] for index in range(0, 12, 2))
    return Meaning(((path("mac-addr", "value"), address),), (sco("mac-addr", value=address),))


def _port_only(value: str) -> Meaning:
    return Meaning(
        ((path("network-traffic", "dst_port"), _port(value.strip())),),
        no_observable="a port alone is no network-traffic observable (it needs an address)",
    )


def _size(value: str) -> Meaning:
    if not value.strip().isdigit():
        raise Unmappable(f"size {value[:20]!r} is not a number of bytes")
    return Meaning(
        ((path("file", "size"), int(value.strip())),),
        no_observable="a size alone gives a file observable no deterministic id",
    )


_NO_HTTP = "an HTTP header alone is no network-traffic observable (it needs an address)"
_HANDLERS: dict[str, Callable[[str], Meaning]] = {
    "ip-src": _ip,
    "ip-dst": _ip,
    "ip-src|port": _endpoint("src", None),
    "ip-dst|port": _endpoint("dst", None),
    "hostname|port": _endpoint("dst", "domain-name"),
    "domain": _domain,
    "hostname": _domain,
    "domain|ip": _domain_ip,
    "url": _url,
    "uri": _url,
    "email": _email(path("email-addr", "value")),
    "email-src": _email(path("email-message", "from_ref", "value")),
    "email-dst": _email(path("email-message", "to_refs[*]", "value")),
    "email-reply-to": _single(
        path("email-message", "additional_header_fields", "Reply-To"),
        "a Reply-To header alone gives an email-message no deterministic id",
    ),
    "email-subject": _email_subject,
    "email-message-id": _single(
        path("email-message", "message_id"),
        "a Message-ID alone gives an email-message no deterministic id",
    ),
    "email-x-mailer": _single(
        path("email-message", "additional_header_fields", "X-Mailer"),
        "an X-Mailer header alone gives an email-message no deterministic id",
    ),
    "email-attachment": _single(
        path("email-message", "body_multipart[*]", "body_raw_ref", "name"),
        "an attachment name alone gives an email-message no deterministic id",
    ),
    "filename": _filename,
    "imphash": _single(
        f"file:{_IMPHASH}", "an imphash belongs in windows-pebinary-ext, which needs a pe_type"
    ),
    "mutex": _mutex,
    "regkey": _regkey,
    "regkey|value": _regkey_value,
    "user-agent": _single(
        path("network-traffic", "extensions", "http-request-ext", "request_header", "User-Agent"),
        _NO_HTTP,
    ),
    "http-method": _single(
        path("network-traffic", "extensions", "http-request-ext", "request_method"), _NO_HTTP
    ),
    "as": _autonomous_system,
    "mac-address": _mac,
    "port": _port_only,
    "size-in-bytes": _size,
    "windows-service-name": _single(
        path("process", "extensions", "windows-service-ext", "service_name"),
        "a service name alone gives a process observable no deterministic id",
    ),
    "windows-service-displayname": _single(
        path("process", "extensions", "windows-service-ext", "display_name"),
        "a service name alone gives a process observable no deterministic id",
    ),
}
