"""The ASGI application factory. Nothing is built at import time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse

from shieldwall import __version__
from shieldwall.services import anonymity, attestations, delivery, federation
from shieldwall.services.context import Hub
from shieldwall.web.api.alerts import router as alerts_router
from shieldwall.web.api.anonymity import router as anonymity_router
from shieldwall.web.api.attestations import router as attestations_router
from shieldwall.web.api.exercises import router as exercises_router  # exercises
from shieldwall.web.api.exports import router as exports_router
from shieldwall.web.api.federation import router as federation_router
from shieldwall.web.api.intel import router as intel_router
from shieldwall.web.api.lookup import router as lookup_router
from shieldwall.web.api.reports import router as reports_router
from shieldwall.web.api.routes import router as api_router
from shieldwall.web.errors import install_error_handlers
from shieldwall.web.health import Metrics
from shieldwall.web.health import router as health_router
from shieldwall.web.security import BodyLimit, RateLimiter, security_headers
from shieldwall.web.taxii.routes import router as taxii_router
from shieldwall.web.ui.routes import install_ui

# Batches are published only by this periodic task, so a batch's date_added says no more
# than "within these five minutes" about when any of its submissions arrived.
PUBLISH_INTERVAL_SECONDS = 300.0
log = logging.getLogger("shieldwall.web")


def _lifespan(hub: Hub) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Publish due anonymous batches in the background (correctness does not depend on
    it: redemption and ``shieldwall anon publish`` also publish), and deliver due alerts
    every ``alert_delivery_interval`` seconds (0: never; ``shieldwall alerts deliver``)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                await asyncio.sleep(PUBLISH_INTERVAL_SECONDS)
                try:
                    await run_in_threadpool(anonymity.publish_ready, hub)
                except Exception:  # the loop must survive a database hiccup
                    log.exception("publishing anonymous batches failed")

        async def deliver() -> None:
            while True:
                await asyncio.sleep(hub.config.alerts.delivery_interval_seconds)
                try:
                    await run_in_threadpool(delivery.deliver_due, hub)
                except Exception:  # the loop must survive a database hiccup
                    log.exception("delivering alerts failed")

        async def remind() -> None:  # attestations: expiry reminders
            while True:
                await asyncio.sleep(hub.config.attestations.reminder_interval_seconds)
                try:
                    await run_in_threadpool(attestations.remind, hub)
                except Exception:  # the loop must survive a database hiccup
                    log.exception("attestation reminders failed")

        async def federate() -> None:  # partner hubs (docs/federation.md)
            while True:
                await asyncio.sleep(hub.config.federation.sync_interval_seconds)
                try:
                    await run_in_threadpool(federation.sync_due, hub)
                except Exception:  # the loop must survive a database hiccup
                    log.exception("federation pass failed")

        tasks = [asyncio.create_task(loop())]
        if hub.config.alerts.delivery_interval_seconds > 0:
            tasks.append(asyncio.create_task(deliver()))
        if hub.config.attestations.reminder_interval_seconds > 0:
            tasks.append(asyncio.create_task(remind()))
        if hub.config.federation.sync_interval_seconds > 0:
            tasks.append(asyncio.create_task(federate()))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()

    return lifespan


def create_app(hub: Hub) -> FastAPI:
    """Build the application around an already wired ``Hub``."""
    app = FastAPI(
        lifespan=_lifespan(hub),
        title="Shieldwall",
        version=__version__,
        description="Threat-intelligence sharing hub: TAXII 2.1 and a REST API.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # the stock page loads its assets from a CDN: we serve none
        redoc_url=None,
    )
    app.state.hub = hub
    app.state.metrics = Metrics()
    app.state.limiter = RateLimiter(hub.config.rate_limit_per_minute)
    app.state.key_touches = {}
    app.middleware("http")(app.state.metrics.middleware)
    app.middleware("http")(security_headers)
    app.add_middleware(BodyLimit, limit=hub.config.max_content_length)
    install_error_handlers(app)
    app.include_router(taxii_router)
    app.include_router(api_router)
    app.include_router(anonymity_router)
    app.include_router(reports_router)
    app.include_router(lookup_router)
    app.include_router(intel_router)
    app.include_router(alerts_router)
    app.include_router(attestations_router)
    app.include_router(exports_router)
    app.include_router(federation_router)
    app.include_router(exercises_router)  # exercises
    app.include_router(health_router)
    install_ui(app)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=303)

    return app
