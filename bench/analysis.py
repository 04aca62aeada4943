"""Turn run records into per-workload rows, ratios, extrapolations and target verdicts.

Ratios are taken per repeat (the Shieldwall run and the medallion run next to it), then
summarised as median and min–max, so machine noise that hits one repeat hits both peers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.plan import Plan
from bench.records import LocalRecord, RunRecord
from bench.stats import (
    Spread,
    power_fit,
    predict,
    predict_quadratic,
    quadratic_fit,
    spread,
)
from bench.workloads.lookup import LookupResult
from bench.workloads.matching import CompileResult, MatchResult, MemoryResult

FLAT_LIMIT = 1.5  # page latency counts as flat when it grows by less than this factor
S, M = "shieldwall", "medallion"


@dataclass(frozen=True, slots=True)
class PairRow:
    """One size of a side-by-side workload: each peer's figures and the ratio."""

    size: int
    objects: int
    shieldwall: Spread
    medallion: Spread
    ratio: Spread
    medallion_note: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    """A target of docs/benchmarks.md and how the run fared."""

    workload: str
    target: str
    measured: str
    met: bool | None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Fit:
    """A cost model fitted to measured seconds against objects."""

    kind: str  # "power" (a·N^b) or "quadratic" (a·N + b·N²)
    params: tuple[float, float]

    def at(self, objects: float) -> float:
        """Predicted seconds at ``objects``."""
        if self.kind == "power":
            return predict(self.params, objects)
        return predict_quadratic(self.params, objects)

    def describe(self) -> str:
        """The model in words, for labels and notes."""
        a, b = self.params
        if self.kind == "power":
            return f"seconds ∝ N^{b:.2f}"
        return f"seconds = {a * 1e3:.3g}·N/1k + {b * 1e6:.3g}·(N/1k)²"


def _fit(kind: str, xs: list[float], ys: list[float]) -> Fit | None:
    params = power_fit(xs, ys) if kind == "power" else quadratic_fit(xs, ys)
    return None if params is None else Fit(kind, params)


@dataclass
class Analysis:
    """Everything the report and the plots need."""

    plan: Plan
    records: list[RunRecord]
    w1: list[PairRow] = field(default_factory=list)
    w2_walk: list[PairRow] = field(default_factory=list)
    w2_poll: list[PairRow] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    local: list[LocalRecord] = field(default_factory=list)

    def results(self, workload: str) -> list[Any]:
        """The successful results of an in-process workload (W3–W6, ``W5-http``), in order."""
        return [r.result for r in self.local if r.workload == workload and r.result is not None]

    def runs(
        self, peer: str, size: int | None = None, kinds: tuple[str, ...] = ()
    ) -> list[RunRecord]:
        """Successful runs of ``peer`` (at ``size``, of ``kinds``)."""
        return [
            r
            for r in self.records
            if r.peer == peer
            and r.error is None
            and (size is None or r.size == size)
            and (not kinds or r.kind in kinds)
        ]

    def shieldwall_sizes(self) -> list[int]:
        """Every size Shieldwall was walked at (pairs and solo)."""
        return sorted({r.size for r in self.runs(S, kinds=("pair", "solo")) if r.walk})


def _paired(
    analysis: Analysis, size: int, value: Callable[[RunRecord], float | None]
) -> tuple[list[float], list[float], list[float]]:
    s_vals: dict[int, float] = {}
    m_vals: dict[int, float] = {}
    for record in analysis.runs(S, size, ("pair",)):
        v = value(record)
        if v is not None:
            s_vals[record.repeat] = v
    for record in analysis.runs(M, size, ("pair",)):
        v = value(record)
        if v is not None:
            m_vals[record.repeat] = v
    ratios = [s_vals[k] / m_vals[k] for k in s_vals.keys() & m_vals.keys() if m_vals[k] > 0]
    return list(s_vals.values()), list(m_vals.values()), ratios


def _ingest_rate(record: RunRecord) -> float | None:
    if record.ingest is None or not record.ingest.complete:
        return None
    return record.ingest.rate


def _objects_of(analysis: Analysis, size: int) -> int:
    found = [r.objects for r in analysis.records if r.size == size]
    return found[0] if found else size


def _w1(analysis: Analysis) -> None:
    for size in analysis.plan.pair_sizes:
        s_vals, m_vals, ratios = _paired(analysis, size, _ingest_rate)
        incomplete = [r for r in analysis.runs(M, size, ("pair",)) if _ingest_rate(r) is None]
        note = f"{len(incomplete)} run(s) did not finish in the budget" if incomplete else ""
        analysis.w1.append(
            PairRow(
                size,
                _objects_of(analysis, size),
                spread(s_vals),
                spread(m_vals),
                spread(ratios),
                note,
            )
        )


def medallion_ingest_fit(analysis: Analysis) -> Fit | None:
    """medallion's ingest seconds against objects (complete runs only) as a·N + b·N²: its
    duplicate check scans every stored object for each new one."""
    runs = [r for r in analysis.runs(M, kinds=("pair",)) if _ingest_rate(r) is not None]
    return _fit(
        "quadratic", [float(r.objects) for r in runs], [r.ingest.seconds for r in runs if r.ingest]
    )


def _walk_seconds(record: RunRecord) -> float | None:
    if record.walk is None or not record.walk.complete:
        return None
    return record.walk.seconds


def _poll_ms(record: RunRecord) -> float | None:
    if record.poll is None or not record.poll.latencies_ms:
        return None
    return sorted(record.poll.latencies_ms)[len(record.poll.latencies_ms) // 2]


def _w2(analysis: Analysis) -> None:
    for size in analysis.plan.walk_sizes:
        objects = _objects_of(analysis, size)
        # ratio of times is medallion / Shieldwall: how many times faster Shieldwall is
        s_vals, m_vals, ratios = _paired(analysis, size, _walk_seconds)
        inverse = [1.0 / r for r in ratios if r > 0]
        analysis.w2_walk.append(
            PairRow(size, objects, spread(s_vals), spread(m_vals), spread(inverse))
        )
        s_vals, m_vals, ratios = _paired(analysis, size, _poll_ms)
        inverse = [1.0 / r for r in ratios if r > 0]
        analysis.w2_poll.append(
            PairRow(size, objects, spread(s_vals), spread(m_vals), spread(inverse))
        )


def walk_fit(analysis: Analysis, peer: str) -> Fit | None:
    """Walk seconds against objects: a power law for Shieldwall, a·N + b·N² for medallion
    (its first page matches every object against every manifest entry)."""
    runs = [r for r in analysis.runs(peer, kinds=("pair", "solo")) if _walk_seconds(r)]
    return _fit(
        "power" if peer == S else "quadratic",
        [float(r.objects) for r in runs],
        [r.walk.seconds for r in runs if r.walk],
    )


def shieldwall_value(
    analysis: Analysis, size: int, value: Callable[[RunRecord], float | None]
) -> Spread:
    """A Shieldwall figure at ``size`` over every run kind that measured it."""
    values = [v for r in analysis.runs(S, size, ("pair", "solo")) if (v := value(r)) is not None]
    return spread(values)


def _fmt_ratio(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:,.1f}×"


def _target_w1(analysis: Analysis) -> None:
    plan = analysis.plan
    size = plan.w1_target_size
    row = next((r for r in analysis.w1 if r.size == size), None)
    s_rate = shieldwall_value(analysis, size, _ingest_rate)
    objects = _objects_of(analysis, size)
    if row is not None and row.ratio.n:
        ratio, how = row.ratio.median, f"measured at {size:,} indicators"
    else:
        fit = medallion_ingest_fit(analysis)
        ratio, how = math.nan, "no medallion run"
        if fit is not None and s_rate.n:
            m_rate = objects / fit.at(objects)
            ratio = s_rate.median / m_rate
            how = (
                f"medallion extrapolated to {size:,} indicators from its runs"
                f" ({fit.describe()}); Shieldwall measured"
            )
    analysis.targets.append(
        Target(
            "W1",
            "≥ 100× medallion at 50k objects",
            _fmt_ratio(ratio),
            None if math.isnan(ratio) else ratio >= 100,
            how,
        )
    )
    largest = max(s for s in plan.scaling_sizes + plan.pair_sizes if s <= 100_000)
    rate = shieldwall_value(analysis, largest, _ingest_rate)
    analysis.targets.append(
        Target(
            "W1",
            "≥ 20k objects/s on SQLite",
            f"{rate.text(0)} objects/s",
            None if not rate.n else rate.median >= 20_000,
            f"Shieldwall alone, {largest:,} indicators in bundles of {plan.bundle_size:,}",
        )
    )


def _target_w2(analysis: Analysis) -> None:
    plan = analysis.plan
    measured = [r for r in analysis.w2_walk if r.ratio.n]
    if measured:
        row = measured[-1]
        analysis.targets.append(
            Target(
                "W2",
                "walk ≥ 50× medallion",
                _fmt_ratio(row.ratio.median),
                row.ratio.median >= 50,
                f"measured side by side at {row.size:,} indicators ({row.objects:,} objects)",
            )
        )
    s_fit, m_fit = walk_fit(analysis, S), walk_fit(analysis, M)
    big = plan.w2_target_size
    s_big = shieldwall_value(analysis, big, _walk_seconds)
    if m_fit is not None and s_big.n:
        objects = _objects_of(analysis, big)
        ratio = m_fit.at(objects) / s_big.median
        analysis.targets.append(
            Target(
                "W2",
                f"walk ≥ 50× medallion at {big:,} objects",
                _fmt_ratio(ratio),
                ratio >= 50,
                f"extrapolated: medallion walk {m_fit.describe()} from its runs;"
                f" Shieldwall measured at {big:,}",
            )
        )
    elif s_fit is not None and m_fit is not None:
        analysis.notes.append("W2 at the target size: Shieldwall was not run there.")
    _target_flatness(analysis)


def page_p50(record: RunRecord) -> float | None:
    """Median page latency of a complete walk (ms)."""
    if record.walk is None or not record.walk.latencies_ms:
        return None
    return record.walk.p(50)


def _target_flatness(analysis: Analysis) -> None:
    sizes = [s for s in analysis.shieldwall_sizes() if s >= 10_000]
    if len(sizes) < 2:
        return
    low, high = sizes[0], sizes[-1]
    lat_low = shieldwall_value(analysis, low, page_p50)
    lat_high = shieldwall_value(analysis, high, page_p50)
    growth = lat_high.median / lat_low.median if lat_low.n and lat_high.n else math.nan
    ends = [
        r.walk.window("end") / r.walk.window("start")
        for r in analysis.runs(S, high, ("pair", "solo"))
        if r.walk is not None and r.walk.window("start") > 0
    ]
    within = spread(ends)
    met = not math.isnan(growth) and growth < FLAT_LIMIT and within.median < FLAT_LIMIT
    analysis.targets.append(
        Target(
            "W2",
            f"page latency flat {low:,} → {high:,} (O(page))",
            f"median page {lat_low.text(1)} → {lat_high.text(1)} ms ({growth:.2f}×);"
            f" end/start of the {high:,} walk {within.text(2)}×",
            met,
            f"flat means growth < {FLAT_LIMIT}× across sizes and within a walk",
        )
    )


def _target_w7(analysis: Analysis) -> None:
    runs = [r for r in analysis.runs(S) if r.concurrency is not None]
    if not runs:
        return
    errors = sum(r.concurrency.errors for r in runs if r.concurrency)
    p99 = spread([r.concurrency.page_p99_ms for r in runs if r.concurrency])
    analysis.targets.append(
        Target(
            "W7",
            "zero errors; p99 page latency reported",
            f"{errors} errors in {len(runs)} runs; p99 {p99.text(0)} ms",
            errors == 0,
        )
    )


def _fmt_rate(value: Spread, unit: str = "/s") -> str:
    return value.text(0, unit)


def _target_w3(analysis: Analysis) -> None:
    results: list[MatchResult] = analysis.results("W3")
    if not results:
        return
    first = results[0]
    sizes = sorted({int(size) for r in results for size in r.seconds})
    pair_us = spread([1e6 * r.peer_pair_seconds for r in results])
    for size in sizes:
        rate = spread([r.rate(size) for r in results])
        analysis.targets.append(
            Target(
                "W3",
                f"≥ 1M observables/s on one core ({size:,} equality patterns)",
                _fmt_rate(rate, " observables/s"),
                rate.median >= 1e6 if rate.n else None,
                f"`match_values` once per kind over {first.observables:,} observables"
                f" (IPv4, domain, URL, SHA-256, MD5; {first.hit_rate:.0%} of them hits)",
            )
        )
    for size in sizes:
        ratio = spread([r.ratio(size) for r in results])
        analysis.targets.append(
            Target(
                "W3",
                f"≥ 10,000× stix2-matcher ({size:,} patterns)",
                ratio.text(0, "×"),
                ratio.median >= 10_000 if ratio.n else None,
                f"stix2-matcher extrapolated from its grid ({pair_us.text(1)} µs per"
                " (pattern, observation) pair; seconds = pair cost × patterns × observables)",
            )
        )
    timed = [r for r in results if r.log_seconds]
    if timed:
        rate = spread([r.log_observables / r.log_seconds for r in timed if r.log_seconds])
        lines = spread([r.log_lines / r.log_seconds for r in timed if r.log_seconds])
        analysis.targets.append(
            Target(
                "W3",
                f"end to end from log lines ({timed[0].log_patterns:,} patterns):"
                " the same 1M observables/s bar",
                f"{rate.text(0)} observables/s ({lines.text(0)} lines/s)",
                rate.median >= 1e6,
                f"{timed[0].log_lines:,} plain log lines → `read_records` → `match_values`"
                " per kind → hits",
            )
        )
    else:
        analysis.notes.append(
            "W3 end to end from log lines not measured: "
            + (first.log_note or "no log lines in this plan")
        )


def _target_w4(analysis: Analysis) -> None:
    results: list[CompileResult] = analysis.results("W4")
    if not results:
        return
    first = results[0]
    ratio = spread([r.parse_rate / r.peer_rate for r in results])
    extrapolated = (
        f"; stix2-patterns run on the first {first.peer_patterns:,} (rate per pattern)"
        if first.peer_patterns < first.patterns
        else ""
    )
    analysis.targets.append(
        Target(
            "W4",
            "≥ 50× stix2-patterns (parse, common comparison subset)",
            ratio.text(0, "×"),
            ratio.median >= 50,
            f"`parse_pattern` over {first.patterns:,} equality patterns vs stix2-patterns"
            f" 2.1 `Pattern(text)`{extrapolated}",
        )
    )


def _target_w5(analysis: Analysis) -> None:
    results: list[LookupResult] = analysis.results("W5")
    if not results:
        return
    first = results[0]
    member = spread([r.member_s for r in results])
    psi = spread([r.psi_s / r.member_s for r in results])
    analysis.targets.append(
        Target(
            "W5",
            f"end to end ≤ 5 s ({first.member_items:,} member items)",
            member.text(2, " s"),
            member.median <= 5.0,
            f"in process, no network: filter load, blind, hub evaluation, unblind and verify,"
            f" filter test, against {first.hub_items:,} hub items; openmined-psi takes"
            f" {psi.text(1, '×')} as long",
        )
    )
    build = spread([r.build_per_million_s for r in results[:1]])
    scaled = (
        f"; measured at {first.hub_items:,} items and scaled linearly"
        if first.hub_items != 1_000_000
        else ""
    )
    analysis.targets.append(
        Target(
            "W5",
            "hub filter build ≤ 60 s per million",
            build.text(1, " s per million"),
            build.median <= 60.0,
            "`items_from_pattern` + `LookupFilter.empty` + `add(oprf_outputs(…))`" + scaled,
        )
    )


def _target_w6(analysis: Analysis) -> None:
    results: list[MemoryResult] = analysis.results("W6")
    if not results:
        return
    ratio = spread([r.ratio for r in results])
    trimmed = spread([r.trimmed_ratio for r in results])
    analysis.targets.append(
        Target(
            "W6",
            "≤ 2× the raw indicator bytes",
            ratio.text(2, "×"),
            ratio.median <= 2.0,
            f"RSS gained by compiling {results[0].indicators:,} indicators in a fresh process"
            f" ÷ Σ len(id) + len(pattern) (UTF-8); {trimmed.text(2, '×')} after `malloc_trim`",
        )
    )


def analyse(
    plan: Plan, records: list[RunRecord], local: list[LocalRecord] | None = None
) -> Analysis:
    """Build the tables and verdicts."""
    analysis = Analysis(plan, records, local=list(local or []))
    if records:
        _w1(analysis)
        _w2(analysis)
        _target_w1(analysis)
        _target_w2(analysis)
        _target_w7(analysis)
    _target_w3(analysis)
    _target_w4(analysis)
    _target_w5(analysis)
    _target_w6(analysis)
    failed = [r for r in records if r.error]
    for record in failed:
        analysis.notes.append(
            f"run {record.peer} {record.kind} {record.size:,} r{record.repeat} failed:"
            f" {record.error}"
        )
    for item in analysis.local:
        if item.error:
            analysis.notes.append(f"{item.workload} r{item.repeat} failed: {item.error}")
    return analysis


SERVER_WORKLOADS = ("W1", "W2", "W7")


def missed(analysis: Analysis) -> set[str]:
    """Server workloads with a target that was missed (these get a py-spy profile of the
    server; W3–W6 run in process and report their own breakdowns)."""
    return {
        t.workload for t in analysis.targets if t.met is False and t.workload in SERVER_WORKLOADS
    }


def walk_diagnosis(analysis: Analysis) -> list[str]:
    """What the measured walks say about where page cost comes from (no profiler needed)."""
    sizes = [s for s in analysis.shieldwall_sizes() if s >= 10_000]
    if len(sizes) < 2:
        return []
    low, high = sizes[0], sizes[-1]
    found: list[str] = []
    for size in sorted({sizes[-1], *(s for s in sizes if s >= 100_000)}):
        runs = [r for r in analysis.runs(S, size, ("pair", "solo")) if r.walk is not None]
        start = spread([r.walk.window("start") for r in runs if r.walk])
        end = spread([r.walk.window("end") for r in runs if r.walk])
        if start.n and end.median / start.median >= FLAT_LIMIT:
            found.append(
                f"Within each {size:,}-indicator walk the page latency rises from"
                f" {start.text(0)} ms (first pages) to {end.text(0)} ms (last pages):"
                " a page costs more the further the cursor is from the start, so each page"
                " pays for the rows before its cursor and a whole walk is O(N²/limit)"
                " rather than O(N) (walk_profile.png)."
            )
    first_low = shieldwall_value(
        analysis, low, lambda r: r.walk.window("start") if r.walk else None
    )
    first_high = shieldwall_value(
        analysis, high, lambda r: r.walk.window("start") if r.walk else None
    )
    if first_low.n and first_high.n and first_high.median / first_low.median >= FLAT_LIMIT:
        found.append(
            f"The first pages (no cursor yet) are also {first_high.median / first_low.median:.1f}×"
            f" slower at {high:,} than at {low:,} indicators: the per-row lookups of a page get"
            " slower as the database outgrows what stays cached."
        )
    return found
