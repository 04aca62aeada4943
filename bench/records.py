"""One record per server run, and their JSON form (``bench/results/results.json``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from bench.workloads.concurrency import ConcurrencyResult
from bench.workloads.ingest import IngestResult
from bench.workloads.read import PollResult, WalkResult


@dataclass
class RunRecord:
    """Everything measured on one fresh server process.

    ``kind`` is ``pair`` (side by side with the other peer at the same size), ``solo``
    (Shieldwall alone: large sizes) or ``w7-small`` (W7 side by side on a small
    collection). ``size`` counts generated indicators; ``objects`` all objects posted.
    """

    kind: str
    peer: str
    size: int
    repeat: int
    objects: int
    ingest: IngestResult | None = None
    walk: WalkResult | None = None
    poll: PollResult | None = None
    concurrency: ConcurrencyResult | None = None
    memory_after_ingest: dict[str, int] = field(default_factory=dict)
    memory_after_walk: dict[str, int] = field(default_factory=dict)
    memory_end: dict[str, int] = field(default_factory=dict)
    error: str | None = None


def _derived(record: RunRecord) -> dict[str, object]:
    extra: dict[str, object] = {}
    if record.ingest is not None:
        extra["ingest_rate"] = record.ingest.rate
    if record.walk is not None:
        extra["walk_pages"] = record.walk.pages
        extra["walk_p50_ms"] = record.walk.p(50)
        extra["walk_p95_ms"] = record.walk.p(95)
        extra["walk_windows_ms"] = {w: record.walk.window(w) for w in ("start", "middle", "end")}
    if record.concurrency is not None:
        extra["w7_pages_per_s"] = record.concurrency.pages_per_s
        extra["w7_objects_read_per_s"] = record.concurrency.objects_read_per_s
        extra["w7_objects_written_per_s"] = record.concurrency.objects_written_per_s
    return extra


def to_json(record: RunRecord) -> dict[str, object]:
    """A plain-data form of ``record`` with the derived figures added."""
    data = dataclasses.asdict(record)
    data["derived"] = _derived(record)
    return data
