"""What a member may match against: a per-reader snapshot of live indicators, kept in memory
and refreshed incrementally, with what is derived from it (a compiled matcher, a lookup filter).

Snapshots are read through ``reading.indicators_since`` only (the policy path). A snapshot is
keyed by the reader's organisation *and* its compiled policy keys, so a membership change gives
the next request a new snapshot (architecture invariant 2). Additions arrive incrementally;
revocations replace the entry; anything else that removes readability (deletion, a later
version hidden from the reader) is picked up by the full rebuild after
``HubConfig.match_snapshot_max_age`` seconds. Expired indicators (revoked, ``valid_until``
past, or score decayed below the threshold: ``services.assessment``) and indicators on a
warning list that nobody confirmed are left out. Sightings and confirmations are read on
each full build, so a new sighting revives a decayed indicator within that time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from shieldwall.domain.matching import Matcher
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.policy import reader_filter
from shieldwall.services import assessment, reading, sightings
from shieldwall.services.context import Hub
from shieldwall.services.snapshots import Indicator, Snapshot


def _indicator(
    hub: Hub, current: Snapshot, served: reading.Served, collection_id: str, warned: bool, now: int
) -> Indicator | None:
    """The entry for a served indicator version, or None if it is revoked, expired (by
    ``valid_until`` or score), flagged on ingest for a warning-listed value and not
    confirmed, or has no STIX pattern."""
    obj = orjson.loads(served.body)
    found = assessment.standing(
        hub,
        obj,
        current.sightings.get(served.row.stix_id),
        now,
        warned=warned,
        confirmed=current.confirmed,
    )
    if found is None or found[1].expired:
        return None
    terms, scored = found
    return Indicator(
        terms.stix_id,
        terms.pattern,
        served.row.tlp,
        terms.confidence,
        terms.valid_until,
        collection_id,
        scored.expires_at,
    )


def snapshot(hub: Hub, reader: Organisation) -> Snapshot:
    """The reader's snapshot, brought up to date (new and changed indicators read now).

    Callers must hold ``snapshot.lock`` while they read ``indicators`` or derive from it;
    this function takes it itself while refreshing.
    """
    now = hub.clock.now()
    current = hub.snapshots.get(
        (reader.id, reader_filter(reader)), now, hub.config.match_snapshot_max_age
    )
    with current.lock:
        if not current.cursors:  # a full build
            current.sightings = sightings.summaries(hub, reader)
            current.confirmed = assessment.confirmed(hub, None)
        served, cursors = reading.indicators_since(hub, reader, current.cursors)
        warned = assessment.warned(hub, [item.row.seq for _, item in served]) if served else set()
        changed = False
        for collection_id, item in served:
            entry = _indicator(hub, current, item, collection_id, item.row.seq in warned, now)
            if entry is None:
                changed |= current.indicators.pop(item.row.stix_id, None) is not None
                current.excluded.add(item.row.stix_id)
            else:
                current.indicators[entry.stix_id] = entry
                current.excluded.discard(entry.stix_id)
                changed = True
                if entry.expires_at is not None:
                    soonest = current.next_expiry
                    end = entry.expires_at
                    current.next_expiry = end if soonest is None else min(soonest, end)
        if current.next_expiry is not None and current.next_expiry <= now:
            changed |= _drop_expired(current, now)
        if changed:
            current.generation += 1
        current.cursors = cursors
    return current


def _drop_expired(current: Snapshot, now: int) -> bool:
    """Remove indicators whose ``expires_at`` has passed; recompute ``next_expiry``."""
    ends = {i: e.expires_at for i, e in current.indicators.items() if e.expires_at is not None}
    expired = [stix_id for stix_id, end in ends.items() if end <= now]
    for stix_id in expired:
        del current.indicators[stix_id]
        current.excluded.add(stix_id)
    current.next_expiry = min((end for end in ends.values() if end > now), default=None)
    return bool(expired)


def derived(current: Snapshot, name: str, build: Callable[[Snapshot, Any], Any]) -> Any:
    """The artefact ``name`` of the snapshot, rebuilt by ``build(snapshot, previous)`` when the
    snapshot changed since it was built (``previous`` lets a builder extend incrementally).
    Call while holding ``current.lock``."""
    found = current.derived.get(name)
    if found is not None and found[0] == current.generation:
        return found[1]
    artefact = build(current, found[1] if found is not None else None)
    current.derived[name] = (current.generation, artefact)
    return artefact


def matcher_of(current: Snapshot) -> Matcher:
    """The compiled matcher of the snapshot's indicators (call holding ``current.lock``)."""

    def build(snap: Snapshot, _previous: object) -> Matcher:
        return Matcher.compile((i.stix_id, i.pattern) for i in snap.indicators.values())

    matcher: Matcher = derived(current, "matcher", build)
    return matcher
