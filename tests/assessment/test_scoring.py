"""The documented scoring model (docs/scoring.md, domain/scoring.py): base score from
confidence, sightings and false positives; polynomial decay per kind; expiry."""

from __future__ import annotations

import itertools

import pytest

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.scoring import (
    DAY,
    DEFAULT_LIFETIMES,
    DecayModel,
    base_score,
    decayed,
    parse_lifetimes,
    score,
)
from shieldwall.domain.timestamps import parse_timestamp
from shieldwall.settings import load_settings

START = parse_timestamp("2026-01-01T00:00:00Z")


def indicator(**extra: object) -> dict[str, object]:
    return {
        "type": "indicator",
        "id": "indicator--6f7c9d1e-0a39-4b5d-8c57-2f9d3c0b7e11",
        "created": "2026-01-01T00:00:00.000Z",
        "valid_from": "2026-01-01T00:00:00Z",
        "pattern": "[ipv4-addr:value = '185.220.101.47']",
        **extra,
    }


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99])
@pytest.mark.parametrize("speed", [0.3, 0.5, 1.0, 2.0])
def test_decay_follows_the_documented_curve(fraction: float, speed: float) -> None:
    model = DecayModel(decay_speed=speed)
    lifetime = 30 * DAY
    age = int(fraction * lifetime)
    expected = 80.0 * (1 - (age / lifetime) ** (1 / speed))
    assert decayed(model, 80.0, age, lifetime) == pytest.approx(expected)


def test_score_is_zero_at_the_end_of_the_lifetime_and_monotonic_before() -> None:
    model = DecayModel()
    values = [decayed(model, 70.0, day * DAY, 30 * DAY) for day in range(0, 32)]
    assert values[0] == 70.0
    assert all(a >= b for a, b in itertools.pairwise(values))
    assert values[30] == 0.0 and values[31] == 0.0


def test_lifetime_per_kind_and_the_shortest_for_mixed_patterns() -> None:
    model = DecayModel()
    assert model.lifetime(["ipv4"]) == DEFAULT_LIFETIMES["ipv4"] * DAY
    assert model.lifetime(["ipv4net"]) == DEFAULT_LIFETIMES["ipv4"] * DAY
    assert model.lifetime(["domain"]) == DEFAULT_LIFETIMES["domain"] * DAY
    assert model.lifetime(["sha256"]) == DEFAULT_LIFETIMES["hash"] * DAY
    assert model.lifetime(["sha256", "domain", "ipv4"]) == DEFAULT_LIFETIMES["ipv4"] * DAY
    assert model.lifetime([]) == DEFAULT_LIFETIMES["other"] * DAY


def test_base_score_from_confidence_sightings_and_false_positives() -> None:
    model = DecayModel()
    assert base_score(model, None, 0, 0) == 50.0  # default confidence
    assert base_score(model, 80, 0, 0) == 80.0
    assert base_score(model, 80, 2, 0) == 90.0
    assert base_score(model, 80, 100, 0) == 100.0  # sighting bonus capped, score at most 100
    assert base_score(model, 50, 100, 0) == 75.0
    assert base_score(model, 80, 0, 1) == 60.0
    assert base_score(model, 20, 0, 3) == 0.0  # never below zero
    assert base_score(model, "high", 0, 0) == 50.0  # a non-integer confidence is ignored


def test_expiry_time_solves_the_curve_for_the_threshold() -> None:
    model = DecayModel(threshold=20.0, decay_speed=0.5)
    scored = score(model, indicator(confidence=80), ["ipv4"], START)
    assert not scored.expired and scored.value == 80.0
    assert scored.expires_at is not None
    just_before = score(model, indicator(confidence=80), ["ipv4"], scored.expires_at - DAY // 24)
    just_after = score(model, indicator(confidence=80), ["ipv4"], scored.expires_at + DAY // 24)
    assert not just_before.expired and just_before.value >= 20.0
    assert just_after.expired and just_after.value < 20.0
    assert just_after.reason == "score below the threshold (20)"


def test_a_sighting_restarts_the_clock() -> None:
    model = DecayModel()
    at = START + 29 * DAY
    stale = score(model, indicator(), ["ipv4"], at)
    seen = score(model, indicator(), ["ipv4"], at, sightings=1, last_seen=at - DAY)
    assert stale.expired
    assert not seen.expired and seen.last_activity == at - DAY


def test_false_positives_expire_an_indicator_at_once() -> None:
    model = DecayModel()
    scored = score(model, indicator(confidence=55), ["domain"], START, false_positives=2)
    assert scored.base == 15.0 and scored.expired


def test_valid_until_and_revocation_expire_whatever_the_score() -> None:
    model = DecayModel()
    ended = score(model, indicator(valid_until="2026-01-02T00:00:00Z"), ["sha1"], START + 2 * DAY)
    assert ended.expired and ended.reason == "valid_until has passed"
    assert ended.expires_at == parse_timestamp("2026-01-02T00:00:00Z")
    revoked = score(model, indicator(revoked=True), ["sha1"], START)
    assert revoked.expired and revoked.reason == "revoked"


def test_lifetimes_and_model_settings_parse_and_refuse_nonsense() -> None:
    assert parse_lifetimes("ipv4=7, domain=365")["ipv4"] == 7
    assert parse_lifetimes("")["hash"] == DEFAULT_LIFETIMES["hash"]
    for bad in ("ipv4", "planet=3", "ipv4=-1", "ipv4=0", "ipv4=x"):
        with pytest.raises(InvalidInput):
            parse_lifetimes(bad)
    settings = load_settings(
        {
            "SHIELDWALL_SCORE_THRESHOLD": "35",
            "SHIELDWALL_DECAY_SPEED": "2",
            "SHIELDWALL_DECAY_LIFETIMES": "url=10",
            "SHIELDWALL_DEFAULT_CONFIDENCE": "70",
        }
    )
    assert settings.decay.threshold == 35.0 and settings.decay.decay_speed == 2.0
    assert settings.decay.lifetimes["url"] == 10 and settings.decay.default_confidence == 70
    for name, value in (
        ("SHIELDWALL_SCORE_THRESHOLD", "101"),
        ("SHIELDWALL_DECAY_SPEED", "0"),
        ("SHIELDWALL_DECAY_SPEED", "nan"),
        ("SHIELDWALL_DEFAULT_CONFIDENCE", "-3"),
    ):
        with pytest.raises(InvalidInput, match=name[11:].lower()):
            load_settings({name: value})
