"""Per-reader snapshots of live indicators held in memory (see ``services.indicators``)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from shieldwall.domain.policy import ReaderFilter
from shieldwall.domain.queries import Cursor

MICROS = 1_000_000


@dataclass(frozen=True, slots=True)
class Indicator:
    """What matching needs of one indicator version."""

    stix_id: str
    pattern: str
    tlp: int
    confidence: int | None
    valid_until: int | None
    collection_id: str
    expires_at: int | None = None  # when it leaves matching: valid_until or score decay


@dataclass
class Snapshot:
    """The live indicators one reader may read, and where reading stopped per collection.

    ``generation`` grows whenever ``indicators`` changes; derived artefacts record the
    generation they were built from. ``derived`` holds them by name (owned by their service).
    ``next_expiry`` is at most the earliest ``expires_at`` held (None: nothing expires), so
    a refresh looks for expired indicators only once one may have expired. ``sightings``
    (figures by indicator id) and ``confirmed`` (warning-list confirmations) are read on
    each full build and feed the scores.
    """

    built_at: int
    indicators: dict[str, Indicator] = field(default_factory=dict)
    cursors: dict[str, Cursor] = field(default_factory=dict)
    generation: int = 0
    next_expiry: int | None = None
    derived: dict[str, tuple[int, Any]] = field(default_factory=dict)
    sightings: dict[str, Any] = field(default_factory=dict)
    confirmed: set[str] = field(default_factory=set)
    # ids of indicators the reader may read that are out of matching (revoked, expired,
    # warning-listed and unconfirmed): members' local caches drop them
    excluded: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


class SnapshotCache:
    """Snapshots for the most recently served readers (least recently used are dropped)."""

    def __init__(self, capacity: int = 8) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[int, ReaderFilter], Snapshot] = OrderedDict()

    def get(self, key: tuple[int, ReaderFilter], now: int, max_age: int) -> Snapshot:
        """The snapshot for ``key``, a new empty one if absent or older than ``max_age`` s."""
        with self._lock:
            snapshot = self._entries.get(key)
            if snapshot is None or now - snapshot.built_at > max_age * MICROS:
                snapshot = Snapshot(built_at=now)
                self._entries[key] = snapshot
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
            return snapshot

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
