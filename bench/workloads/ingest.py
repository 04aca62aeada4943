"""W1 ingest: POST envelopes, then GET each status until it is complete."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.client import TaxiiClient
from bench.data import Dataset
from bench.stats import percentile


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What one ingest run achieved (``complete`` is False when the budget ran out)."""

    posted: int
    successes: int
    failures: int
    seconds: float
    post_p50_ms: float
    post_p95_ms: float
    complete: bool

    @property
    def rate(self) -> float:
        """Objects processed per second (the statuses' success plus failure counts)."""
        done = self.successes + self.failures
        return done / self.seconds if self.seconds > 0 else 0.0


def run_ingest(
    client: TaxiiClient, objects_url: str, dataset: Dataset, budget_s: float
) -> IngestResult:
    """POST every envelope of ``dataset`` (stopping when ``budget_s`` is spent), then GET
    each status until complete. The clock covers both."""
    started = time.perf_counter()
    deadline = time.monotonic() + budget_s
    status_ids: list[str] = []
    latencies: list[float] = []
    posted = 0
    for item in dataset.envelopes:
        if time.monotonic() > deadline:
            break
        before = time.perf_counter()
        status = client.post(objects_url, item.body)
        latencies.append((time.perf_counter() - before) * 1000.0)
        status_ids.append(str(status["id"]))
        posted += item.count
    successes = failures = 0
    complete = posted == dataset.total_objects
    for status_id in status_ids:
        final = client.wait_complete(status_id, deadline + budget_s)
        complete = complete and final.get("status") == "complete"
        successes += int(str(final.get("success_count", 0)))
        failures += int(str(final.get("failure_count", 0)))
    seconds = time.perf_counter() - started
    return IngestResult(
        posted,
        successes,
        failures,
        seconds,
        percentile(latencies, 50),
        percentile(latencies, 95),
        complete,
    )
