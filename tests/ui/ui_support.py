"""Helpers for the web interface tests: a hub with a small community whose members each have
a signed-in browser-like client (``TestClient`` with cookies) over the real application.

``UiCommunity.client(handle)`` signs in through the real sign-in form; ``csrf(client)``
reads the token the pages embed. Browser tests (test_browser.py) use a real uvicorn and
Chromium instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from fastapi.testclient import TestClient

from shieldwall.domain.organisations import Organisation
from shieldwall.services import accounts, admin
from shieldwall.services.context import Hub
from shieldwall.web.app import create_app

PASSWORD = "correct horse battery staple"
COMMUNITY: dict[str, tuple[str, str, str, str]] = {
    "us-bank": ("US Bank", "financial", "US", "member"),
    "gb-bank": ("GB Bank", "financial", "GB", "member"),
    "law": ("US Law Firm", "legal", "US", "member"),
    "agency": ("US Agency", "government", "US", "government"),
    "operator": ("Hub Operator", "other", "US", "operator"),
}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client: TestClient, path: str = "/ui/account") -> str:
    """The CSRF token of ``client``'s session, as a page embeds it."""
    found = _CSRF.search(client.get(path).text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> None:
    """Sign ``client`` in through the sign-in form (its login-CSRF token included)."""
    page = client.get("/ui/sign-in")
    token = _CSRF.search(page.text)
    assert token, "no token on the sign-in form"
    response = client.post(
        "/ui/sign-in",
        data={"csrf_token": token.group(1), "username": username, "password": password},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


@dataclass
class UiCommunity:
    """The hub, its app, and per handle: organisation, admin user name and API key."""

    hub: Hub
    app: object
    orgs: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    _clients: list[TestClient] = field(default_factory=list)

    def anonymous(self) -> TestClient:
        """A client with no session."""
        client = TestClient(self.app, base_url="http://testserver")  # type: ignore[arg-type]
        self._clients.append(client)
        return client

    def client(self, handle: str) -> TestClient:
        """A client signed in as the admin user of ``handle``'s organisation."""
        client = self.anonymous()
        sign_in(client, self.users[handle])
        return client

    def analyst(self, handle: str, username: str) -> TestClient:
        """A client signed in as a new non-admin user of ``handle``'s organisation."""
        accounts.add_user(self.hub, self.orgs[handle].name, username, password=PASSWORD)
        client = self.anonymous()
        sign_in(client, username)
        return client


def open_community(hub: Hub) -> Iterator[UiCommunity]:
    """``COMMUNITY`` on ``hub``; each organisation has an admin user ``admin@<handle>``
    (password ``PASSWORD``) and an API key. Closes the clients afterwards."""
    made = UiCommunity(hub, create_app(hub))
    for handle, (name, sector, country, role) in COMMUNITY.items():
        made.orgs[handle] = admin.add_organisation(hub, name, sector, country, role)
        made.keys[handle] = admin.create_key(hub, name, "test")
        username = f"admin@{handle}"
        accounts.add_user(hub, name, username, admin=True, password=PASSWORD)
        made.users[handle] = username
    yield made
    for client in made._clients:
        client.close()
