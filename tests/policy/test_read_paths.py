"""Every way out of the hub shows a reader exactly what ``may_read`` allows (architecture.md
§3): no path shows more, none shows less.

A Hypothesis example is one *case*: a random community (5-10 organisations with sectors,
countries, roles and sharing groups) and 10-30 random objects (indicators with valid
patterns, malware, identities, attack patterns), each with one to three versions whose TLP
(a TLP 2.0 id, a TLP 1.0 id, one of each, or none: the default AMBER) and scope (the scope
extension, possibly empty, or none) differ, submitted by random organisations, each through
its own channel: as is (``ingest.add_objects``, the TAXII way) or with REST fields
(``submission.submit``, whose ``tlp``/``scope`` override what the objects carry). What each
organisation may see is computed from the generated data alone with
``domain.policy.may_read`` (itself pinned to the text of §3 by ``tests/domain/
test_policy.py``); nothing is read back from the hub to build it.

Two property tests share the generator:

* ``test_storage_visibility_matches_may_read``, **1,000 cases on SQLite** and 100 on
  PostgreSQL: each case is written in one storage transaction (labels compiled with
  ``audience_keys``), then for every organisation ``find_objects`` with all versions and
  with the last visible version (also through the ``refers_to`` and ``observables``
  index filters), and ``hidden_ids``, must equal the reference. Cheap, so
  cases share a database (a fresh one every 100 cases).
* ``test_every_read_path_matches_may_read``, 20 cases on SQLite and 8 on PostgreSQL, each on
  a fresh database: organisations and groups through ``admin.add_organisation`` and
  ``admin.create_group``, objects through the services, API keys through
  ``admin.create_key``; then for every organisation of the case:

  - services: ``reading.list_objects`` unfiltered (last version) and with
    ``match[version]`` all and first, walked page by page with a page size that makes two
    or three pages, and filtered by ``match[type]`` and by ``match[id]``; ``get_object``
    and ``list_versions`` for two ids it may read and two it may not (``NotFound``);
    ``get_status`` for every status (only its submitter);
  - HTTP, the real ASGI app in process: TAXII objects walked page by page with
    ``X-TAXII-Date-Added-First/Last`` checked on every page against the objects that page
    shows, objects with ``match[version]=all`` and with ``match[type]``, the manifest
    walked page by page (ids, versions, ``date_added``); REST ``GET /api/v1/objects``
    walked page by page and searched with ``q=`` (case-insensitive; hits are last versions
    that contain the word); for one id, readable or not, TAXII object by id and versions
    (404 with no date headers when it may not be read) and REST ``/api/v1/objects/{id}``
    with and without ``all_versions``; status: the submitter, or another organisation (404).

  Everything served is also checked for its TLP (explicit, in TLP 2.0)
  and its scope extension, which must equal the reference's label. Every page but the last
  is full: objects a reader may not see take no room and leave no empty page behind.

1,000 full-path cases would cost about an hour, far over the module's budget (about four
minutes on two cores), so the 1,000 cases run in CI are the storage-level ones, plus the
full-path ones (1,020 on SQLite). A case takes about 70 ms at the storage level and 2-3 s
through every path.

Generated objects carry no references to each other; ``test_references_to_hidden_objects``
covers ``domain.references`` through the read paths, and
``test_withheld_objects_leave_no_trace_in_paging`` records a bug found there.
"""

from __future__ import annotations

import itertools
import random
import shutil
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from conftest import (
    FixedClock,
    SequentialIds,
    fresh_postgres_database,
    make_hub,
    postgres_url,
)
from shieldwall.domain.errors import NotFound
from shieldwall.domain.organisations import Organisation, Role, Sector
from shieldwall.domain.policy import AccessLabel, audience_keys, may_read, reader_filter
from shieldwall.domain.queries import ObjectQuery, Probe, VersionFilter, decode_cursor
from shieldwall.domain.scope import SCOPE_EXTENSION_ID, Scope, scope_of
from shieldwall.domain.timestamps import format_timestamp, parse_timestamp
from shieldwall.domain.tlp import TLP1_MARKING_IDS, Tlp
from shieldwall.services import admin, ingest, reading, submission
from shieldwall.services.context import Hub, HubConfig
from shieldwall.services.ports import CollectionRecord, NewObject, WriteTx
from shieldwall.storage.database import Database
from shieldwall.web.app import create_app

if TYPE_CHECKING:
    from httpx import Response
    from starlette.testclient import TestClient


def http_client(hub: Hub) -> TestClient:
    """The real ASGI app around ``hub``, called in process."""
    with warnings.catch_warnings():
        # Starlette 1.x asks for ``httpx2`` and warns when it falls back to ``httpx``; the
        # fallback works, and the warning would be an error under ``filterwarnings``.
        warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
        from starlette.testclient import TestClient

    return TestClient(create_app(hub))


SECTORS = [sector.value for sector in Sector]
COUNTRIES = ["US", "GB", "DE", "FR"]
ROLES = ["member", "member", "member", "government", "operator"]
KINDS = ["indicator", "indicator", "indicator", "malware", "identity", "attack-pattern"]
# Words for text search: each has a letter outside a-f, so none can occur in an id, and none
# occurs in any other property the generator writes.
WORDS = ["kilo", "lima", "oscar", "tango", "zulu", "yankee"]
CREATED = "2024-03-01T00:00:00.000Z"
TAXII = {"Accept": "application/taxii+json;version=2.1"}
API_ROOT = "/taxii2/hub"
DATE_HEADERS = ("x-taxii-date-added-first", "x-taxii-date-added-last")
T = TypeVar("T")

STORAGE_EXAMPLES = {"sqlite": 1000, "postgresql": 100}
PATH_EXAMPLES = {"sqlite": 20, "postgresql": 8}
HYPOTHESIS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)


def version_text(index: int) -> str:
    """The ``modified`` timestamp of version ``index`` (0-based) of every generated object."""
    return f"2024-03-01T00:00:{index + 1:02d}.000Z"


# --- the generated case ------------------------------------------------------------------


@dataclass(frozen=True)
class OrgSpec:
    sector: str
    country: str
    role: str
    groups: frozenset[int]


@dataclass(frozen=True)
class ScopeSpec:
    """A scope naming groups and organisations by their index in the case."""

    sectors: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    groups: frozenset[int] = frozenset()
    organizations: frozenset[int] = frozenset()


@dataclass(frozen=True)
class VersionSpec:
    """One version as its submitter writes it: ``object_marking_refs`` (and the TLP they
    mean), the scope extension (``None``: no extension) and a word for text search."""

    markings: tuple[str, ...]
    marked_tlp: Tlp
    scope: ScopeSpec | None
    word: str


@dataclass(frozen=True)
class ChannelSpec:
    """How an organisation submits: as is (``ingest.add_objects``, the TAXII way), or with
    REST fields (``submission.submit``), which, when given, override the objects' own TLP
    markings and scope extension."""

    rest: bool
    tlp: Tlp | None = None
    scope: ScopeSpec | None = None


@dataclass(frozen=True)
class ObjectSpec:
    kind: str
    submitter: int
    versions: tuple[VersionSpec, ...]


@dataclass(frozen=True)
class CaseSpec:
    orgs: tuple[OrgSpec, ...]
    group_count: int
    channels: tuple[ChannelSpec, ...]  # one per organisation
    objects: tuple[ObjectSpec, ...]
    seed: int

    def label_scope(self, obj: ObjectSpec, version: VersionSpec) -> ScopeSpec:
        channel = self.channels[obj.submitter]
        if channel.rest and channel.scope is not None:
            return channel.scope
        return version.scope or ScopeSpec()

    def label_tlp(self, obj: ObjectSpec, version: VersionSpec) -> Tlp:
        channel = self.channels[obj.submitter]
        if channel.rest and channel.tlp is not None:
            return channel.tlp
        return version.marked_tlp


def _marking_choices() -> list[tuple[tuple[str, ...], Tlp]]:
    """``object_marking_refs`` as submitters write them, and the TLP each means: none (the
    hub's default, AMBER), a TLP 2.0 id, a TLP 1.0 id, or one of each (the most restrictive
    wins). Weighted by repetition."""
    none: list[tuple[tuple[str, ...], Tlp]] = [((), Tlp.AMBER)]
    tlp2 = [((level.marking_id,), level) for level in Tlp]
    tlp1 = [((marking,), level) for level, marking in TLP1_MARKING_IDS.items()]
    both = [
        ((marking, level2.marking_id), max(level1, level2))
        for level1, marking in TLP1_MARKING_IDS.items()
        for level2 in Tlp
    ]
    return none * 8 + tlp2 * 4 + tlp1 * 4 + both


MARKING_CHOICES = _marking_choices()
CASE_BYTES = 1200  # a case uses at most about 900 (10 organisations, 30 objects)


class Choices:
    """Choices read off a byte string drawn by Hypothesis; past its end every choice is 0.

    One ``st.binary`` draw per case costs about 1 ms where composing strategies cost 40 ms,
    which matters at 1,000+ cases. Shrinking still works: Hypothesis shrinks bytes towards
    zero, and zero decodes to the simplest choice (5 organisations, 10 objects, the first
    sector, no scope …).
    """

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.at = 0

    def byte(self) -> int:
        self.at += 1
        return self.raw[self.at - 1] if self.at <= len(self.raw) else 0

    def integer(self, low: int, high: int) -> int:
        return low + self.byte() % (high - low + 1)

    def choice(self, values: list[T]) -> T:
        return values[(self.byte() << 8 | self.byte()) % len(values)]

    def maybe(self) -> bool:
        return self.byte() % 2 == 1

    def subset(self, values: list[T]) -> frozenset[T]:
        """Empty half of the time (so that community and single-list scopes are common),
        else a random subset."""
        if not values or not self.maybe():
            return frozenset()
        mask = self.byte() << 8 | self.byte()
        return frozenset(v for bit, v in enumerate(values) if mask >> bit & 1)

    def scope(self, org_count: int, group_count: int) -> ScopeSpec:
        return ScopeSpec(
            self.subset(SECTORS),
            self.subset(COUNTRIES),
            self.subset(list(range(group_count))),
            self.subset(list(range(org_count))),
        )

    def channel(self, org_count: int, group_count: int) -> ChannelSpec:
        """TAXII two times in three; else REST, with or without each field."""
        if self.integer(0, 2) < 2:
            return ChannelSpec(rest=False)
        tlp = self.choice([None, *Tlp])
        scope = self.scope(org_count, group_count) if self.maybe() else None
        return ChannelSpec(rest=True, tlp=tlp, scope=scope)


def decode_case(raw: bytes) -> CaseSpec:
    draw = Choices(raw)
    org_count, group_count = draw.integer(5, 10), draw.integer(0, 3)
    orgs = tuple(
        OrgSpec(
            draw.choice(SECTORS),
            draw.choice(COUNTRIES),
            draw.choice(ROLES),
            draw.subset(list(range(group_count))),
        )
        for _ in range(org_count)
    )
    channels = tuple(draw.channel(org_count, group_count) for _ in range(org_count))
    objects = []
    for _ in range(draw.integer(10, 30)):
        kind, submitter = draw.choice(KINDS), draw.integer(0, org_count - 1)
        versions = []
        for _ in range(draw.integer(1, 3)):
            refs, marked = draw.choice(MARKING_CHOICES)
            scope = draw.scope(org_count, group_count) if draw.maybe() else None
            versions.append(VersionSpec(refs, marked, scope, draw.choice(WORDS)))
        objects.append(ObjectSpec(kind, submitter, tuple(versions)))
    seed = draw.byte() << 8 | draw.byte()  # for the choices made while checking
    return CaseSpec(orgs, group_count, channels, tuple(objects), seed)


def cases() -> st.SearchStrategy[CaseSpec]:
    return st.binary(min_size=CASE_BYTES, max_size=CASE_BYTES).map(decode_case)


# --- the case in a hub -----------------------------------------------------------------


@dataclass(frozen=True)
class Community:
    """A case's organisations (as the reference sees them: groups from the spec), its group
    names, and the collection created for its objects after the organisations."""

    orgs: list[Organisation]
    group_names: list[str]
    collection: CollectionRecord

    def scope(self, spec: ScopeSpec) -> Scope:
        return Scope(
            spec.sectors,
            spec.countries,
            frozenset(self.group_names[g] for g in spec.groups),
            frozenset(self.orgs[o].identity_id for o in spec.organizations),
        )


@dataclass(frozen=True)
class Fact:
    """What the test knows of one stored version, from the generated data alone."""

    stix_id: str
    version: str
    kind: str
    word: str
    label: AccessLabel
    date_added: int


Key = tuple[str, str]  # (id, version as the object's "modified")


@dataclass
class Case:
    hub: Hub
    community: Community
    facts: dict[Key, Fact] = field(default_factory=dict)
    statuses: list[tuple[str, int]] = field(default_factory=list)

    @property
    def collection_id(self) -> str:
        return self.community.collection.collection_id

    def visible(self, reader: Organisation) -> set[Key]:
        """The reference: every version ``may_read`` lets ``reader`` read."""
        return {key for key, fact in self.facts.items() if may_read(reader, fact.label)}

    def ids(self) -> list[str]:
        return sorted({stix_id for stix_id, _ in self.facts})


def pick(seen: set[Key], which: Callable[[list[str]], str]) -> set[Key]:
    """One version per id among ``seen``: the newest (``max``) or the oldest (``min``)."""
    by_id: dict[str, list[str]] = {}
    for stix_id, version in seen:
        by_id.setdefault(stix_id, []).append(version)
    return {(stix_id, which(found)) for stix_id, found in by_id.items()}


_object_numbers = itertools.count(1)
_case_numbers = itertools.count(1)


def object_body(
    kind: str, stix_id: str, index: int, version: VersionSpec, community: Community
) -> dict[str, object]:
    number = int(stix_id[-8:], 16)
    body: dict[str, object] = {
        "type": kind,
        "spec_version": "2.1",
        "id": stix_id,
        "created": CREATED,
        "modified": version_text(index),
        "name": f"{version.word.title()} {kind} {index}",
    }
    if kind == "indicator":
        body["pattern"] = [
            f"[ipv4-addr:value = '198.51.{number % 256}.{index + 1}']",
            f"[domain-name:value = 'host{number}.example.net']",
            f"[file:hashes.MD5 = '{number:032x}']",
        ][number % 3]
        body["pattern_type"] = "stix"
        body["valid_from"] = CREATED
    elif kind == "malware":
        body["is_family"] = bool(number % 2)
    elif kind == "identity":
        body["identity_class"] = "organization"
    if version.markings:
        body["object_marking_refs"] = list(version.markings)
    if version.scope is not None:  # an empty scope gives a bare extension: community
        body["extensions"] = {SCOPE_EXTENSION_ID: community.scope(version.scope).to_extension()}
    return body


def store_objects(hub: Hub, spec: CaseSpec, community: Community, *, rounds: bool) -> Case:
    """Submit every version of ``spec``; return the case with what the test expects.

    Each organisation sends one request through its channel; with ``rounds``, first
    versions go in one request and later versions in another (so that later versions also
    arrive as new versions of an id already stored).
    """
    case = Case(hub, community)
    orgs = community.orgs
    batches: dict[tuple[int, int], list[tuple[Key, dict[str, object], ObjectSpec]]] = {}
    for obj in spec.objects:
        stix_id = f"{obj.kind}--{uuid.UUID(int=next(_object_numbers), version=4)}"
        for index, version in enumerate(obj.versions):
            body = object_body(obj.kind, stix_id, index, version, community)
            phase = min(index, 1) if rounds else 0
            key = (stix_id, version_text(index))
            batches.setdefault((phase, obj.submitter), []).append((key, body, obj))
            label = AccessLabel(
                spec.label_tlp(obj, version),
                community.scope(spec.label_scope(obj, version)),
                orgs[obj.submitter].id,
            )
            case.facts[key] = Fact(stix_id, key[1], obj.kind, version.word, label, 0)
    for (_, submitter), items in sorted(batches.items()):
        channel = spec.channels[submitter]
        bodies: list[object] = [body for _, body, _ in items]
        if channel.rest:
            scope = None if channel.scope is None else community.scope(channel.scope)
            status = submission.submit(
                hub, orgs[submitter], case.collection_id, bodies, channel.tlp, scope
            )
        else:
            status = ingest.add_objects(hub, orgs[submitter], case.collection_id, bodies)
        assert status.failure_count == 0, status.details
        assert status.success_count == len(items)
        # Every object of a request is added at the request's time (the fixed clock moves
        # on each reading, so no two requests share it).
        for key, _, _ in items:
            case.facts[key] = replace(case.facts[key], date_added=status.request_timestamp)
        case.statuses.append((status.id, orgs[submitter].id))
    return case


def admit_with_services(hub: Hub, spec: CaseSpec) -> Community:
    """The organisations and groups of ``spec`` through ``admin``, as an operator would."""
    added = [
        admin.add_organisation(hub, f"org-{i}", o.sector, o.country, o.role)
        for i, o in enumerate(spec.orgs)
    ]
    names = [f"grp-{g}" for g in range(spec.group_count)]
    for group, name in enumerate(names):
        members = [f"org-{i}" for i, o in enumerate(spec.orgs) if group in o.groups]
        admin.create_group(hub, name, members)
    return Community(
        [
            replace(org, groups=frozenset(names[g] for g in spec.orgs[i].groups))
            for i, org in enumerate(added)
        ],
        names,
        _add_collection(hub),
    )


def store_in_storage(hub: Hub, spec: CaseSpec) -> Case:
    """The whole case in one storage transaction: organisations and groups with names unique
    to the case, a collection, and every version as ingest would store it (TLP, scope and
    ``audience_keys`` from the reference label). Many cases then share one database cheaply;
    the services' way in is the full-path test's business."""
    n = next(_case_numbers)
    names = [f"c{n}-grp-{g}" for g in range(spec.group_count)]
    orgs: list[Organisation] = []
    with hub.store.write() as tx:
        for i, o in enumerate(spec.orgs):
            added = tx.add_organisation(
                f"c{n}-org-{i}",
                f"identity--{hub.ids.uuid4()}",
                Sector(o.sector),
                o.country,
                Role(o.role),
                hub.clock.now(),
            )
            orgs.append(replace(added, groups=frozenset(names[g] for g in o.groups)))
        for group, name in enumerate(names):
            tx.add_group(name, None, "", hub.clock.now())
            for i, o in enumerate(spec.orgs):
                if group in o.groups:
                    tx.add_group_member(name, orgs[i].id)
        collection = _new_collection(hub, tx)
        case = Case(hub, Community(orgs, names, collection))
        rows: list[NewObject] = []
        for obj in spec.objects:
            stix_id = f"{obj.kind}--{uuid.UUID(int=next(_object_numbers), version=4)}"
            for index, version in enumerate(obj.versions):
                label = AccessLabel(
                    spec.label_tlp(obj, version),
                    case.community.scope(spec.label_scope(obj, version)),
                    orgs[obj.submitter].id,
                )
                key = (stix_id, version_text(index))
                case.facts[key] = Fact(stix_id, key[1], obj.kind, version.word, label, 0)
                rows.append(
                    NewObject(
                        stix_id=stix_id,
                        stix_type=obj.kind,
                        spec_version="2.1",
                        version=parse_timestamp(key[1]),
                        tlp=int(label.tlp),
                        audience=audience_keys(label),
                        submitter_org_id=label.submitter_org_id,
                        body=orjson.dumps({"id": stix_id, "modified": key[1]}).decode(),
                        refs=SHARED_REF,
                        observables=frozenset({SHARED_KEY}),
                    )
                )
        tx.insert_objects(collection.pk, hub.clock.now(), rows)
    return case


def _add_collection(hub: Hub) -> CollectionRecord:
    with hub.store.write() as tx:
        return _new_collection(hub, tx)


def _new_collection(hub: Hub, tx: WriteTx) -> CollectionRecord:
    return tx.add_collection(
        hub.ids.uuid4(), "Generated case", "", None, members_can_read=True,
        members_can_write=True,
    )  # fmt: skip


class HubFactory:
    """Fresh, migrated hubs for one engine, copied from a template database."""

    def __init__(self, engine: str, directory: Path) -> None:
        self.engine = engine
        self.directory = directory
        self.counter = itertools.count()
        if engine == "sqlite":
            self.template = f"sqlite:///{directory / 'template.db'}"
        else:
            self.template = fresh_postgres_database()
        template = make_hub(self.template)
        assert isinstance(template.clock, FixedClock)
        assert isinstance(template.ids, SequentialIds)
        self.clock_value, self.id_counter = template.clock.value, template.ids.counter
        assert isinstance(template.store, Database)
        template.store.dispose()
        self.admin_url = (postgres_url() or "").replace("postgresql://", "postgresql+psycopg://")

    def _admin(self, statement: str) -> None:
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(statement))
        engine.dispose()

    def _name(self, url: str) -> str:
        return url.rsplit("/", 1)[1]

    @property
    def is_sqlite(self) -> bool:
        return self.engine == "sqlite"

    @contextmanager
    def fresh(self) -> Iterator[Hub]:
        """A hub on a new database copied from the template; dropped afterwards."""
        n = next(self.counter)
        if self.is_sqlite:
            path = self.directory / f"case-{n}.db"
            shutil.copyfile(self.directory / "template.db", path)
            url = f"sqlite:///{path}"
        else:
            template = self._name(self.template)
            self._admin(f'CREATE DATABASE "{template}_c{n}" TEMPLATE "{template}"')
            url = self.template.rsplit("/", 1)[0] + f"/{template}_c{n}"
        ids = SequentialIds()
        ids.counter = self.id_counter  # go on from the template's ids: no collisions
        database = Database.from_url(url)
        try:
            yield Hub(database, FixedClock(self.clock_value), ids, HubConfig())
        finally:
            database.dispose()
            if self.is_sqlite:
                for suffix in ("", "-wal", "-shm"):
                    path.with_name(path.name + suffix).unlink(missing_ok=True)
            else:
                self._admin(f'DROP DATABASE "{self._name(url)}"')

    def close(self) -> None:
        if not self.is_sqlite:
            self._admin(f'DROP DATABASE "{self._name(self.template)}"')


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hubs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HubFactory]:
    factory = HubFactory(str(request.param), tmp_path_factory.mktemp(str(request.param)))
    yield factory
    factory.close()


# --- storage ---------------------------------------------------------------------------

ALL = VersionFilter(last=False, all=True)
FIRST = VersionFilter(first=True, last=False)
LAST = VersionFilter()


def micros(keys: set[Key]) -> set[tuple[str, int]]:
    return {(stix_id, parse_timestamp(version)) for stix_id, version in keys}


CASES_PER_DATABASE = 100
# Every generated version refers to one id and holds one observable: the correlation and
# sighting filters (``refers_to``, ``observables``) must then select exactly what the
# reader may read, like the plain query.
SHARED_REF = "indicator--00000000-0000-4000-8000-00000000cafe"
SHARED_KEY = ("domain", "net.example.shared")
INDEXED = (
    ObjectQuery(refers_to=frozenset({SHARED_REF})),
    ObjectQuery(observables=(Probe("domain", (SHARED_KEY[1],)),)),
    ObjectQuery(observables=(Probe("domain", low="net.example.", high="net.example/"),)),
)


def test_storage_visibility_matches_may_read(hubs: HubFactory) -> None:
    """``find_objects`` (all versions, last versions) and ``hidden_ids`` against the
    reference. Cases share a database, a fresh one every ``CASES_PER_DATABASE`` cases
    (``hidden_ids`` looks an id up in every collection, and no index starts with
    ``stix_id``, so its cost grows with the database)."""
    examples = STORAGE_EXAMPLES[hubs.engine]
    ran: list[CaseSpec] = []
    unstored = f"indicator--{uuid.UUID(int=2**100, version=4)}"
    databases = ExitStack()
    shared: list[Hub] = []

    def hub_for_case() -> Hub:
        if (len(ran) - 1) % CASES_PER_DATABASE == 0:
            databases.close()
            shared[:] = [databases.enter_context(hubs.fresh())]
        return shared[0]

    @settings(HYPOTHESIS, max_examples=examples)
    @given(spec=cases())
    def check(spec: CaseSpec) -> None:
        ran.append(spec)
        hub = hub_for_case()
        case = store_in_storage(hub, spec)
        pk = case.community.collection.pk
        with hub.store.read() as tx:
            identities = [org.identity_id for org in case.community.orgs]
            stored = {org.id: org for org in tx.organisations_by_identity(identities)}
            for reader in case.community.orgs:
                seen = case.visible(reader)
                assert stored[reader.id] == reader  # the reference's groups are the hub's
                view = reader_filter(stored[reader.id])
                for versions, expected in ((ALL, seen), (LAST, pick(seen, max))):
                    rows = tx.find_objects(pk, ObjectQuery(versions=versions), view, 10_000)
                    assert {(row.stix_id, row.version) for row in rows} == micros(expected)
                    for indexed in INDEXED:
                        query = replace(indexed, versions=versions)
                        rows = tx.find_objects(pk, query, view, 10_000)
                        assert {(r.stix_id, r.version) for r in rows} == micros(expected)
                hidden = set(case.ids()) - {stix_id for stix_id, _ in seen}
                assert tx.hidden_ids([*case.ids(), unstored], view) == hidden

    with databases:
        check()
    assert len(ran) >= examples


# --- every read path -------------------------------------------------------------------


def served_key(case: Case, body: dict[str, object]) -> Key:
    """The (id, version) of an object as served, after checking that its TLP (explicit, in
    TLP 2.0) and scope are those of the reference."""
    key = (str(body["id"]), str(body["modified"]))
    fact = case.facts[key]
    assert body["object_marking_refs"] == [fact.label.tlp.marking_id], key
    assert scope_of(body) == fact.label.scope, key
    return key


def walk_service(case: Case, reader: Organisation, query: ObjectQuery) -> list[Key]:
    """Every page of ``reading.list_objects``; each page but the last is full, so nothing
    the reader may not see takes up room or shows as an extra page."""
    found: list[Key] = []
    current = query
    while True:
        page = reading.list_objects(case.hub, reader, case.collection_id, current)
        found += [served_key(case, orjson.loads(s.body)) for s in page.items]
        if not page.more:
            assert page.next_token is None
            assert len(page.items) <= query.limit
            break
        assert len(page.items) == query.limit
        assert page.next_token is not None
        current = replace(query, cursor=decode_cursor(page.next_token, query.fingerprint()))
    assert len(found) == len(set(found))
    return found


def paging_limit(count: int, rng: random.Random) -> int:
    """A page size that spreads ``count`` items over two or three pages."""
    return max(1, -(-count // rng.randint(2, 3)))


def sample_ids(case: Case, seen: set[Key], rng: random.Random, each: int) -> list[str]:
    """Up to ``each`` ids the reader may read and ``each`` it may not."""
    readable = sorted({stix_id for stix_id, _ in seen})
    unreadable = sorted(set(case.ids()) - set(readable))
    return rng.sample(readable, min(each, len(readable))) + rng.sample(
        unreadable, min(each, len(unreadable))
    )


def check_services(case: Case, reader: Organisation, rng: random.Random) -> None:
    seen = case.visible(reader)
    last = pick(seen, max)

    def walk(limit: int = 1000, **filters: object) -> set[Key]:
        query = ObjectQuery(limit=limit, **filters)  # type: ignore[arg-type]
        return set(walk_service(case, reader, query))

    assert walk(paging_limit(len(last), rng)) == last
    assert walk(paging_limit(len(seen), rng), versions=ALL) == seen
    assert walk(versions=FIRST) == pick(seen, min)
    kind = rng.choice(KINDS)
    assert walk(types=frozenset({kind})) == {k for k in last if case.facts[k].kind == kind}
    chosen = frozenset(rng.sample(case.ids(), rng.randint(1, 5)))
    assert walk(ids=chosen, versions=ALL) == {k for k in seen if k[0] in chosen}
    for stix_id in sample_ids(case, seen, rng, 2):
        versions = {k for k in seen if k[0] == stix_id}
        query = ObjectQuery()
        if not versions:
            with pytest.raises(NotFound):
                reading.get_object(case.hub, reader, case.collection_id, stix_id, query)
            with pytest.raises(NotFound):
                reading.list_versions(case.hub, reader, case.collection_id, stix_id, query)
            continue
        page = reading.get_object(case.hub, reader, case.collection_id, stix_id, query)
        assert [served_key(case, orjson.loads(s.body)) for s in page.items] == [max(versions)]
        listed = reading.list_versions(case.hub, reader, case.collection_id, stix_id, query)
        assert {served_key(case, orjson.loads(s.body)) for s in listed.items} == versions


def date_headers(case: Case, keys: list[Key]) -> dict[str, str]:
    """The ``X-TAXII-Date-Added-*`` headers a page of ``keys`` must carry: the first and
    last date added of what it shows, and no headers at all when it shows nothing."""
    if not keys:
        return {}
    added = [case.facts[key].date_added for key in keys]
    first, last = format_timestamp(min(added)), format_timestamp(max(added))
    return dict(zip(DATE_HEADERS, (first, last), strict=True))


def date_headers_of(response: Response) -> dict[str, str]:
    return {name: response.headers[name] for name in DATE_HEADERS if name in response.headers}


def taxii_walk(
    client: TestClient, case: Case, headers: dict[str, str], path: str, params: dict[str, str]
) -> list[dict[str, object]]:
    """Every page of a TAXII list (objects or manifest), checking each page's date headers."""
    records: list[dict[str, object]] = []
    url = f"{API_ROOT}/collections/{case.collection_id}/{path}/"
    query = dict(params)
    limit = int(params.get("limit", "1000"))
    while True:
        response = client.get(url, params=query, headers=headers)
        assert response.status_code == 200, response.text
        envelope = response.json()
        page = envelope.get("objects", [])
        records += page
        keys = [
            (str(r["id"]), str(r["modified"] if path == "objects" else r["version"])) for r in page
        ]
        assert date_headers_of(response) == date_headers(case, keys)
        if not envelope["more"]:
            assert "next" not in envelope
            assert len(page) <= limit
            break
        assert len(page) == limit
        query = {**params, "next": envelope["next"]}
    return records


def rest_walk(
    client: TestClient, case: Case, headers: dict[str, str], params: dict[str, str]
) -> set[Key]:
    found: list[Key] = []
    query = dict(params)
    while True:
        response = client.get("/api/v1/objects", params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        for item in body["items"]:
            key = served_key(case, item["object"])
            fact = case.facts[key]
            assert item["tlp"] == fact.label.tlp.label
            assert item["date_added"] == format_timestamp(fact.date_added)
            found.append(key)
        if not body["more"]:
            break
        assert len(body["items"]) == int(params.get("limit", "1000"))
        query = {**params, "next": body["next"]}
    assert len(found) == len(set(found))
    return set(found)


def check_http(
    client: TestClient, case: Case, reader: Organisation, key: str, rng: random.Random
) -> None:
    seen = case.visible(reader)
    last = pick(seen, max)
    auth = {"Authorization": f"Bearer {key}"}
    taxii = {**auth, **TAXII}
    limit = str(paging_limit(len(last), rng))

    objects = taxii_walk(client, case, taxii, "objects", {"limit": limit})
    assert {served_key(case, o) for o in objects} == last
    every = taxii_walk(client, case, taxii, "objects", {"match[version]": "all"})
    assert {served_key(case, o) for o in every} == seen
    manifest = taxii_walk(client, case, taxii, "manifest", {"limit": limit})
    assert {(str(m["id"]), str(m["version"]), str(m["date_added"])) for m in manifest} == {
        (*k, format_timestamp(case.facts[k].date_added)) for k in last
    }
    kind = rng.choice(KINDS)
    of_kind = taxii_walk(client, case, taxii, "objects", {"match[type]": kind})
    assert {served_key(case, o) for o in of_kind} == {k for k in last if case.facts[k].kind == kind}

    rest = {"collection": case.collection_id}
    assert rest_walk(client, case, auth, {**rest, "limit": limit}) == last
    word = rng.choice(WORDS)
    # The search looks at the newest version the reader may read: an older version that
    # mentions the word does not make the object a hit.
    assert rest_walk(client, case, auth, {**rest, "q": word.upper()}) == {
        k for k in last if case.facts[k].word == word
    }

    # One id per organisation, readable or not at random: across the organisations of a
    # case both kinds get asked (the services above ask two of each per organisation).
    for stix_id in rng.sample(sample_ids(case, seen, rng, 1), 1):
        versions = {k for k in seen if k[0] == stix_id}
        base = f"{API_ROOT}/collections/{case.collection_id}/objects/{stix_id}"
        one = client.get(f"{base}/", headers=taxii)
        history = client.get(f"{base}/versions/", headers=taxii)
        by_id = client.get(f"/api/v1/objects/{stix_id}", params=rest, headers=auth)
        by_id_all = client.get(
            f"/api/v1/objects/{stix_id}", params={**rest, "all_versions": "true"}, headers=auth
        )
        if not versions:
            for response in (one, history, by_id, by_id_all):
                assert response.status_code == 404, (stix_id, response.text)
                assert date_headers_of(response) == {}
            continue
        assert [served_key(case, o) for o in one.json()["objects"]] == [max(versions)]
        assert date_headers_of(one) == date_headers(case, [max(versions)])
        assert set(history.json()["versions"]) == {v for _, v in versions}
        assert date_headers_of(history) == date_headers(case, sorted(versions))
        assert [served_key(case, i["object"]) for i in by_id.json()["items"]] == [max(versions)]
        assert {served_key(case, i["object"]) for i in by_id_all.json()["items"]} == versions


def check_statuses(
    client: TestClient, case: Case, keys: dict[int, str], rng: random.Random
) -> None:
    """A status lists its submitter's object ids: only the submitter may read it (not even
    an operator). Through the services: the submitter and two others; over TAXII: the
    submitter or another, at random."""
    orgs = {org.id: org for org in case.community.orgs}
    for status_id, submitter in case.statuses:
        others = rng.sample([i for i in orgs if i != submitter], 2)
        assert reading.get_status(case.hub, orgs[submitter], status_id).id == status_id
        for other in others:
            with pytest.raises(NotFound):
                reading.get_status(case.hub, orgs[other], status_id)
        asking = rng.choice([submitter, others[0]])
        response = client.get(
            f"{API_ROOT}/status/{status_id}/",
            headers={"Authorization": f"Bearer {keys[asking]}", **TAXII},
        )
        assert response.status_code == (200 if asking == submitter else 404)


def test_every_read_path_matches_may_read(hubs: HubFactory) -> None:
    """Services and HTTP, TAXII and REST, for every organisation of each case."""
    examples = PATH_EXAMPLES[hubs.engine]
    ran: list[CaseSpec] = []

    @settings(HYPOTHESIS, max_examples=examples)
    @given(spec=cases())
    def check(spec: CaseSpec) -> None:
        ran.append(spec)
        rng = random.Random(spec.seed)
        with hubs.fresh() as hub:
            community = admit_with_services(hub, spec)
            case = store_objects(hub, spec, community, rounds=True)
            keys = {org.id: admin.create_key(hub, org.name) for org in community.orgs}
            with http_client(hub) as client:
                for reader in community.orgs:
                    check_services(case, reader, rng)
                    check_http(client, case, reader, keys[reader.id], rng)
                check_statuses(client, case, keys, rng)

    check()
    assert len(ran) >= examples


# --- references to objects the reader may not read -----------------------------------


def _stix(kind: str, n: int, **properties: object) -> dict[str, object]:
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": f"{kind}--{uuid.UUID(int=0xAB_0000 + n, version=4)}",
        "created": CREATED,
        "modified": CREATED,
        **properties,
    }


def test_references_to_hidden_objects(hub: Hub) -> None:
    """``domain.references`` on every read path: a reader who may not read an object finds
    it removed from the lists that refer to it, and finds withheld (as if it did not exist)
    any object that cannot do without it; readers who may read it see everything as sent."""
    bank = admin.add_organisation(hub, "Bank", "financial", "US")
    law = admin.add_organisation(hub, "Law Firm", "legal", "US")
    keys = {org.id: admin.create_key(hub, org.name) for org in (bank, law)}
    only_bank = {
        SCOPE_EXTENSION_ID: Scope(organizations=frozenset({bank.identity_id})).to_extension()
    }
    green = [Tlp.GREEN.marking_id]
    secret = _stix(
        "indicator", 1, name="Kilo", pattern="[ipv4-addr:value = '203.0.113.9']",
        pattern_type="stix", valid_from=CREATED, extensions=only_bank,
    )  # fmt: skip
    public = _stix(
        "indicator", 2, name="Lima", pattern="[ipv4-addr:value = '203.0.113.10']",
        pattern_type="stix", valid_from=CREATED, object_marking_refs=green,
    )  # fmt: skip
    malware = _stix("malware", 3, name="Oscar", is_family=True, object_marking_refs=green)
    elsewhere = f"indicator--{uuid.UUID(int=0xCD_0001, version=4)}"  # not stored here
    report = _stix(
        "report", 4, name="Tango report", published=CREATED, object_marking_refs=green,
        object_refs=[secret["id"], public["id"], malware["id"], elsewhere],
    )  # fmt: skip
    about_secret = _stix(
        "report", 5, name="Zulu report", published=CREATED, object_marking_refs=green,
        object_refs=[secret["id"]],
    )  # fmt: skip
    secret_indicates = _stix(
        "relationship", 6, relationship_type="indicates", source_ref=secret["id"],
        target_ref=malware["id"], object_marking_refs=green,
    )  # fmt: skip
    public_indicates = _stix(
        "relationship", 7, relationship_type="indicates", source_ref=public["id"],
        target_ref=malware["id"], object_marking_refs=green,
    )  # fmt: skip
    sent = [secret, public, malware, report, about_secret, secret_indicates, public_indicates]
    status = ingest.add_objects(hub, bank, "shared", sent)
    assert status.failure_count == 0, status.details
    ids = {str(obj["id"]) for obj in sent}
    withheld = {str(secret["id"]), str(about_secret["id"]), str(secret_indicates["id"])}

    def as_read(body: dict[str, object]) -> dict[str, object]:
        return {
            **body,
            "object_marking_refs": body.get("object_marking_refs", [Tlp.AMBER.marking_id]),
        }

    redacted_report = {**report, "object_refs": [public["id"], malware["id"], elsewhere]}
    expected = {
        bank.id: {str(obj["id"]): as_read(obj) for obj in sent},
        law.id: {
            str(obj["id"]): as_read(redacted_report if obj is report else obj)
            for obj in sent
            if obj["id"] not in withheld
        },
    }
    with http_client(hub) as client:
        for reader in (bank, law):
            want = expected[reader.id]
            auth = {"Authorization": f"Bearer {keys[reader.id]}"}
            taxii = {**auth, **TAXII}
            url = f"{API_ROOT}/collections/shared"
            # Services, and TAXII and REST lists (restricted to this test's ids: the
            # collection also holds the hub's own objects).
            page = reading.list_objects(hub, reader, "shared", ObjectQuery(ids=frozenset(ids)))
            assert {s.row.stix_id: orjson.loads(s.body) for s in page.items} == want
            listed = client.get(
                f"{url}/objects/", params={"match[id]": ",".join(ids)}, headers=taxii
            )
            assert {o["id"]: o for o in listed.json().get("objects", [])} == want
            manifest = client.get(
                f"{url}/manifest/", params={"match[id]": ",".join(ids)}, headers=taxii
            )
            assert {m["id"] for m in manifest.json().get("objects", [])} == set(want)
            found = client.get("/api/v1/objects", params={"q": "report"}, headers=auth).json()
            reports = {  # (the hub's own definitions may mention reports too)
                i["object"]["id"]: i["object"] for i in found["items"] if i["object"]["id"] in ids
            }
            assert reports == {k: v for k, v in want.items() if v["type"] == "report"}
            # One object at a time: 404 for what is withheld, on every path.
            for stix_id in sorted(ids):
                responses = [
                    client.get(f"{url}/objects/{stix_id}/", headers=taxii),
                    client.get(f"{url}/objects/{stix_id}/versions/", headers=taxii),
                    client.get(f"/api/v1/objects/{stix_id}", headers=auth),
                ]
                if stix_id not in want:
                    assert [r.status_code for r in responses] == [404, 404, 404]
                    assert date_headers_of(responses[0]) == {}
                    with pytest.raises(NotFound):
                        reading.get_object(hub, reader, "shared", stix_id, ObjectQuery())
                    continue
                assert responses[0].json()["objects"] == [want[stix_id]]
                assert responses[1].json()["versions"] == [CREATED]
                assert responses[2].json()["items"][0]["object"] == want[stix_id]


def test_withheld_objects_leave_no_trace_in_paging(hub: Hub) -> None:
    bank = admin.add_organisation(hub, "Bank", "financial", "US")
    admin.add_organisation(hub, "Law Firm", "legal", "US")
    key = admin.create_key(hub, "Law Firm")
    only_bank = {
        SCOPE_EXTENSION_ID: Scope(organizations=frozenset({bank.identity_id})).to_extension()
    }
    secret = _stix(
        "indicator", 1, name="Kilo", pattern="[ipv4-addr:value = '203.0.113.9']",
        pattern_type="stix", valid_from=CREATED, extensions=only_bank,
    )  # fmt: skip
    reports = [
        _stix("report", n, name="Zulu", published=CREATED, object_refs=[secret["id"]])
        for n in (2, 3)
    ]
    assert ingest.add_objects(hub, bank, "shared", [secret, *reports]).failure_count == 0
    with http_client(hub) as client:
        response = client.get(
            f"{API_ROOT}/collections/shared/objects/",
            params={"match[type]": "report", "limit": "1"},
            headers={"Authorization": f"Bearer {key}", **TAXII},
        )
    # What the law firm would get if the two reports did not exist.
    assert response.json() == {"more": False}
