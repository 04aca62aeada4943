"""Scale-out: several ``shieldwall serve`` processes on ONE PostgreSQL database, and a
bounded load test (loopback only).

The cluster: a fresh database migrated with ``shieldwall db upgrade`` (organisations and
keys through the services the ``org add`` and ``key create`` commands call), then two
server processes started at the same time on it.
Rate limits are off (``SHIELDWALL_RATE_LIMIT_PER_MINUTE=0``: the load test sends far more
than 12,000 requests a minute with one key per process).

What must hold across processes:

- writes: no duplicate (id, version), even when the same objects are posted to both
  processes at the same instant (both statuses report success, one row is stored); new
  versions of the same ids from both processes are all kept; no complete status is lost;
  another organisation cannot add a version to an id it does not own through either;
- reads: a walk through the manifest with a small ``limit``, following each ``next`` token
  on the *other* process, never repeats an entry and never skips one that was committed
  when the walk began, while writers keep adding;
- blind tokens: the same token spent on both processes at once is accepted exactly once,
  and two publishers running at once publish each submission once; a member's token
  quota is never exceeded by concurrent issuance.

The load test (50 readers and 5 writers for a fixed time, against one SQLite server and
against the two PostgreSQL processes) asserts zero errors and no lost writes, and only
prints latencies.
"""

from __future__ import annotations

import base64
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import create_engine, text
from voprf import ristretto

from conftest import LiveServer, cli, fresh_postgres_database, start_server, stop_server
from shieldwall.bootstrap import build_hub
from shieldwall.client.hub import HubClient
from shieldwall.client.wallet import Wallet, fetch_tokens
from shieldwall.domain.timestamps import parse_timestamp
from shieldwall.services import admin, anonymity
from shieldwall.settings import Settings
from shieldwall.storage.database import Database

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reliability-scale-out")]

TAXII = "application/taxii+json;version=2.1"
COLLECTION = "/taxii2/hub/collections/shared/"
OBJECTS = f"{COLLECTION}objects/"
MANIFEST = f"{COLLECTION}manifest/"
ANON = "/api/v1/anon"
SERVER_ENV = {"SHIELDWALL_RATE_LIMIT_PER_MINUTE": "0"}
STAMP = "2024-04-01T00:00:00.000Z"
JOIN_SECONDS = 120.0


def indicator(oid: str | None = None, modified: str = STAMP, name: str = "") -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": oid or f"indicator--{uuid.uuid4()}",
        "created": STAMP,
        "modified": modified,
        "name": name or "scale-out",
        "pattern": "[domain-name:value = 'scale-out.example']",
        "pattern_type": "stix",
        "valid_from": "2024-04-01T00:00:00Z",
    }


def version_of(obj: dict[str, Any]) -> tuple[str, int]:
    return str(obj["id"]), parse_timestamp(obj["modified"])


def run_threads(targets: list[Callable[[], None]], timeout: float = JOIN_SECONDS) -> None:
    """Run each callable in a thread; re-raise the first exception any of them raised."""
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as exc:  # reported to the test below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(t,), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
        assert not thread.is_alive(), "a worker thread did not finish in time"
    if errors:
        raise errors[0]


def client_for(server: LiveServer, key: str | None) -> httpx.Client:
    headers = {"Accept": "application/json, application/taxii+json;version=2.1"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return httpx.Client(base_url=server.url, headers=headers, timeout=60)


def post(client: httpx.Client, objects: list[dict[str, Any]]) -> dict[str, Any]:
    response = client.post(
        OBJECTS, content=orjson.dumps({"objects": objects}), headers={"Content-Type": TAXII}
    )
    assert response.status_code == 202, response.text[:500]
    status = response.json()
    assert status["status"] == "complete", status
    return dict(status)


def walk(
    clients: list[httpx.Client], limit: int, params: dict[str, str] | None = None
) -> tuple[list[dict[str, Any]], int]:
    """Every manifest entry (all versions), page by page, each page from the next client
    in turn (so a ``next`` token issued by one process is followed on another)."""
    query = {"match[version]": "all", "limit": str(limit), **(params or {})}
    entries: list[dict[str, Any]] = []
    for page_no in range(10_000):
        response = clients[page_no % len(clients)].get(MANIFEST, params=query)
        assert response.status_code == 200, response.text[:300]
        page = response.json()
        entries.extend(page.get("objects", []))
        if not page["more"]:
            return entries, page_no + 1
        query["next"] = page["next"]
    raise AssertionError("walk did not end")


def entry_key(entry: dict[str, Any]) -> tuple[str, int]:
    return str(entry["id"]), parse_timestamp(entry["version"])


# --- the cluster ------------------------------------------------------------------------


@dataclass
class Cluster:
    database: str
    servers: list[LiveServer]
    keys: dict[str, str]
    tmp_path: Path


def start_together(database: str, tmp_path: Path, count: int) -> list[LiveServer]:
    """Start ``count`` servers on one database at the same moment (first start-up and
    migrations must take turns on the database's locks)."""
    started: list[LiveServer] = []
    lock = threading.Lock()

    def start() -> None:
        server = start_server(database, tmp_path, extra_env=SERVER_ENV)
        with lock:
            started.append(server)

    try:
        run_threads([start] * count)
    except BaseException:
        for server in started:
            stop_server(server)
        raise
    return started


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    database = fresh_postgres_database()
    tmp_path = tmp_path_factory.mktemp("scale-out")
    cli("db", "upgrade", database=database)
    # Organisations and keys through the services ``org add`` and ``key create`` call, in
    # this process: more command-line processes would cost more start-up time than the
    # tests that follow.
    setup = build_hub(Settings().with_overrides(database_url=database))
    admin.add_organisation(setup, "Alpha Bank", "financial", "US", "member")
    admin.add_organisation(setup, "Beta Law", "legal", "GB", "member")
    wanted = {"alpha-1": "Alpha Bank", "alpha-2": "Alpha Bank", "beta": "Beta Law"}
    keys = {handle: admin.create_key(setup, org, handle) for handle, org in wanted.items()}
    assert isinstance(setup.store, Database)
    setup.store.dispose()
    servers = start_together(database, tmp_path, 2)
    try:
        yield Cluster(database, servers, keys, tmp_path)
    finally:
        for server in servers:
            stop_server(server)


# --- races on first use ---------------------------------------------------------------------


def race(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Send every call at the same instant (a barrier); their answers."""
    barrier = threading.Barrier(len(calls))
    answers: list[httpx.Response] = []

    def go(call: Callable[[], httpx.Response]) -> Callable[[], None]:
        def run() -> None:
            barrier.wait(timeout=60)
            answers.append(call())

        return run

    run_threads([go(c) for c in calls])
    return answers


def codes(answers: list[httpx.Response]) -> list[int]:
    return sorted(a.status_code for a in answers)


@pytest.mark.postgres
@pytest.mark.parametrize("first_use", ["epoch key", "first issuance"])
def test_concurrent_first_use_of_an_epoch_is_not_an_error(cluster: Cluster, first_use: str) -> None:
    """Each attempt forgets the rows first use creates, then fires 12 requests at the two
    processes at once: every one must succeed."""
    engine = create_engine(cluster.database.replace("postgresql://", "postgresql+psycopg://"))
    clients = [client_for(s, cluster.keys["beta"]) for s in cluster.servers]
    answers: list[list[int]] = []
    try:
        for _ in range(4):
            with engine.begin() as connection:
                if first_use == "epoch key":
                    connection.execute(text("DELETE FROM token_issuance"))
                    connection.execute(text("DELETE FROM token_epochs"))
                else:
                    connection.execute(text("DELETE FROM token_issuance"))
            if first_use == "epoch key":
                calls = [lambda c=c: c.get(f"{ANON}/keys") for c in clients * 6]
            else:
                epoch = clients[0].get(f"{ANON}/keys").json()["epochs"][-1]["epoch"]
                blinded = {"epoch": epoch, "blinded": [blinded_element()]}
                calls = [
                    lambda c=c, b=blinded: c.post(f"{ANON}/tokens", json=b) for c in clients * 6
                ]
            answers.append(codes(race(calls)))
    finally:
        for client in clients:
            client.close()
        engine.dispose()
    assert all(status == 200 for attempt in answers for status in attempt), answers


def blinded_element() -> str:
    """A blinded element as a member's client makes one (base64)."""
    _, blinded = ristretto.Client.blind(b"scale-out")
    return base64.b64encode(bytes(blinded.serialize())).decode()


# --- writes and reads across processes ---------------------------------------------------


@dataclass
class WriteLog:
    committed: set[tuple[str, int]] = field(default_factory=set)  # from complete statuses
    refused: set[tuple[str, int]] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, sent: list[dict[str, Any]], status: dict[str, Any]) -> None:
        ok = {d["id"] for d in status.get("successes", [])}
        with self.lock:
            for obj in sent:
                (self.committed if obj["id"] in ok else self.refused).add(version_of(obj))

    def snapshot(self) -> set[tuple[str, int]]:
        with self.lock:
            return set(self.committed)


@pytest.mark.postgres
def test_two_processes_write_and_page_consistently(cluster: Cluster) -> None:
    a, b = cluster.servers
    shared_ids = [f"indicator--{uuid.uuid4()}" for _ in range(10)]
    rounds = 10
    log = WriteLog()
    writers_done = threading.Event()
    pair = threading.Barrier(2)
    walks: list[tuple[int, int, int]] = []  # (entries, pages, committed at start)
    twin_statuses: dict[int, list[dict[str, Any]]] = {}

    def round_stamp(r: int) -> str:
        return f"2024-05-{r + 2:02d}T00:00:00.000Z"

    def twin(server: LiveServer, key: str) -> Callable[[], None]:
        """Post round r's versions of the shared ids, at the same instant as the twin on
        the other process, plus objects of its own."""

        def run() -> None:
            with client_for(server, key) as client:
                for r in range(rounds):
                    shared = [indicator(i, round_stamp(r), f"shared r{r}") for i in shared_ids]
                    own = [indicator(name=f"own {server.url} r{r}") for _ in range(20)]
                    pair.wait(timeout=60)
                    status = post(client, shared + own)
                    assert status["failure_count"] == 0, status
                    assert status["success_count"] == len(shared) + len(own)
                    log.record(shared + own, status)
                    with log.lock:
                        twin_statuses.setdefault(r, []).append(status)

        return run

    with client_for(a, cluster.keys["alpha-1"]) as client:  # Alpha owns the shared ids
        first = [indicator(i, round_stamp(-1), "shared, first") for i in shared_ids]
        log.record(first, post(client, first))

    def outsider() -> None:
        """Another organisation, on both processes in turn: its own objects are stored,
        its versions of Alpha's ids are refused."""
        clients = [client_for(s, cluster.keys["beta"]) for s in cluster.servers]
        try:
            for r in range(rounds):
                own = [indicator(name=f"beta r{r}") for _ in range(15)]
                takeover = indicator(shared_ids[r % 10], f"2030-01-{r + 1:02d}T00:00:00.000Z")
                status = post(clients[r % 2], [*own, takeover])
                assert [d["id"] for d in status["failures"]] == [takeover["id"]], status
                log.record([*own, takeover], status)
        finally:
            for client in clients:
                client.close()

    def reader(first: int) -> Callable[[], None]:
        def run() -> None:
            clients = [client_for(s, cluster.keys["beta"]) for s in cluster.servers]
            clients = clients[first:] + clients[:first]
            try:
                for walk_no in range(30):
                    if walk_no and writers_done.is_set():
                        return
                    before = log.snapshot()
                    entries, pages = walk(clients, limit=37)
                    keys = [entry_key(e) for e in entries]
                    duplicated = [k for k, n in Counter(keys).items() if n > 1]
                    assert not duplicated, duplicated
                    missing = before - set(keys)
                    assert not missing, sorted(missing)[:5]
                    added = [parse_timestamp(e["date_added"]) for e in entries]
                    assert added == sorted(added), "manifest pages out of date_added order"
                    walks.append((len(entries), pages, len(before)))
            finally:
                for client in clients:
                    client.close()

        return run

    def writers() -> None:
        try:
            run_threads(
                [
                    twin(a, cluster.keys["alpha-1"]),
                    twin(b, cluster.keys["alpha-2"]),
                    outsider,
                ]
            )
        finally:
            writers_done.set()

    run_threads([writers, reader(0), reader(1)], timeout=240)
    print(f"walks during writes (entries, pages, committed at start): {walks}")
    assert len(walks) >= 2
    # Of the two statuses of each round, exactly one stored each shared version; the
    # other found it already stored.
    for r in range(rounds):
        assert len(twin_statuses[r]) == 2
        for oid in shared_ids:
            messages = [
                d.get("message", "")
                for status in twin_statuses[r]
                for d in status["successes"]
                if d["id"] == oid
            ]
            assert sorted("already stored" in m for m in messages) == [False, True], messages

    clients = [client_for(s, cluster.keys["alpha-1"]) for s in cluster.servers]
    try:
        final_a, _ = walk([clients[0]], limit=1000)
        final_b, _ = walk([clients[1]], limit=1000)
        assert final_a == final_b
        keys = [entry_key(e) for e in final_a]
        assert [k for k, n in Counter(keys).items() if n > 1] == []
        assert log.committed <= set(keys), sorted(log.committed - set(keys))[:5]
        assert not log.refused & set(keys)
        expected = sorted(parse_timestamp(round_stamp(r)) for r in range(-1, rounds))
        for oid in shared_ids:
            assert sorted(v for i, v in keys if i == oid) == expected
            for client in clients:
                versions = client.get(f"{OBJECTS}{oid}/versions/")
                assert versions.status_code == 200, versions.text
                assert [parse_timestamp(v) for v in versions.json()["versions"]] == expected
    finally:
        for client in clients:
            client.close()


# --- blind tokens across processes ----------------------------------------------------------


@pytest.mark.postgres
def test_a_token_is_spent_once_across_processes(cluster: Cluster) -> None:
    a, b = cluster.servers
    hub_client = HubClient(a.url, cluster.keys["alpha-1"])
    wallet = Wallet(a.url, cluster.tmp_path / "wallet")
    tokens = fetch_tokens(hub_client, wallet, 6)
    clients = [client_for(a, None), client_for(b, None)]
    receipts: list[str] = []
    published: Counter[str] = Counter()
    try:
        for token in tokens:
            body = {
                "token": token.to_wire(),
                "objects": [indicator(name="spent once")],
                "tlp": "amber",
            }
            answers = race(
                [lambda c=c, b=body: c.post(f"{ANON}/submissions", json=b) for c in clients]
            )
            assert codes(answers) == [202, 409], [(r.status_code, r.text[:200]) for r in answers]
            receipts.append(next(r for r in answers if r.status_code == 202).json()["receipt"])
            again = clients[0].post(f"{ANON}/submissions", json=body)
            assert again.status_code == 409, again.text
        # Publication runs in each app process's periodic task: two publishers at once.
        publishers = [
            build_hub(Settings().with_overrides(database_url=cluster.database)) for _ in range(2)
        ]
        try:
            run_threads([lambda h=h: anonymity.publish_ready(h, force=True) for h in publishers])
        finally:
            for hub in publishers:
                assert isinstance(hub.store, Database)
                hub.store.dispose()
        for receipt in receipts:
            answer = clients[1].get(f"{ANON}/receipts/{receipt}")
            assert answer.status_code == 200, answer.text
            assert answer.json()["status"] == "published", answer.json()
            published.update(answer.json()["published"])
    finally:
        for client in clients:
            client.close()
    reader = client_for(a, cluster.keys["alpha-1"])
    try:
        entries, _ = walk([reader], limit=1000, params={"match[id]": ",".join(published)})
    finally:
        reader.close()
    assert len(published) == len(tokens)
    assert Counter(e["id"] for e in entries) == Counter(dict.fromkeys(published, 1))


@pytest.mark.postgres
def test_token_quota_holds_under_concurrent_issuance(cluster: Cluster) -> None:
    """After a first issuance (so the race above is out of the way), 12 requests for 5
    tokens each on both processes at once, with 49 left: exactly 9 are granted."""
    clients = [client_for(s, cluster.keys["beta"]) for s in cluster.servers]
    engine = create_engine(cluster.database.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM token_issuance"))
        epoch = clients[0].get(f"{ANON}/keys").json()["epochs"][-1]["epoch"]
        first = clients[0].post(
            f"{ANON}/tokens", json={"epoch": epoch, "blinded": [blinded_element()]}
        )
        assert first.status_code == 200, first.text
        assert first.json()["remaining"] == 49
        body = {"epoch": epoch, "blinded": [blinded_element()] * 5}
        statuses = codes(
            race([lambda c=c: c.post(f"{ANON}/tokens", json=body) for c in clients * 6])
        )
        with engine.connect() as connection:
            issued = connection.execute(text("SELECT sum(issued) FROM token_issuance")).scalar()
    finally:
        for client in clients:
            client.close()
        engine.dispose()
    assert statuses == [200] * 9 + [429] * 3, statuses
    assert issued == 1 + 9 * 5


# --- bounded load ---------------------------------------------------------------------------


READERS = 50
WRITERS = 5
LOAD_SECONDS = 10.0
PAGE = 100


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    committed: set[str] = field(default_factory=set)
    writes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def apply_load(servers: list[LiveServer], key: str, label: str) -> LoadResult:
    """50 readers paging through the collection and 5 writers adding to it, for a fixed
    time, spread over ``servers``; every request and exception is recorded."""
    result = LoadResult()
    deadline = time.monotonic() + LOAD_SECONDS

    def reader(n: int) -> None:
        with client_for(servers[n % len(servers)], key) as client:
            query: dict[str, str] = {"limit": str(PAGE)}
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    response = client.get(OBJECTS, params=query)
                except httpx.HTTPError as exc:
                    with result.lock:
                        result.errors.append(f"reader {n}: {exc!r}")
                    continue
                elapsed = time.perf_counter() - started
                with result.lock:
                    result.latencies.append(elapsed)
                    if response.status_code != 200:
                        result.errors.append(
                            f"reader {n}: {response.status_code} {response.text[:200]}"
                        )
                        continue
                page = response.json()
                query = {"limit": str(PAGE)}
                if page["more"]:
                    query["next"] = page["next"]

    def writer(n: int) -> None:
        with client_for(servers[n % len(servers)], key) as client:
            while time.monotonic() < deadline:
                objects = [indicator(name=f"load {label} w{n}") for _ in range(20)]
                try:
                    response = client.post(
                        OBJECTS,
                        content=orjson.dumps({"objects": objects}),
                        headers={"Content-Type": TAXII},
                    )
                except httpx.HTTPError as exc:
                    with result.lock:
                        result.errors.append(f"writer {n}: {exc!r}")
                    continue
                with result.lock:
                    result.writes += 1
                    body = response.json() if response.status_code == 202 else {}
                    if body.get("success_count") != len(objects):
                        result.errors.append(
                            f"writer {n}: {response.status_code} {response.text[:200]}"
                        )
                        continue
                    result.committed.update(o["id"] for o in objects)

    run_threads(
        [lambda n=n: reader(n) for n in range(READERS)]
        + [lambda n=n: writer(n) for n in range(WRITERS)],
        timeout=LOAD_SECONDS + JOIN_SECONDS,
    )
    return result


def report_and_check(result: LoadResult, servers: list[LiveServer], key: str, label: str) -> None:
    latencies = sorted(result.latencies)
    p50 = statistics.median(latencies) if latencies else float("nan")
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0.0
    print(
        f"load {label}: {len(latencies)} page reads, {result.writes} writes"
        f" ({len(result.committed)} objects) in {LOAD_SECONDS:.0f} s;"
        f" page latency p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms;"
        f" errors {len(result.errors)}"
    )
    assert result.errors == [], result.errors[:10]
    assert latencies
    assert result.writes >= 1
    for server in servers:
        with client_for(server, key) as client:
            entries, _ = walk([client], limit=10_000, params={"match[type]": "indicator"})
        stored = {e["id"] for e in entries}
        assert result.committed <= stored, len(result.committed - stored)


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[tuple[LiveServer, str]]:
    database = f"sqlite:///{tmp_path / 'hub.db'}"
    hub = build_hub(Settings().with_overrides(database_url=database))
    admin.add_organisation(hub, "Load Bank", "financial", "US", "member")
    key = admin.create_key(hub, "Load Bank", "load")
    assert isinstance(hub.store, Database)
    hub.store.dispose()
    server = start_server(database, tmp_path, extra_env=SERVER_ENV)
    try:
        yield server, key
    finally:
        stop_server(server)


def test_bounded_load_on_one_sqlite_server(sqlite_server: tuple[LiveServer, str]) -> None:
    server, key = sqlite_server
    result = apply_load([server], key, "sqlite, 1 process")
    report_and_check(result, [server], key, "sqlite, 1 process")


@pytest.mark.postgres
def test_bounded_load_on_two_postgresql_processes(cluster: Cluster) -> None:
    key = cluster.keys["alpha-2"]
    result = apply_load(cluster.servers, key, "postgresql, 2 processes")
    report_and_check(result, cluster.servers, key, "postgresql, 2 processes")
