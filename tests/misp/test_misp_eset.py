"""The MISP converter on ESET's published MISP events (``../shared/data/eset-malware-ioc``).

Every readable event converts; every ``to_ids`` attribute of a type with a STIX pattern is
an indicator whose pattern compares with its value(s), counted against an independent walk
of the JSON; every attribute is represented or skipped with a reason; everything validates
with stix2-validator and the hub's validator; the unreadable files fail with a clear
message; converting twice gives the same ids.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from misp_support import IMPORTER, assert_valid, values

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.misp import ConvertedEvent, convert_misp

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "eset-malware-ioc"
FILES = sorted(DATA.glob("*/*.json"))
pytestmark = pytest.mark.skipif(not FILES, reason="../shared/data/eset-malware-ioc is absent")

# MISP types whose to_ids attributes must become STIX-pattern indicators.
PATTERN_TYPES = {
    "ip-src", "ip-dst", "ip-src|port", "ip-dst|port", "hostname|port", "domain", "hostname",
    "domain|ip", "url", "uri", "email", "email-src", "email-dst", "email-subject", "md5",
    "sha1", "sha224", "sha256", "sha384", "sha512", "ssdeep", "imphash", "tlsh",
    "authentihash", "filename", "mutex", "regkey", "regkey|value", "user-agent", "AS",
    "mac-address", "x509-fingerprint-sha1", "x509-fingerprint-sha256", "x509-fingerprint-md5",
    "btc", "port",
}  # fmt: skip


def has_pattern(kind: str) -> bool:
    return kind in PATTERN_TYPES or kind.startswith("filename|")


HIVES = {"HKLM": "HKEY_LOCAL_MACHINE", "HKCU": "HKEY_CURRENT_USER", "HKCR": "HKEY_CLASSES_ROOT",
         "HKU": "HKEY_USERS", "HKCC": "HKEY_CURRENT_CONFIG"}  # fmt: skip


@cache
def converted(path: Path) -> tuple[ConvertedEvent, ...] | InvalidInput:
    try:
        return tuple(convert_misp(path.read_bytes(), created_by_ref=IMPORTER))
    except InvalidInput as error:
        return error


def raw_events(path: Path) -> list[dict[str, Any]] | None:
    """The events of a file, found without the converter (None: not JSON or not MISP)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None
    wrappers = data.get("response", [data]) if isinstance(data, dict) else data
    return [
        item["Event"] for item in wrappers if isinstance(item, dict) and "Event" in item
    ] or None


def all_attributes(event: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(event.get("Attribute") or [])
    for misp_object in event.get("Object") or []:
        found.extend(misp_object.get("Attribute") or [])
    return found


def expected_values(kind: str, value: str) -> list[object]:
    """What a correct pattern compares with, from MISP's own definition of the type."""
    if kind.startswith("filename|"):
        parts = [part.strip() for part in value.rsplit("|", 1)]
    elif "|" in kind:
        parts = [part.strip() for part in value.split("|", 1)]
    else:
        parts = [value.strip()]
    if kind.startswith("regkey"):
        hive, _, rest = parts[0].partition("\\")
        parts[0] = f"{HIVES.get(hive.upper(), hive)}\\{rest}" if rest else parts[0]
    if kind.endswith("|port"):
        return [parts[0], int(parts[1])]
    return list(parts)


def test_the_sample_is_there() -> None:
    readable = [path for path in FILES if raw_events(path)]
    assert len(FILES) >= 15 and len(readable) >= 12


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.parent.name + "/" + path.name)
def test_every_readable_event_converts(path: Path) -> None:
    events = raw_events(path)
    result = converted(path)
    if events is None:
        assert isinstance(result, InvalidInput)
        assert result.message.startswith(("not JSON: line ", "not a MISP event: no Event"))
        return
    assert not isinstance(result, InvalidInput), result.message
    assert [converted_event.event_uuid for converted_event in result] == [
        event["uuid"] for event in events
    ]
    for event, converted_event in zip(events, result, strict=True):
        check_event(event, converted_event)
    assert_valid(result)


def check_event(event: dict[str, Any], result: ConvertedEvent) -> None:
    attrs = all_attributes(event)
    assert len(result.attribute_objects) + len(result.links) + len(result.skipped) == len(attrs)
    objects = {obj["id"]: obj for obj in result.objects}
    report = result.objects[0]
    assert set(report["object_refs"]) == set(objects) - {report["id"]}  # type: ignore[call-overload]
    for attr in attrs:
        if not attr.get("to_ids") or not has_pattern(attr["type"]):
            continue
        ids = result.attribute_objects.get(attr["uuid"])
        assert ids is not None, (attr, [s for s in result.skipped if s.uuid == attr["uuid"]])
        (indicator,) = (objects[oid] for oid in ids)
        assert indicator["type"] == "indicator"
        compared = values(str(indicator["pattern"]))
        for part in expected_values(attr["type"], attr["value"]):
            assert part in compared, (attr, indicator["pattern"])
    for skipped in result.skipped:
        assert skipped.reason


def test_the_truncated_download_is_reported_with_its_position() -> None:
    (path,) = DATA.glob("pypi_backdoor/*.json")
    result = converted(path)
    assert isinstance(result, InvalidInput)
    assert result.message == "not JSON: line 37374 column 9: Expecting value"


def test_a_json_file_that_is_no_misp_event_is_named() -> None:
    (path,) = DATA.glob("dnsbirthday/*.json")
    result = converted(path)
    assert isinstance(result, InvalidInput)
    assert result.message.startswith("not a MISP event: no Event")


def test_counts_over_the_sample() -> None:
    """Every to_ids attribute of a pattern type is an indicator: the totals agree."""
    totals: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for path in FILES:
        events, result = raw_events(path), converted(path)
        if events is None or isinstance(result, InvalidInput):
            continue
        for event, converted_event in zip(events, result, strict=True):
            attrs = all_attributes(event)
            totals["events"] += 1
            totals["attributes"] += len(attrs)
            totals["to_ids"] += sum(1 for attr in attrs if attr.get("to_ids"))
            totals["to_ids with a pattern type"] += sum(
                1 for attr in attrs if attr.get("to_ids") and has_pattern(attr["type"])
            )
            totals["indicators"] += sum(
                1 for obj in converted_event.objects if obj["type"] == "indicator"
            )
            totals["skipped"] += len(converted_event.skipped)
            reasons.update(f"{skip.type}: {skip.reason}" for skip in converted_event.skipped)
    assert totals["indicators"] == totals["to_ids with a pattern type"] > 0
    assert totals["skipped"] == sum(reasons.values()) < totals["attributes"]


def test_converting_again_gives_the_same_objects() -> None:
    path = next(path for path in FILES if raw_events(path))
    first = convert_misp(path.read_bytes(), created_by_ref=IMPORTER)
    assert first == list(converted(path))  # type: ignore[arg-type]
