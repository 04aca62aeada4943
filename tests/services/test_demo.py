"""The demo community: who is in it, and every packaged OASIS object loads."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from shieldwall.domain.errors import Unauthenticated
from shieldwall.domain.queries import ObjectQuery
from shieldwall.domain.tlp import Tlp
from shieldwall.services import accounts, admin, correlation, demo, matching, reading, sightings
from shieldwall.services.context import Hub

DATA = Path(__file__).resolve().parents[2] / "src" / "shieldwall" / "demo_data"


def test_demo_community_loads_every_example(sqlite_hub: Hub) -> None:
    bundles = [orjson.loads(p.read_bytes())["objects"] for p in sorted(DATA.glob("*.json"))]
    assert demo.is_empty(sqlite_hub)
    community = demo.create_demo(sqlite_hub, bundles)
    assert community.objects_rejected == 0
    assert community.objects_loaded == sum(len(b) for b in bundles)
    names = {org.name for org, _ in community.members}
    assert len(names) == 8
    countries = {org.country for org, _ in community.members if org.sector.value == "financial"}
    assert {"US", "GB", "DE"} <= countries  # banks headquartered outside the US too
    for organisation, key in community.members:
        assert admin.authenticate(sqlite_hub, key).id == organisation.id
    reader = community.members[3][0]  # a foreign bank reads the CLEAR examples
    page = reading.list_objects(
        sqlite_hub, reader, "shared", ObjectQuery(types=frozenset({"indicator"}), limit=10_000)
    )
    operator = community.members[-1][0]
    examples = [i for i in page.items if i.row.submitter_org_id == operator.id]
    assert examples
    assert all(item.row.tlp == int(Tlp.CLEAR) for item in examples)
    fresh = demo.reissue_demo_keys(sqlite_hub)  # make run on an existing demo database
    assert len(fresh.members) == 8
    assert admin.authenticate(sqlite_hub, fresh.members[0][1]).id == community.members[0][0].id
    assert not any(
        new == old for (_, new), (_, old) in zip(fresh.members, community.members, strict=True)
    )


def test_demo_organisations_have_admin_users_for_the_web_interface(sqlite_hub: Hub) -> None:
    community = demo.create_demo(sqlite_hub, [])
    names = {org.name: username for org, username, _ in community.users}
    assert len(names) == 8
    assert names["First Federal Bank"] == "admin@first-federal-bank"
    assert names["Carter & Lowe LLP"] == "admin@carter-lowe-llp"
    assert names["Rheinland Handelsbank AG"] == "admin@rheinland-handelsbank-ag"
    for organisation, username, password in community.users:
        _, session = accounts.sign_in(sqlite_hub, username, password)
        assert session.account.organisation.id == organisation.id
        assert session.account.is_admin
    fresh = demo.reissue_demo_keys(sqlite_hub)  # new passwords; the old ones stop working
    assert [(o.id, u) for o, u, _ in fresh.users] == [(o.id, u) for o, u, _ in community.users]
    organisation, username, password = fresh.users[0]
    with pytest.raises(Unauthenticated):
        accounts.sign_in(sqlite_hub, username, community.users[0][2])
    assert accounts.sign_in(sqlite_hub, username, password)[1].account.organisation == organisation


def test_demo_holds_live_intelligence_with_sightings_and_links(sqlite_hub: Hub) -> None:
    community = demo.create_demo(sqlite_hub, [])
    orgs = {org.name: org for org, _ in community.members}
    reader = orgs["Albion Bank plc"]
    served = reading.find_everywhere(
        sqlite_hub, reader, ObjectQuery(types=frozenset({"indicator"}))
    )
    by_name = {orjson.loads(s.body)["name"]: s for _, s in served}
    domain_id = by_name["Invoice phishing domain"].row.stix_id
    figures = sightings.summary(sqlite_hub, reader, domain_id)
    assert (figures.organisations, figures.anonymous) == (3, 1)
    assert figures.named == ("Carter & Lowe LLP", "Hudson Valley Trust")
    kit = by_name["Phishing kit server"].row.stix_id
    related = correlation.related(sqlite_hub, reader, kit, 100)
    assert by_name["Mail relay of the same kit"].row.stix_id in {r.stix_id for r in related.related}
    assert matching.indicators_for_value(sqlite_hub, reader, "invoice-portal-update.top") == [
        domain_id
    ]
    # the law firm is outside the relay indicator's sector scope
    law = orgs["Carter & Lowe LLP"]
    related = correlation.related(sqlite_hub, law, kit, 100)
    assert related.related == []
