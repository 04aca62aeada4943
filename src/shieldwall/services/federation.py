"""Federation: exchanging objects with partner hubs over TAXII 2.1 (docs/federation.md).

Contracts:

- Partners are managed by operators only (the CLI on the database, or REST as an operator).
  The credential used *to call the partner* (an API key sent as ``Bearer``, or a Basic
  user and password) is stored as given, because it must be sent; it is never listed or
  audited.
- A pass runs, per partner, the pull leg then the push leg (as configured). A leg that
  failed waits ``retry_base × 2^(failures-1)`` seconds (capped) before the next pass tries
  it again, unless forced. Network calls never run inside a transaction; the watermark is
  saved after each page, so a failure loses nothing and repeats nothing already done.
- **Pull**: ``GET {api_root}collections/{id}/objects/?added_after=W&match[version]=all``,
  following ``next``; the watermark is the partner's ``X-TAXII-Date-Added-Last``. Objects
  are stored through ``ingest.add_objects`` as the hub itself (no submitter, ``relay``):
  their TLP markings, scope extension and ``created_by_ref`` are kept as sent (no TLP: the
  hub default), no local organisation owns them, and an (id, version) already stored
  stores nothing. What may not leave a hub (``domain.federation.may_cross``) is refused on
  arrival too. Each newly stored version records its partner (provenance).
- **Push**: what the local collection gained since our cursor (``date_added``, ``seq``),
  read through ``services.reading`` with an operator's view, then strictly filtered with
  ``may_cross`` on the stored TLP and scope; versions that came from this same partner
  (pulled from it, or submitted by its local account) are not sent back. References to
  objects that may not leave are removed as ``domain.references`` does for readers.
  Nothing is added to an object: an anonymous object still names the hub's "Anonymous
  member" identity and nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace

import httpx
import orjson

from shieldwall.domain.attribution import Attribution
from shieldwall.domain.errors import Forbidden, InvalidInput, NotFound, ShieldwallError
from shieldwall.domain.federation import (
    PULL,
    PUSH,
    SyncDirection,
    check_api_root,
    check_collection,
    check_name,
    check_types,
    may_cross,
    retry_delay,
)
from shieldwall.domain.organisations import Organisation, Role, Sector
from shieldwall.domain.queries import Cursor, ObjectQuery, VersionFilter
from shieldwall.domain.references import redact_references, reference_ids
from shieldwall.domain.scope import SCOPE_EXTENSION_ID, scope_of
from shieldwall.domain.sightings import SIGHTING_EXTENSION_ID
from shieldwall.domain.timestamps import parse_timestamp
from shieldwall.domain.tlp import MARKING_TO_TLP, Tlp, tlp_from_markings
from shieldwall.domain.versions import VERSIONLESS
from shieldwall.services import audit, reading
from shieldwall.services.admin import (
    ANONYMOUS_IDENTITY_SETTING,
    HUB_IDENTITY_SETTING,
    list_organisations,
)
from shieldwall.services.context import Hub
from shieldwall.services.ingest import add_objects
from shieldwall.services.ports import PartnerRecord, PartnerSyncRecord, ReadTx

log = logging.getLogger("shieldwall.federation")
TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
ALREADY_STORED = "already stored; nothing new"
_SECOND = 1_000_000
# Definitions every Shieldwall collection carries: never pushed (a partner hub publishes its
# own; a reference to a definition the partner lacks is legal STIX, and medallion 3.0.0
# fails on reads once it holds an extension-definition, whose "version" it misreads).
_DEFINITIONS = frozenset({SCOPE_EXTENSION_ID, SIGHTING_EXTENSION_ID, *MARKING_TO_TLP})
_MAX_PAGES = 10_000  # a partner that pages forever is cut off (and retried next pass)


class PartnerError(ShieldwallError):
    """The partner did not answer as TAXII 2.1 says (an error status, a bad body)."""


@dataclass(frozen=True, slots=True)
class PartnerView:
    """A partner as the status view shows it: never the credential."""

    name: str
    api_root: str
    remote_collection: str
    local_collection: str
    direction: str
    auth: str
    types: tuple[str, ...]
    account: str | None
    enabled: bool
    created_at: int
    legs: tuple[PartnerSyncRecord, ...]


@dataclass(frozen=True, slots=True)
class LegResult:
    """What one leg of one pass did. ``waiting``: skipped, still backing off."""

    partner: str
    direction: str
    ok: bool
    transferred: int = 0
    refused: int = 0
    withheld: int = 0
    error: str | None = None
    waiting: bool = False


# --- management ------------------------------------------------------------------------


def _require_operator(actor: Organisation | None) -> str:
    """The audit actor; ``Forbidden`` unless ``actor`` is None (the local CLI) or an operator."""
    if actor is None:
        return "cli"
    if actor.role is not Role.OPERATOR:
        raise Forbidden("only operators manage partner hubs")
    return actor.name


def add_partner(
    hub: Hub,
    actor: Organisation | None,
    name: str,
    api_root: str,
    remote_collection: str,
    local_collection: str,
    direction: str,
    *,
    key: str | None = None,
    user: str | None = None,
    password: str | None = None,
    types: Iterable[str] = (),
    account: str | None = None,
) -> PartnerView:
    """Configure a partner. ``InvalidInput`` for a bad name, URL, direction, type, mixed or
    partial credentials, or a local collection this hub does not have; ``NotFound`` for an
    unknown ``account`` organisation; ``Conflict`` for a name already used."""
    who = _require_operator(actor)
    clean_name = check_name(name)
    root = check_api_root(api_root)
    remote = check_collection(remote_collection, "partner collection")
    local = check_collection(local_collection, "local collection")
    legs = SyncDirection.parse(direction)
    kinds = check_types(tuple(types))
    if key and (user or password):
        raise InvalidInput("give either --key or --user/--password, not both")
    if bool(user) != bool(password):
        raise InvalidInput("give both --user and --password for HTTP Basic")
    auth_kind, secret = ("key", key) if key else ("basic", password) if user else ("none", None)
    now = hub.clock.now()
    with hub.store.write() as tx:
        collection = tx.collection(local)
        if collection is None:
            raise InvalidInput(f"this hub has no collection {local!r} (see shieldwall collections)")
        if reading.is_exercise(collection):
            raise InvalidInput(
                f"{local!r} holds an exercise: exercise content never leaves the hub"
            )
        account_org = None
        if account:
            account_org = tx.organisation_by_name(account)
            if account_org is None:
                raise NotFound(f"no organisation named {account!r}")
        record = PartnerRecord(
            0,
            clean_name,
            root,
            remote,
            collection.alias or collection.collection_id,
            legs.value,
            auth_kind,
            user or None,
            secret,
            kinds,
            account_org.id if account_org else None,
            True,
            now,
        )
        partner_id = tx.add_partner(record)
        for leg in legs.legs:
            tx.save_partner_sync(PartnerSyncRecord(partner_id, leg))
        audit.record(
            tx,
            now,
            who,
            "partner.add",
            {
                "partner": clean_name,
                "api_root": root,
                "collection": remote,
                "local_collection": record.local_collection,
                "direction": legs.value,
                "auth": auth_kind,
                "types": list(kinds),
            },
        )
        return _view(tx, replace(record, id=partner_id))


def remove_partner(hub: Hub, actor: Organisation | None, name: str) -> None:
    """Remove a partner and its sync state (provenance records stay). ``NotFound``."""
    who = _require_operator(actor)
    with hub.store.write() as tx:
        record = tx.partner(name)
        if record is None:
            raise NotFound(f"no partner named {name!r}")
        tx.delete_partner(record.id)
        audit.record(tx, hub.clock.now(), who, "partner.remove", {"partner": name})


def enable_partner(hub: Hub, actor: Organisation | None, name: str, enabled: bool) -> None:
    """Switch a partner's passes on or off (a disabled partner keeps its watermarks and is
    skipped by the background loop and ``sync`` of all partners). ``NotFound``."""
    who = _require_operator(actor)
    with hub.store.write() as tx:
        record = tx.partner(name)
        if record is None:
            raise NotFound(f"no partner named {name!r}")
        tx.set_partner_enabled(record.id, enabled)
        action = "partner.enable" if enabled else "partner.disable"
        audit.record(tx, hub.clock.now(), who, action, {"partner": name})


def _view(tx: ReadTx, record: PartnerRecord) -> PartnerView:
    account = tx.organisation(record.account_org_id) if record.account_org_id else None
    return PartnerView(
        record.name,
        record.api_root,
        record.remote_collection,
        record.local_collection,
        record.direction,
        record.auth_kind,
        record.types,
        account.name if account else None,
        record.enabled,
        record.created_at,
        tuple(tx.partner_syncs(record.id)),
    )


def partners(hub: Hub, actor: Organisation | None) -> list[PartnerView]:
    """Every partner with its sync state per direction (operators only)."""
    _require_operator(actor)
    with hub.store.read() as tx:
        return [_view(tx, record) for record in tx.partners()]


def partner(hub: Hub, actor: Organisation | None, name: str) -> PartnerView:
    """One partner's status; ``NotFound``."""
    _require_operator(actor)
    with hub.store.read() as tx:
        record = tx.partner(name)
        if record is None:
            raise NotFound(f"no partner named {name!r}")
        return _view(tx, record)


def origin(
    hub: Hub, actor: Organisation | None, collection_id: str, stix_id: str
) -> dict[int, str]:
    """Version → partner for each version of ``stix_id`` pulled from a partner (operators
    only; versions not pulled are absent). ``NotFound`` for an unknown collection."""
    _require_operator(actor)
    with hub.store.read() as tx:
        collection = tx.collection(collection_id)
        if collection is None:
            raise NotFound("no such collection")
        found = tx.provenance(collection.pk, [stix_id])
    return {version: name for (_, version), name in found.items()}


# --- sync passes -------------------------------------------------------------------------


def sync(hub: Hub, name: str | None = None, *, force: bool = False) -> list[LegResult]:
    """One pass over ``name`` (or every enabled partner): each configured leg not backing
    off (``force``: even then). Never raises for a partner failure: it is in the result
    and in the partner's status. ``NotFound`` for an unknown ``name``."""
    with hub.store.read() as tx:
        if name is None:
            chosen = [p for p in tx.partners() if p.enabled]
        else:
            record = tx.partner(name)
            if record is None:
                raise NotFound(f"no partner named {name!r}")
            chosen = [record]
    results: list[LegResult] = []
    for record in chosen:
        for leg in SyncDirection(record.direction).legs:
            try:
                results.append(_run_leg(hub, record, leg, force))
            except Exception as exc:  # one broken partner must not stop the others
                log.exception("federation with %s (%s) failed unexpectedly", record.name, leg)
                results.append(
                    LegResult(
                        record.name, leg, False, error=f"internal error ({type(exc).__name__})"
                    )
                )
    return results


def sync_due(hub: Hub) -> list[LegResult]:
    """The background pass (web/app.py): every enabled partner, respecting back-off."""
    return sync(hub)


def _state(hub: Hub, partner_id: int, leg: str) -> PartnerSyncRecord:
    with hub.store.read() as tx:
        found = next((s for s in tx.partner_syncs(partner_id) if s.direction == leg), None)
    return found or PartnerSyncRecord(partner_id, leg)


def _save(hub: Hub, state: PartnerSyncRecord) -> None:
    with hub.store.write() as tx:
        tx.save_partner_sync(state)


def _run_leg(hub: Hub, record: PartnerRecord, leg: str, force: bool) -> LegResult:
    state = _state(hub, record.id, leg)
    started = hub.clock.now()
    if not force and state.next_attempt_at is not None and state.next_attempt_at > started:
        return LegResult(record.name, leg, False, error=state.last_error, waiting=True)
    _save(hub, replace(state, last_attempt_at=started))
    counts = [0, 0, 0]  # transferred, refused, withheld: updated page by page
    try:
        with _client(hub, record) as client:
            if leg == PULL:
                _pull(hub, record, client, counts)
            else:
                _push(hub, record, client, counts)
    except (httpx.HTTPError, PartnerError, ShieldwallError) as exc:
        error = _describe(hub, exc)
        state = _state(hub, record.id, leg)
        failures = state.failures + 1
        config = hub.config.federation
        delay = retry_delay(failures, config.retry_base_seconds, config.retry_max_seconds)
        at = hub.clock.now()
        _save(
            hub,
            replace(
                state, failures=failures, last_error=error, next_attempt_at=at + delay * _SECOND
            ),
        )
        log.info("federation with %s (%s) failed: %s", record.name, leg, error)
        _audit_pass(hub, record.name, leg, counts, error, failures)
        return LegResult(record.name, leg, False, counts[0], counts[1], counts[2], error=error)
    state = _state(hub, record.id, leg)
    _save(
        hub,
        replace(
            state,
            failures=0,
            last_error=None,
            next_attempt_at=None,
            last_success_at=hub.clock.now(),
        ),
    )
    if any(counts) or state.failures:
        _audit_pass(hub, record.name, leg, counts, None, 0)
    return LegResult(record.name, leg, True, counts[0], counts[1], counts[2])


def _describe(hub: Hub, exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {hub.config.federation.timeout_seconds} s"
    if isinstance(exc, httpx.HTTPError):
        return f"connection failed ({type(exc).__name__}: {exc})"[:500]
    assert isinstance(exc, ShieldwallError)
    return exc.message[:500]


def _audit_pass(
    hub: Hub, name: str, leg: str, counts: list[int], error: str | None, failures: int
) -> None:
    detail: dict[str, object] = {
        "partner": name,
        "direction": leg,
        "transferred": counts[0],
        "refused": counts[1],
        "withheld": counts[2],
    }
    if error:
        detail["error"] = error
        detail["failures"] = failures
    with hub.store.write() as tx:
        audit.record(tx, hub.clock.now(), "federation", "partner.sync", detail)


def _client(hub: Hub, record: PartnerRecord) -> httpx.Client:
    headers = {"Accept": TAXII_MEDIA_TYPE, "User-Agent": "Shieldwall-Federation/1"}
    auth: httpx.BasicAuth | None = None
    if record.auth_kind == "key" and record.secret:
        headers["Authorization"] = f"Bearer {record.secret}"
    elif record.auth_kind == "basic" and record.username and record.secret:
        auth = httpx.BasicAuth(record.username, record.secret)
    return httpx.Client(
        timeout=hub.config.federation.timeout_seconds,
        headers=headers,
        auth=auth,
        follow_redirects=False,
        trust_env=False,
    )


def _objects_url(record: PartnerRecord) -> str:
    return f"{record.api_root}collections/{record.remote_collection}/objects/"


def _envelope(response: httpx.Response, what: str) -> dict[str, object]:
    if response.status_code >= 300:
        raise PartnerError(f"HTTP {response.status_code} from the partner ({what})")
    try:
        document = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise PartnerError(f"the partner answered {what} with something that is not JSON") from None
    if not isinstance(document, dict):
        raise PartnerError(f"the partner answered {what} with a JSON value, not an object")
    return document


# --- pull --------------------------------------------------------------------------------


def _version_of(obj: dict[str, object]) -> int:
    for name in ("modified", "created"):
        value = obj.get(name)
        if isinstance(value, str):
            try:
                return parse_timestamp(value)
            except ShieldwallError:
                return VERSIONLESS
    return VERSIONLESS


def _crosses(obj: dict[str, object], default_tlp: Tlp) -> bool:
    """Whether an object as it arrives may come from a partner (after the hub default)."""
    if obj.get("id") in MARKING_TO_TLP:
        return True
    try:
        level = tlp_from_markings(obj.get("object_marking_refs"))
        return may_cross(default_tlp if level is None else level, scope_of(obj))
    except ShieldwallError:
        return False  # ingest would refuse it too: count it refused


def _pull(hub: Hub, record: PartnerRecord, client: httpx.Client, counts: list[int]) -> None:
    with hub.store.read() as tx:
        collection = tx.collection(record.local_collection)
        own = {
            tx.setting(HUB_IDENTITY_SETTING),
            tx.setting(ANONYMOUS_IDENTITY_SETTING),
            SCOPE_EXTENSION_ID,
            SIGHTING_EXTENSION_ID,
        }
    if collection is None:
        raise InvalidInput(f"the local collection {record.local_collection!r} no longer exists")
    if reading.is_exercise(collection):
        raise InvalidInput("exercise collections neither leave the hub nor take partner data")
    config = hub.config.federation
    state = _state(hub, record.id, PULL)
    base: dict[str, str] = {"limit": str(config.page_size), "match[version]": "all"}
    if record.types:
        base["match[type]"] = ",".join(record.types)
    if state.remote_after:
        base["added_after"] = state.remote_after
    params = dict(base)
    for _ in range(_MAX_PAGES):
        response = client.get(_objects_url(record), params=params)
        document = _envelope(response, "the objects request")
        items = document.get("objects", [])
        if not isinstance(items, list):
            raise PartnerError("the partner's envelope has no objects list")
        accepted: list[object] = []
        refused = 0
        for obj in items:
            if not isinstance(obj, dict) or obj.get("id") in own:
                continue
            if record.types and obj.get("type") not in record.types:
                continue
            if _crosses(obj, hub.config.default_tlp):
                accepted.append(obj)
            else:
                refused += 1
        transferred = 0
        if accepted:
            status = add_objects(
                hub,
                None,
                collection.collection_id,
                accepted,
                Attribution.UNLINKABLE,
                hub_writes=True,
                relay=True,
            )
            details = orjson.loads(status.details)
            fresh = {d["id"] for d in details["successes"] if d.get("message") != ALREADY_STORED}
            refused += status.failure_count
            versions = [
                (str(o["id"]), _version_of(o))
                for o in accepted
                if isinstance(o, dict) and o.get("id") in fresh
            ]
            transferred = len(fresh)
            if versions:
                with hub.store.write() as tx:
                    tx.add_provenance(collection.pk, versions, record.name, hub.clock.now())
        counts[0] += transferred
        counts[1] += refused
        last = response.headers.get("X-TAXII-Date-Added-Last")
        state = _state(hub, record.id, PULL)
        _save(
            hub,
            replace(
                state,
                remote_after=last or state.remote_after,
                transferred=state.transferred + transferred,
                refused=state.refused + refused,
            ),
        )
        token = document.get("next")
        if not document.get("more") or not isinstance(token, str) or not token:
            return
        params = {**base, "next": token}
    raise PartnerError(f"the partner returned more than {_MAX_PAGES} pages in one pass")


# --- push --------------------------------------------------------------------------------


def _federation_reader(tx: ReadTx) -> Organisation:
    """An operator's view of the local collection (not an organisation of the hub): sees
    everything but RED, and ``may_cross`` then filters strictly."""
    return Organisation(
        0, "federation", tx.setting(HUB_IDENTITY_SETTING) or "", Sector.OTHER, "ZZ", Role.OPERATOR
    )


def _staying(hub: Hub, reader: Organisation, collection_id: str, ids: set[str]) -> set[str]:
    """Those of ``ids`` stored in the collection of which no version may leave."""
    stored: set[str] = set()
    leaving: set[str] = set()
    wanted = sorted(ids)
    for start in range(0, len(wanted), 1000):
        query = ObjectQuery(
            ids=frozenset(wanted[start : start + 1000]),
            versions=VersionFilter(last=False, all=True),
            limit=1000,
        )
        while True:
            page = reading.list_objects(hub, reader, collection_id, query)
            for item in page.items:
                stored.add(item.row.stix_id)
                if may_cross(Tlp(item.row.tlp), scope_of(orjson.loads(item.body))):
                    leaving.add(item.row.stix_id)
            if not page.more or not page.items:
                break
            last = page.items[-1].row
            query = replace(query, cursor=Cursor(last.date_added, last.seq))
    return stored - leaving


def _push(hub: Hub, record: PartnerRecord, client: httpx.Client, counts: list[int]) -> None:
    with hub.store.read() as tx:
        collection = tx.collection(record.local_collection)
        reader = _federation_reader(tx)
    if collection is None:
        raise InvalidInput(f"the local collection {record.local_collection!r} no longer exists")
    if reading.is_exercise(collection):
        raise InvalidInput("exercise collections neither leave the hub nor take partner data")
    members = {o.identity_id for o in list_organisations(hub)}
    config = hub.config.federation
    state = _state(hub, record.id, PUSH)
    cursor = (
        Cursor(state.local_date, state.local_seq)
        if state.local_date is not None and state.local_seq is not None
        else None
    )
    for _ in range(_MAX_PAGES):
        query = ObjectQuery(
            types=frozenset(record.types),
            versions=VersionFilter(last=False, all=True),
            limit=config.page_size,
            cursor=cursor,
        )
        page = reading.list_objects(hub, reader, collection.collection_id, query)
        if not page.items:
            return
        with hub.store.read() as tx:
            came_from = tx.provenance(collection.pk, {i.row.stix_id for i in page.items})
        outgoing: list[dict[str, object]] = []
        withheld = 0
        for item in page.items:
            row = item.row
            body = orjson.loads(item.body)
            if row.stix_id in _DEFINITIONS:
                continue  # the partner has its own (or need not): see docs/federation.md
            if row.stix_id in members:
                continue  # the member directory stays home: a reference to it is valid STIX
            if not may_cross(Tlp(row.tlp), scope_of(body)):
                withheld += 1
                continue
            if came_from.get((row.stix_id, row.version)) == record.name or (
                record.account_org_id is not None and row.submitter_org_id == record.account_org_id
            ):
                continue  # it came from this partner: never sent back
            outgoing.append(body)
        refs = {r for body in outgoing for r in reference_ids(body)} - {
            str(b["id"]) for b in outgoing
        }
        hidden = _staying(hub, reader, collection.collection_id, refs) if refs else set()
        kept: list[dict[str, object]] = []
        for body in outgoing:
            redacted = redact_references(body, hidden)
            if redacted is None:
                withheld += 1
            else:
                kept.append(redacted)
        transferred = refused = 0
        if kept:
            response = client.post(
                _objects_url(record),
                content=orjson.dumps({"objects": kept}),
                headers={"Content-Type": TAXII_MEDIA_TYPE},
            )
            status = _envelope(response, "the add-objects request")
            transferred = _count(status, "success_count", len(kept))
            refused = _count(status, "failure_count", 0)
        counts[0] += transferred
        counts[1] += refused
        counts[2] += withheld
        last = page.items[-1].row
        cursor = Cursor(last.date_added, last.seq)
        state = _state(hub, record.id, PUSH)
        _save(
            hub,
            replace(
                state,
                local_date=cursor.date_added,
                local_seq=cursor.seq,
                transferred=state.transferred + transferred,
                refused=state.refused + refused,
            ),
        )
        if not page.more:
            return
    raise PartnerError(f"more than {_MAX_PAGES} pages to push in one pass; continuing next pass")


def _count(status: dict[str, object], name: str, default: int) -> int:
    value = status.get(name, default)
    return value if isinstance(value, int) and value >= 0 else default
