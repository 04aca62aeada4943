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


def draw_all(analysis: Analysis, out: Path) -> None:
    """Every plot into ``out``."""
    plot_w1(analysis, out)
    plot_w2(analysis, out)
    plot_scaling(analysis, out)
    plot_walk_profile(analysis, out)
