"""Report intake over REST: extract, keep drafts, review, publish."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from shieldwall.domain.attribution import Attribution
from shieldwall.domain.intake import Analysis, analysis_body
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.tlp import Tlp
from shieldwall.services import reports
from shieldwall.services.ports import DraftRecord
from shieldwall.web.api.scope_fields import ScopeFields
from shieldwall.web.deps import current_org, hub_of
from shieldwall.web.taxii.routes import status_resource

router = APIRouter(prefix="/api/v1/reports", tags=["Report intake"])
Caller = Annotated[Organisation, Depends(current_org)]


class ReportIn(BaseModel):
    """A free-text report."""

    text: str = Field(min_length=1, max_length=reports.MAX_SOURCE_CHARS)
    format: str = Field(default="text", description="text, markdown, asciidoc or html")
    name: str = Field(default="Incident report", max_length=300)
    redact: bool = True
    include_benign: bool = False


class ReviewIn(BaseModel):
    """The analyst's choices: redact victim details, strike out values, keep benign ones."""

    redact: bool = True
    removed: list[str] = Field(default_factory=list, max_length=10_000)
    include_benign: bool = False


class PublishIn(BaseModel):
    """How to publish a reviewed draft."""

    tlp: str = "amber"
    scope: ScopeFields = Field(default_factory=ScopeFields)
    attribution: str = "attributed"


def _json(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def _draft_body(record: DraftRecord, analysis: Analysis | None = None) -> dict[str, object]:
    body: dict[str, object] = {
        "id": record.id,
        "name": record.name,
        "format": record.format,
        "status": record.status,
        "review": orjson.loads(record.review),
    }
    if record.published_status_id:
        body["published_status_id"] = record.published_status_id
    if analysis is not None:
        body["analysis"] = analysis_body(analysis)
    return body


@router.post("/extract", summary="Extract STIX from a report (nothing is stored)")
async def extract(request: Request, caller: Caller, report: ReportIn) -> Response:
    """Indicators, ATT&CK techniques, names and victim flags, and the STIX bundle."""
    review = reports.Review(report.redact, frozenset(), report.include_benign)
    analysis = await run_in_threadpool(
        reports.extract_report,
        hub_of(request),
        caller,
        report.text,
        report.format,
        report.name,
        review,
    )
    return _json(analysis_body(analysis))


@router.post("/drafts", status_code=201, summary="Keep a report as a private draft")
async def create_draft(request: Request, caller: Caller, report: ReportIn) -> Response:
    """A draft only the caller's organisation sees until it is published."""
    draft = await run_in_threadpool(
        reports.create_draft, hub_of(request), caller, report.text, report.format, report.name
    )
    return _json(_draft_body(draft.record, draft.analysis), 201)


@router.get("/drafts", summary="The caller's drafts")
def list_drafts(request: Request, caller: Caller) -> Response:
    """Most recently changed first."""
    return _json([_draft_body(r) for r in reports.list_drafts(hub_of(request), caller)])


@router.get("/drafts/{draft_id}", summary="A draft with its current analysis")
def get_draft(request: Request, caller: Caller, draft_id: str) -> Response:
    """404 for drafts of other organisations."""
    draft = reports.get_draft(hub_of(request), caller, draft_id)
    return _json(_draft_body(draft.record, draft.analysis))


@router.put("/drafts/{draft_id}/review", summary="Record review choices")
def review_draft(request: Request, caller: Caller, draft_id: str, review: ReviewIn) -> Response:
    """Redact victim details or not, strike out values, keep benign values."""
    draft = reports.review_draft(
        hub_of(request),
        caller,
        draft_id,
        reports.Review(review.redact, frozenset(review.removed), review.include_benign),
    )
    return _json(_draft_body(draft.record, draft.analysis))


@router.post("/drafts/{draft_id}/publish", status_code=202, summary="Publish a reviewed draft")
def publish_draft(request: Request, caller: Caller, draft_id: str, choice: PublishIn) -> Response:
    """Store the reviewed bundle with the chosen TLP, scope and attribution."""
    scope = choice.scope.to_scope()
    status = reports.publish_draft(
        hub_of(request),
        caller,
        draft_id,
        Tlp.parse(choice.tlp),
        scope,
        Attribution.parse(choice.attribution),
    )
    return _json(status_resource(status), 202)


@router.delete("/drafts/{draft_id}", status_code=204, summary="Delete a draft")
def delete_draft(request: Request, caller: Caller, draft_id: str) -> Response:
    """Only the caller's own drafts."""
    reports.delete_draft(hub_of(request), caller, draft_id)
    return Response(status_code=204)
