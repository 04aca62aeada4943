"""Distribution scope: who, besides TLP, an object is meant for (architecture.md §3).

Scope travels inside the STIX object as a property extension of ours, so clients that do
not know it still read valid STIX 2.1. An absent extension, or one whose lists are all
empty, means ``community``: everyone in this hub.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shieldwall.domain.errors import InvalidInput, InvalidStix
from shieldwall.domain.organisations import ISO_COUNTRIES, Sector, parse_group_name

SCOPE_EXTENSION_ID = "extension-definition--7c395e6e-46fa-4138-95df-802e84fdaa2c"
_IDENTITY_ID = re.compile(
    r"^identity--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
_SCOPE_KEYS = frozenset({"extension_type", "sectors", "countries", "groups", "organizations"})


@dataclass(frozen=True, slots=True)
class Scope:
    """A distribution scope. Each set is optional; an empty set does not restrict.

    ``organizations`` holds STIX identity ids; ``groups`` sharing-group names.
    """

    sectors: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    organizations: frozenset[str] = frozenset()

    @property
    def is_community(self) -> bool:
        """True when nothing restricts the object: everyone in this hub."""
        return not (self.sectors or self.countries or self.groups or self.organizations)

    def to_extension(self) -> dict[str, object]:
        """The extension body to put under ``extensions[SCOPE_EXTENSION_ID]``."""
        body: dict[str, object] = {"extension_type": "property-extension"}
        for name in ("sectors", "countries", "groups", "organizations"):
            values: frozenset[str] = getattr(self, name)
            if values:
                body[name] = sorted(values)
        return body


COMMUNITY = Scope()


def _string_list(value: object, name: str, object_id: str | None) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidStix(f"scope extension: {name} must be a list of strings", object_id)
    return value


def make_scope(
    sectors: list[str] | tuple[str, ...] = (),
    countries: list[str] | tuple[str, ...] = (),
    groups: list[str] | tuple[str, ...] = (),
    organizations: list[str] | tuple[str, ...] = (),
) -> Scope:
    """Build a scope from raw strings, normalising and validating each value.

    Raises ``InvalidInput`` naming the first bad value (unknown sector, not an ISO country
    code, bad group name, not an ``identity--`` id).
    """
    sector_set = frozenset(Sector.parse(s).value for s in sectors)
    country_set: set[str] = set()
    for country in countries:
        code = country.strip().upper()
        if code not in ISO_COUNTRIES:
            raise InvalidInput(f"scope: {country!r} is not an ISO 3166-1 alpha-2 country code")
        country_set.add(code)
    group_set = frozenset(parse_group_name(g) for g in groups)
    for org in organizations:
        if not _IDENTITY_ID.match(org):
            raise InvalidInput(f"scope: organization {org!r} is not a STIX identity id")
    return Scope(sector_set, frozenset(country_set), group_set, frozenset(organizations))


def scope_of(obj: dict[str, object]) -> Scope:
    """Read the scope extension of a STIX object (community when absent).

    Raises ``InvalidStix`` when the extension is present but malformed.
    """
    extensions = obj.get("extensions")
    if not isinstance(extensions, dict):
        return COMMUNITY
    body = extensions.get(SCOPE_EXTENSION_ID)
    if body is None:
        return COMMUNITY
    object_id = obj.get("id") if isinstance(obj.get("id"), str) else None
    oid = object_id if isinstance(object_id, str) else None
    if not isinstance(body, dict):
        raise InvalidStix("scope extension must be an object", oid)
    unknown = set(body) - _SCOPE_KEYS
    if unknown:
        raise InvalidStix(f"scope extension: unknown properties {sorted(unknown)}", oid)
    if body.get("extension_type", "property-extension") != "property-extension":
        raise InvalidStix("scope extension: extension_type must be property-extension", oid)
    try:
        return make_scope(
            _string_list(body.get("sectors", []), "sectors", oid),
            _string_list(body.get("countries", []), "countries", oid),
            _string_list(body.get("groups", []), "groups", oid),
            _string_list(body.get("organizations", []), "organizations", oid),
        )
    except InvalidStix:
        raise
    except InvalidInput as exc:
        raise InvalidStix(exc.message, oid) from exc


def with_scope(obj: dict[str, object], scope: Scope) -> dict[str, object]:
    """A copy of ``obj`` whose scope extension says ``scope`` (removed when community)."""
    result = dict(obj)
    extensions = dict(result.get("extensions") or {})  # type: ignore[call-overload]
    extensions.pop(SCOPE_EXTENSION_ID, None)
    if not scope.is_community:
        extensions[SCOPE_EXTENSION_ID] = scope.to_extension()
    if extensions:
        result["extensions"] = extensions
    else:
        result.pop("extensions", None)
    return result


def scope_extension_definition(created_by_ref: str) -> dict[str, object]:
    """The ``extension-definition`` object the hub publishes for its scope extension."""
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": SCOPE_EXTENSION_ID,
        "created_by_ref": created_by_ref,
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "Shieldwall distribution scope",
        "description": (
            "Restricts who in a Shieldwall hub may read an object, in addition to its TLP"
            " marking: sectors and countries (both must match when both are given), sharing"
            " groups, or named organisations. Absent or empty lists do not restrict."
        ),
        "schema": "https://shieldwall.example/schemas/scope-extension.json",
        "version": "1.0.0",
        "extension_types": ["property-extension"],
    }


SCOPE_JSON_SCHEMA: dict[str, object] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Shieldwall distribution scope (STIX 2.1 property extension)",
    "type": "object",
    "properties": {
        "extension_type": {"const": "property-extension"},
        "sectors": {
            "type": "array",
            "items": {"enum": [s.value for s in Sector]},
            "uniqueItems": True,
        },
        "countries": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[A-Z]{2}$"},
            "uniqueItems": True,
        },
        "groups": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,62}$"},
            "uniqueItems": True,
        },
        "organizations": {
            "type": "array",
            "items": {"type": "string", "pattern": "^identity--[0-9a-f-]{36}$"},
            "uniqueItems": True,
        },
    },
    "required": ["extension_type"],
    "additionalProperties": False,
}
