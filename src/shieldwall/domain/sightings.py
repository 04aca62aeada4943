"""Sightings: building the STIX ``sighting`` a member reports, and the per-indicator figures
readers see (counts, sectors, countries, first and last seen, false positives).

A false-positive report is a sighting carrying this hub's sighting extension with
``false_positive: true`` (STIX 2.1 has no property for it; OpenCTI uses a custom
``x_opencti_negative`` for the same idea). Anonymous sightings (anonymous to members, or
unlinkable) are counted but never named and never contribute a sector or country: with few
members per sector and country, a breakdown would name them. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from shieldwall.domain.timestamps import format_stix_timestamp, parse_timestamp

SIGHTING_EXTENSION_ID = "extension-definition--0b3a8a57-3f5c-4d38-9d54-5f0d6c1d2e71"


def sighting_extension_definition(created_by_ref: str) -> dict[str, object]:
    """The ``extension-definition`` object the hub publishes for false-positive sightings."""
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": SIGHTING_EXTENSION_ID,
        "created_by_ref": created_by_ref,
        "created": "2026-11-23T00:00:00.000Z",
        "modified": "2026-11-23T00:00:00.000Z",
        "name": "Shieldwall sighting assessment",
        "description": (
            "Marks a sighting as a false-positive report: the sighter saw the value and judged"
            " it benign. Hubs count such reports against the indicator's score."
        ),
        "schema": "https://shieldwall.example/schemas/sighting-extension.json",
        "version": "1.0.0",
        "extension_types": ["property-extension"],
    }


@dataclass(frozen=True, slots=True)
class NewSighting:
    """What a member reports about one indicator (times in microseconds)."""

    indicator_id: str
    count: int = 1
    first_seen: int | None = None
    last_seen: int | None = None
    false_positive: bool = False
    description: str | None = None


def make_sighting(
    report: NewSighting, sighting_id: str, now: int, sighter: str | None
) -> dict[str, object]:
    """The STIX ``sighting`` for ``report``; ``sighter`` (an identity id) is named as
    ``created_by_ref`` and ``where_sighted_refs`` unless the sighting is anonymous."""
    stamp = format_stix_timestamp(now)
    sighting: dict[str, object] = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": sighting_id,
        "created": stamp,
        "modified": stamp,
        "sighting_of_ref": report.indicator_id,
        "count": report.count,
    }
    if report.first_seen is not None:
        sighting["first_seen"] = format_stix_timestamp(report.first_seen)
    if report.last_seen is not None:
        sighting["last_seen"] = format_stix_timestamp(report.last_seen)
    if report.description:
        sighting["description"] = report.description
    if report.false_positive:
        sighting["extensions"] = {
            SIGHTING_EXTENSION_ID: {"extension_type": "property-extension", "false_positive": True}
        }
    if sighter is not None:
        sighting["created_by_ref"] = sighter
        sighting["where_sighted_refs"] = [sighter]
    return sighting


def is_false_positive(sighting: Mapping[str, object]) -> bool:
    """True when ``sighting`` carries the false-positive mark."""
    extensions = sighting.get("extensions")
    if not isinstance(extensions, Mapping):
        return False
    body = extensions.get(SIGHTING_EXTENSION_ID)
    return isinstance(body, Mapping) and body.get("false_positive") is True


@dataclass(frozen=True, slots=True)
class Sighter:
    """The organisation behind an attributed sighting."""

    name: str
    identity_id: str
    sector: str
    country: str


@dataclass(frozen=True, slots=True)
class SightingFact:
    """One sighting as the figures need it; ``sighter`` is None when it is anonymous."""

    sighter: Sighter | None
    count: int
    first_seen: int | None
    last_seen: int | None
    false_positive: bool


def fact_of(sighting: Mapping[str, object], sighter: Sighter | None) -> SightingFact:
    """Read a stored sighting (valid STIX) into a fact; times fall back to ``created``."""

    def stamp(name: str) -> int | None:
        value = sighting.get(name, sighting.get("created"))
        return parse_timestamp(value) if isinstance(value, str) else None

    count = sighting.get("count", 1)
    return SightingFact(
        sighter,
        count if isinstance(count, int) and count > 0 else 1,
        stamp("first_seen"),
        stamp("last_seen"),
        is_false_positive(sighting),
    )


@dataclass(frozen=True, slots=True)
class SightingSummary:
    """Per-indicator figures over the sightings a reader may read.

    ``organisations`` counts distinct named organisations plus each anonymous report (the
    hub cannot tell whether two unlinkable reports came from one member); ``sectors`` and
    ``countries`` count distinct named organisations only; ``observations`` sums ``count``;
    false-positive reports are counted apart and not in ``organisations``."""

    reports: int = 0
    observations: int = 0
    organisations: int = 0
    named: tuple[str, ...] = ()
    anonymous: int = 0
    sectors: dict[str, int] = field(default_factory=dict)
    countries: dict[str, int] = field(default_factory=dict)
    first_seen: int | None = None
    last_seen: int | None = None
    false_positives: int = 0

    def to_json(self) -> dict[str, object]:
        """The figures as the API returns them."""
        return {
            "reports": self.reports,
            "observations": self.observations,
            "organisations": self.organisations,
            "named_organisations": list(self.named),
            "anonymous_reports": self.anonymous,
            "sectors": dict(sorted(self.sectors.items())),
            "countries": dict(sorted(self.countries.items())),
            "first_seen": None
            if self.first_seen is None
            else format_stix_timestamp(self.first_seen),
            "last_seen": None if self.last_seen is None else format_stix_timestamp(self.last_seen),
            "false_positives": self.false_positives,
        }


def summarise(facts: Iterable[SightingFact]) -> SightingSummary:
    """Aggregate sightings into the figures (see ``SightingSummary``)."""
    reports = observations = anonymous = false_positives = 0
    named: dict[str, Sighter] = {}
    first: int | None = None
    last: int | None = None
    for fact in facts:
        reports += 1
        if fact.false_positive:
            false_positives += 1
            continue
        observations += fact.count
        if fact.sighter is None:
            anonymous += 1
        else:
            named[fact.sighter.identity_id] = fact.sighter
        if fact.first_seen is not None:
            first = fact.first_seen if first is None else min(first, fact.first_seen)
        if fact.last_seen is not None:
            last = fact.last_seen if last is None else max(last, fact.last_seen)
    sectors: dict[str, int] = {}
    countries: dict[str, int] = {}
    for sighter in named.values():
        sectors[sighter.sector] = sectors.get(sighter.sector, 0) + 1
        countries[sighter.country] = countries.get(sighter.country, 0) + 1
    return SightingSummary(
        reports=reports,
        observations=observations,
        organisations=len(named) + anonymous,
        named=tuple(sorted(s.name for s in named.values())),
        anonymous=anonymous,
        sectors=sectors,
        countries=countries,
        first_seen=first,
        last_seen=last,
        false_positives=false_positives,
    )
