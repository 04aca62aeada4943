"""``Hub``: what every use case needs, wired once by ``bootstrap.py``."""

from __future__ import annotations

from dataclasses import dataclass, field

from shieldwall.domain.alerts import AlertConfig
from shieldwall.domain.attestations import AttestationConfig
from shieldwall.domain.federation import FederationConfig
from shieldwall.domain.scoring import DecayModel
from shieldwall.domain.tlp import Tlp
from shieldwall.domain.warninglists import DEFAULT_EXCLUDED_LISTS
from shieldwall.services.ports import Clock, IdFactory, UnitOfWork
from shieldwall.services.snapshots import SnapshotCache


@dataclass(frozen=True, slots=True)
class HubConfig:
    """The part of the settings the use cases read (services never read the environment)."""

    hub_name: str = "Shieldwall hub"
    alerts: AlertConfig = field(default_factory=AlertConfig)
    attestations: AttestationConfig = field(default_factory=AttestationConfig)  # attestations
    federation: FederationConfig = field(default_factory=FederationConfig)  # federation
    default_tlp: Tlp = Tlp.AMBER
    max_content_length: int = 50 * 1024 * 1024
    max_objects_per_request: int = 100_000
    anon_batch_size: int = 5
    anon_max_delay_days: int = 1
    anon_tokens_per_epoch: int = 50
    anon_epoch_days: int = 7
    rate_limit_per_minute: int = 12_000
    match_snapshot_max_age: int = 3600
    lookup_daily_items: int = 100_000
    correlation_cap: int = 100
    cluster_max_reports: int = 500
    decay: DecayModel = field(default_factory=DecayModel)
    warninglists_max_entries: int = 100_000
    warninglists_exclude: tuple[str, ...] = DEFAULT_EXCLUDED_LISTS
    session_idle_minutes: int = 120  # accounts: web sessions end after this idle time
    session_max_hours: int = 12  # accounts: ...and this long after sign-in at the latest
    session_cookie_secure: bool = False  # web UI: Secure cookie even over plain http


@dataclass(frozen=True, slots=True)
class Hub:
    """Storage, clock, id source and configuration for the use cases."""

    store: UnitOfWork
    clock: Clock
    ids: IdFactory
    config: HubConfig
    snapshots: SnapshotCache = field(default_factory=SnapshotCache)
