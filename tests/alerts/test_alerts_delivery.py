"""Delivery: signed webhooks to a real local HTTP receiver (retried after a failure, every
attempt in the log, the payload exactly what the recipient may read) and e-mail to a real
local SMTP server (aiosmtpd); channels are checked and belong to their organisation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from alerts_support import (
    ATTACKER_IP,
    WebhookReceiver,
    build_community,
    notify,
    smtp_server,
)

from conftest import FixedClock, database_url, make_hub
from shieldwall.domain.alerts import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    AlertConfig,
    AlertContent,
    IndicatorSpec,
    signature,
    verify_signature,
)
from shieldwall.domain.errors import Forbidden, InvalidInput, NotFound
from shieldwall.domain.scope import make_scope
from shieldwall.domain.tlp import Tlp
from shieldwall.services import admin, alerts, delivery
from shieldwall.services.alerts import AdvisoryRequest
from shieldwall.services.context import Hub, HubConfig
from shieldwall.settings import load_settings
from shieldwall.storage.database import Database

SECOND = 1_000_000


@pytest.fixture
def local_hub(tmp_path: Path) -> Iterator[Hub]:
    """A hub (SQLite) that may deliver to loopback, retrying after 10 s, 3 attempts."""
    config = HubConfig(
        alerts=AlertConfig(webhook_private_targets=True, retry_base_seconds=10, max_attempts=3)
    )
    made = make_hub(database_url("sqlite", tmp_path), config)
    yield made
    assert isinstance(made.store, Database)
    made.store.dispose()


def _advance(hub: Hub, seconds: int) -> None:
    clock = hub.clock
    assert isinstance(clock, FixedClock)
    clock.value += seconds * SECOND


def _advisory(hub: Hub, sender: object, notification: str, tlp: Tlp = Tlp.AMBER) -> str:
    request = AdvisoryRequest(
        AlertContent(
            "Beaconing to a known C2",
            "Block the address below.",
            (IndicatorSpec(ATTACKER_IP),),
            ("Block it at the perimeter",),
        ),
        tlp,
        make_scope(sectors=["financial"], countries=["US", "GB"]),
        (notification,),
    )
    return alerts.publish_advisory(hub, sender, request).record.stix_id  # type: ignore[arg-type]


def test_webhook_is_signed_retried_and_logged(local_hub: Hub) -> None:
    hub = local_hub
    community = build_community(hub)
    with WebhookReceiver([500]) as receiver:
        channel = delivery.add_channel(hub, community.us_bank, "webhook", receiver.url)
        assert channel.secret and channel.secret.startswith("whsec_")
        receiver.secret = channel.secret
        assert delivery.list_channels(hub, community.us_bank)[0].target == receiver.url
        notification = notify(hub, community)
        advisory_id = _advisory(hub, community.agency, notification.record.stix_id)

        first = delivery.deliver_due(hub)
        assert (first.delivered, first.retrying) == (0, 1)
        assert [r.answered for r in receiver.received] == [500]
        assert delivery.deliver_due(hub).attempted == 0  # not due before the back-off
        _advance(hub, 11)
        second = delivery.deliver_due(hub)
        assert (second.delivered, second.retrying) == (1, 0)

    assert [(r.verified, r.answered) for r in receiver.received] == [(True, 500), (True, 200)]
    assert len(receiver.deliveries()) == 1  # one delivery id: the receiver can deduplicate
    assert receiver.received[0].headers[EVENT_HEADER] == "alert.advisory"
    log = delivery.deliveries(hub, community.us_bank)
    assert len(log) == 1
    entry = log[0]
    assert (entry.record.alert_id, entry.record.status, entry.record.attempts) == (
        advisory_id,
        "delivered",
        2,
    )
    assert [(a.attempt, a.ok, a.detail) for a in entry.attempts] == [
        (1, False, "HTTP 500"),
        (2, True, "HTTP 200"),
    ]
    assert receiver.received[0].headers[DELIVERY_HEADER] == entry.record.id

    # the payload is what the recipient may read, as it would read it, and nothing more
    payload = receiver.received[1].json()
    readable = [
        orjson.loads(s.body) for s in alerts.alert_bundle(hub, community.us_bank, advisory_id)
    ]
    assert payload["bundle"]["objects"] == readable
    assert payload["bundle"]["id"] == f"bundle--{entry.record.id}"
    assert payload["alert"] == {
        "id": advisory_id,
        "kind": "advisory",
        "tlp": "TLP:AMBER",
        "sender": "US Cyber Agency",
        "created": payload["alert"]["created"],
    }
    body = receiver.received[1].body.decode()
    assert notification.record.stix_id not in body and "Albion" not in body

    # a receiver with the wrong secret, or a stale timestamp, rejects the request
    sent = receiver.received[1]
    stamp = sent.headers["X-Shieldwall-Timestamp"]
    assert not verify_signature(
        "wrong", stamp, sent.body, signature(channel.secret, int(stamp), sent.body), int(stamp)
    )
    assert not verify_signature(
        channel.secret, stamp, sent.body, sent.headers["X-Shieldwall-Signature"], int(stamp) + 3600
    )
    # other organisations have no deliveries of it
    assert delivery.deliveries(hub, community.victim) == []


def test_delivery_gives_up_and_skips_what_may_no_longer_be_read(local_hub: Hub) -> None:
    hub = local_hub
    community = build_community(hub)
    admin.create_group(hub, "us-banks", [community.us_bank.name, community.us_bank2.name])
    with WebhookReceiver([503, 503, 503]) as receiver:
        made = delivery.add_channel(hub, community.us_bank, "webhook", receiver.url)
        receiver.secret = made.secret or ""
        other = delivery.add_channel(hub, community.us_bank2, "webhook", receiver.url)
        request = AdvisoryRequest(
            AlertContent("Group advisory", indicators=(IndicatorSpec(ATTACKER_IP),)),
            Tlp.AMBER,
            make_scope(groups=["us-banks"]),
        )
        alerts.publish_advisory(hub, community.agency, request)
        admin.change_group(hub, "us-banks", [], [community.us_bank2.name])  # leaves the group
        outcomes = []
        for _ in range(3):
            outcomes.append(delivery.deliver_due(hub))
            _advance(hub, 3600)
    assert [(o.retrying, o.failed, o.skipped) for o in outcomes] == [
        (1, 0, 1),
        (1, 0, 0),
        (0, 1, 0),
    ]
    assert len(receiver.received) == 3  # us_bank2 got nothing: it may no longer read it
    failed = delivery.deliveries(hub, community.us_bank)[0]
    assert (failed.record.status, len(failed.attempts)) == ("failed", 3)
    skipped = delivery.deliveries(hub, community.us_bank2)[0]
    assert skipped.record.status == "skipped"
    assert skipped.attempts[0].detail == "the organisation may no longer read this alert"
    assert other.record.id != made.record.id


def test_email_is_sent_over_smtp(tmp_path: Path) -> None:
    with smtp_server() as (port, messages):
        config = HubConfig(
            hub_name="Test hub",
            alerts=AlertConfig(smtp_host="127.0.0.1", smtp_port=port, smtp_from="hub@hub.example"),
        )
        hub = make_hub(database_url("sqlite", tmp_path), config)
        try:
            community = build_community(hub)
            delivery.add_channel(hub, community.victim, "email", "soc@albionbank.example")
            delivery.add_channel(hub, community.us_bank, "email", "cti@ffb.example")
            notification = notify(hub, community)
            advisory_id = _advisory(hub, community.agency, notification.record.stix_id, Tlp.GREEN)
            done = delivery.deliver_due(hub)
        finally:
            assert isinstance(hub.store, Database)
            hub.store.dispose()
    assert done.delivered == 3  # the notification to the victim, the advisory to both banks
    by_recipient: dict[str, list[str]] = {}
    for recipients, message in messages:
        assert message["From"] == "hub@hub.example"
        body = message.get_payload(decode=True)
        assert isinstance(body, bytes)
        by_recipient.setdefault(recipients[0], []).append(f"{message['Subject']}\n{body.decode()}")
    victim_mail = sorted(by_recipient["soc@albionbank.example"])
    red = next(m for m in victim_mail if "TLP:RED" in m)
    assert red.startswith("[Test hub] TLP:RED victim notification from US Cyber Agency")
    assert notification.record.stix_id in red
    assert "VPN" not in red and ATTACKER_IP not in red  # RED content stays in the hub
    (green,) = by_recipient["cti@ffb.example"]
    assert green.startswith("[Test hub] TLP:GREEN advisory from US Cyber Agency")
    assert "Beaconing to a known C2" in green and ATTACKER_IP in green and advisory_id in green
    assert notification.record.stix_id not in green


def test_channels_are_checked_and_belong_to_their_organisation(tmp_path: Path) -> None:
    hub = make_hub(database_url("sqlite", tmp_path))  # public webhook targets only
    try:
        community = build_community(hub)
        for bad in (
            "http://127.0.0.1:9/hook",  # loopback
            "https://10.1.2.3/hook",  # private
            "https://169.254.169.254/latest",  # link-local (cloud metadata)
            "https://localhost/hook",
            "http://hooks.ffb.example/x",  # public but not https
            "ftp://hooks.ffb.example/x",
            "https://user:pw@hooks.ffb.example/x",
        ):
            with pytest.raises(InvalidInput):
                delivery.add_channel(hub, community.us_bank, "webhook", bad)
        with pytest.raises(InvalidInput):
            delivery.add_channel(hub, community.us_bank, "email", "not an address")
        with pytest.raises(InvalidInput):
            delivery.add_channel(hub, community.us_bank, "pager", "123")
        made = delivery.add_channel(
            hub, community.us_bank, "webhook", "https://hooks.ffb.example/x"
        )
        with pytest.raises(NotFound):
            delivery.remove_channel(hub, community.us_bank2, made.record.id)
        with pytest.raises(Forbidden):
            delivery.list_channels(hub, community.us_bank2, community.us_bank.name)
        by_operator = delivery.add_channel(
            hub, community.operator, "email", "cti@ffb.example", community.us_bank.name
        )
        assert {
            c.id for c in delivery.list_channels(hub, community.operator, community.us_bank.name)
        } == {
            made.record.id,
            by_operator.record.id,
        }
        delivery.remove_channel(hub, community.us_bank, made.record.id)
        assert [c.id for c in delivery.list_channels(hub, community.us_bank)] == [
            by_operator.record.id
        ]
    finally:
        assert isinstance(hub.store, Database)
        hub.store.dispose()


def test_alert_settings_come_from_the_environment() -> None:
    settings = load_settings(
        {
            "SHIELDWALL_SMTP_HOST": "mail.hub.example",
            "SHIELDWALL_SMTP_STARTTLS": "yes",
            "SHIELDWALL_SMTP_PASSWORD": "hunter2",
            "SHIELDWALL_ALERT_MAX_ATTEMPTS": "3",
            "SHIELDWALL_ALERT_DELIVERY_INTERVAL": "0",
        }
    )
    alerts_config = settings.alerts
    assert (alerts_config.smtp_host, alerts_config.smtp_starttls) == ("mail.hub.example", True)
    assert (alerts_config.max_attempts, alerts_config.delivery_interval_seconds) == (3, 0)
    assert alerts_config.smtp_password == "hunter2" and "hunter2" not in repr(settings)
    assert load_settings({}).alerts == AlertConfig()
    for bad in ({"SHIELDWALL_SMTP_STARTTLS": "maybe"}, {"SHIELDWALL_ALERT_MAX_ATTEMPTS": "0"}):
        with pytest.raises(InvalidInput):
            load_settings(bad)
