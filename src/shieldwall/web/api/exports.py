"""Exports for defences over HTTP: stable URLs a firewall, IDS or MISP instance polls with a
member's key (``Authorization: Bearer KEY``, or HTTP Basic with the key as password).

Every export holds exactly what the caller may read (``services.exports``), live
indicators only unless ``include_expired=true``; ``min_score`` and ``type`` (item kinds,
comma-separated) filter further. Responses are never cached (``Cache-Control: no-store``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.exports import LIST_KINDS, json_bytes
from shieldwall.domain.organisations import Organisation
from shieldwall.services import exports
from shieldwall.services.exports import Filters
from shieldwall.web.deps import current_org, hub_of

router = APIRouter(prefix="/api/v1/exports", tags=["Exports"])
Caller = Annotated[Organisation, Depends(current_org)]
TEXT = "text/plain; charset=utf-8"


def filters(
    include_expired: Annotated[
        bool, Query(description="Include expired indicators (never revoked ones)")
    ] = False,
    min_score: Annotated[float | None, Query(ge=0, le=100, description="Minimum score")] = None,
    type: Annotated[  # the URL parameter's name
        str | None, Query(description=f"Item kinds, comma-separated: {', '.join(LIST_KINDS)}")
    ] = None,
) -> Filters:
    """The filters every export takes."""
    kinds = frozenset(k.strip() for k in (type or "").split(",") if k.strip())
    unknown = sorted(kinds - set(LIST_KINDS))
    if unknown:
        raise InvalidInput(f"unknown type {', '.join(unknown)}: use {', '.join(LIST_KINDS)}")
    return Filters(include_expired, min_score, kinds)


Chosen = Annotated[Filters, Depends(filters)]


def _respond(body: str | bytes, media_type: str, filename: str | None = None) -> Response:
    headers = {"Cache-Control": "no-store"}
    if filename is not None:
        headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return Response(body, media_type=media_type, headers=headers)


@router.get("/indicators.csv", summary="Indicators as CSV, one row per value")
def indicators_csv(request: Request, caller: Caller, chosen: Chosen) -> Response:
    """Columns: id, kind, value, pattern, tlp, score, expires_at, confidence, created, name."""
    text = exports.csv_export(hub_of(request), caller, chosen)
    return _respond(text, "text/csv; charset=utf-8", "indicators.csv")


@router.get("/lists/{kind}.txt", summary="A plain list of one kind (firewall external lists)")
def plain_list(request: Request, caller: Caller, kind: str, chosen: Chosen) -> Response:
    """One value per line (IP networks in CIDR form, URLs without scheme), for Palo Alto
    and Fortinet external dynamic lists and the like."""
    return _respond(exports.list_export(hub_of(request), caller, kind, chosen), TEXT)


@router.get("/suricata.rules", summary="Suricata rules for IP, domain and URL values")
def suricata_rules(request: Request, caller: Caller, chosen: Chosen) -> Response:
    """IP rules both ways, DNS query rules for domains, HTTP host/URI rules for URLs."""
    return _respond(exports.rules_export(hub_of(request), caller, "suricata", chosen), TEXT)


@router.get("/snort.rules", summary="Snort 2.9 rules for IP, domain and URL values")
def snort_rules(request: Request, caller: Caller, chosen: Chosen) -> Response:
    """As the Suricata rules, in Snort 2.9 syntax (DNS names in wire form)."""
    return _respond(exports.rules_export(hub_of(request), caller, "snort", chosen), TEXT)


@router.get("/bundle.json", summary="A STIX 2.1 bundle of the indicators")
def bundle(request: Request, caller: Caller, chosen: Chosen) -> Response:
    """The indicators as served over TAXII (TLP markings included)."""
    document = exports.bundle_export(hub_of(request), caller, chosen)
    return _respond(json_bytes(document), "application/stix+json;version=2.1")


@router.get("/misp/manifest.json", summary="MISP feed: the manifest")
def misp_manifest(request: Request, caller: Caller, chosen: Chosen) -> Response:
    """Event uuid → header and tags; point a MISP feed at ``…/exports/misp/``."""
    feed = exports.misp_feed(hub_of(request), caller, chosen)
    return _respond(json_bytes(feed.manifest()), "application/json")


@router.get("/misp/hashes.csv", summary="MISP feed: value hashes")
def misp_hashes(request: Request, caller: Caller, chosen: Chosen) -> Response:
    """``md5(value),event uuid`` per attribute."""
    feed = exports.misp_feed(hub_of(request), caller, chosen)
    return _respond(feed.hashes_csv(), "text/csv; charset=utf-8")


@router.get("/misp/{event_uuid}.json", summary="MISP feed: one event")
def misp_event(request: Request, caller: Caller, event_uuid: str, chosen: Chosen) -> Response:
    """``{"Event": …}``; 404 when the caller's feed has no such event."""
    event = exports.misp_event(hub_of(request), caller, event_uuid, chosen)
    return _respond(json_bytes(event), "application/json")
