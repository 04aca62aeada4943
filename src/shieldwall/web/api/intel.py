"""Sightings, indicator assessment (score, warning lists) and correlation over HTTP.

Every answer is computed from what the caller may read (``services.reading``): an indicator
the caller may not read answers 404 on every route here, exactly like an unknown one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from shieldwall.domain.attribution import Attribution
from shieldwall.domain.errors import InvalidInput, NotFound
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.queries import ObjectQuery, decode_cursor, parse_limit
from shieldwall.domain.scope import scope_of
from shieldwall.domain.sightings import NewSighting, SightingSummary
from shieldwall.domain.timestamps import format_timestamp, parse_timestamp
from shieldwall.domain.tlp import Tlp
from shieldwall.services import assessment, correlation, matching, reading, sightings
from shieldwall.services.admin import DEFAULT_COLLECTION_ALIAS
from shieldwall.services.context import Hub
from shieldwall.web.api.routes import scope_words
from shieldwall.web.api.scope_fields import ScopeFields
from shieldwall.web.api.wire import json_response
from shieldwall.web.deps import current_org, hub_of
from shieldwall.web.taxii.routes import status_resource

router = APIRouter(prefix="/api/v1", tags=["Sightings, scores and correlation"])
Caller = Annotated[Organisation, Depends(current_org)]
RELATED_SHOWN = 50


class SightingIn(BaseModel):
    """A sighting of one indicator (``indicator``) or of whatever indicators match a value
    (``value``); exactly one of the two."""

    model_config = ConfigDict(extra="forbid")
    indicator: str | None = Field(default=None, max_length=300)
    value: str | None = Field(default=None, min_length=1, max_length=8192)
    anonymous: bool = False
    false_positive: bool = False
    count: int = Field(default=1, ge=1, le=999_999_999)
    first_seen: str | None = Field(default=None, max_length=40)
    last_seen: str | None = Field(default=None, max_length=40)
    description: str | None = Field(default=None, max_length=10_000)
    tlp: Literal["clear", "green", "amber", "amber+strict", "red"] | None = None
    scope: ScopeFields | None = None


def _indicator_ids(hub: Hub, caller: Organisation, body: SightingIn) -> list[str]:
    if (body.indicator is None) == (body.value is None):
        raise InvalidInput('give either "indicator" (an id) or "value", not both')
    if body.indicator is not None:
        return [body.indicator]
    assert body.value is not None
    found = matching.indicators_for_value(hub, caller, body.value)
    if not found:
        raise NotFound(f"no live indicator you may read matches {body.value!r}")
    return found


def _record(hub: Hub, caller: Organisation, body: SightingIn) -> sightings.Recorded:
    first = parse_timestamp(body.first_seen) if body.first_seen else None
    last = parse_timestamp(body.last_seen) if body.last_seen else None
    if first is not None and last is not None and last < first:
        raise InvalidInput("last_seen is before first_seen")
    reports = [
        NewSighting(stix_id, body.count, first, last, body.false_positive, body.description)
        for stix_id in _indicator_ids(hub, caller, body)
    ]
    return sightings.record(
        hub,
        caller,
        reports,
        Attribution.ANONYMOUS if body.anonymous else Attribution.ATTRIBUTED,
        Tlp.parse(body.tlp) if body.tlp else None,
        body.scope.to_scope() if body.scope is not None else None,
    )


@router.post("/sightings", status_code=202, summary="Report a sighting (or a false positive)")
async def report_sighting(request: Request, caller: Caller, body: SightingIn) -> Response:
    """One STIX sighting per indicator, attributed or anonymous to members (counted, never
    named). Without ``tlp``/``scope`` a sighting takes its indicator's, so exactly the
    indicator's readers see it. Answers with the ingest status and the sightings made."""
    recorded = await run_in_threadpool(_record, hub_of(request), caller, body)
    return json_response(
        {
            "status": status_resource(recorded.status),
            "sightings": [{"id": s, "indicator": i} for s, i in recorded.sightings.items()],
        },
        status=202,
    )


@router.get("/objects/{object_id}/sightings", summary="Sighting figures of an indicator")
def sighting_figures(request: Request, caller: Caller, object_id: str) -> Response:
    """Counts, sectors, countries, first/last seen and false positives over the sightings
    the caller may read; anonymous sighters are counted, never named."""
    return json_response(sightings.summary(hub_of(request), caller, object_id).to_json())


def _related(hub: Hub, caller: Organisation, object_id: str) -> dict[str, object]:
    found = correlation.related(hub, caller, object_id, hub.config.correlation_cap)
    body = found.to_json()
    ids = frozenset({object_id} | {r.stix_id for r in found.related})
    reports = correlation.containers(hub, caller, ids)
    body["reports"] = [{"id": i, "name": n} for i, n in reports]
    return body


@router.get("/objects/{object_id}/related", summary="Objects sharing an observable")
def related(request: Request, caller: Caller, object_id: str) -> Response:
    """Objects the caller may read that share a value, an address inside a network or a
    domain under another with this object (a report through its members), and the reports
    holding any of them. Values shared by more than ``correlation_cap`` objects are listed
    as too common instead of linking."""
    return json_response(_related(hub_of(request), caller, object_id))


@router.get("/correlation/clusters", summary="Clusters of reports sharing observables")
def clusters(request: Request, caller: Caller) -> Response:
    """Groups of reports linked through shared observables, over the newest reports the
    caller may read (``cluster_max_reports``)."""
    hub = hub_of(request)
    found = correlation.clusters(
        hub, caller, hub.config.correlation_cap, hub.config.cluster_max_reports
    )
    return json_response({"clusters": [c.to_json() for c in found]})


def _assessed(
    hub: Hub,
    caller: Organisation,
    served: reading.Served,
    summaries: dict[str, SightingSummary] | None,
) -> dict[str, object]:
    """An indicator with its score, warning-list hits and sighting figures; ``summaries``
    are the caller's figures for every indicator (None: read this one's now)."""
    obj = orjson.loads(served.body)
    stix_id = served.row.stix_id
    summary = (
        summaries.get(stix_id) if summaries is not None else sightings.summary(hub, caller, stix_id)
    )
    scored = assessment.score_of(hub, obj, summary, hub.clock.now())
    hits = assessment.warnings_of(hub, obj)
    return {
        "object": obj,
        "date_added": format_timestamp(served.row.date_added),
        "tlp": Tlp(served.row.tlp).label,
        "scope": scope_words(scope_of(obj)),
        "score": scored.to_json(),
        "warnings": assessment.hits_json(hits),
        "confirmed": bool(hits) and stix_id in assessment.confirmed(hub, [stix_id]),
        "sightings": (summary or SightingSummary()).to_json(),
    }


def _view(hub: Hub, caller: Organisation, indicator_id: str) -> dict[str, object]:
    _, served = reading.object_anywhere(hub, caller, indicator_id)
    if served.row.stix_type != "indicator":
        raise NotFound(f"no indicator {indicator_id}")
    body = _assessed(hub, caller, served, None)
    found = correlation.related(hub, caller, indicator_id, hub.config.correlation_cap)
    body["related"] = [r.to_json() for r in found.related[:RELATED_SHOWN]]
    body["related_total"] = len(found.related)
    body["too_common"] = found.to_json()["too_common"]
    ids = frozenset({indicator_id} | {r.stix_id for r in found.related})
    body["reports"] = [{"id": i, "name": n} for i, n in correlation.containers(hub, caller, ids)]
    return body


@router.get("/indicators/{indicator_id}", summary="An indicator, assessed")
def indicator_view(request: Request, caller: Caller, indicator_id: str) -> Response:
    """What an analyst opening an indicator needs: the object, its TLP and scope, its score
    (live or expired, and why), sighting figures, warning-list hits, related objects and
    the reports holding them."""
    return json_response(_view(hub_of(request), caller, indicator_id))


def _expired(item: dict[str, object]) -> bool:
    scored = item["score"]
    return isinstance(scored, dict) and scored.get("expired") is True


@router.get("/indicators", summary="Indicators with their scores")
def list_indicators(
    request: Request,
    caller: Caller,
    collection: str = DEFAULT_COLLECTION_ALIAS,
    include_expired: bool = False,
    limit: Annotated[str | None, Query(description="page size, at most 10000")] = None,
    next: str | None = None,
) -> Response:
    """Latest versions of the indicators the caller may read, each with score, warnings and
    sighting figures. Expired indicators (score below the threshold, ``valid_until`` past,
    revoked) are left out unless ``include_expired``; a page may then hold fewer than
    ``limit`` items while ``more`` is still true."""
    hub = hub_of(request)
    query = ObjectQuery(types=frozenset({"indicator"}), limit=parse_limit(limit))
    if next:
        query = replace(query, cursor=decode_cursor(next, query.fingerprint()))
    page = reading.list_objects(hub, caller, collection, query)
    summaries = sightings.summaries(hub, caller)
    items = [_assessed(hub, caller, served, summaries) for served in page.items]
    if not include_expired:
        items = [i for i in items if not _expired(i)]
    body: dict[str, object] = {"items": items, "more": page.more}
    if page.next_token:
        body["next"] = page.next_token
    return json_response(body)


@router.post("/indicators/{indicator_id}/confirm", summary="Confirm a warning-listed indicator")
def confirm(request: Request, caller: Caller, indicator_id: str) -> Response:
    """Put an indicator on a warning list back into matching (its submitter or an operator)."""
    assessment.confirm(hub_of(request), caller, indicator_id)
    return json_response({"id": indicator_id, "confirmed": True})
