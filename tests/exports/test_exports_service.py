"""Exports through the policy path (``services.exports``): content, policy, expiry, rules
syntax and escaping, the MISP feed read back with pymisp."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import orjson
import pytest
from exports_support import check_rules, indicator
from pymisp import MISPEvent
from stix2validator import ValidationOptions, validate_instance

from shieldwall.domain.errors import InvalidInput, NotFound
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.scope import make_scope
from shieldwall.domain.tlp import Tlp
from shieldwall.services import admin, audit, exports, submission
from shieldwall.services.context import Hub
from shieldwall.services.exports import Filters

LIVE = Filters()


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


IP = indicator("[ipv4-addr:value = '198.51.100.7']", confidence=80)
NET = indicator("[ipv4-addr:value = '203.0.113.0/24']")
DOMAIN = indicator("[domain-name:value = 'evil.example.com']")
URL = indicator("[url:value = 'http://evil.example.com/dl/a.exe?x=1']")
HASH = indicator("[file:hashes.'SHA-256' = '" + "ab" * 32 + "']")
RED = indicator("[domain-name:value = 'red-only.example.net']")
US_ONLY = indicator("[ipv6-addr:value = '2001:db8::7']")
EXPIRED = indicator("[ipv4-addr:value = '192.0.2.99']", valid_until="2022-01-01T00:00:00Z")


@pytest.fixture
def community(sqlite_hub: Hub) -> Community:
    found = Community(sqlite_hub)
    submit(sqlite_hub, found.us_bank, [IP, NET, DOMAIN, URL, HASH, EXPIRED], Tlp.GREEN)
    submit(sqlite_hub, found.us_bank, [US_ONLY], Tlp.AMBER, countries=["US"])
    submit(sqlite_hub, found.gb_bank, [RED], Tlp.RED, organizations=[found.gb_bank.identity_id])
    report = {
        "type": "report",
        "spec_version": "2.1",
        "id": "report--6f3e4a60-5f3a-4b6c-9f39-7c5e2f1d1a01",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "name": "Campaign X",
        "published": "2024-01-02T00:00:00Z",
        "object_refs": [IP["id"], DOMAIN["id"], EXPIRED["id"]],
    }
    submit(sqlite_hub, found.us_bank, [report], Tlp.GREEN)
    return found


def csv_rows(hub: Hub, reader: Organisation, filters: Filters = LIVE) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(exports.csv_export(hub, reader, filters))))


def test_csv_holds_one_row_per_value_with_scores(sqlite_hub: Hub, community: Community) -> None:
    rows = csv_rows(sqlite_hub, community.law)
    by_value = {row["value"]: row for row in rows}
    assert set(by_value) == {
        "198.51.100.7", "203.0.113.0/24", "evil.example.com",
        "http://evil.example.com/dl/a.exe?x=1", "ab" * 32, "2001:db8::7",
    }  # fmt: skip
    row = by_value["198.51.100.7"]
    assert row["id"] == IP["id"] and row["kind"] == "ipv4" and row["tlp"] == "TLP:GREEN"
    assert row["confidence"] == "80" and float(row["score"]) > 0 and row["expires_at"]
    assert row["pattern"] == IP["pattern"] and row["created"] == "2024-01-01T00:00:00.000Z"


def test_exports_follow_the_policy(sqlite_hub: Hub, community: Community) -> None:
    for reader, sees_red, sees_us in [
        (community.us_bank, False, True),
        (community.law, False, True),
        (community.gb_bank, True, False),
    ]:
        ids = {row["id"] for row in csv_rows(sqlite_hub, reader)}
        assert (RED["id"] in ids) is sees_red
        assert (US_ONLY["id"] in ids) is sees_us
        domains = exports.list_export(sqlite_hub, reader, "domain", LIVE).split()
        assert ("red-only.example.net" in domains) is sees_red
        bundle = exports.bundle_export(sqlite_hub, reader, LIVE)
        assert (RED["id"] in {o["id"] for o in bundle["objects"]}) is sees_red  # type: ignore[attr-defined]
        feed = exports.misp_feed(sqlite_hub, reader, LIVE)
        values = {str(a["value"]) for _, a in feed.attributes()}
        assert ("red-only.example.net" in values) is sees_red
        assert ("2001:db8::7" in values) is sees_us


def test_expired_left_out_unless_asked(sqlite_hub: Hub, community: Community) -> None:
    assert "192.0.2.99" not in exports.list_export(sqlite_hub, community.law, "ipv4", LIVE)
    every = Filters(include_expired=True)
    assert "192.0.2.99" in exports.list_export(sqlite_hub, community.law, "ipv4", every).split()
    revoked = dict(NET, modified="2024-02-01T00:00:00.000Z", revoked=True)
    submit(sqlite_hub, community.us_bank, [revoked], Tlp.GREEN)
    assert "203.0.113.0/24" not in exports.list_export(sqlite_hub, community.law, "ipv4", every)


def test_lists_filters_and_kinds(sqlite_hub: Hub, community: Community) -> None:
    law = community.law
    assert exports.list_export(sqlite_hub, law, "ipv4", LIVE) == "198.51.100.7\n203.0.113.0/24\n"
    assert exports.list_export(sqlite_hub, law, "url", LIVE) == "evil.example.com/dl/a.exe?x=1\n"
    assert exports.list_export(sqlite_hub, law, "sha256", LIVE) == "ab" * 32 + "\n"
    assert exports.list_export(sqlite_hub, law, "ipv6", LIVE) == "2001:db8::7\n"
    only_ip = csv_rows(sqlite_hub, law, Filters(kinds=frozenset({"ipv4"})))
    assert {row["kind"] for row in only_ip} == {"ipv4"}
    assert csv_rows(sqlite_hub, law, Filters(min_score=101)) == []
    with pytest.raises(InvalidInput, match="no list of kind"):
        exports.list_export(sqlite_hub, law, "mutex", LIVE)


def test_bundle_is_valid_stix(sqlite_hub: Hub, community: Community) -> None:
    bundle = exports.bundle_export(sqlite_hub, community.gb_bank, LIVE)
    outcome = validate_instance(bundle, ValidationOptions(version="2.1"))
    assert outcome.is_valid, [str(e) for e in outcome.errors]
    markings = {o["id"]: o["object_marking_refs"] for o in bundle["objects"]}  # type: ignore[attr-defined]
    assert markings[RED["id"]] == [Tlp.RED.marking_id]


def test_misp_feed_reads_back_with_pymisp(sqlite_hub: Hub, community: Community) -> None:
    feed = exports.misp_feed(sqlite_hub, community.law, LIVE)
    manifest = feed.manifest()
    assert set(manifest) == set(feed.events)
    report_event = feed.events["6f3e4a60-5f3a-4b6c-9f39-7c5e2f1d1a01"]
    event = MISPEvent()
    event.load(orjson.dumps(report_event).decode())
    assert event.info == "Campaign X" and str(event.date) == "2024-01-02"
    assert sorted((a.type, a.value, a.to_ids) for a in event.attributes) == [
        ("domain", "evil.example.com", True),
        ("ip-dst", "198.51.100.7", True),
    ]
    assert [t.name for t in event.tags] == ["tlp:green"]
    assert all([t.name for t in a.tags] == ["tlp:green"] for a in event.attributes)
    seen: dict[str, tuple[str, bool]] = {}
    for event_uuid, wrapped in feed.events.items():
        loaded = MISPEvent()
        loaded.load(orjson.dumps(wrapped).decode())
        assert loaded.uuid == event_uuid
        assert manifest[event_uuid]["info"] == loaded.info  # type: ignore[index]
        for attribute in loaded.attributes:
            seen[attribute.value] = (attribute.type, attribute.to_ids)
    assert seen["2001:db8::7"] == ("ip-dst", True)
    assert seen["ab" * 32] == ("sha256", True)
    assert seen["http://evil.example.com/dl/a.exe?x=1"] == ("url", True)
    assert "192.0.2.99" not in seen
    assert len(feed.hashes_csv().splitlines()) == len(seen)
    with pytest.raises(NotFound):
        exports.misp_event(sqlite_hub, community.law, "0" * 32, LIVE)
    # with expired indicators, their attributes are not for IDS
    every = exports.misp_feed(sqlite_hub, community.law, Filters(include_expired=True))
    assert [a["to_ids"] for _, a in every.attributes() if a["value"] == "192.0.2.99"] == [False]
    again = exports.misp_feed(sqlite_hub, community.law, LIVE)
    assert again.events == feed.events  # deterministic uuids and content


def test_rules_parse_and_cover_network_values(
    sqlite_hub: Hub, community: Community, tmp_path: Path
) -> None:
    for flavour in ("suricata", "snort"):
        text = exports.rules_export(sqlite_hub, community.law, flavour, LIVE)
        rules = check_rules(text)
        assert len(rules) == 2 + 2 + 2 + 1 + 1  # two IP values, one IPv6: both ways
        assert "[203.0.113.0/24]" in text and "[2001:db8::7]" in text
        tagged = ("metadata", f"shieldwall_id {IP['id']}, tlp green")
        assert sum(tagged in options for _, options in rules) == 2  # both directions
        again = exports.rules_export(sqlite_hub, community.law, flavour, LIVE)
        assert again == text  # stable sids
    suricata = exports.rules_export(sqlite_hub, community.law, "suricata", LIVE)
    assert 'dns.query; dotprefix; content:".evil.example.com"; nocase; endswith;' in suricata
    assert 'http.uri; content:"/dl/a.exe?x=1"; startswith;' in suricata
    snort = exports.rules_export(sqlite_hub, community.law, "snort", LIVE)
    assert 'content:"|04|evil|07|example|03|com|00|"' in snort
    if shutil.which("suricata"):  # not installable here; the checker above stands in
        path = tmp_path / "shieldwall.rules"
        path.write_text(suricata)
        subprocess.run(["suricata", "-T", "-S", str(path)], check=True)


def test_hostile_values_cannot_inject_rule_options(sqlite_hub: Hub, community: Community) -> None:
    hostile = [
        indicator(
            "[domain-name:value = 'a\";sid:1;pcre:\"x.example.com']",
            name='evil"; sid:1; msg:"owned',
        ),
        indicator("[url:value = 'http://b.example.com/p;a|b\\\\c\"d e']"),
    ]
    submit(sqlite_hub, community.us_bank, hostile, Tlp.GREEN)
    for flavour in ("suricata", "snort"):
        text = exports.rules_export(sqlite_hub, community.law, flavour, LIVE)
        rules = check_rules(text)
        for _, options in rules:
            assert [v for n, v in options if n == "sid"] and sum(
                n == "sid" for n, _ in options
            ) == 1
            assert not any(name == "pcre" for name, _ in options)
        assert "|3B|" in text and "|22|" in text and "|7C|" in text


def test_exports_are_audited_once_per_interval(sqlite_hub: Hub, community: Community) -> None:
    exports.csv_export(sqlite_hub, community.gb_bank, LIVE)
    exports.csv_export(sqlite_hub, community.gb_bank, LIVE)
    entries = [e for e in audit.entries(sqlite_hub) if e.action == "export"]
    assert len([e for e in entries if e.actor == "GB Bank"]) == 1
