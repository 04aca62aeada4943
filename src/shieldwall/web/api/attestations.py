"""Security attestations over REST (``/api/v1/attestations/…``; docs/attestations.md).

Every read calls ``services.attestations``, which decides with the one access rule
(``domain.attestations.may_view``); what a caller may not see is 404 like an unknown id.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from shieldwall.domain.attestations import MAX_FILENAME, micros_date
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.timestamps import format_timestamp
from shieldwall.services import attestations
from shieldwall.services.attestations import AttestationView, GrantView, RequestView, TemplateView
from shieldwall.services.ports import EvidenceRecord
from shieldwall.web.api.wire import json_response
from shieldwall.web.deps import current_org, hub_of
from shieldwall.web.media import read_body

router = APIRouter(prefix="/api/v1/attestations", tags=["Security attestations"])
Caller = Annotated[Organisation, Depends(current_org)]


class TemplateIn(BaseModel):
    """A new template version (operators): name, title and typed questions."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=300)
    questions: list[dict[str, Any]] = Field(min_length=1, max_length=200)


class DraftIn(BaseModel):
    """A draft's fields; on creation ``template`` names the template (latest version)."""

    model_config = ConfigDict(extra="forbid")

    template: str | None = Field(default=None, max_length=100)
    answers: dict[str, Any] | None = None
    valid_from: str | None = Field(default=None, description="YYYY-MM-DD")
    valid_until: str | None = Field(default=None, description="YYYY-MM-DD (exclusive)")
    signer_name: str | None = Field(default=None, max_length=200)
    signer_title: str | None = Field(default=None, max_length=200)


class RequestIn(BaseModel):
    """Ask a firm (by name) for its attestations of a template."""

    model_config = ConfigDict(extra="forbid")

    firm: str = Field(min_length=1, max_length=200)
    template: str = Field(default="bank-law-firm-baseline", min_length=1, max_length=100)
    message: str = Field(default="", max_length=2000)


class RevokeIn(BaseModel):
    """Revoke the caller's grants to an organisation (one template, or all)."""

    model_config = ConfigDict(extra="forbid")

    grantee: str = Field(min_length=1, max_length=200)
    template: str | None = Field(default=None, max_length=100)


def _template(view: TemplateView) -> dict[str, object]:
    record = view.record
    return {
        "name": record.name,
        "version": record.version,
        "title": record.title,
        "created": format_timestamp(record.created_at),
        "questions": [q.to_json() for q in view.questions],
    }


def _evidence(record: EvidenceRecord) -> dict[str, object]:
    return {
        "id": record.id,
        "filename": record.filename,
        "media_type": record.media_type,
        "size": record.size,
        "sha256": record.sha256,
        "uploaded": format_timestamp(record.uploaded_at),
    }


def _attestation(view: AttestationView, full: bool = True) -> dict[str, object]:
    record = view.record
    body: dict[str, object] = {
        "id": record.id,
        "firm": view.firm,
        "template": {"name": record.template_name, "version": record.template_version},
        "version": record.version,
        "current_version": view.current_version,
        "status": record.status,
        "yours": view.own,
        "valid_from": micros_date(record.valid_from) if record.valid_from else None,
        "valid_until": micros_date(record.valid_until) if record.valid_until else None,
        "published": format_timestamp(record.published_at) if record.published_at else None,
        "signer": {"name": record.signer_name, "title": record.signer_title},
    }
    if record.valid_until:
        body.update(view.expiry.to_json())
    if view.last_viewed_version is not None or view.changed_since is not None:
        body["last_viewed_version"] = view.last_viewed_version
        body["changed_since"] = view.changed_since
    if full:
        body["answers"] = view.answers
        body["questions"] = [q.to_json() for q in view.template.questions]
        body["evidence"] = [_evidence(e) for e in view.evidence]
    return body


def _request(view: RequestView) -> dict[str, object]:
    record = view.record
    return {
        "id": record.id,
        "requester": view.requester,
        "firm": view.firm,
        "template": record.template_name,
        "message": record.message,
        "status": record.status,
        "created": format_timestamp(record.created_at),
        "responded": format_timestamp(record.responded_at) if record.responded_at else None,
    }


def _grant(view: GrantView) -> dict[str, object]:
    record = view.record
    return {
        "firm": view.firm,
        "grantee": view.grantee,
        "template": record.template_name,
        "active": record.active,
        "granted": format_timestamp(record.granted_at),
        "revoked": format_timestamp(record.revoked_at) if record.revoked_at else None,
    }


# --- templates ----------------------------------------------------------------------------


@router.get("/templates", summary="Questionnaire templates")
def list_templates(request: Request, caller: Caller) -> Response:
    """Every template version with its questions."""
    return json_response(
        {"items": [_template(t) for t in attestations.list_templates(hub_of(request))]}
    )


@router.get("/templates/{name}", summary="One template")
def show_template(
    request: Request, caller: Caller, name: str, version: Annotated[int | None, Query(ge=1)] = None
) -> Response:
    """The latest version, or ``version``."""
    return json_response(_template(attestations.get_template(hub_of(request), name, version)))


@router.post("/templates", status_code=201, summary="Add a template version (operators)")
def add_template(request: Request, caller: Caller, body: TemplateIn) -> Response:
    """Stored as the next version of ``name``; stored versions never change."""
    view = attestations.add_template(hub_of(request), caller, body.name, body.title, body.questions)
    return json_response(_template(view), 201)


# --- requests and grants ------------------------------------------------------------------


@router.post("/requests", status_code=201, summary="Request a firm's attestation")
def make_request(request: Request, caller: Caller, body: RequestIn) -> Response:
    """A pending request of the same firm and template is returned, not repeated."""
    hub = hub_of(request)
    record = attestations.request_attestation(hub, caller, body.firm, body.template, body.message)
    views = [v for v in attestations.list_requests(hub, caller) if v.record.id == record.id]
    return json_response(_request(views[0]), 201)


@router.get("/requests", summary="Requests made or received")
def list_requests(request: Request, caller: Caller) -> Response:
    """Newest first."""
    views = attestations.list_requests(hub_of(request), caller)
    return json_response({"items": [_request(v) for v in views]})


@router.post("/requests/{request_id}/grant", summary="Grant a request (the firm)")
def grant(request: Request, caller: Caller, request_id: str) -> Response:
    """The requester sees the firm's published attestation of the template until revoked."""
    return json_response(_request(attestations.respond(hub_of(request), caller, request_id, True)))


@router.post("/requests/{request_id}/decline", summary="Decline a request (the firm)")
def decline(request: Request, caller: Caller, request_id: str) -> Response:
    """Grants nothing."""
    return json_response(_request(attestations.respond(hub_of(request), caller, request_id, False)))


@router.get("/grants", summary="Grants given or held")
def list_grants(request: Request, caller: Caller) -> Response:
    """Active and revoked."""
    views = attestations.list_grants(hub_of(request), caller)
    return json_response({"items": [_grant(v) for v in views]})


@router.post("/grants/revoke", summary="Revoke grants (the firm)")
def revoke(request: Request, caller: Caller, body: RevokeIn) -> Response:
    """Takes effect at the grantee's next request."""
    revoked = attestations.revoke(hub_of(request), caller, body.grantee, body.template)
    return json_response({"revoked": [g.template_name for g in revoked], "grantee": body.grantee})


# --- evidence -----------------------------------------------------------------------------


def evidence_response(record: EvidenceRecord, content: bytes) -> Response:
    """An evidence file as an attachment of its sniffed type, never rendered inline (the
    API's and the web interface's downloads)."""
    return Response(
        content,
        200,
        media_type=record.media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(record.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "X-Shieldwall-SHA256": record.sha256,
        },
    )


@router.get("/evidence/{evidence_id}", summary="Download an evidence file")
def download(request: Request, caller: Caller, evidence_id: str) -> Response:
    """Served as an attachment of its sniffed type, never rendered inline."""
    record, content = attestations.download_evidence(hub_of(request), caller, evidence_id)
    return evidence_response(record, content)


# --- attestations -------------------------------------------------------------------------


@router.get("", summary="Attestations the caller may see")
def list_attestations(request: Request, caller: Caller) -> Response:
    """Its own (drafts too) and the current version of each granted firm's."""
    views = attestations.list_attestations(hub_of(request), caller)
    return json_response({"items": [_attestation(v, full=False) for v in views]})


@router.post("", status_code=201, summary="Start a draft")
def create_draft(request: Request, caller: Caller, body: DraftIn) -> Response:
    """Against the latest version of ``template``; answers are checked by type."""
    hub = hub_of(request)
    record = attestations.save_draft(hub, caller, **body.model_dump())
    return json_response(_attestation(attestations.show(hub, caller, record.id)), 201)


@router.get("/{attestation_id}", summary="One attestation version")
def show(request: Request, caller: Caller, attestation_id: str) -> Response:
    """Answers, evidence, expiry; for a grantee, what changed since it last looked."""
    return json_response(_attestation(attestations.show(hub_of(request), caller, attestation_id)))


@router.patch("/{attestation_id}", summary="Change a draft")
def update_draft(request: Request, caller: Caller, attestation_id: str, body: DraftIn) -> Response:
    """Answers given replace the stored ones by question."""
    hub = hub_of(request)
    fields = body.model_dump()
    fields.pop("template")
    attestations.save_draft(hub, caller, attestation_id=attestation_id, **fields)
    return json_response(_attestation(attestations.show(hub, caller, attestation_id)))


@router.post("/{attestation_id}/evidence", status_code=201, summary="Attach an evidence file")
async def upload(
    request: Request,
    caller: Caller,
    attestation_id: str,
    filename: Annotated[str, Query(min_length=1, max_length=MAX_FILENAME)],
) -> Response:
    """The raw file as the body (any Content-Type: the hub judges the bytes)."""
    hub = hub_of(request)
    content = await read_body(request, hub.config.attestations.evidence_max_bytes)
    record = await run_in_threadpool(
        attestations.add_evidence, hub, caller, attestation_id, filename, content
    )
    return json_response(_evidence(record), 201)


@router.post("/{attestation_id}/publish", summary="Publish a draft")
def publish(request: Request, caller: Caller, attestation_id: str) -> Response:
    """It becomes the current version; the one before is superseded."""
    hub = hub_of(request)
    attestations.publish(hub, caller, attestation_id)
    return json_response(_attestation(attestations.show(hub, caller, attestation_id)))


@router.get("/{attestation_id}/history", summary="Published versions, newest first")
def history(request: Request, caller: Caller, attestation_id: str) -> Response:
    """Each with the questions whose answers changed from the version before."""
    views = attestations.history(hub_of(request), caller, attestation_id)
    return json_response({"items": [_attestation(v) for v in views]})
