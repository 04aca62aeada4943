"""Unit tests of the matcher's parts: IP parsing and the network index, normalisation, LIKE and
regex grouping, JSON timestamps, the binding operators (stix2-matcher's own tests of its private
interval helpers, ported), the API (rejections, normalisation, EXISTS), the ``match_values``
fast path, and index sharing (many patterns in one matcher = each pattern alone).
"""

from __future__ import annotations

import ipaddress
import socket
from datetime import UTC

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching_strategies import BASE, COMPARISONS, SECOND, canonical_text, observation
from matching_strategies import observation_expression as expressions
from stix2matcher.matcher import _str_to_datetime

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.matching import Match, Matcher, Observation
from shieldwall.domain.matching import bindings as b
from shieldwall.domain.matching.ids import compact, expand
from shieldwall.domain.matching.index import LikeIndex, PathIndex
from shieldwall.domain.matching.ip import NetworkIndex, contains, inet_aton, parse_network, quad
from shieldwall.domain.matching.paths import hash_name, ipv4_text, ipv6_text, select
from shieldwall.domain.matching.values import json_timestamp

SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
Y2030, Y2031 = "t'2030-01-01T00:00:00Z'", "t'2031-01-01T00:00:00Z'"
FAST = settings(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

# ------------------------------------------------------------------------------ addresses


def _socket_aton(text: str) -> int | None:
    try:
        return int.from_bytes(socket.inet_aton(text), "big")
    except (OSError, ValueError):
        return None


@FAST
@given(st.text(alphabet="0123456789xXabcdefABG. \t/\n", max_size=20))
def test_inet_aton_reads_like_the_c_library(text: str) -> None:
    assert inet_aton(text) == _socket_aton(text)


@pytest.mark.parametrize(
    "text",
    ["1.2.3.4", "1.2.3", "1", "0x7f.1", "010.1.1.1", "08.1.1.1", "1.2.3.4 junk", " 1.2.3.4",
     "1.2.3.4.", "0x", "4294967295", "4294967296", "1.16777215", "1.16777216", "1.2.3.4é",
     "1.2.3.4 é", "٣.1.1.1", "1.2.3.4\x00"],
)  # fmt: skip
def test_inet_aton_corner_cases(text: str) -> None:
    assert inet_aton(text) == _socket_aton(text)


@settings(FAST, max_examples=40)
@given(st.ip_addresses(v=4))
def test_quad_is_the_fast_path_of_inet_aton(address: ipaddress.IPv4Address) -> None:
    assert quad(str(address)) == int(address) == inet_aton(str(address))


def test_networks() -> None:
    assert parse_network("10.0.0.0/8") == (32, 0x0A000000, 8)
    assert parse_network("10.1.2.3") == (32, 0x0A010203, 32)
    assert parse_network("10.0.0.0/33") is None
    assert parse_network("10.0.0.0/0") == (32, 0x0A000000, 0)  # stix2-matcher raises: ours /0
    assert parse_network("2001:db8::/32") == (128, 0x20010DB8 << 96, 32)
    assert parse_network("2001:DB8::1") == (128, (0x20010DB8 << 96) | 1, 128)
    assert parse_network("::1/129") is None
    assert parse_network("evil.com") is None
    assert contains((32, 0x0A000000, 8), (32, 0x0A0000FF, 24))
    assert not contains((32, 0x0A000000, 24), (32, 0x0A000000, 8))
    assert not contains((32, 0, 0), (128, 0, 128))  # families never mix


@settings(FAST, max_examples=60)
@given(
    st.lists(st.tuples(st.integers(0, 255), st.integers(0, 12)), min_size=1, max_size=20),
    st.tuples(st.integers(0, 255), st.integers(0, 12)),
)
def test_network_index_answers_like_brute_force(
    stored: list[tuple[int, int]], probe: tuple[int, int]
) -> None:
    """Small 12-bit networks (address << 20) so that containment happens often."""

    def network(pair: tuple[int, int]) -> tuple[int, int, int]:
        return (32, pair[0] << 24, pair[1] + 0 if pair[1] <= 8 else pair[1])

    index: NetworkIndex[int] = NetworkIndex()
    for n, pair in enumerate(stored):
        index.add(network(pair), n)
    index.freeze()
    query = network(probe)
    containing = {n for n, pair in enumerate(stored) if contains(network(pair), query)}
    contained = {n for n, pair in enumerate(stored) if contains(query, network(pair))}
    assert set(index.containing(query)) == containing
    assert set(index.contained(query)) == contained


# -------------------------------------------------------------------------- normalisation


@settings(FAST, max_examples=40)
@given(st.ip_addresses(v=6))
def test_ipv6_text_is_rfc5952(address: ipaddress.IPv6Address) -> None:
    for spelling in (str(address), address.exploded, address.exploded.upper()):
        assert ipv6_text(spelling) == address.compressed
    assert ipv6_text(f"{address.exploded}/128") == address.compressed
    assert ipv6_text(f"{address.exploded}/64") == f"{address.compressed}/64"


def test_ipv4_and_hash_names() -> None:
    assert ipv4_text("010.001.000.009") == "010.001.000.009"  # octal to inet_aton: ambiguous
    assert ipv4_text("10.0.0.1/32") == "10.0.0.1"
    assert ipv4_text("10.0.0.0/8") == "10.0.0.0/8"
    assert {hash_name(n) for n in ("SHA-256", "sha256", "Sha_256", "SHA256")} == {"SHA256"}


def test_select_follows_references_lists_and_decodes() -> None:
    objects: dict[str, dict[str, object]] = {
        "0": {
            "type": "x",
            "a_ref": "1",
            "b_refs": ["1", "2", 7],
            "l": [1, [2, 3]],
            "d_hex": "6869",
        },
        "1": {"type": "y", "name": "one"},
        "2": {"type": "y", "name": "two", "e_bin": "YWx"},
    }
    root = objects["0"]
    assert select(objects, root, ("a_ref", "name")) == ["one"]
    assert select(objects, root, ("b_refs", "*", "name")) == ["one", "two"]
    assert select(objects, root, ("b_refs", "name")) == []  # a list of objects has no keys
    assert select(objects, root, ("l", "*", 1)) == [3]
    assert select(objects, root, ("d_hex",)) == [b"hi"]
    assert select(objects, objects["2"], ("e_bin",)) == []  # undecodable: dropped
    hashes = {"type": "file", "hashes": {"sha-256": "AB"}}
    assert select({}, hashes, ("hashes", "SHA256")) == []
    assert select({}, hashes, ("hashes", "SHA256"), loose_hashes=True) == ["AB"]


# ---------------------------------------------------------------------------------- values


@FAST
@given(
    st.from_regex(
        r"\A[0-9]{4}-[0-9]{1,2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}(:[0-9]{2})?(\.[0-9]{0,10})?[Zz]?\Z"
    )
)
def test_json_timestamps_read_like_stix2_matcher(text: str) -> None:
    try:
        moment = _str_to_datetime(text)
    except ValueError:
        assert json_timestamp(text) is None
        return
    delta = moment.astimezone(UTC) - moment.replace(year=1970, month=1, day=1, hour=0, minute=0,
                                                    second=0, microsecond=0)  # fmt: skip
    expected = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    assert json_timestamp(text) == expected


@pytest.mark.parametrize(
    ("operand", "shape"),
    [("evil.com", ("exact", "evil.com")), ("%.evil.com", ("suffix", ".evil.com")),
     ("http://x/%", ("prefix", "http://x/")), ("%evil%", None), ("e_il", None), ("%", None),
     ("a%b", None), ("", ("exact", ""))],
)  # fmt: skip
def test_like_shapes(operand: str, shape: tuple[str, str] | None) -> None:
    assert LikeIndex.shape(operand) == shape


LIKE_WORDS = ["evil.com", "www.evil.com", "Evil.COM", "x\n", "ab", "", "ḍ̇", "d\u0323\u0307"]


@settings(FAST, max_examples=50)
@given(
    st.lists(st.tuples(st.sampled_from(["", "%"]), st.sampled_from(LIKE_WORDS),
                       st.sampled_from(["", "%"])), min_size=1, max_size=6),
    st.sampled_from([*LIKE_WORDS, "a.evil.com\n", "EVIL.COM", b"evil.com", 5]),
    st.booleans(),
)  # fmt: skip
def test_like_and_regex_indexes_never_miss(
    operands: list[tuple[str, str, str]], value: object, normalise: bool
) -> None:
    """Whatever LIKE holds for a value, the index offers it (then the test decides)."""
    texts = [f"[domain-name:value LIKE '{a}{w}{z}']".replace("\n", "\\n") for a, w, z in operands]
    texts = [t for t in texts if "\\n" not in t]
    texts += ["[domain-name:value MATCHES '^e']", "[domain-name:value MATCHES '(a)\\\\1']"]
    pairs = [(f"i{n}", text) for n, text in enumerate(texts)]
    matcher = Matcher.compile(pairs, normalise=normalise)
    lone = [Observation({"0": {"type": "domain-name", "value": value}}, BASE, BASE)]
    for pair in pairs:
        alone = Matcher.compile([pair], normalise=normalise).match(lone)
        together = [m for m in matcher.match(lone) if m.indicator_id == pair[0]]
        assert alone == together


# -------------------------------------------------------------------------------- bindings
# stix2-matcher's tests of _overlap and _timestamp_intervals_within (test_temporal_qualifiers),
# restated for what they decide: START/STOP membership and the WITHIN window.

OVERLAP_CASES = [  # (start, stop, first, last, stix2-matcher's _overlap result)
    (1, 1, 1, 1, "point"), (1, 1, 1, 2, "inner"), (1, 2, 1, 1, "outer"), (1, 2, 2, 2, "inner"),
    (2, 2, 1, 2, "outer"), (1, 2, 2, 3, "inner"), (2, 3, 1, 2, "outer"), (1, 2, 1, 3, "overlap"),
    (1, 3, 1, 2, "overlap"), (1, 3, 2, 3, "overlap"), (2, 3, 1, 3, "overlap"),
    (1, 3, 2, 4, "overlap"), (2, 4, 1, 3, "overlap"), (1, 4, 2, 3, "overlap"),
    (2, 3, 1, 4, "overlap"), (1, 3, 2, 2, "overlap"), (2, 2, 1, 3, "overlap"),
    (1, 2, 3, 4, "none"), (3, 4, 1, 2, "none"),
]  # fmt: skip


@pytest.mark.parametrize(("start", "stop", "first", "last", "overlap"), OVERLAP_CASES)
def test_start_stop_keeps_what_overlaps_or_touches_at_start(
    start: int, stop: int, first: int, last: int, overlap: str
) -> None:
    kept = list(b.start_stop(iter([((0, 0),)]), start, stop, [first], [last]))
    # stix2-matcher keeps _OVERLAP and _OVERLAP_TOUCH_OUTER, and nothing when start >= stop.
    assert bool(kept) == (start < stop and overlap in ("overlap", "outer"))


WITHIN_MATCH = [
    (((1, 1), (1, 1)), 0), (((1, 1), (1, 1)), 1), (((1, 1), (1, 2)), 1), (((1, 2), (3, 4)), 1),
    (((1, 4), (2, 3)), 1), (((1, 3), (2, 4)), 1), (((1, 2), (3, 4), (5, 6)), 4),
    (((1, 4), (2, 3), (4, 5)), 1), (((1, 2), (2, 3), (4, 5)), 2), (((1, 2), (2, 3), (4, 5)), 3),
]  # fmt: skip
WITHIN_NOMATCH = [
    (((1, 2), (3, 4)), 0), (((1, 2), (4, 5)), 1), (((1, 2), (3, 4), (5, 6)), 2),
    (((1, 5), (1, 2), (4, 5)), 1), (((1, 2), (1, 3), (1, 4), (4, 5)), 1),
]  # fmt: skip


@pytest.mark.parametrize(
    ("intervals", "duration", "expected"),
    [(i, d, True) for i, d in WITHIN_MATCH] + [(i, d, False) for i, d in WITHIN_NOMATCH],
)
def test_within_window(
    intervals: tuple[tuple[int, int], ...], duration: int, expected: bool
) -> None:
    binding = tuple((n, 0) for n in range(len(intervals)))
    first, last = [i[0] for i in intervals], [i[1] for i in intervals]
    assert bool(list(b.within(iter([binding]), duration, first, last))) == expected


def test_repeats_uses_each_instance_once() -> None:
    counts = [2, 1]
    assert next(b.repeats(b.leaf([0, 1], counts), 3)) == ((0, 0), (0, 1), (1, 0))
    assert next(b.repeats(b.leaf([0, 1], counts), 4), None) is None


# ------------------------------------------------------------------------------------- API


def test_rejections_are_reported_not_raised() -> None:
    matcher = Matcher.compile(
        [
            ("ok", "[ipv4-addr:value = '10.0.0.1']"),
            ("syntax", "[ipv4-addr:value = "),
            ("ok", "[ipv4-addr:value = '10.0.0.2']"),
            ("", "[ipv4-addr:value = '10.0.0.3']"),
            ("within", "[a:b = 1] WITHIN 0 SECONDS"),
            ("mixed", "[a:b IN (1, 'x')]"),
            ("regex", "[a:b MATCHES '(']"),
            ("subnet", "[a:b ISSUBSET 'evil.com']"),
        ]
    )
    assert len(matcher) == 1
    reasons = {r.indicator_id: r.reason for r in matcher.rejected}
    assert set(reasons) == {"syntax", "ok", "", "within", "mixed", "regex", "subnet"}
    assert "twice" in reasons["ok"]
    assert "does not compile" in reasons["regex"]


def _lone(obj: dict[str, object], at: int = BASE) -> list[Observation]:
    return [Observation({"0": obj}, at, at)]


def test_normalising_mode_forgives_case_and_spelling() -> None:
    pairs = [
        ("domain", "[domain-name:value = 'EVIL.com']"),
        ("hash", f"[file:hashes.'SHA-256' = '{SHA.upper()}']"),
        ("v6", "[ipv6-addr:value = '2001:DB8:0:0:0:0:0:1']"),
        ("v4", "[ipv4-addr:value = '10.0.0.9/32']"),
        ("block", "[ipv4-addr:value = '10.1.0.0/16']"),
        ("suffix", "[domain-name:value LIKE '%.EVIL.com']"),
    ]  # fmt: skip
    loose, exact = Matcher.compile(pairs), Matcher.compile(pairs, normalise=False)
    sha = SHA
    cases = {
        "domain": {"type": "domain-name", "value": "evil.COM"},
        "hash": {"type": "file", "hashes": {"sha256": sha}},
        "v6": {"type": "ipv6-addr", "value": "2001:db8::1"},
        "v4": {"type": "ipv4-addr", "value": "10.0.0.9"},
        "block": {"type": "ipv4-addr", "value": "10.1.200.3"},
        "suffix": {"type": "domain-name", "value": "WWW.evil.com"},
    }
    for indicator, obj in cases.items():
        assert indicator in {m.indicator_id for m in loose.match(_lone(obj))}, indicator
        assert indicator not in {m.indicator_id for m in exact.match(_lone(obj))}, indicator


def test_exists_and_not_exists() -> None:
    matcher = Matcher.compile(
        [
            ("has", "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e' AND EXISTS file:name]"),
            ("lacks", "[NOT EXISTS file:name]"),
            ("exists", "[EXISTS file:size]"),
        ]
    )
    named = {"type": "file", "name": "a", "hashes": {"MD5": "d41d8cd98f00b204e9800998ecf8427e"}}
    assert [m.indicator_id for m in matcher.match(_lone(named))] == ["has"]
    assert [m.indicator_id for m in matcher.match(_lone({"type": "file", "size": 0}))] == [
        "exists",
        "lacks",
    ]
    assert matcher.match_values("file:size", [None]) == [(0, "exists"), (0, "lacks")]


def test_match_reports_the_first_binding_in_id_order() -> None:
    matcher = Matcher.compile(
        [
            ("b", "[x:n = 1] FOLLOWEDBY [x:n = 2]"),
            ("a", "[x:n = 2] OR [x:n = 1]"),
            ("c", "[x:n > 0] REPEATS 3 TIMES"),
        ]
    )
    observations = [
        Observation({"0": {"type": "x", "n": 1}}, BASE, BASE),
        Observation({"0": {"type": "x", "n": 2}}, BASE + SECOND, BASE + SECOND, 2),
    ]
    assert matcher.match(observations) == [Match("a", (1,)), Match("b", (0, 1)), Match("c", (0, 1))]


def test_observation_checks_its_arguments() -> None:
    with pytest.raises(InvalidInput):
        Observation({}, 2, 1)
    with pytest.raises(InvalidInput):
        Observation({}, 1, 1, 0)


def test_plain_patterns_are_stored_as_ids() -> None:
    matcher = Matcher.compile([(f"i{n}", f"[ipv4-addr:value = '10.0.{n}.1']") for n in range(50)])
    path: PathIndex = matcher._index.paths["ipv4-addr", ("value",)]
    assert all(type(entry) is str for entry in path.equal.values())
    assert path.simple


# ---------------------------------------------------------------------------- match_values


def test_match_values_bulk_and_general_paths() -> None:
    matcher = Matcher.compile(
        [
            ("ip", "[ipv4-addr:value = '10.0.0.1']"),
            ("two", "[ipv4-addr:value IN ('10.0.0.1', '10.0.0.2')]"),
            ("dom", "[domain-name:value = 'evil.com']"),
            ("net", "[x-net:cidr ISSUBSET '10.0.0.0/8']"),
            ("pair", "[ipv4-addr:value = '10.0.0.1'] AND [domain-name:value = 'evil.com']"),
            ("later", f"[domain-name:value = 'evil.com'] START {Y2030} STOP {Y2031}"),
            ("sha", f"[file:hashes.'SHA-256' = '{SHA}']"),
        ]
    )  # fmt: skip
    assert matcher.match_values("ipv4-addr:value", ["10.0.0.1", "1.1.1.1", "10.0.0.2"]) == [
        (0, "ip"), (0, "two"), (2, "two"),
    ]  # fmt: skip
    assert matcher.match_values("ipv4-addr:value", ["10.0.0.1/32", ["x"], 5]) == [
        (0, "ip"),
        (0, "two"),
    ]
    assert matcher.match_values("domain-name:value", ["a\nb", "Evil.com"]) == [(1, "dom")]
    assert matcher.match_values("domain-name:value", ["EVIL.COM"]) == [(0, "dom")]
    assert matcher.match_values("x-net:cidr", ["10.2.3.4", "11.0.0.1"]) == [(0, "net")]
    in_2030 = 1_900_000_000 * SECOND
    assert matcher.match_values("domain-name:value", ["evil.com"], observed_at=in_2030) == [
        (0, "dom"), (0, "later"),
    ]  # fmt: skip
    sha = SHA.upper()
    for kind in ("file:hashes.'SHA-256'", "file:hashes.SHA-256", "file:hashes.sha256"):
        assert matcher.match_values(kind, [sha]) == [(0, "sha")]
    assert matcher.match_values("indicator:name", ["x"]) == []
    with pytest.raises(InvalidInput):
        matcher.match_values("no path", ["x"])


@settings(FAST, max_examples=60)
@given(
    st.lists(st.sampled_from([t for ts in COMPARISONS.values() for t in ts]), min_size=1,
             max_size=40),
    st.sampled_from(sorted(COMPARISONS)),
    st.lists(observation(), min_size=1, max_size=1),
    st.booleans(),
)  # fmt: skip
def test_match_values_is_match_on_a_lone_object(
    tests: list[str], kind: str, sample: list[Observation], normalise: bool
) -> None:
    """For every value of every path of a drawn object, the fast path equals ``match``."""
    matcher = Matcher.compile(
        [(f"i{n}", f"[{t}]") for n, t in enumerate(tests)]
        + [(f"q{n}", f"[{t}] WITHIN 1 SECONDS") for n, t in enumerate(tests[:5])],
        normalise=normalise,
    )
    for obj in sample[0].objects.values():
        for name, value in obj.items():
            if name == "type" or name.endswith(("_ref", "_refs")):
                continue
            path = f"{obj['type']}:{name}"
            expected = {
                m.indicator_id for m in matcher.match(_lone({"type": obj["type"], name: value}))
            }
            assert {i for _, i in matcher.match_values(path, [value], BASE)} == expected, path


# ---------------------------------------------------------------------------- index sharing


@settings(FAST, max_examples=50)
@given(
    st.lists(observation(), min_size=1, max_size=4),
    st.lists(expressions, min_size=2, max_size=12),
    st.booleans(),
)
def test_many_patterns_in_one_matcher_match_as_each_alone(
    observations: list[Observation], texts: list[str], normalise: bool
) -> None:
    pairs = [(f"i{n:02d}", canonical_text(text)) for n, text in enumerate(texts)]
    together = Matcher.compile(pairs, normalise=normalise).match(observations)
    alone = [
        m
        for pair in pairs
        for m in Matcher.compile([pair], normalise=normalise).match(observations)
    ]
    assert together == alone


@pytest.mark.parametrize(
    "indicator_id",
    [
        "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "indicator--8E2E2D2B-17d4-4cbf-938f-98ee46b3cd3f",
        "indicator--00000000-0000-0000-0000-000000000000",
        "indicator--8e2e2d2b17d4-4cbf-938f-98ee46b3cd3f-",
        "x",
        "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3 ",
    ],
)
def test_ids_round_trip(indicator_id: str) -> None:
    stored = compact(indicator_id)
    assert expand(stored) == indicator_id
    assert isinstance(stored, int) == (
        indicator_id == "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
    )


def test_duplicate_ids_are_rejected_whatever_their_form() -> None:
    uuid_id = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
    matcher = Matcher.compile(
        [
            (uuid_id, "[x:y = 'a']"),
            (uuid_id, "[x:y = 'b']"),
            ("z", "[x:y = 'c']"),
            ("z", "[x:y != 'c']"),
        ]
    )
    assert [r.indicator_id for r in matcher.rejected] == [uuid_id, "z"]
    assert matcher.match_values("x:y", ["a", "b"]) == [(0, uuid_id)]


def test_long_patterns() -> None:
    """An OR of thousands of brackets (feeds do that) is fine; 500 nested ANDs are refused."""
    wide = " OR ".join(f"[ipv4-addr:value = '10.0.{i // 256}.{i % 256}']" for i in range(5000))
    deep = " AND ".join(f"[ipv4-addr:value = '10.0.{i // 256}.{i % 256}']" for i in range(500))
    chain = " FOLLOWEDBY ".join(f"[ipv4-addr:value = '10.0.0.{i}']" for i in range(150))
    matcher = Matcher.compile([("wide", wide), ("deep", deep), ("chain", chain)])
    assert [r.indicator_id for r in matcher.rejected] == ["deep"]
    seen = [
        Observation({"0": {"type": "ipv4-addr", "value": f"10.0.0.{i}"}}, i, i) for i in range(150)
    ]
    assert matcher.match(seen) == [Match("chain", tuple(range(150))), Match("wide", (0,))]
    assert matcher.match_values("ipv4-addr:value", ["10.0.19.7"]) == [(0, "wide")]
