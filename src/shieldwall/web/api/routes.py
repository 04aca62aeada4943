"""REST API v1: reads and search through the same policy as TAXII, submission with
TLP/scope fields, organisations and sharing groups."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from shieldwall.domain.attribution import Attribution
from shieldwall.domain.errors import NotFound
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.queries import (
    ObjectQuery,
    VersionFilter,
    decode_cursor,
    parse_added_after,
    parse_limit,
    parse_types,
)
from shieldwall.domain.scope import Scope, scope_of
from shieldwall.domain.timestamps import format_timestamp
from shieldwall.domain.tlp import Tlp
from shieldwall.services import admin, reading, submission
from shieldwall.services.admin import DEFAULT_COLLECTION_ALIAS
from shieldwall.services.ports import GroupRecord
from shieldwall.web.api.scope_fields import parse_scope
from shieldwall.web.deps import current_org, hub_of
from shieldwall.web.media import parse_json, read_body
from shieldwall.web.taxii.routes import status_resource

router = APIRouter(prefix="/api/v1", tags=["REST API"])
Caller = Annotated[Organisation, Depends(current_org)]


class OrganisationOut(BaseModel):
    """An organisation as members see it (to address scopes)."""

    name: str
    identity_id: str
    sector: str
    country: str
    role: str


class GroupIn(BaseModel):
    """A new sharing group."""

    name: str
    members: list[str] = Field(default_factory=list)
    description: str = ""


class GroupChange(BaseModel):
    """Members to add and remove (organisation names)."""

    add: list[str] = Field(default_factory=list)
    remove: list[str] = Field(default_factory=list)


class GroupOut(BaseModel):
    """A sharing group."""

    name: str
    owner: str | None
    description: str
    members: list[str]


def _json(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def _org_out(org: Organisation) -> OrganisationOut:
    return OrganisationOut(
        name=org.name,
        identity_id=org.identity_id,
        sector=org.sector.value,
        country=org.country,
        role=org.role.value,
    )


def _group_out(group: GroupRecord) -> GroupOut:
    return GroupOut(
        name=group.name,
        owner=group.owner,
        description=group.description,
        members=list(group.members),
    )


def scope_words(scope: Scope) -> dict[str, list[str]] | str:
    """Scope as plain data for API output (``"community"`` when unrestricted)."""
    if scope.is_community:
        return "community"
    return {
        k: sorted(getattr(scope, k))
        for k in ("sectors", "countries", "groups", "organizations")
        if getattr(scope, k)
    }


def _item(served: reading.Served) -> dict[str, object]:
    obj = orjson.loads(served.body)
    return {
        "object": obj,
        "date_added": format_timestamp(served.row.date_added),
        "tlp": Tlp(served.row.tlp).label,
        "scope": scope_words(scope_of(obj)),
    }


@router.get("/me", summary="Who the key belongs to")
def me(caller: Caller) -> OrganisationOut:
    """The calling organisation."""
    return _org_out(caller)


class AssetsOut(BaseModel):
    """An organisation's declared assets (used to scrub its anonymous submissions)."""

    domains: list[str]
    cidrs: list[str]
    keywords: list[str]


@router.get("/me/assets", summary="The calling organisation's declared assets")
def my_assets(request: Request, caller: Caller) -> AssetsOut:
    """What the member-side client removes before an anonymous submission leaves."""
    assets = admin.assets_of(hub_of(request), caller)
    return AssetsOut(
        domains=[v for k, v in assets if k == "domain"],
        cidrs=[v for k, v in assets if k == "cidr"],
        keywords=[v for k, v in assets if k == "keyword"],
    )


@router.get("/organizations", summary="Organisations a member may address in a scope")
def organizations(request: Request, caller: Caller) -> list[OrganisationOut]:
    """Every organisation of the hub, with the identity id to name it in a scope."""
    return [_org_out(o) for o in admin.list_organisations(hub_of(request))]


@router.get("/objects", summary="Search objects the caller may read")
def search_objects(
    request: Request,
    caller: Caller,
    collection: str = DEFAULT_COLLECTION_ALIAS,
    type: Annotated[str | None, Query(description="comma-separated STIX types")] = None,
    q: Annotated[str | None, Query(max_length=200, description="text to look for")] = None,
    tlp: Annotated[str | None, Query(description="comma-separated TLP levels")] = None,
    added_after: str | None = None,
    limit: Annotated[str | None, Query(description="page size, at most 10000")] = None,
    next: str | None = None,
) -> Response:
    """Latest versions of objects the caller may read, newest additions last, paged."""
    levels = frozenset(int(Tlp.parse(t)) for t in tlp.split(",")) if tlp else frozenset()
    query = ObjectQuery(
        types=parse_types(type),
        added_after=parse_added_after(added_after),
        limit=parse_limit(limit),
        text=q or None,
        tlps=levels,
    )
    if next:
        query = ObjectQuery(
            types=query.types,
            added_after=query.added_after,
            limit=query.limit,
            text=query.text,
            tlps=query.tlps,
            cursor=decode_cursor(next, query.fingerprint()),
        )
    page = reading.list_objects(hub_of(request), caller, collection, query)
    body: dict[str, object] = {"items": [_item(s) for s in page.items], "more": page.more}
    if page.next_token:
        body["next"] = page.next_token
    return _json(body)


@router.get("/objects/{object_id}", summary="One object the caller may read")
def get_object(
    request: Request,
    caller: Caller,
    object_id: str,
    collection: str = DEFAULT_COLLECTION_ALIAS,
    all_versions: bool = False,
) -> Response:
    """The latest version (or every version) of an object; 404 when the caller may not read it."""
    versions = VersionFilter(last=False, all=True) if all_versions else VersionFilter()
    query = ObjectQuery(ids=frozenset({object_id}), versions=versions)
    page = reading.list_objects(hub_of(request), caller, collection, query)
    if not page.items:
        raise NotFound(f"no object {object_id}")
    return _json({"items": [_item(s) for s in page.items]})


@router.post(
    "/objects",
    status_code=202,
    summary="Submit objects with TLP and scope fields",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["objects"],
                        "properties": {
                            "objects": {"type": "array", "items": {"type": "object"}},
                            "tlp": {
                                "type": "string",
                                "enum": ["clear", "green", "amber", "amber+strict", "red"],
                            },
                            "scope": {
                                "type": "object",
                                "properties": {
                                    k: {"type": "array", "items": {"type": "string"}}
                                    for k in ("sectors", "countries", "groups", "organizations")
                                },
                            },
                            "collection": {"type": "string"},
                            "attribution": {
                                "type": "string",
                                "enum": ["attributed", "anonymous"],
                            },
                        },
                    }
                }
            }
        }
    },
)
async def submit_objects(request: Request, caller: Caller) -> Response:
    """Store STIX objects, writing ``tlp`` and ``scope`` into each (as TAXII clients do by
    hand). Answers with the same status resource as TAXII."""
    hub = hub_of(request)
    body = await read_body(request, hub.config.max_content_length)
    document = parse_json(body)
    if not isinstance(document, dict) or not isinstance(document.get("objects"), list):
        from shieldwall.domain.errors import InvalidInput

        raise InvalidInput('send {"objects": [...], "tlp": "...", "scope": {...}}')
    tlp = Tlp.parse(str(document["tlp"])) if document.get("tlp") is not None else None
    scope = None
    if document.get("scope") is not None:
        scope = parse_scope(document["scope"])
    collection = str(document.get("collection") or DEFAULT_COLLECTION_ALIAS)
    attribution = Attribution.parse(str(document.get("attribution") or "attributed"))
    record = await run_in_threadpool(
        submission.submit, hub, caller, collection, document["objects"], tlp, scope, attribution
    )
    return _json(status_resource(record), status=202)


@router.get("/groups", summary="Sharing groups the caller belongs to or owns")
def list_groups(request: Request, caller: Caller) -> list[GroupOut]:
    """Operators see every group."""
    return [_group_out(g) for g in admin.list_groups(hub_of(request), caller)]


@router.post("/groups", status_code=201, summary="Create a sharing group")
def create_group(request: Request, caller: Caller, group: GroupIn) -> GroupOut:
    """The creating member becomes the group's owner and a member of it."""
    record = admin.create_group(
        hub_of(request), group.name, group.members, caller, group.description
    )
    return _group_out(record)


@router.patch("/groups/{name}", summary="Add or remove members")
def change_group(request: Request, caller: Caller, name: str, change: GroupChange) -> GroupOut:
    """Only operators and the owner may change a group."""
    return _group_out(admin.change_group(hub_of(request), name, change.add, change.remove, caller))


@router.delete("/groups/{name}", status_code=204, summary="Delete a sharing group")
def delete_group(request: Request, caller: Caller, name: str) -> Response:
    """Only operators and the owner may delete a group."""
    admin.delete_group(hub_of(request), name, caller)
    return Response(status_code=204)
