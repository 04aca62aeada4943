"""A victim notification is read by the victim and its sender only: another member,
another government partner, the operator and partner hubs get nothing through any path
the services offer (object lists, by id, versions, the indicator feed behind matching and
lookup, the inbox, one alert, acknowledging, figures, deliveries), on both engines."""

from __future__ import annotations

import orjson
import pytest
from alerts_support import Community, build_community, notification_content, notify
from stix2validator import ValidationOptions, validate_instance

from shieldwall.domain.alerts import AlertKind
from shieldwall.domain.errors import Forbidden, InvalidInput, NotFound
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.policy import AccessLabel, Destination, may_leave
from shieldwall.domain.queries import Cursor, ObjectQuery, VersionFilter
from shieldwall.domain.scope import scope_of
from shieldwall.domain.tlp import Tlp
from shieldwall.services import alerts, delivery, ingest, reading
from shieldwall.services.alerts import ALERTS_COLLECTION
from shieldwall.services.context import Hub


def _visible(hub: Hub, reader: Organisation, ids: set[str]) -> set[str]:
    """Of ``ids``, those ``reader`` receives from a full walk of the alerts collection
    (every version), by id, and in the indicator feed."""
    seen: set[str] = set()
    query = ObjectQuery(versions=VersionFilter(last=False, all=True), limit=2)
    while True:
        page = reading.list_objects(hub, reader, ALERTS_COLLECTION, query)
        seen |= {s.row.stix_id for s in page.items} & ids
        if not page.more:
            break
        last = page.items[-1].row
        query = ObjectQuery(
            versions=query.versions, limit=2, cursor=Cursor(last.date_added, last.seq)
        )
    for object_id in ids:
        try:
            reading.get_object(hub, reader, ALERTS_COLLECTION, object_id, ObjectQuery())
            reading.list_versions(hub, reader, ALERTS_COLLECTION, object_id, ObjectQuery())
        except NotFound:
            continue
        seen.add(object_id)
    feed, _ = reading.indicators_since(hub, reader, {})
    seen |= {served.row.stix_id for _, served in feed} & ids
    return seen


def _notification_ids(hub: Hub, community: Community, alert_id: str) -> set[str]:
    view = alerts.show(hub, community.agency, alert_id)
    return {s.row.stix_id for s in view.objects}


def test_notification_is_read_by_the_victim_and_its_sender_only(hub: Hub) -> None:
    community = build_community(hub)
    for org in community.everyone:  # everybody has a channel: deliveries must follow reads
        delivery.add_channel(hub, org, "email", f"soc@{org.id}.example")
    sent = notify(hub, community)
    alert_id = sent.record.stix_id
    ids = _notification_ids(hub, community, alert_id)
    assert len(ids) == 5  # report, 2 indicators, 2 courses of action
    assert sent.reach.organisations == (community.victim.name,)
    assert sent.deliveries == 1

    readers = {community.agency.id, community.victim.id}
    alerts.acknowledge(hub, community.victim, alert_id, named=True)
    for org in community.everyone:
        visible = _visible(hub, org, ids)
        inbox = [i.record.stix_id for i in alerts.inbox(hub, org)]
        deliveries = [d.record.alert_id for d in delivery.deliveries(hub, org)]
        if org.id in readers:
            assert visible == ids, org.name
            assert inbox == [alert_id], org.name
            assert {s.row.stix_id for s in alerts.show(hub, org, alert_id).objects} == ids
        else:
            assert visible == set(), org.name
            assert inbox == [], org.name
            assert deliveries == [], org.name
            for action in (
                lambda o=org: alerts.show(hub, o, alert_id),
                lambda o=org: alerts.acknowledge(hub, o, alert_id, named=True),
                lambda o=org: alerts.acknowledgements(hub, o, alert_id),
                lambda o=org: alerts.alert_bundle(hub, o, alert_id),
            ):
                with pytest.raises(NotFound):
                    action()
    assert [d.record.alert_id for d in delivery.deliveries(hub, community.victim)] == [alert_id]

    # only the sender sees that the victim acknowledged (and who the victim is)
    figures = alerts.acknowledgements(hub, community.agency, alert_id)
    assert (figures.acknowledged, figures.recipients, figures.named) == (1, 1, ("Albion Bank plc",))
    with pytest.raises(Forbidden):
        alerts.acknowledgements(hub, community.victim, alert_id)
    assert alerts.show(hub, community.agency, alert_id).victim == "Albion Bank plc"
    assert alerts.show(hub, community.victim, alert_id).victim is None

    # it is RED, scoped to the victim, and may never leave the hub
    report = alerts.show(hub, community.victim, alert_id).report
    label = AccessLabel(Tlp.RED, scope_of(report), community.agency.id)
    assert scope_of(report).organizations == {community.victim.identity_id}
    assert not any(may_leave(label, destination) for destination in Destination)
    assert sent.reach.partner_hubs is False and sent.reach.public_feed is False


def test_only_government_organisations_send_alerts(hub: Hub) -> None:
    community = build_community(hub)
    for sender in (community.us_bank, community.operator, community.law):
        with pytest.raises(Forbidden):
            alerts.send_notification(hub, sender, community.victim.name, notification_content())
    with pytest.raises(NotFound):
        alerts.send_notification(hub, community.agency, "No Such Bank", notification_content())
    with pytest.raises(InvalidInput):
        alerts.send_notification(
            hub, community.agency, community.agency.identity_id, notification_content()
        )
    # by identity id works as well as by name
    sent = alerts.send_notification(
        hub, community.agency, community.de_bank.identity_id, notification_content()
    )
    assert [i.record.stix_id for i in alerts.inbox(hub, community.de_bank)] == [sent.record.stix_id]
    assert alerts.inbox(hub, community.de_bank, AlertKind.ADVISORY) == []
    with hub.store.read() as tx:
        assert [r.stix_id for r in tx.alerts(None, None, 10)] == [sent.record.stix_id]


def test_alerts_collection_is_valid_stix_and_read_only_over_taxii(hub: Hub) -> None:
    community = build_community(hub)
    notify(hub, community)
    page = reading.list_objects(hub, community.victim, ALERTS_COLLECTION, ObjectQuery())
    types = {s.row.stix_type for s in page.items}
    assert types == {
        "marking-definition",
        "extension-definition",
        "identity",
        "report",
        "indicator",
        "course-of-action",
    }
    for served in page.items:
        result = validate_instance(orjson.loads(served.body), ValidationOptions(version="2.1"))
        assert result.is_valid, [str(e) for e in result.errors]
    forged = {
        "type": "note",
        "spec_version": "2.1",
        "id": "note--0b0a3e8e-6c39-4c2c-9f6e-1d5e0e4b7a01",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "content": "not an alert",
        "object_refs": [community.victim.identity_id],
    }
    for writer in (community.agency, community.victim):  # the alerts API is the only way in
        with pytest.raises(Forbidden):
            ingest.add_objects(hub, writer, ALERTS_COLLECTION, [forged])
