"""Signing in (user name and password, or an API key for automation users), signing out,
and changing one's own password.

The sign-in form is protected against login CSRF with a double-submit token (a random value
in a short-lived cookie, repeated in the form). Failed attempts are rate-limited per user
name; the answer never says whether the user name exists.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from shieldwall.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    RateLimited,
    Unauthenticated,
)
from shieldwall.services import accounts
from shieldwall.web.deps import hub_of
from shieldwall.web.ui.session import (
    SESSION_COOKIE,
    Actor,
    Viewer,
    check_origin,
    clear_session_cookie,
    redirect_with,
    safe_next,
    session_of,
    set_session_cookie,
)
from shieldwall.web.ui.templating import render

router = APIRouter(prefix="/ui", include_in_schema=False)
SIGNIN_COOKIE = "shieldwall_signin"


class FailedSignIns:
    """At most ``limit`` failed sign-ins per user name within ``window`` seconds, per
    process; beyond that, attempts are refused unchecked until the oldest failure leaves the
    window. Successful sign-ins cost nothing. (API keys carry 256 bits: guessing them is
    hopeless, and a shared counter would only let anyone lock every key out.)"""

    def __init__(self, limit: int = 10, window: float = 300.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def check(self, key: str) -> None:
        """Raise ``RateLimited`` while ``key`` has too many recent failures."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(key, now)
            if len(failures) >= self.limit:
                wait = max(1, int(failures[0] + self.window - now) + 1)
                raise RateLimited(
                    f"too many failed sign-ins for this account: retry in {wait} s",
                    retry_after=wait,
                )

    def failed(self, key: str) -> None:
        """Count one failed attempt for ``key``."""
        now = time.monotonic()
        with self._lock:
            self._recent(key, now).append(now)


def _sign_in_page(
    request: Request, next_path: str, error: str = "", username: str = "", status: int = 200
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "sign_in.html",
        {"next": next_path, "error": error, "username": username, "csrf_token": token},
        status=status,
    )
    response.set_cookie(
        SIGNIN_COOKIE, token, max_age=3600, path="/ui", httponly=True, samesite="strict"
    )
    return response


@router.get("/sign-in")
def sign_in_form(request: Request, next: str | None = None) -> Response:
    """The sign-in page (straight to ``next`` when already signed in)."""
    if session_of(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _sign_in_page(request, safe_next(next))


def _check_form_token(request: Request, sent: str) -> None:
    check_origin(request)
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    if not expected or not hmac.compare_digest(sent, expected):
        raise Forbidden("the sign-in form has expired: reload the page and try again")


@router.post("/sign-in")
async def sign_in(
    request: Request,
    csrf_token: Annotated[str, Form()] = "",
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    api_key: Annotated[str, Form(max_length=400)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/ui/",
) -> Response:
    """Open a session from a user name and password, or from an API key."""
    hub = hub_of(request)
    target = safe_next(next)
    try:
        _check_form_token(request, csrf_token)
    except Forbidden as error:
        return _sign_in_page(request, target, error.message, username, status=403)
    limiter: FailedSignIns = request.app.state.signin_failures
    key = "" if api_key.strip() else "user:" + username.strip().lower()
    try:
        if key:
            limiter.check(key)
        if api_key.strip():
            token, _ = await run_in_threadpool(accounts.sign_in_with_key, hub, api_key.strip())
        else:
            if not username.strip() or not password:
                raise InvalidInput("enter your user name and password")
            token, _ = await run_in_threadpool(accounts.sign_in, hub, username.strip(), password)
    except Unauthenticated as error:
        if key:
            limiter.failed(key)
        return _sign_in_page(request, target, error.message, username, status=401)
    except (InvalidInput, RateLimited) as error:
        status = 429 if isinstance(error, RateLimited) else 400
        return _sign_in_page(request, target, error.message, username, status=status)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, token, hub.config.session_max_hours * 3600)
    response.delete_cookie(SIGNIN_COOKIE, path="/ui")
    return response


@router.post("/sign-out")
def sign_out(request: Request, session: Actor) -> Response:
    """End this session (the cookie and the hub's record of it)."""
    token = request.cookies.get(SESSION_COOKIE, "")
    accounts.sign_out(hub_of(request), token)
    response = redirect_with("/ui/sign-in", "You have signed out.")
    clear_session_cookie(response)
    return response


@router.get("/account")
def account_page(request: Request, session: Viewer) -> HTMLResponse:
    """Who is signed in, and the form to change one's password."""
    return render(request, "account.html", {"error": ""}, session=session)


@router.post("/account/password")
def change_password(
    request: Request,
    session: Actor,
    current: Annotated[str, Form(max_length=1024)] = "",
    new: Annotated[str, Form(max_length=1024)] = "",
    repeat: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Change the signed-in user's password (the current one must be given). Every other
    session of the user ends; this browser gets a new session."""
    try:
        if session.account.username is None:
            raise InvalidInput("an API-key session has no password to change")
        if new != repeat:
            raise InvalidInput("the two new passwords differ")
        token, _ = accounts.change_password(hub_of(request), session.account, current, new)
    except (InvalidInput, Unauthenticated, Forbidden, Conflict) as error:
        return render(
            request, "account.html", {"error": error.message}, session=session, status=400
        )
    response = redirect_with(
        "/ui/account", "Your password was changed; your other sessions have ended."
    )
    set_session_cookie(response, request, token, hub_of(request).config.session_max_hours * 3600)
    return response
