"""Write ``RESULTS.md``: targets, machine, one table per workload, profiles, method."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from bench.analysis import Analysis, M, PairRow, S, page_p50, shieldwall_value
from bench.records import RunRecord
from bench.stats import Spread, spread
from bench.workloads.lookup import HttpLookupResult, LookupResult
from bench.workloads.matching import KINDS, CompileResult, MatchResult, MemoryResult

PLOTS = (
    ("w1_ingest.png", "W1 ingest rate by collection size, both peers"),
    ("w2_walk.png", "W2 walk time by collection size, both peers, with power-law fits"),
    ("scaling.png", "Shieldwall scaling: ingest rate, page latency, server RSS"),
    ("walk_profile.png", "Shieldwall page latency along each walk (flat = O(page))"),
    ("matching.png", "W3 match, W4 parse, W5 private lookup, W6 memory, side by side with peers"),
)
MIB = 2**20


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _verdict(met: bool | None) -> str:
    return "–" if met is None else ("met" if met else "**missed**")


def _mib(values: list[int]) -> str:
    return spread([v / 1024 for v in values]).text(0)


def _section_targets(analysis: Analysis) -> list[str]:
    rows = [[t.workload, t.target, t.measured, _verdict(t.met), t.note] for t in analysis.targets]
    return [
        "## Targets (docs/benchmarks.md)",
        "",
        *_table(["workload", "target", "measured", "verdict", "how"], rows),
    ]


def _section_machine(machine: dict[str, object]) -> list[str]:
    packages = machine.get("packages", {})
    versions = (
        ", ".join(f"{k} {v}" for k, v in packages.items()) if isinstance(packages, dict) else ""
    )
    return [
        "## Machine",
        "",
        f"- CPU: {machine.get('cpu')}, {machine.get('cores')} cores;"
        f" RAM {machine.get('memory_gib')} GiB; Linux {machine.get('kernel')}",
        f"- Python {machine.get('python')}, SQLite {machine.get('sqlite')};"
        f" Shieldwall source: {machine.get('source')}",
        f"- Packages: {versions}",
        "- Shared, noisy machine: read the ratios (both peers measured side by side in the same"
        " run) rather than the absolute figures.",
        "",
    ]


def _pair_rows(rows: list[PairRow], digits: int, unit: str) -> list[list[str]]:
    return [
        [
            f"{r.size:,}",
            f"{r.objects:,}",
            r.shieldwall.text(digits, unit),
            r.medallion.text(digits, unit) + (f" ({r.medallion_note})" if r.medallion_note else ""),
            r.ratio.text(1, "×"),
        ]
        for r in rows
    ]


def _ingest_rate(record: RunRecord) -> float | None:
    return record.ingest.rate if record.ingest and record.ingest.complete else None


def _section_w1(analysis: Analysis) -> list[str]:
    plan = analysis.plan
    lines = [
        "## W1 ingest",
        "",
        f"POST envelopes of {plan.bundle_size:,} objects (first the 10 OASIS example bundles,"
        " 217 objects, then generated indicators), then GET every status until complete;"
        " objects/s over the whole sequence. Ratio = Shieldwall ÷ medallion, per repeat."
        + (
            f" Sizes {', '.join(f'{s:,}' for s in plan.pair_once_sizes)} ran in the first repeat"
            " only (medallion needs minutes there)."
            if plan.pair_once_sizes and plan.repeats > 1
            else ""
        ),
        "",
    ]
    lines += _table(
        ["indicators", "objects", "Shieldwall objects/s", "medallion objects/s", "ratio"],
        _pair_rows(analysis.w1, 0, ""),
    )
    solo = sorted({r.size for r in analysis.runs(S, kinds=("solo",))})
    if solo:
        rows = [
            [
                f"{size:,}",
                shieldwall_value(analysis, size, _ingest_rate).text(0),
                spread(
                    [r.ingest.post_p50_ms for r in analysis.runs(S, size, ("solo",)) if r.ingest]
                ).text(0, " ms"),
            ]
            for size in solo
        ]
        lines += ["Shieldwall alone at larger sizes:", ""]
        lines += _table(["indicators", "objects/s", "POST p50 (1,000 objects)"], rows)
    return lines


def _first_page(record: RunRecord) -> float | None:
    return record.walk.latencies_ms[0] if record.walk and record.walk.latencies_ms else None


def _spread_of(runs: list[RunRecord], value: Callable[[RunRecord], float | None]) -> Spread:
    return spread([v for r in runs if (v := value(r)) is not None])


def _window(where: str) -> Callable[[RunRecord], float | None]:
    def value(record: RunRecord) -> float | None:
        return record.walk.window(where) if record.walk else None

    return value


def _walk_p95(record: RunRecord) -> float | None:
    return record.walk.p(95) if record.walk else None


def _walk_seconds(record: RunRecord) -> float | None:
    return record.walk.seconds if record.walk else None


def _section_w2(analysis: Analysis) -> list[str]:
    plan = analysis.plan
    lines = [
        "## W2 read",
        "",
        f"Walk the collection with `limit={plan.page_limit}`, following `next`; then the empty"
        " poll `added_after=<X-TAXII-Date-Added-Last of the last page>`."
        " Ratio = medallion time ÷ Shieldwall time, per repeat.",
        "",
        "### Walk",
        "",
    ]
    lines += _table(
        ["indicators", "objects", "Shieldwall walk", "medallion walk", "ratio"],
        _pair_rows(analysis.w2_walk, 3, " s"),
    )
    rows = []
    for size in plan.walk_sizes:
        s_runs = analysis.runs(S, size, ("pair",))
        m_runs = analysis.runs(M, size, ("pair",))
        rows.append(
            [
                f"{size:,}",
                _spread_of(s_runs, _first_page).text(1, " ms"),
                _spread_of(s_runs, page_p50).text(1, " ms"),
                _spread_of(m_runs, _first_page).text(0, " ms"),
                _spread_of(m_runs, page_p50).text(0, " ms"),
            ]
        )
    lines += ["Page latency (medallion does all its work on the first page):", ""]
    lines += _table(
        [
            "indicators",
            "Shieldwall first page",
            "Shieldwall page p50",
            "medallion first page",
            "medallion page p50",
        ],
        rows,
    )
    lines += ['### Empty poll ("anything new since X?")', ""]
    lines += _table(
        ["indicators", "objects", "Shieldwall", "medallion", "ratio"],
        _pair_rows(analysis.w2_poll, 1, " ms"),
    )
    return lines


def _section_scaling(analysis: Analysis) -> list[str]:
    lines = [
        "## Scaling (Shieldwall alone)",
        "",
        "Page latency is the median of up to five full pages at the start, middle and end of"
        " one walk; RSS is `VmRSS` of the server process (`VmHWM` = peak).",
        "",
    ]
    rows = []
    for size in analysis.shieldwall_sizes():
        runs = analysis.runs(S, size, ("pair", "solo"))
        windows = [_spread_of(runs, _window(w)).text(1) for w in ("start", "middle", "end")]
        rows.append(
            [
                f"{size:,}",
                _spread_of(runs, _ingest_rate).text(0),
                " / ".join(windows),
                _spread_of(runs, _walk_p95).text(1),
                _spread_of(runs, _walk_seconds).text(2),
                _spread_of(runs, _poll).text(1),
                _mib([r.memory_after_ingest.get("VmRSS", 0) for r in runs]),
                _mib([r.memory_after_walk.get("VmRSS", 0) for r in runs]),
                _mib([r.memory_end.get("VmHWM", 0) for r in runs]),
                str(len(runs)),
            ]
        )
    lines += _table(
        [
            "indicators",
            "ingest objects/s",
            "page ms start / middle / end",
            "page p95 ms",
            "walk s",
            "empty poll ms",
            "RSS after ingest MiB",
            "RSS after walk MiB",
            "peak RSS MiB",
            "runs",
        ],
        rows,
    )
    return lines


def _poll(record: RunRecord) -> float | None:
    if record.poll is None or not record.poll.latencies_ms:
        return None
    ordered = sorted(record.poll.latencies_ms)
    return ordered[len(ordered) // 2]


def _section_w7(analysis: Analysis) -> list[str]:
    plan = analysis.plan
    lines = [
        "## W7 concurrency",
        "",
        f"{plan.w7_readers} readers walk the collection (`limit={plan.page_limit}`, following"
        f" `next`, starting over at the end) while {plan.w7_writers} writers POST envelopes of"
        f" {plan.w7_write_bundle} new indicators and GET their status, for"
        f" {plan.w7_seconds:.0f} s; client timeout {plan.w7_request_timeout_s:.0f} s; every"
        " failed or timed-out request is an error.",
        "",
    ]
    rows = []
    samples: list[str] = []
    groups = sorted({(r.kind, r.size, r.peer) for r in analysis.records if r.concurrency})
    for kind, size, peer in groups:
        runs = [r for r in analysis.runs(peer, size, (kind,)) if r.concurrency]
        cs = [r.concurrency for r in runs if r.concurrency]
        label = f"{runs[0].objects:,} objects" if runs else f"{size:,}"
        rows.append(
            [
                label,
                peer,
                str(sum(c.errors for c in cs)),
                spread([c.pages_per_s for c in cs]).text(1),
                spread([c.objects_read_per_s for c in cs]).text(0),
                spread([c.objects_written_per_s for c in cs]).text(0),
                spread([c.page_p50_ms for c in cs]).text(0),
                spread([c.page_p99_ms for c in cs]).text(0),
                spread([c.write_p99_ms for c in cs]).text(0),
                str(len(cs)),
            ]
        )
        samples += [f"{peer} ({label}): {s}" for c in cs for s in c.error_samples[:2]]
    lines += _table(
        [
            "collection at start",
            "peer",
            "errors",
            "pages/s",
            "objects read/s",
            "objects written/s",
            "page p50 ms",
            "page p99 ms",
            "write p99 ms",
            "runs",
        ],
        rows,
    )
    if samples:
        lines += ["Error samples:", ""] + [f"- `{s}`" for s in samples[:10]] + [""]
    return lines


def _verdict_of(value: Spread, ok: Callable[[float], bool]) -> str:
    return _verdict(ok(value.median) if value.n else None)


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size:
            return f"{seconds / size:,.1f} {unit}"
    return f"{seconds:.2f} s"


def _section_w3(analysis: Analysis) -> list[str]:
    results: list[MatchResult] = analysis.results("W3")
    if not results:
        return []
    first = results[0]
    sizes = sorted({int(size) for r in results for size in r.seconds})
    lines = [
        "## W3 match",
        "",
        f"{first.observables:,} observables, {first.observables // len(KINDS):,} of each kind"
        f" (IPv4, domain, URL, SHA-256, MD5), {first.hit_rate:.0%} of them the value of some"
        " indicator, against equality patterns of the same kinds (`[ipv4-addr:value = '…']`,"
        " …): `Matcher.compile` once (not timed here, see W4), then `match_values(kind, values)`"
        " once per kind; median of three runs per repeat, one core, cyclic GC on as in the"
        " hub. stix2-matcher 3.0.0 runs in the same process right after, on a reduced grid:"
        " each pattern compiled once (`Pattern(text, '2.1')`), then `pattern.match([observation])`"
        " for every (pattern, observation) pair, an observation being a bundle of one"
        " observed-data and one SCO (it has no index across patterns and no batch call that"
        " tells which observations hit). Its time is extrapolated linearly:"
        " **seconds = pair cost × patterns × observables** (pattern compiling excluded on both"
        " sides). Ratio = extrapolated stix2-matcher seconds ÷ Shieldwall seconds, per repeat.",
        "",
    ]
    rows = []
    for size in sizes:
        ours = spread([r.rate(size) for r in results])
        peer = spread([r.observables / r.peer_seconds(size) for r in results])
        peer_s = spread([r.peer_seconds(size) for r in results])
        rows.append(
            [
                f"{size:,}",
                ours.text(0),
                spread([r.seconds[str(size)] for r in results]).text(3, " s"),
                f"{peer.median:,.3g} ({_duration(peer_s.median)})",
                spread([r.ratio(size) for r in results]).text(0, "×"),
                spread([float(r.hits[str(size)]) for r in results]).text(0),
                _verdict_of(ours, lambda v: v >= 1e6),
                _verdict_of(spread([r.ratio(size) for r in results]), lambda v: v >= 1e4),
            ]
        )
    lines += _table(
        [
            "patterns",
            "Shieldwall observables/s",
            "Shieldwall time",
            "stix2-matcher observables/s (extrapolated time)",
            "ratio",
            "hits",
            "≥ 1M/s",
            "≥ 10,000×",
        ],
        rows,
    )
    kind_rows = [
        [
            kind,
            *(
                spread(
                    [
                        (r.observables / len(KINDS)) / r.kind_seconds[str(size)][kind]
                        for r in results
                    ]
                ).text(0)
                for size in sizes
            ),
        ]
        for kind in KINDS
    ]
    lines += ["Shieldwall observables/s by kind:", ""]
    lines += _table(["kind", *(f"{size:,} patterns" for size in sizes)], kind_rows)
    grid_rows = []
    for point in range(len(first.peer_grid)):
        cells = [r.peer_grid[point] for r in results if point < len(r.peer_grid)]
        patterns, observed = int(cells[0][0]), int(cells[0][1])
        grid_rows.append(
            [
                f"{patterns:,} × {observed:,}",
                f"{patterns * observed:,}",
                spread([c[2] for c in cells]).text(2, " s"),
                spread([1e6 * c[2] / (patterns * observed) for c in cells]).text(1, " µs"),
            ]
        )
    lines += [
        "stix2-matcher grid (the pair cost should not depend on the grid's shape if the"
        " linear model holds):",
        "",
    ]
    lines += _table(["patterns × observations", "pairs", "seconds", "per pair"], grid_rows)
    agree = all(r.grid_agree for r in results)
    lines += [
        f"On the grid Shieldwall found {'exactly' if agree else '**not**'} the (observation,"
        f" indicator) hits stix2-matcher found ({first.grid_hits} hits in the first repeat)."
        f" Compiling a pattern costs stix2-matcher"
        f" {spread([1e3 * r.peer_compile_s for r in results]).text(2, ' ms')}.",
        "",
    ]
    timed = [r for r in results if r.log_seconds]
    if timed:
        t = timed[0]
        seconds = spread([r.log_seconds for r in timed if r.log_seconds])
        lines += [
            "End to end from log lines: a plain list (one value a line, kinds interleaved)"
            " read by `shieldwall.domain.logs.read_records(lines, fmt='plain')`, observables"
            " grouped by kind, `match_values` per kind, hits counted:",
            "",
        ]
        lines += _table(
            ["log lines", "observables read", "patterns", "seconds", "lines/s",
             "observables/s", "hits"],
            [
                [
                    f"{t.log_lines:,}",
                    f"{t.log_observables:,}",
                    f"{t.log_patterns:,}",
                    seconds.text(2),
                    spread([r.log_lines / r.log_seconds for r in timed if r.log_seconds]).text(0),
                    spread(
                        [r.log_observables / r.log_seconds for r in timed if r.log_seconds]
                    ).text(0),
                    f"{t.log_hits:,}",
                ]
            ],
        )  # fmt: skip
    else:
        lines += [f"End to end from log lines: not measured ({first.log_note}).", ""]
    return lines


def _section_w4(analysis: Analysis) -> list[str]:
    results: list[CompileResult] = analysis.results("W4")
    if not results:
        return []
    first = results[0]
    parse_ratio = spread([r.parse_rate / r.peer_rate for r in results])
    lines = [
        "## W4 compile",
        "",
        f"Equality patterns of the W3 mix: `parse_pattern` over {first.patterns:,} of them, and"
        f" `Matcher.compile` of the same (which parses too); stix2-patterns"
        f" `stix2patterns.v21.pattern.Pattern(text)` (ANTLR parse tree) and `run_validator(text,"
        f" '2.1')` (parse plus its checks) on the first {first.peer_patterns:,}, right after in"
        " the same process; rates are per pattern, so the peer's figure is taken as holding"
        f" for all {first.patterns:,} (parse cost does not depend on how many came before)."
        " Both sides parse 50 patterns before the clocks start (ANTLR builds its DFA lazily)."
        " Ratio = Shieldwall rate ÷ stix2-patterns `Pattern` rate, per repeat. A second set of"
        f" {first.general_patterns:,} patterns of other shapes (ISSUBSET, OR and AND inside"
        " brackets, LIKE, IN, FOLLOWEDBY … WITHIN, REPEATS, START/STOP) shows the general parser"
        f" (peer on the first {first.general_peer_patterns:,}).",
        "",
    ]
    rows = [
        [
            "equality (fast path)",
            f"{first.patterns:,} / {first.peer_patterns:,}",
            spread([r.parse_rate for r in results]).text(0),
            spread([r.compile_rate for r in results]).text(0),
            spread([r.peer_rate for r in results]).text(0),
            spread([r.validator_rate for r in results]).text(0),
            parse_ratio.text(0, "×"),
            spread([r.compile_rate / r.peer_rate for r in results]).text(0, "×"),
            _verdict_of(parse_ratio, lambda v: v >= 50),
        ],
        [
            "other shapes (general parser)",
            f"{first.general_patterns:,} / {first.general_peer_patterns:,}",
            spread([r.general_rate for r in results]).text(0),
            "–",
            spread([r.general_peer_rate for r in results]).text(0),
            "–",
            spread([r.general_rate / r.general_peer_rate for r in results]).text(0, "×"),
            "–",
            "–",
        ],
    ]
    lines += _table(
        [
            "patterns",
            "count (ours / peer)",
            "`parse_pattern`/s",
            "`Matcher.compile`/s",
            "stix2-patterns `Pattern`/s",
            "stix2-patterns `run_validator`/s",
            "ratio parse",
            "ratio compile",
            "≥ 50× (parse)",
        ],
        rows,
    )
    rejected = sum(r.rejected for r in results) + sum(r.peer_rejected for r in results)
    lines += [
        f"Patterns refused: {rejected} (all generated patterns are valid; both sides agree)."
        if rejected == 0
        else f"Patterns refused: {rejected} (**some generated pattern was refused**).",
        "",
    ]
    return lines


def _steps_table(ours: dict[str, Spread], theirs: dict[str, Spread]) -> list[str]:
    rows = [[f"Shieldwall: {step}", value.text(3, " s")] for step, value in ours.items()]
    rows += [[f"openmined-psi: {step}", value.text(3, " s")] for step, value in theirs.items()]
    return _table(["member step", "seconds"], rows)


def _section_w5(analysis: Analysis) -> list[str]:
    results: list[LookupResult] = analysis.results("W5")
    http: list[HttpLookupResult] = analysis.results("W5-http")
    if not results and not http:
        return []
    lines = ["## W5 private lookup", ""]
    if results:
        r0 = results[0]
        member = spread([r.member_s for r in results])
        psi = spread([r.psi_s for r in results])
        ratio = spread([r.psi_s / r.member_s for r in results])
        build = r0.build_per_million_s
        lines += [
            f"A hub holding {r0.indicators:,} indicators (the W3 mix: {r0.hub_items:,} items"
            f" from `items_from_pattern`), a member asking about {r0.member_items:,} items of"
            f" which {r0.member_hits} are held. Shieldwall: the hub builds its filter once"
            " (`LookupFilter.empty(header, 2 × items)` as the hub sizes it, then"
            " `add(services.lookup.evaluate_items(seed, generation, items))`, which spreads the"
            f" OPRF over one process per core as the hub does, FPR {r0.fpr:g}); the member loads"
            " the filter file and takes `private_check`'s steps with the hub's"
            " `oprf_evaluate_blinded` called in process in batches of 1,000 (no HTTP, no"
            " network). openmined-psi (ECDH-PSI, the reference): the hub's"
            " `CreateSetupMessage` over the same items (Golomb-compressed set, FPR"
            f" {r0.psi_fpr:g} per query of {r0.member_items:,}, the same per item), the member's"
            " `CreateRequest`, the hub's `ProcessRequest`, the member's `GetIntersection`."
            " Ratio = openmined-psi time ÷ Shieldwall time (above 1: Shieldwall is faster), per"
            " repeat for the member's side.",
            "",
        ]
        lines += _table(
            ["", "Shieldwall (OPRF + Bloom)", "openmined-psi (ECDH + GCS)", "ratio", "target",
             "verdict"],
            [
                [
                    f"member end to end, {r0.member_items:,} items",
                    member.text(2, " s"),
                    psi.text(2, " s"),
                    ratio.text(2, "×"),
                    "≤ 5 s",
                    _verdict_of(member, lambda v: v <= 5.0),
                ],
                [
                    "items found (expected)",
                    f"{r0.found} ({r0.member_hits})",
                    f"{r0.psi_found} ({r0.member_hits})",
                    "",
                    "",
                    "",
                ],
                [
                    f"hub build, {r0.hub_items:,} items",
                    f"{r0.items_s:.1f} s items + {r0.build_s:.1f} s OPRF and Bloom",
                    f"{r0.psi_setup_s:.1f} s",
                    f"{r0.psi_setup_s / (r0.items_s + r0.build_s):.2f}×",
                    "",
                    "",
                ],
                [
                    "hub build per million items",
                    f"{build:.1f} s",
                    f"{r0.psi_setup_per_million_s:.1f} s",
                    "",
                    "≤ 60 s",
                    _verdict(build <= 60.0),
                ],
                [
                    "what the member downloads",
                    f"{r0.filter_bytes / MIB:.1f} MiB filter"
                    f" ({8 * r0.filter_bytes / max(r0.hub_items, 1):.1f} bits per item);"
                    f" `to_bytes` {r0.to_bytes_s * 1e3:.0f} ms",
                    f"{r0.psi_setup_bytes / MIB:.1f} MiB setup message",
                    "",
                    "",
                    "",
                ],
            ],
        )  # fmt: skip
        ours_steps = {
            step: spread([r.member[step] for r in results if step in r.member])
            for step in r0.member
        }
        psi_steps = {
            step: spread([r.psi[step] for r in results if step in r.psi]) for step in r0.psi
        }
        lines += ["Member steps:", "", *_steps_table(ours_steps, psi_steps)]
        if r0.private_check_s is not None:
            lines += [
                f"`shieldwall.client.lookup.private_check` itself (the same steps, base64 as on"
                f" the wire, the hub in process) took {r0.private_check_s:.2f} s and found"
                f" {r0.private_check_found} items in the first repeat.",
                "",
            ]
        lines += [f"- {note}" for r in results for note in r.notes]
    if http:
        h = http[0]
        lines += [
            "Through a real hub: `shieldwall serve` on SQLite, the bench organisation's"
            f" {h.indicators:,} indicators (IPv4, domain, SHA-256 after `bench/data.py`)"
            f" posted by TAXII ({h.ingest_s:.1f} s), then the member's side with"
            " `HubClient`, `fetch_filter` and `private_check` over loopback HTTP:",
            "",
        ]
        lines += _table(
            ["indicators", "filter items", "first download (hub builds)", "second download",
             "filter", "member items", "private_check", "found (expected)"],
            [
                [
                    f"{h.indicators:,}",
                    f"{h.filter_items:,}",
                    f"{h.first_fetch_s:.2f} s",
                    f"{h.fetch_s:.2f} s",
                    f"{h.filter_bytes / MIB:.2f} MiB",
                    f"{h.member_items:,}",
                    f"{h.check_s:.2f} s",
                    f"{h.found} ({h.expected})",
                ]
            ],
        )  # fmt: skip
    return lines


def _section_w6(analysis: Analysis) -> list[str]:
    results: list[MemoryResult] = analysis.results("W6")
    if not results:
        return []
    r0 = results[0]
    ratio = spread([r.ratio for r in results])
    lines = [
        "## W6 memory",
        "",
        f"A fresh process imports the matcher, collects garbage and reads `VmRSS`; it then"
        f" compiles {r0.indicators:,} indicators of the W3 mix generated on the fly (no list"
        " of patterns is held, so what RSS gains is what the matcher keeps plus allocator"
        " slack), collects garbage and reads `VmRSS` again. **Raw indicator bytes** = Σ"
        " len(id) + len(pattern) in UTF-8 (the ids are STIX ids of"
        f" {(r0.raw_bytes - r0.pattern_bytes) / r0.indicators:.0f} characters); the ratio is"
        " held RSS ÷ raw bytes. After `malloc_trim(0)` is shown too (memory freed while"
        " compiling handed back). Reference: Zeek's intel framework uses ~6–7× the intel file"
        f" size. One process per repeat ({len(results)}).",
        "",
    ]
    lines += _table(
        ["indicators", "raw bytes (ids + patterns)", "pattern text alone", "RSS before",
         "RSS after", "held", "ratio", "ratio after trim", "peak RSS", "compile", "≤ 2×"],
        [
            [
                f"{r0.indicators:,}",
                f"{r0.raw_bytes / MIB:.1f} MiB",
                f"{r0.pattern_bytes / MIB:.1f} MiB",
                spread([r.before_kib / 1024 for r in results]).text(0, " MiB"),
                spread([r.after_kib / 1024 for r in results]).text(0, " MiB"),
                spread([r.held_bytes / MIB for r in results]).text(0, " MiB"),
                ratio.text(2, "×"),
                spread([r.trimmed_ratio for r in results]).text(2, "×"),
                spread([r.peak_kib / 1024 for r in results]).text(0, " MiB"),
                spread([r.compile_s for r in results]).text(1, " s"),
                _verdict_of(ratio, lambda v: v <= 2.0),
            ]
        ],
    )  # fmt: skip
    return lines


def _section_plots(out: Path) -> list[str]:
    lines = ["## Plots", ""]
    for name, caption in PLOTS:
        if (out / name).exists():
            lines += [f"![{caption}]({name})", ""]
    return lines


def _section_profiles(profiles: dict[str, tuple[str, str]]) -> list[str]:
    if not profiles:
        return []
    lines = ["## Profiles of missed targets", ""]
    for workload, (filename, excerpt) in sorted(profiles.items()):
        lines += [f"### {workload} (`{filename}`)", "", "```", excerpt, "```", ""]
    return lines


def write(
    analysis: Analysis,
    machine: dict[str, object],
    out: Path,
    *,
    minutes: float,
    explanations: list[str],
    profiles: dict[str, tuple[str, str]],
) -> Path:
    """Write ``out/RESULTS.md`` and return its path."""
    plan = analysis.plan
    lines = [
        "# Benchmarks side by side with the peers",
        "",
        f"Mode **{plan.mode}** (`make bench{' QUICK=1' if plan.mode == 'quick' else ''}`),"
        f" {plan.repeats} repeat(s). Server workloads (W1, W2, W7, scaling): runs alternating"
        " Shieldwall, medallion, Shieldwall, …, every run on a fresh server process on a"
        " loopback port. In-process workloads (W3–W6): each in a fresh process, the peer"
        " right after Shieldwall in the same process, on the same data."
        f" Written {time.strftime('%Y-%m-%d %H:%M')}; measuring took {minutes:.1f} min."
        " Figures: median (min–max) over repeats.",
        "",
    ]
    lines += _section_targets(analysis)
    if explanations:
        lines += ["### Why targets were missed", ""] + [f"- {e}" for e in explanations] + [""]
    lines += _section_machine(machine)
    if analysis.records:
        lines += _section_w1(analysis)
        lines += _section_w2(analysis)
        lines += _section_scaling(analysis)
        lines += _section_w7(analysis)
    lines += _section_w3(analysis)
    lines += _section_w4(analysis)
    lines += _section_w5(analysis)
    lines += _section_w6(analysis)
    lines += _section_plots(out)
    lines += _section_profiles(profiles)
    if analysis.notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in analysis.notes] + [""]
    path = out / "RESULTS.md"
    path.write_text("\n".join(line.rstrip() for line in lines).rstrip() + "\n")
    return path
