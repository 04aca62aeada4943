"""Matching and private lookup over HTTP: the member's filter, blind evaluation, the offline
filter export, and server-side bulk matching.

The evaluation endpoint receives blinded group elements only; nothing of them is stored or
logged. Bulk matching sees plain values (the member chose to show them); they are not kept.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from shieldwall.domain.lookup import MAX_EVALUATE_BATCH, MAX_ITEM_BYTES
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.timestamps import format_timestamp
from shieldwall.domain.tokens import SUITE
from shieldwall.services import lookup, matching
from shieldwall.web.api.wire import b64, json_response, unb64
from shieldwall.web.deps import current_org, hub_of

router = APIRouter(prefix="/api/v1", tags=["Matching and private lookup"])
Caller = Annotated[Organisation, Depends(current_org)]
FILTER_MEDIA_TYPE = "application/vnd.shieldwall.lookup-filter"


class EvaluateRequest(BaseModel):
    """Blinded items (base64 ristretto255 elements) to evaluate with the lookup key."""

    model_config = ConfigDict(extra="forbid")
    blinded: list[str] = Field(min_length=1, max_length=MAX_EVALUATE_BATCH)


class ObservableIn(BaseModel):
    """A value, and optionally its object path (``ipv4-addr:value``); guessed when absent."""

    model_config = ConfigDict(extra="forbid")
    value: str = Field(min_length=1, max_length=MAX_ITEM_BYTES * 8)
    kind: str | None = Field(default=None, max_length=200)


class MatchRequest(BaseModel):
    """Observables to match against the indicators the caller may read."""

    model_config = ConfigDict(extra="forbid")
    observables: list[ObservableIn] = Field(min_length=1, max_length=matching.MAX_OBSERVABLES)


def _filter_response(data: bytes, filename: str | None = None) -> Response:
    headers = {"Cache-Control": "no-store"}
    if filename is not None:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(data, media_type=FILTER_MEDIA_TYPE, headers=headers)


@router.get("/lookup/filter", summary="Private lookup: the caller's Bloom filter of OPRF outputs")
def lookup_filter(request: Request, caller: Caller) -> Response:
    """A Bloom filter of ``OPRF_k(item)`` for every indicator value the caller may read
    (format: docs/matching.md). Test items by blind evaluation (``/lookup/evaluate``)."""
    return _filter_response(lookup.member_filter(hub_of(request), caller).to_bytes())


@router.get("/lookup/key", summary="Private lookup: the OPRF public key")
def lookup_key(request: Request, caller: Caller) -> Response:
    """The public key blind evaluations are proven against."""
    key = lookup.lookup_key(hub_of(request))
    return json_response(
        {"suite": SUITE, "generation": key.generation, "public_key": key.public_key}
    )


@router.post("/lookup/evaluate", summary="Private lookup: evaluate blinded items (rate limited)")
def lookup_evaluate(request: Request, caller: Caller, body: EvaluateRequest) -> Response:
    """Evaluate up to 1,000 blinded items; one DLEQ proof for the batch. Counts against the
    caller's daily quota (429 when exhausted). The hub learns how many items, never which."""
    blinded = [unb64(item, "blinded item") for item in body.blinded]
    evaluation, public_key = lookup.evaluate(hub_of(request), caller, blinded)
    return json_response({"evaluation": b64(evaluation), "public_key": public_key})


@router.get("/lookup/export", summary="Offline filter for air-gapped matching (audited)")
def lookup_export(request: Request, caller: Caller) -> Response:
    """A filter anyone holding the file can query offline (HMAC key inside): treat it with
    the TLP in its header. The export is recorded in the audit trail."""
    exported = lookup.offline_export(hub_of(request), caller)
    return _filter_response(exported.to_bytes(), "shieldwall-filter.swf")


@router.post("/match", summary="Match observables against the indicators the caller may read")
def bulk_match(request: Request, caller: Caller, body: MatchRequest) -> Response:
    """Server-side matching (the hub sees the values; use private lookup to hide them)."""
    observables = [matching.Observable(o.value, o.kind) for o in body.observables]
    hits = matching.bulk_match(hub_of(request), caller, observables)
    return json_response(
        {
            "observables": len(observables),
            "hits": [
                {
                    "position": h.position,
                    "value": h.value,
                    "kind": h.kind,
                    "indicator_id": h.indicator_id,
                    "tlp": h.tlp,
                    "confidence": h.confidence,
                    "valid_until": None
                    if h.valid_until is None
                    else format_timestamp(h.valid_until),
                    "collection_id": h.collection_id,
                }
                for h in hits
            ],
        }
    )


@router.get("/match/excluded", summary="Indicators matching leaves out (for local caches)")
def excluded(request: Request, caller: Caller) -> Response:
    """Ids of the indicators the caller may read that hub-side matching leaves out: revoked,
    expired (``valid_until`` or score), or on a warning list and not confirmed. Members
    matching from a local TAXII copy drop these (``shieldwall match`` does)."""
    ids = matching.excluded(hub_of(request), caller)
    return json_response({"excluded": ids, "count": len(ids)})
