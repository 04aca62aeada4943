"""W2 read: walk a collection page by page, then poll "anything new since X?"."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bench.client import TaxiiClient
from bench.stats import median, percentile

WINDOW = 5


@dataclass(frozen=True, slots=True)
class WalkResult:
    """One walk: per-page latencies (ms, in order), objects seen and the last date added."""

    limit: int
    objects: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)
    full_pages: list[bool] = field(repr=False)
    last_added: str | None
    complete: bool

    @property
    def pages(self) -> int:
        """Pages fetched."""
        return len(self.latencies_ms)

    def p(self, q: float) -> float:
        """Page latency percentile (ms)."""
        return percentile(self.latencies_ms, q)

    def window(self, where: str) -> float:
        """Median latency (ms) of up to five full pages at the ``start``, ``middle`` or
        ``end`` of the walk."""
        full = [
            ms for ms, is_full in zip(self.latencies_ms, self.full_pages, strict=True) if is_full
        ]
        if not full:
            return float("nan")
        if where == "start":
            chosen = full[:WINDOW]
        elif where == "end":
            chosen = full[-WINDOW:]
        else:
            middle = len(full) // 2
            chosen = full[max(0, middle - WINDOW // 2) : middle + WINDOW // 2 + 1]
        return median(chosen)


@dataclass(frozen=True, slots=True)
class PollResult:
    """Repeated empty polls: latencies (ms) and how many objects came back (should be 0)."""

    latencies_ms: list[float]
    returned: int


def walk(
    client: TaxiiClient, objects_url: str, *, limit: int, max_pages: int, budget_s: float
) -> WalkResult:
    """Follow ``next`` from the first page to the last (bounded in pages and time)."""
    deadline = time.monotonic() + budget_s
    latencies: list[float] = []
    full: list[bool] = []
    objects = 0
    token: str | None = None
    last: str | None = None
    complete = False
    started = time.perf_counter()
    for _ in range(max_pages):
        page = client.page(objects_url, limit=limit, next_token=token)
        latencies.append(page.seconds * 1000.0)
        full.append(page.count == limit)
        objects += page.count
        last = page.date_added_last or last
        token = page.next_token
        if not page.more or token is None:
            complete = not page.more
            break
        if time.monotonic() > deadline:
            break
    seconds = time.perf_counter() - started
    return WalkResult(limit, objects, seconds, latencies, full, last, complete)


def poll(
    client: TaxiiClient,
    objects_url: str,
    *,
    added_after: str,
    limit: int,
    repeats: int,
    budget_s: float,
) -> PollResult:
    """Ask ``repeats`` times (at least once, then while the budget lasts) for objects added
    after ``added_after``."""
    deadline = time.monotonic() + budget_s
    latencies: list[float] = []
    returned = 0
    for _ in range(max(1, repeats)):
        page = client.page(objects_url, limit=limit, added_after=added_after)
        latencies.append(page.seconds * 1000.0)
        returned += page.count
        if time.monotonic() > deadline:
            break
    return PollResult(latencies, returned)
