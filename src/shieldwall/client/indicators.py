"""The member's local copy of the indicators it may read, refreshed incrementally over TAXII.

One JSON file per hub and key in the state directory (mode 600): for each readable
collection the ``X-TAXII-Date-Added-Last`` seen, and for each indicator what matching shows
(pattern, TLP, confidence, validity). A refresh asks each collection only for what was added
after that point (``added_after``); revoked indicators leave the cache. The hub decides what
the key may read: the cache holds nothing else. Each refresh also fetches the ids the hub's
matching leaves out (score decayed, warning-listed and unconfirmed, …): ``live`` skips them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from shieldwall.client.hub import HubClient
from shieldwall.domain.indicators import matchable
from shieldwall.domain.tlp import tlp_from_markings


@dataclass(frozen=True, slots=True)
class CachedIndicator:
    """What local matching needs of one indicator."""

    stix_id: str
    pattern: str
    tlp: str
    confidence: int | None
    valid_until: int | None
    collection_id: str

    def live(self, now: int) -> bool:
        """Not expired at ``now`` (microseconds)."""
        return self.valid_until is None or self.valid_until > now


def _entry(obj: dict[str, Any], collection_id: str) -> CachedIndicator | None:
    terms = matchable(obj)
    if terms is None:
        return None
    level = tlp_from_markings(obj.get("object_marking_refs"))
    return CachedIndicator(
        terms.stix_id,
        terms.pattern,
        level.label if level is not None else "TLP:?",
        terms.confidence,
        terms.valid_until,
        collection_id,
    )


class IndicatorCache:
    """The cached indicators of one hub as one key sees them."""

    def __init__(self, hub_url: str, key: str, state_dir: Path) -> None:
        hub = hashlib.sha256(hub_url.rstrip("/").encode()).hexdigest()[:12]
        who = hashlib.sha256(key.encode()).hexdigest()[:12]
        self.path = state_dir / f"indicators-{hub}-{who}.json"
        self.added_after: dict[str, str] = {}
        self.indicators: dict[str, CachedIndicator] = {}
        self.excluded: set[str] = set()
        if self.path.exists():
            try:
                data = orjson.loads(self.path.read_bytes())
                self.added_after = dict(data["added_after"])
                self.indicators = {row[0]: CachedIndicator(*row) for row in data["indicators"]}
                self.excluded = set(data.get("excluded", []))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                self.added_after, self.indicators = {}, {}  # damaged: start again

    def save(self) -> None:
        """Write the cache (owner-only permissions), atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        rows = [
            [i.stix_id, i.pattern, i.tlp, i.confidence, i.valid_until, i.collection_id]
            for i in self.indicators.values()
        ]
        data = orjson.dumps(
            {"added_after": self.added_after, "indicators": rows, "excluded": sorted(self.excluded)}
        )
        temporary = self.path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        temporary.replace(self.path)

    def refresh(
        self, client: HubClient, progress: Callable[[int], None] | None = None
    ) -> tuple[int, int]:
        """Fetch what was added since the last refresh: ``(added or changed, removed)``."""
        added = removed = 0
        for collection in client.collections():
            collection_id = str(collection["id"])
            since = self.added_after.get(collection_id)
            following: str | None = None
            while True:
                objects, following, last = client.indicators_page(collection_id, since, following)
                for obj in objects:
                    entry = _entry(obj, collection_id)
                    if entry is None:
                        removed += self.indicators.pop(str(obj.get("id")), None) is not None
                    else:
                        self.indicators[entry.stix_id] = entry
                        added += 1
                if progress is not None:
                    progress(len(objects))
                if last is not None:
                    self.added_after[collection_id] = last
                if following is None:
                    break
        self.excluded = set(client.excluded_indicators())
        return added, removed

    def live(self, now: int) -> list[CachedIndicator]:
        """The cached indicators to match at ``now``: not past ``valid_until`` and not left
        out by the hub's matching at the last refresh."""
        return [
            i for i in self.indicators.values() if i.live(now) and i.stix_id not in self.excluded
        ]
