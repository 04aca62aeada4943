"""What matching needs of a STIX indicator, read the same way by the hub and by members."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.timestamps import parse_timestamp


@dataclass(frozen=True, slots=True)
class Matchable:
    """An indicator's id, STIX pattern, ``confidence`` and ``valid_until`` (microseconds)."""

    stix_id: str
    pattern: str
    confidence: int | None
    valid_until: int | None


def matchable(obj: Mapping[str, object]) -> Matchable | None:
    """The matching terms of an indicator, or None if it is revoked, has no id or no STIX
    pattern. A ``valid_until`` that does not parse counts as absent (the hub refuses such
    objects on ingest; a member's cache tolerates them)."""
    stix_id, pattern = obj.get("id"), obj.get("pattern")
    if obj.get("revoked") is True or obj.get("pattern_type", "stix") != "stix":
        return None
    if not isinstance(stix_id, str) or not isinstance(pattern, str):
        return None
    try:
        valid_until = parse_timestamp(obj["valid_until"]) if "valid_until" in obj else None
    except InvalidInput:
        valid_until = None
    confidence = obj.get("confidence")
    return Matchable(
        stix_id, pattern, confidence if isinstance(confidence, int) else None, valid_until
    )
