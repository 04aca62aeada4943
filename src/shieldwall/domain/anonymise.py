"""Sanitising an unlinkable submission before it is queued (architecture.md §4, step 3).

What leaves the submitter's hands is cut to what cannot identify it:

- only object types on the allow-list are kept (identities, locations, notes, opinions,
  incidents and custom objects are dropped: they describe the victim or the author);
- each kept object is cut to an allow-list of properties (no ``x_`` properties, no
  ``created_by_ref``, no ``where_sighted_refs``, no free ``external_references``: only
  references to public catalogues such as MITRE ATT&CK, CAPEC and CVE, by id);
- every timestamp is coarsened to the day (00:00:00.000Z);
- ids of domain objects and relationships are re-minted, consistently inside the
  submission (cyber-observable ids derive from their value and reveal nothing of the
  submitter, so they stay);
- references to dropped objects are removed (objects that cannot live without them are
  dropped too), and ``created_by_ref`` becomes the hub's "Anonymous member" identity.

Pure: fresh UUIDs arrive as an iterator.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from shieldwall.domain.references import redact_references
from shieldwall.domain.timestamps import format_stix_timestamp, parse_timestamp

_COMMON = frozenset(
    {
        "type",
        "spec_version",
        "id",
        "created",
        "modified",
        "labels",
        "confidence",
        "lang",
        "object_marking_refs",
        "extensions",
        "external_references",
        "kill_chain_phases",
    }
)
_SCO_COMMON = frozenset({"type", "spec_version", "id", "object_marking_refs"})
ALLOWED_PROPERTIES: dict[str, frozenset[str]] = {
    "indicator": _COMMON
    | {
        "name",
        "description",
        "indicator_types",
        "pattern",
        "pattern_type",
        "pattern_version",
        "valid_from",
        "valid_until",
    },
    "malware": _COMMON
    | {
        "name",
        "description",
        "malware_types",
        "is_family",
        "aliases",
        "first_seen",
        "last_seen",
        "architecture_execution_envs",
        "implementation_languages",
        "capabilities",
        "sample_refs",
    },
    "tool": _COMMON | {"name", "description", "tool_types", "aliases", "tool_version"},
    "attack-pattern": _COMMON | {"name", "description", "aliases"},
    "campaign": _COMMON
    | {"name", "description", "aliases", "first_seen", "last_seen", "objective"},
    "intrusion-set": _COMMON
    | {
        "name",
        "description",
        "aliases",
        "first_seen",
        "last_seen",
        "goals",
        "resource_level",
        "primary_motivation",
        "secondary_motivations",
    },
    "threat-actor": _COMMON
    | {
        "name",
        "description",
        "threat_actor_types",
        "aliases",
        "first_seen",
        "last_seen",
        "roles",
        "goals",
        "sophistication",
        "resource_level",
        "primary_motivation",
        "secondary_motivations",
    },
    "infrastructure": _COMMON
    | {"name", "description", "infrastructure_types", "aliases", "first_seen", "last_seen"},
    "vulnerability": _COMMON | {"name", "description"},
    "course-of-action": _COMMON | {"name", "description"},
    "report": _COMMON | {"name", "description", "report_types", "published", "object_refs"},
    "relationship": _COMMON
    | {"relationship_type", "description", "source_ref", "target_ref", "start_time", "stop_time"},
    "sighting": _COMMON
    | {"description", "first_seen", "last_seen", "count", "sighting_of_ref", "observed_data_refs"},
    "observed-data": _COMMON
    | {"first_observed", "last_observed", "number_observed", "object_refs"},
    "ipv4-addr": _SCO_COMMON | {"value"},
    "ipv6-addr": _SCO_COMMON | {"value"},
    "domain-name": _SCO_COMMON | {"value"},
    "url": _SCO_COMMON | {"value"},
    "email-addr": _SCO_COMMON | {"value"},
    "mac-addr": _SCO_COMMON | {"value"},
    "autonomous-system": _SCO_COMMON | {"number", "name"},
    "file": _SCO_COMMON | {"hashes", "size", "name", "mime_type"},
    "x509-certificate": _SCO_COMMON
    | {"hashes", "serial_number", "issuer", "subject", "validity_not_before", "validity_not_after"},
    "marking-definition": frozenset(),  # never taken from a submission
}
SCO_TYPES = frozenset(
    {
        "ipv4-addr",
        "ipv6-addr",
        "domain-name",
        "url",
        "email-addr",
        "mac-addr",
        "autonomous-system",
        "file",
        "x509-certificate",
    }
)
TIMESTAMP_PROPERTIES = (
    "created",
    "modified",
    "valid_from",
    "valid_until",
    "first_seen",
    "last_seen",
    "published",
    "first_observed",
    "last_observed",
    "start_time",
    "stop_time",
)
_PUBLIC_CATALOGUES = frozenset(
    {"mitre-attack", "mitre-mobile-attack", "mitre-ics-attack", "capec", "cve", "cwe"}
)
_DAY = 86_400_000_000


@dataclass(frozen=True, slots=True)
class Sanitised:
    """The objects that will be published, and what was removed (for the submitter)."""

    objects: list[dict[str, object]]
    removed: list[str]


def _day_floor(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    micros = parse_timestamp(value)
    return format_stix_timestamp(micros - micros % _DAY)


def _external_references(value: object) -> list[dict[str, object]]:
    kept = []
    for ref in value if isinstance(value, list) else []:
        if (
            isinstance(ref, dict)
            and ref.get("source_name") in _PUBLIC_CATALOGUES
            and ref.get("external_id")
        ):
            kept.append({"source_name": ref["source_name"], "external_id": ref["external_id"]})
    return kept


def _remap(value: object, ids: dict[str, str]) -> object:
    if isinstance(value, str):
        return ids.get(value, value)
    if isinstance(value, list):
        return [ids.get(item, item) if isinstance(item, str) else item for item in value]
    return value


def sanitise(
    objects: list[dict[str, object]],
    anonymous_identity: str,
    fresh_uuids: Iterator[str],
    keep_extensions: frozenset[str] = frozenset(),
) -> Sanitised:
    """Cut an unlinkable submission down to what may be published (see module docstring).

    ``keep_extensions`` names extension ids that may stay (the hub's scope extension).
    Objects must already be valid STIX; the result is valid STIX too.
    """
    removed: list[str] = []
    kept: list[dict[str, object]] = []
    ids: dict[str, str] = {}
    dropped: set[str] = set()
    for obj in objects:
        object_type = str(obj.get("type"))
        allowed = ALLOWED_PROPERTIES.get(object_type)
        if not allowed:
            dropped.add(str(obj.get("id")))
            removed.append(f"{obj.get('id')}: {object_type} objects are not published anonymously")
            continue
        if object_type not in SCO_TYPES:
            ids[str(obj["id"])] = f"{object_type}--{next(fresh_uuids)}"
        kept.append(obj)
    result: list[dict[str, object]] = []
    for obj in kept:
        clean: dict[str, object] = {}
        for name, value in obj.items():
            if name not in ALLOWED_PROPERTIES[str(obj["type"])]:
                removed.append(f"{obj['id']}: property {name} removed")
                continue
            clean[name] = value
        if "external_references" in clean:
            references = _external_references(clean["external_references"])
            if len(references) != len(clean["external_references"]):  # type: ignore[arg-type]
                removed.append(
                    f"{obj['id']}: external references other than public catalogue ids removed"
                )
            if references:
                clean["external_references"] = references
            else:
                del clean["external_references"]
        extensions = clean.get("extensions")
        if isinstance(extensions, dict):
            kept_extensions = {k: v for k, v in extensions.items() if k in keep_extensions}
            if kept_extensions:
                clean["extensions"] = kept_extensions
            else:
                del clean["extensions"]
        for name in TIMESTAMP_PROPERTIES:
            if name in clean:
                clean[name] = _day_floor(clean[name])
        if "valid_until" in clean and clean["valid_until"] <= clean.get("valid_from", ""):  # type: ignore[operator]
            clean["valid_until"] = format_stix_timestamp(
                parse_timestamp(clean["valid_until"]) + _DAY
            )
        for name in list(clean):
            if name.endswith("_ref") or name.endswith("_refs"):
                clean[name] = _remap(clean[name], ids)
        clean["id"] = ids.get(str(obj["id"]), str(obj["id"]))
        if str(obj["type"]) not in SCO_TYPES:
            clean["created_by_ref"] = anonymous_identity
        redacted = redact_references(clean, {ids.get(d, d) for d in dropped})
        if redacted is None:
            removed.append(f"{obj['id']}: dropped, it refers to an object that was dropped")
            continue
        result.append(redacted)
    return Sanitised(result, removed)
