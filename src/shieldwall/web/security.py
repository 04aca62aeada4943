"""Security headers on every response and per-key request rate limits.

Rate limits are per process (a token bucket per API key): they protect the hub from a
runaway client, not correctness, so they need no shared state. ``0`` disables them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shieldwall.domain.errors import RateLimited

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}


async def security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Add ``SECURITY_HEADERS`` (shared intelligence must not be cached or framed)."""
    response = await call_next(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


class RateLimiter:
    """A token bucket per key: ``per_minute`` requests, bursts up to the same number."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key_id: str) -> None:
        """Spend one request for ``key_id``; raise ``RateLimited`` when none is left."""
        if self.per_minute <= 0:
            return
        rate = self.per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key_id, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[key_id] = (tokens, now)
                wait = max(1, int((1.0 - tokens) / rate) + 1)
                raise RateLimited(
                    f"more than {self.per_minute} requests a minute with this key;"
                    f" retry in {wait} s",
                    retry_after=wait,
                )
            self._buckets[key_id] = (tokens - 1.0, now)


class BodyLimit:
    """ASGI middleware: no request body larger than ``limit`` bytes reaches any route.

    A declared ``Content-Length`` over the limit is refused before reading. Otherwise the
    body is read here (routes read whole bodies anyway), and refused with 413 as soon as it
    passes the limit; a body within it is handed to the route unchanged."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await _too_large(scope, receive, send, self.limit)
                return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await _too_large(scope, receive, send, self.limit)
                return
            if not message.get("more_body", False):
                break
        pending = iter(messages)

        async def replay() -> Message:
            try:
                return next(pending)
            except StopIteration:
                return await receive()

        await self.app(scope, replay, send)


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    from shieldwall.web.errors import error_response

    request = Request(scope, receive)
    response = error_response(
        request,
        413,
        "Payload Too Large",
        f"the body is larger than this hub's limit of {limit} bytes",
    )
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    await response(scope, receive, send)
