"""End to end against a real ``shieldwall serve`` process: the command line from
notification to acknowledgement figures, every HTTP path keeping a notification from
everyone but its victim and sender, and the server's own delivery loop posting a signed
webhook."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest
from alerts_support import ATTACKER_IP, VICTIM_DOMAIN, Community, WebhookReceiver, build_community
from typer.testing import CliRunner

from conftest import LiveServer, start_server, stop_server
from shieldwall.bootstrap import build_hub
from shieldwall.cli.main import app as cli_app
from shieldwall.services import admin
from shieldwall.settings import Settings
from shieldwall.storage.database import Database

pytestmark = [pytest.mark.slow]
TAXII = "application/taxii+json;version=2.1"


@dataclass
class Live:
    server: LiveServer
    community: Community
    keys: dict[str, str]  # organisation name -> API key

    def cli(self, *args: str, key_of: str, code: int = 0) -> str:
        result = CliRunner().invoke(
            cli_app, [*args, "--hub", self.server.url, "--key", self.keys[key_of]]
        )
        assert result.exit_code == code, (args, result.output)
        return result.stdout


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp_path: Path = tmp_path_factory.mktemp("alerts-live")
    database = f"sqlite:///{tmp_path / 'hub.db'}"
    hub = build_hub(Settings().with_overrides(database_url=database))
    community = build_community(hub)
    keys = {org.name: admin.create_key(hub, org.name, "test") for org in community.everyone}
    assert isinstance(hub.store, Database)
    hub.store.dispose()
    server = start_server(
        database,
        tmp_path,
        extra_env={
            "SHIELDWALL_ALERT_DELIVERY_INTERVAL": "1",
            "SHIELDWALL_ALERT_WEBHOOK_PRIVATE_TARGETS": "true",
            "SHIELDWALL_ALERT_RETRY_BASE_SECONDS": "1",
        },
    )
    yield Live(server, community, keys)
    stop_server(server)


def _last_line(text: str) -> str:
    return text.strip().splitlines()[-1].strip()


def test_cli_notify_inbox_ack_and_figures(live: Live) -> None:
    c = live.community
    out = live.cli(
        "alerts",
        "notify",
        c.us_bank.name,
        "--title",
        "Wire fraud attempt through your treasury portal",
        "--description",
        f"The actor logged in from {ATTACKER_IP}.",
        "--indicator",
        ATTACKER_IP,
        "--indicator",
        "[url:value = 'https://treasury-login.example/']",
        "--action",
        "Reset treasury portal credentials",
        key_of=c.agency.name,
    )
    alert_id = _last_line(out)
    assert alert_id.startswith("report--")
    inbox = orjson.loads(live.cli("alerts", "inbox", "--json", key_of=c.us_bank.name))
    assert [(i["id"], i["tlp"], i["acknowledged"]) for i in inbox] == [(alert_id, "TLP:RED", None)]
    shown = live.cli("alerts", "show", alert_id, key_of=c.us_bank.name)
    assert "Reset treasury portal credentials" in shown and ATTACKER_IP in shown
    live.cli("alerts", "ack", alert_id, "--named", key_of=c.us_bank.name)
    figures = orjson.loads(live.cli("alerts", "acks", alert_id, "--json", key_of=c.agency.name))
    assert (figures["acknowledged"], figures["recipients"], figures["named"]) == (
        1,
        1,
        ["First Federal Bank"],
    )
    assert figures["by_country"] == {"US": 1} and figures["by_sector"] == {"financial": 1}
    table = live.cli("alerts", "acks", alert_id, key_of=c.agency.name)
    assert "Acknowledged by 1 of 1 recipients" in table
    # everyone else: nothing, and the usual exit codes
    assert orjson.loads(live.cli("alerts", "inbox", "--json", key_of=c.us_bank2.name)) == []
    live.cli("alerts", "show", alert_id, key_of=c.us_bank2.name, code=3)
    live.cli("alerts", "acks", alert_id, key_of=c.us_bank.name, code=5)
    live.cli("alerts", "notify", c.agency.name, "--title", "x", key_of=c.us_bank.name, code=5)


def test_cli_advisory_check_refusal_and_publication(live: Live) -> None:
    c = live.community
    notified = live.cli(
        "alerts", "notify", c.victim.name, "--title", "VPN intrusion", key_of=c.agency.name
    )
    notification = _last_line(notified)
    leaky = [
        "alerts",
        "advisory",
        "--title",
        "VPN intrusions at Albion Bank",
        "--description",
        f"Seen at vpn.{VICTIM_DOMAIN}.",
        "--indicator",
        ATTACKER_IP,
        "--tlp",
        "amber",
        "--sector",
        "financial",
        "--country",
        "US",
        "--country",
        "GB",
        "--country",
        "DE",
        "--notification",
        notification,
    ]
    checked = live.cli(*leaky, "--check", key_of=c.agency.name, code=2)
    assert "will reach 4 organisations in 3 countries" in checked
    assert "own-domain" in checked and "keyword" in checked
    refused = live.cli(*leaky, key_of=c.agency.name, code=2)
    assert "vpn.albionbank.example" in refused
    clean = [
        a
        if a not in ("VPN intrusions at Albion Bank", f"Seen at vpn.{VICTIM_DOMAIN}.")
        else "VPN intrusions at a bank"
        for a in leaky
    ]
    published = live.cli(*clean, key_of=c.agency.name)
    advisory_id = _last_line(published)
    assert "will reach 4 organisations in 3 countries" in published
    for org, reads in ((c.de_bank, True), (c.us_bank2, True), (c.fr_bank, False), (c.law, False)):
        inbox = orjson.loads(live.cli("alerts", "inbox", "--json", key_of=org.name))
        assert (advisory_id in [i["id"] for i in inbox]) is reads, org.name


def _get(live: Live, org: str, path: str, accept: str = "application/json") -> httpx.Response:
    headers = {"Authorization": f"Bearer {live.keys[org]}", "Accept": accept}
    return httpx.get(f"{live.server.url}{path}", headers=headers, timeout=30)


def test_http_paths_show_a_notification_to_its_victim_and_sender_only(live: Live) -> None:
    c = live.community
    out = live.cli(
        "alerts",
        "notify",
        c.de_bank.name,
        "--title",
        "Sanctions-evasion mule accounts at Rheinland",
        "--indicator",
        "mule-payments.example",
        key_of=c.agency.name,
    )
    alert_id = _last_line(out)
    live.cli("alerts", "ack", alert_id, key_of=c.de_bank.name)
    root = "/taxii2/hub/collections/alerts"
    for org in c.everyone:
        reader = org.id in (c.agency.id, c.de_bank.id)
        objects = _get(live, org.name, f"{root}/objects/?match[version]=all", TAXII)
        manifest = _get(live, org.name, f"{root}/manifest/", TAXII)
        by_id = _get(live, org.name, f"{root}/objects/{alert_id}/", TAXII)
        versions = _get(live, org.name, f"{root}/objects/{alert_id}/versions/", TAXII)
        rest = _get(live, org.name, "/api/v1/objects?collection=alerts&q=mule")
        rest_id = _get(live, org.name, f"/api/v1/objects/{alert_id}?collection=alerts")
        inbox = _get(live, org.name, "/api/v1/alerts")
        shown = _get(live, org.name, f"/api/v1/alerts/{alert_id}")
        acks = _get(live, org.name, f"/api/v1/alerts/{alert_id}/acks")
        listed = [o["id"] for o in objects.json().get("objects", [])]
        in_manifest = [o["id"] for o in manifest.json().get("objects", [])]
        searched = [i["object"]["id"] for i in rest.json()["items"]]
        in_inbox = [i["id"] for i in inbox.json()["items"]]
        assert (alert_id in listed) is reader, org.name
        assert (alert_id in in_manifest) is reader, org.name
        assert (alert_id in searched) is reader, org.name
        assert (alert_id in in_inbox) is reader, org.name
        expected = 200 if reader else 404
        for answer in (by_id, versions, rest_id, shown):
            assert answer.status_code == expected, (org.name, answer.request.url, answer.text)
        assert acks.status_code == (200 if org.id == c.agency.id else 403 if reader else 404)
        if not reader:
            seen = objects.text + manifest.text + rest.text + inbox.text
            assert "Sanctions-evasion" not in seen and "mule-payments" not in seen
            assert "X-TAXII-Date-Added-First" not in by_id.headers


def test_the_server_delivers_signed_webhooks(live: Live) -> None:
    c = live.community
    with WebhookReceiver([500]) as receiver:
        out = live.cli(
            "alerts", "channels", "add", "--webhook", receiver.url, key_of=c.insurer.name
        )
        receiver.secret = _last_line(out)
        assert receiver.secret.startswith("whsec_")
        listed = live.cli("alerts", "channels", "list", key_of=c.insurer.name)
        assert "Delivery channels (1)" in listed and receiver.secret not in listed
        sent = live.cli(
            "alerts",
            "notify",
            c.insurer.name,
            "--title",
            "Claims portal abuse",
            key_of=c.agency.name,
        )
        alert_id = _last_line(sent)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(receiver.received) < 2:
            time.sleep(0.2)
    assert [(r.verified, r.answered) for r in receiver.received] == [(True, 500), (True, 200)]
    payload = receiver.received[1].json()
    assert payload["alert"]["id"] == alert_id and payload["alert"]["tlp"] == "TLP:RED"
    assert payload["bundle"]["objects"][0]["name"] == "Claims portal abuse"
    log = orjson.loads(live.cli("alerts", "deliveries", "--json", key_of=c.insurer.name))
    assert [(d["alert"], d["status"], len(d["attempts"])) for d in log] == [
        (alert_id, "delivered", 2)
    ]
    assert orjson.loads(live.cli("alerts", "deliveries", "--json", key_of=c.us_bank.name)) == []
