"""What a member may match against: a per-reader snapshot of live indicators, kept in memory
and refreshed incrementally, with what is derived from it (a compiled matcher, a lookup filter).

Snapshots are read through ``reading.indicators_since`` only (the policy path). A snapshot is
keyed by the reader's organisation *and* its compiled policy keys, so a membership change gives
the next request a new snapshot (architecture invariant 2). Additions arrive incrementally;
revocations replace the entry; anything else that removes readability (deletion, a later
version hidden from the reader) is picked up by the full rebuild after
``HubConfig.match_snapshot_max_age`` seconds. Expired (``valid_until`` past) and revoked
indicators are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from shieldwall.domain.indicators import matchable
from shieldwall.domain.matching import Matcher
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.policy import reader_filter
from shieldwall.services import reading
from shieldwall.services.context import Hub
from shieldwall.services.snapshots import Indicator, Snapshot


def _indicator(body: str, collection_id: str, tlp: int, now: int) -> Indicator | None:
    """The entry for a served indicator version, or None if it is revoked, expired or has no
    STIX pattern."""
    terms = matchable(orjson.loads(body))
    if terms is None or (terms.valid_until is not None and terms.valid_until <= now):
        return None
    return Indicator(
        terms.stix_id, terms.pattern, tlp, terms.confidence, terms.valid_until, collection_id
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
        served, cursors = reading.indicators_since(hub, reader, current.cursors)
        changed = False
        for collection_id, item in served:
            entry = _indicator(item.body, collection_id, item.row.tlp, now)
            if entry is None:
                changed |= current.indicators.pop(item.row.stix_id, None) is not None
            else:
                current.indicators[entry.stix_id] = entry
                changed = True
                if entry.valid_until is not None:
                    soonest = current.next_expiry
                    end = entry.valid_until
                    current.next_expiry = end if soonest is None else min(soonest, end)
        if current.next_expiry is not None and current.next_expiry <= now:
            changed |= _drop_expired(current, now)
        if changed:
            current.generation += 1
        current.cursors = cursors
    return current


def _drop_expired(current: Snapshot, now: int) -> bool:
    """Remove indicators whose ``valid_until`` has passed; recompute ``next_expiry``."""
    ends = {i: e.valid_until for i, e in current.indicators.items() if e.valid_until is not None}
    expired = [stix_id for stix_id, end in ends.items() if end <= now]
    for stix_id in expired:
        del current.indicators[stix_id]
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
