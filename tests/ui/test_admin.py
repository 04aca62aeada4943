"""Organisation admin pages: users, API keys and declared assets, scoped to the admin's own
organisation (any organisation for admins of an operator organisation)."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient
from ui_support import PASSWORD, UiCommunity, csrf, sign_in

from shieldwall.services import accounts, admin, audit

_SECRET = re.compile(r'id="secret" class="secret" type="text" value="([^"]+)"')
GB = "?org=GB+Bank"


def _secret(page_text: str) -> str:
    found = _SECRET.search(page_text)
    assert found, "no secret on the page"
    return found.group(1)


def _post(client: TestClient, path: str, **data: str) -> httpx.Response:
    response: httpx.Response = client.post(
        path, data={"csrf_token": csrf(client), **data}, follow_redirects=False
    )
    return response


def _user(community: UiCommunity, username: str) -> accounts.UserInfo:
    (found,) = [u for u in accounts.list_users(community.hub) if u.username == username]
    return found


def test_admin_adds_a_user_whose_password_is_shown_once_and_works(
    community: UiCommunity,
) -> None:
    client = community.client("us-bank")
    answer = _post(client, "/ui/admin/users", username="Analyst@us-bank", admin="1")
    assert answer.status_code == 200
    page = answer.text
    assert "Copy it now; it is not shown again" in page
    assert answer.headers["cache-control"] == "no-store"
    password = _secret(page)
    assert password not in answer.headers.get("set-cookie", "")

    listing = client.get("/ui/admin/users")
    assert "analyst@us-bank" in listing.text
    assert password not in listing.text
    created = _user(community, "analyst@us-bank")
    assert created.organisation == "US Bank" and created.is_admin and not created.disabled

    newcomer = community.anonymous()
    sign_in(newcomer, "analyst@us-bank", password)
    assert newcomer.get("/ui/admin/users").status_code == 200  # an admin, as asked
    assert "last sign-in" in listing.text.lower()
    again = client.get("/ui/admin/users").text
    row = again[again.index("analyst@us-bank") :][:600]
    assert "never" not in row  # the sign-in is shown


def test_adding_a_user_keeps_the_input_on_errors(community: UiCommunity) -> None:
    client = community.client("us-bank")
    bad = _post(client, "/ui/admin/users", username="x y", admin="1")
    assert bad.status_code == 400
    assert 'role="alert"' in bad.text
    assert 'value="x y"' in bad.text
    assert re.search(r'name="admin" type="checkbox" value="1" checked', bad.text)
    taken = _post(client, "/ui/admin/users", username="admin@gb-bank")
    assert taken.status_code == 409
    assert "taken" in taken.text
    assert [u.username for u in accounts.list_users(community.hub, "US Bank")] == ["admin@us-bank"]


def test_non_admins_get_403_on_every_admin_page(community: UiCommunity) -> None:
    analyst = community.analyst("us-bank", "reader@us-bank")
    for path in ("/ui/admin/users", "/ui/admin/keys", "/ui/admin/assets"):
        assert analyst.get(path).status_code == 403
    token = csrf(analyst)
    for path, data in (
        ("/ui/admin/users", {"username": "sneaky@us-bank"}),
        ("/ui/admin/users/admin@us-bank/disable", {}),
        ("/ui/admin/keys", {"label": "mine"}),
        ("/ui/admin/assets", {"domains": "us-bank.example"}),
    ):
        assert analyst.post(path, data={"csrf_token": token, **data}).status_code == 403
    assert not _user(community, "admin@us-bank").disabled
    assert admin.assets_of(community.hub, community.orgs["us-bank"]) == []
    assert len(admin.list_keys(community.hub, "US Bank")) == 1
    # an API-key session is never an admin either
    keyed = community.anonymous()
    page = keyed.get("/ui/sign-in").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    token = found.group(1)
    keyed.post("/ui/sign-in", data={"csrf_token": token, "api_key": community.keys["us-bank"]})
    assert keyed.get("/ui/admin/keys").status_code == 403


def test_member_admins_cannot_manage_another_organisation(community: UiCommunity) -> None:
    client = community.client("us-bank")
    for path in ("/ui/admin/users", "/ui/admin/keys", "/ui/admin/assets"):
        assert client.get(path + GB).status_code == 403
    refused = _post(client, "/ui/admin/users/admin@gb-bank/disable")
    assert refused.status_code == 403
    assert not _user(community, "admin@gb-bank").disabled
    assert _post(client, "/ui/admin/users/admin@gb-bank/reset").status_code == 403
    assert _post(client, "/ui/admin/users" + GB, username="spy@gb-bank").status_code == 403
    (gb_key,) = admin.list_keys(community.hub, "GB Bank")
    assert _post(client, f"/ui/admin/keys/{gb_key.key_id}/revoke").status_code == 404
    assert _post(client, f"/ui/admin/keys/{gb_key.key_id}/revoke" + GB).status_code == 403
    assert admin.authenticate(community.hub, community.keys["gb-bank"]).name == "GB Bank"
    assert "admin@gb-bank" not in client.get("/ui/admin/users").text


def test_operator_admins_manage_any_organisation(community: UiCommunity) -> None:
    client = community.client("operator")
    page = client.get("/ui/admin/users" + GB)
    assert page.status_code == 200
    assert "GB Bank" in page.text and "admin@gb-bank" in page.text
    assert "admin@us-bank" not in page.text
    added = _post(client, "/ui/admin/users" + GB, username="second@gb-bank")
    assert "Copy it now" in added.text
    assert _user(community, "second@gb-bank").organisation == "GB Bank"
    done = _post(client, "/ui/admin/users/second@gb-bank/disable" + GB)
    assert done.status_code == 303
    assert done.headers["location"] == "/ui/admin/users" + GB
    assert _user(community, "second@gb-bank").disabled
    (gb_key,) = admin.list_keys(community.hub, "GB Bank")
    # without ?org= the operator manages its own organisation, which has no such key
    assert _post(client, f"/ui/admin/keys/{gb_key.key_id}/revoke").status_code == 404
    revoked = _post(client, f"/ui/admin/keys/{gb_key.key_id}/revoke" + GB)
    assert revoked.status_code == 303
    (gb_key,) = admin.list_keys(community.hub, "GB Bank")
    assert gb_key.revoked_at is not None
    assert client.get("/ui/admin/users?org=Nobody").status_code == 404


def test_disabling_signs_the_user_out_and_enabling_lets_it_back(community: UiCommunity) -> None:
    analyst = community.analyst("us-bank", "victim@us-bank")
    assert analyst.get("/ui/account").status_code == 200
    client = community.client("us-bank")
    done = _post(client, "/ui/admin/users/victim@us-bank/disable")
    assert done.status_code == 303
    after = analyst.get("/ui/account", follow_redirects=False)
    assert after.status_code == 303
    assert after.headers["location"].startswith("/ui/sign-in")
    assert "disabled" in client.get("/ui/admin/users").text
    _post(client, "/ui/admin/users/victim@us-bank/enable")
    again = community.anonymous()
    sign_in(again, "victim@us-bank")
    assert again.get("/ui/account").status_code == 200


def test_admin_flag_password_reset_and_self_protection(community: UiCommunity) -> None:
    analyst = community.analyst("us-bank", "helper@us-bank")
    assert analyst.get("/ui/admin/users").status_code == 403
    client = community.client("us-bank")
    refused = _post(client, "/ui/admin/users/admin@us-bank/disable")
    assert refused.status_code == 403
    assert "cannot disable your own account" in refused.text
    assert not _user(community, "admin@us-bank").disabled
    _post(client, "/ui/admin/users/helper@us-bank/admin", admin="1")
    assert _user(community, "helper@us-bank").is_admin
    assert analyst.get("/ui/admin/users").status_code == 200  # takes effect at once
    _post(client, "/ui/admin/users/helper@us-bank/admin", admin="0")
    assert not _user(community, "helper@us-bank").is_admin

    reset = _post(client, "/ui/admin/users/helper@us-bank/reset")
    assert "it is not shown again" in reset.text
    password = _secret(reset.text)
    assert analyst.get("/ui/account", follow_redirects=False).status_code == 303
    with pytest.raises(AssertionError):  # the old password no longer signs in
        sign_in(community.anonymous(), "helper@us-bank", PASSWORD)
    sign_in(community.anonymous(), "helper@us-bank", password)


def test_created_key_works_and_revoking_stops_it(community: UiCommunity) -> None:
    client = community.client("us-bank")
    created = _post(client, "/ui/admin/keys", label="SIEM feed")
    assert created.status_code == 200
    assert "Copy it now; it is not shown again" in created.text
    assert created.headers["cache-control"] == "no-store"
    key = _secret(created.text)
    api = community.anonymous()
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200 and me.json()["name"] == "US Bank"

    listing = client.get("/ui/admin/keys").text
    assert "SIEM feed" in listing and key not in listing
    (info,) = [k for k in admin.list_keys(community.hub, "US Bank") if k.label == "SIEM feed"]
    assert info.key_id in listing
    done = _post(client, f"/ui/admin/keys/{info.key_id}/revoke")
    assert done.status_code == 303
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert "revoked" in client.get("/ui/admin/keys").text
    # a revoked key cannot be revoked again
    assert _post(client, f"/ui/admin/keys/{info.key_id}/revoke").status_code == 404


def test_assets_are_saved_and_read_back(community: UiCommunity) -> None:
    client = community.client("us-bank")
    page = client.get("/ui/admin/assets")
    assert "anonymous submission" in page.text and "leak check" in page.text
    saved = _post(
        client,
        "/ui/admin/assets",
        domains="US-Bank.example.\n\nonline-usbank.example",
        cidrs="198.51.100.7/24",
        keywords="Project Falcon",
    )
    assert saved.status_code == 303
    stored = admin.assets_of(community.hub, community.orgs["us-bank"])
    assert sorted(stored) == [
        ("cidr", "198.51.100.0/24"),
        ("domain", "online-usbank.example"),
        ("domain", "us-bank.example"),
        ("keyword", "Project Falcon"),
    ]
    shown = client.get("/ui/admin/assets").text
    assert "198.51.100.0/24" in shown and "Project Falcon" in shown

    # the lists become the declared assets: a value left out is no longer declared
    _post(
        client,
        "/ui/admin/assets",
        domains="us-bank.example\nonline-usbank.example\nusbank.example",
        cidrs="198.51.100.0/24",
        keywords="Project Falcon",
    )
    assert ("domain", "usbank.example") in admin.assets_of(community.hub, community.orgs["us-bank"])
    _post(client, "/ui/admin/assets", domains="us-bank.example\nnew.example", cidrs="")
    assert sorted(admin.assets_of(community.hub, community.orgs["us-bank"])) == [
        ("domain", "new.example"),
        ("domain", "us-bank.example"),
    ]
    entries = [e for e in audit.entries(community.hub) if e.action == "assets.declare"]
    assert entries[-1].actor == "US Bank (admin@us-bank)"
    assert "new.example" not in entries[-1].detail  # counts, never the values
    bad = _post(
        client,
        "/ui/admin/assets",
        domains="us-bank.example\nonline-usbank.example\nusbank.example",
        cidrs="198.51.100.0/24\n300.1.1.1/8",
        keywords="Project Falcon",
    )
    assert bad.status_code == 400
    assert "300.1.1.1/8" in bad.text
    assert len(admin.assets_of(community.hub, community.orgs["us-bank"])) == 2  # unchanged
    # other organisations' assets are untouched and unseen
    assert admin.assets_of(community.hub, community.orgs["gb-bank"]) == []


def test_every_admin_post_needs_the_csrf_token(community: UiCommunity) -> None:
    client = community.client("us-bank")
    community.analyst("us-bank", "target@us-bank")
    (key,) = admin.list_keys(community.hub, "US Bank")
    for path, data in (
        ("/ui/admin/users", {"username": "new@us-bank"}),
        ("/ui/admin/users/target@us-bank/reset", {}),
        ("/ui/admin/users/target@us-bank/disable", {}),
        ("/ui/admin/users/target@us-bank/enable", {}),
        ("/ui/admin/users/target@us-bank/admin", {"admin": "1"}),
        ("/ui/admin/keys", {"label": "x"}),
        (f"/ui/admin/keys/{key.key_id}/revoke", {}),
        ("/ui/admin/assets", {"domains": "us-bank.example"}),
    ):
        answer = client.post(path, data=data, follow_redirects=False)
        assert answer.status_code == 403, path
    target = _user(community, "target@us-bank")
    assert not target.disabled and not target.is_admin
    assert len(accounts.list_users(community.hub, "US Bank")) == 2
    assert admin.list_keys(community.hub, "US Bank")[0].revoked_at is None
    assert admin.assets_of(community.hub, community.orgs["us-bank"]) == []
