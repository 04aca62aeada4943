"""Small encoders shared by the REST routes: base64 fields and JSON responses."""

from __future__ import annotations

import base64
import binascii

import orjson
from starlette.responses import Response

from shieldwall.domain.errors import InvalidInput


def b64(data: bytes) -> str:
    """Standard base64 text of ``data``."""
    return base64.b64encode(data).decode()


def unb64(text: object, name: str) -> bytes:
    """Decode a base64 field; ``InvalidInput`` naming ``name`` if it is not base64 text."""
    if not isinstance(text, str):
        raise InvalidInput(f"{name} must be a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{name} is not valid base64") from None


def json_response(body: object, status: int = 200) -> Response:
    """``body`` as ``application/json``."""
    return Response(orjson.dumps(body), status, media_type="application/json")
