"""The schedule of a benchmark run, the profiles of missed targets, and the outputs."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import orjson

from bench import data, machine, plots, report, servers
from bench.analysis import Analysis, M, S, analyse, missed, walk_diagnosis
from bench.data import Dataset
from bench.plan import FULL, PLANS, QUICK, SMOKE, Plan
from bench.profiling import categorise, render, summarise
from bench.records import RunRecord, from_json, to_json
from bench.session import Steps, log, run_server

RESULTS = servers.ROOT / "bench" / "results"
PROFILE_FOCUS = {"W1": "add_objects (", "W2": "get_objects (", "W7": None}
PROFILE_WHAT = {
    "W1": "W1 ingest",
    "W2": "W2 walk (ingest samples excluded)",
    "W7": "W7 concurrency",
}


class Datasets:
    """Datasets built on first use and kept while they are needed."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._cache: dict[int, Dataset] = {}

    def get(self, size: int) -> Dataset:
        """The dataset of ``size`` generated indicators (plus the OASIS bundles)."""
        if size not in self._cache:
            self._cache[size] = data.build_dataset(size, bundle_size=self.plan.bundle_size)
        return self._cache[size]

    def drop(self, size: int) -> None:
        """Forget a large dataset."""
        self._cache.pop(size, None)


def _pairs(plan: Plan, datasets: Datasets, repeat: int, records: list[RunRecord]) -> None:
    for size in plan.pair_sizes:
        if repeat > 0 and size in plan.pair_once_sizes:
            continue
        for peer in (S, M):  # strictly alternating: Shieldwall, medallion, Shieldwall, …
            steps = Steps(walk=peer == S or size in plan.walk_sizes)
            record, _ = run_server(peer, "pair", datasets.get(size), plan, repeat, steps)
            records.append(record)


def _solo(plan: Plan, datasets: Datasets, repeat: int, records: list[RunRecord]) -> None:
    biggest = max(plan.solo_sizes, default=0)
    for size in plan.solo_sizes:
        steps = Steps(walk=True, concurrency=size == biggest)
        record, _ = run_server(S, "solo", datasets.get(size), plan, repeat, steps)
        records.append(record)


def _w7_small(plan: Plan, datasets: Datasets, repeat: int, records: list[RunRecord]) -> None:
    for peer in (S, M):
        dataset = datasets.get(plan.w7_small_size)
        record, _ = run_server(peer, "w7-small", dataset, plan, repeat, Steps(concurrency=True))
        records.append(record)


def schedule(plan: Plan) -> list[RunRecord]:
    """Every measured run, in order."""
    datasets = Datasets(plan)
    records: list[RunRecord] = []
    for repeat in range(plan.repeats):
        log(f"repeat {repeat + 1}/{plan.repeats}: side by side")
        _pairs(plan, datasets, repeat, records)
        log(f"repeat {repeat + 1}/{plan.repeats}: Shieldwall alone {plan.solo_sizes}")
        _solo(plan, datasets, repeat, records)
        log(f"repeat {repeat + 1}/{plan.repeats}: W7 side by side")
        _w7_small(plan, datasets, repeat, records)
    for size in plan.solo_once_sizes:
        log(f"Shieldwall alone at {size:,} (once)")
        for pair_size in plan.solo_sizes:
            datasets.drop(pair_size)
        record, _ = run_server(S, "solo", datasets.get(size), plan, 0, Steps(walk=True))
        records.append(record)
        datasets.drop(size)
    return records


def _profile_run(workload: str, plan: Plan) -> tuple[RunRecord, Path | None]:
    datasets = Datasets(plan)
    if workload == "W7":
        dataset, steps = datasets.get(plan.w7_small_size), Steps(concurrency=True)
    else:
        size = plan.profile_walk_size if workload == "W2" else plan.profile_size
        dataset, steps = datasets.get(size), Steps(walk=workload == "W2")
    return run_server(S, f"profile-{workload}", dataset, plan, 0, steps, profile=True)


def profile_missed(analysis: Analysis, out: Path) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """Profile the Shieldwall server during each workload whose target was missed."""
    profiles: dict[str, tuple[str, str]] = {}
    explanations: list[str] = []
    for workload in sorted(missed(analysis)):
        if workload == "W2":
            explanations += [f"W2 (measured walks): {text}" for text in walk_diagnosis(analysis)]
        log(f"profiling Shieldwall during {workload}")
        record, path = _profile_run(workload, analysis.plan)
        if record.error is not None or path is None or not path.exists():
            explanations.append(
                f"{workload}: the profiling run failed ({record.error or 'no profile written'})."
            )
            continue
        focus = PROFILE_FOCUS[workload]
        whole = summarise(path, top=25)
        focused = summarise(path, top=40, focus=focus) if focus else whole
        text = render(whole, f"Shieldwall server during {PROFILE_WHAT[workload]}: whole process")
        if focus:
            text += "\n" + render(focused, f"only stacks through {focus.rstrip(' (')}")
        filename = f"profile-{workload.lower()}.txt"
        (out / filename).write_text(text)
        shares = categorise(path, focus)
        breakdown = ", ".join(f"{name} {share:.0f}%" for name, share in shares[:6])
        top_self = ", ".join(
            f"`{name}` {100 * n / max(focused.samples, 1):.0f}%"
            for name, n in focused.self_time[:5]
        )
        scope = f"inside `{focus.rstrip(' (')}`" if focus else "in the server process"
        if focus:
            share = 100.0 * focused.samples / max(whole.samples, 1)
            scope += f", {share:.0f}% of the server's {whole.samples} samples"
        explanations.append(
            f"{workload} ({PROFILE_WHAT[workload]}, {focused.samples} samples {scope}):"
            f" time by kind of code: {breakdown}. Top self time: {top_self}."
            f" Full profile: `{filename}`."
        )
        excerpt = render(focused, (focus or "whole process").rstrip(" ("), limit=15).strip()
        profiles[workload] = (filename, excerpt)
    return profiles, explanations


def _print_summary(analysis: Analysis, path: Path) -> None:
    print(f"\nResults written to {path}")
    for target in analysis.targets:
        verdict = "–" if target.met is None else ("met" if target.met else "MISSED")
        print(f"  {target.workload:3} {target.target:45} {target.measured:40} {verdict}")


def _measure(plan: Plan) -> tuple[dict[str, object], list[RunRecord]]:
    snapshot = servers.snapshot_source(log)
    if not snapshot:
        log("src/shieldwall does not import; measuring the live tree instead")
    facts = machine.describe()
    if snapshot:
        facts["source"] = f"{facts['source']}; snapshot of src/shieldwall taken at" + time.strftime(
            " %H:%M and used by every run"
        )
    log(f"bench {plan.mode}: {facts['cpu']}, {facts['cores']} cores, Python {facts['python']}")
    return facts, schedule(plan)


def _save(
    path: Path, plan: Plan, facts: dict[str, object], records: list[RunRecord], minutes: float
) -> None:
    document = {
        "plan": plan.mode,
        "minutes": minutes,
        "machine": facts,
        "runs": [to_json(r) for r in records],
    }
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))


def main(argv: list[str] | None = None) -> int:
    """``python -m bench [--quick | --smoke] [--out DIR] [--no-profile] [--from-results F]``."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: check the harness")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where results go (default bench/results/, quick runs bench/results/quick/)",
    )
    parser.add_argument("--no-profile", action="store_true", help="skip profiles")
    parser.add_argument(
        "--from-results",
        type=Path,
        default=None,
        help="re-render the report (and profiles) from a results.json instead of measuring",
    )
    args = parser.parse_args(argv)
    started = time.time()
    servers.clean_work()
    if args.from_results is not None:
        saved = orjson.loads(args.from_results.read_bytes())
        plan = PLANS[saved["plan"]]
        facts, minutes = saved["machine"], float(saved.get("minutes", 0.0))
        records = [from_json(r) for r in saved["runs"]]
        out: Path = args.out or args.from_results.parent
        if not args.no_profile:
            servers.snapshot_source(log)
    else:
        plan = SMOKE if args.smoke else QUICK if args.quick else FULL
        default = {"full": RESULTS, "quick": RESULTS / "quick", "smoke": servers.WORK / "smoke"}
        out = args.out or default[plan.mode]
        out.mkdir(parents=True, exist_ok=True)
        facts, records = _measure(plan)
        minutes = (time.time() - started) / 60
        _save(out / "results.json", plan, facts, records, minutes)
    analysis = analyse(plan, records)
    if args.from_results is not None and not args.no_profile:
        analysis.notes.append(
            f"Report re-rendered at {time.strftime('%H:%M')} from results.json; the profiles were"
            " recorded then, against a new snapshot of src/shieldwall, which may differ from"
            " the code the runs measured."
        )
    profiles, explanations = ({}, []) if args.no_profile else profile_missed(analysis, out)
    plots.draw_all(analysis, out)
    path = report.write(
        analysis, facts, out, minutes=minutes, explanations=explanations, profiles=profiles
    )
    _print_summary(analysis, path)
    return 0
