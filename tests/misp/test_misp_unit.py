"""The MISP → STIX 2.1 converter on small hand-written events: input forms and errors,
attribute types and their patterns, escaping, observables, TLP, galaxies, ids."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from misp_support import IMPORTER, assert_valid, by_type, only, values

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.extraction.bundle import sco_id
from shieldwall.domain.misp import (
    ConvertedEvent,
    convert_event,
    convert_misp,
    parse_events,
    to_bundle,
)
from shieldwall.domain.tlp import Tlp

EVENT_UUID = "5f0c7a6e-1111-4c2a-9a8e-0123456789ab"


def attribute(
    kind: str, value: str, *, to_ids: bool = True, tags: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    digest = hashlib.sha256(f"{kind}|{value}".encode()).hexdigest()
    uuid = f"{digest[:8]}-2222-4c2a-9a8e-{digest[8:20]}"
    attr: dict[str, Any] = {
        "uuid": uuid,
        "type": kind,
        "category": "Network activity",
        "value": value,
        "to_ids": to_ids,
        "timestamp": "1700000000",
        "comment": "",
        "deleted": False,
    }
    if tags:
        attr["Tag"] = [{"name": tag} for tag in tags]
    attr.update(extra)
    return attr


def event(*attrs: dict[str, Any], tags: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "uuid": EVENT_UUID,
        "info": "Test campaign",
        "date": "2023-11-01",
        "timestamp": "1700000100",
        "publish_timestamp": "1700000200",
        "Attribute": list(attrs),
        "Object": [],
        "Tag": [{"name": tag} for tag in tags or []],
    }
    body.update(extra)
    return body


def convert(body: dict[str, Any]) -> ConvertedEvent:
    result = convert_event(body, created_by_ref=IMPORTER)
    assert_valid(result)
    return result


def indicator_for(result: ConvertedEvent, attr: dict[str, Any]) -> dict[str, Any]:
    (oid,) = result.attribute_objects[attr["uuid"]]
    found = next(obj for obj in result.objects if obj["id"] == oid)
    assert found["type"] == "indicator"
    return found


# -- input forms and errors -----------------------------------------------------------------


def test_every_form_gives_the_same_event() -> None:
    body = event(attribute("domain", "evil.example"))
    forms: list[object] = [
        {"Event": body},
        {"response": [{"Event": body}]},
        {"response": {"Event": body}},
        [{"Event": body}],
        body,
        json.dumps({"Event": body}),
        json.dumps({"response": [{"Event": body}]}).encode(),
        b"\xef\xbb\xbf" + json.dumps(body).encode(),
    ]
    for form in forms:
        (parsed,) = parse_events(form)
        assert parsed["uuid"] == EVENT_UUID
        (result,) = convert_misp(form)
        assert result.event_uuid == EVENT_UUID
    assert parse_events({"response": []}) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"Event": {"uuid": "x",\n  "info": }', "not JSON: line 2 column 11: Expecting value"),
        ("", "not JSON: line 1 column 1: Expecting value"),
        (b"\xff\xfe{}", "not UTF-8 text"),
        (
            {"duvelDetails": {}},
            "not a MISP event: no Event in the document (its keys: duvelDetails)",
        ),
        ({"response": "nothing"}, "not a MISP event: response is a string, not a list"),
        ([1], "not a MISP event: item 0 is a number, not an object"),
        ("42", "not a MISP event: expected a JSON object, found a number"),
        ({"Event": {"info": "no uuid"}}, "not a MISP event: the Event in the document has no uuid"),
        ({"Event": []}, "not a MISP event: Event in the document is a list"),
        (
            {"Event": {"uuid": "u", "Attribute": {}}},
            "Attribute of event u is an object, not a list",
        ),
    ],
)
def test_what_is_not_misp_json_is_named(data: object, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        convert_misp(data)
    assert message in caught.value.message


def test_an_event_needs_a_time_and_the_importer_an_identity() -> None:
    with pytest.raises(InvalidInput, match="neither a timestamp nor a date"):
        convert_event({"uuid": EVENT_UUID, "info": "x"})
    with pytest.raises(InvalidInput, match="is not an identity id"):
        convert_event(event(), created_by_ref="organization--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f")


# -- attribute types, patterns and escaping ----------------------------------------------------

MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
PATTERNS = [
    ("ip-src", "198.51.100.7", "[ipv4-addr:value = '198.51.100.7']"),
    ("ip-dst", "203.0.113.0/24", "[ipv4-addr:value ISSUBSET '203.0.113.0/24']"),
    ("ip-dst", "2001:db8::1", "[ipv6-addr:value = '2001:db8::1']"),
    ("ip-src", "2001:db8::/32", "[ipv6-addr:value ISSUBSET '2001:db8::/32']"),
    (
        "ip-src|port",
        "198.51.100.7|4444",
        "[network-traffic:src_ref.type = 'ipv4-addr' AND network-traffic:src_ref.value = "
        "'198.51.100.7' AND network-traffic:src_port = 4444]",
    ),
    (
        "ip-dst|port",
        "2001:db8::1|443",
        "[network-traffic:dst_ref.type = 'ipv6-addr' AND network-traffic:dst_ref.value = "
        "'2001:db8::1' AND network-traffic:dst_port = 443]",
    ),
    (
        "hostname|port",
        "c2.example|8443",
        "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = "
        "'c2.example' AND network-traffic:dst_port = 8443]",
    ),
    ("domain", "evil.example", "[domain-name:value = 'evil.example']"),
    ("hostname", "www.evil.example", "[domain-name:value = 'www.evil.example']"),
    (
        "domain|ip",
        "evil.example|198.51.100.7",
        "[domain-name:value = 'evil.example' AND "
        "domain-name:resolves_to_refs[*].value = '198.51.100.7']",
    ),
    ("url", "https://evil.example/a?b=c", "[url:value = 'https://evil.example/a?b=c']"),
    ("uri", "/gate.php", "[url:value = '/gate.php']"),
    ("email", "x@evil.example", "[email-addr:value = 'x@evil.example']"),
    ("email-src", "x@evil.example", "[email-message:from_ref.value = 'x@evil.example']"),
    ("email-dst", "y@victim.example", "[email-message:to_refs[*].value = 'y@victim.example']"),
    ("email-subject", "Invoice", "[email-message:subject = 'Invoice']"),
    ("md5", MD5, f"[file:hashes.MD5 = '{MD5}']"),
    ("sha1", SHA1, f"[file:hashes.'SHA-1' = '{SHA1}']"),
    ("sha224", "a" * 56, f"[file:hashes.'SHA-224' = '{'a' * 56}']"),
    ("sha256", SHA256, f"[file:hashes.'SHA-256' = '{SHA256}']"),
    ("sha384", "b" * 96, f"[file:hashes.'SHA-384' = '{'b' * 96}']"),
    ("sha512", "c" * 128, f"[file:hashes.'SHA-512' = '{'c' * 128}']"),
    ("ssdeep", "96:abc/+:def", "[file:hashes.SSDEEP = '96:abc/+:def']"),
    (
        "imphash",
        MD5,
        f"[file:extensions.'windows-pebinary-ext'.imphash = '{MD5}']",
    ),
    ("tlsh", "T1" + "0" * 70, f"[file:hashes.TLSH = 'T1{'0' * 70}']"),
    ("authentihash", SHA256, f"[file:hashes.AUTHENTIHASH = '{SHA256}']"),
    ("filename", "invoice.pdf.exe", "[file:name = 'invoice.pdf.exe']"),
    (
        "filename|sha1",
        f"drop.exe|{SHA1}",
        f"[file:name = 'drop.exe' AND file:hashes.'SHA-1' = '{SHA1}']",
    ),
    ("filename|md5", f"a|b.exe|{MD5}", f"[file:name = 'a|b.exe' AND file:hashes.MD5 = '{MD5}']"),
    (
        "filename|sha256",
        f"drop.exe|{SHA256}",
        f"[file:name = 'drop.exe' AND file:hashes.'SHA-256' = '{SHA256}']",
    ),
    ("mutex", "Global\\qwerty", "[mutex:name = 'Global\\\\qwerty']"),
    (
        "regkey",
        "HKLM\\Software\\Evil",
        "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Software\\\\Evil']",
    ),
    (
        "regkey|value",
        "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\upd | C:\\u.exe",
        "[windows-registry-key:key = "
        "'HKEY_CURRENT_USER\\\\Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run\\\\upd'"
        " AND windows-registry-key:values[*].data = 'C:\\\\u.exe']",
    ),
    (
        "user-agent",
        "Mozilla/5.0 (X)",
        "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = "
        "'Mozilla/5.0 (X)']",
    ),
    ("AS", "AS64500", "[autonomous-system:number = 64500]"),
    ("AS", "64501", "[autonomous-system:number = 64501]"),
    ("mac-address", "00-1A-2B-3C-4D-5E", "[mac-addr:value = '00:1a:2b:3c:4d:5e']"),
    ("x509-fingerprint-sha1", SHA1, f"[x509-certificate:hashes.'SHA-1' = '{SHA1}']"),
    ("x509-fingerprint-sha256", SHA256, f"[x509-certificate:hashes.'SHA-256' = '{SHA256}']"),
    ("x509-fingerprint-md5", MD5, f"[x509-certificate:hashes.MD5 = '{MD5}']"),
    ("btc", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "[cryptocurrency-wallet:address = "
     "'1BoatSLRHtKNngkdXEeobR76b53LETtpyT']"),
    ("port", "8080", "[network-traffic:dst_port = 8080]"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "value", "expected"), PATTERNS)
def test_to_ids_attributes_become_indicators_with_exact_patterns(
    kind: str, value: str, expected: str
) -> None:
    attr = attribute(kind, value, comment="seen in the wild")
    result = convert(event(attr))
    indicator = indicator_for(result, attr)
    assert indicator["pattern"] == expected
    assert indicator["pattern_type"] == "stix"
    assert indicator["name"] == f"{kind}: {value}"
    assert str(indicator["description"]).startswith("seen in the wild")
    assert indicator["valid_from"] == "2023-11-14T22:13:20.000Z"  # the attribute timestamp
    assert indicator["created_by_ref"] == IMPORTER
    assert result.skipped == []


def test_rules_become_indicators_in_their_own_language() -> None:
    rules = [
        attribute("yara", "rule a { condition: true }"),
        attribute("snort", 'alert tcp any any -> any any (msg:"x"; sid:1;)'),
        attribute("sigma", "title: x"),
        attribute("stix2-pattern", "[domain-name:value = 'x.example']"),
        attribute("malware-sample", f"a.exe|{MD5}"),
    ]
    broken = attribute("stix2-pattern", "[domain-name:value = ")
    unflagged = attribute("yara", "rule b { condition: false }", to_ids=False)
    result = convert(event(*rules, broken, unflagged))
    found = [
        (indicator["pattern_type"], indicator["pattern"])
        for indicator in (indicator_for(result, rule) for rule in rules)
    ]
    assert found == [
        ("yara", "rule a { condition: true }"),
        ("snort", 'alert tcp any any -> any any (msg:"x"; sid:1;)'),
        ("sigma", "title: x"),
        ("stix", "[domain-name:value = 'x.example']"),
        ("stix", f"[file:name = 'a.exe' AND file:hashes.MD5 = '{MD5}']"),
    ]
    reasons = {skip.uuid: skip.reason for skip in result.skipped}
    assert "not valid STIX" in reasons[broken["uuid"]]
    assert "to_ids is false" in reasons[unflagged["uuid"]]


def test_valid_from_prefers_first_seen() -> None:
    attr = attribute("domain", "a.example", first_seen="2022-04-21T17:48:23.123456+02:00")
    indicator = indicator_for(convert(event(attr)), attr)
    assert indicator["valid_from"] == "2022-04-21T15:48:23.123Z"
    no_time = attribute("domain", "b.example", timestamp=None)
    indicator = indicator_for(convert(event(no_time)), no_time)
    assert indicator["valid_from"] == "2023-11-14T22:15:00.000Z"  # the event's timestamp


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("filename", 'it\'s \\ "odd".exe', ['it\'s \\ "odd".exe']),
        ("url", "http://evil.example/?q=a'b\\c", ["http://evil.example/?q=a'b\\c"]),
        ("email-subject", "Re: 'urgent' \\\\ pay", ["Re: 'urgent' \\\\ pay"]),
        (
            "regkey|value",
            "HKU\\S-1\\Run|C:\\it's\\x.exe",
            ["HKEY_USERS\\S-1\\Run", "C:\\it's\\x.exe"],
        ),
        ("filename|sha1", f"O'Brien\\cv.doc|{SHA1}", ["O'Brien\\cv.doc", SHA1]),
    ],
)
def test_quotes_and_backslashes_are_escaped(kind: str, value: str, expected: list[str]) -> None:
    attr = attribute(kind, value)
    indicator = indicator_for(convert(event(attr)), attr)
    assert values(str(indicator["pattern"])) == expected
    assert "\\'" in str(indicator["pattern"]) or "'" not in value


def test_composite_parts_share_one_observation() -> None:
    attr = attribute("filename|md5", f"a.exe|{MD5}")
    pattern = str(indicator_for(convert(event(attr)), attr)["pattern"])
    assert pattern.count("[") == 1 and " AND " in pattern


def test_values_that_do_not_fit_their_type_are_skipped_with_the_reason() -> None:
    attrs = [
        attribute("md5", "not-a-hash"),
        attribute("ip-dst|port", "198.51.100.7|http"),
        attribute("domain|ip", "no-separator.example"),
        attribute("AS", "ASN-X"),
        attribute("mac-address", "00:11"),
        attribute("github-username", "someone"),
        attribute("datetime", "2023-01-01T00:00:00Z"),
        attribute("domain", "gone.example", deleted=True),
        attribute("domain", ""),
        {"uuid": "no-type", "value": "x"},
        "not an attribute",
    ]
    result = convert(event(*attrs))  # type: ignore[arg-type]
    reasons = {(skip.type, skip.value): skip.reason for skip in result.skipped}
    assert "not a valid MD5 hash" in reasons[("md5", "not-a-hash")]
    assert "port 'http' is not a number" in reasons[("ip-dst|port", "198.51.100.7|http")]
    assert "has no '|'" in reasons[("domain|ip", "no-separator.example")]
    assert "not an autonomous system number" in reasons[("AS", "ASN-X")]
    assert "not a MAC-48 address" in reasons[("mac-address", "00:11")]
    assert reasons[("github-username", "someone")] == (
        "MISP type 'github-username' has no STIX 2.1 mapping"
    )
    assert "no STIX 2.1 mapping" in reasons[("datetime", "2023-01-01T00:00:00Z")]
    assert reasons[("domain", "gone.example")] == "deleted in MISP"
    assert reasons[("domain", "")] == "the attribute has no value"
    assert reasons[(None, "x")] == "the attribute has no type"
    assert reasons[(None, None)] == "the attribute is not a JSON object"
    assert len(result.skipped) == len(attrs)
    assert not by_type(result, "indicator")


# -- observables, notes, links, vulnerabilities ----------------------------------------------


def test_attributes_without_to_ids_become_observables_of_one_observed_data() -> None:
    attrs = [
        attribute("ip-dst", "198.51.100.7", to_ids=False, first_seen="2023-01-01T00:00:00Z"),
        attribute("domain|ip", "evil.example|198.51.100.7", to_ids=False),
        attribute("domain", "evil.example", to_ids=False, last_seen="2023-12-01T00:00:00Z"),
        attribute("filename|sha256", f"drop.exe|{SHA256}", to_ids=False),
        attribute("ip-dst|port", "198.51.100.8|443", to_ids=False),
        attribute("email-src", "x@evil.example", to_ids=False),
        attribute("email-subject", "Invoice", to_ids=False),
        attribute("regkey|value", "HKLM\\Run|x.exe", to_ids=False),
        attribute("mutex", "qwerty", to_ids=False),
        attribute("AS", "AS64500", to_ids=False),
        attribute("mac-address", "00:1a:2b:3c:4d:5e", to_ids=False),
        attribute("x509-fingerprint-sha1", SHA1, to_ids=False),
        attribute("user-agent", "Mozilla/5.0", to_ids=False),
        attribute("btc", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", to_ids=False),
        attribute("url", "evil.example/no-scheme", to_ids=False),
    ]
    result = convert(event(*attrs))
    assert not by_type(result, "indicator")
    observed = only(result, "observed-data")
    refs = set(observed["object_refs"])  # type: ignore[call-overload]
    address = sco_id("ipv4-addr", {"value": "198.51.100.7"})
    domain = sco_id("domain-name", {"value": "evil.example"})
    assert {
        address,
        domain,
        sco_id("file", {"hashes": {"SHA-256": SHA256}, "name": "drop.exe"}),
    } <= refs
    assert {obj["type"] for obj in result.objects if obj["id"] in refs} == {
        "ipv4-addr", "domain-name", "file", "network-traffic", "email-addr", "email-message",
        "windows-registry-key", "mutex", "autonomous-system", "mac-addr", "x509-certificate",
    }  # fmt: skip
    (domain_sco,) = [obj for obj in result.objects if obj["id"] == domain]
    assert domain_sco["resolves_to_refs"] == [address]  # the two attributes merged
    assert observed["first_observed"] == "2023-01-01T00:00:00.000Z"
    assert observed["last_observed"] == "2023-12-01T00:00:00.000Z"
    assert observed["number_observed"] == 1
    skipped = {skip.type: skip.reason for skip in result.skipped}
    assert set(skipped) == {"user-agent", "btc", "url"}
    assert "to_ids is false" in skipped["user-agent"]
    assert "is not a URL" in skipped["url"]


def test_text_becomes_notes_links_references_and_cves_vulnerabilities() -> None:
    link = attribute("link", "https://blog.example/post", comment="the write-up")
    bad_link = attribute("link", "see the blog")
    text = attribute("text", "Win32/Agent.XYZ", to_ids=True, category="Antivirus detection")
    cve = attribute("vulnerability", "CVE-2023-23397")
    other = attribute("vulnerability", "ZDI-CAN-1234")
    result = convert(event(link, bad_link, text, cve, other))
    report = result.objects[0]
    assert {"source_name": "misp-link", "url": "https://blog.example/post",
            "description": "the write-up"} in report["external_references"]  # type: ignore[operator]  # fmt: skip
    assert result.links == [link["uuid"]]
    assert [skip.value for skip in result.skipped] == ["see the blog"]
    note = only(result, "note")
    assert str(note["content"]).startswith("Win32/Agent.XYZ")
    assert note["abstract"] == "Antivirus detection: text"
    assert note["object_refs"] == [result.report_id]
    vulnerabilities = {str(obj["name"]): obj for obj in by_type(result, "vulnerability")}
    assert vulnerabilities["CVE-2023-23397"]["external_references"] == [
        {"source_name": "cve", "external_id": "CVE-2023-23397"},
        {"source_name": "misp", "external_id": cve["uuid"]},
    ]
    assert vulnerabilities["ZDI-CAN-1234"]["external_references"] == [
        {"source_name": "misp", "external_id": other["uuid"]}
    ]


def test_object_attributes_are_converted_and_notes_point_at_their_siblings() -> None:
    misp_object: dict[str, Any] = {
        "name": "file",
        "uuid": "0b0b0b0b-3333-4c2a-9a8e-0123456789ab",
        "Attribute": [
            attribute("sha1", SHA1, object_relation="sha1"),
            attribute("filename", "a.exe", to_ids=False, object_relation="filename"),
            attribute("text", "Win32/Agent", object_relation="signature"),
        ],
    }
    gone = {"name": "file", "uuid": "gone", "deleted": True,
            "Attribute": [attribute("md5", MD5)]}  # fmt: skip
    result = convert(event(Object=[misp_object, gone]))
    indicator = indicator_for(result, misp_object["Attribute"][0])
    assert "in a MISP file object (sha1)" in str(indicator["description"])
    note = only(result, "note")
    sco = sco_id("file", {"name": "a.exe"})
    assert note["object_refs"] == [result.report_id, indicator["id"], sco]
    assert [skip.reason for skip in result.skipped] == ["deleted in MISP"]


def test_every_attribute_is_represented_linked_or_skipped() -> None:
    attrs = [
        attribute(kind, value, to_ids=index % 2 == 0)
        for index, (kind, value, _) in enumerate(PATTERNS)
    ]
    attrs += [attribute("link", "https://x.example"), attribute("pdb", "c:\\x.pdb")]
    result = convert(event(*attrs))
    assert len(result.attribute_objects) + len(result.links) + len(result.skipped) == len(attrs)
    produced = {obj["id"] for obj in result.objects}
    for ids in result.attribute_objects.values():
        assert set(ids) <= produced


# -- the report ------------------------------------------------------------------------------


def test_the_event_becomes_a_report_that_refers_to_everything() -> None:
    body = event(
        attribute("domain", "a.example"),
        attribute("domain", "b.example", to_ids=False),
        tags=[
            'osint:source-type="blog-post"',
            'misp-galaxy:sector="Finance"',
            'misp-galaxy:threat-actor="Sofacy"',
        ],
        Orgc={"name": "CIRCL"},
    )
    result = convert(body)
    report = result.objects[0]
    assert report["type"] == "report" and report["id"] == result.report_id
    assert report["name"] == "Test campaign" == result.info
    assert report["published"] == "2023-11-14T22:16:40.000Z"
    assert report["created"] == report["modified"] == "2023-11-14T22:15:00.000Z"
    assert report["report_types"] == ["threat-report"]
    assert report["created_by_ref"] == IMPORTER
    assert report["external_references"] == [{"source_name": "misp", "external_id": EVENT_UUID}]
    assert report["labels"] == ['misp-galaxy:sector="Finance"', 'osint:source-type="blog-post"']
    assert "CIRCL" in str(report["description"])
    assert set(report["object_refs"]) == {obj["id"] for obj in result.objects[1:]}  # type: ignore[call-overload]
    assert "object_marking_refs" not in report


def test_unpublished_events_are_published_on_their_date_and_empty_ones_get_a_note() -> None:
    result = convert(event(publish_timestamp="0"))
    report = result.objects[0]
    assert report["published"] == "2023-11-01T00:00:00.000Z"
    note = only(result, "note")
    assert report["object_refs"] == [note["id"]]
    assert note["object_refs"] == [report["id"]]


# -- TLP ---------------------------------------------------------------------------------------

AMBER, RED, CLEAR = Tlp.AMBER.marking_id, Tlp.RED.marking_id, Tlp.CLEAR.marking_id


def markings(result: ConvertedEvent, oid: str) -> object:
    return next(obj for obj in result.objects if obj["id"] == oid).get("object_marking_refs")


def test_tlp_tags_map_to_tlp2_markings_and_the_strictest_wins() -> None:
    red = attribute("domain", "red.example", tags=["TLP:RED"])
    clear = attribute("domain", "clear.example", tags=["tlp:white"])
    plain = attribute("domain", "plain.example")
    seen_red = attribute("ip-dst", "198.51.100.7", to_ids=False, tags=["tlp:red"])
    seen_plain = attribute("domain|ip", "x.example|198.51.100.7", to_ids=False)
    result = convert(
        event(red, clear, plain, seen_red, seen_plain, tags=["tlp:amber", "tlp:ex:chr"])
    )
    assert markings(result, result.report_id) == [AMBER]
    assert markings(result, indicator_for(result, red)["id"]) == [RED]
    assert markings(result, indicator_for(result, clear)["id"]) == [AMBER]  # never looser
    assert markings(result, indicator_for(result, plain)["id"]) == [AMBER]
    assert markings(result, sco_id("ipv4-addr", {"value": "198.51.100.7"})) == [RED]
    assert markings(result, sco_id("domain-name", {"value": "x.example"})) == [AMBER]
    assert markings(result, str(only(result, "observed-data")["id"])) == [AMBER]


@pytest.mark.parametrize(
    ("tag", "level"),
    [("tlp:clear", Tlp.CLEAR), ("TLP:White", Tlp.CLEAR), ("tlp:green", Tlp.GREEN),
     ("Tlp:Amber", Tlp.AMBER), ("tlp:amber+strict", Tlp.AMBER_STRICT), ("TLP:RED", Tlp.RED)],
)  # fmt: skip
def test_every_tlp_tag_spelling(tag: str, level: Tlp) -> None:
    attr = attribute("domain", "a.example", tags=[tag])
    result = convert(event(attr))
    assert markings(result, indicator_for(result, attr)["id"]) == [level.marking_id]
    assert markings(result, result.report_id) is None
    result = convert(event(attribute("domain", "a.example"), tags=[tag]))
    assert all(obj["object_marking_refs"] == [level.marking_id] for obj in result.objects)


def test_without_tlp_tags_nothing_is_marked() -> None:
    result = convert(event(attribute("domain", "a.example"), attribute("md5", MD5, to_ids=False),
                           tags=["misp-galaxy:threat-actor=\"X\""]))  # fmt: skip
    assert all("object_marking_refs" not in obj for obj in result.objects)


# -- galaxies ------------------------------------------------------------------------------------


def test_galaxy_tags_and_clusters_become_sdos_with_relationships() -> None:
    cluster = {
        "type": "threat-actor",
        "GalaxyCluster": [
            {"value": "Sofacy", "description": "A Russian actor.",
             "meta": {"synonyms": ["APT28", "Sofacy", "Fancy Bear"]}},
        ],
    }  # fmt: skip
    tags = [
        'misp-galaxy:threat-actor="Sofacy"',
        'misp-galaxy:mitre-attack-pattern="Spearphishing Attachment - T1566.001"',
        'misp-galaxy:mitre-enterprise-attack-attack-pattern="Rundll32 - T1085"',
        'misp-galaxy:mitre-attack-pattern="Homemade - T9999"',
        'misp-galaxy:malpedia="Zebrocy"',
        'misp-galaxy:mitre-tool="Mimikatz - S0002"',
        'misp-galaxy:mitre-intrusion-set="APT29 - G0016"',
        'misp-galaxy:country="russia"',
    ]
    first, second = attribute("domain", "a.example"), attribute("md5", MD5)
    seen = attribute("domain", "b.example", to_ids=False)
    result = convert(event(first, second, seen, tags=tags, Galaxy=[cluster]))
    actor = only(result, "threat-actor")
    assert actor["name"] == "Sofacy"
    assert actor["description"] == "A Russian actor."
    assert actor["aliases"] == ["APT28", "Fancy Bear"]
    patterns = {str(obj["name"]): obj for obj in by_type(result, "attack-pattern")}
    assert patterns["Spearphishing Attachment"]["external_references"] == [
        {"source_name": "mitre-attack", "external_id": "T1566.001",
         "url": "https://attack.mitre.org/techniques/T1566/001"}
    ]  # fmt: skip
    revoked = patterns["Rundll32"]
    assert revoked["external_references"][0]["external_id"] == "T1218.011"  # type: ignore[index]
    assert "T1085" in str(revoked["description"])
    assert patterns["Homemade"]["external_references"] == [
        {"source_name": "mitre-attack", "external_id": "T9999",
         "url": "https://attack.mitre.org/techniques/T9999"}
    ]  # fmt: skip
    malware = only(result, "malware")
    assert (malware["name"], malware["is_family"]) == ("Zebrocy", True)
    tool = only(result, "tool")
    assert tool["name"] == "Mimikatz"
    assert tool["external_references"][0]["external_id"] == "S0002"  # type: ignore[index]
    assert only(result, "intrusion-set")["name"] == "APT29"
    relationships = by_type(result, "relationship")
    indicates = {(r["source_ref"], r["target_ref"]) for r in relationships
                 if r["relationship_type"] == "indicates"}  # fmt: skip
    indicators = [indicator_for(result, first)["id"], indicator_for(result, second)["id"]]
    targets = [actor["id"], malware["id"], only(result, "intrusion-set")["id"]]
    assert indicates == {(source, target) for source in indicators for target in targets}
    uses = [r for r in relationships if r["relationship_type"] == "uses"]
    assert len(uses) == 3 * len(patterns)
    assert len(relationships) == len(indicates) + len(uses)  # one per pair, no duplicates


def test_attribute_level_galaxies_and_threat_actor_attributes() -> None:
    tagged = attribute("domain", "a.example", tags=['misp-galaxy:ransomware="LockBit"', "tlp:red"])
    named = attribute("threat-actor", "Turla", to_ids=False)
    result = convert(event(tagged, named, tags=["tlp:green"]))
    malware = only(result, "malware")
    assert malware["name"] == "LockBit"
    assert malware["object_marking_refs"] == [RED]  # named only under TLP:RED
    actor = only(result, "threat-actor")
    assert result.attribute_objects[named["uuid"]] == (actor["id"],)
    assert actor["object_marking_refs"] == [Tlp.GREEN.marking_id]
    (relationship,) = [r for r in by_type(result, "relationship") if r["target_ref"] == actor["id"]]
    assert relationship["object_marking_refs"] == [RED]  # the stricter end


# -- ids ---------------------------------------------------------------------------------------


def test_ids_are_deterministic_per_importer() -> None:
    body = event(
        attribute("domain", "a.example"),
        attribute("md5", MD5, to_ids=False),
        attribute("text", "note"),
        tags=[
            'misp-galaxy:threat-actor="X"',
            'misp-galaxy:mitre-attack-pattern="Phishing - T1566"',
        ],
    )
    first = convert_event(body, created_by_ref=IMPORTER)
    again = convert_event(json.loads(json.dumps(body)), created_by_ref=IMPORTER)
    assert first == again
    other = convert_event(body, created_by_ref="identity--00000000-0000-4000-8000-000000000001")
    mine = {obj["id"] for obj in first.objects}
    theirs = {obj["id"] for obj in other.objects}
    scos = {obj["id"] for obj in first.objects if "created" not in obj}
    assert mine & theirs == scos  # SCO ids depend on the value only (STIX 2.1 §2.9)
    for obj in first.objects:
        if "created" in obj:
            assert str(obj["id"]).split("--")[1][14] == "5"  # UUIDv5


def test_bundles_merge_shared_observables() -> None:
    one = convert(event(attribute("md5", MD5, to_ids=False), tags=["tlp:green"]))
    other_body = event(attribute("md5", MD5, to_ids=False), tags=["tlp:amber"])
    other_body["uuid"] = "6f0c7a6e-1111-4c2a-9a8e-0123456789ab"
    two = convert(other_body)
    bundle = to_bundle([one, two])
    assert bundle == to_bundle([one, two])
    assert str(bundle["id"]).startswith("bundle--")
    objects = bundle["objects"]
    assert isinstance(objects, list)
    (file_sco,) = [obj for obj in objects if obj["type"] == "file"]
    assert file_sco["object_marking_refs"] == [AMBER]
    assert len(objects) == len(one.objects) + len(two.objects) - 1
    assert to_bundle(one)["objects"] == one.objects
    assert_valid([one, two])
