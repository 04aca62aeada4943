"""Hand-run measurements for the compiled matcher (not a test: nothing here asserts a time).

    .venv/bin/python tests/matching/bench_matching.py compile      # W4: 100k patterns
    .venv/bin/python tests/matching/bench_matching.py values       # W3: 1M values, 100k and 1M
    .venv/bin/python tests/matching/bench_matching.py memory       # W6: RSS for 1M indicators
    .venv/bin/python tests/matching/bench_matching.py peer         # W3/W4 peers, reduced grid

Indicators are the common feed mix: IPv4, domain, URL, SHA-256 and MD5 equality patterns.
Run each mode in its own process (memory is read from /proc/self/status).
"""

from __future__ import annotations

import gc
import hashlib
import random
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial

from shieldwall.domain.matching import Matcher, Observation
from shieldwall.domain.patterns import parse_pattern

KINDS = ("ipv4", "domain", "url", "sha256", "md5")


def _value(kind: str, n: int) -> str:
    if kind == "ipv4":
        return f"{(n >> 24) % 223 + 1}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
    if kind == "domain":
        return f"host{n}.example{n % 977}.com"
    if kind == "url":
        return f"http://site{n % 5003}.example.net/path/{n}/index.php"
    digest = hashlib.sha256(n.to_bytes(8, "big")).hexdigest()
    return digest if kind == "sha256" else digest[:32]


def _pattern(kind: str, value: str) -> str:
    path = {
        "ipv4": "ipv4-addr:value",
        "domain": "domain-name:value",
        "url": "url:value",
        "sha256": "file:hashes.'SHA-256'",
        "md5": "file:hashes.MD5",
    }[kind]
    return f"[{path} = '{value}']"


def indicators(count: int, stride: int = 7919) -> Iterator[tuple[str, str]]:
    for n in range(count):
        kind = KINDS[n % len(KINDS)]
        yield (
            f"indicator--{n:08x}-0000-4000-8000-{n:012x}",
            _pattern(kind, _value(kind, n * stride)),
        )


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def bench_compile() -> None:
    pairs = list(indicators(100_000))
    start = time.perf_counter()
    matcher = Matcher.compile(pairs)
    elapsed = time.perf_counter() - start
    print(
        f"compile 100k: {elapsed:.2f} s = {len(pairs) / elapsed:,.0f} patterns/s ({len(matcher)})"
    )


def _values(kind: str, count: int, indicator_count: int, hit_rate: float) -> list[str]:
    rng = random.Random(7)
    out = []
    for _ in range(count):
        if rng.random() < hit_rate:  # a value some indicator names
            n = rng.randrange(indicator_count // len(KINDS)) * len(KINDS) + KINDS.index(kind)
            out.append(_value(kind, n * 7919))
        else:
            out.append(_value(kind, 10**9 + rng.randrange(10**9)))
    return out


PATHS = {
    "ipv4": ("ipv4-addr:value", ("ipv4-addr", ("value",))),
    "domain": ("domain-name:value", ("domain-name", ("value",))),
    "sha256": ("file:hashes.'SHA-256'", ("file", ("hashes", "SHA256"))),
    "md5": ("file:hashes.MD5", ("file", ("hashes", "MD5"))),
}


def _lookups(table: dict[object, object], keys: list[object]) -> list[object]:
    return list(map(table.get, keys))


def _best(function: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def bench_values() -> None:
    """1M values, 1% of them named by some indicator; the ceiling is ``map(dict.get)`` over the
    very table the values are looked up in (already normalised keys)."""
    for count in (100_000, 1_000_000):
        matcher = Matcher.compile(indicators(count))
        gc.collect()
        gc.freeze()
        for kind, (path, where) in PATHS.items():
            values = _values(kind, 1_000_000, count, 0.01)
            table = matcher._index.paths[where].equal
            keys = [bytes.fromhex(v) for v in values] if kind in ("sha256", "md5") else values
            hits = matcher.match_values(path, values)
            ours = _best(partial(matcher.match_values, path, values))
            ceiling = _best(partial(_lookups, table, keys))
            print(
                f"match_values {kind:6} x {count:>9,} indicators: {1 / ours:.2f} M values/s"
                f" ({len(hits):,} hits); dict ceiling {1 / ceiling:.2f} M/s"
            )
        gc.unfreeze()


def bench_memory() -> None:
    gc.collect()
    before = rss_mib()
    raw = {"pattern": 0, "id": 0}

    def counted() -> Iterator[tuple[str, str]]:
        for indicator_id, text in indicators(1_000_000):
            raw["pattern"] += len(text.encode())
            raw["id"] += len(indicator_id.encode())
            yield indicator_id, text

    start = time.perf_counter()
    matcher = Matcher.compile(counted())
    elapsed = time.perf_counter() - start
    gc.collect()
    after = rss_mib()
    held = after - before
    pattern_mib = raw["pattern"] / 2**20
    both_mib = (raw["pattern"] + raw["id"]) / 2**20
    print(f"compile 1M: {elapsed:.1f} s; {len(matcher):,} patterns")
    print(f"RSS held by the index: {held:.0f} MiB (process {after:.0f} MiB)")
    print(f"raw pattern text {pattern_mib:.0f} MiB -> {held / pattern_mib:.2f}x;"
          f" pattern text + ids {both_mib:.0f} MiB -> {held / both_mib:.2f}x")  # fmt: skip


def _stix2_patterns(pairs: list[tuple[str, str]]) -> None:
    from stix2patterns.v21.pattern import Pattern

    for _, text in pairs:
        Pattern(text)


def _parse_all(pairs: list[tuple[str, str]]) -> None:
    for _, text in pairs:
        parse_pattern(text)


def bench_peer() -> None:
    from stix2matcher.matcher import match

    pairs = list(indicators(2_000))
    peer = _best(partial(_stix2_patterns, pairs))
    parser = _best(partial(_parse_all, pairs))
    ours = _best(partial(Matcher.compile, pairs))
    print(
        f"W4 (2k patterns, best of 3, side by side): stix2-patterns {len(pairs) / peer:,.0f}/s,"
        f" parse_pattern {len(pairs) / parser:,.0f}/s, Matcher.compile {len(pairs) / ours:,.0f}/s"
        f" = {peer / ours:.0f}x stix2-patterns"
    )
    # stix2-matcher: one pattern against a batch of observations per call.
    patterns = [text for _, text in pairs[:100] if "ipv4" in text]
    observed = [
        {
            "type": "bundle", "id": f"bundle--{n}",
            "objects": [
                {"type": "observed-data", "id": f"observed-data--{n}",
                 "first_observed": "2024-01-01T00:00:00Z", "last_observed": "2024-01-01T00:00:00Z",
                 "number_observed": 1, "object_refs": [f"ipv4-addr--{n}"]},
                {"type": "ipv4-addr", "id": f"ipv4-addr--{n}", "value": _value("ipv4", n)},
            ],
        }
        for n in range(100)
    ]  # fmt: skip
    start = time.perf_counter()
    for text in patterns:
        match(text, observed, stix_version="2.1")
    per_pair = (time.perf_counter() - start) / (len(patterns) * len(observed))
    print(f"W3 stix2-matcher: {per_pair * 1e6:.1f} µs per (pattern, observable) pair;"
          f" 1M observables x 100k patterns = {per_pair * 1e11 / 86400:.1f} days")  # fmt: skip
    matcher = Matcher.compile(indicators(100_000))
    values = _values("ipv4", 1_000_000, 100_000, 0.01)
    start = time.perf_counter()
    matcher.match_values("ipv4-addr:value", values)
    ours_seconds = time.perf_counter() - start
    print(f"W3 ours: 1M observables x 100k patterns in {ours_seconds:.2f} s"
          f" = {per_pair * 1e11 / ours_seconds:,.0f}x stix2-matcher")  # fmt: skip
    lone = [Observation({"0": {"type": "ipv4-addr", "value": v}}, 0, 0) for v in values[:100_000]]
    start = time.perf_counter()
    matcher.match(lone)
    print(
        f"match() over 100k one-object observations: {1e5 / (time.perf_counter() - start):,.0f}/s"
    )


if __name__ == "__main__":
    {"compile": bench_compile, "values": bench_values, "memory": bench_memory,
     "peer": bench_peer}[sys.argv[1]]()  # fmt: skip
