"""TAXII 2.1 endpoints. Each handler parses, calls one service, renders.

Section numbers refer to TAXII Version 2.1 (OASIS Standard, 10 June 2021).
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from shieldwall.domain.errors import NotFound
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.queries import (
    ObjectQuery,
    VersionFilter,
    decode_cursor,
    parse_added_after,
    parse_ids,
    parse_limit,
    parse_spec_versions,
    parse_types,
    parse_versions,
)
from shieldwall.domain.timestamps import format_timestamp
from shieldwall.services import ingest, reading
from shieldwall.services.context import Hub
from shieldwall.services.ports import CollectionRecord, StatusRecord
from shieldwall.web.deps import current_org, hub_of
from shieldwall.web.media import (
    STIX_MEDIA_TYPE,
    TAXII_MEDIA_TYPE,
    parse_json,
    paused_gc,
    read_body,
    require_stix_content,
    require_taxii_accept,
)

API_ROOT = "hub"
router = APIRouter(
    prefix="/taxii2", tags=["TAXII 2.1"], dependencies=[Depends(require_taxii_accept)]
)
Reader = Annotated[Organisation, Depends(current_org)]


def _taxii(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type=TAXII_MEDIA_TYPE)


def _check_root(api_root: str) -> None:
    if api_root != API_ROOT:
        raise NotFound(f"no API root {api_root!r} on this server")


def _object_query(
    request: Request, *, object_id: str | None = None, all_versions: bool = False
) -> ObjectQuery:
    """Parse TAXII filter parameters (§3.4.2) into an ``ObjectQuery``.

    On the endpoints of one object (``object_id``) ``match[id]`` and ``match[type]`` do not
    apply and the query is for that id; the versions endpoint (``all_versions``) lists
    every version. Both are part of the query here, before a ``next`` token is checked,
    because the token was issued for the query the service ran (``reading.get_object``
    and ``reading.list_versions`` select the same id and versions).
    """
    params = request.query_params
    versions = (
        VersionFilter(last=False, all=True)
        if all_versions
        else parse_versions(params.get("match[version]"))
    )
    query = ObjectQuery(
        ids=parse_ids(params.get("match[id]")) if object_id is None else frozenset({object_id}),
        types=parse_types(params.get("match[type]")) if object_id is None else frozenset(),
        versions=versions,
        spec_versions=parse_spec_versions(params.get("match[spec_version]")),
        added_after=parse_added_after(params.get("added_after")),
        limit=parse_limit(params.get("limit")),
    )
    token = params.get("next")
    if token:
        query = ObjectQuery(
            ids=query.ids,
            types=query.types,
            versions=query.versions,
            spec_versions=query.spec_versions,
            added_after=query.added_after,
            limit=query.limit,
            cursor=decode_cursor(token, query.fingerprint()),
        )
    return query


def _date_headers(page: reading.Page) -> dict[str, str]:
    first, last = page.date_added_first, page.date_added_last
    if first is None or last is None:
        return {}
    return {
        "X-TAXII-Date-Added-First": format_timestamp(first),
        "X-TAXII-Date-Added-Last": format_timestamp(last),
    }


def _envelope(page: reading.Page) -> Response:
    """Splice stored JSON into an envelope (§3.7) without re-serialising each object."""
    parts = [b'{"more":', b"true" if page.more else b"false"]
    if page.next_token:
        parts += [b',"next":', orjson.dumps(page.next_token)]
    if page.items:
        parts += [b',"objects":[', ",".join(s.body for s in page.items).encode(), b"]"]
    parts.append(b"}")
    return Response(b"".join(parts), 200, _date_headers(page), media_type=TAXII_MEDIA_TYPE)


def _collection_resource(record: CollectionRecord, reader: Organisation) -> dict[str, object]:
    operator = reader.role.value == "operator"
    body: dict[str, object] = {
        "id": record.collection_id,
        "title": record.title,
        "description": record.description,
        "can_read": record.members_can_read or operator,
        "can_write": record.members_can_write or operator,
        "media_types": [STIX_MEDIA_TYPE],
    }
    if record.alias:
        body["alias"] = record.alias
    return body


def status_resource(record: StatusRecord) -> dict[str, object]:
    """A TAXII status resource (§4.3.1)."""
    details = orjson.loads(record.details)
    body: dict[str, object] = {
        "id": record.id,
        "status": "complete" if record.pending_count == 0 else "pending",
        "request_timestamp": format_timestamp(record.request_timestamp),
        "total_count": record.total_count,
        "success_count": record.success_count,
        "failure_count": record.failure_count,
        "pending_count": record.pending_count,
    }
    for name in ("successes", "failures", "pendings"):
        if details.get(name):
            body[name] = details[name]
    return body


def _ingest(hub: Hub, reader: Organisation, collection_id: str, body: bytes) -> StatusRecord:
    with paused_gc():
        return ingest.add_objects(
            hub, reader, collection_id, ingest.envelope_objects(parse_json(body))
        )


@router.get("/", summary="Server discovery (TAXII 2.1 §4.1)")
def discovery(request: Request, reader: Reader) -> Response:
    """Server discovery: the API roots this server offers."""
    hub = hub_of(request)
    base = str(request.base_url).rstrip("/")
    return _taxii(
        {
            "title": hub.config.hub_name,
            "description": "Shieldwall threat-sharing hub: STIX 2.1 under TLP 2.0 and scopes.",
            "default": f"{base}/taxii2/{API_ROOT}/",
            "api_roots": [f"{base}/taxii2/{API_ROOT}/"],
        }
    )


@router.get("/{api_root}/", summary="API root information (TAXII 2.1 §4.2)")
def api_root_information(api_root: str, request: Request, reader: Reader) -> Response:
    """Information about the API root, including ``max_content_length``."""
    _check_root(api_root)
    hub = hub_of(request)
    return _taxii(
        {
            "title": hub.config.hub_name,
            "description": "Shared threat intelligence of this hub's members.",
            "versions": [TAXII_MEDIA_TYPE],
            "max_content_length": hub.config.max_content_length,
        }
    )


@router.get("/{api_root}/status/{status_id}/", summary="Status (TAXII 2.1 §4.3)")
def get_status(api_root: str, status_id: str, request: Request, reader: Reader) -> Response:
    """The status of an add-objects request; readable by the organisation that made it."""
    _check_root(api_root)
    return _taxii(status_resource(reading.get_status(hub_of(request), reader, status_id)))


@router.get("/{api_root}/collections/", summary="Collections (TAXII 2.1 §5.1)")
def get_collections(api_root: str, request: Request, reader: Reader) -> Response:
    """The collections the reader may see."""
    _check_root(api_root)
    records = reading.readable_collections(hub_of(request), reader)
    body: dict[str, object] = {}
    if records:
        body["collections"] = [_collection_resource(r, reader) for r in records]
    return _taxii(body)


@router.get("/{api_root}/collections/{collection_id}/", summary="A collection (TAXII 2.1 §5.2)")
def get_collection(api_root: str, collection_id: str, request: Request, reader: Reader) -> Response:
    """One collection."""
    _check_root(api_root)
    for record in reading.readable_collections(hub_of(request), reader):
        if collection_id in (record.collection_id, record.alias):
            return _taxii(_collection_resource(record, reader))
    raise NotFound("no such collection")


@router.get(
    "/{api_root}/collections/{collection_id}/manifest/", summary="Object manifests (TAXII 2.1 §5.3)"
)
def get_manifest(api_root: str, collection_id: str, request: Request, reader: Reader) -> Response:
    """Manifest records of the objects the reader may read, filtered and paged."""
    _check_root(api_root)
    page = reading.list_objects(hub_of(request), reader, collection_id, _object_query(request))
    body: dict[str, object] = {"more": page.more}
    if page.next_token:
        body["next"] = page.next_token
    if page.items:
        body["objects"] = [reading.manifest_entry(s) for s in page.items]
    return _taxii(body, headers=_date_headers(page))


@router.get(
    "/{api_root}/collections/{collection_id}/objects/", summary="Get objects (TAXII 2.1 §5.4)"
)
def get_objects(api_root: str, collection_id: str, request: Request, reader: Reader) -> Response:
    """Objects the reader may read, filtered and paged."""
    _check_root(api_root)
    return _envelope(
        reading.list_objects(hub_of(request), reader, collection_id, _object_query(request))
    )


@router.post(
    "/{api_root}/collections/{collection_id}/objects/",
    status_code=202,
    summary="Add objects (TAXII 2.1 §5.5)",
)
async def add_objects(
    api_root: str, collection_id: str, request: Request, reader: Reader
) -> Response:
    """Validate and store an envelope's (or bundle's) objects; answer with the status."""
    _check_root(api_root)
    require_stix_content(request)
    hub = hub_of(request)
    body = await read_body(request, hub.config.max_content_length)
    record = await run_in_threadpool(_ingest, hub, reader, collection_id, body)
    return _taxii(status_resource(record), status=202)


@router.get(
    "/{api_root}/collections/{collection_id}/objects/{object_id}/",
    summary="Get an object (TAXII 2.1 §5.6)",
)
def get_object(
    api_root: str, collection_id: str, object_id: str, request: Request, reader: Reader
) -> Response:
    """One object (its latest version unless ``match[version]`` says otherwise)."""
    _check_root(api_root)
    query = _object_query(request, object_id=object_id)
    return _envelope(reading.get_object(hub_of(request), reader, collection_id, object_id, query))


@router.delete(
    "/{api_root}/collections/{collection_id}/objects/{object_id}/",
    summary="Delete an object (TAXII 2.1 §5.7)",
)
def delete_object(
    api_root: str, collection_id: str, object_id: str, request: Request, reader: Reader
) -> Response:
    """Delete the selected versions (all by default) of an object its submitter owns."""
    _check_root(api_root)
    params = request.query_params
    query = ObjectQuery(
        versions=parse_versions(params.get("match[version]") or "all"),
        spec_versions=parse_spec_versions(params.get("match[spec_version]")),
    )
    reading.delete_object(hub_of(request), reader, collection_id, object_id, query)
    return Response(status_code=200, media_type=TAXII_MEDIA_TYPE)


@router.get(
    "/{api_root}/collections/{collection_id}/objects/{object_id}/versions/",
    summary="Object versions (TAXII 2.1 §5.8)",
)
def get_versions(
    api_root: str, collection_id: str, object_id: str, request: Request, reader: Reader
) -> Response:
    """The versions of one object the reader may see."""
    _check_root(api_root)
    query = _object_query(request, object_id=object_id, all_versions=True)
    page = reading.list_versions(hub_of(request), reader, collection_id, object_id, query)
    body: dict[str, object] = {"more": page.more}
    if page.next_token:
        body["next"] = page.next_token
    if page.items:
        body["versions"] = [reading.manifest_entry(s)["version"] for s in page.items]
    return _taxii(body, headers=_date_headers(page))
