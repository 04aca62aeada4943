"""Media types, content negotiation and bounded request bodies (TAXII 2.1 §1.6.8, §3.2)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import orjson
from starlette.requests import Request

from shieldwall.domain.errors import (
    InvalidInput,
    NotAcceptable,
    PayloadTooLarge,
    UnsupportedMediaType,
)

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
_READABLE = {"application/taxii+json", "application/stix+json", "application/json"}


def _parse(header: str) -> list[tuple[str, dict[str, str]]]:
    entries = []
    for part in header.split(","):
        pieces = [p.strip() for p in part.split(";")]
        if not pieces[0]:
            continue
        params = {}
        for piece in pieces[1:]:
            if "=" in piece:
                key, _, value = piece.partition("=")
                params[key.strip().lower()] = value.strip().strip('"')
        entries.append((pieces[0].lower(), params))
    return entries


def require_taxii_accept(request: Request) -> None:
    """Raise ``NotAcceptable`` unless the client accepts TAXII 2.1 JSON (or anything)."""
    header = request.headers.get("accept")
    if not header:
        return
    for media, params in _parse(header):
        if params.get("q") in ("0", "0.0", "0.00", "0.000"):
            continue
        if media in ("*/*", "application/*", "application/json"):
            return
        if media == "application/taxii+json" and params.get("version", "2.1") == "2.1":
            return
    raise NotAcceptable(
        f"this endpoint answers {TAXII_MEDIA_TYPE}; the request accepts only {header!r}"
    )


def require_stix_content(request: Request) -> None:
    """Raise ``UnsupportedMediaType`` unless the body is TAXII/STIX 2.1 JSON."""
    header = request.headers.get("content-type", "")
    entries = _parse(header)
    if entries:
        media, params = entries[0]
        if media in _READABLE and params.get("version", "2.1") == "2.1":
            return
    raise UnsupportedMediaType(
        f"send the objects as {TAXII_MEDIA_TYPE} (an envelope) or {STIX_MEDIA_TYPE}"
        f" (a bundle); got Content-Type {header or '(none)'!r}"
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (``PayloadTooLarge``) past ``limit`` bytes without
    reading further."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(
            f"the body is {declared} bytes; this API root accepts at most {limit}", limit
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body exceeds this API root's limit of {limit} bytes", limit)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes) -> object:
    """Parse JSON; raise ``InvalidInput`` saying where it is malformed."""
    if not body.strip():
        raise InvalidInput("the request body is empty; send JSON")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the body is not valid JSON: {exc}") from None


_gc_lock = threading.Lock()


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while bulk JSON is parsed and ingested (it costs
    ~3x on large bundles, benchmarks.md). Only the request that paused it resumes it, when
    it ends, so under a stream of overlapping writers the collector is never off for
    longer than one request (counting nested pauses kept it off indefinitely)."""
    with _gc_lock:
        owner = gc.isenabled()
        if owner:
            gc.disable()
    try:
        yield
    finally:
        if owner:
            gc.enable()
