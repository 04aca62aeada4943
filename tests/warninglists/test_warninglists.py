"""``domain.warninglists``: MISP warning lists read from the packaged data, compiled, and
checked against hub items, STIX patterns and STIX objects."""

from __future__ import annotations

import random
import sys
import time
from typing import Any

import orjson
import pytest

from shieldwall.domain import lookup, warninglists
from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.warninglists import (
    DEFAULT_EXCLUDED_LISTS,
    DEFAULT_MAX_ENTRIES,
    WarningHit,
    WarningLists,
    available_lists,
    misp_type_kinds,
    object_items,
    pattern_items,
    warning_lists,
)

EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"
UNLISTED_DOMAIN = "qzxv-evil-c2.example-not-listed.top"
UNLISTED_IPV4 = "194.165.16.11"  # checked below to be on no default list
UNLISTED_IPV6 = "2a0e:97c0:3e3::1"


@pytest.fixture(scope="module")
def lists() -> WarningLists:
    return warning_lists()


def ids(hits: tuple[WarningHit, ...]) -> list[str]:
    return [hit.list_id for hit in hits]


def document(kind: str, entries: list[str], attributes: list[str]) -> Any:
    return {
        "name": f"test {kind} list",
        "description": f"a {kind} list for tests",
        "type": kind,
        "version": 1,
        "list": entries,
        "matching_attributes": attributes,
    }


# --------------------------------------------------------------------------- catalogue


def test_catalogue_describes_every_packaged_list() -> None:
    infos = {info.id: info for info in available_lists()}
    assert len(infos) == 119
    assert infos["rfc1918"].name == "List of RFC 1918 CIDR blocks"
    assert infos["rfc1918"].type == "cidr"
    assert infos["rfc1918"].kinds is not None
    assert infos["rfc1918"].applies_to("ipv4")
    assert not infos["rfc1918"].applies_to("md5")
    # counted without parsing the big files, and through the full parser (backslashes)
    assert infos["tranco"].entries == 1_000_000
    assert infos["google-chrome-crux-1million"].entries == 998_421
    assert infos["nioc-filehash"].entries == 197_415
    assert infos["public-dns-hostname"].entries == 34_783
    assert infos["crl-ip"].entries == 0


def test_lists_are_read_without_running_the_package() -> None:
    already = "pymispwarninglists" in sys.modules  # another test may have imported it
    root = warninglists._package_files()
    assert root.joinpath("data", "misp-warninglists", "lists", "rfc1918", "list.json").is_file()
    assert already or "pymispwarninglists" not in sys.modules


@pytest.mark.parametrize(
    "raw",
    [
        b'{"description": "no escapes", "list": ["a]b", "c", "d[e]"], "name": "n", "type": "x"}',
        b'{"description": "a \\"list\\": [1, 2] here", "list": ["a", "b\\"]", "c"], "name": "n"}',
        b'{"list": [], "name": "empty"}',
        b'{"name": "last", "list": ["x", "y", "z"]}',
    ],
)
def test_counting_entries_agrees_with_the_json_parser(raw: bytes) -> None:
    header, count = warninglists._header_and_count(raw)
    document = orjson.loads(raw)
    assert count == len(document["list"])
    assert header == {**document, "list": []}


def test_default_selection_leaves_out_the_big_lists(lists: WarningLists) -> None:
    loaded = {info.id for info in lists.lists}
    assert all(info.entries <= DEFAULT_MAX_ENTRIES for info in lists.lists)
    assert {"tranco", "google-chrome-crux-1million", "nioc-filehash"}.isdisjoint(loaded)
    assert len(loaded) == 116
    names = [info.name.casefold() for info in lists.lists]
    assert names == sorted(names)


@pytest.mark.parametrize(
    ("misp_type", "kinds"),
    [
        ("ip-dst", {"ipv4", "ipv6"}),
        ("ip-src|port", {"ipv4", "ipv6"}),
        ("domain|ip", {"domain", "ipv4", "ipv6"}),
        ("hostname", {"domain"}),
        ("url", {"url"}),
        ("email-src", {"email"}),
        ("target-email", {"email"}),
        ("filename|sha256", {"sha256"}),
        ("sha512/256", {"sha512256"}),
        ("x509-fingerprint-sha1", set()),
        ("phone-number", set()),
        ("uri", set()),
    ],
)
def test_misp_types_map_to_hub_kinds(misp_type: str, kinds: set[str]) -> None:
    assert misp_type_kinds(misp_type) == kinds


# ------------------------------------------------------------------------------ values


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("ipv4", "8.8.8.8", {"public-dns-v4"}),
        ("ipv4", "192.0.2.10", {"rfc5735"}),
        ("ipv4", "198.51.100.0/24", {"rfc5735"}),
        ("ipv4", "10.1.2.3", {"rfc1918"}),
        ("ipv4", "10.0.0.0/8", {"rfc1918"}),
        ("ipv6", "2001:db8::1", {"rfc3849"}),
        ("ipv6", "2001:DB8:1::/48", {"rfc3849"}),
        ("ipv6", "fe80::1", {"ipv6-linklocal"}),
        ("domain", "google.com", {"google", "alexa", "cisco_top1000", "tranco10k"}),
        ("domain", "www.google.com", {"google", "alexa", "cisco_top1000", "tranco10k"}),
        ("domain", "WWW.Google.COM.", {"google", "alexa", "cisco_top1000", "tranco10k"}),
        ("url", "https://www.google.com/search?q=1", {"alexa", "cisco_top1000", "tranco10k"}),
        ("url", "http://8.8.8.8/dns-query", {"public-dns-v4"}),
        ("email", "security@example.com", {"common-contact-emails"}),
        ("email", "someone@mailinator.com", {"disposable-email"}),
        ("md5", EMPTY_MD5, {"empty-hashes", "common-ioc-false-positive"}),
        ("sha256", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
         {"empty-hashes"}),
    ],
)  # fmt: skip
def test_known_values_hit(lists: WarningLists, kind: str, value: str, expected: set[str]) -> None:
    hits = lists.check(kind, value)
    assert expected <= set(ids(hits))
    assert [hit.list_name.casefold() for hit in hits] == sorted(
        h.list_name.casefold() for h in hits
    )
    assert len(set(ids(hits))) == len(hits)


def test_a_hit_names_list_description_and_match(lists: WarningLists) -> None:
    by_id = {hit.list_id: hit for hit in lists.check("ipv4", "10.1.2.3")}
    hit = by_id["rfc1918"]
    assert hit.list_name == "List of RFC 1918 CIDR blocks"
    assert hit.description
    assert hit.matched == "10.0.0.0/8"
    assert hit.item == "ipv4|10.1.2.3"
    public = {hit.list_id: hit for hit in lists.check("ipv4", "8.8.8.8")}["public-dns-v4"]
    assert public.matched == "8.8.8.8/32"
    # the most specific entry of a hostname list, the entry as compared
    alexa = {hit.list_id: hit for hit in lists.check("domain", "mail.google.com")}["alexa"]
    assert alexa.matched == "google.com"


def test_a_url_is_checked_by_its_host_too(lists: WarningLists) -> None:
    hits = {hit.list_id: hit for hit in lists.check("url", "https://www.google.com/search")}
    assert hits["cisco_top1000"].item == "domain|www.google.com"  # a domain-only string list
    assert hits["alexa"].item == "url|https://www.google.com/search"  # declares url itself
    by_ip = {hit.list_id: hit for hit in lists.check("url", "http://user@8.8.8.8:53/x")}
    assert by_ip["public-dns-v4"].item == "ipv4|8.8.8.8"


def test_networks_hit_only_inside_a_listed_range(lists: WarningLists) -> None:
    assert "rfc1918" not in ids(lists.check("ipv4", "8.0.0.0/6"))
    assert "rfc1918" not in ids(lists.check("ipv4", "10.0.0.0/7"))
    assert "rfc3849" not in ids(lists.check("ipv6", "2001:d00::/24"))


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("domain", UNLISTED_DOMAIN),
        ("domain", "evil.top"),
        ("ipv4", UNLISTED_IPV4),
        ("ipv6", UNLISTED_IPV6),
        ("url", f"https://{UNLISTED_DOMAIN}/gate.php?id=1"),
        ("email", "alice@gmail.com"),  # e-mail addresses are not checked by domain
        ("sha256", "9f" * 32),
    ],
)
def test_unlisted_values_do_not_hit(lists: WarningLists, kind: str, value: str) -> None:
    assert lists.check(kind, value) == ()


def test_lists_apply_only_to_their_kinds(lists: WarningLists) -> None:
    # ti-falsepositives declares md5/sha1/sha256; empty-hashes declares sha512 as well
    assert "ti-falsepositives" in ids(lists.check("md5", EMPTY_MD5))
    assert "ti-falsepositives" not in ids(lists.check("sha512", EMPTY_MD5))
    assert "empty-hashes" in ids(lists.check("sha512", EMPTY_MD5))
    # the role-account regex applies to e-mail addresses only
    assert "common-contact-emails" not in ids(lists.check("url", "http://security@x.example/"))
    # microsoft-attack-simulator (substring) declares ip-src and domain
    assert "microsoft-attack-simulator" in ids(lists.check("ipv4", "52.168.52.134"))


def test_applicability_with_lists_of_ones_own() -> None:
    own = WarningLists(
        {
            "hashes-only": document("string", ["google.com", EMPTY_MD5], ["md5"]),
            "domains": document("hostname", [".Example.ORG."], ["hostname", "domain|ip"]),
            "every-kind": document("substring", ["evil"], []),
            "ranges": document(
                "cidr", ["192.0.2.0/24", "not a range", "2001:db8::/32"], ["ip-dst"]
            ),
            "roles": document("regex", ["/^abuse@/i", "/unclosed", "#(#"], ["email-dst"]),
        }
    )
    assert ids(own.check("domain", "google.com")) == []
    assert ids(own.check("md5", EMPTY_MD5)) == ["hashes-only"]
    assert ids(own.check("domain", "www.example.org")) == ["domains"]
    assert ids(own.check("ipv4", "192.0.2.1")) == ["ranges"]
    assert ids(own.check("ipv6", "2001:db8::5")) == ["ranges"]
    assert ids(own.check("url", "https://evil.example.org/")) == ["domains", "every-kind"]
    assert ids(own.check("email", "Abuse@Example.net")) == ["roles"]
    assert ids(own.check("email", "noc@example.net")) == []
    with pytest.raises(InvalidInput):
        WarningLists({"bad": {"name": "x", "description": "y", "type": "unknown", "list": []}})
    with pytest.raises(InvalidInput):
        WarningLists({"bad": {"name": "x", "description": "y", "type": "string"}})


def test_empty_substrings_match_nothing() -> None:
    own = WarningLists({"s": document("substring", ["", "  "], ["domain"])})
    assert own.check("domain", "example.com") == ()


@pytest.mark.parametrize(
    "item",
    [
        "",
        "nonsense",
        "ipv4|999.1.1.1",
        "ipv4|10.0.0.1/33",
        "ipv6|::::",
        "ipv6|2001:db8::/129",
        "domain|",
        "domain|bad domain",
        "domain|\x00.com",
        "url|no-scheme.example",
        "url|http://[::1",
        "url|http://host:99999999/",
        "email|not-an-address",
        "md5|",
        "unknown-kind!|x",
        "|8.8.8.8",
    ],
)
def test_malformed_items_do_not_raise(lists: WarningLists, item: str) -> None:
    assert isinstance(lists.check_item(item), tuple)
    assert isinstance(lists.check_value(item.partition("|")[2]), tuple)


def test_items_and_raw_values(lists: WarningLists) -> None:
    assert "public-dns-v4" in ids(lists.check_item("ipv4|8.8.8.8"))
    assert "public-dns-v4" in ids(lists.check_value(" 8.8.8.8 "))
    assert "empty-hashes" in ids(lists.check_value(EMPTY_MD5.upper()))
    found = lists.check_items(["ipv4|8.8.8.8", f"domain|{UNLISTED_DOMAIN}", "ipv4|8.8.8.8"])
    assert list(found) == ["ipv4|8.8.8.8"]


# ---------------------------------------------------------------------------- patterns


@pytest.mark.parametrize(
    ("pattern", "items"),
    [
        ("[ipv4-addr:value = '8.8.8.8']", ["ipv4|8.8.8.8"]),
        (
            "[ipv4-addr:value = '8.8.8.8'] AND [domain-name:value = 'evil.top']",
            ["ipv4|8.8.8.8", "domain|evil.top"],
        ),
        (
            "[network-traffic:dst_ref.value = '8.8.8.8' AND network-traffic:dst_port = 53]",
            ["ipv4|8.8.8.8"],
        ),
        (
            "[file:hashes.MD5 = '" + EMPTY_MD5 + "' AND file:name = 'x.exe'] "
            "FOLLOWEDBY [url:value = 'http://a.example/'] WITHIN 60 SECONDS",
            ["md5|" + EMPTY_MD5, "url|http://a.example/"],
        ),
        ("[ipv6-addr:value ISSUBSET '2001:db8::/48']", ["ipv6|2001:db8::/48"]),
        ("[email-addr:value IN ('a@b.example', 'c@d.example')]",
         ["email|a@b.example", "email|c@d.example"]),
        ("[domain-name:value != 'google.com']", []),
        ("[domain-name:value NOT = 'google.com' AND domain-name:value = 'x.example']",
         ["domain|x.example"]),
        ("[domain-name:value LIKE '%.google.com']", []),
        ("[domain-name:resolves_to_refs[*].value = '10.1.2.3']", ["ipv4|10.1.2.3"]),
        ("[network-traffic:src_ref.value = '" + EMPTY_MD5 + "']", []),
        ("[network-traffic:dst_ref.value ISSUBSET '10.0.0.0/8']", ["ipv4|10.0.0.0/8"]),
        ("[url:value ISSUBSET 'http://a.example/']", []),
        ("[file:hashes[0] = 'abc']", []),
        ("not a pattern", []),
        ("[ipv4-addr:value = ", []),
    ],
)  # fmt: skip
def test_pattern_items(pattern: str, items: list[str]) -> None:
    assert pattern_items(pattern) == items


@pytest.mark.parametrize(
    "pattern",
    [
        "[ipv4-addr:value = '198.51.100.7/32']",
        "[domain-name:value = 'a.example' OR domain-name:value IN ('b.example', 'a.example')]",
        "[domain-name:value = 'a.example'] OR [url:value = 'http://b.example/']",
        "([file:hashes.'SHA-256' = '" + "AB" * 32 + "'] OR [email-addr:value = 'X@Y.example'])",
    ],
)
def test_pattern_items_agree_with_lookup_where_it_answers(pattern: str) -> None:
    assert lookup.items_from_pattern(pattern)
    assert pattern_items(pattern) == lookup.items_from_pattern(pattern)
    # the general walk gives the same items
    assert pattern_items(pattern.replace("[", "[ ")) == lookup.items_from_pattern(pattern)


def test_and_pattern_reports_the_listed_value(lists: WarningLists) -> None:
    found = lists.check_pattern(
        "[ipv4-addr:value = '8.8.8.8'] AND [domain-name:value = 'evil.top']"
    )
    assert list(found) == ["ipv4|8.8.8.8"]
    assert "public-dns-v4" in ids(found["ipv4|8.8.8.8"])
    assert lists.check_pattern("[ipv4-addr:value = '" + UNLISTED_IPV4 + "']") == {}
    assert lists.check_pattern("garbage") == {}


# ----------------------------------------------------------------------------- objects


@pytest.mark.parametrize(
    ("stix_object", "items"),
    [
        (
            {"type": "indicator", "pattern_type": "stix",
             "pattern": "[domain-name:value = 'google.com'] AND [ipv4-addr:value = '10.1.2.3']"},
            ["domain|google.com", "ipv4|10.1.2.3"],
        ),
        ({"type": "indicator", "pattern_type": "sigma", "pattern": "title: x"}, []),
        ({"type": "indicator", "pattern": 5}, []),
        ({"type": "ipv4-addr", "value": "8.8.8.8"}, ["ipv4|8.8.8.8"]),
        ({"type": "ipv6-addr", "value": "2001:DB8::1"}, ["ipv6|2001:db8::1"]),
        ({"type": "domain-name", "value": "WWW.Google.com"}, ["domain|www.google.com"]),
        ({"type": "url", "value": "http://8.8.8.8/"}, ["url|http://8.8.8.8/"]),
        ({"type": "email-addr", "value": "security@example.com"}, ["email|security@example.com"]),
        ({"type": "file", "hashes": {"MD5": EMPTY_MD5, "SHA-1": "x", "bad": 1}},
         ["md5|" + EMPTY_MD5, "sha1|x"]),
        ({"type": "file", "hashes": "not a dict"}, []),
        ({"type": "ipv4-addr", "value": ["8.8.8.8"]}, []),
        ({"type": "malware", "name": "x"}, []),
        ({}, []),
    ],
)  # fmt: skip
def test_object_items(stix_object: dict[str, Any], items: list[str]) -> None:
    assert object_items(stix_object) == items


def test_object_hits(lists: WarningLists) -> None:
    indicator = {
        "type": "indicator",
        "pattern_type": "stix",
        "pattern": "[ipv4-addr:value = '192.0.2.10' OR ipv4-addr:value = '" + UNLISTED_IPV4 + "']",
    }
    assert list(lists.check_object(indicator)) == ["ipv4|192.0.2.10"]
    observed = lists.check_object({"type": "file", "hashes": {"MD5": EMPTY_MD5}})
    assert "empty-hashes" in ids(observed["md5|" + EMPTY_MD5])
    assert lists.check_object({"type": "domain-name", "value": UNLISTED_DOMAIN}) == {}


# -------------------------------------------------------------------------- selection


def test_selection_parameters() -> None:
    none_but_empty = warning_lists(max_entries=0)
    assert all(info.entries == 0 for info in none_but_empty.lists)
    assert none_but_empty.check("ipv4", "10.1.2.3") == ()
    by_id = warning_lists(max_entries=0, include=["rfc1918"])
    by_name = warning_lists(max_entries=0, include=["List of RFC 1918 CIDR blocks"])
    assert by_id is by_name  # cached per selection
    assert ids(by_id.check("ipv4", "10.1.2.3")) == ["rfc1918"]
    small = warning_lists(max_entries=3)
    assert "rfc1918" in {info.id for info in small.lists}  # 3 entries
    assert "rfc5735" not in {info.id for info in small.lists}  # 15 entries
    without = warning_lists(exclude=["public-dns-v4"])
    assert "public-dns-v4" not in ids(without.check("ipv4", "8.8.8.8"))
    assert warning_lists() is warning_lists(max_entries=DEFAULT_MAX_ENTRIES)


def test_default_exclusions_name_real_lists_and_apply() -> None:
    assert set(DEFAULT_EXCLUDED_LISTS) <= {info.id for info in available_lists()}
    hub_default = warning_lists(exclude=DEFAULT_EXCLUDED_LISTS)
    assert hub_default.check("ipv4", "185.220.101.47") == ()  # a Tor exit: on vpn-ipv4 only
    assert "vpn-ipv4" in ids(warning_lists().check("ipv4", "185.220.101.47"))
    assert "public-dns-v4" in ids(hub_default.check("ipv4", "8.8.8.8"))


@pytest.mark.parametrize(
    "arguments",
    [
        {"max_entries": -1},
        {"include": ["no such list"]},
        {"exclude": ["no such list"]},
        {"include": ["rfc1918"], "exclude": ["List of RFC 1918 CIDR blocks"]},
    ],
)
def test_bad_selections_are_refused(arguments: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        warning_lists(**arguments)


# ------------------------------------------------------------------------- throughput


def test_ten_thousand_items_take_well_under_a_second(lists: WarningLists) -> None:
    rng = random.Random(7)
    items = []
    for index in range(2500):
        octets = ".".join(str(rng.randrange(256)) for _ in range(4))
        host = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(12))
        items += [
            f"ipv4|{octets}",
            f"domain|{host}.example{index}.com",
            f"url|https://{host}.net/path/{index}?q=1",
            f"sha256|{rng.getrandbits(256):064x}",
        ]
    start = time.perf_counter()
    lists.check_items(items)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0  # about 0.15 s on a small machine; generous against noisy runners
