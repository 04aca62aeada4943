"""Operator pages: organisations, partner hubs and the audit trail, for admins of an
operator organisation only."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import text
from ui_support import UiCommunity, csrf

from shieldwall.services import admin, audit, federation
from shieldwall.storage.database import Database

PAGES = ("/ui/operator/organisations", "/ui/operator/partners", "/ui/operator/audit")
UNREACHABLE = "http://127.0.0.1:9/taxii2/api/"  # the discard port: refused at once


def _post(client: TestClient, path: str, data: dict[str, str]) -> httpx.Response:
    response: httpx.Response = client.post(
        path, data={"csrf_token": csrf(client), **data}, follow_redirects=False
    )
    return response


def _partner_form(**changes: str) -> dict[str, str]:
    form = {
        "name": "legal-isao",
        "api_root": UNREACHABLE,
        "collection": "remote-collection",
        "local_collection": "shared",
        "direction": "pull",
        "key": "sw_partner_secret_value_0123456789",
        "types": "indicator, report",
        "account": "US Law Firm",
    }
    return form | changes


def test_operator_pages_refuse_members_and_non_admin_operator_users(
    community: UiCommunity,
) -> None:
    member_admin = community.client("us-bank")
    operator_user = community.analyst("operator", "staff@operator")
    for client in (member_admin, operator_user):
        for path in PAGES:
            answer = client.get(path)
            assert answer.status_code == 403, path
            assert "text/html" in answer.headers["content-type"]
        token = csrf(client)
        for path, data in (
            ("/ui/operator/organisations", {"name": "Rogue", "sector": "other", "country": "US"}),
            ("/ui/operator/partners", _partner_form()),
        ):
            assert client.post(path, data={"csrf_token": token, **data}).status_code == 403
    assert "Rogue" not in [o.name for o in admin.list_organisations(community.hub)]
    assert federation.partners(community.hub, None) == []
    assert "/ui/operator/organisations" not in member_admin.get("/ui/account").text


def test_organisations_are_listed_and_admitted(community: UiCommunity) -> None:
    admin.create_group(community.hub, "alliance", ["GB Bank", "US Law Firm"])
    community.analyst("gb-bank", "second@gb-bank")
    operator = community.client("operator")
    page = operator.get("/ui/operator/organisations")
    assert page.status_code == 200
    for name in ("US Bank", "GB Bank", "US Law Firm", "US Agency", "Hub Operator"):
        assert name in page.text
    row = page.text[page.text.index("<td>GB Bank</td>") :].split("</tr>")[0]
    assert "financial" in row and "GB" in row and "alliance" in row
    assert '<td class="num">2</td>' in row  # users
    assert '<td class="num">1</td>' in row  # active keys
    assert "/ui/admin/users?org=GB+Bank" in row

    bad = _post(
        operator,
        "/ui/operator/organisations",
        {"name": "Albion Bank plc", "sector": "financial", "country": "XX", "role": "member"},
    )
    assert bad.status_code == 400
    assert 'value="Albion Bank plc"' in bad.text
    assert 'role="alert"' in bad.text
    done = _post(
        operator,
        "/ui/operator/organisations",
        {"name": "Albion Bank plc", "sector": "financial", "country": "GB", "role": "member"},
    )
    assert done.status_code == 303
    albion = admin.organisation(community.hub, "Albion Bank plc")
    assert albion.country == "GB" and albion.sector.value == "financial"
    again = _post(
        operator,
        "/ui/operator/organisations",
        {"name": "Albion Bank plc", "sector": "financial", "country": "GB", "role": "member"},
    )
    assert again.status_code == 409


def test_partners_are_added_switched_synced_and_removed(community: UiCommunity) -> None:
    operator = community.client("operator")
    assert "No partner hubs" in operator.get("/ui/operator/partners").text
    bad = _post(operator, "/ui/operator/partners", _partner_form(api_root="ftp://nowhere"))
    assert bad.status_code == 400
    assert 'value="legal-isao"' in bad.text
    assert "sw_partner_secret" not in bad.text
    added = _post(operator, "/ui/operator/partners", _partner_form())
    assert added.status_code == 303
    (view,) = federation.partners(community.hub, None)
    assert view.auth == "key" and view.types == ("indicator", "report")
    assert view.account == "US Law Firm" and view.enabled
    page = operator.get("/ui/operator/partners").text
    assert "legal-isao" in page and UNREACHABLE in page
    assert "sw_partner_secret" not in page

    _post(operator, "/ui/operator/partners/legal-isao/disable", {})
    assert not federation.partner(community.hub, None, "legal-isao").enabled
    assert "Enable" in operator.get("/ui/operator/partners").text
    _post(operator, "/ui/operator/partners/legal-isao/enable", {})
    assert federation.partner(community.hub, None, "legal-isao").enabled

    synced = _post(operator, "/ui/operator/partners/legal-isao/sync", {})
    assert synced.status_code == 303
    after = operator.get("/ui/operator/partners").text
    assert "pull failed: connection failed" in after  # the flash message
    (leg,) = federation.partner(community.hub, None, "legal-isao").legs
    assert leg.failures == 1 and leg.last_error is not None
    assert _post(operator, "/ui/operator/partners/nobody/sync", {}).status_code == 404

    confirm = _post(operator, "/ui/operator/partners/legal-isao/remove", {})
    assert confirm.status_code == 200
    assert "Remove legal-isao" in confirm.text
    assert len(federation.partners(community.hub, None)) == 1
    removed = _post(operator, "/ui/operator/partners/legal-isao/remove", {"confirm": "yes"})
    assert removed.status_code == 303
    assert federation.partners(community.hub, None) == []


def test_audit_page_shows_recent_actions_filters_pages_and_checks_the_chain(
    community: UiCommunity,
) -> None:
    bank = community.client("us-bank")
    _post(bank, "/ui/admin/keys", {"label": "fresh"})
    _post(bank, "/ui/admin/users", {"username": "newcomer@us-bank"})
    operator = community.client("operator")
    page = operator.get("/ui/operator/audit").text
    assert "Chain intact" in page
    assert "newcomer@us-bank" in page and "user.add" in page and "key.create" in page
    newest = page.index("newcomer@us-bank")
    assert newest < page.index("organisation.add")  # newest first

    only_users = operator.get("/ui/operator/audit?action=USER.").text
    assert "user.add" in only_users and "<code>key.create</code>" not in only_users
    assert "No entries" in operator.get("/ui/operator/audit?action=nothing-like-this").text

    for number in range(110):
        admin.create_key(community.hub, "GB Bank", f"bulk {number}")
    first = operator.get("/ui/operator/audit").text
    assert "Older" in first and "Newer" not in first
    assert "/ui/operator/audit?offset=100" in first
    second = operator.get("/ui/operator/audit?offset=100").text
    assert "Newer" in second and "Entries 101" in second
    assert "organisation.add" in second and "organisation.add" not in first

    store = community.hub.store
    assert isinstance(store, Database)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2"))
    broken = operator.get("/ui/operator/audit").text
    assert "The chain is broken" in broken
    assert "entry 2: content does not match its hash" in broken
    assert audit.verify(community.hub).problems


def test_every_operator_post_needs_the_csrf_token(community: UiCommunity) -> None:
    federation.add_partner(community.hub, None, "guarded", UNREACHABLE, "remote", "shared", "pull")
    operator = community.client("operator")
    for path, data in (
        ("/ui/operator/organisations", {"name": "Rogue", "sector": "other", "country": "US"}),
        ("/ui/operator/partners", _partner_form()),
        ("/ui/operator/partners/guarded/disable", {}),
        ("/ui/operator/partners/guarded/enable", {}),
        ("/ui/operator/partners/guarded/sync", {}),
        ("/ui/operator/partners/guarded/remove", {"confirm": "yes"}),
    ):
        assert operator.post(path, data=data, follow_redirects=False).status_code == 403, path
    assert "Rogue" not in [o.name for o in admin.list_organisations(community.hub)]
    (view,) = federation.partners(community.hub, None)
    assert view.name == "guarded" and view.enabled and view.legs[0].last_attempt_at is None
