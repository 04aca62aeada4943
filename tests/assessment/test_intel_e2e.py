"""Sightings, indicator assessment, correlation and warning lists end to end: a real
``shieldwall serve`` process, real HTTP (httpx), the real command line (a subprocess per
call) and the real TAXII client (``taxii2-client``).

- the module's ``live_server`` (conftest: us-bank, gb-bank, law, agency, operator) carries
  the attributed figures, concurrency, the policy, correlation, bad input and the STIX
  validity of what the hub emits; every test writes values of its own, so tests do not
  depend on each other's data or order;
- a second server with a community of its own carries anonymity (anonymous to members and
  unlinkable), so that "the sighter's name and identity appear nowhere" can be checked over
  every answer without other tests' attributed activity in the way;
- a third server runs with the shipped warning lists and decay.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from stix2validator import ValidationOptions, validate_instance
from taxii2client.v21 import Collection, Server, as_pages

from conftest import LiveServer, cli, start_server, stop_server
from db_dump import Row, dump, references, tokens
from shieldwall.bootstrap import build_hub
from shieldwall.services import admin
from shieldwall.services.admin import ANONYMOUS_IDENTITY_SETTING
from shieldwall.settings import Settings
from shieldwall.storage.database import Database

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("intel-e2e")]

SIGHTING_EXTENSION = "extension-definition--0b3a8a57-3f5c-4d38-9d54-5f0d6c1d2e71"
SIGHTING_ID = re.compile(r"Reported (?:sighting|false-positive report) (sighting--\S+) of (\S+)")
RUN = secrets.randbelow(200) + 20  # a second octet of our own: values unique to this run


# ================================================================================ helpers


def now_stix(delta: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def indicator(pattern: str, name: str | None = None, **extra: Any) -> dict[str, Any]:
    """An indicator valid from now (live under any decay)."""
    stamp = now_stix()
    body: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": stamp,
        "modified": stamp,
        "name": name or pattern,
        "indicator_types": ["malicious-activity"],
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": stamp,
    }
    body.update(extra)
    return body


def report(name: str, refs: list[str]) -> dict[str, Any]:
    stamp = now_stix()
    return {
        "type": "report",
        "spec_version": "2.1",
        "id": f"report--{uuid.uuid4()}",
        "created": stamp,
        "modified": stamp,
        "name": name,
        "published": stamp,
        "report_types": ["campaign"],
        "object_refs": refs,
    }


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def submit(
    url: str,
    key: str,
    objects: list[dict[str, Any]],
    tlp: str = "green",
    scope: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """``POST /api/v1/objects``; every object must be stored. Returns the TAXII status."""
    body: dict[str, Any] = {"objects": objects, "tlp": tlp}
    if scope is not None:
        body["scope"] = scope
    answer = httpx.post(f"{url}/api/v1/objects", json=body, headers=auth(key), timeout=60)
    assert answer.status_code == 202, answer.text
    status = answer.json()
    assert status["failure_count"] == 0, status
    assert status["success_count"] == len(objects), status
    return dict(status)


def get(url: str, key: str, path: str, expect: int = 200) -> httpx.Response:
    answer = httpx.get(f"{url}{path}", headers=auth(key), timeout=60)
    assert answer.status_code == expect, (path, answer.status_code, answer.text)
    return answer


def sight(url: str, key: str, expect: int = 202, **body: Any) -> httpx.Response:
    answer = httpx.post(f"{url}/api/v1/sightings", json=body, headers=auth(key), timeout=60)
    assert answer.status_code == expect, (body, answer.status_code, answer.text)
    return answer


def figures(url: str, key: str, indicator_id: str) -> dict[str, Any]:
    return dict(get(url, key, f"/api/v1/objects/{indicator_id}/sightings").json())


def identities(url: str, key: str) -> dict[str, str]:
    """Organisation name → STIX identity id."""
    answer = get(url, key, "/api/v1/organizations").json()
    return {o["name"]: o["identity_id"] for o in answer}


def shieldwall(
    url: str, key: str | None, home: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """The real command line in a subprocess against the hub at ``url``."""
    command = [sys.executable, "-m", "shieldwall.cli", *args, "--hub", url]
    if key is not None:
        command += ["--key", key]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "SHIELDWALL_STATE_DIR": str(home / "state"),
            "COLUMNS": "250",
        },
    )


def in_parallel(
    url: str, home: Path, calls: list[tuple[str, ...]], keys: list[str]
) -> list[subprocess.CompletedProcess[str]]:
    """Several independent command lines at once (each pays the interpreter's start-up)."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(
            pool.map(lambda c: shieldwall(url, c[0], home, *c[1]), zip(keys, calls, strict=True))
        )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.args, result.stdout, result.stderr)
    return result.stdout


def reported(stdout: str) -> dict[str, str]:
    """Sighting id → indicator id, from ``shieldwall sighting add``."""
    return dict(SIGHTING_ID.findall(stdout))


class Taxii:
    """One organisation's view of the ``shared`` collection through taxii2-client."""

    def __init__(self, server: LiveServer, key: str) -> None:
        self.server = Server(server.taxii, user="member", password=key)
        root = self.server.default
        assert root is not None
        self.root = root
        (shared,) = [c for c in root.collections if c.alias == "shared"]
        self.collection: Collection = shared

    def objects(self, **filters: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in as_pages(self.collection.get_objects, per_request=1000, **filters):
            found.extend(page.get("objects", []))
        return found

    def manifest(self, **filters: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in as_pages(self.collection.get_manifest, per_request=1000, **filters):
            found.extend(page.get("objects", []))
        return found

    def close(self) -> None:
        self.root.close()
        self.server.close()


def assert_valid_stix(obj: dict[str, Any]) -> None:
    result = validate_instance(obj, ValidationOptions(version="2.1"))
    assert result.is_valid, (obj, [str(e) for e in result.errors])


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-home")


# ============================================== 1. attributed sightings from the command line


def test_cli_sighting_by_value_counts_per_indicator_and_shows_in_the_view(
    live_server: LiveServer, home: Path
) -> None:
    url, keys = live_server.url, live_server.keys
    value = f"198.{RUN}.1.77"
    exact = indicator(f"[ipv4-addr:value = '{value}']", "C2 exact")
    either = indicator(
        f"[ipv4-addr:value = '{value}' OR domain-name:value = 'c2-{RUN}.example.net']",
        "C2 either",
    )
    unrelated = indicator(f"[ipv4-addr:value = '198.{RUN}.1.78']", "not this one")
    submit(url, keys["us-bank"], [exact, either], tlp="green")
    submit(url, keys["us-bank"], [unrelated], tlp="amber")

    # law reports by value: one sighting per indicator the value matches, no more.
    out = ok(
        shieldwall(
            url,
            keys["law"],
            home,
            "sighting",
            "add",
            value,
            "--count",
            "3",
            "--first-seen",
            "2024-05-01T10:00:00Z",
            "--last-seen",
            "2024-05-02T11:00:00Z",
        )
    )
    made = reported(out)
    assert sorted(made.values()) == sorted([exact["id"], either["id"]]), out
    assert len(made) == 2
    # gb-bank reports one indicator by id (over REST).
    answer = sight(url, keys["gb-bank"], indicator=exact["id"]).json()
    assert [s["indicator"] for s in answer["sightings"]] == [exact["id"]], answer

    # another member (agency) opens both.
    view = json.loads(
        ok(shieldwall(url, keys["agency"], home, "indicator", "show", exact["id"], "--json"))
    )
    assert view["object"]["id"] == exact["id"]
    assert view["tlp"] == "TLP:GREEN"
    figures_exact = view["sightings"]
    assert figures_exact["reports"] == 2
    assert figures_exact["observations"] == 4
    assert figures_exact["organisations"] == 2
    assert figures_exact["named_organisations"] == ["GB Bank", "US Law Firm"]
    assert figures_exact["anonymous_reports"] == 0
    assert figures_exact["sectors"] == {"financial": 1, "legal": 1}
    assert figures_exact["countries"] == {"GB": 1, "US": 1}
    assert figures_exact["first_seen"].startswith("2024-05-01T10:00:00")
    assert figures_exact["false_positives"] == 0
    score = view["score"]
    assert score["expired"] is False and score["reason"] is None, score
    assert score["base"] == 60.0  # default confidence 50 + 2 sightings × 5
    assert 20 < score["score"] <= 60.0
    assert score["expires_at"] is not None
    assert view["warnings"] == [] and view["confirmed"] is False
    # the two indicators share the value: each is related to the other
    assert either["id"] in {r["id"] for r in view["related"]}
    assert unrelated["id"] not in json.dumps(view)

    view = get(url, keys["agency"], f"/api/v1/indicators/{either['id']}").json()
    assert view["sightings"]["reports"] == 1
    assert view["sightings"]["named_organisations"] == ["US Law Firm"]
    assert view["sightings"]["sectors"] == {"legal": 1}
    assert view["sightings"]["countries"] == {"US": 1}
    assert view["sightings"]["observations"] == 3
    assert view["score"]["base"] == 55.0 and view["score"]["expired"] is False
    # the unrelated indicator was not sighted at all
    assert figures(url, keys["agency"], unrelated["id"])["reports"] == 0

    # the indicator listing carries the live score and the figures, and leaves out what
    # has expired unless asked
    old = indicator(
        f"[ipv4-addr:value = '{value}']",
        "expired yesterday",
        valid_from=now_stix(timedelta(days=-2)),
        valid_until=now_stix(timedelta(days=-1)),
    )
    submit(url, keys["us-bank"], [old])
    listing = get(url, keys["agency"], "/api/v1/indicators?limit=10000").json()
    (item,) = [i for i in listing["items"] if i["object"]["id"] == exact["id"]]
    assert item["sightings"]["reports"] == 2 and item["score"]["expired"] is False
    assert old["id"] not in {i["object"]["id"] for i in listing["items"]}
    listing = get(url, keys["agency"], "/api/v1/indicators?limit=10000&include_expired=true").json()
    (item,) = [i for i in listing["items"] if i["object"]["id"] == old["id"]]
    assert item["score"]["expired"] is True and "valid_until" in item["score"]["reason"]


# =================================================== 2. exact counts under concurrent reports

SIGHTERS = ["us-bank", "gb-bank", "law", "agency"]


def test_concurrent_sightings_over_http_are_counted_exactly(live_server: LiveServer) -> None:
    url, keys = live_server.url, live_server.keys
    target = indicator(f"[ipv4-addr:value = '198.{RUN}.2.5']")
    submit(url, keys["us-bank"], [target])
    sighters = SIGHTERS
    total = 20
    plan = [
        {"who": sighters[i % len(sighters)], "anonymous": i % 3 == 0, "count": i + 1}
        for i in range(total)
    ]
    barrier = threading.Barrier(total)

    def send(item: dict[str, Any]) -> httpx.Response:
        with httpx.Client(timeout=120) as client:
            barrier.wait(timeout=60)  # all twenty leave together
            return client.post(
                f"{url}/api/v1/sightings",
                json={
                    "indicator": target["id"],
                    "anonymous": item["anonymous"],
                    "count": item["count"],
                },
                headers=auth(keys[item["who"]]),
            )

    with ThreadPoolExecutor(max_workers=total) as pool:
        answers = list(pool.map(send, plan))
    assert [a.status_code for a in answers] == [202] * total, [a.text for a in answers]
    made = [s["id"] for a in answers for s in a.json()["sightings"]]
    assert len(made) == total and len(set(made)) == total
    anonymous = sum(1 for item in plan if item["anonymous"])
    assert anonymous == 7
    attributed_by = {item["who"] for item in plan if not item["anonymous"]}
    for reader in ("us-bank", "law"):
        found = figures(url, keys[reader], target["id"])
        assert found["reports"] == total, found
        assert found["anonymous_reports"] == anonymous, found
        assert found["observations"] == sum(item["count"] for item in plan), found
        assert found["organisations"] == len(attributed_by) + anonymous, found
        assert found["named_organisations"] == ["GB Bank", "US Agency", "US Bank", "US Law Firm"]
    stored = get(url, keys["us-bank"], "/api/v1/objects?type=sighting&limit=10000").json()
    mine = [i for i in stored["items"] if i["object"]["sighting_of_ref"] == target["id"]]
    assert sorted(i["object"]["id"] for i in mine) == sorted(made)


# ================================================ 3. anonymous sighters are never identifiable


@dataclass
class Member:
    name: str
    sector: str
    country: str
    role: str = "member"
    org_id: int = 0
    identity: str = ""
    key: str = ""

    @property
    def key_id(self) -> str:
        return self.key.split("_")[1]

    def identifying(self) -> list[str]:
        return [self.name, self.identity, self.key_id, self.key.split("_", 2)[2]]


@dataclass
class AnonymityHub:
    server: LiveServer
    members: dict[str, Member]
    anonymous_identity: str
    collection_id: str
    outputs: dict[str, str] = field(default_factory=dict)


ANON_COMMUNITY = {
    "issuer": Member("Issuer Bank", "financial", "US"),
    "quiet": Member("Quiet Counsel LLP", "legal", "GB"),  # sights anonymously
    "ghost": Member("Ghost Mutual Insurance", "insurance", "DE"),  # sights unlinkably
    "reader": Member("Reader Credit Union", "financial", "GB"),
    "agency": Member("Federal Cyber Agency", "government", "US", "government"),
    "operator": Member("Hub Operator", "other", "US", "operator"),
}


@pytest.fixture(scope="module")
def anonymity_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnonymityHub]:
    tmp_path = tmp_path_factory.mktemp("anonymous-sightings")
    database = f"sqlite:///{tmp_path / 'hub.db'}"
    hub = build_hub(Settings().with_overrides(database_url=database))
    members = {handle: Member(**m.__dict__) for handle, m in ANON_COMMUNITY.items()}
    for member in members.values():
        made = admin.add_organisation(hub, member.name, member.sector, member.country, member.role)
        member.org_id, member.identity = made.id, made.identity_id
        member.key = admin.create_key(hub, member.name, "e2e")
    with hub.store.read() as tx:
        anonymous_identity = tx.setting(ANONYMOUS_IDENTITY_SETTING) or ""
    (collection,) = [c for c in admin.collections(hub) if c.alias == "shared"]
    assert isinstance(hub.store, Database)
    hub.store.dispose()
    server = start_server(database, tmp_path)
    server.keys = {handle: m.key for handle, m in members.items()}
    yield AnonymityHub(server, members, anonymous_identity, collection.collection_id)
    stop_server(server)


def _everything_a_reader_gets(
    hub: AnonymityHub, reader: str, indicator_id: str, sighting_id: str, sighter: Member
) -> dict[str, str]:
    """Every answer about the indicator and its sightings ``reader`` can get, over REST and
    over TAXII (taxii2-client); the sighter's own identity object (published by the hub for
    every member, TLP:CLEAR) is taken out of the TAXII listings."""
    url, key = hub.server.url, hub.members[reader].key
    outputs: dict[str, str] = {}
    for path in (
        f"/api/v1/objects/{indicator_id}/sightings",
        f"/api/v1/indicators/{indicator_id}",
        f"/api/v1/objects/{indicator_id}/related",
        "/api/v1/objects?type=sighting&limit=10000",
        f"/api/v1/objects/{sighting_id}?all_versions=true",
        "/api/v1/indicators?include_expired=true&limit=10000",
        "/api/v1/correlation/clusters",
    ):
        answer = get(url, key, path)
        outputs[f"{reader} GET {path}"] = answer.text
        outputs[f"{reader} GET {path} headers"] = json.dumps(dict(answer.headers))
    taxii = Taxii(hub.server, key)
    try:
        listed = taxii.objects()
        assert any(o["id"] == sighter.identity for o in listed), "the listing is incomplete"
        assert any(o["id"] == sighting_id for o in listed), "the sighting is not listed"
        outputs[f"{reader} TAXII objects"] = json.dumps(
            [o for o in listed if o["id"] != sighter.identity]
        )
        manifest = taxii.manifest()
        outputs[f"{reader} TAXII manifest"] = json.dumps(
            [e for e in manifest if e["id"] != sighter.identity]
        )
        outputs[f"{reader} TAXII object"] = json.dumps(taxii.collection.get_object(sighting_id))
        outputs[f"{reader} TAXII versions"] = json.dumps(
            taxii.collection.object_versions(sighting_id)
        )
    finally:
        taxii.close()
    return outputs


def test_anonymous_sighter_appears_in_no_answer(anonymity_hub: AnonymityHub, home: Path) -> None:
    hub = anonymity_hub
    url, members = hub.server.url, hub.members
    target = indicator(f"[domain-name:value = 'exfil-{RUN}.example.org']", "Exfil domain")
    submit(url, members["issuer"].key, [target], tlp="green")
    # a named sighting as a control: names do show when a sighter chooses
    sight(url, members["issuer"].key, indicator=target["id"])
    out = ok(
        shieldwall(url, members["quiet"].key, home, "sighting", "add", target["id"], "--anonymous")
    )
    ((sighting_id, of),) = reported(out).items()
    assert of == target["id"]
    quiet = members["quiet"]

    readers = ["issuer", "reader", "agency", "ghost", "operator"]
    for reader in readers:
        outputs = _everything_a_reader_gets(hub, reader, target["id"], sighting_id, quiet)
        hub.outputs.update(outputs)
        found = json.loads(outputs[f"{reader} GET /api/v1/objects/{target['id']}/sightings"])
        assert found["reports"] == 2 and found["anonymous_reports"] == 1, (reader, found)
        assert found["organisations"] == 2, (reader, found)
        assert found["named_organisations"] == ["Issuer Bank"], (reader, found)
        assert found["sectors"] == {"financial": 1} and found["countries"] == {"US": 1}
        (item,) = json.loads(
            outputs[f"{reader} GET /api/v1/objects/{sighting_id}?all_versions=true"]
        )["items"]
        sighting = item["object"]
        assert sighting["created_by_ref"] == hub.anonymous_identity, sighting
        assert "where_sighted_refs" not in sighting, sighting
        assert sighting["sighting_of_ref"] == target["id"]
        assert_valid_stix(sighting)
    # the human form of indicator show, too
    text = ok(shieldwall(url, members["reader"].key, home, "indicator", "show", target["id"]))
    hub.outputs["reader indicator show"] = text
    assert "1 anonymous" in text

    leaks = [
        f"{where} shows {secret!r}"
        for where, body in hub.outputs.items()
        for secret in quiet.identifying()
        if secret.lower() in body.lower()
    ]
    assert leaks == [], "\n".join(leaks)
    # the control: the attributed sighter is named in the same answers
    assert any(members["issuer"].name in body for body in hub.outputs.values())


# ---- unlinkable: a blind token, a batch, and nothing in the database links it back


def links_to(database: str, member: Member, published: set[str], public: set[str]) -> list[str]:
    """Rows that tie a published object to ``member``: directly (a row carrying the
    object's id or seq that also holds the member's name, identity, key or organisation
    id) or through a second table (an identifier beside the object that also sits in a row
    identifying the member). ``public`` identifiers (the indicator sighted, marking
    definitions, the hub's identities) join nothing."""
    metadata, rows = dump(database)
    seqs = {
        r.values["seq"] for r in rows if r.table == "objects" and r.values["stix_id"] in published
    }
    assert seqs, "the published objects are not in the database"

    def carries(row: Row) -> bool:
        table = metadata.tables[row.table]
        for name, value in row.values.items():
            if isinstance(value, str) and any(p in value for p in published):
                return True
            if (
                isinstance(value, int)
                and value in seqs
                and references(table.columns[name], "objects", "seq")
            ):
                return True
        return False

    def identifies(row: Row) -> bool:
        table = metadata.tables[row.table]
        for name, value in row.values.items():
            if isinstance(value, str) and any(
                s.lower() in value.lower() for s in member.identifying()
            ):
                return True
            if (
                isinstance(value, int)
                and not isinstance(value, bool)
                and value == member.org_id
                and references(table.columns[name], "organisations", "id")
            ):
                return True
        return False

    carrying = [r for r in rows if carries(r)]
    identifying = [r for r in rows if identifies(r)]
    assert carrying and identifying
    problems = [
        f"{r.table} row ties it to {member.name}: {r.values}" for r in carrying if r in identifying
    ]
    for row in identifying:
        mine = set().union(*(tokens(v) for v in row.values.values()))
        for other in carrying:
            if other.table == row.table:
                continue
            shared = mine & set().union(*(tokens(v) for v in other.values.values()))
            shared = {
                s for s in shared - published - public if not s.startswith("marking-definition--")
            }
            if shared:
                problems.append(
                    f"{row.table} row of {member.name} shares {shared} with {other.table}"
                )
    return problems


def test_unlinkable_sighting_is_counted_and_linked_to_nobody(
    anonymity_hub: AnonymityHub, tmp_path: Path
) -> None:
    hub = anonymity_hub
    url, members, database = hub.server.url, hub.members, hub.server.database
    ghost = members["ghost"]
    target = indicator(f"[ipv4-addr:value = '198.{RUN}.3.9']", "Beacon")
    submit(url, members["issuer"].key, [target], tlp="green")
    before = figures(url, members["reader"].key, target["id"])
    assert before["reports"] == 0

    state = tmp_path / "wallet"
    fetched = ok(
        shieldwall(
            url, ghost.key, tmp_path, "anon", "tokens", "--count", "2", "--state", str(state)
        )
    )
    assert "Fetched 2 tokens" in fetched
    # no key on the wire: the unlinkable path carries no credentials at all
    sent = ok(
        shieldwall(
            url,
            None,
            tmp_path,
            "sighting",
            "add",
            target["id"],
            "--unlinkable",
            "--count",
            "4",
            "--tlp",
            "green",
            "--state",
            str(state),
        )
    )
    receipt = sent.strip().splitlines()[-1]
    assert "Queued" in sent
    # nothing is published inside the request
    assert figures(url, members["reader"].key, target["id"])["reports"] == 0
    queued = httpx.get(f"{url}/api/v1/anon/receipts/{receipt}", timeout=30).json()
    assert queued["status"] == "queued", queued

    # the operator's periodic task publishes the batch (--force: below the batch size)
    published_now = cli("anon", "publish", "--force", database=database)
    assert "Published 1 anonymous submissions" in published_now, published_now
    status = httpx.get(f"{url}/api/v1/anon/receipts/{receipt}", timeout=30).json()
    assert status["status"] == "published", status
    (published,) = status["published"]

    for reader in ("reader", "issuer", "agency", "operator"):
        found = figures(url, members[reader].key, target["id"])
        assert found["reports"] == 1, (reader, found)
        assert found["anonymous_reports"] == 1, (reader, found)
        assert found["observations"] == 4, (reader, found)
        assert found["organisations"] == 1 and found["named_organisations"] == []
        assert found["sectors"] == {} and found["countries"] == {}
    (item,) = get(url, members["reader"].key, f"/api/v1/objects/{published}").json()["items"]
    sighting = item["object"]
    assert sighting["type"] == "sighting" and sighting["sighting_of_ref"] == target["id"]
    assert sighting["created_by_ref"] == hub.anonymous_identity
    assert sighting["created"].endswith("T00:00:00.000Z"), sighting  # cut to the day
    assert_valid_stix(sighting)
    for secret in ghost.identifying():
        assert secret.lower() not in json.dumps(item).lower()

    public = {target["id"], hub.anonymous_identity, hub.collection_id}
    problems = links_to(database, ghost, {published}, public)
    assert problems == [], "\n".join(problems)
    # nothing ties the sighting to the org in the columns meant for it either
    with sqlite3.connect(database.removeprefix("sqlite:///")) as db:
        rows = db.execute(
            "SELECT seq, submitter_org_id FROM objects WHERE stix_id = ?", (published,)
        ).fetchall()
        assert rows and all(submitter is None for _, submitter in rows), rows
        for seq, _ in rows:
            sealed = db.execute(
                "SELECT COUNT(*) FROM sealed_submitters WHERE object_seq = ?", (seq,)
            ).fetchone()
            assert sealed == (0,)
        sealed = db.execute(
            "SELECT COUNT(*) FROM sealed_submitters WHERE org_id = ?", (ghost.org_id,)
        ).fetchone()
        assert sealed == (0,)


# ============================================= 4. figures are invisible to those who may not read


def test_figures_and_reports_answer_404_to_non_readers(live_server: LiveServer) -> None:
    url, keys = live_server.url, live_server.keys
    names = identities(url, keys["us-bank"])
    value = f"198.{RUN}.4.4"
    red = indicator(f"[ipv4-addr:value = '{value}']", "RED only for US Bank")
    submit(url, keys["us-bank"], [red], tlp="red", scope={"organizations": [names["US Bank"]]})
    sight(url, keys["us-bank"], indicator=red["id"], count=2)
    assert figures(url, keys["us-bank"], red["id"])["reports"] == 1
    unknown = f"indicator--{uuid.uuid4()}"

    for who in ("gb-bank", "law", "operator"):
        for path in (
            f"/api/v1/objects/{red['id']}/sightings",
            f"/api/v1/indicators/{red['id']}",
            f"/api/v1/objects/{red['id']}/related",
        ):
            hidden = get(url, keys[who], path, expect=404).json()
            missing = get(url, keys[who], path.replace(red["id"], unknown), expect=404).json()
            # indistinguishable from an id that does not exist
            assert json.dumps(hidden).replace(red["id"], "X") == json.dumps(missing).replace(
                unknown, "X"
            ), (who, path)
        refused = sight(url, keys[who], expect=404, indicator=red["id"])
        assert refused.json()["error"]["status"] == 404
        sight(url, keys[who], expect=404, value=value)  # matching skips what it may not read
        sight(url, keys[who], expect=404, indicator=red["id"], tlp="clear")
        confirm = httpx.post(
            f"{url}/api/v1/indicators/{red['id']}/confirm", headers=auth(keys[who]), timeout=30
        )
        assert confirm.status_code == 404, confirm.text
    # nothing was stored by the refused reports
    assert figures(url, keys["us-bank"], red["id"])["reports"] == 1


def test_the_submitter_of_a_scoped_indicator_sees_its_sightings(live_server: LiveServer) -> None:
    """docs/sightings.md: a sighting takes its indicator's TLP and scope "so exactly the
    indicator's readers can read it". The submitter reads its own indicator even when its
    scope does not name it, so it must see the sightings of it."""
    url, keys = live_server.url, live_server.keys
    names = identities(url, keys["law"])
    red = indicator(f"[ipv4-addr:value = '198.{RUN}.4.8']", "law's RED for US Bank")
    submit(url, keys["law"], [red], tlp="red", scope={"organizations": [names["US Bank"]]})
    get(url, keys["law"], f"/api/v1/indicators/{red['id']}")  # law reads its indicator
    sight(url, keys["us-bank"], indicator=red["id"])
    assert figures(url, keys["us-bank"], red["id"])["reports"] == 1
    # the same without RED: us-bank (financial) shares with the legal sector only
    legal = indicator(f"[ipv4-addr:value = '198.{RUN}.4.9']", "for lawyers")
    submit(url, keys["us-bank"], [legal], tlp="green", scope={"sectors": ["legal"]})
    sight(url, keys["law"], indicator=legal["id"])
    assert figures(url, keys["law"], legal["id"])["reports"] == 1
    problems = [
        f"{submitter} cannot read the sighting of its own {which} indicator"
        for submitter, which, indicator_id in (
            ("law", "RED", red["id"]),
            ("us-bank", "sector-scoped", legal["id"]),
        )
        if figures(url, keys[submitter], indicator_id)["reports"] != 1
    ]
    assert problems == [], problems


# ===================================================================== 5. correlation over HTTP


def test_correlation_links_shared_infrastructure_and_respects_the_policy(
    live_server: LiveServer, home: Path
) -> None:
    url, keys = live_server.url, live_server.keys
    names = identities(url, keys["us-bank"])
    address, network = f"198.{RUN}.5.9", f"198.{RUN}.5.0/24"
    domain = f"shadowpanel-{RUN}-{secrets.token_hex(3)}.com"
    ip_us = indicator(f"[ipv4-addr:value = '{address}']", "panel address")
    sub_us = indicator(f"[domain-name:value = 'cdn.{domain}']", "panel CDN host")
    net_gb = indicator(f"[ipv4-addr:value ISSUBSET '{network}']", "hosting range")
    ip_law = indicator(f"[ipv4-addr:value = '{address}']", "same address, other member")
    dom_law = indicator(f"[domain-name:value = '{domain}']", "panel domain")
    red_gb = indicator(f"[ipv4-addr:value = '{address}']", "gb RED")
    lone = indicator(f"[ipv4-addr:value = '198.{RUN}.6.1']", "nothing shared")
    report_us = report(f"Campaign A {RUN}", [ip_us["id"], sub_us["id"]])
    report_law = report(f"Campaign B {RUN}", [ip_law["id"], dom_law["id"]])
    report_red = report(f"GB private {RUN}", [red_gb["id"]])
    report_lone = report(f"Unrelated {RUN}", [lone["id"]])
    submit(url, keys["us-bank"], [ip_us, sub_us, report_us, lone, report_lone])
    submit(url, keys["gb-bank"], [net_gb])
    submit(url, keys["law"], [ip_law, dom_law, report_law])
    submit(
        url,
        keys["gb-bank"],
        [red_gb, report_red],
        tlp="red",
        scope={"organizations": [names["GB Bank"]]},
    )

    related_ip, related_domain, clusters_us, clusters_law = (
        ok(result)
        for result in in_parallel(
            url,
            home,
            [
                ("related", ip_us["id"], "--json"),
                ("related", dom_law["id"], "--json"),
                ("clusters", "--json"),
                ("clusters", "--json"),
            ],
            [keys["us-bank"], keys["law"], keys["us-bank"], keys["law"]],
        )
    )
    found = json.loads(related_ip)
    related = {r["id"]: r for r in found["related"]}
    assert set(related) == {ip_law["id"], net_gb["id"]}, found
    assert {link["relation"] for link in related[ip_law["id"]]["links"]} == {"same"}
    # the relation of the other object's observable to the probed one: a network that
    # contains the address
    assert {link["relation"] for link in related[net_gb["id"]]["links"]} == {"contains"}
    assert {r["id"] for r in found["reports"]} == {report_us["id"], report_law["id"]}
    text = json.dumps(found)
    assert red_gb["id"] not in text and report_red["id"] not in text

    found = json.loads(related_domain)
    related = {r["id"]: r for r in found["related"]}
    assert set(related) == {sub_us["id"]}, found
    assert [link["relation"] for link in related[sub_us["id"]]["links"]] == ["subdomain"]

    # a report is related through its members
    found = get(url, keys["law"], f"/api/v1/objects/{report_law['id']}/related").json()
    assert {ip_us["id"], net_gb["id"], sub_us["id"]} <= {r["id"] for r in found["related"]}
    assert red_gb["id"] not in json.dumps(found)

    def my_clusters(stdout: str) -> list[set[str]]:
        ours = {report_us["id"], report_law["id"], report_red["id"], report_lone["id"]}
        return [
            {r["id"] for r in c["reports"]} & ours
            for c in json.loads(stdout)
            if {r["id"] for r in c["reports"]} & ours
        ]

    answers = {"us-bank": clusters_us, "law": clusters_law}
    answers["operator"] = json.dumps(
        get(url, keys["operator"], "/api/v1/correlation/clusters").json()["clusters"]
    )
    for who, stdout in answers.items():
        assert my_clusters(stdout) == [{report_us["id"], report_law["id"]}], (who, stdout)
        assert red_gb["id"] not in stdout and report_red["id"] not in stdout
    (cluster,) = [
        c
        for c in json.loads(answers["us-bank"])
        if report_us["id"] in {r["id"] for r in c["reports"]}
    ]
    assert {"kind": "ipv4", "value": address} in cluster["shared"], cluster
    # gb-bank reads its RED report: for it the three hang together
    gb = get(url, keys["gb-bank"], "/api/v1/correlation/clusters").text
    assert my_clusters(json.dumps(json.loads(gb)["clusters"])) == [
        {report_us["id"], report_law["id"], report_red["id"]}
    ]
    related_gb = get(url, keys["gb-bank"], f"/api/v1/objects/{ip_us['id']}/related").json()
    assert red_gb["id"] in {r["id"] for r in related_gb["related"]}


# ================================================ 6. warning lists with the shipped defaults


@pytest.fixture(scope="module")
def shipped_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp_path = tmp_path_factory.mktemp("shipped")
    database = f"sqlite:///{tmp_path / 'hub.db'}"
    hub = build_hub(Settings().with_overrides(database_url=database))
    keys = {}
    for handle, name, sector, country in (
        ("us-bank", "US Bank", "financial", "US"),
        ("gb-bank", "GB Bank", "financial", "GB"),
    ):
        admin.add_organisation(hub, name, sector, country)
        keys[handle] = admin.create_key(hub, name, "e2e")
    assert isinstance(hub.store, Database)
    hub.store.dispose()
    server = start_server(
        database,
        tmp_path,
        extra_env={
            "SHIELDWALL_WARNINGLISTS_MAX_ENTRIES": "100000",
            "SHIELDWALL_DECAY_LIFETIMES": "",
        },
    )
    server.keys = keys
    yield server
    stop_server(server)


def test_warning_listed_indicators_are_flagged_unmatched_until_confirmed(
    shipped_server: LiveServer, home: Path
) -> None:
    url, keys = shipped_server.url, shipped_server.keys
    # value looked up → (indicator, what the warning names)
    benign = {
        "8.8.8.8": (indicator("[ipv4-addr:value = '8.8.8.8']", "resolver"), "8.8.8.8"),
        "google.com": (indicator("[domain-name:value = 'google.com']", "search"), "google.com"),
        "192.0.2.10": (
            indicator("[ipv4-addr:value ISSUBSET '192.0.2.0/24']", "documentation"),
            "192.0.2.0/24",
        ),
    }
    control = "185.220.101.47"  # not on any shipped list (tests/assessment/test_warnings.py)
    malicious = indicator(f"[ipv4-addr:value = '{control}']", "control")
    status = submit(url, keys["us-bank"], [*(i for i, _ in benign.values()), malicious])
    messages = {s["id"]: s.get("message", "") for s in status["successes"]}
    for obj, shown in benign.values():
        message = messages[obj["id"]]
        assert message.startswith("warning list: ") and shown in message, (shown, message)
        assert "shieldwall indicator confirm" in message
    assert "warning list" not in messages[malicious["id"]]
    resolver = benign["8.8.8.8"][0]

    def matched(who: str, *values: str) -> dict[str, set[str]]:
        answer = httpx.post(
            f"{url}/api/v1/match",
            json={"observables": [{"value": v} for v in values]},
            headers=auth(keys[who]),
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        hits: dict[str, set[str]] = {}
        for hit in answer.json()["hits"]:
            hits.setdefault(hit["value"], set()).add(hit["indicator_id"])
        return hits

    values = [*benign, control]
    assert matched("gb-bank", *values) == {control: {malicious["id"]}}
    assert matched("us-bank", *values) == {control: {malicious["id"]}}
    # the member's local cache (filled over TAXII, which serves every stored object) leaves
    # out what the hub's matching leaves out
    log = home / "warned.log"
    log.write_text("".join(f"{v}\n" for v in values))

    def matched_locally() -> set[str]:
        out = ok(shieldwall(url, keys["gb-bank"], home, "match", str(log), "--output", "json"))
        return {json.loads(line)["indicator"] for line in out.splitlines() if line.strip()}

    assert matched_locally() == {malicious["id"]}
    view = get(url, keys["gb-bank"], f"/api/v1/indicators/{resolver['id']}").json()
    assert view["warnings"] and view["confirmed"] is False, view
    assert view["score"]["expired"] is False  # shipped decay: live, valid from now
    # a sighting by value finds no live indicator either
    sight(url, keys["gb-bank"], expect=404, value="8.8.8.8")

    # only the submitter (or an operator) may confirm
    refused = shieldwall(url, keys["gb-bank"], home, "indicator", "confirm", resolver["id"])
    assert refused.returncode == 5, (refused.stdout, refused.stderr)
    assert "submitter" in refused.stderr
    answer = httpx.post(
        f"{url}/api/v1/indicators/{resolver['id']}/confirm",
        headers=auth(keys["gb-bank"]),
        timeout=30,
    )
    assert answer.status_code == 403, answer.text
    assert matched("gb-bank", "8.8.8.8") == {}

    out = ok(shieldwall(url, keys["us-bank"], home, "indicator", "confirm", resolver["id"]))
    assert "Confirmed" in out
    assert matched("gb-bank", *values) == {
        "8.8.8.8": {resolver["id"]},
        control: {malicious["id"]},
    }
    assert matched_locally() == {malicious["id"], resolver["id"]}
    view = get(url, keys["gb-bank"], f"/api/v1/indicators/{resolver['id']}").json()
    assert view["warnings"] and view["confirmed"] is True
    made = sight(url, keys["gb-bank"], value="8.8.8.8").json()
    assert [s["indicator"] for s in made["sightings"]] == [resolver["id"]]


# ================================================================= 7. bad input over HTTP


def test_bad_sighting_reports_are_refused_clearly_and_store_nothing(
    live_server: LiveServer,
) -> None:
    url, keys = live_server.url, live_server.keys
    key = keys["gb-bank"]
    target = indicator(f"[ipv4-addr:value = '198.{RUN}.7.7']")
    submit(url, keys["us-bank"], [target])
    sight(url, key, indicator=target["id"])
    before = figures(url, key, target["id"])
    stored_before = len(get(url, key, "/api/v1/objects?type=sighting&limit=10000").json()["items"])

    def refused(body: Any, *, raw: bytes | None = None) -> tuple[int, str]:
        answer = httpx.post(
            f"{url}/api/v1/sightings",
            content=raw if raw is not None else json.dumps(body).encode(),
            headers={**auth(key), "Content-Type": "application/json"},
            timeout=30,
        )
        assert 400 <= answer.status_code < 500, (body, raw, answer.status_code, answer.text)
        error = answer.json()["error"]
        assert error["status"] == answer.status_code
        return answer.status_code, str(error["description"])

    status, message = refused(None, raw=b'{"indicator": "' + target["id"].encode() + b'",')
    assert status == 400 and "json" in message.lower(), message
    status, message = refused(None, raw=b"[1, 2, 3]")
    assert status == 400, message
    status, message = refused({"indicator": target["id"], "value": "198.18.7.7"})
    assert status == 400 and "not both" in message, message
    status, message = refused({"count": 2})
    assert status == 400 and "indicator" in message and "value" in message, message
    status, message = refused({"indicator": target["id"], "count": 0})
    assert status == 400 and "count" in message, message
    status, message = refused({"indicator": target["id"], "count": -5})
    assert status == 400 and "count" in message, message
    status, message = refused({"indicator": target["id"], "colour": "red"})
    assert status == 400 and "colour" in message, message
    status, message = refused(
        {
            "indicator": target["id"],
            "first_seen": "2024-05-02T00:00:00Z",
            "last_seen": "2024-05-01T00:00:00Z",
        }
    )
    assert status == 400 and "last_seen is before first_seen" in message, message
    status, message = refused({"indicator": target["id"], "first_seen": "yesterday"})
    assert status == 400 and ("yesterday" in message or "timestamp" in message.lower()), message
    status, message = refused({"indicator": target["id"], "tlp": "purple"})
    assert status == 400 and "tlp" in message, message
    status, message = refused({"value": f"never-seen-{RUN}.example.invalid"})
    assert status == 404 and "never-seen" in message, message
    status, message = refused({"indicator": f"indicator--{uuid.uuid4()}"})
    assert status == 404, message
    status, message = refused({"indicator": "not an id"})
    assert status in (400, 404), message

    assert figures(url, key, target["id"]) == before
    stored = get(url, key, "/api/v1/objects?type=sighting&limit=10000").json()["items"]
    assert len(stored) == stored_before


def test_a_refused_sighting_is_not_reported_as_made(live_server: LiveServer) -> None:
    """A sighting must be of an SDO (STIX 2.1 §5.2): one of a relationship is refused, and
    the answer must not name it among "the sightings made"."""
    url, keys = live_server.url, live_server.keys
    key = keys["gb-bank"]
    target = indicator(f"[ipv4-addr:value = '198.{RUN}.7.8']")
    submit(url, keys["us-bank"], [target])
    stored_before = len(get(url, key, "/api/v1/objects?type=sighting&limit=10000").json()["items"])
    relation = {
        "type": "relationship",
        "spec_version": "2.1",
        "id": f"relationship--{uuid.uuid4()}",
        "created": target["created"],
        "modified": target["created"],
        "relationship_type": "related-to",
        "source_ref": target["id"],
        "target_ref": target["id"],
    }
    submit(url, keys["us-bank"], [relation])
    answer = httpx.post(
        f"{url}/api/v1/sightings",
        json={"indicator": relation["id"]},
        headers=auth(key),
        timeout=30,
    )
    stored = get(url, key, "/api/v1/objects?type=sighting&limit=10000").json()["items"]
    assert len(stored) == stored_before  # nothing stored
    if answer.status_code == 202:  # refused inside the status resource
        body = answer.json()
        assert body["status"]["failure_count"] == 1, body
        assert "relationship" in body["status"]["failures"][0]["message"]
        claimed = [s["id"] for s in body["sightings"]]
        stored_ids = {s["id"] for s in body["status"].get("successes", [])}
        assert set(claimed) <= stored_ids, f"answer lists sightings that were not stored: {body}"
    else:
        assert 400 <= answer.status_code < 500, answer.text


# ========================================= 8. every sighting the hub emits is valid STIX 2.1


def test_every_sighting_served_over_taxii_is_valid_stix(live_server: LiveServer) -> None:
    url, keys = live_server.url, live_server.keys
    names = identities(url, keys["us-bank"])
    target = indicator(f"[ipv4-addr:value = '198.{RUN}.8.8']")
    submit(url, keys["us-bank"], [target])
    made: set[str] = set()
    for who, body in (
        ("us-bank", {"indicator": target["id"]}),
        ("gb-bank", {"indicator": target["id"], "anonymous": True, "count": 7}),
        ("law", {"indicator": target["id"], "false_positive": True, "description": "benign"}),
        (
            "agency",
            {
                "indicator": target["id"],
                "first_seen": "2024-01-01T00:00:00Z",
                "last_seen": "2024-01-02T00:00:00.123456Z",
                "tlp": "amber",
                "scope": {"sectors": ["financial", "government"]},
            },
        ),
        (
            "gb-bank",
            {
                "value": f"198.{RUN}.8.8",
                "tlp": "red",
                "scope": {"organizations": [names["US Bank"], names["GB Bank"]]},
            },
        ),
    ):
        answer = sight(url, keys[who], **body).json()
        assert answer["status"]["failure_count"] == 0
        made |= {s["id"] for s in answer["sightings"]}

    taxii = Taxii(live_server, keys["us-bank"])
    try:
        served = taxii.objects(type="sighting")
        extension = taxii.collection.get_object(SIGHTING_EXTENSION)["objects"]
    finally:
        taxii.close()
    assert made <= {s["id"] for s in served}
    for sighting in served:
        assert_valid_stix(sighting)
    (definition,) = extension
    assert_valid_stix(definition)
    by_id = {s["id"]: s for s in served}
    false_positive = [i for i in made if SIGHTING_EXTENSION in by_id[i].get("extensions", {})]
    assert len(false_positive) == 1
    assert by_id[false_positive[0]]["extensions"][SIGHTING_EXTENSION]["false_positive"] is True
