"""The REST API of alerts in process: clear 4xx errors for bad input with nothing stored,
the 422 leak list, the inbox, acknowledgements, figures, channels and the delivery log."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from alerts_support import ATTACKER_IP, VICTIM_DOMAIN, Community, build_community
from fastapi.testclient import TestClient

from shieldwall.services import admin
from shieldwall.services.context import Hub
from shieldwall.web.app import create_app


@dataclass
class Api:
    client: TestClient
    community: Community
    keys: dict[str, dict[str, str]]  # organisation name -> Authorization header

    def as_(self, name: str) -> dict[str, str]:
        return self.keys[name]


@pytest.fixture
def api(sqlite_hub: Hub) -> Api:
    community = build_community(sqlite_hub)
    keys = {
        org.name: {"Authorization": f"Bearer {admin.create_key(sqlite_hub, org.name)}"}
        for org in community.everyone
    }
    return Api(TestClient(create_app(sqlite_hub)), community, keys)


NOTIFICATION = {
    "victim": "Albion Bank plc",
    "title": "Your VPN is compromised",
    "description": f"vpn.{VICTIM_DOMAIN} talks to {ATTACKER_IP}.",
    "indicators": [ATTACKER_IP, {"pattern": "[domain-name:value = 'c2.example']", "name": "C2"}],
    "actions": ["Reset VPN credentials"],
}


def _nothing_stored(api: Api) -> None:
    agency = api.as_(api.community.agency.name)
    assert api.client.get("/api/v1/alerts", headers=agency).json() == {"items": []}
    listed = api.client.get("/api/v1/objects?collection=alerts", headers=agency)
    assert listed.status_code == 404  # not even the alerts collection was created


def test_bad_input_gets_a_clear_error_and_stores_nothing(api: Api) -> None:
    c = api.community
    post = api.client.post
    for name in (c.us_bank.name, c.operator.name):
        refused = post("/api/v1/alerts/notifications", headers=api.as_(name), json=NOTIFICATION)
        assert refused.status_code == 403, refused.text
        assert "only government organisations" in refused.json()["error"]["description"]
    agency = api.as_(c.agency.name)
    cases = [
        ({**NOTIFICATION, "victim": "No Such Bank"}, 404, "no organisation"),
        ({**NOTIFICATION, "indicators": ["[ipv4-addr:value = "]}, 400, "at character"),
        ({**NOTIFICATION, "indicators": ["not an indicator"]}, 400, "neither a STIX pattern"),
        ({**NOTIFICATION, "colour": "red"}, 400, "colour"),
        ({**NOTIFICATION, "title": ""}, 400, "title"),
        ({**NOTIFICATION, "victim": c.agency.name}, 400, "another organisation"),
    ]
    for body, status, words in cases:
        answer = post("/api/v1/alerts/notifications", headers=agency, json=body)
        assert answer.status_code == status, (body, answer.text)
        assert words in answer.json()["error"]["description"], answer.text
    malformed = post(
        "/api/v1/alerts/notifications",
        headers={**agency, "Content-Type": "application/json"},
        content=b'{"victim": "Albion Bank plc", "title": ',
    )
    assert malformed.status_code == 400
    advisory = {"title": "Advisory", "tlp": "red", "scope": {"sectors": ["financial"]}}
    red = post("/api/v1/alerts/advisories", headers=agency, json=advisory)
    assert red.status_code == 400 and "TLP:RED" in red.json()["error"]["description"]
    bad_scope = post(
        "/api/v1/alerts/advisories",
        headers=agency,
        json={"title": "Advisory", "scope": {"countries": ["XX"]}},
    )
    assert bad_scope.status_code == 400
    unauthenticated = post("/api/v1/alerts/notifications", json=NOTIFICATION)
    assert unauthenticated.status_code == 401
    _nothing_stored(api)


def test_rest_flow_from_notification_to_figures(api: Api) -> None:
    c = api.community
    agency, victim, bank = api.as_(c.agency.name), api.as_(c.victim.name), api.as_(c.us_bank.name)
    sent = api.client.post("/api/v1/alerts/notifications", headers=agency, json=NOTIFICATION)
    assert sent.status_code == 201, sent.text
    notification_id = sent.json()["id"]
    assert sent.json()["reach"]["summary"] == "will reach 1 organisation in 1 country"

    advisory = {
        "title": "VPN intrusions at a GB bank",
        "description": f"Actor at {ATTACKER_IP} used VPN credentials at vpn.{VICTIM_DOMAIN}.",
        "indicators": [ATTACKER_IP],
        "tlp": "amber",
        "scope": {"sectors": ["financial"], "countries": ["US", "GB", "DE"]},
        "notifications": [notification_id],
    }
    check = api.client.post("/api/v1/alerts/advisories/check", headers=agency, json=advisory)
    assert check.status_code == 200
    assert check.json()["publishable"] is False
    assert check.json()["reach"]["summary"] == "will reach 4 organisations in 3 countries"
    refused = api.client.post("/api/v1/alerts/advisories", headers=agency, json=advisory)
    assert refused.status_code == 422
    assert refused.json()["error"]["details"] == [
        {
            "object": "report",
            "object_id": refused.json()["error"]["details"][0]["object_id"],
            "field": "description",
            "value": f"vpn.{VICTIM_DOMAIN}",
            "rule": "own-domain",
            "victim": "Albion Bank plc",
        }
    ]
    advisory["description"] = f"Actor at {ATTACKER_IP} used VPN credentials."
    published = api.client.post("/api/v1/alerts/advisories", headers=agency, json=advisory)
    assert published.status_code == 201, published.text
    advisory_id = published.json()["id"]

    inbox = api.client.get("/api/v1/alerts", headers=bank).json()["items"]
    assert [(i["id"], i["kind"], i["tlp"]) for i in inbox] == [
        (advisory_id, "advisory", "TLP:AMBER")
    ]
    victim_inbox = api.client.get("/api/v1/alerts?kind=notification", headers=victim).json()
    assert [i["id"] for i in victim_inbox["items"]] == [notification_id]
    assert api.client.get("/api/v1/alerts?kind=nope", headers=victim).status_code == 400
    shown = api.client.get(f"/api/v1/alerts/{advisory_id}", headers=bank).json()
    assert [o["type"] for o in shown["objects"]] == ["report", "indicator"]
    assert "linked_notifications" not in shown and "victim" not in shown
    mine = api.client.get(f"/api/v1/alerts/{advisory_id}", headers=agency).json()
    assert mine["linked_notifications"] == [notification_id]
    assert api.client.get(f"/api/v1/alerts/{notification_id}", headers=bank).status_code == 404

    acked = api.client.post(f"/api/v1/alerts/{advisory_id}/ack", headers=bank, json={"named": True})
    assert acked.status_code == 200 and acked.json()["acknowledged"]["named"] is True
    assert api.client.post(f"/api/v1/alerts/{advisory_id}/ack", headers=victim).status_code == 200
    figures = api.client.get(f"/api/v1/alerts/{advisory_id}/acks", headers=agency).json()
    assert (figures["acknowledged"], figures["recipients"], figures["named"]) == (
        2,
        4,
        ["First Federal Bank"],
    )
    assert api.client.get(f"/api/v1/alerts/{advisory_id}/acks", headers=bank).status_code == 403
    law = api.as_(c.law.name)
    assert api.client.get(f"/api/v1/alerts/{advisory_id}/acks", headers=law).status_code == 404


def test_rest_channels_and_delivery_log(api: Api) -> None:
    bank = api.as_(api.community.us_bank.name)
    made = api.client.post(
        "/api/v1/alerts/channels",
        headers=bank,
        json={"kind": "webhook", "target": "https://hooks.ffb.example/shieldwall"},
    )
    assert made.status_code == 201, made.text
    assert made.json()["secret"].startswith("whsec_")
    listed = api.client.get("/api/v1/alerts/channels", headers=bank).json()["items"]
    assert [c["id"] for c in listed] == [made.json()["id"]]
    assert "secret" not in listed[0]
    other = api.as_(api.community.us_bank2.name)
    assert api.client.get("/api/v1/alerts/channels", headers=other).json() == {"items": []}
    gone = api.client.delete(f"/api/v1/alerts/channels/{made.json()['id']}", headers=other)
    assert gone.status_code == 404
    bad = api.client.post(
        "/api/v1/alerts/channels",
        headers=bank,
        json={"kind": "webhook", "target": "http://10.0.0.1/"},
    )
    assert bad.status_code == 400
    assert (
        api.client.delete(f"/api/v1/alerts/channels/{made.json()['id']}", headers=bank).status_code
        == 204
    )
    assert api.client.get("/api/v1/alerts/deliveries", headers=bank).json() == {"items": []}
