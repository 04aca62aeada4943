"""Operator pages (``/ui/operator/…``): organisations, partner hubs and the audit trail.

Contract: every route requires an admin user of an organisation whose role is
``operator`` (``require_role`` and ``require_admin``; 403 otherwise, before anything is
read). Partner calls go through ``services.federation`` with the operator organisation as
actor, exactly as ``/api/v1/partners`` does; a partner's credential is written once and
never shown. The audit page shows ``services.audit.entries`` newest first, 100 a page
(``?offset=``), optionally only actions containing ``?action=`` text, under the result of
``services.audit.verify``.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from starlette.responses import HTMLResponse, Response

from shieldwall.domain.errors import ShieldwallError
from shieldwall.domain.organisations import Role, Sector
from shieldwall.services import accounts, admin, audit, federation
from shieldwall.services.accounts import SessionInfo
from shieldwall.web.deps import hub_of
from shieldwall.web.errors import status_of
from shieldwall.web.ui.session import Actor, Viewer, redirect_with, require_admin, require_role
from shieldwall.web.ui.templating import render

router = APIRouter(prefix="/ui/operator", include_in_schema=False)
AUDIT_PAGE = 100
DIRECTIONS = ("pull", "push", "both")


def require_operator_admin(session: SessionInfo) -> None:
    """``Forbidden`` unless the user is an admin of an operator organisation."""
    require_role(session, Role.OPERATOR)
    require_admin(session)


# --- organisations -------------------------------------------------------------------


def _organisations_page(
    request: Request,
    session: SessionInfo,
    *,
    form: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    hub = hub_of(request)
    users = Counter(u.organisation for u in accounts.list_users(hub))
    keys = Counter(k.organisation for k in admin.list_keys(hub) if k.revoked_at is None)
    rows = [
        {
            "org": o,
            "groups": sorted(o.groups),
            "user_count": users.get(o.name, 0),
            "key_count": keys.get(o.name, 0),
            "manage": "/ui/admin/users?" + urlencode({"org": o.name}),
        }
        for o in sorted(admin.list_organisations(hub), key=lambda o: o.name.lower())
    ]
    context = {
        "rows": rows,
        "sectors": [s.value for s in Sector],
        "roles": [r.value for r in Role],
        "form": form or {"name": "", "sector": "", "country": "", "role": "member"},
        "error": error,
    }
    return render(request, "operator/organisations.html", context, session=session, status=status)


@router.get("/organisations")
def organisations_page(request: Request, session: Viewer) -> HTMLResponse:
    """Every organisation with sector, country, role, groups, users and active keys, and
    the form to admit one."""
    require_operator_admin(session)
    return _organisations_page(request, session)


@router.post("/organisations")
def add_organisation(
    request: Request,
    session: Actor,
    name: Annotated[str, Form(max_length=300)] = "",
    sector: Annotated[str, Form(max_length=50)] = "",
    country: Annotated[str, Form(max_length=10)] = "",
    role: Annotated[str, Form(max_length=50)] = "member",
) -> Response:
    """Admit an organisation (its STIX identity is published to every collection)."""
    require_operator_admin(session)
    try:
        made = admin.add_organisation(
            hub_of(request),
            name,
            sector,
            country,
            role,
            actor=accounts.audit_actor(session.account),
        )
    except ShieldwallError as error:
        form = {"name": name, "sector": sector, "country": country, "role": role}
        return _organisations_page(
            request, session, form=form, error=error.message, status=status_of(error)[0]
        )
    return redirect_with(
        "/ui/operator/organisations",
        f"{made.name} was admitted. Add its first administrator under My organisation.",
    )


# --- partner hubs ----------------------------------------------------------------------


def _partners_page(
    request: Request,
    session: SessionInfo,
    *,
    form: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    hub = hub_of(request)
    views = federation.partners(hub, session.account.organisation)
    context = {
        "partners": views,
        "organisations": admin.list_organisations(hub),
        "directions": DIRECTIONS,
        "form": form
        or {
            "name": "",
            "api_root": "",
            "collection": "",
            "local_collection": "shared",
            "direction": "both",
            "user": "",
            "types": "",
            "account": "",
        },
        "error": error,
    }
    return render(request, "operator/partners.html", context, session=session, status=status)


@router.get("/partners")
def partners_page(request: Request, session: Viewer) -> HTMLResponse:
    """Every partner hub with its settings (never its credential) and sync state per
    direction; forms to enable, disable, sync now, remove and add."""
    require_operator_admin(session)
    return _partners_page(request, session)


@router.post("/partners")
def add_partner(
    request: Request,
    session: Actor,
    name: Annotated[str, Form(max_length=100)] = "",
    api_root: Annotated[str, Form(max_length=2000)] = "",
    collection: Annotated[str, Form(max_length=300)] = "",
    local_collection: Annotated[str, Form(max_length=300)] = "",
    direction: Annotated[str, Form(max_length=8)] = "",
    key: Annotated[str, Form(max_length=1000)] = "",
    user: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    types: Annotated[str, Form(max_length=5000)] = "",
    account: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Configure a partner; on an error the form comes back with everything but the
    credential."""
    require_operator_admin(session)
    kinds = [t for t in types.replace(",", " ").split() if t]
    try:
        view = federation.add_partner(
            hub_of(request),
            session.account.organisation,
            name,
            api_root,
            collection,
            local_collection,
            direction,
            key=key.strip() or None,
            user=user.strip() or None,
            password=password or None,
            types=kinds,
            account=account.strip() or None,
        )
    except ShieldwallError as error:
        form = {
            "name": name,
            "api_root": api_root,
            "collection": collection,
            "local_collection": local_collection,
            "direction": direction,
            "user": user,
            "types": types,
            "account": account,
        }
        message = error.message + (" Enter the credential again." if key or password else "")
        return _partners_page(
            request, session, form=form, error=message, status=status_of(error)[0]
        )
    return redirect_with(
        "/ui/operator/partners", f"Partner {view.name} was added; it syncs on the next pass."
    )


@router.post("/partners/{name}/enable")
def enable_partner(request: Request, session: Actor, name: str) -> Response:
    """Resume passes with a partner."""
    require_operator_admin(session)
    federation.enable_partner(hub_of(request), session.account.organisation, name, True)
    return redirect_with("/ui/operator/partners", f"Partner {name} is enabled.")


@router.post("/partners/{name}/disable")
def disable_partner(request: Request, session: Actor, name: str) -> Response:
    """Stop passes with a partner, keeping its settings and watermarks."""
    require_operator_admin(session)
    federation.enable_partner(hub_of(request), session.account.organisation, name, False)
    return redirect_with("/ui/operator/partners", f"Partner {name} is disabled.")


@router.post("/partners/{name}/sync")
def sync_partner(request: Request, session: Actor, name: str) -> Response:
    """Run one pass with the partner now (even while it backs off); the outcome of each
    direction is in the message."""
    require_operator_admin(session)
    hub = hub_of(request)
    federation.partner(hub, session.account.organisation, name)  # 403/404 first
    results = federation.sync(hub, name, force=True)
    parts = []
    for result in results:
        if result.ok:
            parts.append(
                f"{result.direction}: {result.transferred} transferred, {result.refused} refused"
            )
        else:
            parts.append(f"{result.direction} failed: {result.error or 'unknown error'}")
    return redirect_with(
        "/ui/operator/partners", f"Sync with {name}: " + ("; ".join(parts) or "nothing to do")
    )


@router.get("/partners/{name}/remove")
def confirm_remove_partner(request: Request, session: Viewer, name: str) -> HTMLResponse:
    """The confirmation step before removing a partner."""
    require_operator_admin(session)
    view = federation.partner(hub_of(request), session.account.organisation, name)
    return render(request, "operator/remove_partner.html", {"partner": view}, session=session)


@router.post("/partners/{name}/remove")
def remove_partner(
    request: Request, session: Actor, name: str, confirm: Annotated[str, Form()] = ""
) -> Response:
    """Remove the partner when ``confirm=yes`` was sent, else show the confirmation step."""
    require_operator_admin(session)
    hub = hub_of(request)
    if confirm != "yes":
        view = federation.partner(hub, session.account.organisation, name)
        return render(request, "operator/remove_partner.html", {"partner": view}, session=session)
    federation.remove_partner(hub, session.account.organisation, name)
    return redirect_with(
        "/ui/operator/partners", f"Partner {name} was removed (provenance of pulled objects stays)."
    )


# --- audit trail -----------------------------------------------------------------------


def _audit_url(action: str, offset: int) -> str:
    query = {k: v for k, v in (("action", action), ("offset", str(offset))) if v and v != "0"}
    return "/ui/operator/audit" + ("?" + urlencode(query, quote_via=quote) if query else "")


@router.get("/audit")
def audit_page(
    request: Request, session: Viewer, action: str = "", offset: int = 0
) -> HTMLResponse:
    """The audit trail, newest first, ``AUDIT_PAGE`` entries a page from ``offset``, only
    actions containing ``action`` (any case) when given; the chain check on top."""
    require_operator_admin(session)
    hub = hub_of(request)
    check = audit.verify(hub)
    wanted = action.strip().lower()[:100]
    entries = [e for e in reversed(audit.entries(hub)) if wanted in e.action.lower()]
    start = max(0, offset)
    page = entries[start : start + AUDIT_PAGE]
    previous_url = _audit_url(wanted, max(0, start - AUDIT_PAGE)) if start > 0 else None
    next_url = _audit_url(wanted, start + AUDIT_PAGE) if start + AUDIT_PAGE < len(entries) else None
    context = {
        "check": check,
        "entries": page,
        "total": len(entries),
        "start": start,
        "action": wanted,
        "previous_url": previous_url,
        "next_url": next_url,
    }
    return render(request, "operator/audit.html", context, session=session)
