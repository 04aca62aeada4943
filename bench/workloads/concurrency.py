"""W7 concurrency: many readers walking the collection while a few writers add objects.

Every worker is a thread with its own persistent session; each stops at the end of the
window (finishing the request it is in, which its client timeout bounds). A request that
fails for any reason (connection error, timeout, non-2xx answer) counts as an error.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import httpx

from bench.client import BenchError, TaxiiClient
from bench.data import Envelope
from bench.stats import percentile

MAX_REQUESTS_PER_WORKER = 1_000_000
MAX_ERROR_SAMPLES = 5


@dataclass
class _Tally:
    """Counters shared by the workers (guarded by ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    page_ms: list[float] = field(default_factory=list)
    write_ms: list[float] = field(default_factory=list)
    objects_read: int = 0
    objects_written: int = 0
    errors: int = 0
    samples: list[str] = field(default_factory=list)

    def error(self, exc: Exception) -> None:
        with self.lock:
            self.errors += 1
            if len(self.samples) < MAX_ERROR_SAMPLES:
                self.samples.append(f"{type(exc).__name__}: {str(exc)[:200]}")


@dataclass(frozen=True, slots=True)
class ConcurrencyResult:
    """What the readers and writers achieved in the window."""

    readers: int
    writers: int
    seconds: float
    pages: int
    objects_read: int
    writes: int
    objects_written: int
    errors: int
    error_samples: list[str]
    page_p50_ms: float
    page_p99_ms: float
    write_p50_ms: float
    write_p99_ms: float

    @property
    def pages_per_s(self) -> float:
        """Pages served per second (all readers)."""
        return self.pages / self.seconds if self.seconds else 0.0

    @property
    def objects_read_per_s(self) -> float:
        """Objects read per second (all readers)."""
        return self.objects_read / self.seconds if self.seconds else 0.0

    @property
    def objects_written_per_s(self) -> float:
        """Objects written per second (all writers)."""
        return self.objects_written / self.seconds if self.seconds else 0.0


def _reader(client: TaxiiClient, url: str, limit: int, stop_at: float, tally: _Tally) -> None:
    token: str | None = None
    for _ in range(MAX_REQUESTS_PER_WORKER):
        if time.monotonic() >= stop_at:
            return
        try:
            page = client.page(url, limit=limit, next_token=token)
        except (httpx.HTTPError, BenchError, ValueError) as exc:
            tally.error(exc)
            token = None
            continue
        with tally.lock:
            tally.page_ms.append(page.seconds * 1000.0)
            tally.objects_read += page.count
        token = page.next_token if page.more else None


def _writer(
    client: TaxiiClient, url: str, pool: list[Envelope], stop_at: float, tally: _Tally
) -> None:
    for item in pool:
        if time.monotonic() >= stop_at:
            return
        started = time.perf_counter()
        try:
            status = client.post(url, item.body)
            final = client.wait_complete(str(status["id"]), stop_at + 60.0)
        except (httpx.HTTPError, BenchError, ValueError, KeyError) as exc:
            tally.error(exc)
            continue
        with tally.lock:
            tally.write_ms.append((time.perf_counter() - started) * 1000.0)
            tally.objects_written += int(str(final.get("success_count", 0)))


def run_concurrency(
    clients: list[TaxiiClient],
    url: str,
    *,
    readers: int,
    pools: list[list[Envelope]],
    limit: int,
    duration_s: float,
) -> ConcurrencyResult:
    """Run ``readers`` reader threads and one writer thread per pool for ``duration_s``.

    ``clients`` must hold ``readers + len(pools)`` sessions (readers first).
    """
    tally = _Tally()
    start_gate = threading.Barrier(readers + len(pools) + 1)
    threads: list[threading.Thread] = []
    stop_at = [0.0]

    def run_reader(client: TaxiiClient) -> None:
        start_gate.wait()
        _reader(client, url, limit, stop_at[0], tally)

    def run_writer(client: TaxiiClient, pool: list[Envelope]) -> None:
        start_gate.wait()
        _writer(client, url, pool, stop_at[0], tally)

    for index in range(readers):
        threads.append(threading.Thread(target=run_reader, args=(clients[index],), daemon=True))
    for index, pool in enumerate(pools):
        worker = clients[readers + index]
        threads.append(threading.Thread(target=run_writer, args=(worker, pool), daemon=True))
    for thread in threads:
        thread.start()
    stop_at[0] = time.monotonic() + duration_s
    started = time.perf_counter()
    start_gate.wait()
    for thread in threads:
        thread.join(timeout=duration_s + 600.0)
    seconds = time.perf_counter() - started
    return ConcurrencyResult(
        readers,
        len(pools),
        seconds,
        len(tally.page_ms),
        tally.objects_read,
        len(tally.write_ms),
        tally.objects_written,
        tally.errors,
        list(tally.samples),
        percentile(tally.page_ms, 50),
        percentile(tally.page_ms, 99),
        percentile(tally.write_ms, 50),
        percentile(tally.write_ms, 99),
    )
