"""Records' observables fed to the compiled STIX matcher find the known hits of every sample."""

from __future__ import annotations

from collections import defaultdict

import pytest
from logs_support import MD5_A, SHA1_B, SHA256_A, read_sample

from shieldwall.domain.logs import KINDS, LogRecord
from shieldwall.domain.matching import Matcher

INDICATORS = [
    ("indicator--a", "[domain-name:value = 'evil-update.net']"),
    ("indicator--b", "[ipv4-addr:value = '198.51.100.0/24']"),
    ("indicator--c", f"[file:hashes.'SHA-256' = '{SHA256_A.upper()}']"),
    ("indicator--d", "[url:value = 'http://evil-update.net/gate.php?id=7']"),
    ("indicator--e", "[email-addr:value = 'Attacker@Phish-Mail.org']"),
    ("indicator--f", "[ipv6-addr:value = '2001:db8:bad:0::66']"),
    ("indicator--g", f"[file:hashes.MD5 = '{MD5_A}']"),
    (
        "indicator--h",  # valid on the day of the samples: needs the records' timestamps
        "[domain-name:value = 'login-micr0soft.com']"
        " START t'2024-03-01T00:00:00Z' STOP t'2024-03-02T00:00:00Z'",
    ),
    (
        "indicator--i",  # valid a year earlier: never hits
        "[domain-name:value = 'login-micr0soft.com']"
        " START t'2023-01-01T00:00:00Z' STOP t'2023-01-02T00:00:00Z'",
    ),
    ("indicator--j", f"[file:hashes.'SHA-1' = '{SHA1_B}']"),
    ("indicator--k", "[domain-name:value LIKE '%.evil-update.net']"),
]


def expect(spec: str) -> set[tuple[int, str]]:
    """``"2b 3a"`` → ``{(2, "b"), (3, "a")}``: line number and indicator letter."""
    return {(int(hit[:-1]), hit[-1]) for hit in spec.split()}


# sample → the (line number, indicator letter) pairs that match
HITS: dict[str, set[tuple[int, str]]] = {
    "plain.txt": expect("2b 3a 6e 8g 10c 13a"),
    "firewall.csv": expect("2a 2b 3g"),
    "app.jsonl": expect("1a 1b 2c 2f"),
    "zeek_conn.log": expect("9b 11f"),
    "zeek_dns.log": expect("9a 9b 10b 10k"),
    "zeek_http.log": expect("9a 9b 9d 10a 10d"),
    "zeek_files.log": expect("9c 9g 10b 10j"),
    "zeek_ssl.log": expect("9b 9h"),
    "zeek_json.log": expect("1b 2a 2b 3a 3b 3d 4c 4g"),
    "eve.json": expect("1b 2a 2b 3k 4a 4b 4d 5b 5h 6c 6g 8b 8e"),
    "access.log": expect("1b 3f 4a 4d 5h 6b 7b"),
    "bind_queries.log": expect("1a 2k"),
    "pihole.log": expect("1a 2a 3a 3b 6k 7b"),
    "windows_dns.log": expect("10a 11a 12k"),
}


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    compiled = Matcher.compile(INDICATORS)
    assert compiled.rejected == ()
    return compiled


def hits(records: list[LogRecord], matcher: Matcher) -> set[tuple[int, str]]:
    """Each record's values, batched per kind, matched at the record's time."""
    found: set[tuple[int, str]] = set()
    for record in records:
        by_kind: dict[str, list[str]] = defaultdict(list)
        for observable in record.observables:
            by_kind[observable.kind].append(observable.value)
        for kind, values in by_kind.items():
            for _, indicator_id in matcher.match_values(kind, values, record.timestamp):
                found.add((record.line_no, indicator_id.removeprefix("indicator--")))
    return found


@pytest.mark.parametrize("name", sorted(HITS))
def test_known_hits(name: str, matcher: Matcher) -> None:
    assert hits(read_sample(name), matcher) == HITS[name]


def test_every_kind_is_an_object_path_the_matcher_reads(matcher: Matcher) -> None:
    for kind in KINDS:
        matcher.match_values(kind, ["x"])  # raises InvalidInput for a kind it cannot read


def test_bulk_matching_across_records(matcher: Matcher) -> None:
    """The fast path: all values of one kind from a whole log in one call."""
    records = read_sample("zeek_dns.log") + read_sample("pihole.log")
    values = [
        (record.line_no, observable.value)
        for record in records
        for observable in record.observables
        if observable.kind == "domain-name:value"
    ]
    matched = matcher.match_values("domain-name:value", [value for _, value in values])
    assert {(values[position][1], indicator) for position, indicator in matched} == {
        ("evil-update.net", "indicator--a"),
        ("cdn.evil-update.net", "indicator--k"),
    }
