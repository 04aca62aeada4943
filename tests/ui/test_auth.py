"""Signing in and out of the web interface: passwords, API keys, CSRF, redirects, cookies."""

from __future__ import annotations

import re

from ui_support import PASSWORD, UiCommunity, csrf, sign_in

from shieldwall.services import accounts, admin

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _form_token(client: object) -> str:
    page = client.get("/ui/sign-in")  # type: ignore[attr-defined]
    found = _TOKEN.search(page.text)
    assert found
    return found.group(1)


def test_pages_need_a_session_and_come_back_after_sign_in(community: UiCommunity) -> None:
    client = community.anonymous()
    assert client.get("/", follow_redirects=False).headers["location"] == "/ui/"
    answer = client.get("/ui/account?tab=x", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/sign-in?next=/ui/account%3Ftab%3Dx"
    token = _form_token(client)
    signed = client.post(
        "/ui/sign-in",
        data={
            "csrf_token": token,
            "username": "ADMIN@us-bank",  # user names are case-insensitive
            "password": PASSWORD,
            "next": "/ui/account?tab=x",
        },
        follow_redirects=False,
    )
    assert signed.status_code == 303
    assert signed.headers["location"] == "/ui/account?tab=x"
    cookie = signed.headers["set-cookie"]
    assert "shieldwall_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    page = client.get("/ui/account")
    assert page.status_code == 200
    assert "admin@us-bank" in page.text
    assert "US Bank" in page.text


def test_htmx_requests_without_a_session_are_told_where_to_go(community: UiCommunity) -> None:
    answer = community.anonymous().get(
        "/ui/account", headers={"HX-Request": "true"}, follow_redirects=False
    )
    assert answer.headers["HX-Redirect"].startswith("/ui/sign-in?next=")


def test_wrong_password_and_unknown_user_get_the_same_answer(community: UiCommunity) -> None:
    client = community.anonymous()
    answers = []
    for username, password in (("admin@us-bank", "not the password"), ("nobody", "whatever")):
        answer = client.post(
            "/ui/sign-in",
            data={"csrf_token": _form_token(client), "username": username, "password": password},
        )
        assert answer.status_code == 401
        message = re.search(r'role="alert">([^<]+)<', answer.text)
        assert message
        answers.append(message.group(1))
        assert f'value="{username}"' in answer.text  # the user name is kept
    assert answers[0] == answers[1] == "wrong user name or password"
    assert client.get("/ui/account", follow_redirects=False).status_code == 303


def test_sign_in_form_refuses_a_missing_or_foreign_token(community: UiCommunity) -> None:
    client = community.anonymous()
    client.get("/ui/sign-in")
    data = {"username": "admin@us-bank", "password": PASSWORD}
    assert client.post("/ui/sign-in", data={**data, "csrf_token": "forged"}).status_code == 403
    token = _form_token(client)
    foreign = client.post(
        "/ui/sign-in",
        data={**data, "csrf_token": token},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    assert client.get("/ui/account", follow_redirects=False).status_code == 303


def test_next_never_leaves_the_interface(community: UiCommunity) -> None:
    client = community.anonymous()
    for target in ("https://evil.example/", "//evil.example/ui", "/api/v1/me", "/ui\\@evil"):
        client.cookies.clear()
        answer = client.post(
            "/ui/sign-in",
            data={
                "csrf_token": _form_token(client),
                "username": "admin@us-bank",
                "password": PASSWORD,
                "next": target,
            },
            follow_redirects=False,
        )
        assert answer.headers["location"] == "/ui/", target


def test_failed_sign_ins_are_limited_per_user(community: UiCommunity) -> None:
    client = community.anonymous()
    statuses = [
        client.post(
            "/ui/sign-in",
            data={
                "csrf_token": _form_token(client),
                "username": "admin@gb-bank",
                "password": "guessing wrong",
            },
        ).status_code
        for _ in range(12)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    other = community.client("law")  # other users are not affected
    assert other.get("/ui/account").status_code == 200


def test_api_key_sign_in_acts_for_the_organisation_without_admin_rights(
    community: UiCommunity,
) -> None:
    client = community.anonymous()
    answer = client.post(
        "/ui/sign-in",
        data={"csrf_token": _form_token(client), "api_key": community.keys["law"]},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    page = client.get("/ui/account")
    assert "an API key (automation user)" in page.text
    assert "US Law Firm" in page.text
    assert "Change your password" not in page.text
    key_id = admin.key_id_of(community.keys["law"])
    admin.revoke_key(community.hub, key_id)
    assert client.get("/ui/account", follow_redirects=False).status_code == 303
    bad = client.post(
        "/ui/sign-in", data={"csrf_token": _form_token(client), "api_key": "sw_nothing"}
    )
    assert bad.status_code == 401


def test_sign_out_needs_the_csrf_token_and_ends_the_session(community: UiCommunity) -> None:
    client = community.client("us-bank")
    assert client.post("/ui/sign-out", data={}).status_code == 403
    assert client.get("/ui/account").status_code == 200
    token = csrf(client)
    answer = client.post("/ui/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 303
    stolen = answer.request.headers.get("cookie", "")
    assert client.get("/ui/account", follow_redirects=False).status_code == 303
    # the old cookie is dead on the hub too, not only forgotten by this browser
    replay = community.anonymous()
    for part in stolen.split("; "):
        name, _, value = part.partition("=")
        if name == "shieldwall_session":
            replay.cookies.set(name, value)
    assert replay.get("/ui/account", follow_redirects=False).status_code == 303


def test_password_change_checks_the_current_one(community: UiCommunity) -> None:
    client = community.client("gb-bank")
    token = csrf(client)
    new = "a much longer passphrase now"
    wrong = client.post(
        "/ui/account/password",
        data={"csrf_token": token, "current": "nope", "new": new, "repeat": new},
    )
    assert wrong.status_code == 400
    assert 'role="alert"' in wrong.text
    differ = client.post(
        "/ui/account/password",
        data={"csrf_token": token, "current": PASSWORD, "new": new, "repeat": new + "x"},
    )
    assert "the two new passwords differ" in differ.text
    done = client.post(
        "/ui/account/password",
        data={"csrf_token": token, "current": PASSWORD, "new": new, "repeat": new},
    )
    assert done.status_code == 200
    assert "Your password was changed; your other sessions have ended." in done.text
    assert client.get("/ui/account").status_code == 200  # this browser carries on
    fresh = community.anonymous()
    sign_in(fresh, "admin@gb-bank", new)
    assert fresh.get("/ui/account").status_code == 200


def test_pages_carry_the_security_headers_and_local_assets(community: UiCommunity) -> None:
    client = community.client("us-bank")
    page = client.get("/ui/account")
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["x-frame-options"] == "DENY"
    assert "https://" not in re.sub(r'href="https://[^"]*"', "", page.text.split("<body")[0])
    assert page.headers["cache-control"] == "no-store"
    for asset in ("/ui/static/htmx.min.js", "/ui/static/shieldwall.css"):
        first = client.get(asset)
        assert first.status_code == 200
        assert first.headers["cache-control"] == "no-cache"  # kept, but revalidated
        again = client.get(asset, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304
    assert client.get("/ui/no-such-page").status_code == 404
    assert "<h1" in client.get("/ui/no-such-page").text


def test_a_disabled_user_is_signed_out(community: UiCommunity) -> None:
    client = community.analyst("us-bank", "carol@us-bank")
    assert client.get("/ui/account").status_code == 200
    accounts.set_disabled(community.hub, "carol@us-bank", True)
    assert client.get("/ui/account", follow_redirects=False).status_code == 303
