"""Sharing group pages (``/ui/groups``): list, create, view, change members, disband.

Contract: the same calls as ``/api/v1/groups`` with the signed-in organisation as actor.
A group is shown only when ``admin.list_groups`` gives it to that organisation (the groups
it belongs to or owns; every group for operators), else 404. Changing members and
disbanding are decided by ``services.admin`` (the owner and operators only): its
``Forbidden`` becomes the 403 error page. ``may_manage`` only decides which forms to offer.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from starlette.responses import HTMLResponse, Response

from shieldwall.domain.errors import NotFound, ShieldwallError
from shieldwall.domain.organisations import Organisation, Role
from shieldwall.services import admin
from shieldwall.services.accounts import SessionInfo
from shieldwall.services.ports import GroupRecord
from shieldwall.web.deps import hub_of
from shieldwall.web.errors import status_of
from shieldwall.web.ui.session import Actor, Viewer, redirect_with
from shieldwall.web.ui.templating import render

router = APIRouter(prefix="/ui/groups", include_in_schema=False)


def _visible_group(request: Request, organisation: Organisation, name: str) -> GroupRecord:
    """The group ``name`` if the organisation may see it (``NotFound`` otherwise)."""
    for group in admin.list_groups(hub_of(request), organisation):
        if group.name == name:
            return group
    raise NotFound(f"no sharing group named {name!r}")


def _may_manage(organisation: Organisation, group: GroupRecord) -> bool:
    """Whether to offer the change forms (the service decides when they are sent)."""
    if group.disbanded:
        return False
    return organisation.role is Role.OPERATOR or group.owner == organisation.name


def _list_page(
    request: Request,
    session: SessionInfo,
    *,
    form: dict[str, object] | None = None,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    hub = hub_of(request)
    me = session.account.organisation
    groups = sorted(admin.list_groups(hub, me), key=lambda g: (g.disbanded, g.name))
    context = {
        "groups": groups,
        "others": [o for o in admin.list_organisations(hub) if o.id != me.id],
        "is_operator": me.role is Role.OPERATOR,
        "form": form or {"name": "", "description": "", "members": []},
        "error": error,
    }
    return render(request, "groups/list.html", context, session=session, status=status)


@router.get("")
def groups_page(request: Request, session: Viewer) -> HTMLResponse:
    """The groups the organisation belongs to or owns (all for operators), and the form
    to create one."""
    return _list_page(request, session)


@router.post("")
def create_group(
    request: Request,
    session: Actor,
    name: Annotated[str, Form(max_length=200)] = "",
    description: Annotated[str, Form(max_length=1000)] = "",
    members: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Create a group; a member organisation becomes its owner and a member of it."""
    chosen = [m for m in members or [] if m]
    try:
        record = admin.create_group(
            hub_of(request), name, chosen, session.account.organisation, description
        )
    except ShieldwallError as error:
        form: dict[str, object] = {"name": name, "description": description, "members": chosen}
        return _list_page(
            request, session, form=form, error=error.message, status=status_of(error)[0]
        )
    return redirect_with(
        f"/ui/groups/{quote(record.name)}", f"The sharing group {record.name} was created."
    )


def _group_page(
    request: Request, session: SessionInfo, group: GroupRecord, *, confirm: bool = False
) -> HTMLResponse:
    me = session.account.organisation
    outside = [o for o in admin.list_organisations(hub_of(request)) if o.name not in group.members]
    context = {
        "group": group,
        "may_manage": _may_manage(me, group),
        "outside": outside,
        "confirm": confirm,
    }
    template = "groups/delete.html" if confirm else "groups/detail.html"
    return render(request, template, context, session=session)


@router.get("/{name}")
def group_page(request: Request, session: Viewer, name: str) -> HTMLResponse:
    """One group: owner, description, members and, for its owner and operators, the
    forms to change members or disband it."""
    return _group_page(
        request, session, _visible_group(request, session.account.organisation, name)
    )


@router.post("/{name}/members")
def change_members(
    request: Request,
    session: Actor,
    name: str,
    add: Annotated[list[str] | None, Form()] = None,
    remove: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Add and remove member organisations (by name); owner and operators only."""
    adding = [m for m in add or [] if m]
    removing = [m for m in remove or [] if m]
    if not adding and not removing:
        return redirect_with(
            f"/ui/groups/{quote(name)}", "Nothing changed: tick organisations to add or remove."
        )
    admin.change_group(hub_of(request), name, adding, removing, session.account.organisation)
    parts = []
    if adding:
        parts.append("added " + ", ".join(adding))
    if removing:
        parts.append("removed " + ", ".join(removing))
    return redirect_with(f"/ui/groups/{quote(name)}", "Members changed: " + "; ".join(parts) + ".")


@router.get("/{name}/delete")
def confirm_delete(request: Request, session: Viewer, name: str) -> HTMLResponse:
    """The confirmation step before disbanding a group."""
    group = _visible_group(request, session.account.organisation, name)
    return _group_page(request, session, group, confirm=True)


@router.post("/{name}/delete")
def delete_group(
    request: Request,
    session: Actor,
    name: str,
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Disband the group when ``confirm=yes`` was sent, else show the confirmation step.
    Owner and operators only."""
    me = session.account.organisation
    if confirm != "yes":
        return _group_page(request, session, _visible_group(request, me, name), confirm=True)
    admin.delete_group(hub_of(request), name, me)
    return redirect_with(
        "/ui/groups", f"The sharing group {name} was disbanded: it no longer reaches anyone."
    )
