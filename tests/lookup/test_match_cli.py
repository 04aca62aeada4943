"""``shieldwall match``, ``lookup`` and ``export-filter`` end to end: the real command line
against a real ``shieldwall serve`` process, every matching mode giving the same hits, the
policy holding in each, sightings reported back, and private lookups leaving no trace."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from lookup_support import indicator

from conftest import LiveServer, start_server, stop_server
from shieldwall.bootstrap import build_hub
from shieldwall.services import admin
from shieldwall.settings import Settings
from shieldwall.storage.database import Database

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("match-cli")]

SECRET_VALUE = "merger-target-7f3a.example"  # asked privately; must never reach the hub
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


SHARED = [
    indicator("[ipv4-addr:value = '198.51.100.7']", confidence=85),
    indicator("[domain-name:value = 'evil.example.com']"),
    indicator(f"[file:hashes.'SHA-256' = '{SHA}']"),
]
GB_ONLY = indicator("[ipv4-addr:value = '203.0.113.0/24']")
ZEEK_CONN = "\n".join(
    [
        "#separator \\x09",
        "#path\tconn",
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto",
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum",
        "1700000000.000000\tC1\t10.0.0.5\t50000\t198.51.100.7\t443\ttcp",
        "1700000100.000000\tC2\t10.0.0.6\t50001\t192.0.2.44\t443\ttcp",
        "1700000200.000000\tC3\t10.0.0.7\t50002\t203.0.113.5\t80\ttcp",
        "",
    ]
)
PLAIN = f"evil.example.com\nbenign.example.org\n{SHA}\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp_path = tmp_path_factory.mktemp("match")
    database = f"sqlite:///{tmp_path / 'hub.db'}"
    hub = build_hub(Settings().with_overrides(database_url=database))
    keys = {}
    for handle, (name, sector, country) in {
        "us-bank": ("US Bank", "financial", "US"),
        "gb-bank": ("GB Bank", "financial", "GB"),
        "law": ("US Law Firm", "legal", "US"),
        "thrifty": ("Thrifty Credit Union", "financial", "US"),
    }.items():
        admin.add_organisation(hub, name, sector, country)
        keys[handle] = admin.create_key(hub, name, "test")
    assert isinstance(hub.store, Database)
    hub.store.dispose()
    live = start_server(database, tmp_path, extra_env={"SHIELDWALL_LOOKUP_DAILY_ITEMS": "300"})
    live.keys = keys
    post(live, "us-bank", SHARED, "green")
    gb = admin_identity(live, "gb-bank")
    post(live, "gb-bank", [GB_ONLY], "red", {"organizations": [gb]})
    yield live
    stop_server(live)


def admin_identity(server: LiveServer, who: str) -> str:
    answer = httpx.get(f"{server.url}/api/v1/me", headers=auth(server, who), timeout=30)
    return str(answer.json()["identity_id"])


def auth(server: LiveServer, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.keys[who]}"}


def post(
    server: LiveServer, who: str, objects: list[dict[str, object]], tlp: str, scope: Any = None
) -> None:
    body: dict[str, Any] = {"objects": objects, "tlp": tlp}
    if scope is not None:
        body["scope"] = scope
    answer = httpx.post(
        f"{server.url}/api/v1/objects", json=body, headers=auth(server, who), timeout=60
    )
    assert answer.status_code in (200, 201, 202), answer.text
    assert answer.json()["failure_count"] == 0, answer.text


def shieldwall(
    server: LiveServer, who: str, state: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "shieldwall.cli",
            *args,
            "--hub",
            server.url,
            "--key",
            server.keys[who],
        ],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={
            "SHIELDWALL_STATE_DIR": str(state),
            "PATH": "/usr/bin:/bin",
            "HOME": str(state),
            "COLUMNS": "250",
        },
    )


def hits_of(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    (tmp_path / "conn.log").write_text(ZEEK_CONN)
    (tmp_path / "iocs.txt").write_text(PLAIN)
    return tmp_path


def summary(hits: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    return sorted((Path(h["source"]).name, h["line"], h["value"]) for h in hits)


EXPECTED_LAW = [
    ("conn.log", 5, "198.51.100.7"),
    ("iocs.txt", 1, "evil.example.com"),
    ("iocs.txt", 3, SHA),
]
EXPECTED_GB = sorted([*EXPECTED_LAW, ("conn.log", 7, "203.0.113.5")])


@pytest.mark.parametrize("mode", ["local", "--server", "--private"])
def test_every_mode_finds_what_the_member_may_read(
    server: LiveServer, logs: Path, tmp_path: Path, mode: str
) -> None:
    files = [str(logs / "conn.log"), str(logs / "iocs.txt")]
    flags = [] if mode == "local" else [mode]
    for who, expected in (("law", EXPECTED_LAW), ("gb-bank", EXPECTED_GB)):
        found = hits_of(
            shieldwall(server, who, tmp_path / who, "match", *files, *flags, "--output", "json")
        )
        assert summary(found) == expected, (who, mode)
        if mode == "--private":
            assert {h["indicator"] for h in found} == {"(known value)"}
        else:
            by_value = {h["value"]: h for h in found}
            assert by_value["198.51.100.7"]["indicator"] == SHARED[0]["id"]
            assert by_value["198.51.100.7"]["tlp"] == "TLP:GREEN"
            assert by_value["198.51.100.7"]["score"] == 85
            assert by_value["198.51.100.7"]["time"] == "2023-11-14T22:13:20.000000Z"
            assert "198.51.100.7\t443" in by_value["198.51.100.7"]["log_line"]


def test_local_cache_refreshes_incrementally(
    server: LiveServer, logs: Path, tmp_path: Path
) -> None:
    state = tmp_path / "law"
    first = shieldwall(server, "law", state, "match", str(logs / "iocs.txt"), "--output", "json")
    assert "3 indicators cached (3 new or changed" in first.stderr
    late = indicator("[domain-name:value = 'benign.example.org']")
    post(server, "us-bank", [late], "green")
    second = shieldwall(server, "law", state, "match", str(logs / "iocs.txt"), "--output", "json")
    assert "4 indicators cached (1 new or changed" in second.stderr
    assert ("iocs.txt", 2, "benign.example.org") in summary(hits_of(second))
    post(
        server, "us-bank", [dict(late, modified="2024-02-01T00:00:00.000Z", revoked=True)], "green"
    )
    third = shieldwall(server, "law", state, "match", str(logs / "iocs.txt"), "--output", "json")
    assert "3 indicators cached (0 new or changed, 1 removed)" in third.stderr
    assert ("iocs.txt", 2, "benign.example.org") not in summary(hits_of(third))


def test_standard_input_csv_and_table_output(server: LiveServer, tmp_path: Path) -> None:
    table = shieldwall(server, "law", tmp_path, "match", "-", "--format", "plain", stdin=PLAIN)
    assert table.returncode == 0, table.stderr
    assert "evil.example.com" in table.stdout and "matches" in table.stdout
    as_csv = shieldwall(server, "law", tmp_path, "match", "-", "--output", "csv", stdin=PLAIN)
    lines = as_csv.stdout.splitlines()
    assert lines[0].startswith("source,line,kind,value,indicator,tlp,score")
    assert len(lines) == 3


def offline_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command line with no hub and no key at all (an air-gapped machine)."""
    return subprocess.run(
        [sys.executable, "-m", "shieldwall.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(home)},
    )


def test_offline_filter_export_and_match(server: LiveServer, logs: Path, tmp_path: Path) -> None:
    target = tmp_path / "filter.swf"
    exported = shieldwall(server, "law", tmp_path, "export-filter", "--out", str(target))
    assert exported.returncode == 0, exported.stderr
    assert "3 values from 3 indicators, TLP:GREEN" in exported.stdout
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    logs_given = [str(logs / "conn.log"), str(logs / "iocs.txt")]
    offline = offline_cli(
        tmp_path, "match", *logs_given, "--filter", str(target), "--output", "json"
    )
    assert summary(hits_of(offline)) == EXPECTED_LAW
    looked_up = offline_cli(
        tmp_path, "lookup", "198.51.100.7", "192.0.2.1", "--filter", str(target)
    )
    assert looked_up.stdout.split("\n")[:2] == ["known    198.51.100.7", "unknown  192.0.2.1"]
    with sqlite3.connect(server.database.removeprefix("sqlite:///")) as db:
        actions = [row[0] for row in db.execute("SELECT action FROM audit_log")]
    assert "lookup.export" in actions


def test_private_lookup_leaves_no_queried_value(server: LiveServer, tmp_path: Path) -> None:
    result = shieldwall(
        server,
        "us-bank",
        tmp_path,
        "lookup",
        "--private",
        SECRET_VALUE,
        "evil.example.com",
        "198.51.100.7",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"unknown  {SECRET_VALUE}",
        "known    evil.example.com",
        "known    198.51.100.7",
    ]
    path = Path(server.database.removeprefix("sqlite:///"))
    stored = (
        path.read_bytes() + Path(f"{path}-wal").read_bytes()
        if Path(f"{path}-wal").exists()
        else path.read_bytes()
    )
    for form in (SECRET_VALUE, f"domain|{SECRET_VALUE}"):
        assert form.encode() not in stored
        assert form not in server.log()


def test_quota_refuses_with_a_clear_message(server: LiveServer, tmp_path: Path) -> None:
    values = [f"198.51.{n // 256}.{n % 256}" for n in range(320)]
    result = shieldwall(server, "thrifty", tmp_path, "lookup", "--private", *values)
    assert result.returncode == 6
    assert "private lookup quota reached: at most 300 items a day" in result.stderr


def test_sightings_are_reported_attributed_or_anonymous(
    server: LiveServer, logs: Path, tmp_path: Path
) -> None:
    law = admin_identity(server, "law")
    for flags in ([], ["--anonymous"]):
        result = shieldwall(
            server, "law", tmp_path, "match", str(logs / "conn.log"), "--report-sightings",
            "--output", "json", *flags,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "Reported 1 sightings" in result.stderr
    answer = httpx.get(
        f"{server.api_root}collections/shared/objects/",
        params={"match[type]": "sighting"},
        headers={**auth(server, "us-bank"), "Accept": "application/taxii+json;version=2.1"},
        timeout=30,
    )
    sightings = answer.json()["objects"]
    assert len(sightings) == 2
    assert {s["sighting_of_ref"] for s in sightings} == {SHARED[0]["id"]}
    assert all(
        s["count"] == 1 and s["first_seen"].startswith("2023-11-14T22:13:20") for s in sightings
    )
    attributed = [s for s in sightings if s.get("where_sighted_refs")]
    anonymous = [s for s in sightings if not s.get("where_sighted_refs")]
    assert [s["created_by_ref"] for s in attributed] == [law]
    assert len(anonymous) == 1 and anonymous[0]["created_by_ref"] != law
    assert law not in json.dumps(anonymous) and "198.51.100.7" not in json.dumps(sightings)


def test_bad_input_is_refused_clearly(server: LiveServer, tmp_path: Path) -> None:
    missing = shieldwall(server, "law", tmp_path, "match", str(tmp_path / "nope.log"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    both = shieldwall(server, "law", tmp_path, "match", "-", "--private", "--server", stdin="")
    assert both.returncode == 2 and "choose one of" in both.stderr
    fmt = shieldwall(server, "law", tmp_path, "match", "-", "--format", "syslog-ng", stdin="")
    assert fmt.returncode == 2 and "unknown log format" in fmt.stderr
    value = shieldwall(server, "law", tmp_path, "lookup", "not a value")
    assert value.returncode == 2 and "not an IP, domain" in value.stderr
    bad = httpx.post(
        f"{server.url}/api/v1/lookup/evaluate",
        json={"blinded": ["not base64!"]},
        headers=auth(server, "law"),
        timeout=30,
    )
    assert bad.status_code == 400 and "not valid base64" in bad.text
    unknown = httpx.post(
        f"{server.url}/api/v1/match",
        json={"observables": [{"value": "1.2.3.4", "kind": "ipv4-addr:value", "extra": 1}]},
        headers=auth(server, "law"),
        timeout=30,
    )
    assert unknown.status_code == 422 or unknown.status_code == 400
    anonymous = httpx.get(f"{server.url}/api/v1/lookup/filter", timeout=30)
    assert anonymous.status_code == 401
