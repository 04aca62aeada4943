"""Settings: one typed object, defined once as data, loaded at the entry point.

Every setting has an environment variable (``SHIELDWALL_<NAME>``); command-line options
override them. ``docs/configuration.md`` is checked against ``SETTINGS`` by a test.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.tlp import Tlp


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
    anon_batch_size: int = 5
    anon_max_delay_days: int = 1
    anon_tokens_per_epoch: int = 50
    anon_epoch_days: int = 7
    rate_limit_per_minute: int = 12_000
    lookup_daily_items: int = 100_000
    match_snapshot_max_age: int = 3600

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
    )
