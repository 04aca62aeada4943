"""One server run: start a fresh peer, ingest, optionally walk/poll and W7, record, stop."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench import data, servers
from bench.client import TaxiiClient
from bench.data import Dataset
from bench.plan import Plan
from bench.records import RunRecord
from bench.workloads.concurrency import run_concurrency
from bench.workloads.ingest import run_ingest
from bench.workloads.read import poll, walk

START_ATTEMPTS = 3
START_RETRY_S = 10.0
HUB_OBJECTS_MARGIN = 100  # Shieldwall's collection holds a few hub objects besides ours
W7_WRITER_OFFSET = 50_000_000  # indicator numbers of W7 writers (never used by datasets)


@dataclass(frozen=True, slots=True)
class Steps:
    """Which workloads a run performs after ingesting its dataset."""

    walk: bool = False
    concurrency: bool = False


def log(message: str) -> None:
    """Progress on stderr, timestamped."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _w7_pools(plan: Plan) -> list[list[data.Envelope]]:
    per_writer = int(plan.w7_seconds * 20) + 10
    return [
        data.writer_envelopes(
            w, envelopes=per_writer, bundle_size=plan.w7_write_bundle, offset=W7_WRITER_OFFSET
        )
        for w in range(plan.w7_writers)
    ]


def _concurrency(server: servers.Server, url: str, plan: Plan, record: RunRecord) -> None:
    pools = _w7_pools(plan)
    clients = [
        TaxiiClient(server.api_root, server.auth, timeout=plan.w7_request_timeout_s)
        for _ in range(plan.w7_readers + plan.w7_writers)
    ]
    try:
        record.concurrency = run_concurrency(
            clients,
            url,
            readers=plan.w7_readers,
            pools=pools,
            limit=plan.page_limit,
            duration_s=plan.w7_seconds,
        )
    finally:
        for client in clients:
            client.close()
    c = record.concurrency
    log(
        f"  W7 {server.peer}: {c.pages} pages, {c.errors} errors, p50 {c.page_p50_ms:.0f} ms,"
        f" p99 {c.page_p99_ms:.0f} ms, {c.objects_written} objects written"
    )


def _read(client: TaxiiClient, url: str, plan: Plan, record: RunRecord) -> None:
    max_pages = (record.objects + HUB_OBJECTS_MARGIN) // plan.page_limit + 10
    result = walk(
        client, url, limit=plan.page_limit, max_pages=max_pages, budget_s=plan.walk_budget_s
    )
    record.walk = result
    log(
        f"  W2 walk {record.peer} {record.size}: {result.seconds:.2f} s, {result.pages} pages,"
        f" {result.objects} objects, p50 {result.p(50):.1f} ms"
    )
    if result.last_added is not None:
        record.poll = poll(
            client,
            url,
            added_after=result.last_added,
            limit=plan.page_limit,
            repeats=plan.poll_repeats,
            budget_s=plan.poll_budget_s,
        )


def _start(peer: str, label: str, profile: bool) -> servers.Server:
    for attempt in range(START_ATTEMPTS):
        try:
            return servers.start(peer, label, profile=profile)
        except RuntimeError as exc:
            if attempt == START_ATTEMPTS - 1:
                raise
            log(f"  {peer} did not start ({str(exc)[:200]}); retrying")
            time.sleep(START_RETRY_S)
    raise AssertionError("unreachable")


def run_server(
    peer: str,
    kind: str,
    dataset: Dataset,
    plan: Plan,
    repeat: int,
    steps: Steps,
    *,
    profile: bool = False,
) -> tuple[RunRecord, Path | None]:
    """Start ``peer`` fresh, run the steps and stop it; errors are recorded, not raised.

    Returns the record and, when ``profile`` is set, the raw py-spy profile path.
    """
    record = RunRecord(kind, peer, dataset.indicators, repeat, dataset.total_objects)
    label = f"{kind}-{dataset.indicators}-r{repeat}"
    try:
        server = _start(peer, label, profile)
    except RuntimeError as exc:
        record.error = f"start failed: {str(exc)[:500]}"
        log(f"  ERROR {peer} {label}: {record.error}")
        return record, None
    try:
        with TaxiiClient(server.api_root, server.auth, timeout=plan.request_timeout_s) as client:
            url = client.objects_url(server.collection_alias)
            record.ingest = run_ingest(client, url, dataset, plan.ingest_budget_s)
            record.memory_after_ingest = server.memory_kib()
            i = record.ingest
            log(
                f"  W1 {peer} {dataset.indicators}: {i.rate:,.0f} objects/s ({i.seconds:.2f} s,"
                f" {i.successes} ok, {i.failures} failed{'' if i.complete else ', INCOMPLETE'})"
            )
            if steps.walk:
                _read(client, url, plan, record)
                record.memory_after_walk = server.memory_kib()
            if steps.concurrency:
                _concurrency(server, url, plan, record)
            record.memory_end = server.memory_kib()
    except Exception as exc:  # a failed run is reported, the benchmark goes on
        record.error = f"{type(exc).__name__}: {str(exc)[:500]}"
        log(f"  ERROR {peer} {label}: {record.error}")
    finally:
        server.stop()
    return record, server.profile_path
