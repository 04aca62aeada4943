"""The submit pages: STIX upload with TLP, scope and attribution, the live audience
preview, and free-text reports as private drafts (review, publish, delete).

Everything is checked through what the services then serve to each organisation: an
AMBER upload scoped to the financial sector reaches GB Bank and not the law firm; a
malformed upload stores nothing and keeps the form; invalid objects are reported; the
preview names exactly the organisations ``may_read`` admits; anonymous submissions do not
name their submitter; published reports hold no victim details; drafts are private."""

from __future__ import annotations

import re
import uuid

import httpx
import orjson
from fastapi.testclient import TestClient
from stix2validator import ValidationOptions, validate_instance
from ui_support import UiCommunity, csrf

from shieldwall.domain.errors import NotFound
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.queries import ObjectQuery
from shieldwall.domain.tlp import Tlp
from shieldwall.services import admin, reading, reports

HTMX = {"HX-Request": "true"}
ATTACKER_IP = "185.220.101.77"
CREATED = "2026-03-01T10:00:00.000Z"


def _id(kind: str, n: int) -> str:
    return f"{kind}--{uuid.UUID(int=n, version=4)}"


INDICATOR = _id("indicator", 1)
MALWARE = _id("malware", 2)
RELATIONSHIP = _id("relationship", 3)


def bundle(*extra: dict[str, object]) -> dict[str, object]:
    """A small valid STIX 2.1 bundle: an indicator, a malware family and their link."""
    return {
        "type": "bundle",
        "id": _id("bundle", 9),
        "objects": [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": INDICATOR,
                "created": CREATED,
                "modified": CREATED,
                "name": "Cobalt Strike team server",
                "pattern": f"[ipv4-addr:value = '{ATTACKER_IP}']",
                "pattern_type": "stix",
                "valid_from": CREATED,
                "indicator_types": ["malicious-activity"],
            },
            {
                "type": "malware",
                "spec_version": "2.1",
                "id": MALWARE,
                "created": CREATED,
                "modified": CREATED,
                "name": "Cobalt Strike",
                "is_family": True,
            },
            {
                "type": "relationship",
                "spec_version": "2.1",
                "id": RELATIONSHIP,
                "created": CREATED,
                "modified": CREATED,
                "relationship_type": "indicates",
                "source_ref": INDICATOR,
                "target_ref": MALWARE,
            },
            *extra,
        ],
    }


def read(community: UiCommunity, handle: str, object_id: str) -> dict[str, object] | None:
    """What ``handle``'s organisation receives of ``object_id`` (None when it may not read it)."""
    try:
        _, served = reading.object_anywhere(community.hub, community.orgs[handle], object_id)
    except NotFound:
        return None
    body = orjson.loads(served.body)
    assert isinstance(body, dict)
    return body


def submitter_seen(community: UiCommunity, handle: str, object_id: str) -> int | None:
    """The submitter ``handle``'s organisation is told for ``object_id`` (None: not named)."""
    _, served = reading.object_anywhere(community.hub, community.orgs[handle], object_id)
    return served.row.submitter_org_id


def assert_valid_stix(obj: dict[str, object]) -> None:
    result = validate_instance(obj, ValidationOptions(version="2.1"))
    assert result.is_valid, (obj.get("id"), [str(e) for e in result.errors])


def stored_count(community: UiCommunity, org: Organisation) -> int:
    return len(reading.find_everywhere(community.hub, org, ObjectQuery()))


def upload(
    client: TestClient,
    content: bytes | None,
    *,
    token: str | None = None,
    pasted: str = "",
    **fields: object,
) -> httpx.Response:
    """POST the STIX form as a browser does (multipart, the file under ``stix_file``)."""
    data: dict[str, object] = {"stix_text": pasted, "tlp": "amber", **fields}
    if token is not None:
        data["csrf_token"] = token
    files = {"stix_file": ("bundle.json", content or b"", "application/json")}
    if content is None:
        files = {"stix_file": ("", b"", "application/octet-stream")}
    response: httpx.Response = client.post(
        "/ui/submit/stix", data=data, files=files, follow_redirects=False
    )
    return response


def status_id(response: httpx.Response) -> str:
    location = response.headers["location"]
    found = re.fullmatch(r"/ui/submit/status/([0-9a-f-]+)", location)
    assert found, location
    return found.group(1)


def audience_names(html: str) -> list[str]:
    return re.findall(r"<li>([^<]+?) <span class=\"muted\">\(", html)


# --- the page ----------------------------------------------------------------------------


def test_submit_page_explains_every_choice_to_signed_in_members(community: UiCommunity) -> None:
    page = community.client("us-bank").get("/ui/submit")
    assert page.status_code == 200
    html = page.text
    assert html.count("<h1") == 1
    assert 'action="/ui/submit/stix"' in html and 'enctype="multipart/form-data"' in html
    assert 'action="/ui/submit/report"' in html
    for level in Tlp:  # every TLP level with what it allows
        assert f'value="{level.name.lower().replace("_", "+")}"' in html
    assert "Only the organisations named in its scope" in html
    for name in ("GB Bank", "US Law Firm", "US Agency", "Hub Operator"):
        assert name in html  # named organisations to choose from
    assert 'name="attribution" value="anonymous"' in html
    assert "sealed record" in html and "audit trail" in html
    # unlinkable is explained with the real command, not offered as a choice
    assert 'value="unlinkable"' not in html
    assert "shieldwall anon tokens --count 5" in html
    assert "shieldwall anon submit FILE --tlp amber" in html
    assert 'hx-post="/ui/submit/preview"' in html
    assert 'href="/ui/drafts"' in html
    # the default (community, AMBER) preview is there from the start
    assert audience_names(html) == ["GB Bank", "Hub Operator", "US Agency", "US Law Firm"]
    response = community.anonymous().get("/ui/submit", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/ui/sign-in")


# --- STIX upload -------------------------------------------------------------------------


def test_amber_upload_scoped_to_financial_reaches_banks_only(community: UiCommunity) -> None:
    client = community.client("us-bank")
    response = upload(
        client,
        orjson.dumps(bundle()),
        token=csrf(client, "/ui/submit"),
        tlp="amber",
        sectors=["financial"],
    )
    assert response.status_code == 303
    result = client.get(f"/ui/submit/status/{status_id(response)}")
    assert result.status_code == 200
    assert "All 3 objects were accepted" in result.text
    assert f'href="/ui/objects/{INDICATOR}"' in result.text

    stored = read(community, "gb-bank", INDICATOR)
    assert stored is not None
    assert stored["object_marking_refs"] == [Tlp.AMBER.marking_id]
    assert submitter_seen(community, "gb-bank", INDICATOR) == community.orgs["us-bank"].id
    assert read(community, "law", INDICATOR) is None
    assert read(community, "law", MALWARE) is None
    for object_id in (INDICATOR, MALWARE, RELATIONSHIP):
        body = read(community, "gb-bank", object_id)
        assert body is not None
        assert_valid_stix(body)

    assert community.client("gb-bank").get(f"/ui/objects/{INDICATOR}").status_code == 200
    assert community.client("law").get(f"/ui/objects/{INDICATOR}").status_code == 404
    # the status is the submitter's alone
    other = community.client("gb-bank").get(f"/ui/submit/status/{status_id(response)}")
    assert other.status_code == 404


def test_bad_input_keeps_the_form_and_stores_nothing(community: UiCommunity) -> None:
    client = community.client("us-bank")
    law = community.orgs["law"]
    before = stored_count(community, community.orgs["us-bank"])
    broken = b'{"type": "bundle", "objects": [ {"type": "indicator",, } ]}'
    response = upload(
        client,
        broken,
        token=csrf(client, "/ui/submit"),
        tlp="red",
        organizations=[law.identity_id],
        attribution="anonymous",
    )
    assert response.status_code == 400
    html = response.text
    assert 'role="alert"' in html
    assert "Nothing was stored: bundle.json is not valid JSON" in html
    assert "line 1, column" in html
    assert 'id="tlp-red" name="tlp" value="red" checked' in html
    assert f'value="{law.identity_id}" selected' in html
    assert 'value="anonymous" checked' in html
    # the file's text is put back in the box, escaped, to correct it there
    assert "{&#34;type&#34;: &#34;bundle&#34;" in html
    assert audience_names(html) == ["US Law Firm"]

    token = csrf(client, "/ui/submit")
    not_stix = upload(client, None, token=token, pasted='{"hello": "world"}', tlp="green")
    assert not_stix.status_code == 400
    assert "is not STIX" in not_stix.text
    assert "{&#34;hello&#34;: &#34;world&#34;}" in not_stix.text
    empty = upload(client, None, token=token, tlp="green")
    assert empty.status_code == 400
    assert "there is nothing to submit" in empty.text
    bad_scope = upload(client, orjson.dumps(bundle()), token=token, countries=["XX"])
    assert bad_scope.status_code == 400
    assert "not an ISO 3166-1 alpha-2 country code" in bad_scope.text
    for attribution in ("unlinkable", "nobody"):  # unlinkable is not for the browser
        refused = upload(client, orjson.dumps(bundle()), token=token, attribution=attribution)
        assert refused.status_code == 400
    assert stored_count(community, community.orgs["us-bank"]) == before


def test_invalid_object_is_reported_as_a_failure(community: UiCommunity) -> None:
    client = community.client("us-bank")
    bad = _id("indicator", 77)
    broken: dict[str, object] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": bad,
        "created": CREATED,
    }
    pasted = orjson.dumps(bundle(broken)["objects"]).decode()  # a plain list of objects
    response = upload(client, None, token=csrf(client, "/ui/submit"), pasted=pasted, tlp="green")
    result = client.get(f"/ui/submit/status/{status_id(response)}")
    html = result.text
    assert "3 of 4 objects were accepted; 1 was refused and not stored" in html
    refused = html.split('id="refused-title"', 1)[1].split("</table>", 1)[0]
    assert bad in refused
    assert "modified is required" in refused  # the reason names what is missing
    assert read(community, "us-bank", bad) is None
    stored = read(community, "law", MALWARE)
    assert stored is not None
    assert stored["object_marking_refs"] == [Tlp.GREEN.marking_id]


def test_anonymous_submission_does_not_name_the_submitter(community: UiCommunity) -> None:
    client = community.client("us-bank")
    us_bank = community.orgs["us-bank"]
    response = upload(
        client,
        orjson.dumps(bundle()),
        token=csrf(client, "/ui/submit"),
        tlp="green",
        attribution="anonymous",
    )
    assert client.get(f"/ui/submit/status/{status_id(response)}").status_code == 200
    seen = read(community, "gb-bank", INDICATOR)
    assert seen is not None
    assert seen["created_by_ref"] != us_bank.identity_id  # the hub's "Anonymous member"
    assert submitter_seen(community, "gb-bank", INDICATOR) is None
    assert us_bank.identity_id not in orjson.dumps(seen).decode()
    assert read(community, "us-bank", INDICATOR) is not None  # the submitter still reads it
    page = community.client("gb-bank").get(f"/ui/objects/{INDICATOR}")
    assert page.status_code == 200
    assert "US Bank" not in page.text


def test_csrf_is_required(community: UiCommunity) -> None:
    client = community.client("us-bank")
    response = upload(client, orjson.dumps(bundle()))
    assert response.status_code == 403
    assert read(community, "us-bank", INDICATOR) is None
    refused = client.post("/ui/submit/preview", data={"tlp": "red"}, headers=HTMX)
    assert refused.status_code == 403
    report = client.post("/ui/submit/report", data={"report_text": "185.220.101.45"})
    assert report.status_code == 403
    assert reports.list_drafts(community.hub, community.orgs["us-bank"]) == []


# --- the audience preview ----------------------------------------------------------------


def test_preview_lists_exactly_who_may_read(community: UiCommunity) -> None:
    client = community.client("us-bank")
    token = csrf(client, "/ui/submit")
    law = community.orgs["law"]
    red = client.post(
        "/ui/submit/preview",
        data={"csrf_token": token, "tlp": "red", "organizations": [law.identity_id]},
        headers=HTMX,
    )
    assert red.status_code == 200
    assert "<html" not in red.text and "<h1" not in red.text
    assert audience_names(red.text) == ["US Law Firm"]
    assert "1 organisation</strong> besides yours" in red.text
    assert "never leaves this hub for a partner hub" in red.text
    assert "Only the organisations named in its scope" in red.text
    assert f"--org {law.identity_id}" in red.text  # the unlinkable command follows the choices

    green = client.post(
        "/ui/submit/preview", data={"tlp": "green", "attribution": "anonymous"}, headers=HTMX
    )  # htmx sends the token as a header, set on <body>
    assert green.status_code == 403
    green = client.post(
        "/ui/submit/preview",
        data={"tlp": "green", "attribution": "anonymous"},
        headers={**HTMX, "X-CSRF-Token": token},
    )
    assert audience_names(green.text) == ["GB Bank", "Hub Operator", "US Agency", "US Law Firm"]
    assert "May be passed to partner hubs" in green.text
    assert "Anonymous member" in green.text

    amber = client.post(
        "/ui/submit/preview",
        data={"tlp": "amber", "sectors": ["legal"]},
        headers={**HTMX, "X-CSRF-Token": token},
    )
    assert audience_names(amber.text) == ["Hub Operator", "US Law Firm"]
    assert "as the hub's operator, not because your scope names it" in amber.text

    bad = client.post(
        "/ui/submit/preview",
        data={"tlp": "purple"},
        headers={**HTMX, "X-CSRF-Token": token},
    )
    assert bad.status_code == 200
    assert "unknown TLP level" in bad.text and 'role="alert"' in bad.text

    # without JavaScript, the Preview button renders the whole page
    pasted = orjson.dumps(bundle()).decode()
    response = client.post(
        "/ui/submit/preview",
        data={
            "csrf_token": token,
            "stix_text": pasted,
            "tlp": "amber+strict",
            "countries": ["GB"],
        },
    )
    assert response.status_code == 200
    assert response.text.count("<h1") == 1
    assert audience_names(response.text) == ["GB Bank", "Hub Operator"]
    assert 'value="amber+strict" checked' in response.text
    assert '<option value="GB" selected>' in response.text
    assert "&#34;Cobalt Strike&#34;" in response.text  # what was pasted is kept
    assert read(community, "us-bank", INDICATOR) is None  # a preview stores nothing
    uploaded = client.post(
        "/ui/submit/preview",
        data={"csrf_token": token, "tlp": "red"},
        files={"stix_file": ("mine.json", pasted.encode(), "application/json")},
    )
    assert "The content of mine.json is in the box below" in uploaded.text  # not lost
    assert "&#34;Cobalt Strike&#34;" in uploaded.text


# --- free-text reports -------------------------------------------------------------------

SHA256 = "3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea"
REPORT = f"""Phishing wave against our treasury team

On 3 March a US Bank treasury analyst opened invoice_0317.docm from
billing@evil-invoices[.]ru. The macro (T1566.001, then T1059.001 PowerShell) beaconed to
185.220.101[.]45 and fetched a second stage from cdn.evil-invoices.ru. The attacker then
logged in to vpn.usbank.example with stolen credentials (Project Kestrel accounts).

SHA-256 of the dropper: {SHA256}
"""
VICTIM_DETAILS = ("usbank.example", "US Bank", "Project Kestrel", "Kestrel")


def make_draft(community: UiCommunity, client: TestClient, title: str = "Treasury phishing") -> str:
    admin.declare_assets(community.hub, "US Bank", ["usbank.example"], [], ["Project Kestrel"])
    response = client.post(
        "/ui/submit/report",
        data={
            "csrf_token": csrf(client, "/ui/submit"),
            "title": title,
            "format": "auto",
            "report_text": REPORT,
        },
        files={"report_file": ("", b"", "application/octet-stream")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/ui/drafts/([0-9a-f-]+)", response.headers["location"])
    assert found
    return found.group(1)


def test_report_review_publish_without_victim_details(community: UiCommunity) -> None:
    client = community.client("us-bank")
    draft_id = make_draft(community, client)

    page = client.get(f"/ui/drafts/{draft_id}")
    assert page.status_code == 200
    html = page.text
    assert '<mark title="indicator (ipv4-addr)">185.220.101[.]45</mark>' in html
    assert '<mark title="indicator (domain-name)">cdn.evil-invoices.ru</mark>' in html
    assert f'<mark title="indicator (file:hashes.SHA-256)">{SHA256}</mark>' in html
    victim = re.findall(r'<mark class="victim" title="[^"]*">(.*?)</mark>', html, re.S)
    victim_text = " ".join(victim)
    for detail in ("US Bank", "vpn.usbank.example", "Project Kestrel"):
        assert detail in victim_text, detail
    assert "replaced with [REDACTED]" in html
    assert "T1566.001" in html and "Spearphishing Attachment" in html
    assert 'name="keep" value="185.220.101.45" checked' in html
    assert audience_names(html) == ["GB Bank", "Hub Operator", "US Agency", "US Law Firm"]
    drafts = client.get("/ui/drafts").text
    assert f'href="/ui/drafts/{draft_id}"' in drafts and "Treasury phishing" in drafts

    # publish to the community, GREEN, leaving out the hash
    values = re.findall(r'name="shown" value="([^"]+)"', html)
    assert SHA256 in values and "185.220.101.45" in values
    published = client.post(
        f"/ui/drafts/{draft_id}/publish",
        data={
            "csrf_token": csrf(client, "/ui/submit"),
            "review_form": "1",
            "redact": "on",
            "shown": values,
            "keep": [v for v in values if v != SHA256],
            "tlp": "green",
            "attribution": "attributed",
        },
        follow_redirects=False,
    )
    assert published.status_code == 303, published.text
    result = client.get(published.headers["location"])
    assert "was published" in result.text
    links = re.findall(r'href="/ui/objects/([^"]+)"', result.text)
    assert any(link.startswith("report--") for link in links)
    objects = [read(community, "law", object_id) for object_id in set(links)]
    assert all(body is not None for body in objects)
    text = orjson.dumps(objects).decode()
    assert "185.220.101.45" in text and "evil-invoices.ru" in text
    patterns = " ".join(str(o.get("pattern", "")) for o in objects if o is not None)
    assert "185.220.101.45" in patterns and SHA256 not in patterns  # the hash was unticked
    for detail in VICTIM_DETAILS:
        assert detail not in text, detail
    for body in objects:
        assert body is not None
        assert_valid_stix(body)

    after = client.get(f"/ui/drafts/{draft_id}")
    assert "This report was published" in after.text
    assert 'formaction="/ui/drafts/' not in after.text


def test_review_is_saved_and_kept_with_the_sharing_choices(community: UiCommunity) -> None:
    client = community.client("us-bank")
    draft_id = make_draft(community, client)
    saved = client.post(
        f"/ui/drafts/{draft_id}",
        data={
            "csrf_token": csrf(client, "/ui/submit"),
            "review_form": "1",
            "shown": ["185.220.101.45", "cdn.evil-invoices.ru"],
            "keep": ["cdn.evil-invoices.ru"],
            "tlp": "red",
            "organizations": [community.orgs["gb-bank"].identity_id],
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert "tlp=red" in saved.headers["location"]
    page = client.get(saved.headers["location"])
    assert "Your review was saved." in page.text
    assert 'name="keep" value="185.220.101.45">' in page.text  # unticked now
    assert 'id="redact" name="redact" value="on">' in page.text  # redaction turned off
    assert "kept (redaction is off)" in page.text
    assert 'value="red" checked' in page.text
    assert audience_names(page.text) == ["GB Bank"]
    draft = reports.get_draft(community.hub, community.orgs["us-bank"], draft_id)
    assert draft.review.removed == frozenset({"185.220.101.45"})
    assert not draft.review.redact


def test_drafts_are_private_to_their_organisation(community: UiCommunity) -> None:
    owner = community.client("us-bank")
    draft_id = make_draft(community, owner)
    other = community.client("gb-bank")
    assert other.get(f"/ui/drafts/{draft_id}").status_code == 404
    assert draft_id not in other.get("/ui/drafts").text
    token = csrf(other, "/ui/submit")
    for action in ("", "/publish", "/preview", "/delete"):
        response = other.post(
            f"/ui/drafts/{draft_id}{action}",
            data={"csrf_token": token, "review_form": "1", "tlp": "clear"},
        )
        assert response.status_code == 404, action
    assert reports.get_draft(community.hub, community.orgs["us-bank"], draft_id).record.status == (
        "draft"
    )
    # a colleague of the owner sees it
    colleague = community.analyst("us-bank", "analyst@us-bank")
    assert colleague.get(f"/ui/drafts/{draft_id}").status_code == 200
    # and deletes it
    response = colleague.post(
        f"/ui/drafts/{draft_id}/delete",
        data={"csrf_token": csrf(colleague, "/ui/submit")},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/ui/drafts"
    assert owner.get(f"/ui/drafts/{draft_id}").status_code == 404
    assert reports.list_drafts(community.hub, community.orgs["us-bank"]) == []


def test_report_form_errors_keep_what_was_typed_and_files_work(community: UiCommunity) -> None:
    client = community.client("us-bank")
    admin.declare_assets(community.hub, "US Bank", ["usbank.example"], [], [])
    token = csrf(client, "/ui/submit")
    named = client.post(
        "/ui/submit/report",
        data={"csrf_token": token, "title": "Breach at US Bank", "report_text": REPORT},
    )
    assert named.status_code == 400
    assert "the title names a victim detail (US Bank)" in named.text
    assert 'value="Breach at US Bank"' in named.text
    assert "cdn.evil-invoices.ru" in named.text  # the report text is still in the box
    empty = client.post(
        "/ui/submit/report", data={"csrf_token": token, "title": "Nothing", "report_text": " "}
    )
    assert empty.status_code == 400 and "the report is empty" in empty.text
    assert reports.list_drafts(community.hub, community.orgs["us-bank"]) == []

    markdown = b"# Intrusion\n\n* C2: `185.220.101.45`\n* Domain: cdn.evil-invoices.ru\n"
    response = client.post(
        "/ui/submit/report",
        data={"csrf_token": token, "title": "", "format": "auto"},
        files={"report_file": ("intrusion.md", markdown, "text/markdown")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    draft_id = response.headers["location"].rsplit("/", 1)[1]
    draft = reports.get_draft(community.hub, community.orgs["us-bank"], draft_id)
    assert draft.record.format == "markdown"
    assert draft.record.name == "intrusion.md"
    assert {i.value for i in draft.analysis.extraction.indicators} >= {
        "185.220.101.45",
        "cdn.evil-invoices.ru",
    }


def test_preview_never_tells_who_is_in_a_group_the_member_is_not_in(
    community: UiCommunity,
) -> None:
    admin.create_group(community.hub, "secret-club", ["US Law Firm"], community.orgs["gb-bank"])
    admin.create_group(community.hub, "our-club", ["US Law Firm"], community.orgs["us-bank"])
    client = community.client("us-bank")
    token = csrf(client)
    for group, shown in (("secret-club", False), ("our-club", True), ("no-such-group", False)):
        page = client.get("/ui/submit", params={"tlp": "amber", "groups": group})
        fragment = client.post(
            "/ui/submit/preview",
            data={"csrf_token": token, "tlp": "amber", "groups": group},
            headers={"HX-Request": "true"},
        )
        whole = page.text.split('<div id="audience" aria-live="polite">', 1)[1]
        for preview in (whole.split("</aside>", 1)[0], fragment.text):
            readers = preview.split('<dl class="facts">', 1)[0]  # before the label's words
            assert ("US Law Firm" in readers) is shown, group
            assert "GB Bank" not in readers, group  # the owner is no member of ours
            if not shown:  # an unknown group and a foreign one read alike
                assert f"Members of the group {group} are not counted here" in preview
