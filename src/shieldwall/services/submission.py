"""Submitting objects with TLP and scope given as fields (the REST way).

Over TAXII, submitters mark objects themselves (``object_marking_refs`` and the scope
extension). Over REST they may instead pass ``tlp`` and ``scope`` once for the whole
submission; the hub writes them into every object before ingest, so both ways store the
same thing.
"""

from __future__ import annotations

from shieldwall.domain.attribution import Attribution
from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.scope import Scope, with_scope
from shieldwall.domain.tlp import MARKING_TO_TLP, Tlp, normalise_markings
from shieldwall.services import ingest
from shieldwall.services.context import Hub
from shieldwall.services.ports import StatusRecord


def apply_marking(items: list[object], tlp: Tlp | None, scope: Scope | None) -> list[object]:
    """Copies of ``items`` with ``tlp`` and ``scope`` written in (when given). Non-objects
    pass through unchanged so that ingest reports them."""
    marked: list[object] = []
    for item in items:
        if not isinstance(item, dict):
            marked.append(item)
            continue
        obj: dict[str, object] = dict(item)
        if obj.get("id") in MARKING_TO_TLP:  # predefined TLP definitions stay as defined
            marked.append(obj)
            continue
        if tlp is not None:
            obj["object_marking_refs"] = normalise_markings(obj.get("object_marking_refs"), tlp)
        if scope is not None and isinstance(obj.get("extensions", {}), dict):
            obj = with_scope(obj, scope)  # (malformed extensions are reported by ingest)
        marked.append(obj)
    return marked


def submit(
    hub: Hub,
    submitter: Organisation,
    collection_id: str,
    items: list[object],
    tlp: Tlp | None,
    scope: Scope | None,
    attribution: Attribution = Attribution.ATTRIBUTED,
) -> StatusRecord:
    """Mark ``items`` with ``tlp``/``scope`` and ingest them (see ``ingest.add_objects``).

    ``attribution`` is ``attributed`` or ``anonymous`` (to members); unlinkable submission
    goes through ``services.anonymity`` instead.
    """
    if attribution is Attribution.UNLINKABLE:
        raise InvalidInput(
            "unlinkable submission needs a blind token: use shieldwall anon submit,"
            " not an authenticated request"
        )
    return ingest.add_objects(
        hub, submitter, collection_id, apply_marking(items, tlp, scope), attribution
    )
