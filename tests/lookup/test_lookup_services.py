"""Private lookup and bulk matching in the services, on both engines: the filter holds
exactly what the reader may read, blind evaluation agrees with it, the quota holds, and
the hub keeps no queried value."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from lookup_support import indicator
from sqlalchemy import MetaData, select
from voprf import ristretto

from conftest import TEST_CONFIG, FixedClock, database_url, make_hub
from shieldwall.domain import lookup as domain_lookup
from shieldwall.domain.errors import InvalidInput, RateLimited
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.queries import ObjectQuery
from shieldwall.domain.scope import make_scope
from shieldwall.domain.tlp import Tlp
from shieldwall.services import admin, audit, lookup, matching, reading, submission
from shieldwall.services.context import Hub
from shieldwall.storage.database import Database


class Community:
    def __init__(self, hub: Hub) -> None:
        self.us_bank = admin.add_organisation(hub, "US Bank", "financial", "US")
        self.gb_bank = admin.add_organisation(hub, "GB Bank", "financial", "GB")
        self.law = admin.add_organisation(hub, "Law Firm", "legal", "US")


def submit(
    hub: Hub, who: Organisation, objects: list[dict[str, object]], tlp: Tlp, **scope: list[str]
) -> None:
    status = submission.submit(
        hub, who, "shared", list(objects), tlp, make_scope(**scope) if scope else None
    )
    assert status.failure_count == 0, status.details


def outputs_for(hub: Hub, queries: list[str]) -> list[bytes]:
    """What a member obtains by blind evaluation through the service (with proof check)."""
    blinds = [ristretto.Client.blind(domain_lookup.item_bytes(q)) for q in queries]
    community = admin.organisation(hub, "US Bank")
    evaluation, key_hex = lookup.evaluate(hub, community, [bytes(b.serialize()) for _, b in blinds])
    found = ristretto.Client.finalize_batch(
        [c for c, _ in blinds],
        ristretto.VerifiableBatchOutput.deserialize(evaluation),
        ristretto.PublicKey.deserialize(bytes.fromhex(key_hex)),
    )
    return [bytes(o) for o in found]


def known(hub: Hub, reader: Organisation, values: list[str]) -> set[str]:
    the_filter = lookup.member_filter(hub, reader)
    result = set()
    for value in values:
        item = domain_lookup.guess(value)
        assert item is not None
        queries = domain_lookup.queries_for(item, the_filter.prefixes)
        if any(out in the_filter for out in outputs_for(hub, queries)):
            result.add(value)
    return result


@pytest.fixture
def community(hub: Hub) -> Community:
    return Community(hub)


def test_filter_holds_exactly_what_the_reader_may_read(hub: Hub, community: Community) -> None:
    submit(hub, community.us_bank, [indicator("[ipv4-addr:value = '198.51.100.7']")], Tlp.GREEN)
    submit(
        hub,
        community.us_bank,
        [indicator("[domain-name:value = 'us-only.example.org']")],
        Tlp.AMBER,
        countries=["US"],
    )
    submit(
        hub,
        community.gb_bank,
        [indicator("[ipv4-addr:value = '203.0.113.0/24']")],
        Tlp.RED,
        organizations=[community.gb_bank.identity_id],
    )
    asked = ["198.51.100.7", "us-only.example.org", "203.0.113.99", "192.0.2.1"]
    assert known(hub, community.us_bank, asked) == {"198.51.100.7", "us-only.example.org"}
    assert known(hub, community.law, asked) == {"198.51.100.7", "us-only.example.org"}
    assert known(hub, community.gb_bank, asked) == {"198.51.100.7", "203.0.113.99"}
    gb_filter = lookup.member_filter(hub, community.gb_bank)
    assert gb_filter.prefixes["ipv4"] == [24]
    assert gb_filter.header["tlp"] == "TLP:RED"
    assert lookup.member_filter(hub, community.us_bank).prefixes["ipv4"] == []


def test_filter_grows_with_new_indicators_and_drops_revoked(hub: Hub, community: Community) -> None:
    first = indicator("[url:value = 'http://bad.example.net/a']")
    submit(hub, community.us_bank, [first], Tlp.GREEN)
    assert known(hub, community.law, ["http://bad.example.net/a"]) == {"http://bad.example.net/a"}
    submit(
        hub, community.us_bank, [indicator("[email-addr:value = 'x@bad.example.net']")], Tlp.GREEN
    )
    assert known(hub, community.law, ["x@bad.example.net"]) == {"x@bad.example.net"}
    revoked = dict(first, modified="2024-02-01T00:00:00.000Z", revoked=True)
    submit(hub, community.us_bank, [revoked], Tlp.GREEN)
    assert known(hub, community.law, ["http://bad.example.net/a"]) == set()
    hits = matching.bulk_match(
        hub, community.law, [matching.Observable("http://bad.example.net/a")]
    )
    assert hits == []


def test_expired_indicators_are_left_out(hub: Hub, community: Community) -> None:
    submit(
        hub,
        community.us_bank,
        [indicator("[ipv4-addr:value = '198.51.100.9']", valid_until="2022-01-01T00:00:00Z")],
        Tlp.GREEN,
    )
    assert known(hub, community.law, ["198.51.100.9"]) == set()


def test_indicators_leave_when_they_expire(hub: Hub, community: Community) -> None:
    """An indicator valid when the snapshot read it leaves once its valid_until passes."""
    submit(
        hub,
        community.us_bank,
        [indicator("[ipv4-addr:value = '198.51.100.10']", valid_until="2023-11-14T22:30:00Z")],
        Tlp.GREEN,
    )
    assert known(hub, community.law, ["198.51.100.10"]) == {"198.51.100.10"}
    assert isinstance(hub.clock, FixedClock)
    hub.clock.value = 1_700_001_000_000_000 + 1  # just past it, before any full rebuild
    assert known(hub, community.law, ["198.51.100.10"]) == set()
    assert matching.bulk_match(hub, community.law, [matching.Observable("198.51.100.10")]) == []


def test_membership_change_applies_to_the_next_request(hub: Hub, community: Community) -> None:
    admin.create_group(hub, "retail-isac", [community.us_bank.name])
    submit(
        hub,
        community.gb_bank,
        [indicator("[domain-name:value = 'group.example.com']")],
        Tlp.AMBER,
        groups=["retail-isac"],
    )
    member = admin.organisation(hub, community.us_bank.name)  # as each request reads it
    assert known(hub, member, ["group.example.com"]) == {"group.example.com"}
    admin.change_group(hub, "retail-isac", [], [community.us_bank.name])
    us_bank = admin.organisation(hub, community.us_bank.name)
    assert known(hub, us_bank, ["group.example.com"]) == set()


def test_bulk_match_respects_the_policy(hub: Hub, community: Community) -> None:
    red = indicator("[ipv4-addr:value = '10.20.0.0/16']", confidence=80)
    submit(hub, community.gb_bank, [red], Tlp.RED, organizations=[community.gb_bank.identity_id])
    observed = [
        matching.Observable("10.20.3.4"),
        matching.Observable("10.21.0.1"),
        matching.Observable("10.20.9.9", "ipv4-addr:value"),
    ]
    hits = matching.bulk_match(hub, community.gb_bank, observed)
    assert [(h.position, h.indicator_id, h.tlp, h.confidence) for h in hits] == [
        (0, red["id"], "TLP:RED", 80),
        (2, red["id"], "TLP:RED", 80),
    ]
    assert matching.bulk_match(hub, community.us_bank, observed) == []
    with pytest.raises(InvalidInput):
        matching.bulk_match(hub, community.us_bank, [matching.Observable("x", "not a path")])


def test_blind_evaluation_is_rate_limited_per_member(tmp_path: Path) -> None:
    hub = make_hub(database_url("sqlite", tmp_path), replace(TEST_CONFIG, lookup_daily_items=5))
    try:
        people = Community(hub)
        blinded = [bytes(ristretto.Client.blind(b"x%d" % i)[1].serialize()) for i in range(3)]
        lookup.evaluate(hub, people.us_bank, blinded)
        with pytest.raises(RateLimited, match="at most 5 items a day"):
            lookup.evaluate(hub, people.us_bank, blinded)
        lookup.evaluate(hub, people.us_bank, blinded[:2])  # the refused batch counted nothing
        lookup.evaluate(hub, people.gb_bank, blinded)  # per member
        with pytest.raises(RateLimited):
            lookup.evaluate(hub, people.us_bank, blinded[:1])
        with pytest.raises(InvalidInput, match="1 to 1000"):
            lookup.evaluate(hub, people.gb_bank, [])
        with pytest.raises(InvalidInput, match="not a valid ristretto255 element"):
            lookup.evaluate(hub, people.gb_bank, [b"\x01" * 32])
    finally:
        assert isinstance(hub.store, Database)
        hub.store.dispose()


def test_concurrent_evaluations_never_exceed_the_quota(tmp_path: Path) -> None:
    hub = make_hub(database_url("sqlite", tmp_path), replace(TEST_CONFIG, lookup_daily_items=40))
    try:
        member = Community(hub).us_bank
        blinded = [bytes(ristretto.Client.blind(b"y%d" % i)[1].serialize()) for i in range(3)]
        granted: list[int] = []

        def ask() -> None:
            for _ in range(5):
                try:
                    lookup.evaluate(hub, member, blinded)
                    granted.append(len(blinded))
                except RateLimited:
                    pass

        threads = [threading.Thread(target=ask) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(granted) == 39  # 13 batches of 3 fit in 40; the 14th never does
    finally:
        assert isinstance(hub.store, Database)
        hub.store.dispose()


def all_rows(hub: Hub) -> Iterator[str]:
    assert isinstance(hub.store, Database)
    metadata = MetaData()
    with hub.store.engine.connect() as connection:
        metadata.reflect(connection)
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                yield repr(tuple(row))


def test_hub_records_of_a_private_lookup_hold_no_queried_value(
    hub: Hub, community: Community
) -> None:
    submit(
        hub, community.us_bank, [indicator("[domain-name:value = 'known.example.com']")], Tlp.GREEN
    )
    lookup.lookup_key(hub)  # the hub's key exists before the member's lookup
    before = list(all_rows(hub))
    asked = ["secret-merger-target.example", "known.example.com", "203.0.113.200"]
    assert known(hub, community.us_bank, asked) == {"known.example.com"}
    after = "\n".join(row for row in all_rows(hub) if row not in before)
    forms = []
    for value in ["secret-merger-target.example", "203.0.113.200"]:
        item = domain_lookup.guess(value)
        assert item is not None
        forms += [value, item, hashlib.sha256(item.encode()).hexdigest()]
        forms += [hashlib.sha256(value.encode()).hexdigest(), value.encode().hex()]
    for form in forms:
        assert form not in after
    # one new row in all the hub's tables: the usage count (organisation, day, items)
    assert after.splitlines() == [
        f"({community.us_bank.id}, {hub.clock.now() // 86_400_000_000}, 3)"
    ]


def test_offline_export_is_audited_and_answers_offline(hub: Hub, community: Community) -> None:
    submit(
        hub,
        community.us_bank,
        [indicator("[file:hashes.'SHA-256' = '" + "ab" * 32 + "']")],
        Tlp.GREEN,
    )
    exported = lookup.offline_export(hub, community.law)
    again = domain_lookup.LookupFilter.from_bytes(exported.to_bytes())
    assert again.offline_contains("sha256|" + "ab" * 32)
    assert not again.offline_contains("sha256|" + "cd" * 32)
    assert again.header["items"] == 1 and again.header["organisation"] == "Law Firm"
    actions = [(e.actor, e.action) for e in audit.entries(hub)]
    assert ("Law Firm", "lookup.export") in actions
    with pytest.raises(InvalidInput, match="use --private"):
        lookup.member_filter(hub, community.law).offline_contains("sha256|" + "ab" * 32)


def test_snapshot_reads_through_the_policy_path(hub: Hub, community: Community) -> None:
    """The snapshot equals what TAXII would list for the reader (indicators, newest)."""
    submit(hub, community.us_bank, [indicator("[ipv4-addr:value = '198.51.100.1']")], Tlp.GREEN)
    submit(
        hub,
        community.us_bank,
        [indicator("[ipv4-addr:value = '198.51.100.2']")],
        Tlp.AMBER,
        sectors=["financial"],
    )
    for reader in (community.us_bank, community.gb_bank, community.law):
        served, _ = reading.indicators_since(hub, reader, {})
        query = ObjectQuery(types=frozenset({"indicator"}), limit=1000)
        page = reading.list_objects(hub, reader, "shared", query)
        assert sorted(s.row.stix_id for _, s in served) == sorted(i.row.stix_id for i in page.items)
