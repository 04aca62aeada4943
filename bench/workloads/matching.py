"""W3 match, W4 compile and W6 memory: the compiled matcher against the OASIS libraries.

Each workload runs in its own fresh process (``python -m bench.workloads.matching w3|w4|w6
--plan MODE``, started by the runner with the source snapshot first on ``PYTHONPATH``) and
prints one JSON line: a list of results, one per repeat. Peers run in the same process,
right after Shieldwall in each repeat, on the same data. Shieldwall and the peers are
imported inside the functions, so the runner can import this module for the result types
without importing the tree under test.

Data (deterministic): the common feed mix of IPv4, domain, URL, SHA-256 and MD5 equality
patterns, ``[ipv4-addr:value = '…']`` and so on, kinds in rotation; observables are values
of the same kinds, a fixed fraction of them named by some indicator.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import hashlib
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from bench.plan import PLANS, LocalPlan
from bench.stats import median

KINDS = ("ipv4", "domain", "url", "sha256", "md5")
PATHS = {
    "ipv4": "ipv4-addr:value",
    "domain": "domain-name:value",
    "url": "url:value",
    "sha256": "file:hashes.'SHA-256'",
    "md5": "file:hashes.MD5",
}
STRIDE = 7919  # indicator n names value n·STRIDE: values spread over the whole space
MISS_BASE = 10**9  # misses are values numbered from here (no indicator names them)
PEER_GRID_HIT_RATE = 0.1
WARM_UP = 50  # W4: patterns parsed by each side before the clocks start
OURS_RUNS = 3  # Shieldwall's match figure per repeat is the median of this many runs


def log(message: str) -> None:
    """Progress on stderr (stdout carries the result)."""
    print(f"[{time.strftime('%H:%M:%S')}]   {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------- data


def value(kind: str, n: int) -> str:
    """The ``n``-th value of ``kind`` (distinct for distinct ``n`` below 2³²)."""
    if kind == "ipv4":
        return f"{(n >> 24) % 223 + 1}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
    if kind == "domain":
        return f"host{n}.example{n % 977}.com"
    if kind == "url":
        return f"http://site{n % 5003}.example.net/path/{n}/index.php"
    digest = hashlib.sha256(n.to_bytes(8, "big")).hexdigest()
    return digest if kind == "sha256" else digest[:32]


def indicator_value(index: int) -> tuple[str, str]:
    """``(kind, value)`` of the ``index``-th generated indicator."""
    kind = KINDS[index % len(KINDS)]
    return kind, value(kind, index * STRIDE)


def indicators(count: int) -> Iterator[tuple[str, str]]:
    """``count`` (indicator id, pattern) pairs, kinds in rotation."""
    for n in range(count):
        kind, text = indicator_value(n)
        yield f"indicator--{n:08x}-0000-4000-8000-{n:012x}", f"[{PATHS[kind]} = '{text}']"


def observables(
    count: int, indicator_count: int, hit_rate: float, seed: int = 7
) -> dict[str, list[str]]:
    """``count`` values split evenly over the kinds; each is, with probability
    ``hit_rate``, the value of one of the first ``indicator_count`` indicators."""
    rng = random.Random(seed)
    per_kind = max(indicator_count // len(KINDS), 1)
    out: dict[str, list[str]] = {}
    for k, kind in enumerate(KINDS):
        values = out.setdefault(kind, [])
        for _ in range(count // len(KINDS)):
            if rng.random() < hit_rate:
                values.append(value(kind, (rng.randrange(per_kind) * len(KINDS) + k) * STRIDE))
            else:
                values.append(value(kind, MISS_BASE + rng.randrange(MISS_BASE)))
    return out


def rss_kib() -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` of this process (KiB)."""
    found: dict[str, int] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(rest.split()[0])
    return found


def _timed(function: Callable[[], object]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


# -------------------------------------------------------------------------------- W3


@dataclass
class MatchResult:
    """W3, one repeat. Sizes are pattern counts (as strings: JSON keys).

    ``seconds[size]`` is the time ``match_values`` took over all ``observables`` (one call
    per kind; median of three runs); ``kind_seconds[size][kind]`` splits it by kind.
    ``peer_grid`` lists ``[patterns, observations, seconds]`` of stix2-matcher (one
    ``Pattern.match([observation])`` per pair, patterns compiled beforehand);
    ``peer_compile_s`` is the seconds per ``Pattern`` compiled. ``grid_agree`` says whether
    Shieldwall found exactly stix2-matcher's (observation, indicator) hits on the grid.
    """

    observables: int
    hit_rate: float
    seconds: dict[str, float]
    hits: dict[str, int]
    kind_seconds: dict[str, dict[str, float]]
    compile_seconds: dict[str, float]
    peer_grid: list[list[float]]
    peer_compile_s: float
    grid_hits: int
    grid_agree: bool
    log_lines: int = 0
    log_seconds: float | None = None
    log_observables: int = 0
    log_hits: int = 0
    log_patterns: int = 0
    log_note: str = ""
    gc_enabled: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def peer_pair_seconds(self) -> float:
        """stix2-matcher's seconds per (pattern, observation) pair over the whole grid."""
        pairs = sum(p * o for p, o, _ in self.peer_grid)
        return sum(s for _, _, s in self.peer_grid) / pairs if pairs else float("nan")

    def rate(self, size: int) -> float:
        """Shieldwall observables/s against ``size`` patterns."""
        seconds = self.seconds.get(str(size))
        return self.observables / seconds if seconds else float("nan")

    def peer_seconds(self, size: int, observables: int | None = None) -> float:
        """stix2-matcher's extrapolated seconds for ``observables`` against ``size`` patterns:
        pair cost × patterns × observables (compiling excluded on both sides)."""
        return self.peer_pair_seconds * size * (observables or self.observables)

    def ratio(self, size: int) -> float:
        """How many times faster Shieldwall matched than stix2-matcher (extrapolated)."""
        seconds = self.seconds.get(str(size))
        return self.peer_seconds(size) / seconds if seconds else float("nan")


def _observed(kind: str, text: str, n: int) -> dict[str, object]:
    """One observation as stix2-matcher 2.1 takes it: a bundle of observed-data + one SCO."""
    sco_type = {"ipv4": "ipv4-addr", "domain": "domain-name", "url": "url"}.get(kind, "file")
    sco_id = f"{sco_type}--00000000-0000-4000-8000-{n:012x}"
    if sco_type == "file":
        sco: dict[str, object] = {
            "type": "file",
            "id": sco_id,
            "hashes": {"SHA-256" if kind == "sha256" else "MD5": text},
        }
    else:
        sco = {"type": sco_type, "id": sco_id, "value": text}
    stamp = "2024-01-01T00:00:00Z"
    return {
        "type": "bundle",
        "id": f"bundle--00000000-0000-4000-8000-{n:012x}",
        "objects": [
            {
                "type": "observed-data",
                "id": f"observed-data--00000000-0000-4000-8000-{n:012x}",
                "first_observed": stamp,
                "last_observed": stamp,
                "number_observed": 1,
                "object_refs": [sco_id],
            },
            sco,
        ],
    }


def _grid_observations(count: int, patterns: int, seed: int) -> list[tuple[str, str]]:
    """``count`` (kind, value) pairs, kinds in rotation, 10% of them named by one of the
    first ``patterns`` indicators."""
    rng = random.Random(seed)
    named = [list(range(k, patterns, len(KINDS))) for k in range(len(KINDS))]
    out: list[tuple[str, str]] = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        if named[i % len(KINDS)] and rng.random() < PEER_GRID_HIT_RATE:
            out.append((kind, value(kind, rng.choice(named[i % len(KINDS)]) * STRIDE)))
        else:
            out.append((kind, value(kind, MISS_BASE + rng.randrange(MISS_BASE))))
    return out


def _ours_hits(
    pairs: list[tuple[str, str]], observed: list[tuple[str, str]]
) -> set[tuple[int, str]]:
    from shieldwall.domain.matching import Matcher

    matcher = Matcher.compile(pairs)
    found: set[tuple[int, str]] = set()
    for kind in KINDS:
        positions = [i for i, (k, _) in enumerate(observed) if k == kind]
        values = [observed[i][1] for i in positions]
        for position, indicator_id in matcher.match_values(PATHS[kind], values):
            found.add((positions[position], indicator_id))
    return found


def _peer_grid(plan: LocalPlan, repeat: int) -> tuple[list[list[float]], float, int, bool]:
    """stix2-matcher on each grid point; also checks Shieldwall finds the same hits."""
    from stix2matcher.matcher import Pattern as MatcherPattern  # type: ignore[import-untyped]

    grid: list[list[float]] = []
    compile_s: list[float] = []
    hits = 0
    agree = True
    warm = [MatcherPattern(t, "2.1") for _, t in indicators(5)]
    for pattern in warm:  # imports and first-call costs stay off the clock
        pattern.match([_observed(*indicator_value(0), 0)])
    for g, (n_patterns, n_observed) in enumerate(plan.peer_grid):
        pairs = list(indicators(n_patterns))
        observed = _grid_observations(n_observed, n_patterns, seed=100 * repeat + g)
        bundles = [_observed(kind, text, i) for i, (kind, text) in enumerate(observed)]
        started = time.perf_counter()
        compiled = [(i, MatcherPattern(t, "2.1")) for i, t in pairs]
        compile_s.append((time.perf_counter() - started) / len(pairs))
        peer_found: set[tuple[int, str]] = set()
        start = time.perf_counter()
        for indicator_id, pattern in compiled:
            for position, bundle in enumerate(bundles):
                if pattern.match([bundle]):
                    peer_found.add((position, indicator_id))
        grid.append([n_patterns, n_observed, time.perf_counter() - start])
        ours = _ours_hits(pairs, observed)
        agree = agree and ours == peer_found
        hits += len(peer_found)
        log(
            f"W3 stix2-matcher {n_patterns} patterns x {n_observed} observations:"
            f" {grid[-1][2]:.2f} s, {len(peer_found)} hits, Shieldwall agrees: {ours == peer_found}"
        )
    return grid, median(compile_s), hits, agree


def _log_lines(observed: dict[str, list[str]], limit: int) -> list[str]:
    """A plain list of values, one per line, kinds interleaved (as a log would mix them)."""
    columns = [observed[kind] for kind in KINDS]
    lines: list[str] = []
    for row in zip(*columns, strict=True):
        lines.extend(f"{v}\n" for v in row)
        if len(lines) >= limit:
            break
    return lines[:limit]


def _end_to_end(matcher: Any, lines: list[str]) -> tuple[float | None, int, int, str]:
    """Log lines → ``read_records`` → ``match_values`` per kind → hits; None if the log
    readers (``shieldwall.domain.logs``) are not there yet."""
    try:
        from shieldwall.domain.logs import read_records
    except ImportError as exc:
        return None, 0, 0, f"shieldwall.domain.logs.read_records not available ({exc})"

    def run() -> tuple[int, int]:
        by_kind: dict[str, list[str]] = {}
        for record in read_records(lines, fmt="plain", source="-"):
            for item in record.observables:
                by_kind.setdefault(item.kind, []).append(item.value)
        found = sum(len(matcher.match_values(kind, vals)) for kind, vals in by_kind.items())
        return sum(len(v) for v in by_kind.values()), found

    try:
        seconds, (count, hits) = _timed(run)
    except Exception as exc:  # a reader in progress: report, do not fail the workload
        return None, 0, 0, f"read_records failed: {type(exc).__name__}: {str(exc)[:200]}"
    return seconds, count, hits, ""


def run_w3(plan: LocalPlan, repeats: int) -> list[MatchResult]:
    """W3 (see module doc): Shieldwall at every pattern size, then the peer grid, per repeat."""
    from shieldwall.domain.matching import Matcher

    matchers: dict[int, Any] = {}
    data: dict[int, dict[str, list[str]]] = {}
    compile_seconds: dict[str, float] = {}
    for size in plan.pattern_sizes:
        took, matchers[size] = _timed(partial(Matcher.compile, indicators(size)))
        compile_seconds[str(size)] = took
        data[size] = observables(plan.observables, size, plan.hit_rate)
        log(f"W3 compiled {size:,} patterns in {took:.1f} s")
    biggest = max(plan.pattern_sizes)
    lines = _log_lines(data[biggest], plan.log_lines)
    results: list[MatchResult] = []
    for repeat in range(repeats):
        seconds: dict[str, float] = {}
        hits: dict[str, int] = {}
        kinds: dict[str, dict[str, float]] = {}
        for size in plan.pattern_sizes:
            matcher = matchers[size]
            per_kind: dict[str, float] = {}
            for kind in KINDS:
                runs = []
                for _ in range(OURS_RUNS):
                    elapsed, found = _timed(
                        partial(matcher.match_values, PATHS[kind], data[size][kind])
                    )
                    runs.append(elapsed)
                per_kind[kind] = median(runs)
                hits[str(size)] = hits.get(str(size), 0) + len(found)
            kinds[str(size)] = per_kind
            seconds[str(size)] = sum(per_kind.values())
            log(
                f"W3 Shieldwall {plan.observables:,} observables x {size:,} patterns:"
                f" {seconds[str(size)]:.3f} s = {plan.observables / seconds[str(size)]:,.0f}/s,"
                f" {hits[str(size)]:,} hits"
            )
        grid, peer_compile, grid_hits, agree = _peer_grid(plan, repeat)
        log_seconds, log_count, log_hits, log_note = _end_to_end(matchers[biggest], lines)
        if log_seconds is not None:
            log(f"W3 end to end {len(lines):,} lines: {log_seconds:.2f} s, {log_hits:,} hits")
        results.append(
            MatchResult(
                observables=sum(len(v) for v in data[biggest].values()),
                hit_rate=plan.hit_rate,
                seconds=seconds,
                hits=hits,
                kind_seconds=kinds,
                compile_seconds=compile_seconds,
                peer_grid=grid,
                peer_compile_s=peer_compile,
                grid_hits=grid_hits,
                grid_agree=agree,
                log_lines=len(lines),
                log_seconds=log_seconds,
                log_observables=log_count,
                log_hits=log_hits,
                log_patterns=biggest,
                log_note=log_note,
                gc_enabled=gc.isenabled(),
            )
        )
    return results


# -------------------------------------------------------------------------------- W4


@dataclass
class CompileResult:
    """W4, one repeat: seconds for each side and how many patterns each was given.

    ``parse_s``: ``parse_pattern`` over ``patterns``; ``compile_s``: ``Matcher.compile`` of
    the same (parse included); ``peer_s``: stix2-patterns' ``Pattern`` (STIX 2.1 grammar,
    parse tree) over the first ``peer_patterns``; ``validator_s``: its ``run_validator``
    (parse plus checks) over the same. ``general_*``: patterns of other shapes (qualifiers,
    AND, IN, LIKE, ISSUBSET…) that take the general parser. ``*_rejected`` count refusals
    (all generated patterns are valid).
    """

    patterns: int
    parse_s: float
    compile_s: float
    peer_patterns: int
    peer_s: float
    validator_s: float
    general_patterns: int
    general_parse_s: float
    general_peer_patterns: int
    general_peer_s: float
    rejected: int
    peer_rejected: int

    @property
    def parse_rate(self) -> float:
        """``parse_pattern`` patterns/s."""
        return self.patterns / self.parse_s

    @property
    def compile_rate(self) -> float:
        """``Matcher.compile`` patterns/s (parse included)."""
        return self.patterns / self.compile_s

    @property
    def peer_rate(self) -> float:
        """stix2-patterns ``Pattern`` patterns/s."""
        return self.peer_patterns / self.peer_s

    @property
    def validator_rate(self) -> float:
        """stix2-patterns ``run_validator`` patterns/s."""
        return self.peer_patterns / self.validator_s

    @property
    def general_rate(self) -> float:
        """``parse_pattern`` patterns/s on the general shapes."""
        return self.general_patterns / self.general_parse_s

    @property
    def general_peer_rate(self) -> float:
        """stix2-patterns ``Pattern`` patterns/s on the general shapes."""
        return self.general_peer_patterns / self.general_peer_s


def general_patterns(count: int) -> list[str]:
    """Valid patterns outside the ``[type:path = 'text']`` fast path, in rotation."""
    out: list[str] = []
    for n in range(count):
        ip, dom = value("ipv4", n * STRIDE), value("domain", n)
        sha, md5 = value("sha256", n), value("md5", n + 1)
        shape = n % 8
        if shape == 0:
            text = f"[ipv4-addr:value ISSUBSET '{ip.rpartition('.')[0]}.0/24']"
        elif shape == 1:
            text = f"[domain-name:value = '{dom}' OR domain-name:value = 'www.{dom}']"
        elif shape == 2:
            text = f"[file:hashes.'SHA-256' = '{sha}' AND file:size > {1000 + n}]"
        elif shape == 3:
            text = f"[url:value LIKE 'http://site{n}.example.net/%']"
        elif shape == 4:
            text = (
                f"[network-traffic:dst_ref.value = '{ip}' AND network-traffic:dst_port = 443]"
                f" FOLLOWEDBY [domain-name:value = '{dom}'] WITHIN 600 SECONDS"
            )
        elif shape == 5:
            text = f"[email-addr:value IN ('a{n}@example.com', 'b{n}@example.org')]"
        elif shape == 6:
            text = f"[file:hashes.MD5 = '{md5}'] REPEATS 3 TIMES"
        else:
            text = (
                f"[file:name = 'evil{n}.exe'] START t'2024-01-01T00:00:00Z'"
                " STOP t'2024-02-01T00:00:00Z'"
            )
        out.append(text)
    return out


def _parse_all(texts: Sequence[str]) -> int:
    from shieldwall.domain.errors import PatternSyntaxError
    from shieldwall.domain.patterns import parse_pattern

    rejected = 0
    for text in texts:
        try:
            parse_pattern(text)
        except PatternSyntaxError:
            rejected += 1
    return rejected


def _peer_all(texts: Sequence[str]) -> int:
    from stix2patterns.exceptions import ParseException
    from stix2patterns.v21.pattern import Pattern

    rejected = 0
    for text in texts:
        try:
            Pattern(text)
        except ParseException:
            rejected += 1
    return rejected


def _validate_all(texts: Sequence[str]) -> int:
    from stix2patterns.validator import run_validator

    return sum(1 for text in texts if run_validator(text, "2.1"))


def run_w4(plan: LocalPlan, repeats: int) -> list[CompileResult]:
    """W4 (see ``CompileResult``), Shieldwall then the peer in each repeat."""
    from shieldwall.domain.matching import Matcher

    pairs = list(indicators(plan.compile_patterns))
    texts = [text for _, text in pairs]
    peer_texts = texts[: plan.compile_peer_patterns]
    general = general_patterns(plan.general_patterns)
    general_peer = general[: plan.general_peer_patterns]
    # warm up both sides (imports, ANTLR's lazily built DFA, regex caches) before any clock
    _parse_all(texts[:WARM_UP] + general[:WARM_UP])
    _peer_all(peer_texts[:WARM_UP] + general_peer[:WARM_UP])
    _validate_all(peer_texts[:WARM_UP])
    results: list[CompileResult] = []
    for _ in range(repeats):
        parse_s, rejected = _timed(lambda: _parse_all(texts))
        compile_s, matcher = _timed(lambda: Matcher.compile(pairs))
        rejected += len(matcher.rejected)
        del matcher
        peer_s, peer_rejected = _timed(lambda: _peer_all(peer_texts))
        validator_s, invalid = _timed(lambda: _validate_all(peer_texts))
        general_s, general_rejected = _timed(lambda: _parse_all(general))
        general_peer_s, general_peer_rejected = _timed(lambda: _peer_all(general_peer))
        result = CompileResult(
            patterns=len(texts),
            parse_s=parse_s,
            compile_s=compile_s,
            peer_patterns=len(peer_texts),
            peer_s=peer_s,
            validator_s=validator_s,
            general_patterns=len(general),
            general_parse_s=general_s,
            general_peer_patterns=len(general_peer),
            general_peer_s=general_peer_s,
            rejected=rejected + general_rejected,
            peer_rejected=peer_rejected + invalid + general_peer_rejected,
        )
        log(
            f"W4 parse_pattern {result.parse_rate:,.0f}/s, Matcher.compile"
            f" {result.compile_rate:,.0f}/s, stix2-patterns {result.peer_rate:,.0f}/s"
            f" (validator {result.validator_rate:,.0f}/s); general shapes"
            f" {result.general_rate:,.0f}/s vs {result.general_peer_rate:,.0f}/s"
        )
        results.append(result)
    return results


# -------------------------------------------------------------------------------- W6


@dataclass
class MemoryResult:
    """W6, one fresh process: RSS (KiB) before and after compiling ``indicators``.

    Patterns are generated on the fly while compiling, so no list of them is held: what
    RSS gains is what the matcher keeps (plus allocator slack). ``raw_bytes`` = Σ
    len(id) + len(pattern) in UTF-8; ``pattern_bytes`` = Σ len(pattern).
    ``after_trim_kib`` is RSS after ``malloc_trim(0)`` (freed memory handed back).
    """

    indicators: int
    raw_bytes: int
    pattern_bytes: int
    before_kib: int
    after_kib: int
    after_trim_kib: int
    peak_kib: int
    compile_s: float

    @property
    def held_bytes(self) -> int:
        """RSS the compiled matcher added (without trimming)."""
        return (self.after_kib - self.before_kib) * 1024

    @property
    def ratio(self) -> float:
        """Held RSS ÷ raw indicator bytes."""
        return self.held_bytes / self.raw_bytes

    @property
    def trimmed_ratio(self) -> float:
        """The same after ``malloc_trim``."""
        return (self.after_trim_kib - self.before_kib) * 1024 / self.raw_bytes


def _malloc_trim() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def run_w6(plan: LocalPlan) -> MemoryResult:
    """W6 in this (fresh) process."""
    from shieldwall.domain.matching import Matcher

    raw = {"id": 0, "pattern": 0}

    def counted() -> Iterator[tuple[str, str]]:
        for indicator_id, text in indicators(plan.memory_indicators):
            raw["id"] += len(indicator_id.encode())
            raw["pattern"] += len(text.encode())
            yield indicator_id, text

    gc.collect()
    before = rss_kib()["VmRSS"]
    seconds, matcher = _timed(lambda: Matcher.compile(counted()))
    gc.collect()
    after = rss_kib()
    _malloc_trim()
    trimmed = rss_kib()["VmRSS"]
    result = MemoryResult(
        indicators=len(matcher),
        raw_bytes=raw["id"] + raw["pattern"],
        pattern_bytes=raw["pattern"],
        before_kib=before,
        after_kib=after["VmRSS"],
        after_trim_kib=trimmed,
        peak_kib=after["VmHWM"],
        compile_s=seconds,
    )
    log(
        f"W6 {result.indicators:,} indicators: held {result.held_bytes / 2**20:.0f} MiB,"
        f" raw {result.raw_bytes / 2**20:.0f} MiB, {result.ratio:.2f}x"
        f" ({result.trimmed_ratio:.2f}x after malloc_trim)"
    )
    return result


# ------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.workloads.matching w3|w4|w6 --plan MODE``: one JSON line out."""
    parser = argparse.ArgumentParser(prog="python -m bench.workloads.matching")
    parser.add_argument("workload", choices=("w3", "w4", "w6"))
    parser.add_argument("--plan", choices=sorted(PLANS), default="quick")
    args = parser.parse_args(argv)
    plan = PLANS[args.plan]
    results: list[object]
    if args.workload == "w3":
        results = list(run_w3(plan.local, plan.repeats))
    elif args.workload == "w4":
        results = list(run_w4(plan.local, plan.repeats))
    else:
        results = [run_w6(plan.local)]
    sys.stdout.buffer.write(orjson.dumps([asdict(r) for r in results]) + b"\n")  # type: ignore[call-overload]
    return 0


if __name__ == "__main__":
    sys.exit(main())
