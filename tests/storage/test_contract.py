"""The storage contract: ``ReadTx`` / ``WriteTx`` behave the same on SQLite and PostgreSQL.

Every test runs once per engine through the ``hub`` fixture and talks to the store only
through ``hub.store.read()`` / ``hub.store.write()`` (plus raw SQL where the contract is
about rows the protocols do not expose, such as ``object_audience``). Filters and audience
keys come from ``domain.policy`` so the SQL rendering of the sharing rule is checked
against ``may_read`` itself.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterable
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from shieldwall.domain.errors import Conflict
from shieldwall.domain.organisations import Organisation, Role, Sector
from shieldwall.domain.policy import (
    AccessLabel,
    ReaderFilter,
    audience_keys,
    may_read,
    reader_filter,
)
from shieldwall.domain.queries import Cursor, ObjectQuery, VersionFilter
from shieldwall.domain.scope import COMMUNITY, Scope
from shieldwall.domain.tlp import Tlp
from shieldwall.services.context import Hub
from shieldwall.services.ports import (
    CollectionRecord,
    ExistingVersion,
    NewObject,
    ObjectRow,
    StatusRecord,
    WriteTx,
)
from shieldwall.storage.database import Database
from shieldwall.storage.schema import object_audience, objects

ALL = VersionFilter(all=True, last=False)
FIRST = VersionFilter(first=True, last=False)
LAST = VersionFilter()
BIG = 10_000
T0 = 1_750_000_000_000_000


# --- helpers ---------------------------------------------------------------------------


def _db(hub: Hub) -> Database:
    assert isinstance(hub.store, Database)
    return hub.store


def _identity() -> str:
    return f"identity--{uuid.uuid4()}"


def _stix_id(kind: str = "indicator") -> str:
    return f"{kind}--{uuid.uuid4()}"


def add_org(
    tx: WriteTx,
    name: str,
    sector: Sector = Sector.FINANCIAL,
    country: str = "US",
    role: Role = Role.MEMBER,
) -> Organisation:
    return tx.add_organisation(name, _identity(), sector, country, role, T0)


def add_collection(tx: WriteTx, alias: str | None = None) -> CollectionRecord:
    return tx.add_collection(str(uuid.uuid4()), "Test", "", alias, True, True)


def new_object(
    stix_id: str,
    version: int,
    *,
    tlp: Tlp = Tlp.AMBER,
    scope: Scope = COMMUNITY,
    submitter: int | None = None,
    text: str = "",
    spec_version: str = "2.1",
    refs: str | None = None,
) -> NewObject:
    label = AccessLabel(tlp, scope, submitter)
    body = {"type": stix_id.split("--")[0], "id": stix_id, "version": version, "note": text}
    return NewObject(
        stix_id=stix_id,
        stix_type=stix_id.split("--")[0],
        spec_version=spec_version,
        version=version,
        tlp=int(tlp),
        audience=audience_keys(label),
        submitter_org_id=submitter,
        body=json.dumps(body),
        refs=refs,
    )


def operator_view(hub: Hub) -> ReaderFilter:
    """A view that admits every non-RED object (an operator with no keys of its own);
    ``hub`` is unused, it keeps call sites uniform."""
    return ReaderFilter(org_id=-1, keys=frozenset(), all_but_red=True)


def find(
    hub: Hub,
    collection: CollectionRecord,
    view: ReaderFilter,
    limit: int = BIG,
    **query: object,
) -> list[ObjectRow]:
    query.setdefault("versions", ALL)
    with hub.store.read() as tx:
        return tx.find_objects(collection.pk, ObjectQuery(**query), view, limit)  # type: ignore[arg-type]


def keys_of(rows: Iterable[ObjectRow]) -> list[tuple[str, int]]:
    return [(row.stix_id, row.version) for row in rows]


# --- settings ---------------------------------------------------------------------------


def test_settings_insert_update_and_absent(hub: Hub) -> None:
    with hub.store.read() as tx:
        assert tx.setting("contract.probe") is None
        assert tx.setting("hub_identity_id") is not None  # written by ensure_hub
    with hub.store.write() as tx:
        tx.set_setting("contract.probe", "one")
        assert tx.setting("contract.probe") == "one"  # read-your-writes inside the tx
    with hub.store.write() as tx:
        tx.set_setting("contract.probe", "two")
    with hub.store.read() as tx:
        assert tx.setting("contract.probe") == "two"


# --- organisations ----------------------------------------------------------------------


def test_organisations_add_and_lookups(hub: Hub) -> None:
    with hub.store.write() as tx:
        zeta = add_org(tx, "Zeta Bank", Sector.FINANCIAL, "GB")
        alpha = add_org(tx, "Alpha Law", Sector.LEGAL, "US", Role.GOVERNMENT)
    assert zeta.id != alpha.id
    assert zeta.groups == frozenset()
    with hub.store.read() as tx:
        assert tx.organisation(zeta.id) == zeta
        assert tx.organisation_by_name("Alpha Law") == alpha
        assert tx.organisation_by_name("alpha law") is None
        assert tx.organisation(10**6) is None
        assert tx.organisation_by_name("Nobody") is None
        found = tx.organisations_by_identity([zeta.identity_id, alpha.identity_id, _identity()])
        assert found == [alpha, zeta]  # ordered by name, unknown identities ignored
        assert tx.organisations_by_identity([]) == []
        assert [o.name for o in tx.organisations()] == ["Alpha Law", "Zeta Bank"]
    with hub.store.read() as tx:
        stored = tx.organisation(alpha.id)
    assert stored is not None
    assert (stored.sector, stored.country, stored.role) == (Sector.LEGAL, "US", Role.GOVERNMENT)


def test_organisation_name_and_identity_are_unique(hub: Hub) -> None:
    with hub.store.write() as tx:
        first = add_org(tx, "Unique Org")
    with pytest.raises(Conflict), hub.store.write() as tx:
        add_org(tx, "Unique Org")
    with pytest.raises(Conflict), hub.store.write() as tx:
        tx.add_organisation("Other", first.identity_id, Sector.OTHER, "US", Role.MEMBER, T0)
    with hub.store.read() as tx:
        assert [o.name for o in tx.organisations()] == ["Unique Org"]


def test_group_membership_is_reflected_in_organisations(hub: Hub) -> None:
    with hub.store.write() as tx:
        owner = add_org(tx, "Owner")
        member = add_org(tx, "Member")
        tx.add_group("red-team", owner.id, "the red team", T0)
        tx.add_group("blue-team", None, "", T0)
        tx.add_group_member("red-team", owner.id)
        tx.add_group_member("red-team", member.id)
        tx.add_group_member("red-team", member.id)  # idempotent
        tx.add_group_member("blue-team", member.id)
    with hub.store.read() as tx:
        assert tx.organisation(member.id).groups == {"red-team", "blue-team"}  # type: ignore[union-attr]
        assert tx.organisation_by_name("Owner").groups == {"red-team"}  # type: ignore[union-attr]
        by_identity = tx.organisations_by_identity([member.identity_id])
        assert by_identity[0].groups == {"red-team", "blue-team"}
        red = tx.group("red-team")
        assert red is not None
        assert (red.owner, red.description, red.members) == (
            "Owner",
            "the red team",
            ("Member", "Owner"),
        )
        blue = tx.group("blue-team")
        assert blue is not None
        assert (blue.owner, blue.members) == (None, ("Member",))
        assert [g.name for g in tx.groups()] == ["blue-team", "red-team"]
        assert tx.group("green-team") is None
        assert tx.existing_group_names(["red-team", "green-team", "blue-team"]) == {
            "red-team",
            "blue-team",
        }
        assert tx.existing_group_names([]) == set()

    with hub.store.write() as tx:
        tx.remove_group_member("red-team", member.id)
        tx.remove_group_member("red-team", member.id)  # removing twice is harmless
    with hub.store.read() as tx:
        assert tx.organisation(member.id).groups == {"blue-team"}  # type: ignore[union-attr]
        assert tx.group("red-team").members == ("Owner",)  # type: ignore[union-attr]

    # delete_group disbands the group: nobody is a member any more, so nothing reaches
    # anyone through it. (Whether the row, and so the name, survives is the caller's
    # business: admin.delete_group keeps names taken; this contract does not pin it.)
    with hub.store.write() as tx:
        col = add_collection(tx)
        scoped = new_object(_stix_id(), 1, scope=Scope(groups=frozenset({"blue-team"})))
        tx.insert_objects(col.pk, T0, [scoped])
    with hub.store.read() as tx:
        view = reader_filter(tx.organisation(member.id))  # type: ignore[arg-type]
    assert keys_of(find(hub, col, view)) == [(scoped.stix_id, 1)]
    with hub.store.write() as tx:
        tx.delete_group("blue-team", T0)
        tx.delete_group("no-such-group", T0)  # harmless
    with hub.store.read() as tx:
        former = tx.organisation(member.id)
        assert former is not None
        assert former.groups == frozenset()
        assert tx.group("red-team").members == ("Owner",)  # type: ignore[union-attr]
        remains = tx.group("blue-team")
        # disbanded: no members, and the row stays so the name can never be reused
        assert remains is not None
        assert remains.members == ()
        assert remains.disbanded
        assert tx.existing_group_names(["blue-team"]) == {"blue-team"}
    assert find(hub, col, reader_filter(former)) == []
    with hub.store.read() as tx:
        assert tx.hidden_ids([scoped.stix_id], reader_filter(former)) == {scoped.stix_id}


def test_group_names_are_unique(hub: Hub) -> None:
    with hub.store.write() as tx:
        tx.add_group("g1", None, "", T0)
    with pytest.raises(Conflict), hub.store.write() as tx:
        tx.add_group("g1", None, "", T0)


# --- assets -----------------------------------------------------------------------------


def test_assets_are_deduplicated_and_sorted(hub: Hub) -> None:
    with hub.store.write() as tx:
        org = add_org(tx, "Asset Org")
        other = add_org(tx, "Other Org")
        tx.add_asset(org.id, "domain", "example.com")
        tx.add_asset(org.id, "cidr", "10.0.0.0/8")
        tx.add_asset(org.id, "domain", "example.com")
        tx.add_asset(org.id, "keyword", "Example")
    with hub.store.write() as tx:
        tx.add_asset(org.id, "domain", "example.com")  # in a later transaction too
        tx.add_asset(org.id, "keyword", "example")  # a different value: kept
    with hub.store.read() as tx:
        assert tx.assets(org.id) == [
            ("cidr", "10.0.0.0/8"),
            ("domain", "example.com"),
            ("keyword", "Example"),
            ("keyword", "example"),
        ]
        assert tx.assets(other.id) == []


# --- API keys ---------------------------------------------------------------------------


def test_keys_add_lookup_revoke_once_touch(hub: Hub) -> None:
    with hub.store.write() as tx:
        org = add_org(tx, "Keyed Org")
        other = add_org(tx, "Another Org")
        tx.add_key("aaaaaaaaaaaa", org.id, "h" * 64, "laptop", T0 + 1)
        tx.add_key("bbbbbbbbbbbb", org.id, "i" * 64, "", T0 + 2)
        tx.add_key("cccccccccccc", other.id, "j" * 64, "ci", T0 + 3)
    with hub.store.read() as tx:
        record = tx.key("aaaaaaaaaaaa")
        assert record is not None
        assert (record.key_id, record.organisation, record.secret_hash, record.revoked) == (
            "aaaaaaaaaaaa",
            org,
            "h" * 64,
            False,
        )
        assert tx.key("zzzzzzzzzzzz") is None
        listed = tx.keys(org.id)
        assert [(k.key_id, k.label, k.created_at) for k in listed] == [
            ("aaaaaaaaaaaa", "laptop", T0 + 1),
            ("bbbbbbbbbbbb", "", T0 + 2),
        ]
        assert all(k.organisation == "Keyed Org" for k in listed)
        assert all(k.revoked_at is None and k.last_used_at is None for k in listed)
        assert [k.key_id for k in tx.keys(None)] == ["cccccccccccc", "aaaaaaaaaaaa", "bbbbbbbbbbbb"]

    with hub.store.write() as tx:
        assert tx.revoke_key("aaaaaaaaaaaa", T0 + 10) is True
        assert tx.revoke_key("aaaaaaaaaaaa", T0 + 11) is False  # only once
        assert tx.revoke_key("zzzzzzzzzzzz", T0 + 12) is False
        tx.touch_key("bbbbbbbbbbbb", T0 + 20)
        tx.touch_key("zzzzzzzzzzzz", T0 + 20)  # unknown: nothing happens
    with hub.store.write() as tx:
        assert tx.revoke_key("aaaaaaaaaaaa", T0 + 13) is False  # still once, across txs
        tx.touch_key("bbbbbbbbbbbb", T0 + 30)
    with hub.store.read() as tx:
        assert tx.key("aaaaaaaaaaaa").revoked is True  # type: ignore[union-attr]
        assert tx.key("bbbbbbbbbbbb").revoked is False  # type: ignore[union-attr]
        info = {k.key_id: k for k in tx.keys(org.id)}
        assert info["aaaaaaaaaaaa"].revoked_at == T0 + 10
        assert info["bbbbbbbbbbbb"].last_used_at == T0 + 30
        assert info["bbbbbbbbbbbb"].revoked_at is None

    with pytest.raises(Conflict), hub.store.write() as tx:
        tx.add_key("aaaaaaaaaaaa", other.id, "k" * 64, "", T0)


def test_key_lookup_reflects_current_groups(hub: Hub) -> None:
    with hub.store.write() as tx:
        org = add_org(tx, "Grouped")
        tx.add_key("dddddddddddd", org.id, "h" * 64, "", T0)
        tx.add_group("ops", None, "", T0)
        tx.add_group_member("ops", org.id)
    with hub.store.read() as tx:
        assert tx.key("dddddddddddd").organisation.groups == {"ops"}  # type: ignore[union-attr]


# --- collections ------------------------------------------------------------------------


def test_collections_by_id_and_alias(hub: Hub) -> None:
    with hub.store.read() as tx:
        default = tx.collection("shared")  # created by ensure_hub
        before = tx.collections()
    assert default is not None
    assert default in before
    cid = str(uuid.uuid4())
    with hub.store.write() as tx:
        made = tx.add_collection(cid, "Private", "for operators", "ops-only", False, True)
        bare = tx.add_collection(str(uuid.uuid4()), "No alias", "", None, True, False)
    assert (made.collection_id, made.title, made.description, made.alias) == (
        cid,
        "Private",
        "for operators",
        "ops-only",
    )
    assert (made.members_can_read, made.members_can_write) == (False, True)
    with hub.store.read() as tx:
        assert tx.collection(cid) == made
        assert tx.collection("ops-only") == made
        assert tx.collection(bare.collection_id) == bare
        assert tx.collection(str(uuid.uuid4())) is None
        assert tx.collection("nope") is None
        assert tx.collections() == [*before, made, bare]  # in creation order

    with pytest.raises(Conflict), hub.store.write() as tx:
        tx.add_collection(str(uuid.uuid4()), "Dup alias", "", "ops-only", True, True)
    with pytest.raises(Conflict), hub.store.write() as tx:
        tx.add_collection(cid, "Dup id", "", None, True, True)


def test_lock_and_last_date_added(hub: Hub) -> None:
    with hub.store.write() as tx:
        col = add_collection(tx)
        assert tx.lock_collection(col.pk) == 0
        tx.set_last_date_added(col.pk, T0 + 5)
        assert tx.lock_collection(col.pk) == T0 + 5
    with hub.store.write() as tx:
        assert tx.lock_collection(col.pk) == T0 + 5


# --- objects: insert, order, paging -----------------------------------------------------


def test_insert_and_read_back_every_column(hub: Hub) -> None:
    ref = _stix_id("malware")
    with hub.store.write() as tx:
        org = add_org(tx, "Submitter")
        col = add_collection(tx)
        row = new_object(
            _stix_id(), T0 - 5, tlp=Tlp.GREEN, submitter=org.id, text="hello", refs=ref
        )
        tx.insert_objects(col.pk, T0, [row])
        tx.insert_objects(col.pk, T0 + 1, [])  # nothing to insert is fine
    [found] = find(hub, col, operator_view(hub))
    assert (found.stix_id, found.stix_type, found.spec_version, found.version) == (
        row.stix_id,
        "indicator",
        "2.1",
        T0 - 5,
    )
    assert (found.date_added, found.tlp, found.submitter_org_id) == (T0, int(Tlp.GREEN), org.id)
    assert json.loads(found.body) == json.loads(row.body)
    assert found.refs == ref
    assert isinstance(found.seq, int)


def test_audience_rows_follow_audience_keys(hub: Hub) -> None:
    scoped = Scope(sectors=frozenset({"financial"}), groups=frozenset({"g1"}))
    with hub.store.write() as tx:
        col = add_collection(tx)
        community = new_object(_stix_id(), 1)
        restricted = new_object(_stix_id(), 1, scope=scoped)
        tx.insert_objects(col.pk, T0, [community, restricted])
    by_id = {r.stix_id: r.seq for r in find(hub, col, operator_view(hub))}
    with _db(hub).engine.connect() as connection:
        stored = {
            seq: set(
                connection.execute(
                    select(object_audience.c.key).where(object_audience.c.object_seq == seq)
                ).scalars()
            )
            for seq in by_id.values()
        }
        community_flag = dict(
            connection.execute(select(objects.c.stix_id, objects.c.community)).tuples().all()
        )
    # the community key is a column, every other key a row of object_audience
    assert stored[by_id[community.stix_id]] == set()
    assert bool(community_flag[community.stix_id]) is True
    assert stored[by_id[restricted.stix_id]] == set(restricted.audience)
    assert bool(community_flag[restricted.stix_id]) is False


def test_order_is_date_added_then_seq(hub: Hub) -> None:
    with hub.store.write() as tx:
        col = add_collection(tx)
        late = [new_object(_stix_id(), 1) for _ in range(3)]
        early = [new_object(_stix_id(), 1) for _ in range(3)]
        tx.insert_objects(col.pk, T0 + 200, late)  # lower seqs, later date_added
        tx.insert_objects(col.pk, T0 + 100, early)
    rows = find(hub, col, operator_view(hub))
    assert {r.stix_id for r in rows[:3]} == {o.stix_id for o in early}
    assert {r.stix_id for r in rows[3:]} == {o.stix_id for o in late}
    assert [(r.date_added, r.seq) for r in rows] == sorted((r.date_added, r.seq) for r in rows)
    assert len({r.seq for r in rows}) == len(rows)


def _fill_pages(hub: Hub) -> tuple[CollectionRecord, list[str]]:
    """Four batches (4, 1, 5, 3 objects, some scoped) at T0+10 … T0+40; returns the ids in
    listing order."""
    with hub.store.write() as tx:
        col = add_collection(tx)
        for batch, size in enumerate([4, 1, 5, 3]):
            rows = [
                new_object(_stix_id(), 1, scope=Scope(countries=frozenset({"US"})))
                if n % 2
                else new_object(_stix_id(), 1)
                for n in range(size)
            ]
            tx.insert_objects(col.pk, T0 + 10 * (batch + 1), rows)
    listing = find(hub, col, operator_view(hub))
    assert [r.date_added for r in listing] == [T0 + 10] * 4 + [T0 + 20] + [T0 + 30] * 5 + [
        T0 + 40
    ] * 3
    return col, [r.stix_id for r in listing]


def test_cursor_paging_has_no_gaps_or_duplicates(hub: Hub) -> None:
    col, listing = _fill_pages(hub)
    view = operator_view(hub)
    for page_size in (1, 2, 3, 5, 13, 50):
        served: list[ObjectRow] = []
        cursor = None
        for _ in range(100):
            page = find(hub, col, view, page_size, cursor=cursor)
            assert len(page) <= page_size
            if cursor is not None:
                assert all((r.date_added, r.seq) > (cursor.date_added, cursor.seq) for r in page)
            served += page
            if len(page) < page_size:
                break
            cursor = Cursor(page[-1].date_added, page[-1].seq)
        assert [r.stix_id for r in served] == listing, page_size


def test_cursor_is_strictly_after_inside_one_date_added(hub: Hub) -> None:
    col, listing = _fill_pages(hub)
    everything = find(hub, col, operator_view(hub))
    for index, row in enumerate(everything):
        after = find(hub, col, operator_view(hub), cursor=Cursor(row.date_added, row.seq))
        assert [r.stix_id for r in after] == listing[index + 1 :]
    # a cursor between rows (a row deleted since) resumes at the next row
    middle = everything[6]
    after = find(hub, col, operator_view(hub), cursor=Cursor(middle.date_added, middle.seq - 1))
    assert after[0].stix_id == middle.stix_id


def test_added_after_is_strict(hub: Hub) -> None:
    col, listing = _fill_pages(hub)
    assert [r.stix_id for r in find(hub, col, operator_view(hub), added_after=T0 + 20)] == (
        listing[5:]
    )
    assert [r.stix_id for r in find(hub, col, operator_view(hub), added_after=T0 + 19)] == (
        listing[4:]
    )
    assert find(hub, col, operator_view(hub), added_after=T0 + 40) == []
    combined = find(hub, col, operator_view(hub), 2, added_after=T0 + 10, cursor=Cursor(T0 + 30, 0))
    assert [r.stix_id for r in combined] == listing[5:7]


def test_limit_is_honoured(hub: Hub) -> None:
    col, inserted = _fill_pages(hub)
    assert [r.stix_id for r in find(hub, col, operator_view(hub), 3)] == inserted[:3]


# --- objects: filters -------------------------------------------------------------------


def test_filters_ids_types_spec_versions_tlps(hub: Hub) -> None:
    a, b = _stix_id("indicator"), _stix_id("indicator")
    m = _stix_id("malware")
    old = _stix_id("malware")
    with hub.store.write() as tx:
        col = add_collection(tx)
        other = add_collection(tx)
        tx.insert_objects(
            col.pk,
            T0,
            [
                new_object(a, 1, tlp=Tlp.CLEAR),
                new_object(b, 1, tlp=Tlp.GREEN),
                new_object(m, 1, tlp=Tlp.AMBER),
                new_object(old, 1, tlp=Tlp.AMBER_STRICT, spec_version="2.0"),
            ],
        )
        tx.insert_objects(other.pk, T0, [new_object(a, 1)])
    view = operator_view(hub)

    def ids(**query: object) -> set[str]:
        return {r.stix_id for r in find(hub, col, view, **query)}

    assert ids() == {a, b, m, old}
    assert ids(ids=frozenset({a, m, _stix_id()})) == {a, m}
    assert ids(types=frozenset({"malware"})) == {m, old}
    assert ids(types=frozenset({"malware", "indicator"})) == {a, b, m, old}
    assert ids(types=frozenset({"tool"})) == set()
    assert ids(spec_versions=frozenset({"2.0"})) == {old}
    assert ids(spec_versions=frozenset({"2.1"})) == {a, b, m}
    assert ids(tlps=frozenset({int(Tlp.CLEAR), int(Tlp.AMBER)})) == {a, m}
    assert ids(tlps=frozenset({int(Tlp.RED)})) == set()
    assert ids(types=frozenset({"malware"}), spec_versions=frozenset({"2.1"})) == {m}
    assert ids(ids=frozenset({a}), tlps=frozenset({int(Tlp.GREEN)})) == set()
    # other collections never leak in
    assert {r.stix_id for r in find(hub, other, view)} == {a}


def test_filters_submitter_sectors_and_countries(hub: Hub) -> None:
    """Feed filters: only versions an attributed submitter of the sector / country added."""
    with hub.store.write() as tx:
        col = add_collection(tx)
        us_bank = add_org(tx, "US Bank", Sector.FINANCIAL, "US")
        gb_bank = add_org(tx, "GB Bank", Sector.FINANCIAL, "GB")
        us_law = add_org(tx, "US Law", Sector.LEGAL, "US")
        by = {name: _stix_id() for name in ("us-bank", "gb-bank", "us-law", "anonymous")}
        tx.insert_objects(
            col.pk,
            T0,
            [
                new_object(by["us-bank"], 1, submitter=us_bank.id),
                new_object(by["gb-bank"], 1, submitter=gb_bank.id),
                new_object(by["us-law"], 1, submitter=us_law.id),
                new_object(by["anonymous"], 1, submitter=None),
            ],
        )
    view = operator_view(hub)
    names = {v: k for k, v in by.items()}

    def found(**query: object) -> set[str]:
        return {names[r.stix_id] for r in find(hub, col, view, **query)}

    assert found() == set(by)
    assert found(submitter_sectors=frozenset({"financial"})) == {"us-bank", "gb-bank"}
    assert found(submitter_sectors=frozenset({"legal", "financial"})) == {
        "us-bank",
        "gb-bank",
        "us-law",
    }
    assert found(submitter_countries=frozenset({"US"})) == {"us-bank", "us-law"}
    assert found(
        submitter_sectors=frozenset({"financial"}), submitter_countries=frozenset({"US"})
    ) == {"us-bank"}
    assert found(submitter_sectors=frozenset({"insurance"})) == set()
    # combines with the other filters
    assert found(submitter_countries=frozenset({"GB"}), tlps=frozenset({int(Tlp.RED)})) == set()


def test_newest_first_pages_backwards_without_gaps(hub: Hub) -> None:
    col, listing = _fill_pages(hub)
    view = operator_view(hub)
    newest = find(hub, col, view, newest_first=True)
    assert [r.stix_id for r in newest] == listing[::-1]
    for page_size in (1, 2, 3, 5, 13, 50):
        served: list[ObjectRow] = []
        cursor = None
        for _ in range(100):
            page = find(hub, col, view, page_size, cursor=cursor, newest_first=True)
            if cursor is not None:
                assert all((r.date_added, r.seq) < (cursor.date_added, cursor.seq) for r in page)
            served += page
            if len(page) < page_size:
                break
            cursor = Cursor(page[-1].date_added, page[-1].seq)
        assert [r.stix_id for r in served] == listing[::-1], page_size
    # added_after still bounds from below
    recent = find(hub, col, view, newest_first=True, added_after=T0 + 30)
    assert [r.stix_id for r in recent] == listing[::-1][:3]


TEXT_CASES: list[tuple[str, set[str]]] = [
    ("50%", {"percent"}),
    ("%", {"percent"}),
    ("a_b", {"underscore"}),
    ("_", {"underscore"}),
    # bodies are JSON text, where one backslash is stored as two
    ("c:\\\\temp", {"backslash"}),
    ("\\", {"backslash"}),
    ("MiXeD", {"mixed"}),
    ("mixed case", {"mixed"}),
    ("nothing like this", set()),
]


def test_text_search_treats_like_metacharacters_literally(hub: Hub) -> None:
    texts = {
        "percent": "discount of 50% today",
        "no-percent": "discount of 50 percent today",
        "underscore": "token a_b here",
        "no-underscore": "token axb here",
        "backslash": "path c:\\temp\\x",
        "no-backslash": "path c:/temp/x",
        "mixed": "Mixed Case words",
    }
    ids = {name: _stix_id() for name in texts}
    with hub.store.write() as tx:
        col = add_collection(tx)
        tx.insert_objects(col.pk, T0, [new_object(ids[n], 1, text=t) for n, t in texts.items()])
    by_id = {v: k for k, v in ids.items()}
    for needle, expected in TEXT_CASES:
        found = {by_id[r.stix_id] for r in find(hub, col, operator_view(hub), text=needle)}
        assert found == expected, needle
    # text combines with the other filters
    assert find(hub, col, operator_view(hub), text="50%", tlps=frozenset({int(Tlp.RED)})) == []


def test_text_search_is_case_insensitive_beyond_ascii(
    hub: Hub, engine_name: str, request: pytest.FixtureRequest
) -> None:
    sid = _stix_id()
    with hub.store.write() as tx:
        col = add_collection(tx)
        # bodies are stored as UTF-8 JSON (ingest uses orjson), not \u escapes
        row = new_object(sid, 1)
        tx.insert_objects(col.pk, T0, [replace(row, body='{"name": "École Straße"}')])
    for needle in ("École", "école", "ÉCOLE", "straße"):
        assert keys_of(find(hub, col, operator_view(hub), text=needle)) == [(sid, 1)], needle


# --- objects: visibility and version selection -------------------------------------------


def test_sql_visibility_equals_may_read(hub: Hub) -> None:
    """Every (reader, label) pair of a small community: SQL admits exactly ``may_read``."""
    with hub.store.write() as tx:
        col = add_collection(tx)
        fin_us = add_org(tx, "Fin US", Sector.FINANCIAL, "US")
        fin_gb = add_org(tx, "Fin GB", Sector.FINANCIAL, "GB")
        law_us = add_org(tx, "Law US", Sector.LEGAL, "US")
        gov_de = add_org(tx, "Gov DE", Sector.GOVERNMENT, "DE", Role.GOVERNMENT)
        operator = add_org(tx, "Operator", Sector.OTHER, "US", Role.OPERATOR)
        tx.add_group("fin-club", None, "", T0)
        tx.add_group_member("fin-club", fin_gb.id)
        tx.add_group_member("fin-club", law_us.id)
        orgs = [fin_us, fin_gb, law_us, gov_de, operator]
    with hub.store.read() as tx:
        readers = [tx.organisation(o.id) for o in orgs]
    scopes = [
        COMMUNITY,
        Scope(sectors=frozenset({"financial"})),
        Scope(countries=frozenset({"US"})),
        Scope(sectors=frozenset({"financial"}), countries=frozenset({"GB"})),
        Scope(groups=frozenset({"fin-club"})),
        Scope(organizations=frozenset({gov_de.identity_id})),
        Scope(organizations=frozenset({law_us.identity_id}), countries=frozenset({"DE"})),
    ]
    submitters: list[int | None] = [None, fin_us.id, gov_de.id]
    labels: dict[str, AccessLabel] = {}
    rows = []
    for tlp, scope, submitter in itertools.product(Tlp, scopes, submitters):
        stix_id = _stix_id()
        labels[stix_id] = AccessLabel(tlp, scope, submitter)
        rows.append(new_object(stix_id, 1, tlp=tlp, scope=scope, submitter=submitter))
    with hub.store.write() as tx:
        tx.insert_objects(col.pk, T0, rows)
    for reader in readers:
        assert reader is not None
        view = reader_filter(reader)
        seen = {r.stix_id for r in find(hub, col, view)}
        expected = {sid for sid, label in labels.items() if may_read(reader, label)}
        assert seen == expected, reader.name
        with hub.store.read() as tx:
            assert tx.hidden_ids(labels, view) == set(labels) - expected


VERSION_CASES: list[tuple[VersionFilter, list[int], list[int]]] = [
    (LAST, [4], [3]),
    (FIRST, [1], [1]),
    (ALL, [2, 3, 4, 1], [3, 1]),
    (VersionFilter(first=True, last=True), [4, 1], [3, 1]),
    (VersionFilter(last=False, exact=frozenset({2, 3})), [2, 3], [3]),
    (VersionFilter(last=False, exact=frozenset({4})), [4], []),
    (VersionFilter(last=True, exact=frozenset({2})), [2, 4], [3]),
    (VersionFilter(first=True, last=False, exact=frozenset({4})), [4, 1], [1]),
    (VersionFilter(last=False, exact=frozenset({99})), [], []),
]


def test_version_selection_over_visible_versions(hub: Hub) -> None:
    """One id with versions 1..4, added in the order 2, 3, 4, 1; versions 2 and 4 are RED
    for ``insider`` only, so ``outsider`` sees 3 as the last version and 1 as the first."""
    sid = _stix_id()
    with hub.store.write() as tx:
        col = add_collection(tx)
        insider_org = add_org(tx, "Insider")
        outsider_org = add_org(tx, "Outsider")
        submitter = add_org(tx, "Submitter")
        red = Scope(organizations=frozenset({insider_org.identity_id}))
        for offset, row in enumerate(
            [
                new_object(sid, 2, tlp=Tlp.RED, scope=red, submitter=submitter.id),
                new_object(sid, 3, submitter=submitter.id),
                new_object(sid, 4, tlp=Tlp.RED, scope=red),
                new_object(sid, 1, submitter=submitter.id),
            ]
        ):
            tx.insert_objects(col.pk, T0 + offset, [row])
    with hub.store.read() as tx:
        views = {
            "insider": reader_filter(tx.organisation(insider_org.id)),  # type: ignore[arg-type]
            "outsider": reader_filter(tx.organisation(outsider_org.id)),  # type: ignore[arg-type]
        }
    order = [2, 3, 4, 1]  # (date_added, seq) order of the versions
    for versions, insider, outsider in VERSION_CASES:
        for name, wanted in (("insider", insider), ("outsider", outsider)):
            rows = find(hub, col, views[name], versions=versions)
            expected = sorted(wanted, key=order.index)
            assert [r.version for r in rows] == expected, (name, versions)
            assert all(r.stix_id == sid for r in rows)
    # the submitter is not named in the RED scope: it sees its own versions, not the hub's 4
    with hub.store.read() as tx:
        own = reader_filter(tx.organisation(submitter.id))  # type: ignore[arg-type]
    assert [r.version for r in find(hub, col, own)] == [2, 3, 1]
    assert [r.version for r in find(hub, col, own, versions=LAST)] == [3]


def test_version_selection_with_no_visible_version(hub: Hub) -> None:
    with hub.store.write() as tx:
        col = add_collection(tx)
        insider = add_org(tx, "Insider")
        outsider = add_org(tx, "Outsider")
        red = Scope(organizations=frozenset({insider.identity_id}))
        sid = _stix_id()
        tx.insert_objects(col.pk, T0, [new_object(sid, v, tlp=Tlp.RED, scope=red) for v in (1, 2)])
    with hub.store.read() as tx:
        view = reader_filter(tx.organisation(outsider.id))  # type: ignore[arg-type]
        assert tx.hidden_ids([sid], view) == {sid}
    for versions in (LAST, FIRST, ALL):
        assert find(hub, col, view, versions=versions) == []


def test_version_selection_is_per_collection(hub: Hub) -> None:
    sid = _stix_id()
    with hub.store.write() as tx:
        one = add_collection(tx)
        two = add_collection(tx)
        tx.insert_objects(one.pk, T0, [new_object(sid, 1)])
        tx.insert_objects(two.pk, T0, [new_object(sid, 2)])
    view = operator_view(hub)
    assert [r.version for r in find(hub, one, view, versions=LAST)] == [1]
    assert [r.version for r in find(hub, two, view, versions=FIRST)] == [2]


def test_hidden_ids(hub: Hub) -> None:
    with hub.store.write() as tx:
        col = add_collection(tx)
        insider = add_org(tx, "Insider")
        outsider = add_org(tx, "Outsider")
        third = add_org(tx, "Third")
        red = Scope(organizations=frozenset({insider.identity_id}))
        elsewhere = Scope(organizations=frozenset({third.identity_id}))
        hidden, partly, visible, own = _stix_id(), _stix_id(), _stix_id(), _stix_id()
        tx.insert_objects(
            col.pk,
            T0,
            [
                new_object(hidden, 1, tlp=Tlp.RED, scope=red),
                new_object(partly, 1, tlp=Tlp.RED, scope=red),
                new_object(partly, 2),
                new_object(visible, 1),
                new_object(own, 1, tlp=Tlp.RED, scope=elsewhere, submitter=outsider.id),
            ],
        )
    unknown = _stix_id()
    with hub.store.read() as tx:
        out_view = reader_filter(tx.organisation(outsider.id))  # type: ignore[arg-type]
        in_view = reader_filter(tx.organisation(insider.id))  # type: ignore[arg-type]
        asked = [hidden, partly, visible, own, unknown, hidden]
        assert tx.hidden_ids(asked, out_view) == {hidden}
        assert tx.hidden_ids(asked, in_view) == {own}
        assert tx.hidden_ids([], out_view) == set()
        assert tx.hidden_ids([unknown], out_view) == set()


def test_existing_versions(hub: Hub) -> None:
    sid, other_id = _stix_id(), _stix_id()
    with hub.store.write() as tx:
        col = add_collection(tx)
        elsewhere = add_collection(tx)
        org = add_org(tx, "Versioner")
        tx.insert_objects(col.pk, T0, [new_object(sid, 1, submitter=org.id)])
        tx.insert_objects(col.pk, T0 + 1, [new_object(sid, 2, submitter=None)])
        tx.insert_objects(elsewhere.pk, T0, [new_object(other_id, 1)])
        inside = tx.existing_versions(col.pk, [sid])  # sees its own uncommitted rows
    assert sorted(inside[sid], key=lambda v: v.version) == [
        ExistingVersion(1, org.id, T0),
        ExistingVersion(2, None, T0 + 1),
    ]
    with hub.store.write() as tx:
        found = tx.existing_versions(col.pk, [sid, other_id, _stix_id(), sid])
        assert set(found) == {sid}
        assert sorted(v.version for v in found[sid]) == [1, 2]
        assert tx.existing_versions(col.pk, []) == {}
        assert tx.existing_versions(elsewhere.pk, [other_id]) == {
            other_id: [ExistingVersion(1, None, T0)]
        }


def test_delete_objects_removes_audience_rows(hub: Hub) -> None:
    scoped = Scope(groups=frozenset({"g1"}), countries=frozenset({"US"}))
    sid, keep = _stix_id(), _stix_id()
    with hub.store.write() as tx:
        col = add_collection(tx)
        tx.insert_objects(col.pk, T0, [new_object(sid, 1, scope=scoped)])
        tx.insert_objects(col.pk, T0 + 1, [new_object(sid, 2, scope=scoped)])
        tx.insert_objects(col.pk, T0 + 2, [new_object(keep, 1, scope=scoped)])
    view = operator_view(hub)
    rows = {(r.stix_id, r.version): r.seq for r in find(hub, col, view)}
    with hub.store.write() as tx:
        tx.delete_objects([rows[(sid, 2)]])
        tx.delete_objects([])
    assert [r.version for r in find(hub, col, view, versions=LAST, ids=frozenset({sid}))] == [1]
    with hub.store.write() as tx:
        assert set(tx.existing_versions(col.pk, [sid])) == {sid}
        tx.delete_objects([rows[(sid, 1)]])
        assert tx.existing_versions(col.pk, [sid]) == {}
    assert keys_of(find(hub, col, view)) == [(keep, 1)]
    with _db(hub).engine.connect() as connection:
        audience_seqs = set(
            connection.execute(select(object_audience.c.object_seq).distinct()).scalars()
        )
    assert rows[(sid, 1)] not in audience_seqs
    assert rows[(sid, 2)] not in audience_seqs
    assert rows[(keep, 1)] in audience_seqs
    with hub.store.read() as tx:
        assert tx.hidden_ids([sid], view) == set()  # no longer stored at all


# --- statuses ---------------------------------------------------------------------------


def test_status_round_trip(hub: Hub) -> None:
    details = json.dumps({"successes": [{"id": _stix_id()}], "failures": [], "pendings": []})
    with hub.store.write() as tx:
        org = add_org(tx, "Poster")
        col = add_collection(tx)
        record = StatusRecord(str(uuid.uuid4()), org.id, col.pk, T0, 3, 2, 1, 0, details)
        anonymous = StatusRecord(str(uuid.uuid4()), None, col.pk, T0 + 1, 0, 0, 0, 0, "{}")
        tx.insert_status(record)
        tx.insert_status(anonymous)
    with hub.store.read() as tx:
        assert tx.status(record.id) == record
        assert tx.status(anonymous.id) == anonymous
        assert tx.status(str(uuid.uuid4())) is None
    with pytest.raises(Conflict), hub.store.write() as tx:
        tx.insert_status(record)


# --- transactions -----------------------------------------------------------------------


class Boom(Exception):
    pass


def _snapshot(hub: Hub) -> tuple[object, ...]:
    with hub.store.read() as tx:
        return (
            tuple(tx.organisations()),
            tuple(tx.groups()),
            tuple(tx.collections()),
            tx.setting("contract.rollback"),
        )


def _object_count(hub: Hub) -> tuple[int, int]:
    with _db(hub).engine.connect() as connection:
        return (
            connection.execute(select(func.count()).select_from(objects)).scalar_one(),
            connection.execute(select(func.count()).select_from(object_audience)).scalar_one(),
        )


def test_failed_write_transaction_leaves_nothing_behind(hub: Hub) -> None:
    with hub.store.write() as tx:
        existing = add_org(tx, "Existing")
        col = add_collection(tx, "kept")
    before, counts, last = _snapshot(hub), _object_count(hub), None
    with hub.store.write() as tx:
        last = tx.lock_collection(col.pk)
    status_id = str(uuid.uuid4())

    def doomed() -> None:
        with hub.store.write() as tx:
            tx.set_setting("contract.rollback", "x")
            org = add_org(tx, "Ghost")
            tx.add_group("ghosts", org.id, "", T0)
            tx.add_group_member("ghosts", existing.id)
            tx.add_asset(existing.id, "domain", "ghost.example")
            tx.add_key("eeeeeeeeeeee", org.id, "h" * 64, "", T0)
            ghost_col = add_collection(tx, "ghost")
            scoped = Scope(groups=frozenset({"ghosts"}))
            tx.insert_objects(col.pk, T0, [new_object(_stix_id(), 1, scope=scoped)])
            tx.insert_objects(ghost_col.pk, T0, [new_object(_stix_id(), 1)])
            tx.set_last_date_added(col.pk, T0 + 99)
            tx.insert_status(StatusRecord(status_id, org.id, col.pk, T0, 0, 0, 0, 0, "{}"))
            raise Boom

    with pytest.raises(Boom):
        doomed()
    assert _snapshot(hub) == before
    assert _object_count(hub) == counts
    with hub.store.write() as tx:
        assert tx.lock_collection(col.pk) == last
        assert tx.assets(existing.id) == []
        assert tx.key("eeeeeeeeeeee") is None
        assert tx.status(status_id) is None
        assert tx.collection("ghost") is None


def test_duplicate_object_version_is_a_conflict(hub: Hub) -> None:
    sid = _stix_id()
    with hub.store.write() as tx:
        col = add_collection(tx)
        other = add_collection(tx)
        tx.insert_objects(col.pk, T0, [new_object(sid, 1)])
        tx.insert_objects(other.pk, T0, [new_object(sid, 1)])  # other collection: fine
        tx.insert_objects(col.pk, T0, [new_object(sid, 2)])  # other version: fine
    counts = _object_count(hub)
    # across transactions; the transaction's other rows go too

    def clash() -> None:
        with hub.store.write() as tx:
            tx.insert_objects(col.pk, T0 + 1, [new_object(_stix_id(), 1)])
            scoped = new_object(sid, 1, scope=Scope(groups=frozenset({"g"})))
            tx.insert_objects(col.pk, T0 + 1, [scoped])

    with pytest.raises(Conflict):
        clash()
    # inside one batch
    fresh = _stix_id()
    with pytest.raises(Conflict), hub.store.write() as tx:
        tx.insert_objects(col.pk, T0 + 2, [new_object(fresh, 7), new_object(fresh, 7)])
    assert _object_count(hub) == counts
