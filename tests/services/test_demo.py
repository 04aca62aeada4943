"""The demo community: who is in it, and every packaged OASIS object loads."""

from __future__ import annotations

from pathlib import Path

import orjson

from shieldwall.domain.queries import ObjectQuery
from shieldwall.domain.tlp import Tlp
from shieldwall.services import admin, demo, reading
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
        sqlite_hub, reader, "shared", ObjectQuery(types=frozenset({"indicator"}))
    )
    assert page.items
    assert all(item.row.tlp == int(Tlp.CLEAR) for item in page.items)
    fresh = demo.reissue_demo_keys(sqlite_hub)  # make run on an existing demo database
    assert len(fresh) == 8
    assert admin.authenticate(sqlite_hub, fresh[0][1]).id == community.members[0][0].id
