"""Helpers shared by the matching and private-lookup tests."""

from __future__ import annotations

import uuid


def indicator(pattern: str, **extra: object) -> dict[str, object]:
    """A STIX 2.1 indicator with ``pattern`` (valid from 2020) and any ``extra`` properties;
    its id is derived from both, so equal arguments give the same object."""
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, pattern + str(extra))}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2020-01-01T00:00:00Z",
        **extra,
    }
