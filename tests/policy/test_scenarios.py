"""The sharing policy told as stories (architecture.md §3), over the real HTTP app.

The community: a US government agency and a UK one, banks in the US, GB and DE, a US law
firm and the hub's operator. Each story is one test, run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from shieldwall.domain.organisations import Organisation
from shieldwall.domain.scope import SCOPE_EXTENSION_ID
from shieldwall.domain.tlp import TLP1_MARKING_IDS, Tlp
from shieldwall.services import admin
from shieldwall.services.context import Hub
from shieldwall.web.app import create_app

if TYPE_CHECKING:
    from starlette.testclient import TestClient

COLLECTION = "/taxii2/hub/collections/shared"
TAXII = {"Accept": "application/taxii+json;version=2.1"}
CREATED = "2026-05-04T09:00:00.000Z"
DATE_HEADERS = ("x-taxii-date-added-first", "x-taxii-date-added-last")


@dataclass(frozen=True)
class Member:
    """An organisation of the community and its API key."""

    org: Organisation
    key: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    @property
    def taxii(self) -> dict[str, str]:
        return {**self.auth, **TAXII}


@dataclass(frozen=True)
class Community:
    us_agency: Member
    uk_agency: Member
    us_bank: Member
    gb_bank: Member
    de_bank: Member
    us_law: Member
    operator: Member

    def everyone(self) -> list[Member]:
        return [
            self.us_agency,
            self.uk_agency,
            self.us_bank,
            self.gb_bank,
            self.de_bank,
            self.us_law,
            self.operator,
        ]


@pytest.fixture
def community(hub: Hub) -> Community:
    def admit(name: str, sector: str, country: str, role: str = "member") -> Member:
        return Member(
            admin.add_organisation(hub, name, sector, country, role), admin.create_key(hub, name)
        )

    return Community(
        us_agency=admit("US Cyber Agency", "government", "US", "government"),
        uk_agency=admit("UK Cyber Agency", "government", "GB", "government"),
        us_bank=admit("First US Bank", "financial", "US"),
        gb_bank=admit("Albion Bank", "financial", "GB"),
        de_bank=admit("Rhein Bank", "financial", "DE"),
        us_law=admit("Smith & Jones LLP", "legal", "US"),
        operator=admit("Hub Operator", "other", "US", "operator"),
    )


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with warnings.catch_warnings():
        # Starlette 1.x asks for ``httpx2`` and warns when it falls back to ``httpx``; the
        # fallback works, and the warning would be an error under ``filterwarnings``.
        warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
        from starlette.testclient import TestClient

    with TestClient(create_app(hub)) as test_client:
        yield test_client


def indicator(n: int, name: str, **properties: object) -> dict[str, object]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--6ba7b810-9dad-41d1-80b4-{n:012x}",
        "created": CREATED,
        "modified": CREATED,
        "name": name,
        "pattern": f"[domain-name:value = 'c2-{n}.example.org']",
        "pattern_type": "stix",
        "valid_from": CREATED,
        **properties,
    }


def scoped(**lists: list[str]) -> dict[str, object]:
    """The ``extensions`` property carrying a Shieldwall scope."""
    return {SCOPE_EXTENSION_ID: {"extension_type": "property-extension", **lists}}


def submit_rest(
    client: TestClient, member: Member, objects: list[dict[str, object]], **fields: object
) -> dict[str, Any]:
    response = client.post(
        "/api/v1/objects", json={"objects": objects, **fields}, headers=member.auth
    )
    assert response.status_code == 202, response.text
    status: dict[str, Any] = response.json()
    return status


def submit_taxii(
    client: TestClient, member: Member, objects: list[dict[str, object]]
) -> dict[str, Any]:
    response = client.post(
        f"{COLLECTION}/objects/",
        json={"objects": objects},
        headers={**member.taxii, "Content-Type": "application/taxii+json;version=2.1"},
    )
    assert response.status_code == 202, response.text
    status: dict[str, Any] = response.json()
    return status


def listed_ids(client: TestClient, member: Member) -> set[str]:
    """Every object id the member gets from the TAXII object list, all pages walked."""
    found: set[str] = set()
    params = {"limit": "5"}
    while True:
        envelope = client.get(f"{COLLECTION}/objects/", params=params, headers=member.taxii)
        body = envelope.json()
        found |= {o["id"] for o in body.get("objects", [])}
        if not body["more"]:
            return found
        params = {"limit": "5", "next": body["next"]}


def reads(client: TestClient, member: Member, stix_id: str) -> bool:
    """Whether the member can read the object; the answers of TAXII (list and by id) and
    REST must agree."""
    by_id = client.get(f"{COLLECTION}/objects/{stix_id}/", headers=member.taxii).status_code
    rest = client.get(f"/api/v1/objects/{stix_id}", headers=member.auth).status_code
    in_list = stix_id in listed_ids(client, member)
    assert (by_id, rest) in ((200, 200), (404, 404)), (by_id, rest)
    assert in_list is (by_id == 200)
    return by_id == 200


def readers(client: TestClient, community: Community, stix_id: str) -> set[str]:
    return {m.org.name for m in community.everyone() if reads(client, m, stix_id)}


def names(*members: Member) -> set[str]:
    return {m.org.name for m in members}


def view(client: TestClient, member: Member) -> list[tuple[str, dict[str, str]]]:
    """Everything a member sees of the collection: object list and manifest, with their
    date headers, and the list of objects added since the start of the story."""
    seen = []
    for path, params in (
        ("objects", {}),
        ("manifest", {}),
        ("objects", {"added_after": "2020-01-01T00:00:00Z"}),
    ):
        response = client.get(f"{COLLECTION}/{path}/", params=params, headers=member.taxii)
        assert response.status_code == 200
        headers = {h: response.headers[h] for h in DATE_HEADERS if h in response.headers}
        seen.append((response.text, headers))
    return seen


# --- (a) an advisory for the financial sector in the US and GB -----------------------


def test_agency_advisory_reaches_us_and_gb_banks_only(
    client: TestClient, community: Community
) -> None:
    c = community
    bystanders = [c.de_bank, c.us_law, c.uk_agency]
    before = {m.org.name: view(client, m) for m in bystanders}

    advisory = indicator(1, "Advisory: credential phishing against wire-transfer desks")
    status = submit_rest(
        client,
        c.us_agency,
        [advisory],
        tlp="amber",
        scope={"sectors": ["financial"], "countries": ["US", "GB"]},
    )
    assert status["success_count"] == 1

    assert readers(client, c, str(advisory["id"])) == names(
        c.us_bank, c.gb_bank, c.us_agency, c.operator
    )
    seen_by_bank = client.get(f"{COLLECTION}/objects/{advisory['id']}/", headers=c.gb_bank.taxii)
    assert seen_by_bank.json()["objects"][0]["extensions"][SCOPE_EXTENSION_ID] == {
        "extension_type": "property-extension",
        "sectors": ["financial"],
        "countries": ["GB", "US"],
    }
    # The DE bank, the law firm and the other agency see nothing of it, not even a count:
    # their lists, manifests and date headers are exactly what they were before it came.
    for member in bystanders:
        assert view(client, member) == before[member.org.name]
        versions = client.get(
            f"{COLLECTION}/objects/{advisory['id']}/versions/", headers=member.taxii
        )
        assert versions.status_code == 404
        search = client.get("/api/v1/objects", params={"q": "wire-transfer"}, headers=member.auth)
        assert search.json()["items"] == []


# --- (b) a bank–law-firm sharing group ----------------------------------------------


def test_sharing_group_members_read_and_removal_takes_effect_at_once(
    client: TestClient, community: Community
) -> None:
    c = community
    created = client.post(
        "/api/v1/groups",
        json={"name": "bank-law-alliance", "members": [c.us_bank.org.name]},
        headers=c.us_law.auth,
    )
    assert created.status_code == 201, created.text
    assert set(created.json()["members"]) == names(c.us_bank, c.us_law)

    note = indicator(2, "Matter-number lure seen in invoices")
    submit_rest(client, c.us_law, [note], tlp="amber", scope={"groups": ["bank-law-alliance"]})
    note_id = str(note["id"])
    assert readers(client, c, note_id) == names(c.us_law, c.us_bank, c.operator)

    removed = client.patch(
        "/api/v1/groups/bank-law-alliance",
        json={"remove": [c.us_bank.org.name], "add": [c.gb_bank.org.name]},
        headers=c.us_law.auth,
    )
    assert removed.status_code == 200, removed.text
    # The very next read already follows the new membership.
    assert not reads(client, c.us_bank, note_id)
    assert reads(client, c.gb_bank, note_id)
    # Only the owner (or an operator) manages the group.
    refused = client.patch(
        "/api/v1/groups/bank-law-alliance",
        json={"add": [c.us_bank.org.name]},
        headers=c.gb_bank.auth,
    )
    assert refused.status_code == 403


# --- (c) TLP:RED to one named law firm ----------------------------------------------


def test_red_reaches_only_the_named_firm_and_the_submitter(
    hub: Hub, client: TestClient, community: Community
) -> None:
    c = community
    admin.create_group(hub, "bank-law-alliance", [c.gb_bank.org.name, c.us_law.org.name])
    # Members look up the identity id to name an organisation in a scope.
    directory = client.get("/api/v1/organizations", headers=c.us_bank.auth).json()
    law_identity = next(o["identity_id"] for o in directory if o["name"] == c.us_law.org.name)

    red = indicator(3, "Account takeover of our escrow account, details inside")
    status = submit_rest(
        client,
        c.us_bank,
        [red],
        tlp="red",
        scope={"organizations": [law_identity], "groups": ["bank-law-alliance"]},
    )
    assert status["success_count"] == 1
    # Not the operator, not the other member of the named group, not the sector.
    assert readers(client, c, str(red["id"])) == names(c.us_law, c.us_bank)
    served = client.get(f"{COLLECTION}/objects/{red['id']}/", headers=c.us_law.taxii).json()
    assert served["objects"][0]["object_marking_refs"] == [Tlp.RED.marking_id]


# --- (d) markings on the way out ----------------------------------------------------


def test_unmarked_objects_come_back_amber_and_tlp1_comes_back_tlp2(
    client: TestClient, community: Community
) -> None:
    c = community
    tlp1, tlp2 = TLP1_MARKING_IDS, Tlp
    sent = {
        Tlp.AMBER: indicator(10, "Unmarked"),
        Tlp.GREEN: indicator(11, "TLP 1.0 green", object_marking_refs=[tlp1[Tlp.GREEN]]),
        Tlp.AMBER_STRICT: indicator(
            12, "TLP 2.0 amber+strict", object_marking_refs=[tlp2.AMBER_STRICT.marking_id]
        ),
        Tlp.RED: indicator(13, "TLP 1.0 red", object_marking_refs=[tlp1[Tlp.RED]]),
    }
    amber_tlp1 = indicator(14, "TLP 1.0 amber", object_marking_refs=[TLP1_MARKING_IDS[Tlp.AMBER]])
    status = submit_taxii(client, c.us_law, [*sent.values(), amber_tlp1])
    assert status["success_count"] == len(sent) + 1
    for level, obj in [*sent.items(), (Tlp.AMBER, amber_tlp1)]:
        served = client.get(f"{COLLECTION}/objects/{obj['id']}/", headers=c.us_law.taxii)
        assert served.json()["objects"][0]["object_marking_refs"] == [level.marking_id], level
        item = client.get(f"/api/v1/objects/{obj['id']}", headers=c.us_law.auth).json()
        assert item["items"][0]["tlp"] == level.label


def test_clear_objects_come_back_clear(client: TestClient, community: Community) -> None:
    """TLP:CLEAR, TLP 1.0 WHITE and the REST field ``tlp=clear`` all come back CLEAR (once
    stored as AMBER: ``Tlp.CLEAR`` is the ``IntEnum`` 0, and ``… or default_tlp`` took it
    for "no marking")."""
    c = community
    clear2 = indicator(20, "TLP 2.0 clear", object_marking_refs=[Tlp.CLEAR.marking_id])
    white = indicator(21, "TLP 1.0 white", object_marking_refs=[TLP1_MARKING_IDS[Tlp.CLEAR]])
    by_field = indicator(22, "REST tlp=clear")
    submit_taxii(client, c.us_law, [clear2, white])
    submit_rest(client, c.us_law, [by_field], tlp="clear")
    for obj in (clear2, white, by_field):
        served = client.get(f"{COLLECTION}/objects/{obj['id']}/", headers=c.gb_bank.taxii)
        assert served.json()["objects"][0]["object_marking_refs"] == [Tlp.CLEAR.marking_id]


# --- (e) a scope naming what the hub does not know ------------------------------------


def test_scope_naming_unknown_organisation_or_group_fails_clearly(
    client: TestClient, community: Community
) -> None:
    c = community
    stranger = "identity--0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
    to_stranger = indicator(30, "For a stranger", extensions=scoped(organizations=[stranger]))
    to_nowhere = indicator(31, "For no group", extensions=scoped(groups=["no-such-group"]))
    status = submit_taxii(client, c.us_bank, [to_stranger, to_nowhere])
    assert (status["success_count"], status["failure_count"]) == (0, 2)
    failures = {f["id"]: f["message"] for f in status["failures"]}
    assert failures == {
        to_stranger["id"]: f"scope names organisations this hub does not know: {stranger}",
        to_nowhere["id"]: "scope names sharing groups that do not exist: no-such-group",
    }
    # The same through the REST scope fields; nothing was stored either way.
    rest = submit_rest(
        client, c.us_bank, [indicator(32, "Also for no group")], scope={"groups": ["nope"]}
    )
    assert rest["failures"] == [
        {
            "id": indicator(32, "")["id"],
            "version": CREATED,
            "message": "scope names sharing groups that do not exist: nope",
        }
    ]
    status_id = status["id"]
    again = client.get(f"/taxii2/hub/status/{status_id}/", headers=c.us_bank.taxii).json()
    assert again["failures"] == status["failures"]
    for n in (30, 31, 32):
        stix_id = indicator(n, "")["id"]
        assert client.get(f"/api/v1/objects/{stix_id}", headers=c.us_bank.auth).status_code == 404


# --- (f) versions belong to the organisation that submitted the object ----------------


def test_member_cannot_version_another_organisations_object(
    client: TestClient, community: Community
) -> None:
    c = community
    original = indicator(40, "Albion's indicator", object_marking_refs=[Tlp.GREEN.marking_id])
    assert submit_taxii(client, c.gb_bank, [original])["success_count"] == 1

    hijack = {**original, "modified": "2026-05-05T09:00:00.000Z", "name": "Rewritten"}
    status = submit_taxii(client, c.us_bank, [hijack])
    assert status["failure_count"] == 1
    assert status["failures"] == [
        {
            "id": original["id"],
            "version": "2026-05-05T09:00:00.000Z",
            "message": "this id belongs to an object another organisation submitted;"
            " only its submitter may add versions of it",
        }
    ]
    for member in (c.gb_bank, c.us_bank):
        versions = client.get(
            f"{COLLECTION}/objects/{original['id']}/versions/", headers=member.taxii
        )
        assert versions.json()["versions"] == [CREATED]
    # Its submitter may.
    update = {**original, "modified": "2026-05-06T09:00:00.000Z", "name": "Updated"}
    assert submit_taxii(client, c.gb_bank, [update])["success_count"] == 1
    latest = client.get(f"{COLLECTION}/objects/{original['id']}/", headers=c.us_bank.taxii)
    assert latest.json()["objects"][0]["name"] == "Updated"
