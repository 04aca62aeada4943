"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

import orjson
from fastapi import APIRouter, Request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.responses import JSONResponse, Response

from shieldwall.services import admin
from shieldwall.web.api.anonymity import UNLOGGED_PREFIXES
from shieldwall.web.deps import hub_of

router = APIRouter(tags=["operations"])
request_log = logging.getLogger("shieldwall.requests")


class Metrics:
    """Request counters and latency histograms (one registry per app, nothing global)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "shieldwall_http_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "shieldwall_http_request_seconds",
            "HTTP request latency by route",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Count, time and log every request by its route template (never by raw path,
        never with the client's address). Unlinkable submission routes are neither
        counted nor logged: a counter scraped every few seconds would date them."""
        if request.url.path.startswith(UNLOGGED_PREFIXES):
            return await call_next(request)
        started = time.perf_counter()
        response = await call_next(request)
        elapsed = time.perf_counter() - started
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        self.requests.labels(request.method, template, str(response.status_code)).inc()
        self.latency.labels(request.method, template).observe(elapsed)
        request_log.info(
            "%s",
            orjson.dumps(
                {
                    "method": request.method,
                    "route": template,
                    "status": response.status_code,
                    "ms": round(elapsed * 1000, 2),
                }
            ).decode(),
        )
        return response


@router.get("/healthz", summary="Liveness and database readiness")
def healthz(request: Request) -> JSONResponse:
    """200 when the process runs and the database answers; 503 otherwise."""
    try:
        admin.collections(hub_of(request))
    except Exception:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get("/readyz", summary="Readiness: database reachable and hub set up")
def readyz(request: Request) -> JSONResponse:
    """200 when this process can serve: the database answers and holds the hub's default
    collection (so migrations ran); 503 otherwise, for load balancers to hold traffic."""
    try:
        ready = any(
            c.alias == admin.DEFAULT_COLLECTION_ALIAS for c in admin.collections(hub_of(request))
        )
    except Exception:  # any failure means not ready
        ready = False
    if not ready:
        return JSONResponse({"status": "not ready"}, 503)
    return JSONResponse({"status": "ready"})


@router.get("/metrics", summary="Prometheus metrics")
def metrics(request: Request) -> Response:
    """Prometheus text exposition of this process's metrics."""
    registry: CollectorRegistry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
