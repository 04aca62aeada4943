"""``shieldwall import`` and ``shieldwall export`` against a real server: every ESET MISP
event, CSV and lists; exports polled with HTTP Basic like a firewall; a MISP feed written
to a directory and read back with pymisp."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from pymisp import MISPEvent
from stix2validator import ValidationOptions, validate_instance

from conftest import SHARED_DATA, LiveServer
from shieldwall.domain.misp import convert_misp
from shieldwall.domain.patterns import comparisons, parse_pattern

ESET = sorted((SHARED_DATA / "eset-malware-ioc").glob("*/*.json"))
TAXII = "application/taxii+json;version=2.1"
pytestmark = pytest.mark.slow


def run(server: LiveServer, who: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHIELDWALL_HUB": server.url, "SHIELDWALL_KEY": server.keys[who]}
    return subprocess.run(
        [sys.executable, "-m", "shieldwall.cli", *args],
        capture_output=True, text=True, timeout=300, check=False, env=env,
    )  # fmt: skip


def served(server: LiveServer, who: str) -> list[dict[str, Any]]:
    """Every object the member reads over TAXII in the shared collection (all pages)."""
    found: list[dict[str, Any]] = []
    params = {"limit": "1000"}
    while True:
        response = httpx.get(
            f"{server.api_root}collections/shared/objects/",
            params=params,
            headers={"Accept": TAXII, "Authorization": f"Bearer {server.keys[who]}"},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        found.extend(body.get("objects", []))
        if not body.get("more"):
            return found
        params = {"limit": "1000", "next": body["next"]}


@pytest.mark.skipif(not ESET, reason="../shared/data/eset-malware-ioc is absent")
def test_import_every_eset_event(live_server: LiveServer) -> None:
    result = run(live_server, "law", "import", *map(str, ESET))
    assert result.returncode == 2, result.stderr  # two files cannot be read
    assert "malicious_pypi_packages.misp-event.json: not JSON: line 37374 column 9" in result.stderr
    assert "rqz-dnsduvel_blocklist.json: not a MISP event" in result.stderr
    readable = [p for p in ESET if "pypi_backdoor" not in str(p) and "dnsbirthday" not in str(p)]
    for path in readable:
        assert f"{path}: misp," in result.stdout, result.stdout
    assert " 0 refused" in result.stdout
    objects = served(live_server, "law")
    by_id = {obj["id"]: obj for obj in objects}
    outcome = validate_instance(
        {
            "type": "bundle",
            "id": "bundle--0b0d2a6f-3b8e-4d4c-8a53-1f7a3e0c9d11",
            "objects": objects,
        },
        ValidationOptions(version="2.1"),
    )
    assert outcome.is_valid, [str(e) for e in outcome.errors][:5]
    identity = httpx.get(
        f"{live_server.url}/api/v1/me",
        headers={"Authorization": f"Bearer {live_server.keys['law']}"},
    ).json()["identity_id"]
    checked = 0
    for path in readable:
        for event in convert_misp(path.read_bytes(), created_by_ref=identity):
            assert event.report_id in by_id
            for attribute_uuid, ids in event.attribute_objects.items():
                for stix_id in ids:
                    assert stix_id in by_id, (path, attribute_uuid)
            for obj in event.objects:
                if obj["type"] != "indicator":
                    continue
                stored = by_id[str(obj["id"])]
                assert stored["pattern"] == obj["pattern"]
                assert comparisons(parse_pattern(stored["pattern"]))
                checked += 1
    assert checked > 100
    raw = _to_ids_values(readable)
    patterns = " ".join(o["pattern"] for o in objects if o["type"] == "indicator")
    missing = [value for value in raw if value not in patterns]
    assert not missing, missing[:10]


def _to_ids_values(paths: list[Path]) -> list[str]:
    """The plain values (no composite types) of every to_ids attribute, read from the JSON
    without the converter, for types whose value stands as written in a pattern."""
    simple = {"ip-src", "ip-dst", "domain", "hostname", "url", "md5", "sha1", "sha256"}
    found = []
    for path in paths:
        data = orjson.loads(path.read_bytes())
        wrappers = data.get("response", [data]) if isinstance(data, dict) else data
        for wrapper in wrappers:
            event = wrapper["Event"]
            attributes = list(event.get("Attribute") or [])
            for misp_object in event.get("Object") or []:
                attributes.extend(misp_object.get("Attribute") or [])
            for attribute in attributes:
                if attribute.get("to_ids") and attribute["type"] in simple:
                    value = attribute["value"].strip()
                    if "'" not in value and "\\" not in value:
                        found.append(value if attribute["type"] != "domain" else value.lower())
    assert len(found) > 100
    return found


def test_import_lists_and_csv_then_poll_exports(live_server: LiveServer, tmp_path: Path) -> None:
    listing = tmp_path / "block.txt"
    listing.write_text(
        "# firewall list\n198.51.100[.]77\n\nhxxp://e2e-evil[.]example/x\nbad line!\n"
    )
    table = tmp_path / "iocs.csv"
    table.write_text("indicator,type,comment\ne2e-c2.example.org,domain,C2\n2001:db8::77,ip-dst,\n")
    truncated = tmp_path / "broken.json"
    truncated.write_text('{"type": "bundle", "objects": [')
    result = run(live_server, "gb-bank", "import", "--tlp", "amber", "--country", "GB",
                 str(listing), str(table), str(truncated))  # fmt: skip
    assert result.returncode == 2
    assert f"{listing}: list, 2 objects sent, 2 stored, 0 refused, 1 skipped." in result.stdout
    assert "line 5: not an observable value: bad line!" in result.stdout
    assert f"{table}: csv, 2 objects sent, 2 stored" in result.stdout
    assert f"{truncated}: not JSON: line 1" in result.stderr
    # a firewall polls with HTTP Basic, the key as password
    auth = ("firewall", live_server.keys["gb-bank"])
    base = f"{live_server.url}/api/v1/exports"
    response = httpx.get(f"{base}/lists/ipv4.txt", auth=auth)
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    assert "198.51.100.77" in response.text.splitlines()
    assert response.headers["content-type"].startswith("text/plain")
    domains = httpx.get(f"{base}/lists/domain.txt", auth=auth).text.splitlines()
    assert "e2e-c2.example.org" in domains
    # a US member may not read the GB-scoped values
    us = ("firewall", live_server.keys["us-bank"])
    assert "198.51.100.77" not in httpx.get(f"{base}/lists/ipv4.txt", auth=us).text
    assert "e2e-c2.example.org" not in httpx.get(f"{base}/indicators.csv", auth=us).text
    assert httpx.get(f"{base}/lists/ipv4.txt").status_code == 401
    assert httpx.get(f"{base}/lists/ipv4.txt", auth=("x", "wrong")).status_code == 401
    assert httpx.get(f"{base}/lists/mutex.txt", auth=auth).status_code == 400
    assert httpx.get(f"{base}/indicators.csv?type=nope", auth=auth).status_code == 400
    for path in ("indicators.csv", "suricata.rules", "snort.rules", "bundle.json"):
        assert httpx.get(f"{base}/{path}", auth=auth).status_code == 200, path
    # the CLI writes a MISP feed directory that pymisp reads back
    feed = tmp_path / "feed"
    result = run(live_server, "gb-bank", "export", "misp", "--out", str(feed))
    assert result.returncode == 0, result.stderr
    manifest = orjson.loads((feed / "manifest.json").read_bytes())
    values = {}
    attributes = 0
    for event_uuid, header in manifest.items():
        event = MISPEvent()
        event.load_file(str(feed / f"{event_uuid}.json"))
        assert event.info == header["info"]
        attributes += len(event.attributes)
        for attribute in event.attributes:
            values[attribute.value] = (
                attribute.type,
                attribute.to_ids,
                [t.name for t in attribute.tags],
            )
    assert values["198.51.100.77"] == ("ip-dst", True, ["tlp:amber"])
    assert values["e2e-c2.example.org"] == ("domain", True, ["tlp:amber"])
    assert (feed / "hashes.csv").read_text().count("\n") == attributes
    result = run(live_server, "gb-bank", "export", "ipv6")
    assert result.returncode == 0 and "2001:db8::77" in result.stdout.splitlines()
