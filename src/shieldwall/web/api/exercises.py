"""Exercises over REST (docs/exercises.md): participants list the injects released to them
and acknowledge them; operators list runs and read the after-action report page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse, Response

from shieldwall.domain.errors import Forbidden, NotFound
from shieldwall.domain.organisations import Organisation, Role
from shieldwall.domain.timestamps import format_timestamp
from shieldwall.services import exercises
from shieldwall.web.api.wire import json_response
from shieldwall.web.deps import current_org, hub_of

router = APIRouter(prefix="/api/v1/exercises", tags=["Exercises"])
Caller = Annotated[Organisation, Depends(current_org)]


def _operator(caller: Organisation) -> None:
    if caller.role is not Role.OPERATOR:
        raise Forbidden("only operators see exercise runs and reports")


@router.get("", summary="Exercise runs (operators)")
def list_runs(request: Request, caller: Caller) -> Response:
    """Every run."""
    _operator(caller)
    return json_response(
        {
            "items": [
                {
                    "id": r.run_id,
                    "scenario": r.name,
                    "speed": r.speed,
                    "started": format_timestamp(r.started_at),
                    "collection": f"exercise-{r.run_id}",
                }
                for r in exercises.runs(hub_of(request))
            ]
        }
    )


@router.get("/{run_id}/injects", summary="Injects released to the caller")
def injects(request: Request, caller: Caller, run_id: str) -> Response:
    """Released injects the caller may read, with its acknowledgement time."""
    states = exercises.injects_for(hub_of(request), caller, run_id)
    return json_response(
        {
            "collection": f"exercise-{run_id}",
            "items": [
                {
                    "id": s.inject.id,
                    "kind": s.inject.kind.value,
                    "title": s.inject.title,
                    "objects": list(s.object_ids),
                    "released": format_timestamp(s.released_at),
                    "acknowledged": None
                    if s.acknowledged_at is None
                    else format_timestamp(s.acknowledged_at),
                }
                for s in states
            ],
        }
    )


@router.post("/{run_id}/injects/{inject_id}/ack", summary="Acknowledge an inject")
def acknowledge(request: Request, caller: Caller, run_id: str, inject_id: str) -> Response:
    """Record the caller's acknowledgement (the first one counts)."""
    record, new = exercises.acknowledge(hub_of(request), caller, run_id, inject_id)
    return json_response(
        {"inject": inject_id, "acknowledged": format_timestamp(record.at), "new": new},
        201 if new else 200,
    )


@router.get("/{run_id}/report", summary="The after-action report (operators)")
def report(request: Request, caller: Caller, run_id: str) -> Response:
    """The self-contained HTML report (inline SVG charts, no scripts)."""
    _operator(caller)
    return HTMLResponse(exercises.report(hub_of(request), run_id).html)


@router.get("/{run_id}/charts/{name}.svg", summary="One chart of the report (operators)")
def chart(request: Request, caller: Caller, run_id: str, name: str) -> Response:
    """One chart as SVG."""
    _operator(caller)
    drawn = exercises.report(hub_of(request), run_id).charts
    if name not in drawn:
        raise NotFound(f"no chart {name}")
    return Response(drawn[name], media_type="image/svg+xml")
