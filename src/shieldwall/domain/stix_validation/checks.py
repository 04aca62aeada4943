"""Primitive property checkers: one JSON value against one STIX 2.1 data type.

A checker (``_Check``) takes a property value (never None) and the property name and returns
an error message or None.  Covered here: §2 string, boolean, integer, float, list of strings,
timestamp (RFC 3339, UTC, and representable by Python's datetime), identifier (§2.9, with the
object types a reference may name), enumerations and language tags; §3.1 property names; and
the rules for values whose type the spec leaves open (custom properties, §11, and extension
properties, §7.3): no nulls or empty lists, and the ``_bin`` and ``_hex`` name suffixes.  The
formats these checkers share with the rule tables (base64, hex, language tags, URLs) are
defined here.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Final, cast

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.stix_validation.messages import _kind, _list_problem
from shieldwall.domain.timestamps import parse_timestamp

_PROPERTY_NAME: Final = re.compile(r"[a-z][a-z0-9_]{2,249}")

_IDENTIFIER: Final = re.compile(
    r"([a-z][a-z0-9]*(?:-[a-z0-9]+)*)--"
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
)

_LANG: Final = re.compile(r"[a-zA-Z]{2,8}(?:-[a-zA-Z0-9]{1,8})*")
_URL: Final = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:\S*")
_HEX: Final = re.compile(r"(?:[0-9a-fA-F]{2})+")
_BASE64: Final = re.compile(
    r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)"
)

# A checker takes a property value (never None) and the property name and returns an
# error message (without the object id) or None when the value is fine.
_Check = Callable[[object, str], "str | None"]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


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
