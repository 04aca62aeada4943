"""``to_bundle``: an :class:`Extraction` as a STIX 2.1 bundle for analyst review.

Contract: pure; ``created`` (microseconds since the epoch) is every object's
``created``/``modified`` and the indicators' ``valid_from``; ``new_id(type)`` supplies the
ids of SDOs, SROs and the bundle.  The bundle holds one ``report`` whose ``object_refs``
name every other object; one ``indicator`` per extracted indicator (``pattern_type``
``stix``) with a ``based-on`` relationship to its observable; one SCO per indicator
(``ipv4-addr``, ``ipv6-addr``, ``domain-name``, ``url``, ``email-addr``, ``file``; none for
a URL written without scheme, which is no valid ``url`` value) with the
deterministic UUIDv5 id of STIX 2.1 §2.9 (:func:`sco_id`); ``attack-pattern`` objects with
MITRE's external reference; ``malware`` (``is_family`` true) and ``tool`` objects;
``vulnerability`` objects for CVE ids; ``indicates`` relationships from every indicator to
the malware when exactly one malware is named, and ``uses`` from each malware to each
technique.  A report with nothing extracted refers to a ``note`` that says so (STIX
requires a non-empty ``object_refs``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from shieldwall.domain.extraction import attack
from shieldwall.domain.extraction.model import Extraction, Indicator
from shieldwall.domain.extraction.stix_patterns import hash_algorithm
from shieldwall.domain.timestamps import format_stix_timestamp

_SCO_NAMESPACE = bytes.fromhex("00abedb4aa42466c9c01fed23315a9b7")
_LABELS = {
    "ipv4-addr": "IPv4 address", "ipv6-addr": "IPv6 address", "domain-name": "Domain",
    "url": "URL", "email-addr": "E-mail address", "file:name": "File name",
}  # fmt: skip

Json = dict[str, object]


def sco_id(object_type: str, contributing: Json) -> str:
    """The STIX 2.1 deterministic id: UUIDv5 over the canonical JSON of the ID properties."""
    name = json.dumps(contributing, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = bytearray(hashlib.sha1(_SCO_NAMESPACE + name.encode("utf-8")).digest()[:16])  # noqa: S324
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    hexa = digest.hex()
    return f"{object_type}--{hexa[:8]}-{hexa[8:12]}-{hexa[12:16]}-{hexa[16:20]}-{hexa[20:]}"


def observable(indicator: Indicator) -> Json:
    """The SCO an indicator's pattern describes."""
    algorithm = hash_algorithm(indicator.kind)
    if algorithm is not None:
        contributing: Json = {"hashes": {algorithm: indicator.value}}
        object_type = "file"
    elif indicator.kind == "file:name":
        contributing = {"name": indicator.value}
        object_type = "file"
    else:
        contributing = {"value": indicator.value}
        object_type = indicator.kind
    return {
        "type": object_type,
        "spec_version": "2.1",
        "id": sco_id(object_type, contributing),
        **contributing,
    }


def to_bundle(
    extraction: Extraction,
    *,
    name: str,
    description: str | None,
    created: int,
    new_id: Callable[[str], str],
    created_by_ref: str | None = None,
    object_marking_refs: list[str] | None = None,
) -> dict[str, object]:
    """The extraction as a STIX 2.1 bundle (see the module docstring)."""
    timestamp = format_stix_timestamp(created)
    markings: Json = {}
    if object_marking_refs:
        markings["object_marking_refs"] = list(object_marking_refs)

    def sdo(object_type: str, **properties: object) -> Json:
        obj: Json = {
            "type": object_type,
            "spec_version": "2.1",
            "id": new_id(object_type),
            "created": timestamp,
            "modified": timestamp,
        }
        if created_by_ref:
            obj["created_by_ref"] = created_by_ref
        obj.update(properties)
        obj.update(markings)
        return obj

    def relationship(kind: str, source: Json, target: Json) -> Json:
        return sdo(
            "relationship", relationship_type=kind, source_ref=source["id"], target_ref=target["id"]
        )

    objects: list[Json] = []
    software = attack.software()
    malware: list[Json] = []
    for family in extraction.malware:
        obj = sdo("malware", name=family, is_family=True, **_software_refs(software.get(family)))
        malware.append(obj)
    tools = [
        sdo("tool", name=tool, **_software_refs(software.get(tool))) for tool in extraction.tools
    ]
    patterns = [
        sdo(
            "attack-pattern",
            name=technique.name,
            external_references=[
                {"source_name": "mitre-attack", "external_id": technique.id, "url": technique.url}
            ],
        )
        for technique in extraction.techniques
    ]
    vulnerabilities = [
        sdo(
            "vulnerability",
            name=cve,
            external_references=[
                {
                    "source_name": "cve",
                    "external_id": cve,
                    "url": f"https://www.cve.org/CVERecord?id={cve}",
                }
            ],
        )
        for cve in extraction.vulnerabilities
    ]
    objects.extend(malware + tools + patterns + vulnerabilities)
    observables: dict[str, Json] = {}
    for indicator in extraction.indicators:
        label = _LABELS.get(indicator.kind) or hash_algorithm(indicator.kind) or indicator.kind
        ind: Json = sdo(
            "indicator",
            name=f"{label}: {indicator.value}",
            pattern=indicator.pattern,
            pattern_type="stix",
            pattern_version="2.1",
            valid_from=timestamp,
        )
        objects.append(ind)
        if indicator.kind == "url" and "://" not in indicator.value:
            pass  # a URL written without scheme is no valid url SCO: the pattern stands alone
        else:
            sco = observable(indicator)
            if markings:
                sco.update(markings)
            observables.setdefault(str(sco["id"]), sco)
            objects.append(relationship("based-on", ind, sco))
        if len(malware) == 1:
            objects.append(relationship("indicates", ind, malware[0]))
    objects.extend(observables.values())
    for malware_object in malware:
        objects.extend(relationship("uses", malware_object, pattern) for pattern in patterns)
    if not objects:
        note_id = new_id("note")
        report_id = new_id("report")
        note = sdo(
            "note", content="Nothing was extracted from this report.", object_refs=[report_id]
        )
        note["id"] = note_id
        objects.append(note)
    else:
        report_id = new_id("report")
    report = sdo(
        "report",
        name=name,
        published=timestamp,
        report_types=["threat-report"],
        object_refs=[obj["id"] for obj in objects],
    )
    report["id"] = report_id
    if description:
        report["description"] = description
    return {"type": "bundle", "id": new_id("bundle"), "objects": [report, *objects]}


def _software_refs(record: attack.SoftwareRecord | None) -> Json:
    if record is None:
        return {}
    return {
        "external_references": [
            {"source_name": "mitre-attack", "external_id": record.external_id, "url": record.url}
        ]
    }
