"""Settings: one typed object, defined once as data, loaded at the entry point.

Every setting has an environment variable (``SHIELDWALL_<NAME>``); command-line options
override them. ``docs/configuration.md`` is checked against ``SETTINGS`` by a test.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from shieldwall.domain.alerts import AlertConfig
from shieldwall.domain.attestations import AttestationConfig, parse_reminder_days
from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.federation import FederationConfig
from shieldwall.domain.scoring import DecayModel, parse_lifetimes
from shieldwall.domain.tlp import Tlp
from shieldwall.domain.warninglists import DEFAULT_EXCLUDED_LISTS, available_lists


@dataclass(frozen=True, slots=True)
class SettingSpec:
    """One setting: its name, default (as text) and what it does."""

    name: str
    default: str
    help: str


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "database_url",
        "sqlite:///shieldwall.db",
        "SQLAlchemy URL of the database: sqlite:///PATH or postgresql://USER@HOST:PORT/DB",
    ),
    SettingSpec(
        "default_tlp",
        "amber",
        "TLP given to objects submitted without a TLP marking (clear, green, amber,"
        " amber+strict, red)",
    ),
    SettingSpec(
        "max_content_length",
        str(50 * 1024 * 1024),
        "Largest request body in bytes; advertised by the TAXII API root",
    ),
    SettingSpec(
        "max_objects_per_request",
        "100000",
        "Largest number of objects in one TAXII add-objects request",
    ),
    SettingSpec("hub_name", "Shieldwall hub", "Name of this hub, shown in TAXII discovery"),
    SettingSpec(
        "anon_batch_size",
        "5",
        "Unlinkable submissions are published when at least this many wait (k)",
    ),
    SettingSpec(
        "anon_max_delay_days",
        "1",
        "...or when the oldest has waited this many days, however few wait",
    ),
    SettingSpec(
        "anon_tokens_per_epoch",
        "50",
        "Blind tokens one member may obtain per epoch (the anonymous-submission quota)",
    ),
    SettingSpec("anon_epoch_days", "7", "Length of a token key epoch in days (key rotation)"),
    SettingSpec(
        "rate_limit_per_minute",
        "12000",
        "Requests a minute one API key may make to one server process (0: no limit)",
    ),
    SettingSpec(
        "lookup_daily_items",
        "100000",
        "Items one member may have evaluated by private lookup per day (UTC)",
    ),
    SettingSpec(
        "match_snapshot_max_age",
        "3600",
        "Seconds before a member's in-memory indicator snapshot (matching, lookup filter)"
        " is rebuilt whole; additions are picked up on every request",
    ),
    SettingSpec(
        "correlation_cap",
        "100",
        "An observable shared by more objects than this links nothing (too common to"
        " correlate, like MISP's over-correlating values)",
    ),
    SettingSpec(
        "cluster_max_reports",
        "500",
        "Report clusters are computed over at most this many of the newest reports",
    ),
    SettingSpec(
        "score_threshold",
        "20",
        "Indicators whose score (0-100, docs/scoring.md) falls below this are expired",
    ),
    SettingSpec(
        "decay_speed",
        "0.5",
        "Decay speed of the score curve (1: linear; below 1 holds the score longer)",
    ),
    SettingSpec(
        "decay_lifetimes",
        "",
        "Lifetimes in days per kind over the defaults, e.g. ipv4=30,domain=90,url=60,hash=365",
    ),
    SettingSpec(
        "default_confidence",
        "50",
        "Base score of indicators that carry no STIX confidence",
    ),
    SettingSpec(
        "warninglists_max_entries",
        "100000",
        "Warning lists (MISP) with at most this many entries are checked (0: none)",
    ),
    SettingSpec(
        "warninglists_exclude",
        ",".join(DEFAULT_EXCLUDED_LISTS),
        "Warning lists (by id) not checked: services attackers use too (VPN and hosting"
        " ranges, dynamic DNS, URL shorteners, IPFS gateways, …), where a hit is no sign"
        " that a value is benign",
    ),
    # alerts (docs/alerts.md)
    SettingSpec(
        "alert_delivery_interval",
        "5",
        "Seconds between delivery passes of each server process (webhooks, e-mail; 0: none,"
        " then run shieldwall alerts deliver)",
    ),
    SettingSpec(
        "alert_retry_base_seconds",
        "30",
        "Wait after a failed delivery attempt, doubled after each further failure",
    ),
    SettingSpec("alert_max_attempts", "8", "Delivery attempts before a delivery is failed"),
    SettingSpec("alert_webhook_timeout", "10", "Seconds a webhook receiver has to answer"),
    SettingSpec(
        "alert_webhook_private_targets",
        "false",
        "Allow webhooks to loopback, private and link-local addresses (true/false)",
    ),
    SettingSpec(
        "alert_victim_window_days",
        "30",
        "Advisories are checked against the victims of every notification their sender sent"
        " in this many days, besides the linked ones (0: linked ones only)",
    ),
    SettingSpec("smtp_host", "", "SMTP server for e-mail delivery (empty: no e-mail)"),
    SettingSpec("smtp_port", "25", "SMTP server port"),
    SettingSpec("smtp_from", "shieldwall@localhost", "Sender address of alert e-mails"),
    SettingSpec("smtp_starttls", "false", "Use STARTTLS with the SMTP server (true/false)"),
    SettingSpec("smtp_user", "", "SMTP user name (empty: no authentication)"),
    SettingSpec("smtp_password", "", "SMTP password (masked wherever settings are printed)"),
    # attestations (docs/attestations.md)
    SettingSpec(
        "attest_evidence_max_bytes",
        str(10 * 1024 * 1024),
        "Largest attestation evidence file in bytes",
    ),
    SettingSpec(
        "attest_reminder_days",
        "30,7",
        "Days before an attestation expires at which reminders go out (comma-separated;"
        " empty: none)",
    ),
    SettingSpec(
        "attest_reminder_interval",
        "3600",
        "Seconds between attestation reminder passes of each server process (0: none;"
        " run shieldwall attest remind)",
    ),
    # federation (docs/federation.md)
    SettingSpec(
        "federation_sync_interval",
        "300",
        "Seconds between federation passes of each server process (0: none, then run"
        " shieldwall partner sync)",
    ),
    SettingSpec(
        "federation_retry_base_seconds",
        "60",
        "Wait after a failed federation pass, doubled after each further failure",
    ),
    SettingSpec(
        "federation_retry_max_seconds", "3600", "Longest wait between failed federation passes"
    ),
    SettingSpec("federation_timeout", "30", "Seconds a partner hub has to answer one request"),
    # accounts (web sign-in)
    SettingSpec(
        "session_idle_minutes",
        "120",
        "A web session ends after this many minutes without a request",
    ),
    SettingSpec(
        "session_max_hours",
        "12",
        "A web session ends this many hours after sign-in, however active",
    ),
    SettingSpec(
        "session_cookie_secure",
        "false",
        "Mark the session cookie Secure even on plain-http requests (behind a TLS proxy)",
    ),
    SettingSpec(
        "demo_data_dir",
        "",
        "Folder of STIX bundles the demo loads (default: the copy shipped in the package)",
    ),
)


class Secret(str):
    """A string whose ``repr`` hides its value (for database URLs with passwords)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('**********')"


@dataclass(frozen=True, slots=True)
class Settings:
    """The hub's configuration."""

    database_url: Secret = field(default_factory=lambda: Secret("sqlite:///shieldwall.db"))
    default_tlp: Tlp = Tlp.AMBER
    max_content_length: int = 50 * 1024 * 1024
    max_objects_per_request: int = 100_000
    hub_name: str = "Shieldwall hub"
    demo_data_dir: Path | None = None
    alerts: AlertConfig = field(default_factory=AlertConfig)
    attestations: AttestationConfig = field(default_factory=AttestationConfig)
    federation: FederationConfig = field(default_factory=FederationConfig)
    anon_batch_size: int = 5
    anon_max_delay_days: int = 1
    anon_tokens_per_epoch: int = 50
    anon_epoch_days: int = 7
    rate_limit_per_minute: int = 12_000
    lookup_daily_items: int = 100_000
    match_snapshot_max_age: int = 3600
    correlation_cap: int = 100
    cluster_max_reports: int = 500
    decay: DecayModel = field(default_factory=DecayModel)
    warninglists_max_entries: int = 100_000
    warninglists_exclude: tuple[str, ...] = DEFAULT_EXCLUDED_LISTS
    session_idle_minutes: int = 120  # accounts
    session_max_hours: int = 12  # accounts
    session_cookie_secure: bool = False  # web UI

    def with_overrides(self, **values: object) -> Settings:
        """A copy with the non-``None`` values replaced (command-line options)."""
        changes = {name: value for name, value in values.items() if value is not None}
        if "database_url" in changes:
            changes["database_url"] = Secret(str(changes["database_url"]))
        return replace(self, **changes)  # type: ignore[arg-type]


def _positive_int(name: str, text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise InvalidInput(f"setting {name} must be a positive integer, not {text!r}")
    return int(text)


def _natural_int(name: str, text: str) -> int:
    if not text.isdigit():
        raise InvalidInput(f"setting {name} must be a whole number (0 or more), not {text!r}")
    return int(text)


def _positive_float(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise InvalidInput(f"setting {name} must be a positive number, not {text!r}")
    return value


def _percentage(name: str, text: str) -> float:
    if not text.isdigit() or int(text) > 100:
        raise InvalidInput(f"setting {name} must be a whole number from 0 to 100, not {text!r}")
    return float(text)


def _flag(name: str, text: str) -> bool:
    value = text.strip().lower()
    if value not in ("true", "false", "1", "0", "yes", "no"):
        raise InvalidInput(f"setting {name} must be true or false, not {text!r}")
    return value in ("true", "1", "yes")


def _alert_config(raw: Mapping[str, str]) -> AlertConfig:
    return AlertConfig(
        delivery_interval_seconds=_natural_int(
            "alert_delivery_interval", raw["alert_delivery_interval"]
        ),
        retry_base_seconds=_positive_int(
            "alert_retry_base_seconds", raw["alert_retry_base_seconds"]
        ),
        max_attempts=_positive_int("alert_max_attempts", raw["alert_max_attempts"]),
        webhook_timeout_seconds=_positive_int(
            "alert_webhook_timeout", raw["alert_webhook_timeout"]
        ),
        webhook_private_targets=_flag(
            "alert_webhook_private_targets", raw["alert_webhook_private_targets"]
        ),
        victim_window_days=_natural_int(
            "alert_victim_window_days", raw["alert_victim_window_days"]
        ),
        smtp_host=raw["smtp_host"].strip(),
        smtp_port=_positive_int("smtp_port", raw["smtp_port"]),
        smtp_from=raw["smtp_from"].strip(),
        smtp_starttls=_flag("smtp_starttls", raw["smtp_starttls"]),
        smtp_user=raw["smtp_user"],
        smtp_password=raw["smtp_password"],
    )


def _list_ids(text: str) -> tuple[str, ...]:
    ids = tuple(name.strip() for name in text.split(",") if name.strip())
    if ids != DEFAULT_EXCLUDED_LISTS:
        known = {info.id for info in available_lists()}
        unknown = [name for name in ids if name not in known]
        if unknown:
            raise InvalidInput(
                f"setting warninglists_exclude: no warning list has the id {unknown[0]!r}"
                " (ids are the list folder names, e.g. vpn-ipv4, rfc1918)"
            )
    return ids


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from ``SHIELDWALL_*`` variables; defaults from ``SETTINGS``.

    Raises ``InvalidInput`` naming the variable when a value does not parse.
    """
    env = os.environ if environ is None else environ
    raw = {spec.name: env.get(f"SHIELDWALL_{spec.name.upper()}", spec.default) for spec in SETTINGS}
    demo_dir = raw["demo_data_dir"]
    return Settings(
        database_url=Secret(raw["database_url"]),
        default_tlp=Tlp.parse(raw["default_tlp"]),
        max_content_length=_positive_int("max_content_length", raw["max_content_length"]),
        max_objects_per_request=_positive_int(
            "max_objects_per_request", raw["max_objects_per_request"]
        ),
        hub_name=raw["hub_name"],
        alerts=_alert_config(raw),
        attestations=AttestationConfig(
            evidence_max_bytes=_positive_int(
                "attest_evidence_max_bytes", raw["attest_evidence_max_bytes"]
            ),
            reminder_days=parse_reminder_days(raw["attest_reminder_days"]),
            reminder_interval_seconds=_natural_int(
                "attest_reminder_interval", raw["attest_reminder_interval"]
            ),
        ),
        federation=FederationConfig(
            sync_interval_seconds=_natural_int(
                "federation_sync_interval", raw["federation_sync_interval"]
            ),
            retry_base_seconds=_positive_int(
                "federation_retry_base_seconds", raw["federation_retry_base_seconds"]
            ),
            retry_max_seconds=_positive_int(
                "federation_retry_max_seconds", raw["federation_retry_max_seconds"]
            ),
            timeout_seconds=_positive_float("federation_timeout", raw["federation_timeout"]),
        ),
        demo_data_dir=Path(demo_dir) if demo_dir else None,
        anon_batch_size=_positive_int("anon_batch_size", raw["anon_batch_size"]),
        anon_max_delay_days=_positive_int("anon_max_delay_days", raw["anon_max_delay_days"]),
        anon_tokens_per_epoch=_positive_int("anon_tokens_per_epoch", raw["anon_tokens_per_epoch"]),
        anon_epoch_days=_positive_int("anon_epoch_days", raw["anon_epoch_days"]),
        rate_limit_per_minute=_natural_int("rate_limit_per_minute", raw["rate_limit_per_minute"]),
        lookup_daily_items=_positive_int("lookup_daily_items", raw["lookup_daily_items"]),
        match_snapshot_max_age=_natural_int(
            "match_snapshot_max_age", raw["match_snapshot_max_age"]
        ),
        correlation_cap=_positive_int("correlation_cap", raw["correlation_cap"]),
        cluster_max_reports=_positive_int("cluster_max_reports", raw["cluster_max_reports"]),
        decay=DecayModel(
            lifetimes=parse_lifetimes(raw["decay_lifetimes"]),
            decay_speed=_positive_float("decay_speed", raw["decay_speed"]),
            threshold=_percentage("score_threshold", raw["score_threshold"]),
            default_confidence=int(_percentage("default_confidence", raw["default_confidence"])),
        ),
        warninglists_max_entries=_natural_int(
            "warninglists_max_entries", raw["warninglists_max_entries"]
        ),
        warninglists_exclude=_list_ids(raw["warninglists_exclude"]),
        session_idle_minutes=_positive_int("session_idle_minutes", raw["session_idle_minutes"]),
        session_max_hours=_positive_int("session_max_hours", raw["session_max_hours"]),
        session_cookie_secure=_flag("session_cookie_secure", raw["session_cookie_secure"]),
    )
