"""PNG curves with matplotlib (headless Agg backend)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.ticker import NullFormatter

from bench.analysis import Analysis, M, S, medallion_ingest_fit, walk_fit
from bench.records import RunRecord
from bench.stats import median, spread
from bench.workloads.lookup import LookupResult
from bench.workloads.matching import CompileResult, MatchResult, MemoryResult

COLOURS = {S: "tab:blue", M: "tab:orange"}
Value = Callable[[RunRecord], float | None]


def _series(
    analysis: Analysis, peer: str, kinds: tuple[str, ...], value: Value
) -> tuple[list[float], list[float], list[float], list[float]]:
    sizes = sorted({r.objects for r in analysis.runs(peer, kinds=kinds)})
    xs: list[float] = []
    mids: list[float] = []
    lows: list[float] = []
    highs: list[float] = []
    for objects in sizes:
        values = [
            v
            for r in analysis.runs(peer, kinds=kinds)
            if r.objects == objects
            if (v := value(r)) is not None
        ]
        s = spread(values)
        if s.n:
            xs.append(objects)
            mids.append(s.median)
            lows.append(s.median - s.low)
            highs.append(s.high - s.median)
    return xs, mids, lows, highs


def _plot(
    ax: Axes,
    analysis: Analysis,
    peer: str,
    kinds: tuple[str, ...],
    value: Value,
    label: str,
    colour: str | None = None,
    marker: str = "o",
) -> None:
    xs, mids, lows, highs = _series(analysis, peer, kinds, value)
    if xs:
        ax.errorbar(
            xs,
            mids,
            yerr=[lows, highs],
            marker=marker,
            capsize=3,
            label=label,
            color=colour or COLOURS[peer],
        )


def _rate(r: RunRecord) -> float | None:
    return r.ingest.rate if r.ingest and r.ingest.complete else None


def _walk_s(r: RunRecord) -> float | None:
    return r.walk.seconds if r.walk and r.walk.complete else None


def _window(where: str) -> Value:
    def value(record: RunRecord) -> float | None:
        return record.walk.window(where) if record.walk else None

    return value


def plot_w1(analysis: Analysis, out: Path) -> None:
    """Ingest objects/s against collection size for both peers."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    _plot(ax, analysis, S, ("pair", "solo"), _rate, "Shieldwall (SQLite)")
    _plot(ax, analysis, M, ("pair",), _rate, "medallion 3.0.0 (memory)")
    fit = medallion_ingest_fit(analysis)
    if fit is not None:
        xs = [float(x) for x in range(1_000, 100_001, 1_000)]
        ax.plot(
            xs,
            [x / fit.at(x) for x in xs],
            "--",
            color=COLOURS[M],
            label=f"medallion fit: {fit.describe()}",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("objects ingested")
    ax.set_ylabel("objects/s")
    ax.set_title("W1 ingest through TAXII (same client, same bundles)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "w1_ingest.png", dpi=110)
    plt.close(fig)


def plot_w2(analysis: Analysis, out: Path) -> None:
    """Walk seconds against collection size, with power-law fits extended to 100k."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    _plot(ax, analysis, S, ("pair", "solo"), _walk_s, "Shieldwall")
    _plot(ax, analysis, M, ("pair",), _walk_s, "medallion")
    for peer in (S, M):
        fit = walk_fit(analysis, peer)
        if fit is not None:
            xs = [float(x) for x in (300, 1_000, 3_000, 10_000, 30_000, 100_000)]
            ax.plot(
                xs,
                [fit.at(x) for x in xs],
                ":",
                color=COLOURS[peer],
                label=f"{peer} fit: {fit.describe()}",
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("objects in the collection")
    ax.set_ylabel("seconds to walk (limit=1000)")
    ax.set_title("W2 walk of a whole collection")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "w2_walk.png", dpi=110)
    plt.close(fig)


def plot_scaling(analysis: Analysis, out: Path) -> None:
    """Shieldwall alone: ingest rate, page latency (start/middle/end), RSS by size."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    kinds = ("pair", "solo")
    _plot(axes[0], analysis, S, kinds, _rate, "ingest objects/s")
    axes[0].set_ylabel("objects/s")
    axes[0].set_title("ingest rate")
    for where, marker, colour in (
        ("start", "o", "tab:blue"),
        ("middle", "s", "tab:green"),
        ("end", "^", "tab:red"),
    ):
        _plot(
            axes[1],
            analysis,
            S,
            kinds,
            _window(where),
            f"page at {where} of walk",
            colour,
            marker,
        )
    axes[1].set_ylabel("ms per page (limit=1000)")
    axes[1].set_title("page latency (flat = O(page))")
    axes[1].set_ylim(bottom=0)
    _plot(
        axes[2],
        analysis,
        S,
        kinds,
        lambda r: r.memory_after_ingest.get("VmRSS", 0) / 1024 or None,
        "after ingest",
    )
    _plot(
        axes[2],
        analysis,
        S,
        kinds,
        lambda r: r.memory_end.get("VmHWM", 0) / 1024 or None,
        "peak (VmHWM)",
        "tab:purple",
        "s",
    )
    axes[2].set_ylabel("MiB")
    axes[2].set_title("server RSS")
    axes[0].set_ylim(bottom=0)
    axes[2].set_ylim(bottom=0)
    for ax in axes:
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("objects in the collection")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle("Shieldwall scaling (SQLite, one process)")
    fig.tight_layout()
    fig.savefig(out / "scaling.png", dpi=110)
    plt.close(fig)


def _rolling_median(values: list[float], window: int) -> list[float]:
    half = window // 2
    return [median(values[max(0, i - half) : i + half + 1]) for i in range(len(values))]


def plot_walk_profile(analysis: Analysis, out: Path) -> None:
    """Latency of every page along the walk, one line per size (first repeat): raw pages
    faint, a rolling median of 9 pages on top."""
    fig, ax = plt.subplots(figsize=(8, 4.8))
    seen: set[int] = set()
    top = 0.0
    runs = sorted(analysis.runs(S, kinds=("pair", "solo")), key=lambda r: r.objects)
    for record in runs:
        if record.walk is None or record.objects in seen or record.walk.pages < 3:
            continue
        index = len(seen)
        seen.add(record.objects)
        n = record.walk.pages
        xs = [i / (n - 1) for i in range(n)]
        smooth = _rolling_median(record.walk.latencies_ms, 9)
        colour = f"C{index % 10}"
        ax.plot(xs, record.walk.latencies_ms, lw=0.5, alpha=0.25, color=colour)
        ax.plot(xs, smooth, lw=1.6, color=colour, label=f"{record.objects:,} objects")
        top = max(top, max(smooth))
    ax.set_xlabel("position in the walk (0 = first page, 1 = last)")
    ax.set_ylabel("ms per page (limit=1000)")
    ax.set_ylim(0, top * 1.3 if top else None)
    ax.set_title("Shieldwall page latency along the walk (rolling median of 9 pages)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(out / "walk_profile.png", dpi=110)
    plt.close(fig)


def _bars(ax: Axes, labels: list[str], values: list[float], colours: list[str]) -> None:
    bars = ax.bar(range(len(values)), values, color=colours)
    ax.set_xticks(range(len(values)), labels, rotation=20, ha="right", fontsize="small")
    for bar, v in zip(bars, values, strict=True):
        ax.annotate(
            f"{v:,.3g}",
            (bar.get_x() + bar.get_width() / 2, v),
            ha="center",
            va="bottom",
            fontsize="x-small",
        )


def _w3_panel(ax: Axes, results: list[MatchResult]) -> None:
    sizes = sorted({int(size) for r in results for size in r.seconds})
    labels, values, colours = [], [], []
    for size in sizes:
        labels += [f"Shieldwall\n{size:,} patterns", f"stix2-matcher\n{size:,} (extrap.)"]
        values += [
            spread([r.rate(size) for r in results]).median,
            spread([r.observables / r.peer_seconds(size) for r in results]).median,
        ]
        colours += [COLOURS[S], "tab:red"]
    _bars(ax, labels, values, colours)
    ax.set_yscale("log")
    ax.axhline(1e6, color="grey", ls="--", lw=1, label="target 1M/s")
    ax.set_ylabel("observables/s (one core)")
    ax.set_title("W3 match")
    ax.legend(fontsize="small")


def _w4_panel(ax: Axes, results: list[CompileResult]) -> None:
    labels = ["parse_pattern", "Matcher.compile", "stix2-patterns\nPattern", "run_validator"]
    values = [
        spread([r.parse_rate for r in results]).median,
        spread([r.compile_rate for r in results]).median,
        spread([r.peer_rate for r in results]).median,
        spread([r.validator_rate for r in results]).median,
    ]
    _bars(ax, labels, values, [COLOURS[S], COLOURS[S], "tab:red", "tab:red"])
    ax.set_yscale("log")
    ax.set_ylabel("patterns/s")
    ax.set_title("W4 parse / compile (equality patterns)")


def _w5_panel(ax: Axes, results: list[LookupResult]) -> None:
    sides = (
        ("Shieldwall", [r.member for r in results]),
        ("openmined-psi", [r.psi for r in results]),
    )
    for x, (_, steps) in enumerate(sides):
        bottom = 0.0
        for i, step in enumerate(steps[0]):
            height = median([s.get(step, 0.0) for s in steps])
            colour = f"C{i + 6 * x}" if i + 6 * x < 10 else "tab:olive"
            ax.bar(x, height, bottom=bottom, color=colour, label=f"psi {step}" if x else step)
            bottom += height
    ax.set_xticks(range(len(sides)), [name for name, _ in sides])
    ax.axhline(5.0, color="grey", ls="--", lw=1, label="target 5 s")
    ax.set_ylabel("seconds")
    ax.set_title(f"W5 member side, {results[0].member_items:,} items")
    ax.legend(fontsize="x-small", ncol=2)


def _w6_panel(ax: Axes, results: list[MemoryResult]) -> None:
    raw = results[0].raw_bytes / 2**20
    held = spread([r.held_bytes / 2**20 for r in results]).median
    _bars(ax, ["raw bytes", "target 2× raw", "held RSS"], [raw, 2 * raw, held],
          ["tab:grey", "lightgrey", COLOURS[S]])  # fmt: skip
    ax.set_ylabel("MiB")
    ax.set_title(f"W6 memory, {results[0].indicators:,} indicators")


def plot_local(analysis: Analysis, out: Path) -> None:
    """W3–W6 side by side with their peers, one panel each (those that ran)."""
    panels: list[Callable[[Axes], None]] = []
    w3: list[MatchResult] = analysis.results("W3")
    w4: list[CompileResult] = analysis.results("W4")
    w5: list[LookupResult] = analysis.results("W5")
    w6: list[MemoryResult] = analysis.results("W6")
    if w3:
        panels.append(lambda ax: _w3_panel(ax, w3))
    if w4:
        panels.append(lambda ax: _w4_panel(ax, w4))
    if w5:
        panels.append(lambda ax: _w5_panel(ax, w5))
    if w6:
        panels.append(lambda ax: _w6_panel(ax, w6))
    if not panels:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 4.8), squeeze=False)
    for ax, draw in zip(axes[0], panels, strict=True):
        draw(ax)
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle("In-process workloads side by side with the peers (medians)")
    fig.tight_layout()
    fig.savefig(out / "matching.png", dpi=110)
    plt.close(fig)


def draw_all(analysis: Analysis, out: Path) -> None:
    """Every plot into ``out``."""
    if analysis.records:
        plot_w1(analysis, out)
        plot_w2(analysis, out)
        plot_scaling(analysis, out)
        plot_walk_profile(analysis, out)
    plot_local(analysis, out)
