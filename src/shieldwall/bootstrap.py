"""The one place that wires settings, storage, clock and ids into a ``Hub``."""

from __future__ import annotations

import secrets
import time
import uuid

from shieldwall.services.admin import ensure_hub
from shieldwall.services.context import Hub, HubConfig
from shieldwall.settings import Settings
from shieldwall.storage.database import Database
from shieldwall.storage.migrate import upgrade


class SystemClock:
    """The real wall clock."""

    def now(self) -> int:
        return time.time_ns() // 1000


class RandomIds:
    """Identifiers and secrets from the operating system's CSPRNG."""

    def uuid4(self) -> str:
        return str(uuid.uuid4())

    def secret(self, nbytes: int) -> str:
        return secrets.token_urlsafe(nbytes)

    def random_bytes(self, nbytes: int) -> bytes:
        return secrets.token_bytes(nbytes)


def build_hub(settings: Settings, *, migrate: bool = True) -> Hub:
    """Open the database (migrating it first unless told not to) and wire the use cases."""
    if migrate:
        upgrade(str(settings.database_url))
    database = Database.from_url(str(settings.database_url))
    hub = Hub(
        store=database,
        clock=SystemClock(),
        ids=RandomIds(),
        config=HubConfig(
            hub_name=settings.hub_name,
            alerts=settings.alerts,
            attestations=settings.attestations,
            federation=settings.federation,
            default_tlp=settings.default_tlp,
            max_content_length=settings.max_content_length,
            max_objects_per_request=settings.max_objects_per_request,
            anon_batch_size=settings.anon_batch_size,
            anon_max_delay_days=settings.anon_max_delay_days,
            anon_tokens_per_epoch=settings.anon_tokens_per_epoch,
            anon_epoch_days=settings.anon_epoch_days,
            rate_limit_per_minute=settings.rate_limit_per_minute,
            lookup_daily_items=settings.lookup_daily_items,
            match_snapshot_max_age=settings.match_snapshot_max_age,
            correlation_cap=settings.correlation_cap,
            cluster_max_reports=settings.cluster_max_reports,
            decay=settings.decay,
            warninglists_max_entries=settings.warninglists_max_entries,
            warninglists_exclude=settings.warninglists_exclude,
            session_idle_minutes=settings.session_idle_minutes,
            session_max_hours=settings.session_max_hours,
            session_cookie_secure=settings.session_cookie_secure,
        ),
    )
    ensure_hub(hub)
    return hub
