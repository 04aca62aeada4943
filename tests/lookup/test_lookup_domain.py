"""``domain.lookup``: items, normalisation, the filter file, and the OPRF agreement between
the hub's direct evaluation and a member's blind one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from voprf import ristretto

from shieldwall.domain import lookup
from shieldwall.domain.errors import InvalidInput

SEED = bytes(range(32))


@pytest.mark.parametrize(
    ("pattern", "items"),
    [
        ("[ipv4-addr:value = '198.51.100.7']", ["ipv4|198.51.100.7"]),
        ("[ipv4-addr:value = '198.51.100.7/32']", ["ipv4|198.51.100.7"]),
        ("[ipv4-addr:value = '10.1.2.3/8']", ["ipv4|10.0.0.0/8"]),
        ("[ipv6-addr:value = '2001:DB8:0:0::1']", ["ipv6|2001:db8::1"]),
        ("[domain-name:value = 'Evil.Example.COM.']", ["domain|evil.example.com"]),
        ("[url:value = 'HTTP://Evil.Example/Path?Q=1']", ["url|http://evil.example/Path?Q=1"]),
        ("[email-addr:value = 'Boss@Example.com']", ["email|boss@example.com"]),
        (
            "[file:hashes.MD5 = 'D41D8CD98F00B204E9800998ECF8427E']",
            ["md5|d41d8cd98f00b204e9800998ecf8427e"],
        ),
        ("[file:hashes.'SHA-256' = '" + "AB" * 32 + "']", ["sha256|" + "ab" * 32]),
        (
            "[domain-name:value = 'a.example' OR domain-name:value IN ('b.example', 'a.example')]",
            ["domain|a.example", "domain|b.example"],
        ),
        (
            "[domain-name:value = 'a.example'] OR [url:value = 'http://b.example/']",
            ["domain|a.example", "url|http://b.example/"],
        ),
        # a single value cannot satisfy these: no items
        ("[ipv4-addr:value = '1.2.3.4' AND ipv4-addr:value = '1.2.3.5']", []),
        ("[domain-name:value = 'a.example'] AND [domain-name:value = 'b.example']", []),
        ("[domain-name:value = 'a.example'] FOLLOWEDBY [domain-name:value = 'b.example']", []),
        ("[domain-name:value = 'a.example'] REPEATS 2 TIMES", []),
        ("[domain-name:value != 'a.example']", []),
        ("[domain-name:value LIKE '%.example']", []),
        ("[file:name = 'evil.exe']", []),
        ("[domain-name:value = 'a.example' OR file:name = 'evil.exe']", []),
        ("this is not a pattern", []),
    ],
)
def test_items_from_pattern(pattern: str, items: list[str]) -> None:
    assert lookup.items_from_pattern(pattern) == items
    assert lookup._parsed_items(pattern) == items  # the fast path agrees with the parser


SIMPLE_VALUES = st.sampled_from(
    ["198.51.100.7", "10.0.0.0/8", "1.2.3", "2001:db8::1", "Evil.Example.", "http://A.b/c",
     "a@b.example", "", " x ", "d41d8cd98f00b204e9800998ecf8427e", "ab" * 32, "zz"]
)  # fmt: skip
SIMPLE_SHAPES = st.sampled_from(
    ["[ipv4-addr:value = '{}']", "[ipv6-addr:value='{}']", "[ domain-name:value = '{}' ]",
     "[url:value = '{}']", "[email-addr:value = '{}']", "[file:hashes.MD5 = '{}']",
     "[file:hashes.'SHA-256' = '{}']", "[artifact:hashes.'SHA-1' = '{}']",
     "[file:hashes.sha256 = '{}']"]
)  # fmt: skip


@given(SIMPLE_SHAPES, SIMPLE_VALUES)
def test_fast_path_agrees_with_the_parser(shape: str, value: str) -> None:
    pattern = shape.format(value)
    assert lookup.items_from_pattern(pattern) == lookup._parsed_items(pattern)


@pytest.mark.parametrize(
    ("value", "item"),
    [
        ("198.51.100.7", "ipv4|198.51.100.7"),
        (" 2001:db8::1 ", "ipv6|2001:db8::1"),
        ("d41d8cd98f00b204e9800998ecf8427e", "md5|d41d8cd98f00b204e9800998ecf8427e"),
        (
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "sha1|da39a3ee5e6b4b0d3255bfef95601890afd80709",
        ),
        ("https://Evil.Example/a", "url|https://evil.example/a"),
        ("a@b.example", "email|a@b.example"),
        ("WWW.Example.org.", "domain|www.example.org"),
        ("1.2.3", None),
        ("not a value", None),
        ("", None),
    ],
)
def test_guess(value: str, item: str | None) -> None:
    assert lookup.guess(value) == item


@given(st.text(max_size=80))
def test_guess_never_raises(text: str) -> None:
    item = lookup.guess(text)
    assert item is None or "|" in item


def test_queries_cover_announced_ranges() -> None:
    prefixes = {"ipv4": [8, 24], "ipv6": [32]}
    assert lookup.queries_for("ipv4|10.1.2.3", prefixes) == [
        "ipv4|10.1.2.3",
        "ipv4|10.0.0.0/8",
        "ipv4|10.1.2.0/24",
    ]
    assert lookup.queries_for("ipv6|2001:db8::1", prefixes) == [
        "ipv6|2001:db8::1",
        "ipv6|2001:db8::/32",
    ]
    assert lookup.queries_for("domain|a.example", prefixes) == ["domain|a.example"]
    assert lookup.prefix_lengths(["ipv4|10.0.0.0/8", "ipv4|1.2.3.4", "ipv6|2001:db8::/32"]) == {
        "ipv4": [8],
        "ipv6": [32],
    }


def test_blind_evaluation_equals_the_hubs_direct_evaluation() -> None:
    items = ["domain|evil.example", "ipv4|10.0.0.0/8", "url|" + "x" * 5000]
    direct = list(lookup.oprf_outputs(SEED, 1, items))
    blinds = [ristretto.Client.blind(lookup.item_bytes(i)) for i in items]
    evaluated = lookup.oprf_evaluate_blinded(SEED, 1, [bytes(b.serialize()) for _, b in blinds])
    unblinded = ristretto.Client.finalize_batch(
        [c for c, _ in blinds],
        ristretto.VerifiableBatchOutput.deserialize(evaluated),
        ristretto.PublicKey.deserialize(bytes.fromhex(lookup.oprf_public_key(SEED, 1))),
    )
    assert [bytes(u) for u in unblinded] == direct
    assert list(lookup.oprf_outputs(SEED, 2, items[:1])) != direct[:1]  # generations differ


def test_filter_file_round_trip_and_damage() -> None:
    items = ["domain|evil.example", "ipv4|10.0.0.0/8"]
    built = lookup.LookupFilter.empty(
        {"mode": lookup.ONLINE, "prefixes": lookup.prefix_lengths(items)}, 100
    )
    built.add(lookup.oprf_outputs(SEED, 1, items))
    data = built.to_bytes()
    again = lookup.LookupFilter.from_bytes(data)
    assert again.prefixes == {"ipv4": [8], "ipv6": []}
    assert all(o in again for o in lookup.oprf_outputs(SEED, 1, items))
    assert next(lookup.oprf_outputs(SEED, 1, ["domain|good.example"])) not in again
    with pytest.raises(InvalidInput, match="not a Shieldwall lookup filter"):
        lookup.LookupFilter.from_bytes(b"PK\x03\x04")
    with pytest.raises(InvalidInput, match="damaged"):
        lookup.LookupFilter.from_bytes(data[: len(lookup.MAGIC) + 5])
    with pytest.raises(InvalidInput, match="damaged"):
        lookup.LookupFilter.from_bytes(data[:-7])
    with pytest.raises(InvalidInput, match="use --private"):
        again.offline_contains("domain|evil.example")


def test_offline_filter_answers_with_its_own_key() -> None:
    key = bytes(32)
    items = ["sha256|" + "ab" * 32, "ipv4|192.0.2.0/24"]
    offline = lookup.LookupFilter.empty(
        {"mode": lookup.OFFLINE, "hmac_key": key.hex(), "prefixes": lookup.prefix_lengths(items)},
        100,
    )
    offline.add(lookup.hmac_output(key, i) for i in items)
    again = lookup.LookupFilter.from_bytes(offline.to_bytes())
    assert again.offline_contains("sha256|" + "ab" * 32)
    assert again.offline_contains("ipv4|192.0.2.77")
    assert not again.offline_contains("ipv4|192.0.3.1")


def test_batch_limits() -> None:
    with pytest.raises(InvalidInput, match="1 to 1000"):
        lookup.oprf_evaluate_blinded(SEED, 1, [])
    with pytest.raises(InvalidInput, match="not a valid ristretto255 element"):
        lookup.oprf_evaluate_blinded(SEED, 1, [b"\xff" * 32])
