"""The alert pages: the agency notifies US Bank, which alone sees it (inbox, detail) and
acknowledges through the form (plain and htmx); CSRF is required; only government
organisations compose; the advisory leak check shows the findings and publishes nothing
while the advisory points at the victim; a clean advisory is published to its scope; the
notification form sends TLP:RED to the victim and keeps the input on errors."""

from __future__ import annotations

import re

import orjson
from fastapi.testclient import TestClient
from stix2validator import ValidationOptions, validate_instance
from ui_support import UiCommunity, csrf

from shieldwall.domain.alerts import AlertContent, IndicatorSpec, Reference
from shieldwall.domain.scope import make_scope
from shieldwall.domain.tlp import Tlp
from shieldwall.services import admin, alerts
from shieldwall.services.alerts import AdvisoryRequest, SentAlert

VICTIM_DOMAIN = "usbank.example"
ATTACKER_IP = "185.220.101.45"
HTMX = {"HX-Request": "true"}


def notify_us_bank(community: UiCommunity) -> SentAlert:
    """The agency notifies US Bank through the services (set-up)."""
    return alerts.send_notification(
        community.hub,
        community.orgs["agency"],
        "US Bank",
        AlertContent(
            title="Intrusion through your VPN gateway",
            description=f"vpn.{VICTIM_DOMAIN} exchanged data with {ATTACKER_IP}.\n\nAct now.",
            indicators=(IndicatorSpec(ATTACKER_IP), IndicatorSpec("c2.evil-invoices.example")),
            actions=("Reset every VPN credential",),
        ),
    )


def advisory_form(client: TestClient, **changes: object) -> dict[str, object]:
    """The advisory form as a browser posts it (financial sector, AMBER)."""
    form: dict[str, object] = {
        "csrf_token": csrf(client),
        "title": "VPN intrusions at a bank",
        "description": "An actor used stolen VPN credentials and beaconed to the address.",
        "indicators": f"{ATTACKER_IP}\n",
        "actions": "Review VPN logins since 1 March",
        "tlp": "TLP:AMBER",
        "sectors": ["financial"],
        "countries": "",
        "groups": "",
    }
    form.update(changes)
    return form


def test_notification_reaches_the_victim_alone(community: UiCommunity) -> None:
    sent = notify_us_bank(community)
    alert_id = sent.record.stix_id

    victim = community.client("us-bank")
    inbox = victim.get("/ui/alerts")
    assert inbox.status_code == 200
    assert "Intrusion through your VPN gateway" in inbox.text
    assert '<span class="badge warn">new</span>' in inbox.text
    assert "US Agency" in inbox.text and "TLP:RED" in inbox.text
    assert "Write an advisory" not in inbox.text  # not a government organisation

    page = victim.get(f"/ui/alerts/{alert_id}")
    assert page.status_code == 200
    assert f"[ipv4-addr:value = &#39;{ATTACKER_IP}&#39;]" in page.text
    assert "Reset every VPN credential" in page.text
    assert "<p>Act now.</p>" in page.text
    assert "Only the notified organisation and the sender" in page.text
    assert 'action="/ui/alerts/' + alert_id + '/ack"' in page.text

    for handle in ("gb-bank", "law", "operator"):
        other = community.client(handle)
        assert "Intrusion through your VPN gateway" not in other.get("/ui/alerts").text
        hidden = other.get(f"/ui/alerts/{alert_id}")
        assert hidden.status_code == 404, handle
        assert "Intrusion" not in hidden.text

    # the sender sees it among what it sent, with the figures, and the victim's name
    agency = community.client("agency")
    sent_list = agency.get("/ui/alerts").text
    assert "Sent by your organisation" in sent_list
    assert re.search(r"0 of 1\s*</td>", sent_list)
    detail = agency.get(f"/ui/alerts/{alert_id}").text
    assert "Acknowledged by 0 of 1 recipient." in detail
    assert "Notified organisation</dt><dd>US Bank" in detail
    assert "ack-panel" not in detail  # the sender does not acknowledge

    # filters, as a page and as the htmx fragment
    advisories = victim.get("/ui/alerts?kind=advisory")
    assert advisories.status_code == 200
    assert "Intrusion" not in advisories.text
    fragment = victim.get("/ui/alerts?kind=notification", headers=HTMX)
    assert fragment.text.lstrip().startswith('<div id="alert-lists">')
    assert "Intrusion" in fragment.text and "<html" not in fragment.text
    assert victim.get("/ui/alerts?kind=phishing").status_code == 400


def test_acknowledge_in_place_and_through_the_form(community: UiCommunity) -> None:
    sent = notify_us_bank(community)
    alert_id = sent.record.stix_id
    agency = community.orgs["agency"]
    victim = community.client("us-bank")

    refused = victim.post(f"/ui/alerts/{alert_id}/ack", data={"named": "yes"})
    assert refused.status_code == 403
    assert alerts.acknowledgements(community.hub, agency, alert_id).acknowledged == 0

    # htmx: the acknowledgement block comes back in place; anonymous by default
    token = csrf(victim)
    swapped = victim.post(
        f"/ui/alerts/{alert_id}/ack", headers={**HTMX, "X-CSRF-Token": token}, data={}
    )
    assert swapped.status_code == 200
    assert swapped.text.lstrip().startswith('<section class="panel" id="ack-panel"')
    assert "<strong>Acknowledged</strong>" in swapped.text and "<html" not in swapped.text
    assert "anonymously" in swapped.text
    figures = alerts.acknowledgements(community.hub, agency, alert_id)
    assert (figures.acknowledged, figures.named, figures.by_country) == (1, (), {"US": 1})
    inbox = victim.get("/ui/alerts").text
    assert "badge good" in inbox and '<span class="badge warn">new</span>' not in inbox
    assert "Intrusion" not in victim.get("/ui/alerts?unacknowledged=true").text

    # the plain form (no JavaScript): let the sender see our name, then back with a flash
    done = victim.post(
        f"/ui/alerts/{alert_id}/ack",
        data={"csrf_token": token, "named": "yes"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/ui/alerts/{alert_id}"
    figures = alerts.acknowledgements(community.hub, agency, alert_id)
    assert (figures.acknowledged, figures.recipients, figures.named) == (1, 1, ("US Bank",))
    page = victim.get(f"/ui/alerts/{alert_id}").text
    assert "Acknowledged (the sender may see your name)." in page  # the flash
    assert "with your organisation&#39;s name shown to the sender" in page

    sender = community.client("agency")
    sender_view = sender.get(f"/ui/alerts/{alert_id}").text
    assert "Acknowledged by 1 of 1 recipient." in sender_view
    assert "<li>US Bank</li>" in sender_view

    # the sender cannot acknowledge its own alert; nobody else may touch it
    own = sender.post(f"/ui/alerts/{alert_id}/ack", data={"csrf_token": csrf(sender)})
    assert own.status_code == 400
    gb = community.client("gb-bank")
    hidden = gb.post(f"/ui/alerts/{alert_id}/ack", data={"csrf_token": csrf(gb)})
    assert hidden.status_code == 404


def test_only_government_composes_and_notifies(community: UiCommunity) -> None:
    for handle in ("us-bank", "operator"):
        client = community.client(handle)
        for path in ("/ui/alerts/new/advisory", "/ui/alerts/new/notification"):
            assert client.get(path).status_code == 403, (handle, path)
        token = csrf(client)
        assert client.post("/ui/alerts/check", data=advisory_form(client)).status_code == 403
        assert client.post("/ui/alerts/advisory", data=advisory_form(client)).status_code == 403
        form = {"csrf_token": token, "victim": "GB Bank", "title": "x"}
        assert client.post("/ui/alerts/notification", data=form).status_code == 403
    assert alerts.inbox(community.hub, community.orgs["gb-bank"]) == []
    agency = community.client("agency")
    page = agency.get("/ui/alerts/new/advisory")
    assert page.status_code == 200 and "Check for leaks" in page.text
    assert "TLP:RED" in agency.get("/ui/alerts/new/notification").text

    # the notification form: errors keep the input; a good one reaches the victim alone
    gb = community.orgs["gb-bank"]
    form = {
        "csrf_token": csrf(agency),
        "victim": gb.identity_id,
        "title": "Your mail server relays for an attacker",
        "description": "Seen since Monday.",
        "indicators": "not an indicator at all\n",
        "actions": "",
    }
    bad = agency.post("/ui/alerts/notification", data=form)
    assert bad.status_code == 400
    assert "neither a STIX pattern" in bad.text
    assert 'value="Your mail server relays for an attacker"' in bad.text
    assert f'value="{gb.identity_id}" selected' in bad.text
    assert alerts.inbox(community.hub, gb) == []

    form["indicators"] = "203.0.113.9\n[domain-name:value = 'relay.evil.example']"
    sent = agency.post("/ui/alerts/notification", data=form, follow_redirects=False)
    assert sent.status_code == 303
    items = alerts.inbox(community.hub, gb)
    assert [i.report["name"] for i in items] == ["Your mail server relays for an attacker"]
    assert items[0].record.kind == "notification" and items[0].record.tlp == 4
    assert alerts.inbox(community.hub, community.orgs["us-bank"]) == []
    landing = agency.get(sent.headers["location"]).text
    assert "Notification sent to GB Bank" in landing


def test_leak_check_then_publication(community: UiCommunity) -> None:
    admin.declare_assets(community.hub, "US Bank", [VICTIM_DOMAIN], [], [])
    notification = notify_us_bank(community)
    agency = community.client("agency")
    leaky = {
        "description": f"The actor reached vpn.{VICTIM_DOMAIN} with stolen credentials.",
        "notifications": [notification.record.stix_id],
    }

    # htmx: only the result block
    checked = agency.post("/ui/alerts/check", data=advisory_form(agency, **leaky), headers=HTMX)
    assert checked.status_code == 200
    assert "<html" not in checked.text
    assert f"vpn.{VICTIM_DOMAIN}" in checked.text and "own-domain" in checked.text
    assert "declared as its own" in checked.text and "US Bank" in checked.text
    assert "1 finding: it cannot be published" in checked.text
    assert "will reach 2 organisations in 2 countries" in checked.text
    assert "May not be published in public feeds" in checked.text

    # without JavaScript: the whole form again, input kept
    plain = agency.post("/ui/alerts/check", data=advisory_form(agency, **leaky))
    assert plain.status_code == 200
    assert "<html" in plain.text and "own-domain" in plain.text
    assert f"reached vpn.{VICTIM_DOMAIN} with stolen credentials.</textarea>" in plain.text

    # publishing is refused with every finding, the input kept, and nothing stored
    refused = agency.post(
        "/ui/alerts/advisory", data=advisory_form(agency, **leaky), follow_redirects=False
    )
    assert refused.status_code == 422
    assert "the advisory was not published" in refused.text
    assert "own-domain" in refused.text and 'value="VPN intrusions at a bank"' in refused.text
    assert 'value="financial" checked' in refused.text
    for handle in ("us-bank", "gb-bank", "law"):
        kinds = [i.record.kind for i in alerts.inbox(community.hub, community.orgs[handle])]
        assert "advisory" not in kinds, handle
    gb = community.client("gb-bank")
    assert "VPN intrusions" not in gb.get("/ui/alerts").text

    # the same advisory without the victim's domain: checked clean, then published
    checked = agency.post("/ui/alerts/check", data=advisory_form(agency), headers=HTMX)
    assert "No leaks found" in checked.text
    assert "GB Bank, US Bank" in checked.text

    published = agency.post(
        "/ui/alerts/advisory", data=advisory_form(agency), follow_redirects=False
    )
    assert published.status_code == 303, published.text
    location = published.headers["location"]
    assert location.startswith("/ui/alerts/report--")
    advisory_id = location.rsplit("/", 1)[1]
    landing = agency.get(location).text
    assert "Advisory published: it will reach 2 organisations in 2 countries." in landing

    inbox = gb.get("/ui/alerts").text
    assert "VPN intrusions at a bank" in inbox and "TLP:AMBER" in inbox
    page = gb.get(f"/ui/alerts/{advisory_id}").text
    assert "Financial members, under TLP:AMBER, and the sender." in page
    assert "Review VPN logins since 1 March" in page
    bundle = alerts.alert_bundle(community.hub, community.orgs["gb-bank"], advisory_id)
    assert [s.row.stix_type for s in bundle] == ["report", "indicator", "course-of-action"]
    for served in bundle:
        result = validate_instance(orjson.loads(served.body), ValidationOptions(version="2.1"))
        assert result.is_valid, [str(e) for e in result.errors]
    law = community.client("law")
    assert "VPN intrusions" not in law.get("/ui/alerts").text
    assert law.get(f"/ui/alerts/{advisory_id}").status_code == 404


def test_only_web_links_are_made_from_references(community: UiCommunity) -> None:
    content = AlertContent(
        title="Phishing wave",
        description="Lures with invoice attachments.",
        references=(
            Reference("vendor", url="javascript:alert(document.domain)"),
            Reference("cert", url="https://cert.example.org/advisory/17"),
        ),
    )
    sent = alerts.publish_advisory(
        community.hub,
        community.orgs["agency"],
        AdvisoryRequest(content, Tlp.CLEAR, make_scope(), ()),
    )
    page = community.client("us-bank").get(f"/ui/alerts/{sent.record.stix_id}").text
    assert 'href="javascript:' not in page
    assert "javascript:alert(document.domain)" in page  # shown as text
    assert 'href="https://cert.example.org/advisory/17"' in page
