"""Partner hubs over REST, for operators (docs/federation.md): list with status, add,
remove, one pass now, and the partner an object version came from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from shieldwall.domain.organisations import Organisation
from shieldwall.domain.timestamps import format_timestamp
from shieldwall.services import federation
from shieldwall.services.federation import LegResult, PartnerView
from shieldwall.services.ports import PartnerSyncRecord
from shieldwall.web.api.wire import json_response
from shieldwall.web.deps import current_org, hub_of

router = APIRouter(prefix="/api/v1/partners", tags=["Federation"])
Caller = Annotated[Organisation, Depends(current_org)]


class PartnerIn(BaseModel):
    """A partner hub: its TAXII API root, the collection there and here, which way objects
    go, and how to authenticate to it (``key``, or ``user`` and ``password``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    api_root: str = Field(min_length=1, max_length=2000)
    collection: str = Field(min_length=1, max_length=300)
    local_collection: str = Field(min_length=1, max_length=300)
    direction: str = Field(min_length=1, max_length=8)
    key: str | None = Field(default=None, max_length=1000)
    user: str | None = Field(default=None, max_length=200)
    password: str | None = Field(default=None, max_length=1000)
    types: list[str] = Field(default_factory=list, max_length=100)
    account: str | None = Field(default=None, max_length=200)


def _time(value: int | None) -> str | None:
    return None if value is None else format_timestamp(value)


def _leg(state: PartnerSyncRecord) -> dict[str, object]:
    return {
        "direction": state.direction,
        "watermark": state.remote_after if state.direction == "pull" else _time(state.local_date),
        "transferred": state.transferred,
        "refused": state.refused,
        "last_attempt": _time(state.last_attempt_at),
        "last_success": _time(state.last_success_at),
        "last_error": state.last_error,
        "consecutive_failures": state.failures,
        "next_attempt": _time(state.next_attempt_at),
    }


def partner_json(view: PartnerView) -> dict[str, object]:
    """A partner as REST shows it (never its credential)."""
    return {
        "name": view.name,
        "api_root": view.api_root,
        "collection": view.remote_collection,
        "local_collection": view.local_collection,
        "direction": view.direction,
        "auth": view.auth,
        "types": list(view.types),
        "account": view.account,
        "enabled": view.enabled,
        "created": format_timestamp(view.created_at),
        "sync": [_leg(s) for s in view.legs],
    }


def _result(result: LegResult) -> dict[str, object]:
    return {
        "partner": result.partner,
        "direction": result.direction,
        "ok": result.ok,
        "waiting": result.waiting,
        "transferred": result.transferred,
        "refused": result.refused,
        "withheld": result.withheld,
        "error": result.error,
    }


@router.get("", summary="Partner hubs and their sync status (operators)")
def list_partners(request: Request, caller: Caller) -> Response:
    """Every partner: last success, counts pulled/pushed/refused, last error, next attempt."""
    views = federation.partners(hub_of(request), caller)
    return json_response({"items": [partner_json(v) for v in views]})


@router.post("", status_code=201, summary="Add a partner hub (operators)")
def add_partner(request: Request, caller: Caller, body: PartnerIn) -> Response:
    """The credential is stored to call the partner and never shown again."""
    view = federation.add_partner(
        hub_of(request),
        caller,
        body.name,
        body.api_root,
        body.collection,
        body.local_collection,
        body.direction,
        key=body.key,
        user=body.user,
        password=body.password,
        types=body.types,
        account=body.account,
    )
    return json_response(partner_json(view), 201)


@router.get("/{name}", summary="One partner hub's status (operators)")
def get_partner(request: Request, caller: Caller, name: str) -> Response:
    return json_response(partner_json(federation.partner(hub_of(request), caller, name)))


@router.delete("/{name}", status_code=204, summary="Remove a partner hub (operators)")
def remove_partner(request: Request, caller: Caller, name: str) -> Response:
    federation.remove_partner(hub_of(request), caller, name)
    return Response(status_code=204)


@router.post("/{name}/enable", summary="Resume passes with a partner (operators)")
def enable_partner(request: Request, caller: Caller, name: str) -> Response:
    federation.enable_partner(hub_of(request), caller, name, True)
    return json_response(partner_json(federation.partner(hub_of(request), caller, name)))


@router.post("/{name}/disable", summary="Stop passes with a partner, keeping it (operators)")
def disable_partner(request: Request, caller: Caller, name: str) -> Response:
    federation.enable_partner(hub_of(request), caller, name, False)
    return json_response(partner_json(federation.partner(hub_of(request), caller, name)))


@router.post("/{name}/sync", summary="Run one pass with a partner now (operators)")
def sync_partner(request: Request, caller: Caller, name: str) -> Response:
    """Runs the pass even while the partner is backing off; failures are in the answer."""
    hub = hub_of(request)
    federation.partner(hub, caller, name)  # operators only, 404 for an unknown name
    results = federation.sync(hub, name, force=True)
    return json_response({"items": [_result(r) for r in results]})


@router.get(
    "/origin/{collection_id}/{object_id}",
    summary="Which partner each version of an object came from (operators)",
)
def object_origin(request: Request, caller: Caller, collection_id: str, object_id: str) -> Response:
    found = federation.origin(hub_of(request), caller, collection_id, object_id)
    return json_response(
        {
            "id": object_id,
            "versions": [{"version": v, "partner": p} for v, p in sorted(found.items())],
        }
    )
