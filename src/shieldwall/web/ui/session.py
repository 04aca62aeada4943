"""Web sessions: the cookie, the signed-in dependency, CSRF checks and redirects.

A session is a random token in an ``HttpOnly``, ``SameSite=Lax`` cookie (``Secure`` when
the request came over https, or always with ``SHIELDWALL_SESSION_COOKIE_SECURE``); the hub
stores only its hash (``services/accounts.py``). Every state-changing request must carry the
session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``, which the base
template sets for htmx) and, when the browser sends one, an ``Origin`` of this host.
"""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from starlette.responses import RedirectResponse

from shieldwall.domain.errors import Forbidden
from shieldwall.domain.organisations import Role
from shieldwall.services import accounts
from shieldwall.services.accounts import SessionInfo
from shieldwall.web.deps import hub_of
from shieldwall.web.ui.templating import FLASH_COOKIE

SESSION_COOKIE = "shieldwall_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class SignInRequired(Exception):
    """No valid session: the handler sends the browser to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def _next_of(request: Request) -> str:
    if request.method == "GET":
        query = f"?{request.url.query}" if request.url.query else ""
        return request.url.path + query
    return "/ui/"


def session_of(request: Request) -> SessionInfo | None:
    """The request's valid session, or ``None``."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    return accounts.session(hub_of(request), token)


def signed_in(request: Request) -> SessionInfo:
    """Dependency: the valid session (else ``SignInRequired``)."""
    found = session_of(request)
    if found is None:
        raise SignInRequired(_next_of(request))
    return found


def check_origin(request: Request) -> None:
    """Refuse a request whose ``Origin`` header names another site."""
    origin = request.headers.get("origin")
    foreign = urlsplit(origin or "").netloc != request.headers.get("host", "")
    if origin and origin != "null" and foreign:
        raise Forbidden("this form was sent from another site: nothing was changed")


async def checked(request: Request) -> SessionInfo:
    """Dependency for state-changing requests: a valid session, a matching CSRF token and
    no foreign ``Origin`` (else ``Forbidden``, nothing changed)."""
    session = signed_in(request)
    check_origin(request)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, session.csrf_token):
        raise Forbidden("this form has expired: reload the page and try again")
    return session


Viewer = Annotated[SessionInfo, Depends(signed_in)]
Actor = Annotated[SessionInfo, Depends(checked)]


def require_admin(session: SessionInfo) -> None:
    """Only an organisation admin may go on."""
    if not session.account.is_admin:
        raise Forbidden("only an administrator of your organisation can do this")


def require_role(session: SessionInfo, *roles: Role) -> None:
    """Only organisations with one of ``roles`` may go on."""
    if session.account.organisation.role not in roles:
        names = " or ".join(r.value for r in roles)
        raise Forbidden(f"only {names} organisations can do this")


def safe_next(value: str | None) -> str:
    """A local path under ``/ui/`` to return to after signing in (never another site)."""
    if value and value.startswith("/ui") and not value.startswith("//") and "\\" not in value:
        return value
    return "/ui/"


def redirect_with(url: str, message: str = "") -> RedirectResponse:
    """A 303 to ``url``; ``message`` shows once on the next page."""
    response = RedirectResponse(url, status_code=303)
    if message:
        response.set_cookie(
            FLASH_COOKIE,
            quote(message[:300]),
            max_age=60,
            path="/ui",
            httponly=True,
            samesite="lax",
        )
    return response


def set_session_cookie(
    response: RedirectResponse, request: Request, token: str, max_age: int
) -> None:
    """Give the browser the session cookie."""
    secure = request.url.scheme == "https" or hub_of(request).config.session_cookie_secure
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        secure=secure,
        samesite="lax",
    )


def clear_session_cookie(response: RedirectResponse) -> None:
    """Make the browser forget the session cookie."""
    response.delete_cookie(SESSION_COOKIE, path="/")


def sign_in_redirect(next_path: str) -> RedirectResponse:
    """To the sign-in page, coming back to ``next_path`` afterwards."""
    return RedirectResponse(f"/ui/sign-in?next={quote(next_path, safe='/')}", status_code=303)
