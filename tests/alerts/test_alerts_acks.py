"""Acknowledgements: any reader but the sender acknowledges; the sender alone sees the
figures (counts by sector and country, names only of those that chose to be named); the
audit trail records acknowledgements without naming a notification's victim."""

from __future__ import annotations

import orjson
import pytest
from alerts_support import build_community, notify

from shieldwall.domain.alerts import AlertContent, IndicatorSpec
from shieldwall.domain.errors import Forbidden, InvalidInput, NotFound
from shieldwall.domain.scope import make_scope
from shieldwall.domain.tlp import Tlp
from shieldwall.services import alerts, audit
from shieldwall.services.alerts import AdvisoryRequest
from shieldwall.services.context import Hub


def test_acknowledgement_figures_for_the_sender_only(hub: Hub) -> None:
    community = build_community(hub)
    notification = notify(hub, community)
    advisory = alerts.publish_advisory(
        hub,
        community.agency,
        AdvisoryRequest(
            AlertContent(
                "Credential phishing against banks", indicators=(IndicatorSpec("185.220.101.45"),)
            ),
            Tlp.GREEN,
            make_scope(sectors=["financial"], countries=["US", "GB", "DE"]),
            (notification.record.stix_id,),
        ),
    )
    alert_id = advisory.record.stix_id
    alerts.acknowledge(hub, community.us_bank, alert_id, named=False)
    alerts.acknowledge(hub, community.de_bank, alert_id, named=True)
    first = alerts.acknowledge(hub, community.victim, alert_id, named=True)
    again = alerts.acknowledge(hub, community.victim, alert_id, named=False)  # changes its mind
    assert (again.at, again.named) == (first.at, False)
    alerts.acknowledge(hub, community.operator, alert_id, named=False)  # reads it by role

    figures = alerts.acknowledgements(hub, community.agency, alert_id)
    assert figures.to_json() == {
        "acknowledged": 4,
        "recipients": 4,  # the banks in scope; the operator reads by role, not as a recipient
        "by_sector": {"financial": 3, "other": 1},
        "by_country": {"DE": 1, "GB": 1, "US": 2},
        "named": ["Rheinland Handelsbank AG"],
    }
    for reader in (community.us_bank, community.victim, community.operator):
        with pytest.raises(Forbidden):  # they read the advisory, but the figures are the sender's
            alerts.acknowledgements(hub, reader, alert_id)
    for outsider in (community.agency2, community.law, community.fr_bank):
        with pytest.raises(NotFound):
            alerts.acknowledgements(hub, outsider, alert_id)
        with pytest.raises(NotFound):
            alerts.acknowledge(hub, outsider, alert_id, named=True)
    with pytest.raises(InvalidInput):
        alerts.acknowledge(hub, community.agency, alert_id, named=True)

    # each recipient sees its own acknowledgement in its inbox, nobody else's
    inbox = {i.record.stix_id: i for i in alerts.inbox(hub, community.us_bank)}
    assert inbox[alert_id].ack is not None and inbox[alert_id].ack.named is False
    assert alerts.inbox(hub, community.us_bank2)[0].ack is None
    assert [
        i.record.stix_id for i in alerts.inbox(hub, community.us_bank, unacknowledged=True)
    ] == []
    assert [
        i.record.stix_id for i in alerts.inbox(hub, community.us_bank2, unacknowledged=True)
    ] == [alert_id]


def test_audit_records_alerts_without_naming_the_victim(hub: Hub) -> None:
    community = build_community(hub)
    sent = notify(hub, community)
    alerts.acknowledge(hub, community.victim, sent.record.stix_id, named=True)
    entries = [e for e in audit.entries(hub) if e.action.startswith("alert.")]
    assert [(e.actor, e.action) for e in entries] == [
        ("US Cyber Agency", "alert.notification"),
        ("(recipient of a TLP:RED alert)", "alert.ack"),
    ]
    detail = orjson.loads(entries[0].detail)
    assert detail == {
        "alert": sent.record.stix_id,
        "deliveries": 0,
        "recipients": 1,
        "tlp": "TLP:RED",
    }
    text = " ".join(e.actor + e.detail for e in entries)
    assert "Albion" not in text and community.victim.identity_id not in text
    assert audit.verify(hub).problems == []
