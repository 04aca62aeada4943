"""Correlation: which objects a reader may read share an observable with a given object, and
which reports hang together through shared observables (clusters).

Links are found through the observable index (``domain.observables``: one row per object
version and key, never a pairwise table) with ``ObjectQuery.observables`` probes, read through
``reading`` like every other object: a link exists for a reader only between objects it may
read, and no count includes an object it may not. A key held by more than ``cap`` objects
the reader may read, the object itself included (a public resolver, a CDN, a popular file
hash: MISP's "over-correlating" values), links nothing and is reported as too common.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import orjson

from shieldwall.domain.observables import Key, describe, keys_of, probes
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.queries import ObjectQuery
from shieldwall.domain.tlp import Tlp
from shieldwall.services import reading
from shieldwall.services.context import Hub

CONTAINERS = frozenset({"report", "grouping", "observed-data"})
MAX_MEMBERS = 2000
MAX_KEYS = 500


@dataclass(frozen=True, slots=True)
class Link:
    """Why two objects are related: the probed key, as people read it, and the relation of
    the other object's observable to it (``same``, ``inside``, ``contains``, ``subdomain``,
    ``parent``)."""

    kind: str
    value: str
    relation: str


@dataclass(slots=True)
class RelatedObject:
    """An object related to the one asked about, with every link found."""

    stix_id: str
    stix_type: str
    name: str | None
    tlp: str
    links: list[Link] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.stix_id,
            "type": self.stix_type,
            "name": self.name,
            "tlp": self.tlp,
            "links": [
                {"kind": link.kind, "value": link.value, "relation": link.relation}
                for link in self.links
            ],
        }


@dataclass(frozen=True, slots=True)
class Related:
    """The related listing of one object."""

    object_id: str
    observables: list[tuple[str, str]]
    related: list[RelatedObject]
    too_common: list[tuple[str, str]]

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.object_id,
            "observables": [{"kind": k, "value": v} for k, v in self.observables],
            "related": [item.to_json() for item in self.related],
            "too_common": [{"kind": k, "value": v} for k, v in self.too_common],
        }


def _name(body: dict[str, object]) -> str | None:
    for name in ("name", "value", "pattern"):
        value = body.get(name)
        if isinstance(value, str):
            return value[:200]
    return None


def object_keys(hub: Hub, reader: Organisation, body: dict[str, object]) -> set[Key]:
    """The keys of an object, and for a container (report, grouping, observed-data) those of
    the members the reader may read too."""
    keys = set(keys_of(body))
    refs = body.get("object_refs")
    if body.get("type") in CONTAINERS and isinstance(refs, list):
        members = frozenset(r for r in refs[:MAX_MEMBERS] if isinstance(r, str))
        if members:
            for _, served in reading.find_everywhere(hub, reader, ObjectQuery(ids=members)):
                keys.update(keys_of(orjson.loads(served.body)))
    return keys


def related(hub: Hub, reader: Organisation, object_id: str, cap: int) -> Related:
    """Objects the reader may read that share an observable with ``object_id`` (which it
    must be able to read: ``NotFound`` otherwise). Containers are compared through their
    members, and a container's own members are not listed as related to it."""
    _, served = reading.object_anywhere(hub, reader, object_id)
    body = orjson.loads(served.body)
    keys = sorted(object_keys(hub, reader, body))[:MAX_KEYS]
    exclude = {object_id}
    refs = body.get("object_refs")
    if isinstance(refs, list):
        exclude.update(r for r in refs if isinstance(r, str))
    found: dict[str, RelatedObject] = {}
    too_common: list[tuple[str, str]] = []
    for key in keys:
        shown_kind, shown_value = describe(key)
        holders: dict[str, tuple[reading.Served, str]] = {}  # every object holding it
        for probe in probes(key):
            query = ObjectQuery(observables=(probe,))
            for _, item in reading.find_everywhere(hub, reader, query, limit=cap + 1):
                holders.setdefault(item.row.stix_id, (item, probe.relation))
            if len(holders) > cap:
                break
        if len(holders) > cap:
            too_common.append((shown_kind, shown_value))
            continue
        hits = {k: v for k, v in holders.items() if k not in exclude}
        for stix_id, (item, relation) in hits.items():
            entry = found.get(stix_id)
            if entry is None:
                other = orjson.loads(item.body)
                entry = RelatedObject(
                    stix_id, item.row.stix_type, _name(other), Tlp(item.row.tlp).label
                )
                found[stix_id] = entry
            entry.links.append(Link(shown_kind, shown_value, relation))
    return Related(
        object_id,
        [describe(key) for key in keys],
        sorted(found.values(), key=lambda r: (-len(r.links), r.stix_id)),
        too_common,
    )


def containers(hub: Hub, reader: Organisation, ids: frozenset[str]) -> list[tuple[str, str | None]]:
    """(id, name) of the reports and groupings the reader may read that hold any of
    ``ids`` (newest version of each), by id."""
    query = ObjectQuery(types=frozenset({"report", "grouping"}), refers_to=ids)
    found = {
        served.row.stix_id: _name(orjson.loads(served.body))
        for _, served in reading.find_everywhere(hub, reader, query)
    }
    return sorted(found.items())


# ---------------------------------------------------------------------------------- clusters


@dataclass(frozen=True, slots=True)
class Cluster:
    """Reports linked, directly or through one another, by shared observables."""

    reports: list[tuple[str, str | None]]
    shared: list[tuple[str, str]]

    def to_json(self) -> dict[str, object]:
        return {
            "reports": [{"id": i, "name": n} for i, n in self.reports],
            "shared": [{"kind": k, "value": v} for k, v in self.shared],
        }


def _anchors(key: Key) -> list[Key]:
    """The keys that ``key`` relates to without being equal: networks around an address and
    parent domains (the relation read from the other side covers the reverse)."""
    anchors: list[Key] = []
    for probe in probes(key):
        if probe.relation in ("contains", "parent"):
            anchors.extend((probe.kind, value) for value in probe.keys)
    return anchors


class _Union:
    def __init__(self, items: Iterable[str]) -> None:
        self.parent = {item: item for item in items}

    def find(self, item: str) -> str:
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def join(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


def clusters(hub: Hub, reader: Organisation, cap: int, max_reports: int) -> list[Cluster]:
    """Clusters (two reports or more) among the newest ``max_reports`` reports and groupings
    the reader may read, linked when their members share a key, an address lies in a
    network, or a domain is under another; keys found in more than ``cap`` reports link
    nothing. Largest clusters first."""
    query = ObjectQuery(types=frozenset({"report", "grouping"}))
    reports = reading.find_everywhere(hub, reader, query)[-max_reports:]
    names: dict[str, str | None] = {}
    holders: dict[Key, set[str]] = {}
    for _, served in reports:
        body = orjson.loads(served.body)
        names[served.row.stix_id] = _name(body)
        for key in object_keys(hub, reader, body):
            holders.setdefault(key, set()).add(served.row.stix_id)
    union = _Union(names)
    shared: dict[Key, set[str]] = {}
    for key, owners in holders.items():
        linked = set(owners)
        for anchor in _anchors(key):
            linked |= holders.get(anchor, set())
        if len(linked) < 2 or len(linked) > cap:
            continue
        first, *rest = sorted(linked)
        for other in rest:
            union.join(first, other)
        shared[key] = linked
    groups: dict[str, list[str]] = {}
    for report_id in names:
        groups.setdefault(union.find(report_id), []).append(report_id)
    result = []
    for members in groups.values():
        if len(members) < 2:
            continue
        inside = set(members)
        keys = sorted(k for k, owners in shared.items() if owners <= inside)
        result.append(
            Cluster(
                sorted((m, names[m]) for m in members),
                [describe(k) for k in keys],
            )
        )
    result.sort(key=lambda c: (-len(c.reports), c.reports[0][0]))
    return result
