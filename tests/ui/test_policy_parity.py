"""The web interface shows each organisation exactly what the REST API and TAXII show it:
for a community with objects under every kind of label (TLP levels, sectors, countries,
groups, named organisations, anonymous), the ids on every member's feed and the object
pages it may open equal what ``GET /api/v1/objects`` answers for its API key."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

from ui_support import UiCommunity

from shieldwall.domain.attribution import Attribution
from shieldwall.domain.scope import make_scope
from shieldwall.domain.tlp import Tlp
from shieldwall.services import admin, submission

STAMP = "2024-05-01T00:00:00.000Z"


def _indicator(index: int) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": STAMP,
        "modified": STAMP,
        "name": f"parity indicator {index}",
        "pattern": f"[ipv4-addr:value = '203.0.113.{index}']",
        "pattern_type": "stix",
        "valid_from": STAMP,
    }


def _labels(community: UiCommunity) -> list[tuple[str, Tlp, dict[str, list[str]], Attribution]]:
    law = community.orgs["law"].identity_id
    gb_bank = community.orgs["gb-bank"].identity_id
    attributed, anonymous = Attribution.ATTRIBUTED, Attribution.ANONYMOUS
    return [
        ("us-bank", Tlp.CLEAR, {}, attributed),
        ("us-bank", Tlp.GREEN, {}, anonymous),
        ("us-bank", Tlp.AMBER, {"sectors": ["financial"]}, attributed),
        ("gb-bank", Tlp.AMBER, {"countries": ["US"]}, attributed),
        ("gb-bank", Tlp.AMBER_STRICT, {"sectors": ["financial"], "countries": ["GB"]}, anonymous),
        ("law", Tlp.AMBER, {"groups": ["bank-law"]}, attributed),
        ("agency", Tlp.RED, {"organizations": [law]}, attributed),
        ("agency", Tlp.AMBER, {"organizations": [gb_bank]}, attributed),
        ("operator", Tlp.GREEN, {"sectors": ["legal", "government"]}, attributed),
        ("law", Tlp.RED, {"organizations": [gb_bank]}, anonymous),
    ]


def test_every_member_sees_on_the_pages_exactly_what_the_api_gives_it(
    community: UiCommunity,
) -> None:
    admin.create_group(community.hub, "bank-law", ["US Bank", "US Law Firm"], community.orgs["law"])
    sent: list[str] = []
    for index, (handle, tlp, scope, attribution) in enumerate(_labels(community)):
        obj = _indicator(index)
        reader = admin.organisation(community.hub, community.orgs[handle].name)  # groups now
        status = submission.submit(
            community.hub,
            reader,
            "shared",
            [obj],
            tlp,
            make_scope(**scope) if scope else None,
            attribution,
        )
        assert status.failure_count == 0, status.details
        sent.append(str(obj["id"]))
    api = community.anonymous()
    for handle in community.orgs:
        answer = api.get(
            "/api/v1/objects",
            params={"type": "indicator", "limit": "1000"},
            headers={"Authorization": f"Bearer {community.keys[handle]}"},
        )
        assert answer.status_code == 200
        by_api = {item["object"]["id"] for item in answer.json()["items"]} & set(sent)
        browser = community.client(handle)
        page = browser.get("/ui/feed", params={"type": "indicator", "limit": "200"})
        assert page.status_code == 200
        on_page = {
            html.unescape(found) for found in re.findall(r'href="/ui/objects/([^"]+)"', page.text)
        } & set(sent)
        assert on_page == by_api, handle
        for stix_id in sent:
            status_code = browser.get(f"/ui/objects/{stix_id}").status_code
            assert status_code == (200 if stix_id in by_api else 404), (handle, stix_id)
    # the labels are not trivial: somebody reads each object, nobody reads all of them
    readers = {
        handle: {
            item["object"]["id"]
            for item in api.get(
                "/api/v1/objects",
                params={"type": "indicator", "limit": "1000"},
                headers={"Authorization": f"Bearer {community.keys[handle]}"},
            ).json()["items"]
        }
        for handle in community.orgs
    }
    assert all(any(i in seen for seen in readers.values()) for i in sent)
    assert all(not set(sent) <= seen for handle, seen in readers.items() if handle != "operator")
