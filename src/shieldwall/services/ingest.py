"""Adding objects to a collection (TAXII 2.1 §5.5 "Add Objects").

Each object is validated on its own: valid ones are stored, invalid ones are reported in
the status resource with their reason, and the whole request is one transaction, so a
crash stores all of the valid objects or none. Re-posting an (id, version) already stored
stores nothing new and counts as a success. Only the organisation that first submitted an
id may add versions of it.

Attribution (domain/attribution.py): ``attributed`` keeps the submitter on the row;
``anonymous`` stores it only in the sealed table and publishes the objects as the hub's
"Anonymous member"; ``unlinkable`` (used by services/anonymity.py when it publishes a
batch) stores no submitter at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from shieldwall.domain.attribution import Attribution
from shieldwall.domain.errors import Forbidden, InvalidInput, InvalidStix, NotFound, ShieldwallError
from shieldwall.domain.observables import indexed_items, keys_of_items
from shieldwall.domain.organisations import Organisation, Role
from shieldwall.domain.policy import AccessLabel, audience_keys
from shieldwall.domain.references import reference_ids
from shieldwall.domain.scope import Scope, scope_of
from shieldwall.domain.stix_validation import validate_object
from shieldwall.domain.timestamps import format_timestamp
from shieldwall.domain.tlp import MARKING_TO_TLP, Tlp, normalise_markings, tlp_from_markings
from shieldwall.domain.versions import VERSIONLESS, version_text
from shieldwall.services import assessment
from shieldwall.services.admin import ANONYMOUS_IDENTITY_SETTING, HUB_IDENTITY_SETTING
from shieldwall.services.context import Hub
from shieldwall.services.ports import CollectionRecord, NewObject, ReadTx, StatusRecord


@dataclass(frozen=True, slots=True)
class StatusDetail:
    """One entry of a status resource's successes or failures (TAXII 2.1 §4.3.1)."""

    id: str
    version: str
    message: str | None = None


@dataclass(frozen=True, slots=True)
class _Prepared:
    row: NewObject
    version_text: str
    scope: Scope
    created_by_ref: str | None
    warning: str | None = None  # warning-list hits, told to the submitter


def envelope_objects(document: object) -> list[object]:
    """The objects of a TAXII envelope (``{"objects": [...]}``) or a STIX bundle.

    Raises ``InvalidInput`` when the document is neither.
    """
    if not isinstance(document, dict):
        raise InvalidInput(
            'the body must be a JSON object: a TAXII envelope {"objects": [...]} or a STIX bundle'
        )
    if document.get("type", "bundle") != "bundle":
        raise InvalidInput(
            f"the body is a STIX {document.get('type')!r} object, not a bundle or an envelope"
        )
    items = document.get("objects")
    if not isinstance(items, list):
        raise InvalidInput('the body has no "objects" list: send a TAXII envelope or a STIX bundle')
    return items


def _prepare(
    obj: object,
    submitter: Organisation | None,
    attribution: Attribution,
    anonymous_identity: str,
    hub: Hub,
    relay: bool = False,
) -> _Prepared:
    valid = validate_object(obj)
    assert isinstance(obj, dict)
    scope = scope_of(obj)
    body = dict(obj)
    if valid.id in MARKING_TO_TLP:
        # A predefined TLP marking definition: public by nature, and STIX 2.1 §7.2.1.4
        # fixes its content, so it is stored exactly as defined.
        level = Tlp.CLEAR
    else:
        marked = tlp_from_markings(obj.get("object_marking_refs"))
        level = hub.config.default_tlp if marked is None else marked  # CLEAR is 0: no `or`
        body["object_marking_refs"] = normalise_markings(obj.get("object_marking_refs"), level)
    if attribution is not Attribution.ATTRIBUTED and "created" in body and not relay:
        body["created_by_ref"] = anonymous_identity
    created_by = body.get("created_by_ref") if attribution is Attribution.ATTRIBUTED else None
    submitter_id = submitter.id if submitter is not None else None
    label = AccessLabel(
        level, scope, submitter_id if attribution is not Attribution.UNLINKABLE else None
    )
    version = valid.modified_micros
    if version is None:
        version = valid.created_micros
    refs = reference_ids(body)
    items = indexed_items(body)  # once, for the index and the warning lists
    hits = assessment.warnings_of(hub, body, items) if valid.type == "indicator" else {}
    row = NewObject(
        stix_id=valid.id,
        stix_type=valid.type,
        spec_version=valid.spec_version,
        version=VERSIONLESS if version is None else version,
        tlp=int(level),
        audience=audience_keys(label),
        submitter_org_id=submitter_id if attribution is Attribution.ATTRIBUTED else None,
        body=_serialise(body, valid.id),
        refs=" ".join(sorted(refs)) if refs else None,
        sealed_org_id=submitter_id if attribution is Attribution.ANONYMOUS else None,
        observables=keys_of_items(items),
        warned=bool(hits),
    )
    stamp = body.get("modified", body.get("created"))
    return _Prepared(
        row,
        stamp if isinstance(stamp, str) else "",
        scope,
        created_by if isinstance(created_by, str) else None,
        assessment.warning_message(hits) if hits else None,
    )


def _serialise(body: dict[str, object], object_id: str) -> str:
    try:
        return orjson.dumps(body).decode()
    except orjson.JSONEncodeError as exc:  # e.g. nesting deeper than orjson writes (254)
        raise InvalidStix(f"{object_id}: the object cannot be stored: {exc}", object_id) from None


def _claimed_version(obj: object, fallback: str) -> str:
    """The version a refused object claimed (its modified/created), else ``fallback``."""
    if isinstance(obj, dict):
        for name in ("modified", "created"):
            value = obj.get(name)
            if isinstance(value, str) and len(value) < 40:
                return value
    return fallback


def _object_id(obj: object) -> str:
    if isinstance(obj, dict) and isinstance(obj.get("id"), str) and obj["id"]:
        return str(obj["id"])[:300]
    return "(no id)"


def add_objects(
    hub: Hub,
    submitter: Organisation | None,
    collection_id: str,
    items: list[object],
    attribution: Attribution = Attribution.ATTRIBUTED,
    *,
    hub_writes: bool = False,
    relay: bool = False,
) -> StatusRecord:
    """Validate and store ``items`` in the collection; return the (complete) status.

    ``submitter`` is ``None`` only for unlinkable publication. Raises ``NotFound`` for an
    unknown collection, ``Forbidden`` when the submitter may not write to it,
    ``InvalidInput`` when there are more objects than the configured maximum. Per-object
    problems never raise: they become failures in the status. ``hub_writes``: a hub use
    case (services/alerts.py) stores these for the submitter in a collection members
    cannot write to directly; only the write permission check is skipped. ``relay``
    (services/federation.py, with ``UNLINKABLE`` and no submitter): objects pulled from a
    partner hub keep their ``created_by_ref`` as sent, and new versions are accepted for
    ids no local organisation owns.
    """
    if len(items) > hub.config.max_objects_per_request:
        raise InvalidInput(
            f"{len(items)} objects in one request; the maximum is"
            f" {hub.config.max_objects_per_request}: split the bundle"
        )
    if (submitter is None) != (attribution is Attribution.UNLINKABLE):
        raise ValueError("only unlinkable publication has no submitter")
    now = hub.clock.now()
    request_version = format_timestamp(now)
    successes: list[StatusDetail] = []
    failures: list[StatusDetail] = []
    with hub.store.read() as tx:  # validation runs outside the write lock
        hub_identity = tx.setting(HUB_IDENTITY_SETTING) or ""
        anonymous_identity = tx.setting(ANONYMOUS_IDENTITY_SETTING) or ""
    prepared: list[_Prepared] = []
    for obj in items:
        try:
            prepared.append(_prepare(obj, submitter, attribution, anonymous_identity, hub, relay))
        except InvalidStix as exc:
            failures.append(
                StatusDetail(
                    exc.object_id or _object_id(obj),
                    _claimed_version(obj, request_version),
                    exc.message,
                )
            )
        except ShieldwallError as exc:
            failures.append(
                StatusDetail(_object_id(obj), _claimed_version(obj, request_version), exc.message)
            )
    with hub.store.write() as tx:
        collection = tx.collection(collection_id)
        _check_writable(collection, None if hub_writes else submitter)
        assert collection is not None
        checked = _check_references(
            tx, prepared, submitter, {hub_identity, anonymous_identity}, failures, request_version
        )
        last = tx.lock_collection(collection.pk)
        date_added = max(now, last + 1)
        existing = tx.existing_versions(collection.pk, [p.row.stix_id for p in checked])
        fresh: list[NewObject] = []
        seen: set[tuple[str, int]] = set()
        submitter_id = submitter.id if submitter is not None else None
        for item in checked:
            row = item.row
            versions = existing.get(row.stix_id, [])
            stored = next((v for v in versions if v.version == row.version), None)
            shown = item.version_text or version_text(
                row.version, stored.date_added if stored else date_added
            )
            if (row.stix_id, row.version) in seen or stored is not None:
                successes.append(StatusDetail(row.stix_id, shown, "already stored; nothing new"))
                continue
            owners = {v.submitter_org_id for v in versions}
            if (
                versions
                and not (relay and owners == {None})
                and (submitter_id is None or owners != {submitter_id})
            ):
                failures.append(
                    StatusDetail(
                        row.stix_id,
                        shown,
                        "this id belongs to an object another organisation submitted;"
                        " only its submitter may add versions of it",
                    )
                )
                continue
            seen.add((row.stix_id, row.version))
            fresh.append(row)
            successes.append(StatusDetail(row.stix_id, shown, item.warning))
        tx.insert_objects(collection.pk, date_added, fresh)
        if fresh:
            tx.set_last_date_added(collection.pk, date_added)
        record = StatusRecord(
            id=hub.ids.uuid4(),
            org_id=submitter_id if attribution is not Attribution.UNLINKABLE else None,
            collection_pk=collection.pk,
            request_timestamp=now,
            total_count=len(items),
            success_count=len(successes),
            failure_count=len(failures),
            pending_count=0,
            details=orjson.dumps(
                {
                    "successes": [_detail(d) for d in successes],
                    "failures": [_detail(d) for d in failures],
                    "pendings": [],
                }
            ).decode(),
        )
        if attribution is not Attribution.UNLINKABLE:
            tx.insert_status(record)
    return record


def _detail(detail: StatusDetail) -> dict[str, str]:
    body = {"id": detail.id, "version": detail.version}
    if detail.message:
        body["message"] = detail.message
    return body


def _check_writable(collection: CollectionRecord | None, submitter: Organisation | None) -> None:
    if collection is None:
        raise NotFound("no such collection")
    if submitter is None:  # unlinkable publication: the hub itself writes
        return
    if not collection.members_can_write and submitter.role is not Role.OPERATOR:
        if collection.members_can_read:
            raise Forbidden("this collection is read-only for members")
        raise NotFound("no such collection")


def _check_references(
    read: ReadTx,
    prepared: list[_Prepared],
    submitter: Organisation | None,
    reserved: set[str],
    failures: list[StatusDetail],
    fallback_version: str,
) -> list[_Prepared]:
    """Drop (as failures) objects whose scope names unknown organisations or groups, or
    whose ``created_by_ref`` claims another organisation's or the hub's identity."""
    identities = {p.created_by_ref for p in prepared if p.created_by_ref}
    for p in prepared:
        identities |= p.scope.organizations
    known = {o.identity_id: o for o in read.organisations_by_identity(identities)}
    groups = read.existing_group_names({g for p in prepared for g in p.scope.groups})
    kept: list[_Prepared] = []
    for item in prepared:
        unknown_orgs = sorted(item.scope.organizations - known.keys())
        unknown_groups = sorted(item.scope.groups - groups)
        owner = known.get(item.created_by_ref or "")
        problem = None
        if unknown_orgs:
            problem = f"scope names organisations this hub does not know: {', '.join(unknown_orgs)}"
        elif unknown_groups:
            problem = f"scope names sharing groups that do not exist: {', '.join(unknown_groups)}"
        elif item.created_by_ref in reserved or (
            owner is not None and (submitter is None or owner.id != submitter.id)
        ):
            problem = "created_by_ref names an identity that is not the submitter's"
        if problem:
            failures.append(
                StatusDetail(item.row.stix_id, item.version_text or fallback_version, problem)
            )
        else:
            kept.append(item)
    return kept
