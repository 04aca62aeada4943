"""ASGI entry point: ``uvicorn --factory shieldwall.asgi:create_app``.

Settings come from ``SHIELDWALL_*`` environment variables. Several processes may serve
one PostgreSQL database: no state that matters for correctness lives in a process.
"""

from __future__ import annotations

from fastapi import FastAPI

from shieldwall.bootstrap import build_hub
from shieldwall.settings import load_settings
from shieldwall.web.app import create_app as build_app


def create_app() -> FastAPI:
    """Load settings, wire the hub (migrating the database) and build the app."""
    return build_app(build_hub(load_settings()))
