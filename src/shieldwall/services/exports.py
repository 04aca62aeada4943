"""Exports for defences: the indicators a reader may read, with their scores, in the formats
``domain.exports`` writes.

Reads go through ``reading`` only (``indicators_since`` for the newest version of every
indicator the reader may read, ``find_everywhere`` for reports: the policy and
``domain.references``), with sightings the reader may read (``sightings.summaries``) for the
scores and warning-list flags from ``assessment``. What is *live* is decided as for matching
(``services.indicators``): not revoked, not expired by ``valid_until`` or score, not flagged
on a warning list unless confirmed. ``include_expired`` adds the expired (never the revoked
nor the unconfirmed warning-listed).

Each export is audited (who, which kind, how many rows; never values), at most once per
reader and kind every ``AUDIT_EVERY`` seconds of the hub clock in one process, so a firewall
polling every minute does not flood the trail (as key use is recorded).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import orjson

from shieldwall.domain import exports
from shieldwall.domain.errors import NotFound
from shieldwall.domain.exports import ExportedIndicator, FeedReport, MispFeed
from shieldwall.domain.misp.common import stable_id
from shieldwall.domain.observables import object_items
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.queries import ObjectQuery
from shieldwall.domain.tlp import Tlp
from shieldwall.services import assessment, audit, reading, sightings
from shieldwall.services.context import Hub

AUDIT_EVERY = 600
_MICROS = 1_000_000
_audited: dict[tuple[int, int, str], int] = {}
_audit_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class Filters:
    """What an export holds: expired indicators too, a minimum score, some kinds only
    (item kinds: ``ipv4``, ``domain``, ``sha256`` …; empty: all)."""

    include_expired: bool = False
    min_score: float | None = None
    kinds: frozenset[str] = frozenset()


def indicators(hub: Hub, reader: Organisation, filters: Filters) -> list[ExportedIndicator]:
    """The indicators ``reader`` may read that pass ``filters``, newest version of each,
    sorted by id. Items are the values of the kinds asked for; an indicator left with none
    (when kinds are given) is left out."""
    now = hub.clock.now()
    served, _ = reading.indicators_since(hub, reader, {})
    newest: dict[str, reading.Served] = {}
    for _, item in served:
        known = newest.get(item.row.stix_id)
        if known is None or (item.row.version, item.row.date_added) > (
            known.row.version,
            known.row.date_added,
        ):
            newest[item.row.stix_id] = item
    if not newest:
        return []
    figures = sightings.summaries(hub, reader)
    warned = assessment.warned(hub, [item.row.seq for item in newest.values()])
    confirmed = assessment.confirmed(hub, None) if warned else set()
    found: list[ExportedIndicator] = []
    for stix_id in sorted(newest):
        item = newest[stix_id]
        obj = orjson.loads(item.body)
        items = object_items(obj)
        standing = assessment.standing(
            hub,
            obj,
            figures.get(stix_id),
            now,
            warned=item.row.seq in warned,
            confirmed=confirmed,
            items=items,
        )
        if standing is None:  # revoked, not a STIX pattern, or warning-listed and unconfirmed
            continue
        scored = standing[1]
        if scored.expired and not filters.include_expired:
            continue
        if filters.min_score is not None and scored.value < filters.min_score:
            continue
        if filters.kinds:
            items = [i for i in items if exports.kind_of(i) in filters.kinds]
            if not items:
                continue
        found.append(
            ExportedIndicator(
                obj, Tlp(item.row.tlp), scored.value, scored.expired, scored.expires_at,
                tuple(items),
            )
        )  # fmt: skip
    return found


def _reports(hub: Hub, reader: Organisation) -> list[FeedReport]:
    found = reading.find_everywhere(hub, reader, ObjectQuery(types=frozenset({"report"})))
    reports: dict[str, FeedReport] = {}
    for _, served in found:
        obj = orjson.loads(served.body)
        refs = obj.get("object_refs")
        name = obj.get("name")
        published = obj.get("published")
        stix_id = str(obj["id"])
        reports[stix_id] = FeedReport(
            stix_id,
            name if isinstance(name, str) else stix_id,
            published if isinstance(published, str) else None,
            frozenset(r for r in refs if isinstance(r, str))
            if isinstance(refs, list)
            else frozenset(),
        )
    return list(reports.values())


def _audit(hub: Hub, reader: Organisation, kind: str, rows: int) -> None:
    now = hub.clock.now()
    key = (id(hub), reader.id, kind)
    with _audit_lock:
        last = _audited.get(key)
        if last is not None and now - last < AUDIT_EVERY * _MICROS:
            return
        _audited[key] = now
    with hub.store.write() as tx:
        audit.record(tx, now, reader.name, "export", {"kind": kind, "rows": rows})


def csv_export(hub: Hub, reader: Organisation, filters: Filters) -> str:
    """``indicators.csv`` (``domain.exports.to_csv``)."""
    found = indicators(hub, reader, filters)
    _audit(hub, reader, "csv", sum(len(i.items) for i in found))
    return exports.to_csv(found)


def list_export(hub: Hub, reader: Organisation, kind: str, filters: Filters) -> str:
    """The plain list of one kind (``domain.exports.to_list``); ``InvalidInput`` for an
    unknown kind."""
    exports.check_kind(kind)
    found = indicators(hub, reader, filters)
    values = exports.list_values(found, kind)
    _audit(hub, reader, f"list:{kind}", len(values))
    return "".join(f"{value}\n" for value in values)


def rules_export(hub: Hub, reader: Organisation, flavour: str, filters: Filters) -> str:
    """Suricata or Snort rules (``domain.exports.to_rules``)."""
    text = exports.to_rules(indicators(hub, reader, filters), flavour)
    _audit(hub, reader, flavour, text.count("\n") - 1)
    return text


def bundle_export(hub: Hub, reader: Organisation, filters: Filters) -> dict[str, object]:
    """A STIX bundle of the indicators (as served to the reader); random bundle id."""
    found = indicators(hub, reader, filters)
    _audit(hub, reader, "bundle", len(found))
    return exports.to_bundle(found, f"bundle--{hub.ids.uuid4()}")


def misp_feed(hub: Hub, reader: Organisation, filters: Filters) -> MispFeed:
    """The reader's MISP feed (``domain.exports.to_misp_feed``), events from the reports it
    may read and per-day events for the rest; ``Orgc`` is the hub."""
    found = indicators(hub, reader, filters)
    org: dict[str, object] = {
        "name": hub.config.hub_name,
        "uuid": stable_id("identity", "hub", hub.config.hub_name).partition("--")[2],
    }
    feed = exports.to_misp_feed(
        found, _reports(hub, reader), reader.identity_id, org, hub.clock.now()
    )
    _audit(hub, reader, "misp", len(feed.attributes()))
    return feed


def misp_event(
    hub: Hub, reader: Organisation, event_uuid: str, filters: Filters
) -> dict[str, object]:
    """One event of the reader's MISP feed; ``NotFound`` if the feed has no such event."""
    feed = misp_feed(hub, reader, filters)
    event = feed.events.get(event_uuid)
    if event is None:
        raise NotFound(f"no event {event_uuid} in this feed")
    return event
