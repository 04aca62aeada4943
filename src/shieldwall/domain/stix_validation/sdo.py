"""Rules for the 19 STIX Domain Objects (STIX 2.1 §4), as a table of data.

Required and typed properties, ordering rules (``last_seen`` >= ``first_seen``,
``valid_until`` > ``valid_from`` …) and the co-occurrence rules of Malware (§4.11), Location
(§4.10), Malware Analysis (§4.12) and Observed Data (§4.14).  An indicator's pattern is
parsed by the engine, not here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from shieldwall.domain.stix_validation.checks import (
    _any_number,
    _boolean,
    _Check,
    _enum,
    _integer,
    _number,
    _ref,
    _ref_list,
    _string,
    _string_list,
    _timestamp,
)
from shieldwall.domain.stix_validation.common import _CORE, _SEEN, _rules, _TypeRules
from shieldwall.domain.stix_validation.compound import _kill_chain_phases
from shieldwall.domain.stix_validation.messages import _kind
from shieldwall.domain.stix_validation.vocabulary import META_TYPES, SDO_TYPES


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


_NAME_ONLY: Final[Mapping[str, _Check]] = {"name": _string, "description": _string}

_SDO_RULES: Final[Mapping[str, _TypeRules]] = {
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
}
