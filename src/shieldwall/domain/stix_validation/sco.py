"""Rules for the 18 STIX Cyber-observable Objects (STIX 2.1 §6), as a table of data.

Required and typed properties (with light syntax checks for IPv4 and MAC addresses, domain
names and email addresses), the predefined ``-ext`` extensions of each type, the
"at least one of" rules, and UUIDv4 ids where no id-contributing property is present (§6).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from shieldwall.domain.stix_validation.checks import (
    _BASE64,
    _HEX,
    _boolean,
    _Check,
    _enum,
    _integer,
    _ipv6,
    _matching,
    _object,
    _ref,
    _ref_list,
    _string,
    _string_list,
    _timestamp,
    _url,
)
from shieldwall.domain.stix_validation.common import _SCO, _Rule, _rules, _TypeRules
from shieldwall.domain.stix_validation.compound import (
    _dictionary,
    _extensions,
    _hashes,
    _objects_list,
)

_IPV4: Final = re.compile(
    r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}"
    r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?:/(?:3[0-2]|[12]?[0-9]))?"
)
_MAC: Final = re.compile(r"(?:[0-9a-f]{2}:){5}[0-9a-f]{2}")
_DOMAIN: Final = re.compile(r"[^\s./@]{1,63}(?:\.[^\s./@]{1,63})*\.?")
_EMAIL: Final = re.compile(r"[^\s@]+@[^\s@]+")


def _artifact_rule(obj: dict[str, object], oid: str) -> str | None:
    if ("payload_bin" in obj) == ("url" in obj):
        return "artifact needs exactly one of payload_bin and url"
    if "url" in obj and "hashes" not in obj:
        return "artifact with url requires hashes"
    if "decryption_key" in obj and "encryption_algorithm" not in obj:
        return "decryption_key requires encryption_algorithm"
    return _uuid4_unless(obj, oid, ("hashes", "payload_bin"))


def _file_rule(obj: dict[str, object], oid: str) -> str | None:
    if "hashes" not in obj and "name" not in obj:
        return "file needs hashes or name"
    return None


def _network_traffic_rule(obj: dict[str, object], oid: str) -> str | None:
    if "src_ref" not in obj and "dst_ref" not in obj:
        return "network-traffic needs src_ref or dst_ref"
    if obj.get("is_active") is True and "end" in obj:
        return "end must be absent while is_active is true"
    return None


def _email_message_rule(obj: dict[str, object], oid: str) -> str | None:
    multipart = obj.get("is_multipart")
    if multipart is False and "body_multipart" in obj:
        return "body_multipart requires is_multipart to be true"
    if multipart is True and "body" in obj:
        return "body must be absent when is_multipart is true (use body_multipart)"
    return _uuid4_unless(obj, oid, ("from_ref", "subject", "body"))


def _uuid4_unless(obj: dict[str, object], oid: str, contributing: tuple[str, ...]) -> str | None:
    """SCOs without id-contributing properties must use a random (v4) UUID (§6)."""
    for name in contributing:
        if name in obj:
            return None
    if oid[oid.index("--") + 16] != "4":
        return "id must use a version 4 UUID when no id-contributing property is present"
    return None


def _at_least_one(
    type_name: str, names: tuple[str, ...], contributing: tuple[str, ...] | None
) -> _Rule:
    """The SCO must carry one of ``names``; optionally a v4 id unless ``contributing``."""

    def rule(obj: dict[str, object], oid: str) -> str | None:
        for name in names:
            if name in obj:
                break
        else:
            return f"{type_name} needs at least one of {', '.join(names)}"
        if contributing is None:
            return None
        return _uuid4_unless(obj, oid, contributing)

    return rule


def _process_rule(obj: dict[str, object], oid: str) -> str | None:
    problem = _PROCESS_PRESENCE(obj, oid)
    if problem is None and oid[oid.index("--") + 16] != "4":
        return "process id must use a version 4 UUID"
    return problem


_INT_COUNT: Final = _integer(0)

_PROCESS_PRESENCE: Final = _at_least_one(
    "process",
    (
        "extensions",
        "is_hidden",
        "pid",
        "created_time",
        "cwd",
        "command_line",
        "environment_variables",
        "opened_connection_refs",
        "creator_user_ref",
        "image_ref",
        "parent_ref",
        "child_refs",
    ),
    None,
)

_USER_ACCOUNT_PROPERTIES: Final[Mapping[str, _Check]] = {
    "user_id": _string,
    "credential": _string,
    "account_login": _string,
    "account_type": _string,
    "display_name": _string,
    "is_service_account": _boolean,
    "is_privileged": _boolean,
    "can_escalate_privs": _boolean,
    "is_disabled": _boolean,
    "account_created": _timestamp,
    "account_expires": _timestamp,
    "credential_last_changed": _timestamp,
    "account_first_login": _timestamp,
    "account_last_login": _timestamp,
}

_X509_PROPERTIES: Final[Mapping[str, _Check]] = {
    "is_self_signed": _boolean,
    "hashes": _hashes,
    "version": _string,
    "serial_number": _string,
    "signature_algorithm": _string,
    "issuer": _string,
    "validity_not_before": _timestamp,
    "validity_not_after": _timestamp,
    "subject": _string,
    "subject_public_key_algorithm": _string,
    "subject_public_key_modulus": _string,
    "subject_public_key_exponent": _integer(),
    "x509_v3_extensions": _object,
}

_ADDRESS_REFS: Final = ("ipv4-addr", "ipv6-addr", "mac-addr", "domain-name")

_SCO_RULES: Final[Mapping[str, _TypeRules]] = {
    "artifact": _rules(
        _SCO,
        {
            "mime_type": _string,
            "payload_bin": _matching(_BASE64, "base64"),
            "url": _url,
            "hashes": _hashes,
            "encryption_algorithm": _enum(
                "AES-256-GCM", "ChaCha20-Poly1305", "mime-type-indicated"
            ),
            "decryption_key": _string,
        },
        rule=_artifact_rule,
    ),
    "autonomous-system": _rules(
        _SCO, {"number": _integer(0), "name": _string, "rir": _string}, ("number",)
    ),
    "directory": _rules(
        _SCO,
        {
            "path": _string,
            "path_enc": _string,
            "ctime": _timestamp,
            "mtime": _timestamp,
            "atime": _timestamp,
            "contains_refs": _ref_list("file", "directory"),
        },
        ("path",),
    ),
    "domain-name": _rules(
        _SCO,
        {
            "value": _matching(_DOMAIN, "a domain name"),
            "resolves_to_refs": _ref_list("ipv4-addr", "ipv6-addr", "domain-name"),
        },
        ("value",),
    ),
    "email-addr": _rules(
        _SCO,
        {
            "value": _matching(_EMAIL, "an email address"),
            "display_name": _string,
            "belongs_to_ref": _ref("user-account"),
        },
        ("value",),
    ),
    "email-message": _rules(
        _SCO,
        {
            "is_multipart": _boolean,
            "date": _timestamp,
            "content_type": _string,
            "from_ref": _ref("email-addr"),
            "sender_ref": _ref("email-addr"),
            "to_refs": _ref_list("email-addr"),
            "cc_refs": _ref_list("email-addr"),
            "bcc_refs": _ref_list("email-addr"),
            "message_id": _string,
            "subject": _string,
            "received_lines": _string_list,
            "additional_header_fields": _dictionary,
            "body": _string,
            "body_multipart": _objects_list(),
            "raw_email_ref": _ref("artifact"),
        },
        ("is_multipart",),
        rule=_email_message_rule,
    ),
    "file": _rules(
        _SCO,
        {
            "extensions": _extensions(
                {
                    "archive-ext": ("contains_refs",),
                    "ntfs-ext": (),
                    "pdf-ext": (),
                    "raster-image-ext": (),
                    "windows-pebinary-ext": ("pe_type",),
                }
            ),
            "hashes": _hashes,
            "size": _integer(0),
            "name": _string,
            "name_enc": _string,
            "magic_number_hex": _matching(_HEX, "hex octets"),
            "mime_type": _string,
            "ctime": _timestamp,
            "mtime": _timestamp,
            "atime": _timestamp,
            "parent_directory_ref": _ref("directory"),
            "contains_refs": _ref_list(),
            "content_ref": _ref("artifact"),
        },
        rule=_file_rule,
    ),
    "ipv4-addr": _rules(
        _SCO,
        {
            "value": _matching(_IPV4, "an IPv4 address or CIDR block"),
            "resolves_to_refs": _ref_list("mac-addr"),
            "belongs_to_refs": _ref_list("autonomous-system"),
        },
        ("value",),
    ),
    "ipv6-addr": _rules(
        _SCO,
        {
            "value": _ipv6,
            "resolves_to_refs": _ref_list("mac-addr"),
            "belongs_to_refs": _ref_list("autonomous-system"),
        },
        ("value",),
    ),
    "mac-addr": _rules(
        _SCO,
        {"value": _matching(_MAC, "a lowercase, colon-separated MAC address")},
        ("value",),
    ),
    "mutex": _rules(_SCO, {"name": _string}, ("name",)),
    "network-traffic": _rules(
        _SCO,
        {
            "extensions": _extensions(
                {
                    "http-request-ext": ("request_method", "request_value"),
                    "icmp-ext": ("icmp_type_hex", "icmp_code_hex"),
                    "socket-ext": ("address_family",),
                    "tcp-ext": (),
                }
            ),
            "start": _timestamp,
            "end": _timestamp,
            "is_active": _boolean,
            "src_ref": _ref(*_ADDRESS_REFS),
            "dst_ref": _ref(*_ADDRESS_REFS),
            "src_port": _integer(0, 65535),
            "dst_port": _integer(0, 65535),
            "protocols": _string_list,
            "src_byte_count": _INT_COUNT,
            "dst_byte_count": _INT_COUNT,
            "src_packets": _INT_COUNT,
            "dst_packets": _INT_COUNT,
            "ipfix": _dictionary,
            "src_payload_ref": _ref("artifact"),
            "dst_payload_ref": _ref("artifact"),
            "encapsulates_refs": _ref_list("network-traffic"),
            "encapsulated_by_ref": _ref("network-traffic"),
        },
        ("protocols",),
        (("end", "start", False),),
        _network_traffic_rule,
    ),
    "process": _rules(
        _SCO,
        {
            "extensions": _extensions({"windows-process-ext": (), "windows-service-ext": ()}),
            "is_hidden": _boolean,
            "pid": _integer(),
            "created_time": _timestamp,
            "cwd": _string,
            "command_line": _string,
            "environment_variables": _dictionary,
            "opened_connection_refs": _ref_list("network-traffic"),
            "creator_user_ref": _ref("user-account"),
            "image_ref": _ref("file"),
            "parent_ref": _ref("process"),
            "child_refs": _ref_list("process"),
        },
        rule=_process_rule,
    ),
    "software": _rules(
        _SCO,
        {
            "name": _string,
            "cpe": _string,
            "swid": _string,
            "languages": _string_list,
            "vendor": _string,
            "version": _string,
        },
        ("name",),
    ),
    "url": _rules(_SCO, {"value": _url}, ("value",)),
    "user-account": _rules(
        _SCO,
        {"extensions": _extensions({"unix-account-ext": ()}), **_USER_ACCOUNT_PROPERTIES},
        rule=_at_least_one(
            "user-account",
            ("extensions", *_USER_ACCOUNT_PROPERTIES),
            ("account_type", "user_id", "account_login"),
        ),
    ),
    "windows-registry-key": _rules(
        _SCO,
        {
            "key": _string,
            "values": _objects_list(),
            "modified_time": _timestamp,
            "creator_user_ref": _ref("user-account"),
            "number_of_subkeys": _integer(0),
        },
        rule=_at_least_one(
            "windows-registry-key",
            ("key", "values", "modified_time", "creator_user_ref", "number_of_subkeys"),
            ("key", "values"),
        ),
    ),
    "x509-certificate": _rules(
        _SCO,
        _X509_PROPERTIES,
        rule=_at_least_one(
            "x509-certificate", tuple(_X509_PROPERTIES), ("hashes", "serial_number")
        ),
    ),
}
