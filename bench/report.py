"""Write ``RESULTS.md``: targets, machine, one table per workload, profiles, method."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from bench.analysis import Analysis, M, PairRow, S, page_p50, shieldwall_value
from bench.records import RunRecord
from bench.stats import Spread, spread

PLOTS = (
    ("w1_ingest.png", "W1 ingest rate by collection size, both peers"),
    ("w2_walk.png", "W2 walk time by collection size, both peers, with power-law fits"),
    ("scaling.png", "Shieldwall scaling: ingest rate, page latency, server RSS"),
    ("walk_profile.png", "Shieldwall page latency along each walk (flat = O(page))"),
)


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
        f" {plan.repeats} repeat(s), runs alternating Shieldwall, medallion, Shieldwall, …;"
        f" every run on a fresh server process on a loopback port."
        f" Written {time.strftime('%Y-%m-%d %H:%M')}; measuring took {minutes:.1f} min."
        " Figures: median (min–max) over repeats.",
        "",
    ]
    lines += _section_targets(analysis)
    if explanations:
        lines += ["### Why targets were missed", ""] + [f"- {e}" for e in explanations] + [""]
    lines += _section_machine(machine)
    lines += _section_w1(analysis)
    lines += _section_w2(analysis)
    lines += _section_scaling(analysis)
    lines += _section_w7(analysis)
    lines += _section_plots(out)
    lines += _section_profiles(profiles)
    if analysis.notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in analysis.notes] + [""]
    path = out / "RESULTS.md"
    path.write_text("\n".join(line.rstrip() for line in lines).rstrip() + "\n")
    return path
