"""Tests for ``shieldwall.domain.stix_validation``, cross-checked against stix2-validator.

Our validator is meant to be at least as strict as ``stix2-validator`` (2.1, default
options) and stricter only where the STIX 2.1 spec requires it. Where the two disagree on
a case in ``INVALID``, ``reference_rejects`` is False and a comment says why we keep our
check. Known places where we are *more lenient* than the reference (none of them reachable
by the mutation test below):

- ``lang`` and language-content keys are checked for RFC 5646 *syntax*, not against the
  reference's list of registered codes; ``software.cpe`` is not parsed as CPE 2.3; domain
  names, email addresses, URLs and IPv6 addresses get light syntax checks, not the
  reference's idna / rfc3987 format checkers; TLSH digests may carry the "T1" prefix.
- Granular markings with ``lang`` instead of ``marking_ref`` are accepted (§7.2.3 allows
  exactly one of the two; the reference schema insists on ``marking_ref``).
- An external reference whose ``external_id`` looks like a CVE/CAPEC id under another
  ``source_name`` (e.g. "nvd") is accepted; the reference rejects it, the spec does not.
- Observed Data's deprecated ``objects`` is only checked for shape, not object by object.
- ``windows-registry-key`` may carry only ``modified_time``: the reference's "at least one
  property" list names ``modified``, which is not a property of that type.
"""

from __future__ import annotations

import copy
import glob
import json
import os
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stix2validator import ValidationOptions, validate_instance

from shieldwall.domain.errors import InvalidStix
from shieldwall.domain.stix_validation import ValidObject, validate_object

EXAMPLES_DIR = "/work/shared/data/oasis-examples"
_REFERENCE_OPTIONS = ValidationOptions(version="2.1")


def reference_accepts(obj: object) -> bool:
    """stix2-validator's verdict (2.1, default options); a crash counts as a rejection."""
    try:
        return bool(validate_instance(obj, _REFERENCE_OPTIONS).is_valid)
    except Exception:
        return False


def we_accept(obj: object) -> bool:
    try:
        validate_object(obj)
    except InvalidStix:
        return False
    return True


def _load_examples() -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(glob.glob(os.path.join(EXAMPLES_DIR, "*.json"))):
        with open(path, encoding="utf-8") as handle:
            bundle = json.load(handle)
        name = os.path.basename(path).removesuffix(".json")
        found.extend((f"{name}[{i}]", obj) for i, obj in enumerate(bundle["objects"]))
    return found


EXAMPLES = _load_examples()
EXAMPLE_OBJECTS = [obj for _, obj in EXAMPLES]


def test_examples_were_found() -> None:
    assert len(EXAMPLES) > 100


# ------------------------------------------------------------------------ valid objects


@pytest.mark.parametrize("obj", EXAMPLE_OBJECTS, ids=[label for label, _ in EXAMPLES])
def test_oasis_example_validates(obj: dict[str, Any]) -> None:
    result = validate_object(obj)
    assert result.id == obj["id"]
    assert result.type == obj["type"]
    assert reference_accepts(obj)


T0 = "2024-01-31T12:00:00.000Z"
T1 = "2024-02-01T08:30:00.123Z"
_counter = iter(range(1, 10_000))


def sid(type_name: str, number: int | None = None) -> str:
    """A STIX id with a version 4 UUID, unique per call unless ``number`` is given."""
    n = next(_counter) if number is None else number
    return f"{type_name}--{n:08x}-1111-4111-8111-111111111111"


IDENTITY = sid("identity")
STATEMENT = sid("marking-definition")
EXTDEF = "extension-definition--a932fcc6-e032-476c-826f-cb970a5a1ade"
TLP_WHITE = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
TLP2_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"


def sdo(type_name: str, **props: Any) -> dict[str, Any]:
    return {
        "type": type_name,
        "spec_version": "2.1",
        "id": sid(type_name),
        "created": T0,
        "modified": T0,
        **props,
    }


def sco(type_name: str, **props: Any) -> dict[str, Any]:
    return {"type": type_name, "spec_version": "2.1", "id": sid(type_name), **props}


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(base), **changes}


def without(base: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in base.items() if k not in names}


INDICATOR = sdo(
    "indicator",
    name="C2 address",
    pattern="[ipv4-addr:value = '198.51.100.7']",
    pattern_type="stix",
    valid_from="2024-01-01T00:00:00Z",
)
MALWARE = sdo("malware", name="Poison Ivy", is_family=True)
REPORT = sdo("report", name="APT1", published=T1, object_refs=[INDICATOR["id"]])
STATEMENT_MARKING = {
    "type": "marking-definition",
    "spec_version": "2.1",
    "id": STATEMENT,
    "created": T0,
    "definition_type": "statement",
    "definition": {"statement": "Copyright 2024 Example Corp"},
}
TLP_WHITE_MARKING = {
    "type": "marking-definition",
    "spec_version": "2.1",
    "id": TLP_WHITE,
    "created": "2017-01-20T00:00:00.000Z",
    "definition_type": "tlp",
    "name": "TLP:WHITE",
    "definition": {"tlp": "white"},
}
TLP2_CLEAR_MARKING = {
    "type": "marking-definition",
    "spec_version": "2.1",
    "id": TLP2_CLEAR,
    "created": "2022-10-01T00:00:00.000Z",
    "name": "TLP:CLEAR",
    "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": "clear"}},
}
CUSTOM_SDO = {
    "type": "x-example-weakness",
    "spec_version": "2.1",
    "id": sid("x-example-weakness"),
    "created": T0,
    "modified": T0,
    "name": "CWE-79",
    "extensions": {EXTDEF: {"extension_type": "new-sdo"}},
}
FILE = sco("file", name="dropper.exe", hashes={"SHA-256": "ab" * 32}, size=1024)

VALID: list[Any] = [
    pytest.param(
        sdo(
            "attack-pattern",
            name="Spear phishing",
            external_references=[{"source_name": "capec", "external_id": "CAPEC-163"}],
            kill_chain_phases=[{"kill_chain_name": "lockheed", "phase_name": "delivery"}],
        ),
        id="attack-pattern",
    ),
    pytest.param(
        sdo("campaign", name="Op X", first_seen=T0, last_seen=T0, aliases=["X"]), id="campaign"
    ),
    pytest.param(sdo("course-of-action", name="Block it"), id="course-of-action"),
    pytest.param(
        sdo("grouping", context="suspicious-activity", object_refs=[INDICATOR["id"]]),
        id="grouping",
    ),
    pytest.param(
        sdo("identity", name="ACME", identity_class="organization", sectors=["technology"]),
        id="identity",
    ),
    pytest.param(sdo("incident", name="Breach 42"), id="incident"),
    pytest.param(INDICATOR, id="indicator"),
    pytest.param(
        with_(
            INDICATOR,
            pattern_type="sigma",
            pattern="title: anything, not STIX",
            valid_until="2024-06-01T00:00:00Z",
            confidence=85,
            labels=["c2"],
            created_by_ref=IDENTITY,
            object_marking_refs=[TLP_WHITE, STATEMENT],
            lang="en",
        ),
        id="indicator-sigma-with-common-properties",
    ),
    pytest.param(sdo("infrastructure", name="C2 farm"), id="infrastructure"),
    pytest.param(
        sdo("intrusion-set", name="APT1", first_seen=T0, goals=["theft"]), id="intrusion-set"
    ),
    pytest.param(sdo("location", region="northern-america"), id="location-region"),
    pytest.param(
        sdo("location", latitude=48.85, longitude=2.35, precision=1000.0), id="location-point"
    ),
    pytest.param(MALWARE, id="malware-family"),
    pytest.param(sdo("malware", is_family=False, sample_refs=[FILE["id"]]), id="malware-instance"),
    pytest.param(
        sdo("malware-analysis", product="sandbox", result="malicious", sample_ref=FILE["id"]),
        id="malware-analysis",
    ),
    pytest.param(sdo("note", content="See also", object_refs=[MALWARE["id"]]), id="note"),
    pytest.param(
        sdo(
            "observed-data",
            first_observed=T0,
            last_observed=T1,
            number_observed=3,
            object_refs=[FILE["id"]],
        ),
        id="observed-data",
    ),
    pytest.param(sdo("opinion", opinion="agree", object_refs=[INDICATOR["id"]]), id="opinion"),
    pytest.param(REPORT, id="report"),
    pytest.param(sdo("threat-actor", name="Joker", roles=["agent"]), id="threat-actor"),
    pytest.param(sdo("tool", name="mimikatz"), id="tool"),
    pytest.param(
        sdo(
            "vulnerability",
            name="CVE-2016-1234",
            external_references=[{"source_name": "cve", "external_id": "CVE-2016-1234"}],
        ),
        id="vulnerability",
    ),
    pytest.param(
        sdo(
            "relationship",
            relationship_type="uses",
            source_ref=MALWARE["id"],
            target_ref=sid("attack-pattern"),
            start_time=T0,
            stop_time=T1,
        ),
        id="relationship",
    ),
    pytest.param(
        sdo(
            "sighting",
            sighting_of_ref=INDICATOR["id"],
            where_sighted_refs=[IDENTITY],
            count=2,
            first_seen=T0,
            last_seen=T1,
        ),
        id="sighting",
    ),
    pytest.param(STATEMENT_MARKING, id="marking-statement"),
    pytest.param(TLP_WHITE_MARKING, id="marking-tlp1-white"),
    pytest.param(TLP2_CLEAR_MARKING, id="marking-tlp2-clear"),
    pytest.param(
        sdo(
            "language-content",
            object_ref=MALWARE["id"],
            object_modified=T0,
            contents={"de": {"name": "Giftefeu"}},
        ),
        id="language-content",
    ),
    pytest.param(
        sdo(
            "extension-definition",
            created_by_ref=IDENTITY,
            name="weakness",
            schema="https://example.com/weakness.json",
            version="1.0",
            extension_types=["new-sdo"],
        ),
        id="extension-definition",
    ),
    pytest.param(CUSTOM_SDO, id="custom-sdo"),
    pytest.param(
        {
            "type": "x-example-thing",
            "id": sid("x-example-thing"),
            "value": "x",
            "extensions": {EXTDEF: {"extension_type": "new-sco"}},
        },
        id="custom-sco",
    ),
    pytest.param(
        with_(
            INDICATOR,
            x_acme_score=7,
            extensions={EXTDEF: {"extension_type": "toplevel-property-extension"}},
        ),
        id="toplevel-property-extension",
    ),
    pytest.param(
        with_(
            INDICATOR,
            labels=["a", "b"],
            granular_markings=[
                {"marking_ref": TLP_WHITE, "selectors": ["labels.[1]", "name"]},
            ],
        ),
        id="granular-marking",
    ),
    pytest.param(sco("artifact", payload_bin="aGVsbG8="), id="artifact"),
    pytest.param(sco("autonomous-system", number=64496, name="EXAMPLE"), id="autonomous-system"),
    pytest.param(sco("directory", path="C:\\Windows"), id="directory"),
    pytest.param(sco("domain-name", value="example.com"), id="domain-name"),
    pytest.param(sco("email-addr", value="joe@example.com"), id="email-addr"),
    pytest.param(
        sco("email-message", is_multipart=False, subject="hi", body="hello"), id="email-message"
    ),
    pytest.param(FILE, id="file"),
    pytest.param(
        with_(FILE, extensions={"ntfs-ext": {"sid": "S-1-5-21"}}), id="file-with-ntfs-ext"
    ),
    pytest.param(sco("ipv4-addr", value="198.51.100.0/24"), id="ipv4-addr"),
    pytest.param(sco("ipv6-addr", value="2001:db8::1"), id="ipv6-addr"),
    pytest.param(sco("mac-addr", value="d2:fb:49:24:37:18"), id="mac-addr"),
    pytest.param(sco("mutex", name="__CLEANSWEEP__"), id="mutex"),
    pytest.param(
        sco(
            "network-traffic",
            src_ref=sid("ipv4-addr"),
            dst_port=443,
            protocols=["ipv4", "tcp"],
            start=T0,
            end=T1,
        ),
        id="network-traffic",
    ),
    pytest.param(sco("process", pid=1221, command_line="calc.exe"), id="process"),
    pytest.param(sco("software", name="Word", vendor="Microsoft"), id="software"),
    pytest.param(sco("url", value="https://example.com/research/index.html"), id="url"),
    pytest.param(sco("user-account", user_id="1001"), id="user-account"),
    pytest.param(
        sco(
            "windows-registry-key",
            key="HKEY_LOCAL_MACHINE\\System\\Foo",
            values=[{"name": "Foo", "data": "qwerty", "data_type": "REG_SZ"}],
        ),
        id="windows-registry-key",
    ),
    pytest.param(sco("x509-certificate", serial_number="36:f7:d4:32"), id="x509-certificate"),
    pytest.param(without(sco("url", value="https://example.com/"), "spec_version"), id="sco-no-sv"),
]


@pytest.mark.parametrize("obj", VALID)
def test_valid_object_validates(obj: dict[str, Any]) -> None:
    validate_object(obj)
    assert reference_accepts(obj)


def test_result_of_an_indicator() -> None:
    assert validate_object(INDICATOR) == ValidObject(
        id=INDICATOR["id"],
        type="indicator",
        spec_version="2.1",
        created_micros=1706702400000000,
        modified_micros=1706702400000000,
        pattern="[ipv4-addr:value = '198.51.100.7']",
    )


def test_result_of_a_non_stix_pattern_has_no_pattern() -> None:
    assert validate_object(with_(INDICATOR, pattern_type="yara", pattern="rule x")).pattern is None


def test_result_of_a_marking_definition_and_an_sco() -> None:
    marking = validate_object(STATEMENT_MARKING)
    assert (marking.created_micros, marking.modified_micros) == (1706702400000000, None)
    observable = validate_object(without(FILE, "spec_version"))
    assert (observable.created_micros, observable.modified_micros) == (None, None)
    assert observable.spec_version == "2.1"


def test_error_carries_the_object_id() -> None:
    bad = with_(INDICATOR, valid_until="2023-01-01T00:00:00Z")
    with pytest.raises(InvalidStix) as caught:
        validate_object(bad)
    assert caught.value.object_id == INDICATOR["id"]
    assert caught.value.message == (f"{INDICATOR['id']}: valid_until must be later than valid_from")


def test_error_without_a_usable_id_has_no_object_id() -> None:
    with pytest.raises(InvalidStix) as caught:
        validate_object(with_(INDICATOR, id="indicator--not-a-uuid"))
    assert caught.value.object_id is None


# ---------------------------------------------------------------------- invalid objects

U = "11111111-1111-4111-8111-111111111111"

# (object, message fragment, does stix2-validator reject it too?)
INVALID: list[Any] = [
    # -- JSON shape, type, id
    pytest.param(["not", "an", "object"], "must be a JSON object", True, id="not-an-object"),
    pytest.param(without(INDICATOR, "type"), "has no type property", True, id="no-type"),
    pytest.param(with_(INDICATOR, type=5), "type must be a string", True, id="type-not-string"),
    pytest.param(
        with_(INDICATOR, type="ab", id=f"ab--{U}"),
        "not a valid STIX type name",
        True,
        id="type-short",
    ),
    pytest.param(
        with_(CUSTOM_SDO, type="X-Example", id=f"X-Example--{U}"),
        "not a valid STIX type name",
        True,
        id="type-uppercase",
    ),
    pytest.param(
        with_(CUSTOM_SDO, type="x--example", id=f"x--example--{U}"),
        "not a valid STIX type name",
        True,
        id="type-double-hyphen",
    ),
    pytest.param(
        with_(CUSTOM_SDO, type="x-example-", id=f"x-example---{U}"),
        "not a valid STIX type name",
        True,  # the reference's type pattern allows a trailing '-', its id pattern does not
        id="type-trailing-hyphen",
    ),
    pytest.param(
        with_(CUSTOM_SDO, type="x" * 251, id=f"{'x' * 251}--{U}"),
        "not a valid STIX type name",
        True,
        id="type-too-long",
    ),
    pytest.param(without(INDICATOR, "id"), "has no id property", True, id="no-id"),
    pytest.param(
        with_(INDICATOR, id=f"malware--{U}"), "must start with 'indicator--'", True, id="id-prefix"
    ),
    pytest.param(with_(INDICATOR, id="indicator--1234"), "RFC 4122 UUID", True, id="id-not-a-uuid"),
    pytest.param(
        with_(INDICATOR, id="indicator--11111111-1111-4111-c111-111111111111"),
        "RFC 4122 UUID",
        True,
        id="id-uuid-variant",
    ),
    pytest.param(
        with_(INDICATOR, id="indicator--11111111-1111-0111-8111-111111111111"),
        "RFC 4122 UUID",
        True,
        id="id-uuid-version",
    ),
    pytest.param(
        {"type": "bundle", "id": f"bundle--{U}", "objects": [INDICATOR]},
        "bundle is an envelope",
        False,  # a bundle is valid STIX, but TAXII stores objects, never bundles (TAXII 2.1 §5)
        id="bundle",
    ),
    # -- spec_version
    pytest.param(
        without(INDICATOR, "spec_version"), "spec_version is required", True, id="sv-missing"
    ),
    pytest.param(
        with_(INDICATOR, spec_version="2.0"),
        "spec_version must be '2.1'",
        False,  # the reference's schema enum allows "2.0"; a 2.1 object MUST say "2.1" (§3.2)
        id="sv-2.0",
    ),
    pytest.param(
        with_(FILE, spec_version="2.2"), "spec_version must be '2.1'", True, id="sv-sco-wrong"
    ),
    pytest.param(
        without(STATEMENT_MARKING, "spec_version"),
        "spec_version is required",
        True,
        id="sv-marking-missing",
    ),
    # -- created / modified and other timestamps
    pytest.param(without(INDICATOR, "created"), "created is required", True, id="no-created"),
    pytest.param(without(INDICATOR, "modified"), "modified is required", True, id="no-modified"),
    pytest.param(
        without(STATEMENT_MARKING, "created"), "created is required", True, id="marking-no-created"
    ),
    pytest.param(
        with_(INDICATOR, created="2024-01-31T12:00:00.000+00:00"),
        "not an RFC 3339 UTC timestamp",
        True,
        id="created-offset",
    ),
    pytest.param(
        with_(INDICATOR, created="2024-01-31T12:00:00Z", modified="2024-01-31T12:00:00Z"),
        "precise to at least the millisecond",
        True,
        id="created-seconds",
    ),
    pytest.param(
        with_(INDICATOR, modified="2024-01-30T12:00:00.000Z"),
        "modified must be later than or equal to created",
        True,
        id="modified-before-created",
    ),
    pytest.param(
        with_(INDICATOR, created=1706702400),
        "created must be a timestamp string",
        True,
        id="created-number",
    ),
    pytest.param(
        with_(INDICATOR, valid_until=INDICATOR["valid_from"]),
        "valid_until must be later than valid_from",
        True,
        id="valid-until-equal",
    ),
    pytest.param(
        sdo("campaign", name="c", first_seen=T1, last_seen=T0),
        "last_seen must be later than or equal to first_seen",
        True,
        id="campaign-seen-order",
    ),
    pytest.param(
        sdo(
            "observed-data",
            first_observed=T1,
            last_observed=T0,
            number_observed=1,
            object_refs=[FILE["id"]],
        ),
        "last_observed must be later than or equal to first_observed",
        True,
        id="observed-order",
    ),
    pytest.param(
        sdo(
            "relationship",
            relationship_type="uses",
            source_ref=MALWARE["id"],
            target_ref=IDENTITY,
            start_time=T1,
            stop_time=T1,
        ),
        "stop_time must be later than start_time",
        True,
        id="relationship-time-order",
    ),
    pytest.param(
        with_(REPORT, published="yesterday"),
        "published 'yesterday' is not an RFC 3339",
        True,
        id="published",
    ),
    pytest.param(
        with_(INDICATOR, valid_from="2016-12-31T23:59:60Z"), "leap second", True, id="leap-second"
    ),
    pytest.param(
        with_(INDICATOR, valid_from="0000-01-01T00:00:00Z"), "year 0000", True, id="year-zero"
    ),
    pytest.param(
        with_(INDICATOR, valid_from="2023-02-29T00:00:00Z"),
        "not a real calendar date",
        True,
        id="february-29",
    ),
    pytest.param(
        sco("network-traffic", src_ref=sid("ipv4-addr"), protocols=["tcp"], start=T1, end=T0),
        "end must be later than or equal to start",
        True,
        id="traffic-order",
    ),
    # -- required properties per type
    pytest.param(
        without(INDICATOR, "pattern"), "pattern is required for indicator", True, id="req-indicator"
    ),
    pytest.param(
        without(REPORT, "published"), "published is required for report", True, id="req-report"
    ),
    pytest.param(without(MALWARE, "is_family"), "is_family is required", True, id="req-malware"),
    pytest.param(sdo("identity"), "name is required for identity", True, id="req-identity"),
    pytest.param(sdo("note", content="x"), "object_refs is required for note", True, id="req-note"),
    pytest.param(
        sdo("opinion", object_refs=[IDENTITY]), "opinion is required", True, id="req-opinion"
    ),
    pytest.param(
        sdo("grouping", object_refs=[IDENTITY]), "context is required", True, id="req-grouping"
    ),
    pytest.param(
        sdo("relationship", relationship_type="uses", source_ref=MALWARE["id"]),
        "target_ref is required",
        True,
        id="req-relationship",
    ),
    pytest.param(sdo("sighting"), "sighting_of_ref is required", True, id="req-sighting"),
    pytest.param(
        sdo("observed-data", first_observed=T0, last_observed=T0, object_refs=[FILE["id"]]),
        "number_observed is required",
        True,
        id="req-observed-data",
    ),
    pytest.param(
        sdo("malware-analysis", result="benign"),
        "product is required",
        True,
        id="req-malware-analysis",
    ),
    pytest.param(
        sdo("language-content", object_ref=IDENTITY),
        "contents is required",
        True,
        id="req-language-content",
    ),
    pytest.param(
        sdo(
            "extension-definition",
            created_by_ref=IDENTITY,
            name="n",
            version="1",
            extension_types=["new-sdo"],
        ),
        "schema is required",
        True,
        id="req-extension-definition",
    ),
    pytest.param(
        sdo("extension-definition", name="n", schema="s", version="1", extension_types=["new-sdo"]),
        "created_by_ref is required",
        False,  # the reference schema omits it; §7.3 lists created_by_ref as required
        id="req-extension-definition-creator",
    ),
    pytest.param(sco("ipv4-addr"), "value is required for ipv4-addr", True, id="req-ipv4"),
    pytest.param(sco("file", size=1), "file needs hashes or name", True, id="req-file"),
    pytest.param(
        sco("network-traffic", src_ref=sid("ipv4-addr")),
        "protocols is required",
        True,
        id="req-traffic",
    ),
    pytest.param(sco("autonomous-system", name="x"), "number is required", True, id="req-as"),
    pytest.param(sco("process"), "process needs at least one of", True, id="req-process"),
    pytest.param(
        without(MALWARE, "name"),
        "name is required when is_family is true",
        True,
        id="malware-family-name",
    ),
    pytest.param(sdo("location", city="Paris"), "needs region, country", True, id="location-where"),
    pytest.param(
        sdo("location", latitude=1.0, region="europe"),
        "latitude and longitude must be given",
        True,
        id="location-lat",
    ),
    pytest.param(
        sdo(
            "observed-data",
            first_observed=T0,
            last_observed=T0,
            number_observed=1,
            object_refs=[FILE["id"]],
            objects={"0": {"type": "file", "name": "x"}},
        ),
        "exactly one of object_refs and objects",
        True,
        id="observed-both",
    ),
    pytest.param(
        sco(
            "artifact",
            payload_bin="aGVsbG8=",
            url="https://example.com/a",
            hashes={"MD5": "a" * 32},
        ),
        "exactly one of payload_bin and url",
        True,
        id="artifact-both",
    ),
    pytest.param(
        sco("process", pid=4, id="process--11111111-1111-5111-8111-111111111111"),
        "version 4 UUID",
        True,
        id="process-uuid5",
    ),
    # -- typed properties
    pytest.param(
        with_(MALWARE, is_family="yes"),
        "is_family must be true or false",
        True,
        id="is-family-type",
    ),
    pytest.param(
        with_(INDICATOR, confidence=101),
        "confidence must be between 0 and 100",
        True,
        id="confidence-range",
    ),
    pytest.param(
        with_(INDICATOR, confidence=True),
        "confidence must be an integer",
        True,
        id="confidence-bool",
    ),
    pytest.param(
        with_(INDICATOR, labels="c2"), "labels must be a list of strings", True, id="labels-string"
    ),
    pytest.param(
        with_(INDICATOR, labels=["c2", 7]),
        "labels must be a list of strings",
        True,
        id="labels-item",
    ),
    pytest.param(
        with_(INDICATOR, labels=[]), "labels must not be an empty list", True, id="labels-empty"
    ),
    pytest.param(with_(INDICATOR, name=["x"]), "name must be a string", True, id="name-list"),
    pytest.param(
        with_(INDICATOR, revoked="false"), "revoked must be true or false", True, id="revoked"
    ),
    pytest.param(
        sdo("sighting", sighting_of_ref=INDICATOR["id"], count=-1),
        "count must be between 0",
        True,
        id="count",
    ),
    pytest.param(
        sdo(
            "observed-data",
            first_observed=T0,
            last_observed=T0,
            number_observed=0,
            object_refs=[FILE["id"]],
        ),
        "number_observed must be between 1",
        True,
        id="number-observed",
    ),
    pytest.param(with_(FILE, size=-5), "size must be at least 0", True, id="file-size"),
    pytest.param(
        sdo("opinion", opinion="maybe", object_refs=[IDENTITY]),
        "opinion must be one of",
        True,
        id="opinion-enum",
    ),
    pytest.param(
        sdo(
            "relationship", relationship_type="Uses", source_ref=MALWARE["id"], target_ref=IDENTITY
        ),
        "relationship_type 'Uses' is not made of",
        True,
        id="relationship-type",
    ),
    pytest.param(
        sco("ipv4-addr", value="999.1.1.1"), "is not an IPv4 address", True, id="ipv4-value"
    ),
    pytest.param(sco("mac-addr", value="D2:FB:49:24:37:18"), "MAC address", True, id="mac-upper"),
    pytest.param(
        with_(FILE, hashes={"MD5": "xyz"}),
        "hashes.MD5 'xyz' is not a valid MD5",
        True,
        id="hash-md5",
    ),
    pytest.param(with_(FILE, hashes={}), "hashes must not be empty", True, id="hashes-empty"),
    pytest.param(
        sdo("location", latitude=91.0, longitude=0.0),
        "latitude must be between -90 and 90",
        True,
        id="latitude",
    ),
    pytest.param(
        with_(INDICATOR, kill_chain_phases=[{"kill_chain_name": "k"}]),
        "kill_chain_phases[0].phase_name is required",
        True,
        id="kill-chain-phase",
    ),
    pytest.param(
        with_(INDICATOR, external_references=[{"url": "https://example.com"}]),
        "external_references[0].source_name is required",
        True,
        id="extref-no-source",
    ),
    pytest.param(
        with_(INDICATOR, external_references=[{"source_name": "acme"}]),
        "needs at least one of description, url and external_id",
        True,
        id="extref-only-source",
    ),
    pytest.param(
        with_(INDICATOR, external_references=[{"source_name": "cve", "external_id": "2016-1234"}]),
        "needs an external_id like CVE-",
        True,
        id="extref-cve",
    ),
    pytest.param(
        with_(INDICATOR, external_references={"source_name": "acme", "url": "https://x"}),
        "external_references must be a list",
        True,
        id="extref-not-list",
    ),
    # -- references
    pytest.param(
        with_(INDICATOR, created_by_ref=MALWARE["id"]),
        "created_by_ref must refer to identity objects",
        False,  # the reference accepts any id; §3.2 says created_by_ref is an identity's id
        id="created-by-ref-type",
    ),
    pytest.param(
        with_(INDICATOR, object_marking_refs=[IDENTITY]),
        "object_marking_refs entry must refer to marking-definition",
        False,  # the reference accepts any id; §7.2.2 says these are marking-definition ids
        id="object-marking-refs-type",
    ),
    pytest.param(
        with_(REPORT, object_refs=["indicator-1"]),
        "is not a STIX identifier",
        True,
        id="ref-malformed",
    ),
    pytest.param(
        sdo(
            "relationship", relationship_type="uses", source_ref=f"bundle--{U}", target_ref=IDENTITY
        ),
        "source_ref must not refer to a bundle",
        True,
        id="relationship-bundle",
    ),
    pytest.param(
        sdo("sighting", sighting_of_ref=INDICATOR["id"], where_sighted_refs=[MALWARE["id"]]),
        "where_sighted_refs entry must refer to identity or location",
        True,
        id="where-sighted",
    ),
    pytest.param(
        sdo("sighting", sighting_of_ref=sid("relationship")),
        "sighting_of_ref must not refer to a relationship",
        True,
        id="sighting-of-relationship",
    ),
    pytest.param(
        sdo(
            "observed-data",
            first_observed=T0,
            last_observed=T0,
            number_observed=1,
            object_refs=[IDENTITY],
        ),
        "object_refs entry must not refer to a identity",
        True,
        id="observed-data-sdo-ref",
    ),
    pytest.param(
        sdo("malware", is_family=False, sample_refs=[INDICATOR["id"]]),
        "sample_refs entry must refer to artifact or file",
        False,  # the reference only checks for strings; §4.11 says file or artifact SCOs
        id="malware-sample-refs",
    ),
    # -- custom properties, reserved names, null and empty values
    pytest.param(
        with_(INDICATOR, X_Score=1), "property name 'X_Score' is not valid", True, id="prop-upper"
    ),
    pytest.param(with_(INDICATOR, xy=1), "property name 'xy' is not valid", True, id="prop-short"),
    pytest.param(
        with_(INDICATOR, **{"1abc": 1}), "property name '1abc' is not valid", True, id="prop-digit"
    ),
    pytest.param(
        with_(INDICATOR, **{"x_" + "a" * 249: 1}),
        "is not valid",
        False,  # the reference's name regex is not anchored at the end; §3.1 caps names at 250
        id="prop-too-long",
    ),
    pytest.param(
        with_(INDICATOR, severity="high"), "reserved property name", True, id="prop-reserved"
    ),
    pytest.param(
        with_(INDICATOR, description=None), "description must not be null", True, id="null"
    ),
    pytest.param(
        with_(INDICATOR, x_acme_tags=[]),
        "x_acme_tags must not be an empty list",
        True,
        id="custom-empty",
    ),
    pytest.param(
        with_(INDICATOR, x_acme_hex="zz"), "must be a string of hex octets", True, id="custom-hex"
    ),
    pytest.param(
        with_(INDICATOR, x_acme_bin="***"), "must be a base64 string", True, id="custom-bin"
    ),
    # -- extensions and custom objects
    pytest.param(
        with_(INDICATOR, extensions="x"), "extensions must be an object", True, id="ext-type"
    ),
    pytest.param(
        with_(INDICATOR, extensions={}), "extensions must not be empty", True, id="ext-empty"
    ),
    pytest.param(
        with_(INDICATOR, extensions={"acme": {"a_b": 1}}),
        "extensions['acme'] is not an extension-definition id",
        True,
        id="ext-key",
    ),
    pytest.param(
        with_(INDICATOR, extensions={"ntfs-ext": {"sid": "1"}}),
        "extensions['ntfs-ext'] is not an extension-definition id",
        False,  # the reference accepts any "*-ext" key; ntfs-ext is a File extension (§6.7.2)
        id="ext-predefined-on-sdo",
    ),
    pytest.param(
        with_(INDICATOR, extensions={EXTDEF: "x"}),
        "must be an object, not a string",
        True,
        id="ext-value",
    ),
    pytest.param(
        with_(INDICATOR, extensions={EXTDEF: {"rank": 1}}),
        "extension_type must be one of",
        True,
        id="ext-no-type",
    ),
    pytest.param(
        with_(FILE, extensions={"archive-ext": {"comment": "x"}}),
        "requires contains_refs",
        True,
        id="ext-predefined-required",
    ),
    pytest.param(
        without(CUSTOM_SDO, "extensions"),
        "custom object type must declare itself",
        False,  # the reference only warns ("should"); §7.3 requires the extension
        id="custom-type-no-extension",
    ),
    pytest.param(
        with_(CUSTOM_SDO, extensions={EXTDEF: {"extension_type": "property-extension"}}),
        "custom object type must declare itself",
        False,  # as above: a property extension does not define a new object type
        id="custom-type-property-extension",
    ),
    # -- marking definitions
    pytest.param(
        with_(TLP_WHITE_MARKING, name="TLP:GREEN"),
        "exactly one of the four predefined TLP",
        True,
        id="tlp1-altered",
    ),
    pytest.param(
        with_(STATEMENT_MARKING, definition={"text": "x"}),
        "definition.statement",
        True,
        id="statement",
    ),
    pytest.param(
        without(STATEMENT_MARKING, "definition"),
        "definition_type and definition are required",
        True,
        id="marking-no-definition",
    ),
    pytest.param(
        with_(STATEMENT_MARKING, object_marking_refs=[STATEMENT]),
        "must not refer to the marking definition itself",
        True,
        id="marking-circular",
    ),
    pytest.param(
        with_(INDICATOR, granular_markings=[{"marking_ref": TLP_WHITE, "selectors": ["labels"]}]),
        "selector 'labels' selects nothing",
        True,
        id="granular-selector",
    ),
    pytest.param(
        with_(INDICATOR, granular_markings=[{"marking_ref": IDENTITY, "selectors": ["name"]}]),
        "marking_ref must refer to marking-definition",
        True,
        id="granular-ref",
    ),
    pytest.param(
        with_(
            INDICATOR,
            granular_markings=[{"marking_ref": TLP_WHITE, "lang": "en", "selectors": ["name"]}],
        ),
        "exactly one of marking_ref and lang",
        False,  # the reference does not check it; §7.2.3 allows only one of the two
        id="granular-both",
    ),
    # -- patterns
    pytest.param(
        with_(INDICATOR, pattern="[ipv4-addr:value = '1.2.3.4'"),
        "indicator pattern does not parse:",
        True,
        id="pattern",
    ),
    pytest.param(with_(INDICATOR, pattern=17), "pattern must be a string", True, id="pattern-type"),
]


@pytest.mark.parametrize(("obj", "fragment", "reference_rejects"), INVALID)
def test_invalid_object_is_rejected(obj: object, fragment: str, reference_rejects: bool) -> None:
    with pytest.raises(InvalidStix) as caught:
        validate_object(obj)
    assert fragment in caught.value.message
    assert reference_accepts(obj) is not reference_rejects


def test_messages_name_the_object() -> None:
    with pytest.raises(InvalidStix, match=re.escape(f"{MALWARE['id']}: is_family must be")):
        validate_object(with_(MALWARE, is_family=1))


# ---------------------------------------------------- mutations against the reference

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")

_CORRUPTIONS: list[Callable[[str], object]] = [
    lambda s: s[:-1],  # no Z
    lambda s: s[:-1] + "+00:00",
    lambda s: s.replace("T", " "),
    lambda s: s.lower(),
    lambda s: s[:5] + "13" + s[7:],  # month 13
    lambda s: s[:8] + "32" + s[10:],  # day 32
    lambda s: s[:5] + "02-30" + s[10:],  # 30 February
    lambda s: s[:11] + "24" + s[13:],  # hour 24
    lambda s: s[:17] + "60" + s[19:],  # leap second
    lambda s: "0000" + s[4:],
    lambda s: s[:19] + "Z",  # seconds precision
    lambda s: s[:10],  # date only
    lambda s: s + " ",
    lambda s: "",
    lambda s: "1970-01-01T00:00:00.000Z",  # earlier than everything
    lambda s: "9999-12-31T23:59:59.999Z",  # later than everything
    lambda s: 1706702400,
]

_OTHER_VALUES: list[object] = [
    None,
    True,
    False,
    0,
    42,
    -1,
    2.5,
    "",
    "text",
    [],
    ["text"],
    [1],
    [{}],
    {},
    {"key": "value"},
]

_PREFIXES = [
    "indicator",
    "identity",
    "malware",
    "file",
    "relationship",
    "sighting",
    "observed-data",
    "marking-definition",
    "location",
    "bundle",
    "language-content",
    "x-acme-thing",
    "Indicator",
    "x",
    "in dicator",
]


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "list" + (f"[{_json_kind(value[0])}]" if value else "[]")
    if isinstance(value, bool):
        return "bool"
    return type(value).__name__


def _different(draw: st.DrawFn, value: object) -> object:
    kind = _json_kind(value)
    return draw(st.sampled_from([v for v in _OTHER_VALUES if _json_kind(v) != kind]))


@st.composite
def mutated_examples(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A deep copy of an OASIS example with one mutation applied, and its description."""
    obj = copy.deepcopy(draw(st.sampled_from(EXAMPLE_OBJECTS)))
    kind = draw(st.sampled_from(["drop", "timestamp", "prefix", "wrong-type", "nested"]))
    timestamps = sorted(k for k, v in obj.items() if isinstance(v, str) and _TIMESTAMP.match(v))
    refs = sorted(k for k in obj if k == "id" or k.endswith(("_ref", "_refs")))
    nested: list[tuple[str, int | None]] = []
    for key, value in obj.items():
        if isinstance(value, dict) and value:
            nested.append((key, None))
        elif isinstance(value, list):
            nested.extend((key, i) for i in range(len(value)))
    if kind == "timestamp" and timestamps:
        key = draw(st.sampled_from(timestamps))
        obj[key] = draw(st.sampled_from(_CORRUPTIONS))(obj[key])
        return f"corrupt {key}", obj
    if kind == "prefix":
        key = draw(st.sampled_from(refs))
        prefix = draw(st.sampled_from(_PREFIXES))
        if isinstance(obj[key], list):
            position = draw(st.integers(0, len(obj[key]) - 1))
            obj[key][position] = prefix + "--" + obj[key][position].split("--", 1)[1]
        else:
            obj[key] = prefix + "--" + obj[key].split("--", 1)[1]
        return f"prefix {key} -> {prefix}", obj
    if kind == "nested" and nested:
        key, index = draw(st.sampled_from(nested))
        container = obj[key] if index is None else obj[key][index]
        if isinstance(container, dict) and container:
            inner = draw(st.sampled_from(sorted(container)))
            container[inner] = _different(draw, container[inner])
            return f"nested {key}[{index}].{inner}", obj
        obj[key][index] = _different(draw, container)
        return f"nested {key}[{index}]", obj
    key = draw(st.sampled_from(sorted(obj)))
    if kind == "wrong-type":
        obj[key] = _different(draw, obj[key])
        return f"retype {key}", obj
    del obj[key]
    return f"drop {key}", obj


@settings(
    max_examples=1000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(mutated_examples())
def test_we_never_accept_what_the_reference_rejects(case: tuple[str, dict[str, Any]]) -> None:
    description, obj = case
    if we_accept(obj):
        assert reference_accepts(obj), f"accepted after {description}: {obj}"
