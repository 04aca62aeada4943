"""Rules for the STIX 2.1 meta objects (§7): language content (§7.1), marking definitions
(§7.2; the four TLP 1.0 objects exactly as §7.2.1.4 lists them, statement markings, and
extension-based markings such as TLP 2.0) and extension definitions (§7.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from shieldwall.domain.stix_validation.checks import (
    _LANG,
    _open_properties_problem,
    _ref,
    _string,
    _string_list,
    _timestamp,
)
from shieldwall.domain.stix_validation.common import _CORE, _MARKING, _rules, _TypeRules
from shieldwall.domain.stix_validation.messages import _kind
from shieldwall.domain.stix_validation.vocabulary import _EXTENSION_TYPES

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


_META_RULES: Final[Mapping[str, _TypeRules]] = {
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
}
