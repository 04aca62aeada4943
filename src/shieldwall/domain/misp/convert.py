"""Assembling one MISP event into STIX 2.1 objects (the mapping is in the package docstring).

Contract: pure and deterministic: the same event and ``created_by_ref`` give the same
objects, ids included.  Every object is checked with
:func:`shieldwall.domain.stix_validation.validate_object` before it is emitted; an
attribute whose objects fail is listed as skipped with the validator's reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from shieldwall.domain.errors import InvalidInput, InvalidStix
from shieldwall.domain.extraction import attack
from shieldwall.domain.misp import galaxies
from shieldwall.domain.misp.attributes import (
    RULE_TYPES,
    Meaning,
    Unmappable,
    map_attribute,
    pattern,
)
from shieldwall.domain.misp.common import (
    ConvertedEvent,
    Json,
    Skipped,
    date_micros,
    epoch_micros,
    flag,
    iso_micros,
    stable_id,
    tag_names,
    text,
)
from shieldwall.domain.misp.source import AttributeSite, attributes, parse_events
from shieldwall.domain.stix_validation import validate_object
from shieldwall.domain.timestamps import format_stix_timestamp
from shieldwall.domain.tlp import Tlp, tlp_from_markings

_IDENTITY = re.compile(
    r"identity--[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
)
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:\S+")
_CVE = re.compile(r"CVE-\d{4}-(?:0\d{3}|[1-9]\d{3,})", re.IGNORECASE)
_NOTE_TYPES = frozenset({"text", "comment", "other"})
_INDICATED = ("threat-actor", "intrusion-set", "malware", "campaign")
_USERS = ("threat-actor", "intrusion-set", "malware")
_NAME_LIMIT = 200


def convert_misp(data: object, *, created_by_ref: str | None = None) -> list[ConvertedEvent]:
    """Every event in ``data`` (bytes, text or parsed JSON, in any MISP form) as STIX.

    Raises :class:`~shieldwall.domain.errors.InvalidInput` when ``data`` is not MISP JSON
    (see :func:`shieldwall.domain.misp.source.parse_events`) or ``created_by_ref`` is no
    identity id.
    """
    return [convert_event(event, created_by_ref=created_by_ref) for event in parse_events(data)]


def convert_event(
    event: Mapping[str, object], *, created_by_ref: str | None = None
) -> ConvertedEvent:
    """One MISP event (the object inside ``{"Event": ...}``) as STIX 2.1.

    ``created_by_ref`` is the importing organisation's identity id; it becomes every SDO's
    and SRO's ``created_by_ref`` and is part of every derived id, so two organisations
    importing one event never claim the same ids while one organisation re-importing it
    gets the same ids again.  Raises ``InvalidInput`` when the event has no uuid or
    neither ``timestamp`` nor ``date``, or ``created_by_ref`` is no identity id.
    """
    if created_by_ref is not None and _IDENTITY.fullmatch(created_by_ref) is None:
        raise InvalidInput(f"created_by_ref {created_by_ref!r} is not an identity id")
    builder = _Builder(event, created_by_ref)
    for site in attributes(event):
        builder.attribute(site)
    return builder.finish()


def to_bundle(results: ConvertedEvent | Iterable[ConvertedEvent]) -> Json:
    """The objects of one or more converted events as one STIX 2.1 bundle.

    The bundle id is derived from the report ids, so it is stable too.  An object that
    several events share (an SCO) appears once, with the most restrictive TLP marking any
    of them gave it and list properties (``resolves_to_refs``) merged.
    """
    events = [results] if isinstance(results, ConvertedEvent) else list(results)
    merged: dict[str, Json] = {}
    for result in events:
        for obj in result.objects:
            _merge_into(merged, obj)
    bundle_id = stable_id("bundle", *sorted(result.report_id for result in events))
    return {"type": "bundle", "id": bundle_id, "objects": list(merged.values())}


def _merge_into(merged: dict[str, Json], obj: Json) -> None:
    """Add ``obj``; an object already present keeps its content, gains list entries and
    the more restrictive TLP marking."""
    oid = str(obj["id"])
    held = merged.get(oid)
    if held is None:
        merged[oid] = dict(obj)  # a copy: merging later must not change the caller's objects
        return
    for name, value in obj.items():
        if name != "object_marking_refs" and isinstance(value, list) and name.endswith("_refs"):
            old = held.get(name)
            items = list(old) if isinstance(old, list) else []
            held[name] = items + [item for item in value if item not in items]
    level = _stricter(tlp_from_markings(held.get("object_marking_refs")),
                      tlp_from_markings(obj.get("object_marking_refs")))  # fmt: skip
    if level is not None:
        held["object_marking_refs"] = [level.marking_id]


def _stricter(first: Tlp | None, second: Tlp | None) -> Tlp | None:
    """The more restrictive of two levels; no level loses to any level."""
    if first is None:
        return second
    return first if second is None else max(first, second)


def _tlp(tags: Iterable[str]) -> Tlp | None:
    """The most restrictive ``tlp:`` tag among ``tags`` (unknown TLP tags are ignored)."""
    found: Tlp | None = None
    for tag in tags:
        if tag.lower().startswith("tlp:"):
            try:
                found = _stricter(found, Tlp.parse(tag))
            except InvalidInput:
                continue
    return found


@dataclass(slots=True)
class _EntitySource:
    """An entity and the least restrictive level of the places that name it."""

    entity: galaxies.Entity
    level: Tlp | None


@dataclass(slots=True)
class _Builder:
    event: Mapping[str, object]
    created_by_ref: str | None
    uuid: str = ""
    scope: str = ""
    created: int = 0
    level: Tlp | None = None
    objects: dict[str, Json] = field(default_factory=dict)
    levels: dict[str, Tlp | None] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    represented: dict[str, tuple[str, ...]] = field(default_factory=dict)
    links: list[str] = field(default_factory=list)
    references: list[Json] = field(default_factory=list)
    indicators: list[str] = field(default_factory=list)
    scos: dict[str, Json] = field(default_factory=dict)
    observed: list[tuple[int, int]] = field(default_factory=list)
    entities: dict[str, _EntitySource] = field(default_factory=dict)
    siblings: dict[str, list[str]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.uuid = str(self.event["uuid"]).strip()
        self.scope = self.created_by_ref or ""
        created = epoch_micros(self.event.get("timestamp")) or date_micros(self.event.get("date"))
        if created is None:
            raise InvalidInput(f"MISP event {self.uuid} has neither a timestamp nor a date")
        self.created = created
        tags = tag_names(self.event)
        self.level = _tlp(tags)
        for tag in tags:
            self._add_entity(galaxies.from_tag(tag), self.level)
        for found in galaxies.from_galaxies(self.event.get("Galaxy")):
            self._add_entity(found, self.level)

    @property
    def report_id(self) -> str:
        return stable_id("report", self.scope, "event", self.uuid)

    # -- attributes ------------------------------------------------------------------

    def attribute(self, site: AttributeSite) -> None:
        """Convert one attribute, or record why not."""
        attr = site.attribute
        if not isinstance(attr, dict):
            self.skipped.append(Skipped(None, None, None, "the attribute is not a JSON object"))
            return
        uuid, kind, value = text(attr.get("uuid")), text(attr.get("type")), text(attr.get("value"))
        if kind is None or not kind.strip():
            self.skipped.append(Skipped(uuid, kind, value, "the attribute has no type"))
            return
        kind = kind.strip()
        if value is None or not value.strip():
            self.skipped.append(Skipped(uuid, kind, value, "the attribute has no value"))
            return
        if flag(attr.get("deleted")) or site.object_deleted:
            self.skipped.append(Skipped(uuid, kind, value, "deleted in MISP"))
            return
        tags = tag_names(attr)
        level = _stricter(self.level, _tlp(tags))
        for tag in tags:
            self._add_entity(galaxies.from_tag(tag), level)
        for found in galaxies.from_galaxies(attr.get("Galaxy")):
            self._add_entity(found, level)
        made = _Attribute(self, site, attr, uuid, kind, value, level).convert()
        if isinstance(made, str):
            self.skipped.append(Skipped(uuid, kind, value, made))
            return
        key = uuid or f"{kind}|{value}"
        if made:
            self.represented[key] = made
            if site.object_uuid:
                self.siblings.setdefault(site.object_uuid, []).extend(made)
        else:
            self.links.append(key)

    def emit(self, obj: Json, level: Tlp | None) -> None:
        if level is not None:
            obj["object_marking_refs"] = [level.marking_id]
        self.objects[str(obj["id"])] = obj
        self.levels[str(obj["id"])] = level

    def emit_sco(self, obj: Json, level: Tlp | None) -> None:
        oid = str(obj["id"])
        if oid in self.scos:
            previous = self.levels[oid]
            _merge_into(self.scos, dict(obj))
            level = _stricter(previous, level)
            self.scos[oid].pop("object_marking_refs", None)
        else:
            self.scos[oid] = dict(obj)
        if level is not None:
            self.scos[oid]["object_marking_refs"] = [level.marking_id]
        self.levels[oid] = level

    def sdo(self, object_type: str, oid: str, created: int, **properties: object) -> Json:
        stamp = format_stix_timestamp(created)
        obj: Json = {"type": object_type, "spec_version": "2.1", "id": oid,
                     "created": stamp, "modified": stamp}  # fmt: skip
        if self.created_by_ref:
            obj["created_by_ref"] = self.created_by_ref
        obj.update(properties)
        return obj

    # -- galaxies ----------------------------------------------------------------------

    def _add_entity(self, found: galaxies.Entity | None, level: Tlp | None) -> None:
        if found is None:
            return
        held = self.entities.get(found.key)
        if held is None:
            self.entities[found.key] = _EntitySource(found, level)
            return
        # the least restrictive source decides: the name is known at that level anyway
        if level is None or held.level is None:
            held.level = None
        else:
            held.level = min(held.level, level)
        held.entity = replace(
            held.entity,
            description=held.entity.description or found.description,
            aliases=held.entity.aliases or found.aliases,
        )

    def entity_id(self, found: galaxies.Entity) -> str:
        return stable_id(found.stix_type, self.scope, "event", self.uuid, found.key)

    def _entity_objects(self) -> dict[str, list[str]]:
        by_type: dict[str, list[str]] = {}
        software = attack.software()
        for source in self.entities.values():
            found = source.entity
            properties: Json = {"name": found.name}
            if found.stix_type == "malware":
                properties["is_family"] = True
            if found.description:
                properties["description"] = found.description
            if found.aliases and found.stix_type != "attack-pattern":
                properties["aliases"] = list(found.aliases)
            record = software.get(found.name) if found.external_id is None else None
            if record is not None and record.stix_type == found.stix_type:
                found = replace(found, external_id=record.external_id, url=record.url)
            if found.external_id:
                reference: Json = {"source_name": "mitre-attack", "external_id": found.external_id}
                if found.url:
                    reference["url"] = found.url
                properties["external_references"] = [reference]
            oid = self.entity_id(source.entity)
            obj = self.sdo(found.stix_type, oid, self.created, **properties)
            if self._valid(obj, "galaxy", found.name):
                self.emit(obj, source.level)
                by_type.setdefault(found.stix_type, []).append(oid)
        return by_type

    def _valid(self, obj: Json, kind: str, value: str) -> bool:
        try:
            validate_object(obj)
        except InvalidStix as error:
            self.skipped.append(Skipped(None, kind, value, f"not valid STIX: {error.message}"))
            return False
        return True

    # -- the event as a whole --------------------------------------------------------------

    def finish(self) -> ConvertedEvent:
        by_type = self._entity_objects()
        targets = [oid for kind in _INDICATED for oid in by_type.get(kind, [])]
        for indicator in self.indicators:
            for target in targets:
                self._relationship("indicates", indicator, target)
        for user in (oid for kind in _USERS for oid in by_type.get(kind, [])):
            for technique in by_type.get("attack-pattern", []):
                self._relationship("uses", user, technique)
        for note_id, object_uuid in self.notes.items():
            refs = self.objects[note_id]["object_refs"]
            assert isinstance(refs, list)
            refs.extend(oid for oid in self.siblings.get(object_uuid, []) if oid != note_id)
        if self.scos:
            first = min(start for start, _ in self.observed)
            last = max(max(end for _, end in self.observed), first)
            observed = self.sdo(
                "observed-data",
                stable_id("observed-data", self.scope, "event", self.uuid),
                self.created,
                first_observed=format_stix_timestamp(first),
                last_observed=format_stix_timestamp(last),
                number_observed=1,
                object_refs=list(self.scos),
            )
            self.emit(observed, self.level)
        contents = [*self.objects.values(), *self.scos.values()]
        if not contents:
            empty = self.sdo(
                "note",
                stable_id("note", self.scope, "event", self.uuid),
                self.created,
                content=f"MISP event {self.uuid} has no attribute that converts to STIX 2.1.",
                object_refs=[self.report_id],
            )
            self.emit(empty, self.level)
            contents = [empty]
        report = self._report([str(obj["id"]) for obj in contents])
        return ConvertedEvent(
            event_uuid=self.uuid,
            info=str(report["name"]),
            report_id=self.report_id,
            objects=[report, *contents],
            skipped=self.skipped,
            attribute_objects=self.represented,
            links=self.links,
        )

    def _relationship(self, kind: str, source: str, target: str) -> None:
        oid = stable_id("relationship", self.scope, kind, source, target)
        obj = self.sdo("relationship", oid, self.created, relationship_type=kind,
                       source_ref=source, target_ref=target)  # fmt: skip
        self.emit(obj, _stricter(self.levels[source], self.levels[target]))

    def _report(self, refs: list[str]) -> Json:
        event = self.event
        info = text(event.get("info"))
        name = info.strip() if info and info.strip() else f"MISP event {self.uuid}"
        published = (
            epoch_micros(event.get("publish_timestamp"))
            or date_micros(event.get("date"))
            or self.created
        )
        tags = tag_names(event)
        labels = sorted(
            {
                tag
                for tag in tags
                if not tag.lower().startswith("tlp:") and not galaxies.from_tag(tag)
            }
        )
        description = f"Imported from MISP event {self.uuid}"
        orgc = event.get("Orgc")
        creator = text(orgc.get("name")) if isinstance(orgc, dict) else None
        description += f", created by {creator}." if creator else "."
        properties: Json = {
            "name": name,
            "description": description,
            "report_types": ["threat-report"],
            "published": format_stix_timestamp(published),
            "object_refs": refs,
            "external_references": [
                {"source_name": "misp", "external_id": self.uuid},
                *self.references,
            ],
        }
        if labels:
            properties["labels"] = labels
        report = self.sdo("report", self.report_id, self.created, **properties)
        if self.level is not None:
            report["object_marking_refs"] = [self.level.marking_id]
        validate_object(report)
        return report


@dataclass(slots=True)
class _Attribute:
    """One attribute's conversion: ``convert`` returns the ids made (empty for a link) or
    the reason it was skipped."""

    builder: _Builder
    site: AttributeSite
    attr: Mapping[str, object]
    uuid: str | None
    kind: str
    value: str
    level: Tlp | None

    @property
    def key(self) -> str:
        return self.uuid or f"{self.kind}|{self.value}"

    @property
    def timestamp(self) -> int:
        return epoch_micros(self.attr.get("timestamp")) or self.builder.created

    def convert(self) -> tuple[str, ...] | str:
        kind = self.kind.lower()
        if kind == "link":
            return self._link()
        if kind == "vulnerability":
            return self._vulnerability()
        if kind in _NOTE_TYPES:
            return self._note()
        if kind in ("threat-actor", "campaign-name"):
            return self._named(kind)
        if kind in RULE_TYPES:
            if not flag(self.attr.get("to_ids")):
                return f"a {kind} rule that is not flagged for detection (to_ids is false)"
            return self._indicator(self.value, RULE_TYPES[kind])
        try:
            meaning = map_attribute(self.kind, self.value)
        except Unmappable as error:
            return error.reason
        if flag(self.attr.get("to_ids")):
            return self._indicator(pattern(meaning.comparisons), "stix")
        return self._observables(meaning)

    def _context(self) -> str:
        category = text(self.attr.get("category"))
        context = f"MISP attribute of type {self.kind}"
        if category:
            context += f", category {category}"
        if self.site.object_name:
            relation = text(self.attr.get("object_relation"))
            where = f" ({relation})" if relation else ""
            context += f", in a MISP {self.site.object_name} object{where}"
        comment = text(self.attr.get("comment"))
        return f"{comment.strip()}\n\n{context}." if comment and comment.strip() else context + "."

    def _sdo(self, object_type: str, **properties: object) -> Json:
        oid = stable_id(object_type, self.builder.scope, "attribute", self.key)
        obj = self.builder.sdo(object_type, oid, self.timestamp, **properties)
        if self.uuid:
            references = obj.setdefault("external_references", [])
            assert isinstance(references, list)
            references.append({"source_name": "misp", "external_id": self.uuid})
        return obj

    def _checked(self, obj: Json) -> str | None:
        try:
            validate_object(obj)
        except InvalidStix as error:
            return f"not valid STIX: {error.message}"
        return None

    def _finish(self, obj: Json) -> tuple[str, ...] | str:
        problem = self._checked(obj)
        if problem is not None:
            return problem
        if str(obj["id"]) in self.builder.objects:
            return "another attribute with the same uuid was converted already"
        self.builder.emit(obj, self.level)
        return (str(obj["id"]),)

    def _indicator(self, text_pattern: str, pattern_type: str) -> tuple[str, ...] | str:
        shown = self.value if len(self.value) <= _NAME_LIMIT else self.value[:_NAME_LIMIT] + "…"
        first_seen = iso_micros(self.attr.get("first_seen"))
        properties: Json = {
            "name": f"{self.kind}: {shown}",
            "description": self._context(),
            "indicator_types": ["malicious-activity"],
            "pattern": text_pattern,
            "pattern_type": pattern_type,
            "valid_from": format_stix_timestamp(first_seen or self.timestamp),
        }
        if pattern_type == "stix":
            properties["pattern_version"] = "2.1"
        obj = self._sdo("indicator", **properties)
        made = self._finish(obj)
        if not isinstance(made, str):
            self.builder.indicators.append(made[0])
        return made

    def _observables(self, meaning: Meaning) -> tuple[str, ...] | str:
        if not meaning.observables:
            return f"{meaning.no_observable}; to_ids is false, so it is no indicator either"
        for obj in meaning.observables:
            problem = self._checked(obj)
            if problem is not None:
                return problem
        for obj in meaning.observables:
            self.builder.emit_sco(obj, self.level)
        start = iso_micros(self.attr.get("first_seen")) or self.timestamp
        end = iso_micros(self.attr.get("last_seen")) or self.timestamp
        self.builder.observed.append((start, max(start, end)))
        return tuple(str(obj["id"]) for obj in meaning.observables)

    def _link(self) -> tuple[str, ...] | str:
        url = self.value.strip()
        if _URL.fullmatch(url) is None:
            return "a link that is not a URL"
        reference: Json = {"source_name": "misp-link", "url": url}
        comment = text(self.attr.get("comment"))
        if comment and comment.strip():
            reference["description"] = comment.strip()
        if reference not in self.builder.references:
            self.builder.references.append(reference)
        return ()

    def _vulnerability(self) -> tuple[str, ...] | str:
        name = self.value.strip()
        properties: Json = {"name": name, "description": self._context()}
        obj = self._sdo("vulnerability", **properties)
        if _CVE.fullmatch(name):
            references = obj.get("external_references", [])
            assert isinstance(references, list)
            references.insert(0, {"source_name": "cve", "external_id": name.upper()})
            obj["external_references"] = references
        return self._finish(obj)

    def _note(self) -> tuple[str, ...] | str:
        category = text(self.attr.get("category"))
        abstract = f"{category}: {self.kind}" if category else self.kind
        content = f"{self.value}\n\n{self._context()}"
        obj = self._sdo(
            "note", abstract=abstract, content=content, object_refs=[self.builder.report_id]
        )
        made = self._finish(obj)
        if not isinstance(made, str) and self.site.object_uuid:
            self.builder.notes[made[0]] = self.site.object_uuid
        return made

    def _named(self, kind: str) -> tuple[str, ...] | str:
        if kind == "threat-actor":
            found = galaxies.entity("threat-actor", self.value)
            if found is None:
                return "the attribute has no value"
            self.builder._add_entity(found, self.level)
            return (self.builder.entity_id(found),)
        return self._finish(self._sdo("campaign", name=self.value.strip(),
                                      description=self._context()))  # fmt: skip
