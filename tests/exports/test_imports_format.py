"""Format detection and reading of CSV and plain lists (``domain.imports``)."""

from __future__ import annotations

import pytest

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.imports import (
    Format,
    detect,
    indicator_of,
    prepare,
    read_csv,
    read_list,
)
from shieldwall.domain.patterns import comparisons, parse_pattern
from shieldwall.domain.stix_validation import validate_object

NOW = 1_700_000_000_000_000
IMPORTER = "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'{"type": "bundle", "id": "bundle--1", "objects": []}', Format.STIX),
        (b'{"objects": [{"type": "indicator", "id": "x"}]}', Format.STIX),
        (b'[{"type": "indicator", "id": "indicator--1"}]', Format.STIX),
        (b'{"Event": {"uuid": "x"}}', Format.MISP),
        (b'{"response": [{"Event": {}}]}', Format.MISP),
        (b'[{"Event": {}}]', Format.MISP),
        (b'{"whatever": 1}', Format.MISP),  # the MISP reader names what is missing
        (b"# header comment\nvalue,type\n1.2.3.4,ip-dst\n", Format.CSV),
        (b"indicator;kind\nevil.com;domain\n", Format.CSV),
        (b"1.2.3.4\nevil[.]com\n", Format.LIST),
        (b"\xef\xbb\xbfhxxp://evil.com/a\n", Format.LIST),
        (b"", Format.LIST),
    ],
)
def test_detection(data: bytes, expected: Format) -> None:
    assert detect(data) is expected


def test_truncated_json_names_the_position() -> None:
    with pytest.raises(InvalidInput, match=r"^not JSON: line 2 column"):
        detect(b'{"Event": {\n "uuid": ')


def test_plain_list_refangs_skips_comments_and_reports_bad_lines() -> None:
    data = (
        b"# a blocklist\n\n198.51.100[.]7\nhxxps://evil[.]example[.]com/x?a=1  # phish\n"
        b"not a value at all!\n2001:db8::1\n203.0.113.0/24\nd41d8cd98f00b204e9800998ecf8427e\n"
        b"  \nuser[@]evil.example.com\n"
    )
    result = read_list(data)
    assert [e.item for e in result.entries] == [
        "ipv4|198.51.100.7",
        "url|https://evil.example.com/x?a=1",
        "ipv6|2001:db8::1",
        "ipv4|203.0.113.0/24",
        "md5|d41d8cd98f00b204e9800998ecf8427e",
        "email|user@evil.example.com",
    ]
    assert [(s.line, s.reason) for s in result.skipped] == [(5, "not an observable value")]


def test_csv_with_type_and_name_columns() -> None:
    data = (
        b"value,type,comment\n"
        b"198.51.100.7,ip-dst,C2 server\n"
        b"evil[.]example.com,domain,\n"
        b"not-an-ip,ip-src,bad\n"
        b",domain,empty\n"
        b'"http://x.example.com/a,b",url,quoted\n'
        b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855,sha256,\n"
    )
    result = read_csv(data)
    assert [(e.line, e.item, e.name) for e in result.entries] == [
        (2, "ipv4|198.51.100.7", "C2 server"),
        (3, "domain|evil.example.com", None),
        (6, "url|http://x.example.com/a,b", "quoted"),
        (7, "sha256|e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", None),
    ]
    assert [(s.line, s.reason) for s in result.skipped] == [
        (4, "not a ip-src value"),
        (5, "no value"),
    ]


def test_indicators_escape_values_and_validate() -> None:
    prepared = prepare(b"value\nhttp://evil.example.com/a'b\\c\n", "x.csv", NOW, IMPORTER)
    (obj,) = prepared.objects
    assert isinstance(obj, dict)
    validate_object(obj)
    (comparison,) = comparisons(parse_pattern(str(obj["pattern"])))
    assert comparison.value == "http://evil.example.com/a'b\\c"
    assert obj["created_by_ref"] == IMPORTER


def test_ids_are_stable_per_importer_and_value() -> None:
    first = prepare(b"1.2.3.4\n1.2.3.4\n", "a.txt", NOW, IMPORTER)
    again = prepare(b"1.2.3.4\n", "b.txt", NOW + 1, IMPORTER)
    other = prepare(b"1.2.3.4\n", "a.txt", NOW, None)
    assert len(first.objects) == 1
    ids = [o["id"] for o in (first.objects[0], again.objects[0], other.objects[0])]  # type: ignore[index]
    assert ids[0] == ids[1] != ids[2]


def test_stix_and_misp_are_prepared() -> None:
    bundle = b'{"type": "bundle", "id": "bundle--1", "objects": [{"type": "x-thing", "id": "x"}]}'
    assert prepare(bundle, "b.json", NOW, IMPORTER).objects == [{"type": "x-thing", "id": "x"}]
    with pytest.raises(InvalidInput, match="not a MISP event"):
        prepare(b'{"whatever": 1}', "m.json", NOW, IMPORTER)


def test_indicator_of_every_kind_validates() -> None:
    from shieldwall.domain.imports import Entry

    for item in ["ipv4|1.2.3.4", "ipv6|2001:db8::/32", "domain|a.example", "url|http://a.b/",
                 "email|a@b.example", "md5|" + "a" * 32, "sha1|" + "b" * 40,
                 "sha256|" + "c" * 64, "sha512|" + "d" * 128]:  # fmt: skip
        validate_object(indicator_of(Entry(1, item), NOW, IMPORTER, "f"))
