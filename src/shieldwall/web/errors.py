"""The only place that knows HTTP status codes.

Domain errors become TAXII error messages (TAXII 2.1 §3.6.1) on ``/taxii2/`` routes and
``{"error": {...}}`` JSON elsewhere. Unexpected exceptions become a 500 that reveals nothing.
"""

from __future__ import annotations

import logging

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from shieldwall.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotAcceptable,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ShieldwallError,
    Unauthenticated,
    Unprocessable,
    UnsupportedMediaType,
)
from shieldwall.web.media import TAXII_MEDIA_TYPE

log = logging.getLogger("shieldwall.web")

STATUS_BY_ERROR: tuple[tuple[type[ShieldwallError], int, str], ...] = (
    (Unauthenticated, 401, "Unauthorized"),
    (Forbidden, 403, "Forbidden"),
    (NotFound, 404, "Not Found"),
    (NotAcceptable, 406, "Not Acceptable"),
    (Conflict, 409, "Conflict"),
    (PayloadTooLarge, 413, "Payload Too Large"),
    (RateLimited, 429, "Too Many Requests"),
    (UnsupportedMediaType, 415, "Unsupported Media Type"),
    (Unprocessable, 422, "Unprocessable Content"),
    (InvalidInput, 400, "Bad Request"),
)
AUTH_CHALLENGE = 'Bearer realm="shieldwall", Basic realm="shieldwall", charset="UTF-8"'


def status_of(error: ShieldwallError) -> tuple[int, str]:
    """HTTP status and title for a domain error (503 for anything else we raised)."""
    for kind, status, title in STATUS_BY_ERROR:
        if isinstance(error, kind):
            return status, title
    return 503, "Service Unavailable"


def error_response(request: Request, status: int, title: str, description: str) -> Response:
    """A TAXII error message on TAXII routes, an HTML page on the web interface
    (``/ui``), a JSON error elsewhere."""
    if request.url.path == "/ui" or request.url.path.startswith("/ui/"):
        from shieldwall.web.ui.errors import ui_error_page

        return ui_error_page(request, status, title, description)
    headers = {"WWW-Authenticate": AUTH_CHALLENGE} if status == 401 else {}
    if request.url.path.startswith("/taxii2"):
        body = {"title": title, "description": description, "http_status": str(status)}
        return Response(orjson.dumps(body), status, headers, media_type=TAXII_MEDIA_TYPE)
    payload = {"error": {"status": status, "title": title, "description": description}}
    return Response(orjson.dumps(payload), status, headers, media_type="application/json")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    async def domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ShieldwallError)
        status, title = status_of(exc)
        response = error_response(request, status, title, exc.message)
        # every reason as data, beside the description (the HTML page shows the message)
        if isinstance(exc, Unprocessable) and response.media_type != "text/html":
            body = orjson.loads(response.body)
            body.get("error", body)["details"] = exc.details
            response = Response(orjson.dumps(body), status, media_type=response.media_type)
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return error_response(request, exc.status_code, str(exc.detail), str(exc.detail))

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error.get('loc', ()))}: {error.get('msg')}"
            for error in exc.errors()
        )
        return error_response(request, 400, "Bad Request", problems or "invalid request")

    async def model_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ValidationError)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error.get('loc', ()))}: {error.get('msg')}"
            for error in exc.errors()
        )
        return error_response(request, 400, "Bad Request", problems or "invalid request")

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(
            request,
            500,
            "Internal Server Error",
            "the hub failed to handle this request; nothing was changed",
        )

    app.add_exception_handler(ShieldwallError, domain_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(ValidationError, model_error)
    app.add_exception_handler(Exception, unexpected)
