"""Sharing group pages: create, view, change members and disband, with the owner and
operators allowed and everyone else refused by the service (403 page) or not shown the
group at all (404)."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient
from ui_support import UiCommunity, csrf

from shieldwall.services import admin
from shieldwall.services.ports import GroupRecord


def _post(client: TestClient, path: str, data: dict[str, object]) -> httpx.Response:
    response: httpx.Response = client.post(
        path, data={"csrf_token": csrf(client), **data}, follow_redirects=False
    )
    return response


def _group(community: UiCommunity, name: str) -> GroupRecord:
    (found,) = [g for g in admin.list_groups(community.hub) if g.name == name]
    return found


def test_member_creates_a_group_and_members_see_it(community: UiCommunity) -> None:
    bank = community.client("us-bank")
    page = bank.get("/ui/groups")
    assert page.status_code == 200
    assert "group scope" in page.text
    assert "US Law Firm" in page.text  # offered as a member
    created = _post(
        bank,
        "/ui/groups",
        {"name": "us-pact", "description": "Banks and their lawyers", "members": ["US Law Firm"]},
    )
    assert created.status_code == 303
    assert created.headers["location"] == "/ui/groups/us-pact"
    group = _group(community, "us-pact")
    assert group.owner == "US Bank"
    assert sorted(group.members) == ["US Bank", "US Law Firm"]

    detail = bank.get("/ui/groups/us-pact")
    assert "Banks and their lawyers" in detail.text and "Change members" in detail.text
    law = community.client("law")
    assert "us-pact" in law.get("/ui/groups").text
    law_view = law.get("/ui/groups/us-pact")
    assert law_view.status_code == 200
    assert "Change members" not in law_view.text  # not the owner: no forms offered
    outsider = community.client("gb-bank")
    assert "us-pact" not in outsider.get("/ui/groups").text
    assert outsider.get("/ui/groups/us-pact").status_code == 404
    assert outsider.get("/ui/groups/us-pact/delete").status_code == 404


def test_creating_keeps_the_input_on_errors(community: UiCommunity) -> None:
    bank = community.client("us-bank")
    bad = _post(
        bank, "/ui/groups", {"name": "Bad Name!", "description": "kept", "members": ["GB Bank"]}
    )
    assert bad.status_code == 400
    text = bad.text
    assert 'role="alert"' in text and 'value="Bad Name!"' in text and 'value="kept"' in text
    assert 'value="GB Bank" checked' in text
    admin.create_group(community.hub, "taken", [])
    again = _post(bank, "/ui/groups", {"name": "taken"})
    assert again.status_code == 409
    assert [g.name for g in admin.list_groups(community.hub)] == ["taken"]


def test_owner_changes_members_and_others_are_refused(community: UiCommunity) -> None:
    admin.create_group(
        community.hub, "alliance", ["US Law Firm"], community.orgs["us-bank"], "test"
    )
    bank = community.client("us-bank")
    changed = _post(
        bank, "/ui/groups/alliance/members", {"add": ["GB Bank"], "remove": ["US Law Firm"]}
    )
    assert changed.status_code == 303
    assert sorted(_group(community, "alliance").members) == ["GB Bank", "US Bank"]
    assert "GB Bank" in bank.get("/ui/groups/alliance").text

    member = community.client("gb-bank")  # a member, not the owner
    refused = _post(member, "/ui/groups/alliance/members", {"add": ["US Agency"]})
    assert refused.status_code == 403
    assert "text/html" in refused.headers["content-type"]
    assert "owner" in refused.text
    refused = _post(member, "/ui/groups/alliance/delete", {"confirm": "yes"})
    assert refused.status_code == 403
    assert sorted(_group(community, "alliance").members) == ["GB Bank", "US Bank"]

    operator = community.client("operator")
    assert "alliance" in operator.get("/ui/groups").text  # operators see every group
    _post(operator, "/ui/groups/alliance/members", {"add": ["US Agency"]})
    assert "US Agency" in _group(community, "alliance").members
    nothing = _post(bank, "/ui/groups/alliance/members", {})
    assert nothing.status_code == 303


def test_disbanding_needs_a_confirmation(community: UiCommunity) -> None:
    admin.create_group(community.hub, "short-lived", ["GB Bank"], community.orgs["us-bank"])
    bank = community.client("us-bank")
    confirm = bank.get("/ui/groups/short-lived/delete")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.text
    unconfirmed = _post(bank, "/ui/groups/short-lived/delete", {})
    assert unconfirmed.status_code == 200
    assert "cannot be undone" in unconfirmed.text
    assert not _group(community, "short-lived").disbanded
    done = _post(bank, "/ui/groups/short-lived/delete", {"confirm": "yes"})
    assert done.status_code == 303
    group = _group(community, "short-lived")
    assert group.disbanded and group.members == ()
    listing = bank.get("/ui/groups").text
    assert "was disbanded" in listing  # the one-time message
    assert 'href="/ui/groups/short-lived"' not in listing
    assert bank.get("/ui/groups/short-lived").status_code == 404


def test_every_group_post_needs_the_csrf_token(community: UiCommunity) -> None:
    admin.create_group(community.hub, "guarded", ["GB Bank"], community.orgs["us-bank"])
    bank = community.client("us-bank")
    for path, data in (
        ("/ui/groups", {"name": "sneaky"}),
        ("/ui/groups/guarded/members", {"add": ["US Agency"]}),
        ("/ui/groups/guarded/delete", {"confirm": "yes"}),
    ):
        assert bank.post(path, data=data, follow_redirects=False).status_code == 403, path
    group = _group(community, "guarded")
    assert not group.disbanded and "US Agency" not in group.members
    assert [g.name for g in admin.list_groups(community.hub)] == ["guarded"]
