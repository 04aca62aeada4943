"""Request dependencies shared by the TAXII and REST routers."""

from __future__ import annotations

from fastapi import Request

from shieldwall.domain.organisations import Organisation
from shieldwall.services import admin
from shieldwall.services.context import Hub


def hub_of(request: Request) -> Hub:
    """The ``Hub`` this app was built with."""
    hub: Hub = request.app.state.hub
    return hub


def current_org(request: Request) -> Organisation:
    """The organisation whose API key the request carries (401 otherwise)."""
    from shieldwall.web.auth import api_key_from

    return admin.authenticate(hub_of(request), api_key_from(request))
