"""Fast ingest-time validation of STIX 2.1 objects.

Every object submitted to the TAXII server passes through :func:`validate_object` before it
is stored. The checks follow *STIX Version 2.1* (OASIS Standard, 10 June 2021; section
numbers as there):

- §2 common data types: dictionary, external-reference (a ``source_name`` and one of
  ``description``/``url``/``external_id``; ``cve``/``capec`` ids), hashes, hex, binary,
  identifier (``type--`` + RFC 4122 UUID), kill-chain-phase, list (empty lists are
  prohibited), timestamp (RFC 3339, UTC, ``Z``);
- §3.1 type and property names (a–z, 0–9, ``-`` resp. ``_``, 3–250 characters, starting
  with a letter), §3.2 common properties (``spec_version`` "2.1", ``created``/``modified``
  with at least millisecond precision and ``modified`` >= ``created``, ``created_by_ref``
  to an identity, ``confidence`` 0–100, ``object_marking_refs``, granular markings whose
  selectors resolve, ``extensions``), and the reserved property names;
- §4 required and typed properties of every SDO, with their ordering rules
  (``valid_until`` > ``valid_from``, ``last_seen`` >= ``first_seen`` …) and co-occurrence
  rules (Malware ``name`` for families, Location coordinates, Observed Data
  ``objects``/``object_refs``); an indicator pattern with ``pattern_type`` "stix" must parse
  (§9, via :func:`shieldwall.domain.patterns.parse_pattern`);
- §5 relationship and sighting, including which object types their references may name;
- §6 cyber-observable objects: the required/typed properties of the 18 core SCOs,
  their predefined extensions, UUIDv4 ids where no id-contributing property exists;
- §7.1 language content, §7.2 marking definitions (statement; the four TLP 1.0 objects
  exactly as §7.2.1.4 lists them; extension-based markings such as TLP 2.0), §7.3 extension
  definitions and the ``extensions`` property, and §11 custom content: a type the spec does
  not define is accepted only when it declares itself through an ``extension-definition--``
  extension whose ``extension_type`` is ``new-sdo``, ``new-sco`` or ``new-sro``.

The rules were cross-checked against ``stix2-validator`` 3.3 (its 2.1 JSON schemas and
``musts``), which ``tests/domain/test_stix_validation.py`` runs side by side. Where we
reject what it accepts, the spec requires it (``created_by_ref`` to an identity, marking
refs to marking definitions, custom types only through extensions, ``spec_version`` exactly
"2.1" …) or the server does (a bundle is an envelope, not a storable object). Where we
accept what it rejects, the test module's docstring lists the cases. Timestamps with a
leap second or year 0000 are rejected although RFC 3339 allows them: neither Python's
datetime nor the reference can represent them.

The per-type rules are data (``_RULES``: type → property checkers, required properties,
ordering pairs, one cross-property rule), applied in one pass over the object's properties.
No stix2 objects are built; messages are only formatted on failure.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, NoReturn, cast

from shieldwall.domain.errors import InvalidInput, InvalidStix
from shieldwall.domain.patterns import parse_pattern
from shieldwall.domain.timestamps import parse_timestamp

__all__ = ["ValidObject", "validate_object"]


@dataclass(frozen=True, slots=True)
class ValidObject:
    """What ingest needs to know about an object that passed validation."""

    id: str
    type: str
    spec_version: str
    created_micros: int | None
    modified_micros: int | None
    pattern: str | None


# A checker takes a property value (never None) and the property name and returns an
# error message (without the object id) or None when the value is fine.
_Check = Callable[[object, str], "str | None"]
# A cross-property rule takes the whole object and returns an error message or None.
_Rule = Callable[[dict[str, object], str], "str | None"]

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

SPEC_VERSION: Final = "2.1"
_RESERVED_PROPERTIES: Final = frozenset({"severity", "action", "username", "phone_numbers"})
_EXTENSION_TYPES: Final = frozenset(
    {"new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension"}
)
_NEW_OBJECT_EXTENSION_TYPES: Final = frozenset({"new-sdo", "new-sco", "new-sro"})

SDO_TYPES: Final = frozenset(
    {
        "attack-pattern",
        "campaign",
        "course-of-action",
        "grouping",
        "identity",
        "incident",
        "indicator",
        "infrastructure",
        "intrusion-set",
        "location",
        "malware",
        "malware-analysis",
        "note",
        "observed-data",
        "opinion",
        "report",
        "threat-actor",
        "tool",
        "vulnerability",
    }
)
SRO_TYPES: Final = frozenset({"relationship", "sighting"})
SCO_TYPES: Final = frozenset(
    {
        "artifact",
        "autonomous-system",
        "directory",
        "domain-name",
        "email-addr",
        "email-message",
        "file",
        "ipv4-addr",
        "ipv6-addr",
        "mac-addr",
        "mutex",
        "network-traffic",
        "process",
        "software",
        "url",
        "user-account",
        "windows-registry-key",
        "x509-certificate",
    }
)
META_TYPES: Final = frozenset({"marking-definition", "language-content", "extension-definition"})
# Objects that are not things one can relate, sight or observe.
_NOT_RELATABLE: Final = SRO_TYPES | META_TYPES | {"bundle"}

# The four TLP 1.0 marking definitions, exactly as STIX 2.1 §7.2.1.4 lists them.
_TLP1_MARKINGS: Final[Mapping[str, Mapping[str, object]]] = {
    f"marking-definition--{uuid}": {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{uuid}",
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp",
        "name": f"TLP:{colour.upper()}",
        "definition": {"tlp": colour},
    }
    for colour, uuid in (
        ("white", "613f2e26-407d-48c7-9eca-b8e91df99dc9"),
        ("green", "34098fce-860f-48ae-8e50-ebd3cc5e41da"),
        ("amber", "f88d31f6-486f-44da-b317-01333bde0b82"),
        ("red", "5e57c739-391a-4eb3-b6be-7d15ca92d5ed"),
    )
}

# --------------------------------------------------------------------------- helpers

_JSON_TYPE_NAMES: Final[Mapping[type, str]] = {
    dict: "an object",
    list: "a list",
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    type(None): "null",
}


def _kind(value: object) -> str:
    """The JSON type of ``value`` for messages ("a string", "null" …)."""
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def _fail(message: str, object_id: str | None) -> NoReturn:
    raise InvalidStix(f"{object_id}: {message}" if object_id else message, object_id)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _list_problem(value: object, name: str, what: str) -> str:
    if isinstance(value, list):
        return f"{name} must not be an empty list (omit the property instead)"
    return f"{name} must be a list of {what}, not {_kind(value)}"


def _ref_problem(
    value: object, allowed: frozenset[str] | None, forbidden: frozenset[str]
) -> str | None:
    """Why ``value`` is not an identifier of an allowed type (None when it is)."""
    if not isinstance(value, str):
        return f"must be a STIX identifier, not {_kind(value)}"
    match = _IDENTIFIER.fullmatch(value)
    if match is None or not 3 <= match.end(1) <= 250:
        return f"{value!r} is not a STIX identifier (type--RFC 4122 UUID)"
    ref_type = match.group(1)
    if allowed is not None and ref_type not in allowed:
        return f"must refer to {' or '.join(sorted(allowed))} objects, not {ref_type}"
    if ref_type in forbidden:
        return f"must not refer to a {ref_type} object"
    return None


def _timestamp_problem(value: object, name: str) -> str | None:
    try:
        parse_timestamp(value, name)
    except InvalidInput as exc:
        return exc.message
    return _representable_problem(cast(str, value), name)


def _representable_problem(text: str, name: str) -> str | None:
    """Timestamps ``parse_timestamp`` accepts but Python's datetime (and stix2) cannot hold."""
    if text[17] == "6":
        return f"{name} {text!r} has a leap second (:60), which cannot be represented"
    if text.startswith("0000"):
        return f"{name} {text!r} has year 0000, which cannot be represented"
    return None


def _property_name_problem(key: object) -> str | None:
    if not isinstance(key, str):
        return f"property names must be strings, not {_kind(key)}"
    if _PROPERTY_NAME.fullmatch(key) is None:
        return (
            f"property name {key!r} is not valid: names are 3–250 characters of "
            "a–z, 0–9 and '_', starting with a letter"
        )
    return None


def _free_value_problem(value: object, name: str) -> str | None:
    """Rules for values whose type the spec leaves open (custom and extension properties)."""
    if value is None:
        return f"{name} must not be null (omit the property instead)"
    if isinstance(value, list) and not value:
        return f"{name} must not be an empty list (omit the property instead)"
    if name.endswith("_bin") and not (isinstance(value, str) and _BASE64.fullmatch(value)):
        return f"{name} ends in _bin and must be a base64 string"
    if name.endswith("_hex") and not (isinstance(value, str) and _HEX.fullmatch(value)):
        return f"{name} ends in _hex and must be a string of hex octets"
    return None


def _open_properties_problem(value: dict[object, object]) -> str | None:
    """Names and values of an object whose properties the spec leaves open."""
    for key, item in value.items():
        problem = _property_name_problem(key)
        if problem is None:
            problem = _free_value_problem(item, cast(str, key))
        if problem is not None:
            return problem
    return None


# ------------------------------------------------------------------ value checkers


def _noop(value: object, name: str) -> str | None:
    """Properties handled outside the per-property loop (type, id, created …)."""
    return None


def _string(value: object, name: str) -> str | None:
    if isinstance(value, str):
        return None
    return f"{name} must be a string, not {_kind(value)}"


def _boolean(value: object, name: str) -> str | None:
    if isinstance(value, bool):
        return None
    return f"{name} must be true or false, not {_kind(value)}"


def _object(value: object, name: str) -> str | None:
    if isinstance(value, dict):
        return None
    return f"{name} must be an object, not {_kind(value)}"


def _string_list(value: object, name: str) -> str | None:
    if not (isinstance(value, list) and value):
        return _list_problem(value, name, "strings")
    for item in value:
        if not isinstance(item, str):
            return f"{name} must be a list of strings, but contains {_kind(item)}"
    return None


def _timestamp(value: object, name: str) -> str | None:
    return _timestamp_problem(value, name)


def _integer(low: int | None = None, high: int | None = None) -> _Check:
    def check(value: object, name: str) -> str | None:
        if not _is_int(value):
            return f"{name} must be an integer, not {_kind(value)}"
        number = cast(int, value)
        if (low is not None and number < low) or (high is not None and number > high):
            bounds = f"at least {low}" if high is None else f"between {low} and {high}"
            return f"{name} must be {bounds}, not {number}"
        return None

    return check


def _number(low: float, high: float) -> _Check:
    def check(value: object, name: str) -> str | None:
        if not _is_number(value):
            return f"{name} must be a number, not {_kind(value)}"
        if not low <= cast(float, value) <= high:
            return f"{name} must be between {low:g} and {high:g}, not {value}"
        return None

    return check


def _any_number(value: object, name: str) -> str | None:
    if _is_number(value):
        return None
    return f"{name} must be a number, not {_kind(value)}"


def _enum(*allowed: str) -> _Check:
    values = frozenset(allowed)

    def check(value: object, name: str) -> str | None:
        if isinstance(value, str) and value in values:
            return None
        return f"{name} must be one of {', '.join(allowed)}, not {value!r}"

    return check


def _matching(pattern: re.Pattern[str], what: str) -> _Check:
    def check(value: object, name: str) -> str | None:
        if not isinstance(value, str):
            return f"{name} must be a string, not {_kind(value)}"
        if pattern.fullmatch(value) is None:
            return f"{name} {value!r} is not {what}"
        return None

    return check


def _ipv6(value: object, name: str) -> str | None:
    if not isinstance(value, str):
        return f"{name} must be a string, not {_kind(value)}"
    try:
        ipaddress.IPv6Network(value, strict=False)
    except ValueError:
        return f"{name} {value!r} is not an IPv6 address or CIDR block"
    return None


def _ref(*allowed: str, forbidden: frozenset[str] = frozenset()) -> _Check:
    types = frozenset(allowed) if allowed else None

    def check(value: object, name: str) -> str | None:
        problem = _ref_problem(value, types, forbidden)
        return None if problem is None else f"{name} {problem}"

    return check


def _ref_list(*allowed: str, forbidden: frozenset[str] = frozenset()) -> _Check:
    types = frozenset(allowed) if allowed else None

    def check(value: object, name: str) -> str | None:
        if not (isinstance(value, list) and value):
            return _list_problem(value, name, "STIX identifiers")
        for item in value:
            problem = _ref_problem(item, types, forbidden)
            if problem is not None:
                return f"{name} entry {problem}"
        return None

    return check


def _dictionary(value: object, name: str) -> str | None:
    """STIX dictionary (§2.3): non-empty, keys of a–z A–Z 0–9 '_' '-', no null values."""
    if not isinstance(value, dict):
        return f"{name} must be an object, not {_kind(value)}"
    if not value:
        return f"{name} must not be empty (omit the property instead)"
    for key, item in value.items():
        if not (isinstance(key, str) and _DICT_KEY.fullmatch(key)):
            return f"{name} key {key!r} must be 1–250 characters of a–z, A–Z, 0–9, '_' and '-'"
        if item is None or (isinstance(item, list) and not item):
            return f"{name}.{key} must not be null or an empty list"
    return None


def _hashes_problem(value: object, name: str, algorithms_only: bool) -> str | None:
    """Hashes type (§2.7): keys are algorithm names, values hex digests of the right size."""
    if not isinstance(value, dict):
        return f"{name} must be an object, not {_kind(value)}"
    if not value:
        return f"{name} must not be empty (omit the property instead)"
    for key, digest in value.items():
        if not (isinstance(key, str) and _HASH_KEY.fullmatch(key)):
            return f"{name} key {key!r} must be 3–250 characters of a–z, A–Z, 0–9, '_' and '-'"
        if not isinstance(digest, str):
            return f"{name}.{key} must be a string, not {_kind(digest)}"
        expected = _HASH_FORMATS.get(key)
        if expected is None:
            if algorithms_only:
                return f"{name} key {key!r} is not one of {', '.join(_HASH_FORMATS)}"
        elif expected.fullmatch(digest) is None:
            return f"{name}.{key} {digest!r} is not a valid {key} value"
    return None


def _hashes(value: object, name: str) -> str | None:
    return _hashes_problem(value, name, algorithms_only=False)


def _external_references(value: object, name: str) -> str | None:
    """External references (§2.5)."""
    if not (isinstance(value, list) and value):
        return _list_problem(value, name, "external references")
    for index, ref in enumerate(value):
        problem = _external_reference_problem(ref)
        if problem is not None:
            return f"{name}[{index}]{problem}"
    return None


def _external_reference_problem(ref: object) -> str | None:
    """What is wrong with one external reference, as a suffix to its location."""
    if not isinstance(ref, dict):
        return f" must be an object, not {_kind(ref)}"
    source = ref.get("source_name")
    if not isinstance(source, str):
        return ".source_name is required and must be a string"
    for key in ("description", "url", "external_id"):
        if key in ref and not isinstance(ref[key], str):
            return f".{key} must be a string, not {_kind(ref[key])}"
    if not ("description" in ref or "url" in ref or "external_id" in ref):
        return " needs at least one of description, url and external_id"
    if "url" in ref and _URL.fullmatch(ref["url"]) is None:
        return f".url {ref['url']!r} is not a URL"
    if "hashes" in ref:
        problem = _hashes_problem(ref["hashes"], "hashes", algorithms_only=True)
        if problem is not None:
            return f".{problem}"
    external_id = ref.get("external_id")
    if source == "cve" and not (isinstance(external_id, str) and _CVE.fullmatch(external_id)):
        return " with source_name 'cve' needs an external_id like CVE-2024-1234"
    if source == "capec" and not (isinstance(external_id, str) and _CAPEC.fullmatch(external_id)):
        return " with source_name 'capec' needs an external_id like CAPEC-163"
    return None


def _kill_chain_phases(value: object, name: str) -> str | None:
    """Kill chain phases (§2.11)."""
    if not (isinstance(value, list) and value):
        return _list_problem(value, name, "kill chain phases")
    for index, phase in enumerate(value):
        if not isinstance(phase, dict):
            return f"{name}[{index}] must be an object, not {_kind(phase)}"
        for key in ("kill_chain_name", "phase_name"):
            if not isinstance(phase.get(key), str):
                return f"{name}[{index}].{key} is required and must be a string"
    return None


def _granular_markings(value: object, name: str) -> str | None:
    """Granular markings (§7.2.3); that selectors resolve is checked in ``_check_selectors``."""
    if not (isinstance(value, list) and value):
        return _list_problem(value, name, "granular markings")
    for index, marking in enumerate(value):
        problem = _granular_marking_problem(marking)
        if problem is not None:
            return f"{name}[{index}]{problem}"
    return None


_MARKING_DEFINITION: Final = frozenset({"marking-definition"})
_NOTHING: Final[frozenset[str]] = frozenset()


def _granular_marking_problem(marking: object) -> str | None:
    """What is wrong with one granular marking, as a suffix to its location."""
    if not isinstance(marking, dict):
        return f" must be an object, not {_kind(marking)}"
    selectors = marking.get("selectors")
    if not (isinstance(selectors, list) and selectors):
        return ".selectors is required and must be a non-empty list of strings"
    for selector in selectors:
        if not (isinstance(selector, str) and _SELECTOR.fullmatch(selector)):
            return f".selectors entry {selector!r} is not a valid selector"
    has_ref = "marking_ref" in marking
    if has_ref == ("lang" in marking):
        return " needs exactly one of marking_ref and lang"
    if has_ref:
        problem = _ref_problem(marking["marking_ref"], _MARKING_DEFINITION, _NOTHING)
        if problem is not None:
            return f".marking_ref {problem}"
    elif not (isinstance(marking["lang"], str) and _LANG.fullmatch(marking["lang"])):
        return ".lang must be an RFC 5646 language tag"
    return None


def _lang(value: object, name: str) -> str | None:
    if isinstance(value, str) and _LANG.fullmatch(value):
        return None
    return f"{name} must be an RFC 5646 language tag like 'en' or 'pt-BR', not {value!r}"


def _url(value: object, name: str) -> str | None:
    if not isinstance(value, str):
        return f"{name} must be a string, not {_kind(value)}"
    if _URL.fullmatch(value) is None:
        return f"{name} {value!r} is not a URL"
    return None


def _objects_list(*required: str) -> _Check:
    """A non-empty list of objects, each with the ``required`` string properties."""

    def check(value: object, name: str) -> str | None:
        if not (isinstance(value, list) and value):
            return _list_problem(value, name, "objects")
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                return f"{name}[{index}] must be an object, not {_kind(item)}"
            for key in required:
                if not isinstance(item.get(key), str):
                    return f"{name}[{index}].{key} is required and must be a string"
        return None

    return check


def _extension_problem(
    key: object, extension: object, predefined: Mapping[str, tuple[str, ...]]
) -> str | None:
    """What is wrong with one ``extensions`` entry, as a suffix to its location."""
    if isinstance(key, str) and _EXTENSION_DEFINITION_KEY.fullmatch(key):
        if not isinstance(extension, dict):
            return f" must be an object, not {_kind(extension)}"
        extension_type = extension.get("extension_type")
        if extension_type not in _EXTENSION_TYPES:
            return (
                f".extension_type must be one of {', '.join(sorted(_EXTENSION_TYPES))}, "
                f"not {extension_type!r}"
            )
    elif isinstance(key, str) and key in predefined:
        if not (isinstance(extension, dict) and extension):
            return " must be a non-empty object"
        for required in predefined[key]:
            if required not in extension:
                return f" requires {required}"
    else:
        allowed = "an extension-definition id"
        if predefined:
            allowed += " or one of " + ", ".join(sorted(predefined))
        return f" is not {allowed}"
    problem = _open_properties_problem(extension)
    return None if problem is None else f": {problem}"


def _extensions(predefined: Mapping[str, tuple[str, ...]]) -> _Check:
    """The ``extensions`` property (§7.3, §6 predefined extensions).

    ``predefined`` maps the predefined extension names allowed on this type to the
    properties each of them requires.
    """

    def check(value: object, name: str) -> str | None:
        if not isinstance(value, dict):
            return f"{name} must be an object, not {_kind(value)}"
        if not value:
            return f"{name} must not be empty (omit the property instead)"
        for key, extension in value.items():
            problem = _extension_problem(key, extension, predefined)
            if problem is not None:
                return f"{name}[{key!r}]{problem}"
        return None

    return check


def _language_contents(value: object, name: str) -> str | None:
    """Language Content ``contents`` (§7.1): language tag → translated properties."""
    if not isinstance(value, dict):
        return f"{name} must be an object, not {_kind(value)}"
    if not value:
        return f"{name} must not be empty"
    for lang, translated in value.items():
        if not (isinstance(lang, str) and _LANG.fullmatch(lang)):
            return f"{name} key {lang!r} is not an RFC 5646 language tag"
        if not (isinstance(translated, dict) and translated):
            return f"{name}.{lang} must be a non-empty object"
        problem = _open_properties_problem(translated)
        if problem is not None:
            return f"{name}.{lang}: {problem}"
    return None


def _observed_objects(value: object, name: str) -> str | None:
    """Observed Data ``objects`` (deprecated in 2.1): a dictionary of cyber observables."""
    if not isinstance(value, dict):
        return f"{name} must be an object, not {_kind(value)}"
    if not value:
        return f"{name} must not be empty"
    for key, item in value.items():
        if not (isinstance(item, dict) and isinstance(item.get("type"), str)):
            return f"{name}[{key!r}] must be a cyber observable object with a type"
    return None


# -------------------------------------------------------------- cross-property rules


def _malware_rule(obj: dict[str, object], oid: str) -> str | None:
    if obj.get("is_family") is True and "name" not in obj:
        return "name is required when is_family is true"
    return None


def _location_rule(obj: dict[str, object], oid: str) -> str | None:
    has_latitude = "latitude" in obj
    if has_latitude != ("longitude" in obj):
        return "latitude and longitude must be given together"
    if not (has_latitude or "region" in obj or "country" in obj):
        return "a location needs region, country, or latitude and longitude"
    if "precision" in obj and not has_latitude:
        return "precision requires latitude and longitude"
    return None


def _malware_analysis_rule(obj: dict[str, object], oid: str) -> str | None:
    if "result" not in obj and "analysis_sco_refs" not in obj:
        return "malware-analysis needs result or analysis_sco_refs"
    return None


def _observed_data_rule(obj: dict[str, object], oid: str) -> str | None:
    if ("objects" in obj) == ("object_refs" in obj):
        return "observed-data needs exactly one of object_refs and objects"
    return None


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


def _marking_definition_rule(obj: dict[str, object], oid: str) -> str | None:
    definition_type = obj.get("definition_type")
    definition = obj.get("definition")
    if "extensions" not in obj and ("definition_type" not in obj or "definition" not in obj):
        return "definition_type and definition are required unless extensions is present"
    if definition_type == "tlp" and obj != _TLP1_MARKINGS.get(oid):
        return (
            "a TLP 1.0 marking must be exactly one of the four predefined TLP "
            "marking-definition objects (STIX 2.1 §7.2.1.4)"
        )
    if definition_type == "statement" and not (
        isinstance(definition, dict) and isinstance(definition.get("statement"), str)
    ):
        return "a statement marking needs definition.statement as a string"
    refs = obj.get("object_marking_refs")
    if isinstance(refs, list) and oid in refs:
        return "object_marking_refs must not refer to the marking definition itself"
    markings = obj.get("granular_markings")
    if isinstance(markings, list):
        for marking in markings:
            if isinstance(marking, dict) and marking.get("marking_ref") == oid:
                return "granular_markings must not refer to the marking definition itself"
    return None


def _extension_definition_rule(obj: dict[str, object], oid: str) -> str | None:
    value = obj.get("extension_types")
    if isinstance(value, list):
        for item in value:
            if item not in _EXTENSION_TYPES:
                return (
                    f"extension_types entry {item!r} is not one of "
                    f"{', '.join(sorted(_EXTENSION_TYPES))}"
                )
    return None


_MISSING: Final = object()


def _check_selectors(obj: dict[str, object], oid: str) -> None:
    """Granular marking selectors must point at content present in the object (§7.2.3.1)."""
    for marking in cast(list[dict[str, object]], obj["granular_markings"]):
        for selector in cast(list[str], marking["selectors"]):
            node: object = obj
            for part in selector.split("."):
                if part[0] == "[":
                    index = int(part[1:-1])
                    if not (isinstance(node, list) and index < len(node)):
                        node = _MISSING
                        break
                    node = node[index]
                elif isinstance(node, dict) and part in node:
                    node = node[part]
                else:
                    node = _MISSING
                    break
            if node is _MISSING:
                _fail(f"granular marking selector {selector!r} selects nothing", oid)


# --------------------------------------------------------------------- type tables

_CORE = 0  # SDO, SRO, language-content, extension-definition: created and modified
_MARKING = 1  # marking-definition: created only
_SCO = 2  # cyber observables: neither


@dataclass(frozen=True, slots=True)
class _TypeRules:
    category: int
    checks: Mapping[str, _Check]
    required: tuple[str, ...]
    # (later, earlier, strictly): later must be > (strictly) or >= earlier
    ordered: tuple[tuple[str, str, bool], ...]
    rule: _Rule | None


_NO_EXTENSIONS: Final[Mapping[str, tuple[str, ...]]] = {}

_CORE_COMMON: Final[Mapping[str, _Check]] = {
    "type": _noop,
    "id": _noop,
    "spec_version": _noop,
    "created": _noop,
    "modified": _noop,
    "created_by_ref": _ref("identity"),
    "revoked": _boolean,
    "labels": _string_list,
    "confidence": _integer(0, 100),
    "lang": _lang,
    "external_references": _external_references,
    "object_marking_refs": _ref_list("marking-definition"),
    "granular_markings": _granular_markings,
    "extensions": _extensions(_NO_EXTENSIONS),
}

_SCO_COMMON: Final[Mapping[str, _Check]] = {
    "type": _noop,
    "id": _noop,
    "spec_version": _noop,
    "object_marking_refs": _ref_list("marking-definition"),
    "granular_markings": _granular_markings,
    "defanged": _boolean,
    "extensions": _extensions(_NO_EXTENSIONS),
}

_MARKING_COMMON: Final[Mapping[str, _Check]] = {
    "type": _noop,
    "id": _noop,
    "spec_version": _noop,
    "created": _noop,
    "created_by_ref": _ref("identity"),
    "external_references": _external_references,
    "object_marking_refs": _ref_list("marking-definition"),
    "granular_markings": _granular_markings,
    "extensions": _extensions(_NO_EXTENSIONS),
    "name": _string,
    "definition_type": _string,
    "definition": _object,
}

_SEEN: Final = (("last_seen", "first_seen", False),)
_NAME_ONLY: Final[Mapping[str, _Check]] = {"name": _string, "description": _string}
_INT_COUNT: Final = _integer(0)


def _rules(
    category: int,
    checks: Mapping[str, _Check],
    required: tuple[str, ...] = (),
    ordered: tuple[tuple[str, str, bool], ...] = (),
    rule: _Rule | None = None,
) -> _TypeRules:
    common = {_CORE: _CORE_COMMON, _MARKING: _MARKING_COMMON, _SCO: _SCO_COMMON}[category]
    return _TypeRules(category, {**common, **checks}, required, ordered, rule)


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

_RULES: Final[Mapping[str, _TypeRules]] = {
    # ---- §4 STIX Domain Objects
    "attack-pattern": _rules(
        _CORE,
        {**_NAME_ONLY, "aliases": _string_list, "kill_chain_phases": _kill_chain_phases},
        ("name",),
    ),
    "campaign": _rules(
        _CORE,
        {
            **_NAME_ONLY,
            "aliases": _string_list,
            "first_seen": _timestamp,
            "last_seen": _timestamp,
            "objective": _string,
        },
        ("name",),
        _SEEN,
    ),
    "course-of-action": _rules(_CORE, _NAME_ONLY, ("name",)),
    "grouping": _rules(
        _CORE,
        {**_NAME_ONLY, "context": _string, "object_refs": _ref_list()},
        ("context", "object_refs"),
    ),
    "identity": _rules(
        _CORE,
        {
            **_NAME_ONLY,
            "roles": _string_list,
            "identity_class": _string,
            "sectors": _string_list,
            "contact_information": _string,
        },
        ("name",),
    ),
    "incident": _rules(_CORE, {**_NAME_ONLY, "kill_chain_phases": _kill_chain_phases}, ("name",)),
    "indicator": _rules(
        _CORE,
        {
            **_NAME_ONLY,
            "indicator_types": _string_list,
            "pattern": _string,
            "pattern_type": _string,
            "pattern_version": _string,
            "valid_from": _timestamp,
            "valid_until": _timestamp,
            "kill_chain_phases": _kill_chain_phases,
        },
        ("pattern", "pattern_type", "valid_from"),
        (("valid_until", "valid_from", True),),
    ),
    "infrastructure": _rules(
        _CORE,
        {
            **_NAME_ONLY,
            "infrastructure_types": _string_list,
            "aliases": _string_list,
            "kill_chain_phases": _kill_chain_phases,
            "first_seen": _timestamp,
            "last_seen": _timestamp,
        },
        ("name",),
        _SEEN,
    ),
    "intrusion-set": _rules(
        _CORE,
        {
            **_NAME_ONLY,
            "aliases": _string_list,
            "first_seen": _timestamp,
            "last_seen": _timestamp,
            "goals": _string_list,
            "resource_level": _string,
            "primary_motivation": _string,
            "secondary_motivations": _string_list,
        },
        ("name",),
        _SEEN,
    ),
    "location": _rules(
        _CORE,
        {
            **_NAME_ONLY,
            "latitude": _number(-90.0, 90.0),
            "longitude": _number(-180.0, 180.0),
            "precision": _any_number,
            "region": _string,
            "country": _string,
            "administrative_area": _string,
            "city": _string,
            "street_address": _string,
            "postal_code": _string,
        },
        rule=_location_rule,
    ),
    "malware": _rules(
        _CORE,
        {
            **_NAME_ONLY,
            "malware_types": _string_list,
            "is_family": _boolean,
            "aliases": _string_list,
            "kill_chain_phases": _kill_chain_phases,
            "first_seen": _timestamp,
            "last_seen": _timestamp,
            "operating_system_refs": _ref_list("software"),
            "architecture_execution_envs": _string_list,
            "implementation_languages": _string_list,
            "capabilities": _string_list,
            "sample_refs": _ref_list("file", "artifact"),
        },
        ("is_family",),
        _SEEN,
        _malware_rule,
    ),
    "malware-analysis": _rules(
        _CORE,
        {
            "product": _string,
            "version": _string,
            "host_vm_ref": _ref("software"),
            "operating_system_ref": _ref("software"),
            "installed_software_refs": _ref_list("software"),
            "configuration_version": _string,
            "modules": _string_list,
            "analysis_engine_version": _string,
            "analysis_definition_version": _string,
            "submitted": _timestamp,
            "analysis_started": _timestamp,
            "analysis_ended": _timestamp,
            "result_name": _string,
            "result": _string,
            "analysis_sco_refs": _ref_list(),
            "sample_ref": _ref("file", "network-traffic", "artifact"),
        },
        ("product",),
        rule=_malware_analysis_rule,
    ),
    "note": _rules(
        _CORE,
        {
            "abstract": _string,
            "content": _string,
            "authors": _string_list,
            "object_refs": _ref_list(),
        },
        ("content", "object_refs"),
    ),
    "observed-data": _rules(
        _CORE,
        {
            "first_observed": _timestamp,
            "last_observed": _timestamp,
            "number_observed": _integer(1, 999_999_999),
            "objects": _observed_objects,
            "object_refs": _ref_list(forbidden=SDO_TYPES | META_TYPES | {"bundle"}),
        },
        ("first_observed", "last_observed", "number_observed"),
        (("last_observed", "first_observed", False),),
        _observed_data_rule,
    ),
    "opinion": _rules(
        _CORE,
        {
            "explanation": _string,
            "authors": _string_list,
            "opinion": _enum("strongly-disagree", "disagree", "neutral", "agree", "strongly-agree"),
            "object_refs": _ref_list(),
        },
        ("opinion", "object_refs"),
    ),
    "report": _rules(
        _CORE,
        {
            **_NAME_ONLY,
            "report_types": _string_list,
            "published": _timestamp,
            "object_refs": _ref_list(),
        },
        ("name", "published", "object_refs"),
    ),
    "threat-actor": _rules(
        _CORE,
        {
            **_NAME_ONLY,
            "threat_actor_types": _string_list,
            "aliases": _string_list,
            "first_seen": _timestamp,
            "last_seen": _timestamp,
            "roles": _string_list,
            "goals": _string_list,
            "sophistication": _string,
            "resource_level": _string,
            "primary_motivation": _string,
            "secondary_motivations": _string_list,
            "personal_motivations": _string_list,
        },
        ("name",),
        _SEEN,
    ),
    "tool": _rules(
        _CORE,
        {
            **_NAME_ONLY,
            "tool_types": _string_list,
            "aliases": _string_list,
            "kill_chain_phases": _kill_chain_phases,
            "tool_version": _string,
        },
        ("name",),
    ),
    "vulnerability": _rules(_CORE, _NAME_ONLY, ("name",)),
    # ---- §5 STIX Relationship Objects
    "relationship": _rules(
        _CORE,
        {
            "relationship_type": _matching(_RELATIONSHIP_TYPE, "made of a–z, 0–9 and '-'"),
            "description": _string,
            "source_ref": _ref(forbidden=_NOT_RELATABLE),
            "target_ref": _ref(forbidden=_NOT_RELATABLE),
            "start_time": _timestamp,
            "stop_time": _timestamp,
        },
        ("relationship_type", "source_ref", "target_ref"),
        (("stop_time", "start_time", True),),
    ),
    "sighting": _rules(
        _CORE,
        {
            "description": _string,
            "first_seen": _timestamp,
            "last_seen": _timestamp,
            "count": _integer(0, 999_999_999),
            "sighting_of_ref": _ref(forbidden=_NOT_RELATABLE),
            "observed_data_refs": _ref_list("observed-data"),
            "where_sighted_refs": _ref_list("identity", "location"),
            "summary": _boolean,
        },
        ("sighting_of_ref",),
        _SEEN,
    ),
    # ---- §7 STIX Meta Objects
    "language-content": _rules(
        _CORE,
        {
            "object_ref": _ref(),
            "object_modified": _timestamp,
            "contents": _language_contents,
        },
        ("object_ref", "contents"),
    ),
    "marking-definition": _rules(_MARKING, {}, rule=_marking_definition_rule),
    "extension-definition": _rules(
        _CORE,
        {
            "name": _string,
            "description": _string,
            "schema": _string,
            "version": _string,
            "extension_types": _string_list,
            "extension_properties": _string_list,
        },
        ("created_by_ref", "name", "schema", "version", "extension_types"),
        rule=_extension_definition_rule,
    ),
    # ---- §6 STIX Cyber-observable Objects
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


# Custom objects (§11.2 via §7.3): common properties only, by the kind they declare.
_CUSTOM_CORE: Final = _rules(_CORE, {})
_CUSTOM_SCO: Final = _rules(_SCO, {})


def _custom_rules(obj: dict[str, object], type_name: str, oid: str) -> _TypeRules:
    """Rules for a type the spec does not define, from its new-sdo/sco/sro extension."""
    extensions = obj.get("extensions")
    if isinstance(extensions, dict):
        for key, extension in extensions.items():
            if (
                isinstance(key, str)
                and key.startswith("extension-definition--")
                and isinstance(extension, dict)
                and extension.get("extension_type") in _NEW_OBJECT_EXTENSION_TYPES
            ):
                return _CUSTOM_SCO if extension["extension_type"] == "new-sco" else _CUSTOM_CORE
    _fail(
        f"{type_name!r} is not a STIX 2.1 type; a custom object type must declare itself "
        "with an extensions entry keyed by its extension-definition id and an "
        "extension_type of new-sdo, new-sco or new-sro (STIX 2.1 §7.3)",
        oid,
    )


# ----------------------------------------------------------------------- the check


def validate_object(obj: object) -> ValidObject:
    """Check that ``obj`` (a parsed JSON value) is a valid STIX 2.1 object.

    Takes any parsed JSON value; nothing is modified. Returns a :class:`ValidObject`
    with the object's id, type, spec_version (``"2.1"``; for an SCO without the property
    the default ``"2.1"``), ``created``/``modified`` as microseconds since the epoch
    (``None`` where the object type has no such property, e.g. SCOs; marking definitions
    have ``created`` only) and the indicator pattern when ``pattern_type`` is ``"stix"``.

    A returned object is guaranteed to: be a JSON object with a valid ``type`` (a STIX 2.1
    type, or a custom type declared through a new-sdo/new-sco/new-sro extension) and an
    ``id`` of that type with an RFC 4122 UUID; carry every property its type requires,
    each of the spec's JSON type and format; have ordered timestamps; have only
    well-formed custom property names and no null values or empty lists at the top level;
    and, for a STIX indicator, a pattern that parses.

    Raises :class:`~shieldwall.domain.errors.InvalidStix` at the first problem found, with
    a message naming the object id (when usable), the property and the reason, and with
    ``object_id`` set when the id was usable.
    """
    if not isinstance(obj, dict):
        _fail(f"a STIX object must be a JSON object, not {_kind(obj)}", None)
    stix = cast(dict[str, object], obj)

    type_name = stix.get("type")
    if not isinstance(type_name, str):
        if type_name is None:
            _fail("the object has no type property", None)
        _fail(f"type must be a string, not {_kind(type_name)}", None)
    rules = _RULES.get(type_name)
    if rules is None:
        if type_name == "bundle":
            _fail("a bundle is an envelope, not an object that can be stored", None)
        if _TYPE_NAME.fullmatch(type_name) is None or not 3 <= len(type_name) <= 250:
            _fail(
                f"type {type_name!r} is not a valid STIX type name: 3–250 characters of "
                "a–z, 0–9 and '-', starting with a letter, without '--' or a trailing '-'",
                None,
            )

    oid = stix.get("id")
    if not isinstance(oid, str):
        if oid is None:
            _fail(f"the {type_name} object has no id property", None)
        _fail(f"{type_name} id must be a string, not {_kind(oid)}", None)
    prefix_end = len(type_name) + 2
    if not (oid.startswith(type_name) and oid[prefix_end - 2 : prefix_end] == "--"):
        _fail(f"id {oid!r} must start with '{type_name}--'", None)
    if _UUID.fullmatch(oid, prefix_end) is None:
        _fail(f"id {oid!r} does not end in an RFC 4122 UUID (version 1–5)", None)
    if rules is None:
        rules = _custom_rules(stix, type_name, oid)

    category = rules.category
    spec_version = stix.get("spec_version")
    if spec_version != SPEC_VERSION:
        if spec_version is None and "spec_version" not in stix:
            if category != _SCO:
                _fail("spec_version is required (and must be '2.1')", oid)
        else:
            _fail(f"spec_version must be '2.1', not {spec_version!r}", oid)

    checks = rules.checks
    for key, value in stix.items():
        if value is None:
            _fail(f"{key} must not be null (omit the property instead)", oid)
        check = checks.get(key)
        if check is _noop:
            continue
        if check is None:
            problem = _property_name_problem(key)
            if problem is None:
                if key in _RESERVED_PROPERTIES:
                    problem = f"{key} is a reserved property name and must not be used"
                else:
                    problem = _free_value_problem(value, key)
        else:
            problem = check(value, key)
        if problem is not None:
            _fail(problem, oid)

    created_micros: int | None = None
    modified_micros: int | None = None
    if category != _SCO:
        created_micros = _version_timestamp(stix, "created", oid, category == _CORE)
        if category == _CORE:
            if stix.get("modified") == stix["created"]:  # a first version: no second parse
                modified_micros = created_micros
            else:
                modified_micros = _version_timestamp(stix, "modified", oid, True)
                if modified_micros < created_micros:
                    _fail("modified must be later than or equal to created", oid)

    for name in rules.required:
        if name not in stix:
            _fail(f"{name} is required for {type_name} objects", oid)

    for later, earlier, strictly in rules.ordered:
        if later in stix and earlier in stix:
            later_text = cast(str, stix[later])
            earlier_text = cast(str, stix[earlier])
            if len(later_text) == len(earlier_text):
                # Both passed the fixed-width timestamp check, so same length means same
                # shape, and then text order is time order.
                order = (later_text > earlier_text) - (later_text < earlier_text)
            else:
                later_micros = parse_timestamp(later_text, later)
                earlier_micros = parse_timestamp(earlier_text, earlier)
                order = (later_micros > earlier_micros) - (later_micros < earlier_micros)
            if order < 0 or (strictly and order == 0):
                relation = "later than" if strictly else "later than or equal to"
                _fail(f"{later} must be {relation} {earlier}", oid)

    if rules.rule is not None:
        problem = rules.rule(stix, oid)
        if problem is not None:
            _fail(problem, oid)

    if "granular_markings" in stix:
        _check_selectors(stix, oid)

    pattern: str | None = None
    if type_name == "indicator" and stix["pattern_type"] == "stix":
        pattern = cast(str, stix["pattern"])
        try:
            parse_pattern(pattern)
        except InvalidInput as exc:
            _fail(f"indicator pattern does not parse: {exc.message}", oid)

    return ValidObject(
        id=oid,
        type=type_name,
        spec_version=SPEC_VERSION,
        created_micros=created_micros,
        modified_micros=modified_micros,
        pattern=pattern,
    )


def _version_timestamp(stix: dict[str, object], name: str, oid: str, millis: bool) -> int:
    """Parse ``created``/``modified`` (§3.2), requiring millisecond precision if ``millis``."""
    if name not in stix:
        _fail(f"{name} is required", oid)
    value = stix[name]
    try:
        micros = parse_timestamp(value, name)
    except InvalidInput as exc:
        _fail(exc.message, oid)
    text = cast(str, value)
    if millis and (len(text) < 24 or text[19] != "."):
        _fail(
            f"{name} {text!r} must be precise to at least the millisecond, "
            "like 2024-01-31T12:00:00.000Z",
            oid,
        )
    problem = _representable_problem(text, name)
    if problem is not None:
        _fail(problem, oid)
    return micros
