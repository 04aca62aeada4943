"""Organisation admin pages (``/ui/admin/…``): users, API keys and declared assets.

Contract: every route requires an organisation admin (``require_admin``) and manages one
organisation — the admin's own, or, for an admin of an organisation whose role is
``operator``, the one named by ``?org=NAME`` (the query parameter, on GET and POST alike).
Anyone else naming another organisation gets 403. The user functions of
``services.accounts`` check again who may manage whom (``actor=session.account``); keys and
assets have no actor check in ``services.admin``, so this module checks that the key belongs
to the organisation being managed (404 otherwise) before revoking it.

Secrets (a new user's or a reset password, a new API key) are shown once, on the page that
answers the POST (``Cache-Control: no-store``); they never go into a cookie, a URL or a log.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from starlette.responses import HTMLResponse, Response

from shieldwall.domain.errors import Forbidden, NotFound, ShieldwallError
from shieldwall.domain.organisations import Organisation, Role
from shieldwall.services import accounts, admin
from shieldwall.services.accounts import SessionInfo
from shieldwall.web.deps import hub_of
from shieldwall.web.errors import status_of
from shieldwall.web.ui.session import Actor, Viewer, redirect_with, require_admin
from shieldwall.web.ui.templating import render

router = APIRouter(prefix="/ui/admin", include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}
ASSET_KINDS = ("domain", "cidr", "keyword")


def managed_organisation(request: Request, session: SessionInfo, org: str | None) -> Organisation:
    """The organisation this admin page manages: the admin's own, or ``org`` when the admin
    belongs to an operator organisation. ``Forbidden`` for a non-admin or for naming another
    organisation without being an operator admin; ``NotFound`` for an unknown name."""
    require_admin(session)
    own = session.account.organisation
    wanted = (org or "").strip()
    if not wanted or wanted == own.name:
        return own
    if own.role is not Role.OPERATOR:
        raise Forbidden("you may manage only your own organisation")
    return admin.organisation(hub_of(request), wanted)


def org_query(session: SessionInfo, managed: Organisation) -> str:
    """``""`` for the admin's own organisation, else ``?org=NAME`` to keep on every link."""
    if managed.id == session.account.organisation.id:
        return ""
    return "?" + urlencode({"org": managed.name})


def _context(request: Request, session: SessionInfo, managed: Organisation) -> dict[str, object]:
    """What every admin page shows: the organisation, the query suffix and, for operator
    admins, the organisations to pick from."""
    operator = session.account.organisation.role is Role.OPERATOR
    return {
        "managed": managed,
        "org_query": org_query(session, managed),
        "is_operator": operator,
        "organisations": admin.list_organisations(hub_of(request)) if operator else [],
    }


def _secret_page(
    request: Request,
    session: SessionInfo,
    managed: Organisation,
    *,
    title: str,
    what: str,
    secret: str,
    usage: str,
    back: str,
) -> HTMLResponse:
    """The one page that shows a secret; never cached."""
    context = _context(request, session, managed) | {
        "title": title,
        "what": what,
        "secret": secret,
        "usage": usage,
        "back": back,
    }
    response = render(request, "admin/secret.html", context, session=session)
    response.headers.update(NO_STORE)
    return response


# --- users ---------------------------------------------------------------------------


def _users_page(
    request: Request,
    session: SessionInfo,
    managed: Organisation,
    *,
    error: str = "",
    username: str = "",
    make_admin: bool = False,
    status: int = 200,
) -> HTMLResponse:
    users = [
        u
        for u in accounts.users_for(hub_of(request), session.account)
        if u.organisation == managed.name
    ]
    context = _context(request, session, managed) | {
        "users": users,
        "error": error,
        "form": {"username": username, "admin": make_admin},
    }
    return render(request, "admin/users.html", context, session=session, status=status)


@router.get("/users")
def users_page(request: Request, session: Viewer, org: str | None = None) -> HTMLResponse:
    """The managed organisation's users: admin flag, disabled, last sign-in, actions."""
    managed = managed_organisation(request, session, org)
    return _users_page(request, session, managed)


@router.post("/users")
def add_user(
    request: Request,
    session: Actor,
    org: str | None = None,
    username: Annotated[str, Form(max_length=200)] = "",
    make_admin: Annotated[str, Form(alias="admin")] = "",
) -> Response:
    """Add a user; answer with its generated password, shown once (or the form again, with
    the error and the input kept)."""
    managed = managed_organisation(request, session, org)
    wants_admin = bool(make_admin)
    try:
        info, password = accounts.add_user(
            hub_of(request), managed.name, username, admin=wants_admin, actor=session.account
        )
    except ShieldwallError as error:
        return _users_page(
            request,
            session,
            managed,
            error=error.message,
            username=username,
            make_admin=wants_admin,
            status=status_of(error)[0],
        )
    return _secret_page(
        request,
        session,
        managed,
        title="User added",
        what=f"Password of {info.username}" + (" (administrator)" if info.is_admin else ""),
        secret=password,
        usage=f"Give it to {info.username} through a safe channel; they can change it under "
        "“Your account” after signing in.",
        back="/ui/admin/users" + org_query(session, managed),
    )


@router.post("/users/{username}/reset")
def reset_password(
    request: Request, session: Actor, username: str, org: str | None = None
) -> Response:
    """Give the user a new generated password (shown once); its sessions end."""
    managed = managed_organisation(request, session, org)
    try:
        password = accounts.reset_password(hub_of(request), username, session.account)
    except ShieldwallError as error:
        return _users_page(
            request, session, managed, error=error.message, status=status_of(error)[0]
        )
    return _secret_page(
        request,
        session,
        managed,
        title="Password reset",
        what=f"New password of {username.strip().lower()}",
        secret=password,
        usage="The user's open sessions have ended; they sign in again with this password.",
        back="/ui/admin/users" + org_query(session, managed),
    )


def _user_action(
    request: Request,
    session: SessionInfo,
    org: str | None,
    username: str,
    action: str,
    flag: bool,
) -> Response:
    """Disable/enable or set the admin flag, then back to the list (or the list with the
    service's refusal)."""
    managed = managed_organisation(request, session, org)
    hub = hub_of(request)
    try:
        if action == "disabled":
            accounts.set_disabled(hub, username, flag, session.account)
            message = (
                f"{username} is {'disabled; their sessions have ended' if flag else 'enabled'}."
            )
        else:
            accounts.set_admin(hub, username, flag, session.account)
            message = f"{username} is {'now' if flag else 'no longer'} an administrator."
    except ShieldwallError as error:
        return _users_page(
            request, session, managed, error=error.message, status=status_of(error)[0]
        )
    return redirect_with("/ui/admin/users" + org_query(session, managed), message)


@router.post("/users/{username}/disable")
def disable_user(
    request: Request, session: Actor, username: str, org: str | None = None
) -> Response:
    """Stop the user signing in; its sessions end at once."""
    return _user_action(request, session, org, username, "disabled", True)


@router.post("/users/{username}/enable")
def enable_user(
    request: Request, session: Actor, username: str, org: str | None = None
) -> Response:
    """Let a disabled user sign in again."""
    return _user_action(request, session, org, username, "disabled", False)


@router.post("/users/{username}/admin")
def set_admin(
    request: Request,
    session: Actor,
    username: str,
    org: str | None = None,
    make_admin: Annotated[str, Form(alias="admin")] = "",
) -> Response:
    """Set the admin flag to the form's ``admin`` value (``1`` on, anything else off)."""
    return _user_action(request, session, org, username, "admin", make_admin == "1")


# --- API keys ------------------------------------------------------------------------


def _keys_page(
    request: Request,
    session: SessionInfo,
    managed: Organisation,
    *,
    error: str = "",
    label: str = "",
    status: int = 200,
) -> HTMLResponse:
    keys = admin.list_keys(hub_of(request), managed.name)
    keys.sort(key=lambda k: (k.revoked_at is not None, -k.created_at))
    context = _context(request, session, managed) | {
        "keys": keys,
        "error": error,
        "form": {"label": label},
    }
    return render(request, "admin/keys.html", context, session=session, status=status)


@router.get("/keys")
def keys_page(request: Request, session: Viewer, org: str | None = None) -> HTMLResponse:
    """The managed organisation's API keys (never their secrets)."""
    return _keys_page(request, session, managed_organisation(request, session, org))


@router.post("/keys")
def create_key(
    request: Request,
    session: Actor,
    org: str | None = None,
    label: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Create a key; answer with it, shown once."""
    managed = managed_organisation(request, session, org)
    try:
        key = admin.create_key(
            hub_of(request), managed.name, label, actor=accounts.audit_actor(session.account)
        )
    except ShieldwallError as error:
        return _keys_page(
            request, session, managed, error=error.message, label=label, status=status_of(error)[0]
        )
    return _secret_page(
        request,
        session,
        managed,
        title="API key created",
        what="API key" + (f" “{label.strip()}”" if label.strip() else ""),
        secret=key,
        usage="Send it as “Authorization: Bearer KEY” to the TAXII and REST APIs, or use it "
        "with the shieldwall command (--key). Revoke it here when it is no longer needed.",
        back="/ui/admin/keys" + org_query(session, managed),
    )


@router.post("/keys/{key_id}/revoke")
def revoke_key(request: Request, session: Actor, key_id: str, org: str | None = None) -> Response:
    """Revoke an active key of the managed organisation (404 for any other key)."""
    managed = managed_organisation(request, session, org)
    hub = hub_of(request)
    if not any(
        k.key_id == key_id and k.revoked_at is None for k in admin.list_keys(hub, managed.name)
    ):
        raise NotFound(f"{managed.name} has no active key {key_id!r}")
    admin.revoke_key(hub, key_id, actor=accounts.audit_actor(session.account))
    return redirect_with(
        "/ui/admin/keys" + org_query(session, managed),
        f"Key {key_id} is revoked: requests with it are refused from now on.",
    )


# --- declared assets -------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _assets_page(
    request: Request,
    session: SessionInfo,
    managed: Organisation,
    *,
    form: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    assets = admin.assets_of(hub_of(request), managed)
    by_kind = {kind: [v for k, v in assets if k == kind] for kind in ASSET_KINDS}
    shown = form or {kind: "\n".join(values) for kind, values in by_kind.items()}
    context = _context(request, session, managed) | {
        "assets": by_kind,
        "count": len(assets),
        "form": shown,
        "error": error,
    }
    return render(request, "admin/assets.html", context, session=session, status=status)


@router.get("/assets")
def assets_page(request: Request, session: Viewer, org: str | None = None) -> HTMLResponse:
    """The managed organisation's declared assets and the form to change the list."""
    return _assets_page(request, session, managed_organisation(request, session, org))


@router.post("/assets")
def declare_assets(
    request: Request,
    session: Actor,
    org: str | None = None,
    domains: Annotated[str, Form(max_length=200_000)] = "",
    cidrs: Annotated[str, Form(max_length=200_000)] = "",
    keywords: Annotated[str, Form(max_length=200_000)] = "",
) -> Response:
    """Make the submitted lists (one value a line) the organisation's declared assets: a
    value left out is no longer declared. A bad value stores nothing (input kept)."""
    managed = managed_organisation(request, session, org)
    hub = hub_of(request)
    form = {"domain": domains, "cidr": cidrs, "keyword": keywords}
    wanted = {kind: _lines(text) for kind, text in form.items()}
    try:
        admin.declare_assets(
            hub,
            managed.name,
            wanted["domain"],
            wanted["cidr"],
            wanted["keyword"],
            replace=True,
            actor=accounts.audit_actor(session.account),
        )
    except ShieldwallError as error:
        return _assets_page(
            request, session, managed, form=form, error=error.message, status=status_of(error)[0]
        )
    return redirect_with(
        "/ui/admin/assets" + org_query(session, managed), "The declared assets were saved."
    )
