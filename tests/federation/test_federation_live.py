"""Federation end to end on loopback: two Shieldwall hubs (a banking ISAC and a legal ISAO)
and a medallion 3.0.0 server. Passes run through ``shieldwall partner sync``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import pytest

from conftest import TEST_ENV, LiveServer, free_port, start_server, stop_server
from shieldwall.bootstrap import build_hub
from shieldwall.domain.scope import SCOPE_EXTENSION_ID
from shieldwall.domain.timestamps import parse_timestamp
from shieldwall.domain.tlp import TLP2_MARKING_IDS, Tlp
from shieldwall.services import admin
from shieldwall.settings import Settings
from shieldwall.storage.database import Database

pytestmark = [pytest.mark.slow]
TAXII = "application/taxii+json;version=2.1"
ROOT = Path(__file__).resolve().parents[2]
FED_ENV = {
    "SHIELDWALL_FEDERATION_SYNC_INTERVAL": "0",
    "SHIELDWALL_FEDERATION_RETRY_BASE_SECONDS": "8",
    "SHIELDWALL_FEDERATION_TIMEOUT": "5",
}


@dataclass
class Hub:
    server: LiveServer
    tmp: Path
    port: int
    keys: dict[str, str] = field(default_factory=dict)
    collection: str = ""

    @property
    def database(self) -> str:
        return self.server.database


def run_cli(*args: str, database: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "shieldwall.cli", *args, "--database", database],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **TEST_ENV, **FED_ENV},
    )
    if ok and result.returncode != 0:
        raise AssertionError(f"shieldwall {' '.join(args)}: {result.stdout}{result.stderr}")
    return result


def make_hub(tmp: Path, name: str, sector: str, partner_account: tuple[str, str]) -> Hub:
    database = f"sqlite:///{tmp / 'hub.db'}"
    built = build_hub(Settings().with_overrides(database_url=database, hub_name=name))
    keys = {}
    for handle, (org, org_sector, role) in {
        "member": (f"{name} member", sector, "member"),
        "operator": (f"{name} operator", "other", "operator"),
        "partner": (partner_account[0], partner_account[1], "member"),
    }.items():
        admin.add_organisation(built, org, org_sector, "US", role)
        keys[handle] = admin.create_key(built, org, "test")
    collection = admin.collections(built)[0].collection_id
    assert isinstance(built.store, Database)
    built.store.dispose()
    port = free_port()
    server = start_server(database, tmp, extra_env=FED_ENV, port=port)
    return Hub(server, tmp, port, keys, collection)


def restart(hub: Hub) -> None:
    hub.server = start_server(hub.database, hub.tmp, extra_env=FED_ENV, port=hub.port)


@dataclass
class Medallion:
    process: subprocess.Popen[bytes]
    api_root: str
    collection: str
    password: str

    def objects(self) -> list[dict[str, object]]:
        answer = httpx.get(
            f"{self.api_root}collections/{self.collection}/objects/",
            params={"match[version]": "all"},
            auth=("fed", self.password),
            headers={"Accept": TAXII},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        return list(answer.json().get("objects", []))

    def add(self, objects: list[dict[str, object]]) -> None:
        answer = httpx.post(
            f"{self.api_root}collections/{self.collection}/objects/",
            content=orjson.dumps({"objects": objects}),
            auth=("fed", self.password),
            headers={"Accept": TAXII, "Content-Type": TAXII},
            timeout=10,
        )
        assert answer.status_code == 202, answer.text


def start_medallion(tmp: Path) -> Medallion:
    port = free_port()
    password = uuid.uuid4().hex
    collection = str(uuid.uuid4())
    root = f"http://127.0.0.1:{port}/fed/"
    data = {
        "/discovery": {
            "title": "medallion",
            "description": "third-party TAXII 2.1 server",
            "contact": "fed@localhost",
            "default": root,
            "api_roots": [root],
        },
        "fed": {
            "information": {
                "title": "fed",
                "description": "federation tests",
                "versions": [TAXII],
                "max_content_length": 10 * 1024 * 1024,
            },
            "status": [],
            "collections": [
                {
                    "id": collection,
                    "title": "Shared",
                    "description": "readable and writable",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }
    (tmp / "data.json").write_bytes(orjson.dumps(data))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(tmp / "data.json"),
            "session_timeout": 3600,
        },
        "users": {"fed": password},
        "taxii": {"max_page_size": 1000},
    }
    (tmp / "config.json").write_bytes(orjson.dumps(config))
    log = (tmp / "medallion.log").open("wb")
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "medallion"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            str(tmp / "config.json"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(
                f"http://127.0.0.1:{port}/taxii2/",
                auth=("fed", password),
                headers={"Accept": TAXII},
                timeout=2,
            )
            if answer.status_code == 200:
                return Medallion(process, root, collection, password)
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError((tmp / "medallion.log").read_text(errors="replace"))


def indicator(label: str, tlp: Tlp | None = None) -> dict[str, object]:
    body: dict[str, object] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": "2026-01-05T10:00:00.000Z",
        "modified": "2026-01-05T10:00:00.000Z",
        "name": label,
        "pattern": f"[domain-name:value = '{label}.example.com']",
        "pattern_type": "stix",
        "valid_from": "2026-01-05T10:00:00Z",
    }
    if tlp is not None:
        body["object_marking_refs"] = [TLP2_MARKING_IDS[tlp]]
    return body


def submit(
    hub: Hub,
    obj: dict[str, object],
    tlp: str,
    scope: dict[str, list[str]] | None = None,
    attribution: str = "attributed",
) -> str:
    document: dict[str, object] = {"objects": [obj], "tlp": tlp, "attribution": attribution}
    if scope is not None:
        document["scope"] = scope
    answer = httpx.post(
        f"{hub.server.url}/api/v1/objects",
        json=document,
        headers={"Authorization": f"Bearer {hub.keys['member']}"},
        timeout=30,
    )
    assert answer.status_code == 202 and answer.json()["success_count"] == 1, answer.text
    return str(obj["id"])


def stored(hub: Hub) -> list[dict[str, object]]:
    """Every object version in the hub's shared collection, as its operator reads it."""
    items: list[dict[str, object]] = []
    params: dict[str, str] = {"match[version]": "all", "limit": "1000"}
    while True:
        answer = httpx.get(
            f"{hub.server.api_root}collections/{hub.collection}/objects/",
            params=params,
            headers={"Authorization": f"Bearer {hub.keys['operator']}", "Accept": TAXII},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        document = answer.json()
        items.extend(document.get("objects", []))
        if not document.get("more"):
            return items
        params["next"] = document["next"]


def ids(objects: list[dict[str, object]]) -> set[str]:
    return {str(o["id"]) for o in objects}


def status(hub: Hub) -> dict[str, dict[str, object]]:
    answer = httpx.get(
        f"{hub.server.url}/api/v1/partners",
        headers={"Authorization": f"Bearer {hub.keys['operator']}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return {
        f"{p['name']}/{leg['direction']}": leg for p in answer.json()["items"] for leg in p["sync"]
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, Hub, Medallion]]:
    bank = make_hub(
        tmp_path_factory.mktemp("bank"), "Banking ISAC", "financial", ("Legal ISAO", "legal")
    )
    law = make_hub(
        tmp_path_factory.mktemp("law"), "Legal ISAO", "legal", ("Banking ISAC", "financial")
    )
    medallion = start_medallion(tmp_path_factory.mktemp("medallion"))
    # The bank pushes to the law ISAO with the account the ISAO gave it, and back.
    run_cli(
        "partner", "add", "legal-isao", "--url", law.server.api_root,
        "--collection", law.collection, "--direction", "push",
        "--key", law.keys["partner"], "--account", "Legal ISAO",
        database=bank.database,
    )  # fmt: skip
    run_cli(
        "partner", "add", "banking-isac", "--url", bank.server.api_root,
        "--collection", bank.collection, "--direction", "push",
        "--key", bank.keys["partner"], "--account", "Banking ISAC",
        database=law.database,
    )  # fmt: skip
    run_cli(
        "partner", "add", "medallion", "--url", medallion.api_root,
        "--collection", medallion.collection, "--direction", "both",
        "--user", "fed", "--password", medallion.password,
        database=bank.database,
    )  # fmt: skip
    yield bank, law, medallion
    for hub in (bank, law):
        stop_server(hub.server)
    medallion.process.terminate()
    medallion.process.wait(timeout=15)


def test_what_may_leave_flows_both_ways_and_nothing_else(
    world: tuple[Hub, Hub, Medallion],
) -> None:
    bank, law, medallion = world
    green = submit(bank, indicator("bank-green"), "green")
    clear = submit(bank, indicator("bank-clear"), "clear")
    anonymous = submit(bank, indicator("bank-anon"), "green", attribution="anonymous")
    staying = {
        submit(bank, indicator("bank-amber"), "amber"),
        submit(bank, indicator("bank-strict"), "amber+strict"),
        submit(bank, indicator("bank-red"), "red"),
        submit(bank, indicator("bank-sector"), "green", {"sectors": ["financial"]}),
    }
    law_green = submit(law, indicator("law-green"), "green")
    law_amber = submit(law, indicator("law-amber"), "amber")
    from_medallion = indicator("medallion-green", Tlp.GREEN)
    medallion_amber = indicator("medallion-amber", Tlp.AMBER)
    medallion_unmarked = indicator("medallion-unmarked")
    medallion.add([from_medallion, medallion_amber, medallion_unmarked])

    # Two rounds converge (what the bank pulls from medallion reaches the ISAO in round
    # two); a third must change nothing.
    for _ in range(2):
        run_cli("partner", "sync", database=bank.database)
        run_cli("partner", "sync", database=law.database)
    first = (stored(bank), stored(law), medallion.objects())
    run_cli("partner", "sync", database=bank.database)
    run_cli("partner", "sync", database=law.database)
    second = (stored(bank), stored(law), medallion.objects())
    assert [sorted(ids(x)) for x in first] == [sorted(ids(x)) for x in second]
    assert [len(x) for x in first] == [len(x) for x in second], "a re-run duplicated"
    at_bank, at_law, at_medallion = second

    # What may leave arrived, both ways and at medallion; nothing else did.
    assert {green, clear, anonymous} <= ids(at_law)
    assert {green, clear, anonymous} <= ids(at_medallion)
    assert staying.isdisjoint(ids(at_law) | ids(at_medallion))
    assert {law_green, str(from_medallion["id"])} <= ids(at_bank)
    assert law_amber not in ids(at_bank)
    assert str(medallion_amber["id"]) not in ids(at_bank)
    # An unmarked object from a third-party server gets the hub default (AMBER): refused.
    assert str(medallion_unmarked["id"]) not in ids(at_bank)
    assert law_amber not in ids(at_medallion)

    # No bounce: one version of each object everywhere.
    for collection in second:
        seen = [str(o["id"]) for o in collection]
        assert len(seen) == len(set(seen))

    # TLP and scope travel; the anonymous object is still anonymous.
    arrived = {str(o["id"]): o for o in at_law}
    assert arrived[green]["object_marking_refs"] == [TLP2_MARKING_IDS[Tlp.GREEN]]
    assert arrived[clear]["object_marking_refs"] == [TLP2_MARKING_IDS[Tlp.CLEAR]]
    original = {str(o["id"]): o for o in at_bank}
    assert arrived[anonymous] == original[anonymous]
    anon_body = orjson.dumps(arrived[anonymous]).decode()
    assert "Banking ISAC member" not in anon_body
    anon_identity = [
        o for o in at_bank if o.get("type") == "identity" and o.get("name") == "Anonymous member"
    ]
    assert arrived[anonymous]["created_by_ref"] == anon_identity[0]["id"]
    reveal = httpx.post(
        f"{law.server.url}/api/v1/anon/sealed/{anonymous}",
        json={"reason": "federation test"},
        headers={"Authorization": f"Bearer {law.keys['operator']}"},
        timeout=10,
    )
    assert reveal.status_code == 404, reveal.text
    pulled = {str(o["id"]): o for o in at_bank}[str(from_medallion["id"])]
    assert pulled["object_marking_refs"] == [TLP2_MARKING_IDS[Tlp.GREEN]]
    assert SCOPE_EXTENSION_ID not in dict(pulled.get("extensions", {}))  # type: ignore[arg-type]

    # Status and provenance.
    legs = status(bank)
    assert legs["medallion/pull"]["transferred"] == 1
    assert legs["medallion/pull"]["refused"] == 2
    assert legs["medallion/push"]["transferred"] >= 3
    assert legs["legal-isao/push"]["last_success"] is not None
    assert legs["legal-isao/push"]["consecutive_failures"] == 0
    origin = httpx.get(
        f"{bank.server.url}/api/v1/partners/origin/{bank.collection}/{from_medallion['id']}",
        headers={"Authorization": f"Bearer {bank.keys['operator']}"},
        timeout=10,
    )
    assert [v["partner"] for v in origin.json()["versions"]] == ["medallion"]


def test_partner_outage_is_retried_and_recovers(world: tuple[Hub, Hub, Medallion]) -> None:
    bank, law, _ = world
    run_cli("partner", "sync", "legal-isao", database=bank.database)
    before = status(bank)["legal-isao/push"]
    stop_server(law.server)
    pending = submit(bank, indicator("bank-during-outage"), "green")
    failed = run_cli("partner", "sync", "legal-isao", database=bank.database, ok=False)
    assert failed.returncode == 1 and "legal-isao" in failed.stderr
    after = status(bank)["legal-isao/push"]
    assert after["consecutive_failures"] == 1 and after["last_error"]
    assert after["next_attempt"] is not None
    assert after["watermark"] == before["watermark"]  # nothing skipped
    waiting = run_cli("partner", "sync", "legal-isao", database=bank.database)
    assert "backing off" in waiting.stdout
    restart(law)
    assert pending not in ids(stored(law))
    due = parse_timestamp(str(after["next_attempt"])) / 1e6
    time.sleep(max(0.0, due - time.time()) + 0.2)  # the back-off base in these tests is 8 s
    run_cli("partner", "sync", "legal-isao", database=bank.database)
    assert pending in ids(stored(law))
    recovered = status(bank)["legal-isao/push"]
    assert recovered["consecutive_failures"] == 0 and recovered["last_error"] is None


def test_partner_management_is_for_operators(world: tuple[Hub, Hub, Medallion]) -> None:
    bank, _, _ = world
    url = f"{bank.server.url}/api/v1/partners"
    member = {"Authorization": f"Bearer {bank.keys['member']}"}
    operator = {"Authorization": f"Bearer {bank.keys['operator']}"}
    assert httpx.get(url, headers=member, timeout=10).status_code == 403
    body = {
        "name": "x",
        "api_root": "http://127.0.0.1:9/taxii2/x/",
        "collection": "c",
        "local_collection": "shared",
        "direction": "pull",
    }
    assert httpx.post(url, json=body, headers=member, timeout=10).status_code == 403
    for change in (
        {"api_root": "ftp://example/"},
        {"direction": "sideways"},
        {"local_collection": "nope"},
        {"key": "k", "user": "u", "password": "p"},
    ):
        answer = httpx.post(url, json={**body, **change}, headers=operator, timeout=10)
        assert answer.status_code in (400, 422), (change, answer.text)
    listed = httpx.get(url, headers=operator, timeout=10).text
    assert bank.keys["partner"] not in listed and "password" not in listed
    bad = run_cli(
        "partner", "add", "y", "--url", "not a url", "--collection", "c",
        database=bank.database, ok=False,
    )  # fmt: skip
    assert bad.returncode == 2
