"""Request dependencies shared by the TAXII and REST routers."""

from __future__ import annotations

import time

from fastapi import Request

from shieldwall.domain.organisations import Organisation
from shieldwall.services import admin
from shieldwall.services.context import Hub
from shieldwall.web.auth import api_key_from

KEY_TOUCH_SECONDS = 300.0


def hub_of(request: Request) -> Hub:
    """The ``Hub`` this app was built with."""
    hub: Hub = request.app.state.hub
    return hub


def current_org(request: Request) -> Organisation:
    """The organisation whose API key the request carries (401 otherwise; 429 past the
    key's rate limit). Records the key's last use at most every few minutes."""
    hub = hub_of(request)
    key = api_key_from(request)
    organisation = admin.authenticate(hub, key)
    key_id = admin.key_id_of(key)
    request.app.state.limiter.check(key_id)
    touched: dict[str, float] = request.app.state.key_touches
    now = time.monotonic()
    if now - touched.get(key_id, -KEY_TOUCH_SECONDS) >= KEY_TOUCH_SECONDS:
        touched[key_id] = now
        admin.record_key_use(hub, organisation, key_id)
    return organisation
