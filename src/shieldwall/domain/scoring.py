"""Indicator scores: source confidence, sightings and false positives, decaying with age.

The model (docs/scoring.md gives the same in words; every number is a setting):

    base  = clamp(confidence + min(sighting_cap, sighting_bonus × S) − fp_penalty × F, 0, 100)
    score = base × max(0, 1 − (t / τ) ^ (1 / δ))

- ``confidence``: the indicator's STIX ``confidence`` (0–100), else ``default_confidence``;
- ``S``: sighting reports a reader may read (not false positives), ``F``: false-positive
  reports;
- ``t``: time since the indicator's last activity: its ``valid_from`` (else ``created``) or
  the ``last_seen`` of its latest sighting, whichever is later;
- ``τ``: the lifetime of the indicator's kind (``lifetimes``; a pattern over several kinds
  takes the shortest), ``δ``: the decay speed (MISP's decaying-model polynomial: ``δ = 1``
  is linear, ``δ < 1`` holds the score up and drops it late, ``δ > 1`` drops it early).

An indicator is *expired* when its score is below ``threshold``, when its ``valid_until``
has passed, or when it is revoked. Expired indicators stay readable over TAXII (objects are
never rewritten) but are left out of matching, private lookup and feeds by default.
``expires_at`` solves the curve for the moment the score reaches the threshold, so a cache
of live indicators knows when each one drops out. Pure: times are arguments.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.timestamps import format_stix_timestamp, parse_timestamp

DAY = 86_400_000_000
DEFAULT_LIFETIMES: dict[str, int] = {
    "ipv4": 30,
    "ipv6": 30,
    "url": 60,
    "domain": 90,
    "email": 180,
    "hash": 365,
    "other": 180,
}
_ADDRESS_KINDS = {"ipv4net": "ipv4", "ipv6net": "ipv6"}


@dataclass(frozen=True, slots=True)
class DecayModel:
    """The scoring parameters (see the module docstring); lifetimes in days per kind."""

    lifetimes: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_LIFETIMES))
    decay_speed: float = 0.5
    threshold: float = 20.0
    default_confidence: int = 50
    sighting_bonus: float = 5.0
    sighting_cap: float = 25.0
    fp_penalty: float = 20.0

    def lifetime(self, kinds: Iterable[str]) -> int:
        """Lifetime in microseconds for an indicator over these observable kinds."""
        days = [self._days(kind) for kind in kinds]
        return (min(days) if days else self.lifetimes.get("other", 180)) * DAY

    def _days(self, kind: str) -> int:
        kind = _ADDRESS_KINDS.get(kind, kind)
        if kind in self.lifetimes:
            return self.lifetimes[kind]
        if kind not in ("domain", "url", "email") and not kind.startswith("ipv"):
            return self.lifetimes.get("hash", self.lifetimes.get("other", 180))
        return self.lifetimes.get("other", 180)


def parse_lifetimes(text: str) -> dict[str, int]:
    """``"ipv4=30,domain=90"`` over the defaults; raises ``InvalidInput`` on a bad entry."""
    lifetimes = dict(DEFAULT_LIFETIMES)
    for part in filter(None, (p.strip() for p in text.split(","))):
        kind, sep, days = part.partition("=")
        if not sep or kind.strip() not in DEFAULT_LIFETIMES or not days.strip().isdigit():
            raise InvalidInput(
                f"decay lifetimes: {part!r} is not KIND=DAYS with KIND one of"
                f" {', '.join(DEFAULT_LIFETIMES)}"
            )
        if int(days) < 1:
            raise InvalidInput(f"decay lifetimes: {part!r}: a lifetime is at least one day")
        lifetimes[kind.strip()] = int(days)
    return lifetimes


@dataclass(frozen=True, slots=True)
class Score:
    """An indicator's score at ``at`` and why."""

    value: float
    base: float
    expired: bool
    reason: str | None
    last_activity: int
    lifetime: int
    expires_at: int | None

    def to_json(self) -> dict[str, object]:
        """The score as the API returns it."""
        return {
            "score": round(self.value, 1),
            "base": round(self.base, 1),
            "expired": self.expired,
            "reason": self.reason,
            "last_activity": format_stix_timestamp(self.last_activity),
            "lifetime_days": self.lifetime // DAY,
            "expires_at": None
            if self.expires_at is None
            else format_stix_timestamp(self.expires_at),
        }


def base_score(
    model: DecayModel, confidence: object, sightings: int, false_positives: int
) -> float:
    """The score before decay."""
    start = confidence if isinstance(confidence, int) and 0 <= confidence <= 100 else None
    value = float(model.default_confidence if start is None else start)
    value += min(model.sighting_cap, model.sighting_bonus * sightings)
    value -= model.fp_penalty * false_positives
    return max(0.0, min(100.0, value))


def decayed(model: DecayModel, base: float, age: int, lifetime: int) -> float:
    """``base`` after ``age`` microseconds on a curve of ``lifetime``."""
    if age <= 0:
        return base
    if age >= lifetime:
        return 0.0
    fraction: float = (age / lifetime) ** (1.0 / model.decay_speed)
    return base * max(0.0, 1.0 - fraction)


def threshold_age(model: DecayModel, base: float, lifetime: int) -> int:
    """The age at which a score starting at ``base`` falls below the threshold."""
    if base <= model.threshold:
        return 0
    remaining: float = (1.0 - model.threshold / base) ** model.decay_speed
    return math.floor(lifetime * remaining)


def _time(obj: Mapping[str, object], name: str) -> int | None:
    value = obj.get(name)
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value)
    except InvalidInput:
        return None


def score(
    model: DecayModel,
    indicator: Mapping[str, object],
    kinds: Iterable[str],
    at: int,
    sightings: int = 0,
    false_positives: int = 0,
    last_seen: int | None = None,
) -> Score:
    """The score of ``indicator`` at ``at`` (see the module docstring)."""
    start = _time(indicator, "valid_from") or _time(indicator, "created") or at
    activity = max(start, last_seen) if last_seen is not None else start
    lifetime = model.lifetime(kinds)
    base = base_score(model, indicator.get("confidence"), sightings, false_positives)
    value = decayed(model, base, at - activity, lifetime)
    decay_end = activity + threshold_age(model, base, lifetime)
    valid_until = _time(indicator, "valid_until")
    expires_at = decay_end if valid_until is None else min(decay_end, valid_until)
    reason = None
    if indicator.get("revoked") is True:
        reason = "revoked"
    elif valid_until is not None and at >= valid_until:
        reason = "valid_until has passed"
    elif value < model.threshold:
        reason = f"score below the threshold ({model.threshold:g})"
    return Score(
        value=value,
        base=base,
        expired=reason is not None,
        reason=reason,
        last_activity=activity,
        lifetime=lifetime,
        expires_at=expires_at,
    )
