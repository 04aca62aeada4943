"""Crash safety: SIGKILL a live ``shieldwall serve`` in the middle of ingest, many times.

Client threads post bundles of ``PER_REQUEST`` indicators (fresh ids, each named after its
request) back to back, recording every status that came back complete; the server process
is killed with SIGKILL at a random moment (after a random number of requests completed in
its life, plus a random delay), restarted on the same database, and the clients carry on.
At the end, through TAXII on a fresh process:

- every object of a complete status is there, exactly one version, exactly as sent, and the
  status itself can still be read;
- no request is half-stored: a request whose answer never arrived (the kill cut it off) has
  all of its objects stored or none of them;
- nothing else was stored;
- SQLite: ``PRAGMA integrity_check`` on the file after a clean final stop is ``ok``.

Every loop is bounded in count and time. The random moments come from a seeded generator;
the seed is printed, and ``CRASH_TEST_SEED=N`` runs with it again (timing still varies).
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from conftest import LiveServer, database_url, start_server, stop_server
from shieldwall.bootstrap import build_hub
from shieldwall.services import admin
from shieldwall.settings import Settings
from shieldwall.storage.backup import integrity_problems
from shieldwall.storage.database import Database

pytestmark = [pytest.mark.slow]

TAXII = "application/taxii+json;version=2.1"
OBJECTS = "/taxii2/hub/collections/shared/objects/"
MANIFEST = "/taxii2/hub/collections/shared/manifest/"
STATUS = "/taxii2/hub/status/"
PER_REQUEST = 200
CLIENTS = 2
KILLS = {"sqlite": 10, "postgresql": 5}  # PostgreSQL: fewer, to fit the time budget
# Each life, the kill comes after 0-2 requests completed (so every life makes progress,
# however slow the machine) plus a random delay: at a random point of a later request.
COMPLETE_BEFORE_KILL = (0, 2)
KILL_AFTER_SECONDS = (0.0, 0.5)
MAX_REQUESTS_PER_LIFE = 25  # per client
TEST_DEADLINE_SECONDS = 240.0
STAMP = "2024-03-01T00:00:00.000Z"


@dataclass
class Sent:
    """One add-objects request and what became of it."""

    tag: str
    objects: list[dict[str, Any]]
    outcome: str = "unsent"  # complete | in-doubt | interrupted | unexpected
    status: dict[str, Any] | None = None
    detail: str = ""

    @property
    def ids(self) -> list[str]:
        return [o["id"] for o in self.objects]


@dataclass
class Ledger:
    requests: list[Sent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sent: Sent) -> None:
        with self.lock:
            self.requests.append(sent)

    def completed(self) -> int:
        with self.lock:
            return sum(1 for s in self.requests if s.outcome == "complete")


def bundle(tag: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{uuid.uuid4()}",
            "created": STAMP,
            "modified": STAMP,
            "name": f"crash {tag} #{i}",
            "pattern": f"[ipv4-addr:value = '10.{i % 250}.{len(tag) % 250}.1']",
            "pattern_type": "stix",
            "valid_from": "2024-03-01T00:00:00Z",
        }
        for i in range(PER_REQUEST)
    ]


def post_until_killed(
    url: str, key: str, life: int, client_no: int, stop: threading.Event, ledger: Ledger
) -> None:
    """Post bundles back to back until the server dies (or ``stop``/the cap)."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": TAXII, "Accept": TAXII}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        for n in range(MAX_REQUESTS_PER_LIFE):
            if stop.is_set():
                return
            sent = Sent(f"{life}.{client_no}.{n}", bundle(f"{life}.{client_no}.{n}"))
            ledger.add(sent)
            try:
                response = client.post(OBJECTS, content=orjson.dumps({"objects": sent.objects}))
            except httpx.ConnectError:
                sent.outcome = "in-doubt"  # never reached the server
                return
            except httpx.TransportError as exc:
                sent.outcome = "interrupted"  # the kill cut the request or its answer off
                sent.detail = repr(exc)
                return
            body = response.json() if response.status_code == 202 else None
            if (
                body is not None
                and body["status"] == "complete"
                and body["success_count"] == body["total_count"] == PER_REQUEST
            ):
                sent.outcome = "complete"
                sent.status = body
            else:
                sent.outcome = "unexpected"
                sent.detail = f"{response.status_code} {response.text[:300]}"
                return


def setup_database(url: str) -> str:
    hub = build_hub(Settings().with_overrides(database_url=url))
    admin.add_organisation(hub, "Crash Bank", "financial", "US", "member")
    key = admin.create_key(hub, "Crash Bank", "crash test")
    assert isinstance(hub.store, Database)
    hub.store.dispose()
    return key


def walk(client: httpx.Client, path: str) -> list[dict[str, Any]]:
    """Every indicator version on ``path`` (manifest or objects), following ``next``."""
    params = {"match[type]": "indicator", "match[version]": "all", "limit": "10000"}
    found: list[dict[str, Any]] = []
    for _ in range(100):
        response = client.get(path, params=params)
        assert response.status_code == 200, response.text[:300]
        page = response.json()
        found.extend(page.get("objects", []))
        if not page["more"]:
            return found
        params["next"] = page["next"]
    raise AssertionError("the walk did not end within 100 pages")


def kill(server: LiveServer) -> None:
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=30)


@pytest.mark.parametrize(
    "engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_sigkill_during_ingest_loses_nothing_complete_and_half_writes_nothing(
    engine: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    seed = int(os.environ.get("CRASH_TEST_SEED") or random.randrange(2**32))
    print(f"crash-safety seed {seed} ({engine})")
    rng = random.Random(seed)
    url = database_url(engine, tmp_path)
    key = setup_database(url)
    ledger = Ledger()
    kills = 0
    while kills < KILLS[engine]:
        assert time.monotonic() - started < TEST_DEADLINE_SECONDS, f"only {kills} kills in time"
        server = start_server(url, tmp_path)
        stop = threading.Event()
        clients = [
            threading.Thread(
                target=post_until_killed,
                args=(server.url, key, kills, n, stop, ledger),
                daemon=True,
            )
            for n in range(CLIENTS)
        ]
        done_before = ledger.completed()
        wanted = rng.randint(*COMPLETE_BEFORE_KILL)
        wait_until = time.monotonic() + 60
        for thread in clients:
            thread.start()
        while (
            ledger.completed() - done_before < wanted
            and time.monotonic() < wait_until
            and any(t.is_alive() for t in clients)
        ):
            time.sleep(0.01)
        time.sleep(rng.uniform(*KILL_AFTER_SECONDS))
        kill(server)
        kills += 1
        stop.set()
        for thread in clients:
            thread.join(timeout=60)
            assert not thread.is_alive()

    unexpected = [s for s in ledger.requests if s.outcome in ("unexpected", "unsent")]
    assert not unexpected, [(s.tag, s.outcome, s.detail) for s in unexpected]
    complete = [s for s in ledger.requests if s.status is not None]
    cut_off = [s for s in ledger.requests if s.outcome == "interrupted"]
    assert complete, "no request completed between kills"

    server = start_server(url, tmp_path)
    try:
        headers = {"Authorization": f"Bearer {key}", "Accept": TAXII}
        with httpx.Client(base_url=server.url, headers=headers, timeout=120) as client:
            manifest = walk(client, MANIFEST)
            objects = walk(client, OBJECTS)
            statuses = {
                s.tag: client.get(f"{STATUS}{s.status['id']}/") for s in complete if s.status
            }
    finally:
        stop_server(server)

    versions = Counter(record["id"] for record in manifest)
    assert len(objects) == len(manifest)
    sent_by_id = {o["id"]: o for s in ledger.requests for o in s.objects}
    # Nothing but what was sent, and no id twice (one version each).
    assert set(versions) <= set(sent_by_id)
    assert [i for i, n in versions.items() if n != 1] == []
    # Every stored object is whole: exactly the body that was sent.
    for stored in objects:
        body = {k: v for k, v in stored.items() if k != "object_marking_refs"}
        assert body == sent_by_id[stored["id"]]
    # All or nothing per request; everything of a complete one.
    stored_after_cut = 0
    for sent in ledger.requests:
        present = sum(1 for i in sent.ids if i in versions)
        assert present in (0, PER_REQUEST), (sent.tag, sent.outcome, present)
        if sent.outcome == "complete":
            assert present == PER_REQUEST, sent.tag
            answer = statuses[sent.tag]
            assert answer.status_code == 200, answer.text[:300]
            assert answer.json() == sent.status
        elif present:
            stored_after_cut += 1
    print(
        f"{engine}: {kills} kills, {len(ledger.requests)} requests, {len(complete)} complete,"
        f" {len(cut_off)} cut off by a kill ({stored_after_cut} of all unanswered ones were"
        f" committed before the kill), {len(manifest)} objects stored,"
        f" {time.monotonic() - started:.1f} s"
    )
    assert cut_off, "no kill landed while a request was in flight"

    if engine == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        assert integrity_problems(path) == []
