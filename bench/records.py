"""One record per server run or in-process workload repeat, and their JSON form
(``bench/results/results.json``)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from bench.workloads.concurrency import ConcurrencyResult
from bench.workloads.ingest import IngestResult
from bench.workloads.lookup import HttpLookupResult, LookupResult
from bench.workloads.matching import CompileResult, MatchResult, MemoryResult
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


def _build(cls: type[Any], value: object) -> Any:
    """A dataclass from its ``asdict`` form; JSON nulls in float fields become NaN."""
    if not isinstance(value, dict):
        return None
    kwargs: dict[str, object] = {}
    for item in dataclasses.fields(cls):
        raw = value.get(item.name)
        if raw is None and "float" in str(item.type) and "None" not in str(item.type):
            raw = math.nan
        if isinstance(raw, list) and "float" in str(item.type):
            raw = [math.nan if v is None else v for v in raw]
        kwargs[item.name] = raw
    return cls(**kwargs)


def from_json(data: dict[str, Any]) -> RunRecord:
    """The inverse of ``to_json`` (derived figures are recomputed, not read)."""
    return RunRecord(
        kind=data["kind"],
        peer=data["peer"],
        size=data["size"],
        repeat=data["repeat"],
        objects=data["objects"],
        ingest=_build(IngestResult, data.get("ingest")),
        walk=_build(WalkResult, data.get("walk")),
        poll=_build(PollResult, data.get("poll")),
        concurrency=_build(ConcurrencyResult, data.get("concurrency")),
        memory_after_ingest=data.get("memory_after_ingest") or {},
        memory_after_walk=data.get("memory_after_walk") or {},
        memory_end=data.get("memory_end") or {},
        error=data.get("error"),
    )


LOCAL_TYPES: dict[str, type[Any]] = {
    "W3": MatchResult,
    "W4": CompileResult,
    "W5": LookupResult,
    "W5-http": HttpLookupResult,
    "W6": MemoryResult,
}


@dataclass
class LocalRecord:
    """One repeat of an in-process workload (W3–W6; ``W5-http`` is W5 through a real hub),
    measured in a fresh process with the peer side by side in it."""

    workload: str
    repeat: int
    result: Any = None  # one of LOCAL_TYPES[workload], None when the run failed
    error: str | None = None


def local_result(workload: str, data: dict[str, Any]) -> Any:
    """The result dataclass of ``workload`` from its ``asdict`` form (unknown keys ignored;
    JSON nulls stay None)."""
    cls = LOCAL_TYPES[workload]
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def local_to_json(record: LocalRecord) -> dict[str, object]:
    """The plain-data form of a local record."""
    result = None if record.result is None else dataclasses.asdict(record.result)
    return {
        "workload": record.workload,
        "repeat": record.repeat,
        "result": result,
        "error": record.error,
    }


def local_from_json(data: dict[str, Any]) -> LocalRecord:
    """The inverse of ``local_to_json``."""
    workload = str(data["workload"])
    raw = data.get("result")
    result = local_result(workload, raw) if isinstance(raw, dict) else None
    return LocalRecord(workload, int(data["repeat"]), result, data.get("error"))
