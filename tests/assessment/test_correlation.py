"""Correlation through the observable index, on both engines: relations (same value, an
address in a network, a subdomain, a URL's host), the policy on every link, the cap for
over-common values, clusters of reports, and an index that grows linearly."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from shieldwall.domain.errors import NotFound
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.scope import make_scope
from shieldwall.domain.tlp import Tlp
from shieldwall.services import admin, correlation, submission
from shieldwall.services.context import Hub
from shieldwall.storage.schema import observables

SHA256 = "b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c"


def indicator(pattern: str, name: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, pattern + str(name))}",
        "created": "2023-11-01T00:00:00.000Z",
        "modified": "2023-11-01T00:00:00.000Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2023-11-01T00:00:00Z",
    }
    if name:
        body["name"] = name
    return body


def report(name: str, refs: list[str]) -> dict[str, object]:
    return {
        "type": "report",
        "spec_version": "2.1",
        "id": f"report--{uuid.uuid5(uuid.NAMESPACE_URL, name)}",
        "created": "2023-11-01T00:00:00.000Z",
        "modified": "2023-11-01T00:00:00.000Z",
        "name": name,
        "published": "2023-11-01T00:00:00Z",
        "object_refs": refs,
    }


def file_sco(digest: str) -> dict[str, object]:
    return {
        "type": "file",
        "spec_version": "2.1",
        "id": f"file--{uuid.uuid5(uuid.NAMESPACE_URL, digest)}",
        "hashes": {"SHA-256": digest.upper()},
    }


class Community:
    def __init__(self, hub: Hub) -> None:
        self.us_bank = admin.add_organisation(hub, "US Bank", "financial", "US")
        self.gb_bank = admin.add_organisation(hub, "GB Bank", "financial", "GB")


def share(
    hub: Hub, who: Organisation, objects: list[dict[str, object]], tlp: Tlp, **scope: list[str]
) -> list[str]:
    status = submission.submit(
        hub, who, "shared", list(objects), tlp, make_scope(**scope) if scope else None
    )
    assert status.failure_count == 0, status.details
    return [str(o["id"]) for o in objects]


@pytest.fixture
def community(hub: Hub) -> Community:
    return Community(hub)


def relations(
    hub: Hub, reader: Organisation, object_id: str, cap: int = 100
) -> dict[str, set[str]]:
    found = correlation.related(hub, reader, object_id, cap)
    return {item.stix_id: {link.relation for link in item.links} for item in found.related}


def test_objects_sharing_infrastructure_are_related(hub: Hub, community: Community) -> None:
    address, network, domain, url, hashed, sco, unrelated = share(
        hub,
        community.us_bank,
        [
            indicator("[ipv4-addr:value = '185.220.101.47']"),
            indicator("[ipv4-addr:value ISSUBSET '185.220.101.0/24']"),
            indicator("[domain-name:value = 'evil-c2.top']"),
            indicator("[url:value = 'http://cdn.Evil-C2.top/payload.bin']"),
            indicator(f"[file:hashes.'SHA-256' = '{SHA256}' AND file:name = 'a.exe']"),
            file_sco(SHA256),
            indicator("[domain-name:value = 'unrelated.top']"),
        ],
        Tlp.GREEN,
    )
    assert relations(hub, community.gb_bank, address) == {network: {"contains"}}
    assert relations(hub, community.gb_bank, network) == {address: {"inside"}}
    assert relations(hub, community.gb_bank, domain) == {url: {"subdomain"}}
    assert relations(hub, community.gb_bank, url) == {domain: {"parent"}}
    assert relations(hub, community.gb_bank, hashed) == {sco: {"same"}}
    assert relations(hub, community.gb_bank, unrelated) == {}


def test_no_link_reveals_an_object_the_reader_may_not_read(hub: Hub, community: Community) -> None:
    (public,) = share(
        hub, community.us_bank, [indicator("[ipv4-addr:value = '185.220.101.60']")], Tlp.GREEN
    )
    (private,) = share(
        hub,
        community.gb_bank,
        [indicator("[ipv4-addr:value = '185.220.101.60']", "GB only")],
        Tlp.RED,
        organizations=[community.gb_bank.identity_id],
    )
    assert relations(hub, community.us_bank, public) == {}
    assert relations(hub, community.gb_bank, public) == {private: {"same"}}
    with pytest.raises(NotFound):
        correlation.related(hub, community.us_bank, private, 100)
    # the hidden object does not count towards the cap either
    assert correlation.related(hub, community.us_bank, public, 1).too_common == []
    assert correlation.related(hub, community.gb_bank, public, 1).too_common != []


def test_over_common_values_link_nothing(hub: Hub, community: Community) -> None:
    ids = share(
        hub,
        community.us_bank,
        [indicator("[domain-name:value = 'popular.top']", f"n{i}") for i in range(5)],
        Tlp.GREEN,
    )
    found = correlation.related(hub, community.gb_bank, ids[0], cap=4)  # five hold it
    assert found.related == []
    assert found.too_common == [("domain", "popular.top")]
    assert len(correlation.related(hub, community.gb_bank, ids[0], cap=5).related) == 4


def test_reports_cluster_through_their_members(hub: Hub, community: Community) -> None:
    members = share(
        hub,
        community.us_bank,
        [
            indicator("[ipv4-addr:value = '185.220.101.70']"),
            indicator("[ipv4-addr:value ISSUBSET '185.220.101.0/24']"),
            indicator("[domain-name:value = 'c2.example-campaign.top']"),
            indicator("[domain-name:value = 'example-campaign.top']"),
            indicator("[domain-name:value = 'lonely.top']"),
        ],
        Tlp.GREEN,
    )
    (hidden,) = share(
        hub,
        community.gb_bank,
        [indicator("[domain-name:value = 'lonely.top']", "GB only")],
        Tlp.RED,
        organizations=[community.gb_bank.identity_id],
    )
    r1, r2, r3, r4, r5 = share(
        hub,
        community.us_bank,
        [
            report("Campaign one", [members[0]]),
            report("Campaign two", [members[1], members[2]]),
            report("Campaign three", [members[3]]),
            report("Lonely", [members[4]]),
            report("Shared with GB", [hidden]),
        ],
        Tlp.GREEN,
    )
    clusters = correlation.clusters(hub, community.us_bank, cap=100, max_reports=100)
    assert [[r for r, _ in c.reports] for c in clusters] == [sorted([r1, r2, r3])]
    assert ("ipv4", "185.220.101.70") in clusters[0].shared
    # GB may read the hidden indicator: for it, the "Lonely" report joins the one it is in
    for_gb = correlation.clusters(hub, community.gb_bank, cap=100, max_reports=100)
    assert sorted([r4, r5]) in [[r for r, _ in c.reports] for c in for_gb]
    # a report is related to what its members relate to, and lists the reports holding them
    found = correlation.related(hub, community.us_bank, r1, 100)
    assert {item.stix_id for item in found.related} == {members[1]}
    assert correlation.containers(hub, community.us_bank, frozenset({members[1]})) == [
        (r2, "Campaign two")
    ]


def _index_rows(hub: Hub) -> int:
    with hub.store.read() as tx:
        return int(
            tx.connection.execute(select(func.count()).select_from(observables)).scalar_one()
        )  # type: ignore[attr-defined]


def test_the_index_grows_linearly_with_observables(hub: Hub, community: Community) -> None:
    before = _index_rows(hub)
    batch = 200
    share(
        hub,
        community.us_bank,
        [indicator("[ipv4-addr:value = '185.220.101.99']", f"a{i}") for i in range(batch)],
        Tlp.GREEN,
    )
    first = _index_rows(hub) - before
    share(
        hub,
        community.us_bank,
        [indicator("[ipv4-addr:value = '185.220.101.99']", f"b{i}") for i in range(batch)],
        Tlp.GREEN,
    )
    second = _index_rows(hub) - before
    # one row per object and value: 400 objects sharing one value are 400 rows, where a
    # pairwise correlation table would hold 400 × 399 / 2 = 79,800 links
    assert first == batch and second == 2 * batch
