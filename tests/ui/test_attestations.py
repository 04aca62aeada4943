"""The attestation pages: a firm writes, evidences and publishes through the forms; a bank
requests through the form, the firm grants, the bank reads and downloads; organisations
without a grant (another bank, the operator) get 404 on every path; decline and revoke
work; refused answers are shown with the service's message and the input kept; CSRF."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient
from ui_support import UiCommunity, csrf

from shieldwall.domain.attestations import DAY, micros_date
from shieldwall.services import attestations
from shieldwall.services.context import Hub
from shieldwall.services.ports import AttestationRecord

TEMPLATE = "bank-law-firm-baseline"
SECRET_COVER = "Lloyd's syndicate 2623, GBP 5m"
PDF = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer\n%%EOF\n"


def day(hub: Hub, offset: int) -> str:
    """The date ``offset`` days from the hub clock's now."""
    return micros_date(hub.clock.now() + offset * DAY)


def complete_answers() -> dict[str, str]:
    """Every required answer (and a secret optional one) as the form posts them."""
    return {
        "answer-mfa": "yes",
        "answer-network_segmentation": "yes",
        "answer-no_public_network_work": "yes",
        "answer-encryption_at_rest": "yes",
        "answer-encryption_in_transit": "yes",
        "answer-incident_response_plan": "no",
        "answer-last_penetration_test": "2023-09-01",
        "answer-breach_notification_hours": "24",
        "answer-cyber_insurance": "yes",
        "answer-cyber_insurance_cover": SECRET_COVER,
        "answer-security_framework": "ISO 27001",
    }


def published_by_services(community: UiCommunity, **changes: object) -> AttestationRecord:
    """The law firm's attestation, published through the services (set-up)."""
    law = community.orgs["law"]
    answers: dict[str, object] = {
        "mfa": True,
        "network_segmentation": True,
        "no_public_network_work": True,
        "encryption_at_rest": True,
        "encryption_in_transit": True,
        "incident_response_plan": True,
        "last_penetration_test": "2023-09-01",
        "breach_notification_hours": 24,
        "cyber_insurance": True,
        "cyber_insurance_cover": SECRET_COVER,
        **changes,
    }
    draft = attestations.save_draft(
        community.hub,
        law,
        template=TEMPLATE,
        answers=answers,
        valid_from=day(community.hub, -1),
        valid_until=day(community.hub, 365),
        signer_name="Jane Carter",
        signer_title="Managing Partner",
    )
    attestations.add_evidence(community.hub, law, draft.id, "pentest-2023.pdf", PDF)
    return attestations.publish(community.hub, law, draft.id)


def post(client: TestClient, url: str, data: dict[str, str]) -> httpx.Response:
    """A form post with the session's CSRF token, redirects not followed."""
    response: httpx.Response = client.post(
        url, data={"csrf_token": csrf(client), **data}, follow_redirects=False
    )
    return response


def test_publish_request_grant_read_and_download(community: UiCommunity) -> None:
    hub = community.hub
    law, bank = community.client("law"), community.client("us-bank")

    # the firm picks the template and gets its questions as a labelled form
    picker = law.get("/ui/attestations/new")
    assert picker.status_code == 200 and 'value="bank-law-firm-baseline"' in picker.text
    form = law.get("/ui/attestations/new", params={"template": TEMPLATE})
    assert form.status_code == 200
    assert '<label for="q-breach_notification_hours">' in form.text
    assert '<label for="q-mfa-yes">Yes</label>' in form.text

    # save an incomplete draft
    saved = post(law, "/ui/attestations", {"template": TEMPLATE, "answer-mfa": "yes"})
    assert saved.status_code == 303
    location = saved.headers["location"]
    attestation_id = re.fullmatch(r"/ui/attestations/([0-9a-f-]+)/edit", location)
    assert attestation_id
    draft_id = attestation_id.group(1)
    draft = attestations.show(hub, community.orgs["law"], draft_id)
    assert draft.record.status == "draft" and draft.answers == {"mfa": True}
    assert law.get(location).status_code == 200

    # attach evidence (multipart, type judged by content)
    attached = law.post(
        f"/ui/attestations/{draft_id}/evidence",
        data={"csrf_token": csrf(law)},
        files={"file": ("pentest-2023.pdf", PDF, "application/octet-stream")},
        follow_redirects=False,
    )
    assert attached.status_code == 303, attached.text
    evidence = attestations.show(hub, community.orgs["law"], draft_id).evidence
    assert [(e.filename, e.media_type, e.size) for e in evidence] == [
        ("pentest-2023.pdf", "application/pdf", len(PDF))
    ]
    evidence_id = evidence[0].id

    # complete it and publish from the same form
    done = post(
        law,
        f"/ui/attestations/{draft_id}/edit",
        {
            **complete_answers(),
            "valid_from": day(hub, -1),
            "valid_until": day(hub, 365),
            "signer_name": "Jane Carter",
            "signer_title": "Managing Partner",
            "action": "publish",
        },
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/ui/attestations/{draft_id}"
    published = attestations.show(hub, community.orgs["law"], draft_id)
    assert published.record.status == "published" and published.record.version == 1
    assert published.answers["breach_notification_hours"] == 24
    assert published.answers["incident_response_plan"] is False

    # before any grant the bank sees nothing
    assert bank.get(f"/ui/attestations/{draft_id}").status_code == 404

    # the bank requests it through the form
    overview = bank.get("/ui/attestations")
    assert '<option value="US Law Firm">' in overview.text
    asked = post(bank, "/ui/attestations/requests", {"firm": "US Law Firm", "template": TEMPLATE})
    assert asked.status_code == 303
    [made] = attestations.list_requests(hub, community.orgs["us-bank"])
    assert made.record.status == "pending" and made.firm == "US Law Firm"
    assert "Pending" in bank.get("/ui/attestations").text

    # the firm sees the request and grants it
    inbox = law.get("/ui/attestations")
    assert f"/ui/attestations/requests/{made.record.id}/grant" in inbox.text
    granted = post(law, f"/ui/attestations/requests/{made.record.id}/grant", {})
    assert granted.status_code == 303
    [grant] = attestations.list_grants(hub, community.orgs["us-bank"])
    assert grant.record.active

    # the bank (any of its users) reads it: listed, answers in words, evidence, signer
    listed = bank.get("/ui/attestations")
    assert f'href="/ui/attestations/{draft_id}"' in listed.text
    analyst = community.analyst("us-bank", "analyst@us-bank")
    for reader in (bank, analyst):
        page = reader.get(f"/ui/attestations/{draft_id}")
        assert page.status_code == 200
        text = page.text
        assert "Lloyd&#39;s syndicate 2623, GBP 5m" in text
        assert "Jane Carter" in text and "Managing Partner" in text
        assert "pentest-2023.pdf" in text and "application/pdf" in text
        assert f"/ui/attestations/{draft_id}/evidence/{evidence_id}" in text
        assert "<dd>No</dd>" in text and "<dd>24</dd>" in text

    download = bank.get(f"/ui/attestations/{draft_id}/evidence/{evidence_id}")
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert "pentest-2023.pdf" in download.headers["content-disposition"]
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in download.headers["content-security-policy"]
    assert "default-src 'none'" in download.headers["content-security-policy"]

    # nobody else: another bank, the operator, the government partner
    for handle in ("gb-bank", "operator", "agency"):
        other = community.client(handle)
        assert other.get(f"/ui/attestations/{draft_id}").status_code == 404, handle
        assert (
            other.get(f"/ui/attestations/{draft_id}/evidence/{evidence_id}").status_code == 404
        ), handle
        assert SECRET_COVER not in other.get("/ui/attestations").text.replace("&#39;", "'")
    # an evidence id under another attestation's id is not found either
    assert bank.get(f"/ui/attestations/{'0' * 8}/evidence/{evidence_id}").status_code == 404


def test_decline_and_revoke(community: UiCommunity) -> None:
    hub = community.hub
    record = published_by_services(community)
    law = community.client("law")
    us_bank, gb_bank = community.client("us-bank"), community.client("gb-bank")

    # us-bank asks; the firm declines through the page: nothing granted
    asked = attestations.request_attestation(
        hub, community.orgs["us-bank"], "US Law Firm", TEMPLATE
    )
    declined = post(law, f"/ui/attestations/requests/{asked.id}/decline", {})
    assert declined.status_code == 303
    [view] = attestations.list_requests(hub, community.orgs["us-bank"])
    assert view.record.status == "declined"
    assert us_bank.get(f"/ui/attestations/{record.id}").status_code == 404
    assert "Declined" in us_bank.get("/ui/attestations").text
    # answering twice is a conflict
    again = post(law, f"/ui/attestations/requests/{asked.id}/grant", {})
    assert again.status_code == 409

    # gb-bank is granted, reads, then the firm revokes through the page
    gb = attestations.request_attestation(hub, community.orgs["gb-bank"], "US Law Firm", TEMPLATE)
    attestations.respond(hub, community.orgs["law"], gb.id, True)
    assert gb_bank.get(f"/ui/attestations/{record.id}").status_code == 200
    page = law.get("/ui/attestations")
    assert 'name="grantee" value="GB Bank"' in page.text
    revoked = post(
        law, "/ui/attestations/grants/revoke", {"grantee": "GB Bank", "template": TEMPLATE}
    )
    assert revoked.status_code == 303
    assert gb_bank.get(f"/ui/attestations/{record.id}").status_code == 404
    evidence_id = attestations.show(hub, community.orgs["law"], record.id).evidence[0].id
    assert gb_bank.get(f"/ui/attestations/{record.id}/evidence/{evidence_id}").status_code == 404
    assert [g.record.active for g in attestations.list_grants(hub, community.orgs["gb-bank"])] == [
        False
    ]
    # only the firm answers its requests: another organisation's grant is a 404
    fresh = attestations.request_attestation(
        hub, community.orgs["us-bank"], "US Law Firm", TEMPLATE
    )
    assert post(gb_bank, f"/ui/attestations/requests/{fresh.id}/grant", {}).status_code == 404


def test_a_grantee_sees_what_changed_between_versions(community: UiCommunity) -> None:
    hub = community.hub
    first = published_by_services(community)
    asked = attestations.request_attestation(
        hub, community.orgs["us-bank"], "US Law Firm", TEMPLATE
    )
    attestations.respond(hub, community.orgs["law"], asked.id, True)
    bank = community.client("us-bank")
    assert bank.get(f"/ui/attestations/{first.id}").status_code == 200  # opened version 1
    second = published_by_services(community, mfa=False)

    listed = bank.get("/ui/attestations").text
    assert "Changed since version 1" in listed and f"/ui/attestations/{second.id}" in listed
    page = bank.get(f"/ui/attestations/{second.id}").text
    assert "Changed since version 1, which you last opened" in page
    assert "multi-factor authentication" in page
    assert f'<a href="/ui/attestations/{first.id}">version 1</a>' in page
    old = bank.get(f"/ui/attestations/{first.id}").text
    assert "version 2 is current" in old


def test_refused_answers_show_the_service_message_and_keep_the_input(
    community: UiCommunity,
) -> None:
    hub = community.hub
    law = community.client("law")
    refused = post(
        law,
        "/ui/attestations",
        {
            "template": TEMPLATE,
            "answer-breach_notification_hours": "twenty-four",
            "answer-notes": "keep what I typed",
            "signer_name": "Jane Carter",
        },
    )
    assert refused.status_code == 400
    text = refused.text
    assert 'role="alert"' in text
    assert "answer to &#39;breach_notification_hours&#39;" in text and "must be a number" in text
    assert 'value="twenty-four"' in text and "keep what I typed" in text
    assert 'value="Jane Carter"' in text
    assert attestations.list_attestations(hub, community.orgs["law"]) == []  # nothing stored

    # a stored draft: a yes/no answer that is not yes or no
    saved = post(law, "/ui/attestations", {"template": TEMPLATE, "answer-notes": "draft"})
    draft_id = saved.headers["location"].split("/")[3]
    wrong = post(
        law,
        f"/ui/attestations/{draft_id}/edit",
        {"answer-mfa": "maybe", "answer-notes": "second try"},
    )
    assert wrong.status_code == 400
    assert "must be yes or no" in wrong.text
    assert "second try" in wrong.text and "maybe" in wrong.text

    # publishing an incomplete draft: saved, not published, the question named
    publish = post(
        law, f"/ui/attestations/{draft_id}/edit", {"answer-mfa": "yes", "action": "publish"}
    )
    assert publish.status_code == 400
    assert "needs an answer" in publish.text
    stored = attestations.show(hub, community.orgs["law"], draft_id)
    assert stored.record.status == "draft" and stored.answers["mfa"] is True

    # evidence judged by content and names that could act as paths are refused
    html = law.post(
        f"/ui/attestations/{draft_id}/evidence",
        data={"csrf_token": csrf(law)},
        files={
            "file": ("report.pdf", b"<html><script>alert(1)</script></html>", "application/pdf")
        },
    )
    assert html.status_code == 400 and "not a PDF, PNG, JPEG or plain-text" in html.text
    dotted = law.post(
        f"/ui/attestations/{draft_id}/evidence",
        data={"csrf_token": csrf(law)},
        files={"file": ("a..pdf", PDF, "application/pdf")},
    )
    assert dotted.status_code == 400 and "must not contain" in dotted.text
    assert attestations.show(hub, community.orgs["law"], draft_id).evidence == []

    # a request to an unknown organisation keeps the message typed
    ask = post(
        law,
        "/ui/attestations/requests",
        {"firm": "No Such Firm", "template": TEMPLATE, "message": "annual vendor review"},
    )
    assert ask.status_code == 404
    assert "no organisation named" in ask.text and "annual vendor review" in ask.text


def test_drafts_published_versions_and_operators(community: UiCommunity) -> None:
    hub = community.hub
    record = published_by_services(community)
    law = community.client("law")
    # a published version never changes
    assert law.get(f"/ui/attestations/{record.id}/edit").status_code == 409
    # drafts stay the firm's own even for a granted bank
    asked = attestations.request_attestation(
        hub, community.orgs["us-bank"], "US Law Firm", TEMPLATE
    )
    attestations.respond(hub, community.orgs["law"], asked.id, True)
    draft = attestations.save_draft(hub, community.orgs["law"], template=TEMPLATE, answers={})
    bank = community.client("us-bank")
    assert bank.get(f"/ui/attestations/{draft.id}").status_code == 404
    assert bank.get(f"/ui/attestations/{draft.id}/edit").status_code == 404
    assert bank.get(f"/ui/attestations/{record.id}/edit").status_code == 404
    # a new version starts from the published answers
    again = law.get("/ui/attestations/new", params={"template": TEMPLATE, "source": record.id})
    assert again.status_code == 200 and SECRET_COVER.replace("'", "&#39;") in again.text
    # operators make no attestations
    operator = community.client("operator")
    assert operator.get("/ui/attestations/new").status_code == 403
    assert "make, request and read no attestations" in operator.get("/ui/attestations").text
    made = post(operator, "/ui/attestations", {"template": TEMPLATE, "answer-mfa": "yes"})
    assert made.status_code == 403


def test_state_changes_need_the_csrf_token(community: UiCommunity) -> None:
    hub = community.hub
    record = published_by_services(community)
    law, bank = community.client("law"), community.client("us-bank")
    bare = {"follow_redirects": False}
    assert (
        bank.post(
            "/ui/attestations/requests", data={"firm": "US Law Firm", "template": TEMPLATE}, **bare
        ).status_code
        == 403
    )
    assert attestations.list_requests(hub, community.orgs["us-bank"]) == []
    asked = attestations.request_attestation(
        hub, community.orgs["us-bank"], "US Law Firm", TEMPLATE
    )
    assert law.post(f"/ui/attestations/requests/{asked.id}/grant", **bare).status_code == 403
    assert law.post(f"/ui/attestations/requests/{asked.id}/decline", **bare).status_code == 403
    assert attestations.list_requests(hub, community.orgs["law"])[0].record.status == "pending"
    assert (
        law.post(
            "/ui/attestations", data={"template": TEMPLATE, "answer-mfa": "yes"}, **bare
        ).status_code
        == 403
    )
    assert (
        law.post("/ui/attestations/grants/revoke", data={"grantee": "US Bank"}, **bare).status_code
        == 403
    )
    draft = attestations.save_draft(hub, community.orgs["law"], template=TEMPLATE, answers={})
    upload = law.post(
        f"/ui/attestations/{draft.id}/evidence",
        files={"file": ("x.pdf", PDF, "application/pdf")},
        **bare,
    )
    assert upload.status_code == 403
    assert law.post(f"/ui/attestations/{draft.id}/edit", data={}, **bare).status_code == 403
    assert attestations.show(hub, community.orgs["law"], draft.id).evidence == []
    assert len(attestations.list_attestations(hub, community.orgs["law"])) == 2
    assert record.status == "published"
    # signed out: sent to sign in
    anonymous = community.anonymous()
    assert anonymous.get("/ui/attestations", follow_redirects=False).status_code == 303
