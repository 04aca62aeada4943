"""Warning lists on ingest and in matching, with the shipped defaults (MISP's lists)."""

from __future__ import annotations

import uuid
from pathlib import Path

import orjson
import pytest

from conftest import database_url, make_hub
from shieldwall.domain.errors import Forbidden
from shieldwall.domain.tlp import Tlp
from shieldwall.services import admin, assessment, matching, submission
from shieldwall.services.context import Hub, HubConfig


def indicator(pattern: str) -> dict[str, object]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, pattern)}",
        "created": "2023-11-01T00:00:00.000Z",
        "modified": "2023-11-01T00:00:00.000Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2023-11-01T00:00:00Z",
    }


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Hub:
    """A hub with the default configuration: warning lists on, default decay."""
    return make_hub(database_url("sqlite", tmp_path_factory.mktemp("w")), HubConfig())


BENIGN = {
    "8.8.8.8": "[ipv4-addr:value = '8.8.8.8']",
    "google.com": "[domain-name:value = 'google.com']",
    "192.0.2.0/24": "[ipv4-addr:value ISSUBSET '192.0.2.0/24']",
}
MALICIOUS = "[ipv4-addr:value = '185.220.101.47']"


def test_warning_list_hits_are_flagged_to_the_submitter(shipped: Hub) -> None:
    bank = admin.add_organisation(shipped, "Flag Bank", "financial", "US")
    objects = [indicator(p) for p in [*BENIGN.values(), MALICIOUS]]
    status = submission.submit(shipped, bank, "shared", list(objects), Tlp.GREEN, None)
    assert status.failure_count == 0
    messages = {s["id"]: s.get("message", "") for s in orjson.loads(status.details)["successes"]}
    for (value, pattern), obj in zip(BENIGN.items(), objects, strict=False):
        message = messages[str(obj["id"])]
        assert "warning list" in message and value.split("/")[0] in message, (pattern, message)
    assert messages[str(objects[-1]["id"])] == ""
    hits = assessment.warnings_of(shipped, objects[0])
    assert any("DNS resolvers" in hit.list_name for found in hits.values() for hit in found)
    documentation = assessment.hits_json(assessment.warnings_of(shipped, objects[2]))
    assert any("5735" in h["list"] or "5737" in h["list"] for h in documentation), documentation


def test_flagged_indicators_are_not_matched_until_their_submitter_confirms(shipped: Hub) -> None:
    bank = admin.add_organisation(shipped, "Match Bank", "financial", "GB")
    other = admin.add_organisation(shipped, "Other Bank", "financial", "DE")
    resolver, malicious = indicator("[ipv4-addr:value = '8.8.4.4']"), indicator(MALICIOUS)
    submission.submit(shipped, bank, "shared", [resolver, malicious], Tlp.GREEN, None)

    def matched(value: str) -> list[str]:
        return matching.indicators_for_value(shipped, other, value)

    assert matched("185.220.101.47") == [malicious["id"]]
    assert matched("8.8.4.4") == []
    with pytest.raises(Forbidden):
        assessment.confirm(shipped, other, str(resolver["id"]))
    assert matched("8.8.4.4") == []
    assessment.confirm(shipped, bank, str(resolver["id"]))
    assert matched("8.8.4.4") == [resolver["id"]]
    assert assessment.confirmed(shipped, [str(resolver["id"])]) == {resolver["id"]}


def test_warning_lists_can_be_switched_off(tmp_path: Path) -> None:
    hub = make_hub(database_url("sqlite", tmp_path), HubConfig(warninglists_max_entries=0))
    assert assessment.warnings_of(hub, indicator("[ipv4-addr:value = '8.8.8.8']")) == {}


def test_decayed_indicators_leave_matching_and_are_listed_as_excluded(shipped: Hub) -> None:
    bank = admin.add_organisation(shipped, "Decay Bank", "financial", "FR")
    fresh = indicator("[ipv4-addr:value = '194.165.16.11']")
    stale = {
        **indicator("[ipv4-addr:value = '194.165.16.12']"),
        "valid_from": "2021-01-01T00:00:00Z",
    }
    status = submission.submit(shipped, bank, "shared", [fresh, stale], Tlp.GREEN, None)
    assert status.failure_count == 0
    assert matching.indicators_for_value(shipped, bank, "194.165.16.11") == [fresh["id"]]
    assert matching.indicators_for_value(shipped, bank, "194.165.16.12") == []
    excluded = matching.excluded(shipped, bank)
    assert stale["id"] in excluded and fresh["id"] not in excluded
