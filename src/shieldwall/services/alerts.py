"""Government alerts: private victim notifications, sanitised advisories, acknowledgements.

Contracts:

- Only organisations with role ``government`` send alerts (``Forbidden`` for anyone else).
- An alert is STIX in the ``alerts`` collection (``domain.alerts.alert_objects``), stored
  through ``services.ingest`` with the sender as its attributed submitter; members read
  that collection over TAXII but cannot write to it. Every read of an alert (inbox, one
  alert, acknowledging, figures, the payload of a delivery) goes through
  ``services.reading``, so the sharing policy alone decides who receives what.
- A **notification** is TLP:RED with the scope ``organizations=[victim]``: the victim and
  the sender read it; nobody else does (not operators, not other government partners, and
  RED never leaves the hub).
- An **advisory** is refused with ``Unprocessable`` (HTTP 422), and nothing is stored,
  while ``domain.leaks.find_leaks`` finds anything in it that points at a victim of the
  linked notifications (or of the sender's recent ones, ``victim_window_days``) or holds
  personal data. Its link to those notifications lives only in ``alert_links``.
- Publication: the alert row is written as ``sending`` before its objects are stored, and
  becomes ``published`` together with its delivery queue and audit entry in one
  transaction afterwards. ``recover`` finishes alerts a crash left in between (or forgets
  those whose objects were never stored). Bad input fails before anything is written.
- Acknowledgements come from readers other than the sender; only the sender sees the
  figures (counts by sector and country, names only of those that chose to be named).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import orjson

from shieldwall.domain.alerts import (
    AckFigures,
    AlertContent,
    AlertKind,
    Releasability,
    ack_figures,
    alert_objects,
    recipients,
    releasability,
)
from shieldwall.domain.attribution import Attribution
from shieldwall.domain.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    Unprocessable,
)
from shieldwall.domain.leaks import Leak, Victim, find_leaks, victim_assets
from shieldwall.domain.organisations import Organisation, Role
from shieldwall.domain.policy import AccessLabel
from shieldwall.domain.queries import ObjectQuery
from shieldwall.domain.scope import Scope, scope_of
from shieldwall.domain.stix_validation import validate_object
from shieldwall.domain.tlp import Tlp
from shieldwall.services import audit, collections, ingest, reading, submission
from shieldwall.services.context import Hub
from shieldwall.services.ports import (
    AckRecord,
    AlertRecord,
    CollectionRecord,
    DeliveryRecord,
    ReadTx,
    StatusRecord,
)

ALERTS_COLLECTION = "alerts"
SENDING, PUBLISHED = "sending", "published"
RECOVER_AFTER_SECONDS = 600
_READ_CHUNK = 500
_DAY = 86_400_000_000


@dataclass(frozen=True, slots=True)
class SentAlert:
    """A published alert: its record, who it reaches and how many deliveries were queued."""

    record: AlertRecord
    reach: Releasability
    deliveries: int


@dataclass(frozen=True, slots=True)
class AdvisoryRequest:
    """An advisory as its author asks for it: content, TLP (not RED), scope, and the ids of
    the sender's notifications it was written from."""

    content: AlertContent
    tlp: Tlp
    scope: Scope
    notifications: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AdvisoryCheck:
    """What publishing an advisory would do: the leaks that stop it (empty: it may go),
    who it would reach, how many victims it was checked against, and its objects."""

    leaks: list[Leak]
    reach: Releasability
    victims_checked: int
    objects: list[dict[str, object]]
    linked: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AlertView:
    """One alert as a reader receives it: the report and the objects it refers to that the
    reader may read, the reader's acknowledgement, and, for its sender only, the victim of
    a notification and the notifications an advisory was written from."""

    record: AlertRecord
    sender: str
    objects: list[reading.Served]
    ack: AckRecord | None
    victim: str | None = None
    linked: tuple[str, ...] = ()

    @property
    def report(self) -> dict[str, object]:
        """The report object."""
        body: dict[str, object] = orjson.loads(self.objects[0].body)
        return body


@dataclass(frozen=True, slots=True)
class InboxItem:
    """An alert in a reader's inbox: the record, the report as the reader receives it, the
    sender's name and the reader's acknowledgement."""

    record: AlertRecord
    report: dict[str, object]
    sender: str
    ack: AckRecord | None


# --- the collection -------------------------------------------------------------------


def ensure_collection(hub: Hub, reader: Organisation) -> CollectionRecord:
    """The ``alerts`` collection, created on first use (read by members, written only
    through this module) with the hub objects every collection carries
    (``services.collections``)."""
    with hub.store.read() as tx:
        found = tx.collection(ALERTS_COLLECTION)
        if found is not None:
            return found
    rows = collections.carried_objects(hub, reader)
    with hub.store.write() as tx:
        tx.lock_named("alerts-collection")
        found = tx.collection(ALERTS_COLLECTION)
        if found is not None:
            return found
        return collections.add_carrying(
            tx,
            hub,
            rows,
            "Government alerts",
            "Victim notifications and advisories from government partners. Read-only over"
            " TAXII: alerts are sent with shieldwall alerts or /api/v1/alerts.",
            ALERTS_COLLECTION,
            members_can_read=True,
            members_can_write=False,
        )


# --- reading alerts through the policy ------------------------------------------------


def _collection_exists(hub: Hub) -> bool:
    with hub.store.read() as tx:
        return tx.collection(ALERTS_COLLECTION) is not None


def _read_ids(hub: Hub, reader: Organisation, ids: Iterable[str]) -> list[reading.Served]:
    """The newest versions ``reader`` may read of ``ids`` in the alerts collection."""
    ordered = sorted(set(ids))
    served: list[reading.Served] = []
    for start in range(0, len(ordered), _READ_CHUNK):
        chunk = frozenset(ordered[start : start + _READ_CHUNK])
        query = ObjectQuery(ids=chunk, limit=len(chunk))
        served.extend(reading.list_objects(hub, reader, ALERTS_COLLECTION, query).items)
    return served


def _readable(hub: Hub, reader: Organisation, alert_id: str) -> tuple[AlertRecord, reading.Served]:
    """The alert and its report as ``reader`` receives it; ``NotFound`` when there is no
    such published alert or the reader may not read it (the two are indistinguishable)."""
    with hub.store.read() as tx:
        record = tx.alert(alert_id)
    if record is None or record.state != PUBLISHED or not _collection_exists(hub):
        raise NotFound(f"no alert {alert_id}")
    page = reading.list_objects(
        hub, reader, ALERTS_COLLECTION, ObjectQuery(ids=frozenset({alert_id}), limit=1)
    )
    if not page.items:
        raise NotFound(f"no alert {alert_id}")
    return record, page.items[0]


def alert_bundle(hub: Hub, reader: Organisation, alert_id: str) -> list[reading.Served]:
    """The report of an alert, then the objects it refers to, exactly as ``reader`` may
    receive them (``NotFound`` when it may not read the report)."""
    _, report = _readable(hub, reader, alert_id)
    refs = orjson.loads(report.body).get("object_refs", [])
    others = [s for s in _read_ids(hub, reader, refs) if s.row.stix_id != alert_id]
    order = {ref: index for index, ref in enumerate(refs)}
    others.sort(key=lambda s: order.get(s.row.stix_id, len(order)))
    return [report, *others]


def _names(tx: ReadTx) -> dict[int, Organisation]:
    return {o.id: o for o in tx.organisations()}


def show(hub: Hub, reader: Organisation, alert_id: str) -> AlertView:
    """One alert as ``reader`` may read it (``NotFound`` otherwise)."""
    objects = alert_bundle(hub, reader, alert_id)
    with hub.store.read() as tx:
        record = tx.alert(alert_id)
        assert record is not None
        organisations = _names(tx)
        ack = tx.acks_by(reader.id, [alert_id]).get(alert_id)
        links = tuple(tx.alert_links(alert_id)) if record.sender_org_id == reader.id else ()
    sender = organisations.get(record.sender_org_id)
    victim = None
    if record.sender_org_id == reader.id and record.victim_org_id is not None:
        found = organisations.get(record.victim_org_id)
        victim = found.name if found else None
    return AlertView(record, sender.name if sender else "", objects, ack, victim, links)


def inbox(
    hub: Hub,
    reader: Organisation,
    kind: AlertKind | None = None,
    limit: int = 50,
    unacknowledged: bool = False,
) -> list[InboxItem]:
    """Alerts ``reader`` may read, sent by it or to it, newest first; at most ``limit``.
    Candidates come from the alert table; which of them the reader receives is decided by
    ``services.reading`` alone."""
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be 1-1000")
    if not _collection_exists(hub):
        return []
    items: list[InboxItem] = []
    before: tuple[int, str] | None = None
    while len(items) < limit:
        with hub.store.read() as tx:
            batch = tx.alerts(kind.value if kind else None, before, _READ_CHUNK)
            organisations = _names(tx)
            acks = tx.acks_by(reader.id, [r.stix_id for r in batch])
        if not batch:
            break
        before = (batch[-1].created_at, batch[-1].stix_id)
        readable = {s.row.stix_id: s for s in _read_ids(hub, reader, [r.stix_id for r in batch])}
        for record in batch:
            served = readable.get(record.stix_id)
            ack = acks.get(record.stix_id)
            if served is None or (unacknowledged and ack is not None):
                continue
            sender = organisations.get(record.sender_org_id)
            items.append(
                InboxItem(record, orjson.loads(served.body), sender.name if sender else "", ack)
            )
            if len(items) == limit:
                break
        if len(batch) < _READ_CHUNK:
            break
    return items


# --- sending ----------------------------------------------------------------------------


def _government(sender: Organisation) -> None:
    if sender.role is not Role.GOVERNMENT:
        raise Forbidden(
            "only government organisations send victim notifications and advisories"
            f" ({sender.name} has the role {sender.role.value})"
        )


def _organisation(tx: ReadTx, name_or_identity: str) -> Organisation:
    wanted = name_or_identity.strip()
    if wanted.startswith("identity--"):
        found = tx.organisations_by_identity([wanted])
        if found:
            return found[0]
    else:
        named = tx.organisation_by_name(wanted)
        if named is not None:
            return named
    raise NotFound(f"no organisation {wanted!r}: name it by its name or its identity id")


def _label(record: AlertRecord, scope: Scope) -> AccessLabel:
    return AccessLabel(Tlp(record.tlp), scope, record.sender_org_id)


def _audit_action(kind: str) -> str:
    return f"alert.{kind}"


def _complete(
    hub: Hub, record: AlertRecord, scope: Scope, links: Iterable[str], sender_name: str
) -> tuple[Releasability, int]:
    """Publish an alert whose objects are stored: state, delivery queue and audit in one
    transaction (exactly once, whichever process gets here first)."""
    with hub.store.write() as tx:
        if not tx.set_alert_state(record.stix_id, SENDING, PUBLISHED):
            current = tx.alert(record.stix_id)
            organisations = tx.organisations()
            reach = releasability(_label(record, scope), organisations)
            if current is not None:
                return reach, 0  # published by someone else already
            tx.add_alert(replace(record, state=PUBLISHED))
            tx.add_alert_links(record.stix_id, links)
        organisations = tx.organisations()
        label = _label(record, scope)
        reach = releasability(label, organisations)
        reached = recipients(label, organisations)
        now = hub.clock.now()
        channels = tx.alert_channels([o.id for o in reached])
        tx.add_deliveries(
            [
                DeliveryRecord(
                    hub.ids.uuid4(),
                    record.stix_id,
                    channel.org_id,
                    channel.id,
                    channel.kind,
                    channel.target,
                    "pending",
                    0,
                    now,
                    None,
                    None,
                    now,
                )
                for channel in channels
            ]
        )
        # never the victim: the audit trail is the operators' to read
        audit.record(
            tx,
            now,
            sender_name,
            _audit_action(record.kind),
            {
                "alert": record.stix_id,
                "tlp": Tlp(record.tlp).label,
                "recipients": len(reached),
                "deliveries": len(channels),
            },
        )
    return reach, len(channels)


def _withdraw(hub: Hub, sender: Organisation, status: StatusRecord) -> None:
    """Delete what a failed publication stored, so that it stores nothing."""
    details = orjson.loads(status.details)
    for success in details.get("successes", []):
        try:
            reading.delete_object(hub, sender, ALERTS_COLLECTION, str(success["id"]), ObjectQuery())
        except NotFound:
            continue


def _publish(
    hub: Hub,
    sender: Organisation,
    kind: AlertKind,
    objects: list[dict[str, object]],
    tlp: Tlp,
    scope: Scope,
    victim: Organisation | None,
    links: tuple[str, ...],
) -> SentAlert:
    marked = submission.apply_marking(list(objects), tlp, scope)
    for obj in marked:  # the whole alert is valid before anything is written
        validate_object(obj)
    ensure_collection(hub, sender)
    report_id = str(objects[0]["id"])
    record = AlertRecord(
        report_id,
        kind.value,
        sender.id,
        victim.id if victim else None,
        int(tlp),
        SENDING,
        hub.clock.now(),
    )
    with hub.store.write() as tx:
        tx.add_alert(record)
        tx.add_alert_links(report_id, links)
    try:
        status = ingest.add_objects(
            hub, sender, ALERTS_COLLECTION, marked, Attribution.ATTRIBUTED, hub_writes=True
        )
        if status.failure_count:
            _withdraw(hub, sender, status)
            failures = orjson.loads(status.details).get("failures", [])
            reasons = "; ".join(f"{f.get('id')}: {f.get('message', '')}" for f in failures)
            raise InvalidInput(f"the alert could not be stored: {reasons}")
    except BaseException:
        with hub.store.write() as tx:
            tx.delete_alert(report_id)
        raise
    reach, deliveries = _complete(hub, record, scope, links, sender.name)
    with hub.store.read() as tx:
        stored = tx.alert(report_id)
    assert stored is not None
    return SentAlert(stored, reach, deliveries)


def send_notification(
    hub: Hub, sender: Organisation, victim: str, content: AlertContent
) -> SentAlert:
    """Send a TLP:RED notification to one organisation (named by its name or identity id),
    with its indicators and recommended actions. Raises ``Forbidden`` for a sender that
    is not a government organisation, ``NotFound`` for an unknown victim, ``InvalidInput``
    (nothing stored) for bad content or a notification to the sender itself."""
    _government(sender)
    checked = content.checked()
    with hub.store.read() as tx:
        target = _organisation(tx, victim)
    if target.id == sender.id:
        raise InvalidInput("a victim notification goes to another organisation, not the sender")
    objects = alert_objects(
        checked,
        AlertKind.NOTIFICATION,
        created=hub.clock.now(),
        new_id=lambda kind: f"{kind}--{hub.ids.uuid4()}",
        created_by_ref=sender.identity_id,
        fallback_ref=target.identity_id,
    )
    scope = Scope(organizations=frozenset({target.identity_id}))
    return _publish(hub, sender, AlertKind.NOTIFICATION, objects, Tlp.RED, scope, target, ())


def _victims(
    hub: Hub, sender: Organisation, notification_ids: tuple[str, ...]
) -> tuple[list[Victim], tuple[str, ...]]:
    """The victims an advisory is checked against (linked notifications, which must be the
    sender's own, and the sender's notifications of the last ``victim_window_days``), and
    the linked ids."""
    window = hub.config.alerts.victim_window_days
    linked: list[AlertRecord] = []
    with hub.store.read() as tx:
        for notification_id in dict.fromkeys(n.strip() for n in notification_ids):
            record = tx.alert(notification_id)
            if (
                record is None
                or record.kind != AlertKind.NOTIFICATION.value
                or record.sender_org_id != sender.id
                or record.state != PUBLISHED
            ):
                raise NotFound(f"no notification {notification_id} sent by {sender.name}")
            linked.append(record)
        recent = tx.notifications_sent(sender.id, hub.clock.now() - window * _DAY) if window else []
        records = {r.stix_id: r for r in [*linked, *recent]}
        organisations = _names(tx)
        by_victim: dict[int, set[str]] = {}
        for record in records.values():
            if record.victim_org_id is not None:
                by_victim.setdefault(record.victim_org_id, set()).add(record.stix_id)
        declared = {org_id: tx.assets(org_id) for org_id in by_victim}
    victims: list[Victim] = []
    for org_id, alert_ids in sorted(by_victim.items()):
        organisation = organisations.get(org_id)
        if organisation is None:
            continue
        references = set(alert_ids)
        for alert_id in alert_ids:  # the notification's own objects must not be named either
            try:
                references.update(s.row.stix_id for s in alert_bundle(hub, sender, alert_id))
            except NotFound:
                continue
        pairs = declared[org_id]
        victims.append(
            Victim(
                organisation.name,
                organisation.identity_id,
                victim_assets(
                    organisation.name,
                    [v for k, v in pairs if k == "domain"],
                    [v for k, v in pairs if k == "cidr"],
                    [v for k, v in pairs if k == "keyword"],
                ),
                frozenset(references),
            )
        )
    return victims, tuple(r.stix_id for r in linked)


def _check_scope(tx: ReadTx, scope: Scope) -> None:
    known = {o.identity_id for o in tx.organisations_by_identity(scope.organizations)}
    unknown = sorted(scope.organizations - known)
    if unknown:
        raise InvalidInput(f"scope names organisations this hub does not know: {unknown}")
    missing = sorted(scope.groups - tx.existing_group_names(scope.groups))
    if missing:
        raise InvalidInput(f"scope names sharing groups that do not exist: {missing}")


def check_advisory(hub: Hub, sender: Organisation, request: AdvisoryRequest) -> AdvisoryCheck:
    """Everything ``publish_advisory`` would check, storing nothing: the leaks (empty when
    the advisory may go) and who it would reach. Raises as ``publish_advisory`` does for
    bad input."""
    _government(sender)
    if request.tlp is Tlp.RED:
        raise InvalidInput(
            "an advisory cannot be TLP:RED (it would reach only organisations named in its"
            " scope): send a victim notification to one organisation instead"
        )
    content = request.content.checked()
    with hub.store.read() as tx:
        _check_scope(tx, request.scope)
    victims, linked = _victims(hub, sender, request.notifications)
    objects = alert_objects(
        content,
        AlertKind.ADVISORY,
        created=hub.clock.now(),
        new_id=lambda kind: f"{kind}--{hub.ids.uuid4()}",
        created_by_ref=sender.identity_id,
        fallback_ref=sender.identity_id,
    )
    leaks = find_leaks(objects, request.scope, victims)
    with hub.store.read() as tx:
        organisations = tx.organisations()
    reach = releasability(AccessLabel(request.tlp, request.scope, sender.id), organisations)
    return AdvisoryCheck(leaks, reach, len(victims), objects, linked)


def publish_advisory(hub: Hub, sender: Organisation, request: AdvisoryRequest) -> SentAlert:
    """Publish an advisory to its scope, or refuse it with ``Unprocessable`` listing every
    leak (``Leak.to_json``; nothing is stored) until the author removes them."""
    check = check_advisory(hub, sender, request)
    if check.leaks:
        count = len(check.leaks)
        raise Unprocessable(
            f"the advisory was not published: {count} place{'s' if count != 1 else ''} would"
            " point at a victim or hold personal data; remove them and send it again",
            [leak.to_json() for leak in check.leaks],
        )
    return _publish(
        hub,
        sender,
        AlertKind.ADVISORY,
        check.objects,
        request.tlp,
        request.scope,
        None,
        check.linked,
    )


# --- acknowledgements ----------------------------------------------------------------------


def acknowledge(hub: Hub, reader: Organisation, alert_id: str, named: bool) -> AckRecord:
    """Acknowledge an alert the reader may read (``NotFound`` otherwise); ``named``: the
    sender may see the reader's name. Acknowledging again changes only ``named``."""
    record, _ = _readable(hub, reader, alert_id)
    if record.sender_org_id == reader.id:
        raise InvalidInput("you sent this alert: acknowledgements come from its recipients")
    with hub.store.write() as tx:
        now = hub.clock.now()
        stored = tx.save_ack(AckRecord(alert_id, reader.id, now, named))
        # A RED notification's recipient is its victim: the audit trail, which operators
        # read, does not say who acknowledged it.
        actor = "(recipient of a TLP:RED alert)" if record.tlp == int(Tlp.RED) else reader.name
        audit.record(tx, now, actor, "alert.ack", {"alert": alert_id, "named": named})
    return stored


def acknowledgements(hub: Hub, reader: Organisation, alert_id: str) -> AckFigures:
    """Acknowledgement figures of an alert, for its sender only (``NotFound`` for those who
    may not read it, ``Forbidden`` for other readers)."""
    record, report = _readable(hub, reader, alert_id)
    if record.sender_org_id != reader.id:
        raise Forbidden("only the sender of an alert sees its acknowledgement figures")
    scope = scope_of(orjson.loads(report.body))
    with hub.store.read() as tx:
        organisations = _names(tx)
        acks = tx.alert_acks(alert_id)
    reached = recipients(_label(record, scope), organisations.values())
    pairs = [(organisations[a.org_id], a.named) for a in acks if a.org_id in organisations]
    return ack_figures(pairs, len(reached))


# --- crash recovery -------------------------------------------------------------------------


def recover(hub: Hub, older_than_seconds: int = RECOVER_AFTER_SECONDS) -> int:
    """Finish alerts left ``sending`` for longer than ``older_than_seconds`` by a crash:
    published when their report was stored, forgotten when it was not. Returns how many
    were published."""
    cutoff = hub.clock.now() - older_than_seconds * 1_000_000
    with hub.store.read() as tx:
        stale = tx.alerts_in_state(SENDING, cutoff)
        senders = {r.sender_org_id: tx.organisation(r.sender_org_id) for r in stale}
        links = {r.stix_id: tx.alert_links(r.stix_id) for r in stale}
    published = 0
    for record in stale:
        sender = senders.get(record.sender_org_id)
        try:
            if sender is None:
                raise NotFound("no sender")
            page = reading.list_objects(
                hub, sender, ALERTS_COLLECTION, ObjectQuery(ids=frozenset({record.stix_id}))
            )
        except NotFound:
            page = None
        if page is None or not page.items:
            with hub.store.write() as tx:
                if tx.set_alert_state(record.stix_id, SENDING, "abandoned"):
                    tx.delete_alert(record.stix_id)
            continue
        scope = scope_of(orjson.loads(page.items[0].body))
        assert sender is not None
        _complete(hub, record, scope, links[record.stix_id], sender.name)
        published += 1
    return published
