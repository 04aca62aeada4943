"""Concurrent writers and an ``added_after`` poller on one collection, on both engines.

Each writer thread has its own ``Hub`` (its own ``Database.from_url`` engine, or one engine
shared by all threads) with a real, deliberately skewed clock, as separate app processes
would. The properties checked are the ones TAXII clients rely on:

- no lost writes and no duplicate (id, version), even when two writers post the same
  object at the same instant (both statuses report success; one row is stored);
- ``date_added`` grows strictly with commit order in a collection, so a poller that always
  resumes from the last ``date_added`` it saw (``added_after``) misses nothing.

Sizes are small and every wait has a timeout, so the module stays within a few seconds.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from conftest import database_url, make_hub
from shieldwall.bootstrap import RandomIds
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.policy import ReaderFilter, reader_filter
from shieldwall.domain.queries import Cursor, ObjectQuery, VersionFilter
from shieldwall.services import admin, ingest
from shieldwall.services.context import Hub, HubConfig
from shieldwall.services.ports import StatusRecord
from shieldwall.storage.database import Database
from shieldwall.storage.migrate import upgrade
from shieldwall.storage.schema import objects

WRITERS = 4  # two threads per organisation
ROUNDS = 6
UNIQUE_PER_REQUEST = 3
POLL_PAGE = 5
TIMEOUT = 60.0
ALL_VERSIONS = VersionFilter(all=True, last=False)
STAMP = "2024-05-01T12:00:00.000Z"


class SkewedClock:
    """The wall clock, shifted: app processes on different hosts disagree about the time."""

    def __init__(self, offset_micros: int) -> None:
        self.offset = offset_micros

    def now(self) -> int:
        return time.time_ns() // 1000 + self.offset


def attack_pattern(
    object_id: str, name: str = "concurrency", modified: str = STAMP
) -> dict[str, object]:
    return {
        "type": "attack-pattern",
        "spec_version": "2.1",
        "id": object_id,
        "created": STAMP,
        "modified": modified,
        "name": name,
    }


def fresh_id() -> str:
    return f"attack-pattern--{uuid.uuid4()}"


@dataclass
class Community:
    url: str
    setup: Hub
    orgs: list[Organisation]
    reader: Organisation
    collection_pk: int
    opened: list[Database] = field(default_factory=list)

    def hub(self, clock_offset: int, shared: Database | None) -> Hub:
        database = shared or Database.from_url(self.url)
        if shared is None:
            self.opened.append(database)
        return Hub(database, SkewedClock(clock_offset), RandomIds(), HubConfig())


@pytest.fixture
def community(engine_name: str, tmp_path: Path) -> Iterator[Community]:
    url = database_url(engine_name, tmp_path)
    setup = make_hub(url)
    orgs = [
        admin.add_organisation(setup, "Alpha Bank", "financial", "US"),
        admin.add_organisation(setup, "Beta Law", "legal", "GB"),
    ]
    reader = admin.add_organisation(setup, "Poller Org", "insurance", "DE")
    with setup.store.read() as tx:
        collection = tx.collection(admin.DEFAULT_COLLECTION_ALIAS)
    assert collection is not None
    made = Community(url, setup, orgs, reader, collection.pk)
    yield made
    for database in made.opened:
        database.dispose()
    assert isinstance(setup.store, Database)
    setup.store.dispose()


def run_threads(targets: list[Callable[[], None]], timeout: float = TIMEOUT) -> None:
    """Run ``targets`` in threads; re-raise the first exception any of them raised."""
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as exc:
                errors.append(exc)

        return run

    threads = [threading.Thread(target=guarded(t), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "threads did not finish in time"
    if errors:
        raise errors[0]


def stored_rows(community: Community) -> list[tuple[str, int, int, int, int | None]]:
    """(stix_id, version, date_added, seq, submitter) of every row in the collection."""
    database = community.setup.store
    assert isinstance(database, Database)
    with database.engine.connect() as connection:
        return [
            (stix_id, version, date_added, seq, submitter)
            for stix_id, version, date_added, seq, submitter in connection.execute(
                select(
                    objects.c.stix_id,
                    objects.c.version,
                    objects.c.date_added,
                    objects.c.seq,
                    objects.c.submitter_org_id,
                ).where(objects.c.collection_pk == community.collection_pk)
            ).tuples()
        ]


def poll_once(
    database: Database, collection_pk: int, view: ReaderFilter, added_after: int | None
) -> list[tuple[str, int, int]]:
    """One TAXII poll: every page after ``added_after``, following the ``next`` cursor."""
    seen: list[tuple[str, int, int]] = []
    cursor: Cursor | None = None
    while True:
        query = ObjectQuery(versions=ALL_VERSIONS, added_after=added_after, cursor=cursor)
        with database.read() as tx:
            page = tx.find_objects(collection_pk, query, view, POLL_PAGE)
        seen += [(row.stix_id, row.version, row.date_added) for row in page]
        if len(page) < POLL_PAGE:
            return seen
        cursor = Cursor(page[-1].date_added, page[-1].seq)


def details(status: StatusRecord) -> dict[str, list[dict[str, str]]]:
    parsed: dict[str, list[dict[str, str]]] = orjson.loads(status.details)
    return parsed


@pytest.mark.parametrize("engine_sharing", ["engine-per-thread", "shared-engine"])
def test_concurrent_writers_and_added_after_poller(
    community: Community, engine_sharing: str
) -> None:
    shared = Database.from_url(community.url) if engine_sharing == "shared-engine" else None
    if shared is not None:
        community.opened.append(shared)
    # writers 0 and 1 post as Alpha, 2 and 3 as Beta; clocks up to ±3 s apart
    writers = [
        (community.hub((-1) ** i * i * 1_000_000, shared), community.orgs[i // 2])
        for i in range(WRITERS)
    ]
    barrier = threading.Barrier(WRITERS, timeout=TIMEOUT)
    done = threading.Event()
    requests: list[tuple[int, list[str], str, StatusRecord]] = []  # writer, unique ids, twin
    lock = threading.Lock()

    def writer(index: int) -> Callable[[], None]:
        hub, org = writers[index]

        def run() -> None:
            try:
                write_rounds()
            except BaseException:
                barrier.abort()  # release the other writers at once instead of at the timeout
                raise

        def write_rounds() -> None:
            for round_ in range(ROUNDS):
                unique = [fresh_id() for _ in range(UNIQUE_PER_REQUEST)]
                # both threads of an organisation post this very object in the same round
                twin = f"attack-pattern--{uuid.uuid5(uuid.NAMESPACE_URL, f'{org.name}/{round_}')}"
                items: list[object] = [attack_pattern(i) for i in unique]
                items.insert(index % len(items), attack_pattern(twin, "twin"))
                barrier.wait()
                status = ingest.add_objects(hub, org, admin.DEFAULT_COLLECTION_ALIAS, items)
                with lock:
                    requests.append((index, unique, twin, status))

        return run

    polled: list[tuple[str, int, int]] = []
    polls = 0

    def poller() -> None:
        nonlocal polls
        database = shared or Database.from_url(community.url)
        if shared is None:
            community.opened.append(database)
        view = reader_filter(community.reader)
        added_after: int | None = None
        while True:
            finished = done.is_set()  # read before polling: the last poll follows the end
            batch = poll_once(database, community.collection_pk, view, added_after)
            polls += 1
            polled.extend(batch)
            if batch:
                added_after = batch[-1][2]
            if finished:
                return

    def writers_then_done() -> None:
        try:
            run_threads([writer(i) for i in range(WRITERS)])
        finally:
            done.set()

    run_threads([writers_then_done, poller])

    # every request succeeded completely
    assert len(requests) == WRITERS * ROUNDS
    for _, unique, twin, status in requests:
        assert (status.total_count, status.success_count, status.failure_count) == (
            UNIQUE_PER_REQUEST + 1,
            UNIQUE_PER_REQUEST + 1,
            0,
        ), status.details
        assert {d["id"] for d in details(status)["successes"]} == {*unique, twin}
    with community.setup.store.read() as tx:
        assert all(tx.status(status.id) == status for *_, status in requests)

    rows = stored_rows(community)
    stored = Counter((stix_id, version) for stix_id, version, *_ in rows)
    assert max(stored.values()) == 1  # no duplicate (id, version)
    unique_ids = {i for _, unique, _, _ in requests for i in unique}
    twins = {twin for *_, twin, _ in requests}
    assert len(unique_ids) == WRITERS * ROUNDS * UNIQUE_PER_REQUEST
    assert len(twins) == len(community.orgs) * ROUNDS
    stored_ids = {stix_id for stix_id, *_ in rows}
    assert unique_ids | twins <= stored_ids  # no lost writes
    # each twin was stored once, and reported "already stored" to exactly one of its posters
    already = Counter(
        d["id"]
        for *_, status in requests
        for d in details(status)["successes"]
        if d.get("message", "").startswith("already stored")
    )
    assert already == Counter(dict.fromkeys(twins, 1))

    # one date_added per committed request, distinct across requests
    date_of = {stix_id: date_added for stix_id, _, date_added, _, _ in rows}
    request_dates = []
    for _, unique, _, _ in requests:
        dates = {date_of[i] for i in unique}
        assert len(dates) == 1
        request_dates.append(dates.pop())
    assert len(set(request_dates)) == len(request_dates)
    by_date: dict[int, set[str]] = defaultdict(set)
    for stix_id, _, date_added, _, _ in rows:
        by_date[date_added].add(stix_id)
    for _, unique, _, _ in requests:
        assert set(unique) <= by_date[date_of[unique[0]]] <= set(unique) | twins

    # the poller saw every row exactly once, in non-decreasing date_added order
    assert polls >= 2
    assert len(polled) == len(set(polled)), "the poller was served a row twice"
    assert {(stix_id, version) for stix_id, version, _ in polled} == set(stored)
    polled_dates = [date_added for *_, date_added in polled]
    assert polled_dates == sorted(polled_dates)


def test_same_object_posted_at_once_by_one_organisation(community: Community) -> None:
    org = community.orgs[0]
    hubs = [community.hub(0, None), community.hub(-2_000_000, None)]
    for _ in range(8):
        object_id = fresh_id()
        barrier = threading.Barrier(2, timeout=TIMEOUT)
        statuses: list[StatusRecord] = []

        def post(
            hub: Hub,
            object_id: str = object_id,
            barrier: threading.Barrier = barrier,
            statuses: list[StatusRecord] = statuses,
        ) -> None:
            barrier.wait()
            statuses.append(
                ingest.add_objects(
                    hub, org, admin.DEFAULT_COLLECTION_ALIAS, [attack_pattern(object_id)]
                )
            )

        run_threads([lambda h=hub: post(h) for hub in hubs])
        assert [(s.success_count, s.failure_count) for s in statuses] == [(1, 0), (1, 0)]
        messages = sorted(details(s)["successes"][0].get("message", "") for s in statuses)
        assert messages[0] == ""
        assert messages[1].startswith("already stored")
        rows = [r for r in stored_rows(community) if r[0] == object_id]
        assert len(rows) == 1
        assert rows[0][4] == org.id


def test_same_new_id_posted_at_once_by_two_organisations(community: Community) -> None:
    """Two organisations race to create versions of one new id: the first to commit owns
    it, the other is told so, and only the owner's version is stored."""
    hubs = [community.hub(0, None), community.hub(1_500_000, None)]
    modified = [STAMP, STAMP.replace(".000Z", ".001Z")]
    for _ in range(6):
        object_id = fresh_id()
        barrier = threading.Barrier(2, timeout=TIMEOUT)
        outcome: dict[int, StatusRecord] = {}

        def post(
            slot: int,
            object_id: str = object_id,
            barrier: threading.Barrier = barrier,
            outcome: dict[int, StatusRecord] = outcome,
        ) -> None:
            org = community.orgs[slot]
            body = attack_pattern(object_id, modified=modified[slot])
            barrier.wait()
            outcome[org.id] = ingest.add_objects(
                hubs[slot], org, admin.DEFAULT_COLLECTION_ALIAS, [body]
            )

        run_threads([lambda s=slot: post(s) for slot in (0, 1)])
        winners = [org_id for org_id, s in outcome.items() if s.success_count == 1]
        losers = [org_id for org_id, s in outcome.items() if s.failure_count == 1]
        assert len(winners) == 1, outcome
        assert len(losers) == 1, outcome
        assert "another organisation" in details(outcome[losers[0]])["failures"][0]["message"]
        rows = [r for r in stored_rows(community) if r[0] == object_id]
        assert len(rows) == 1
        assert rows[0][4] == winners[0]


def test_concurrent_first_start(
    engine_name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Several app processes starting at once on a fresh (migrated) database all come up,
    and the hub is set up once: one default collection, one hub identity."""
    url = database_url(engine_name, tmp_path)
    upgrade(url)
    starters = [
        Hub(Database.from_url(url), SkewedClock(0), RandomIds(), HubConfig()) for _ in range(4)
    ]
    barrier = threading.Barrier(len(starters), timeout=TIMEOUT)
    failures: list[BaseException] = []

    def start(hub: Hub) -> None:
        barrier.wait()
        try:
            admin.ensure_hub(hub)
        except Exception as exc:
            failures.append(exc)

    try:
        run_threads([lambda h=hub: start(h) for hub in starters])
        with starters[0].store.read() as tx:
            assert len(tx.collections()) == 1
            assert tx.setting(admin.HUB_IDENTITY_SETTING) is not None
        assert failures == []
    finally:
        for hub in starters:
            assert isinstance(hub.store, Database)
            hub.store.dispose()
