"""Collections made after set-up (the alerts collection, each exercise's) carry the hub's own
objects like the default one: the TLP marking definitions, the scope and sighting extension
definitions, the hub's and "Anonymous member" identities and the organisations' identities.

They are copied from the default collection as a reader sees them there (read through
``services.reading``: all TLP:CLEAR for the whole community), hub-owned, as new rows.
"""

from __future__ import annotations

from dataclasses import replace

from shieldwall.domain.organisations import Organisation
from shieldwall.domain.policy import AccessLabel, audience_keys
from shieldwall.domain.queries import ObjectQuery, VersionFilter
from shieldwall.domain.scope import COMMUNITY, SCOPE_EXTENSION_ID
from shieldwall.domain.sightings import SIGHTING_EXTENSION_ID
from shieldwall.domain.tlp import TLP2_MARKING_IDS, Tlp
from shieldwall.services import reading
from shieldwall.services.admin import (
    ANONYMOUS_IDENTITY_SETTING,
    DEFAULT_COLLECTION_ALIAS,
    HUB_IDENTITY_SETTING,
)
from shieldwall.services.context import Hub
from shieldwall.services.ports import CollectionRecord, NewObject, WriteTx

_READ_CHUNK = 500


def carried_objects(hub: Hub, reader: Organisation) -> list[NewObject]:
    """Every version of the hub's own objects in the default collection, as ``reader`` may
    read them, ready to be stored in another collection (hub-owned, TLP:CLEAR, community).
    Read outside the write transaction that creates the collection."""
    with hub.store.read() as tx:
        wanted = {*TLP2_MARKING_IDS.values(), SCOPE_EXTENSION_ID, SIGHTING_EXTENSION_ID}
        wanted |= {
            tx.setting(HUB_IDENTITY_SETTING) or "",
            tx.setting(ANONYMOUS_IDENTITY_SETTING) or "",
        }
        wanted |= {o.identity_id for o in tx.organisations()}
    ids = sorted(wanted - {""})
    audience = audience_keys(AccessLabel(Tlp.CLEAR, COMMUNITY, None))
    every = VersionFilter(last=False, all=True)
    rows: list[NewObject] = []
    for start in range(0, len(ids), _READ_CHUNK):
        query = ObjectQuery(ids=frozenset(ids[start : start + _READ_CHUNK]), versions=every)
        page = reading.list_objects(
            hub, reader, DEFAULT_COLLECTION_ALIAS, replace(query, limit=10_000)
        )
        for served in page.items:
            row = served.row
            if row.submitter_org_id is None and row.tlp == int(Tlp.CLEAR):
                rows.append(
                    NewObject(
                        row.stix_id,
                        row.stix_type,
                        row.spec_version,
                        row.version,
                        row.tlp,
                        audience,
                        None,
                        served.body,
                        row.refs,
                    )
                )
    return rows


def add_carrying(
    tx: WriteTx,
    hub: Hub,
    rows: list[NewObject],
    title: str,
    description: str,
    alias: str,
    *,
    members_can_read: bool,
    members_can_write: bool,
) -> CollectionRecord:
    """Create a collection holding ``rows`` (from ``carried_objects``), inside the caller's
    transaction."""
    created = tx.add_collection(
        hub.ids.uuid4(),
        title,
        description,
        alias,
        members_can_read=members_can_read,
        members_can_write=members_can_write,
    )
    if rows:
        last = tx.lock_collection(created.pk)
        date_added = max(hub.clock.now(), last + 1)
        tx.insert_objects(created.pk, date_added, rows)
        tx.set_last_date_added(created.pk, date_added)
    return created
