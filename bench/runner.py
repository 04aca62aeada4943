"""The schedule of a benchmark run, the profiles of missed targets, and the outputs."""

from __future__ import annotations

import argparse
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench import data, machine, plots, report, servers
from bench.analysis import Analysis, M, S, analyse, missed, walk_diagnosis
from bench.client import TaxiiClient
from bench.data import Dataset
from bench.plan import FULL, PLANS, QUICK, SMOKE, Plan
from bench.profiling import categorise, render, summarise
from bench.records import (
    LocalRecord,
    RunRecord,
    from_json,
    local_from_json,
    local_result,
    local_to_json,
    to_json,
)
from bench.session import Steps, log, run_server
from bench.workloads.ingest import run_ingest
from bench.workloads.lookup import KEY_VARIABLE

RESULTS = servers.ROOT / "bench" / "results"
LOCAL_WORKLOADS = ("w3", "w4", "w5", "w6")
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


def _job(module: str, args: list[str], plan: Plan, env: dict[str, str] | None = None) -> Any:
    """Run ``python -m module args`` on the source snapshot, in a fresh process bounded by
    the plan's job timeout; its progress goes to our stderr, its last stdout line is JSON."""
    done = subprocess.run(
        [str(servers.BIN / "python"), "-m", module, *args, "--plan", plan.mode],
        stdout=subprocess.PIPE,
        timeout=plan.local.job_timeout_s,
        check=False,
        cwd=servers.ROOT,
        env={**servers.server_env(), **(env or {})},
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} exited with {done.returncode}")
    return orjson.loads(done.stdout.strip().splitlines()[-1])


def _local_job(
    workload: str, module: str, args: list[str], plan: Plan, first_repeat: int = 0
) -> list[LocalRecord]:
    try:
        found = _job(module, args, plan)
    except (RuntimeError, subprocess.TimeoutExpired, ValueError, IndexError) as exc:
        log(f"  ERROR {workload}: {exc}")
        return [LocalRecord(workload, first_repeat, None, f"{type(exc).__name__}: {exc}")]
    return [
        LocalRecord(workload, first_repeat + i, local_result(workload, item))
        for i, item in enumerate(found)
    ]


def _w5_http(plan: Plan) -> LocalRecord:
    """W5 through a real hub: ``shieldwall serve`` (SQLite), indicators posted by TAXII,
    then the member's side (``fetch_filter``, ``private_check``) in a fresh process."""
    size = plan.local.http_indicators
    dataset = data.build_dataset(size, bundle_size=plan.bundle_size, with_oasis=False)
    try:
        server = servers.start(S, f"w5-http-{size}")
    except RuntimeError as exc:
        return LocalRecord("W5-http", 0, None, f"start failed: {str(exc)[:300]}")
    try:
        with TaxiiClient(server.api_root, server.auth, timeout=plan.request_timeout_s) as client:
            ingest = run_ingest(
                client, client.objects_url(server.collection_alias), dataset, plan.ingest_budget_s
            )
        if not ingest.complete:
            return LocalRecord("W5-http", 0, None, "ingest did not complete in its budget")
        log(f"  W5 over HTTP: {size:,} indicators posted in {ingest.seconds:.1f} s")
        found = _job(
            "bench.workloads.lookup",
            ["http", "--url", server.base_url, "--ingest-seconds", f"{ingest.seconds:.3f}"],
            plan,
            env={KEY_VARIABLE: server.password},
        )
        return LocalRecord("W5-http", 0, local_result("W5-http", found[0]))
    except (RuntimeError, subprocess.TimeoutExpired, ValueError, IndexError, OSError) as exc:
        log(f"  ERROR W5-http: {exc}")
        return LocalRecord("W5-http", 0, None, f"{type(exc).__name__}: {str(exc)[:300]}")
    finally:
        server.stop()


def run_local(plan: Plan, workloads: tuple[str, ...]) -> list[LocalRecord]:
    """The in-process workloads (W3–W6), each in fresh processes on the source snapshot."""
    found: list[LocalRecord] = []
    matching = "bench.workloads.matching"
    if "w3" in workloads:
        log(f"W3 match: stix2-matcher side by side ({plan.repeats} repeat(s))")
        found += _local_job("W3", matching, ["w3"], plan)
    if "w4" in workloads:
        log("W4 compile: stix2-patterns side by side")
        found += _local_job("W4", matching, ["w4"], plan)
    if "w6" in workloads:
        log(f"W6 memory: {plan.local.memory_indicators:,} indicators, a fresh process per repeat")
        for repeat in range(plan.repeats):
            found += _local_job("W6", matching, ["w6"], plan, first_repeat=repeat)
    if "w5" in workloads:
        log("W5 private lookup: openmined-psi side by side")
        found += _local_job("W5", "bench.workloads.lookup", ["w5"], plan)
        log(f"W5 through a real hub ({plan.local.http_indicators:,} indicators)")
        found.append(_w5_http(plan))
    return found


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


def _measure(
    plan: Plan, only: tuple[str, ...]
) -> tuple[dict[str, object], list[RunRecord], list[LocalRecord]]:
    snapshot = servers.snapshot_source(log)
    if not snapshot:
        log("src/shieldwall does not import; measuring the live tree instead")
    facts = machine.describe()
    if snapshot:
        facts["source"] = f"{facts['source']}; snapshot of src/shieldwall taken at" + time.strftime(
            " %H:%M and used by every run"
        )
    log(f"bench {plan.mode}: {facts['cpu']}, {facts['cores']} cores, Python {facts['python']}")
    records = [] if only else schedule(plan)
    return facts, records, run_local(plan, only or LOCAL_WORKLOADS)


@dataclass
class Document:
    """What ``results.json`` holds: the runs, the machine, and the profiles' summaries."""

    plan: Plan
    facts: dict[str, Any]
    records: list[RunRecord]
    local: list[LocalRecord]
    minutes: float
    local_minutes: float = 0.0
    local_written: str = ""
    profiles: dict[str, tuple[str, str]] = field(default_factory=dict)
    explanations: list[str] = field(default_factory=list)

    def save(self, path: Path) -> None:
        """Write ``path`` (JSON)."""
        document = {
            "plan": self.plan.mode,
            "minutes": self.minutes,
            "local_minutes": self.local_minutes,
            "local_written": self.local_written,
            "machine": self.facts,
            "runs": [to_json(r) for r in self.records],
            "local": [local_to_json(r) for r in self.local],
            "profiles": {w: list(p) for w, p in self.profiles.items()},
            "explanations": self.explanations,
        }
        path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))

    @classmethod
    def load(cls, path: Path) -> Document:
        """Read ``path``; profiles missing from an older file are taken from the
        ``RESULTS.md`` next to it."""
        saved = orjson.loads(path.read_bytes())
        document = cls(
            PLANS[saved["plan"]],
            saved["machine"],
            [from_json(r) for r in saved["runs"]],
            [local_from_json(r) for r in saved.get("local", [])],
            float(saved.get("minutes", 0.0)),
            float(saved.get("local_minutes", 0.0)),
            str(saved.get("local_written", "")),
            {w: (str(p[0]), str(p[1])) for w, p in saved.get("profiles", {}).items()},
            list(saved.get("explanations", [])),
        )
        if "profiles" not in saved and (path.parent / "RESULTS.md").exists():
            document.profiles, document.explanations = _profiles_from_report(
                (path.parent / "RESULTS.md").read_text()
            )
        return document


def _profiles_from_report(text: str) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """The profile excerpts and explanations an older ``RESULTS.md`` printed."""
    explanations: list[str] = []
    why = re.search(r"^### Why targets were missed\n\n(.*?)(?=^#)", text, re.M | re.S)
    if why:
        explanations = [line[2:] for line in why.group(1).splitlines() if line.startswith("- ")]
    profiles: dict[str, tuple[str, str]] = {}
    for found in re.finditer(r"^### (W\d) \(`([^`]+)`\)\n\n```\n(.*?)\n```", text, re.M | re.S):
        profiles[found.group(1)] = (found.group(2), found.group(3))
    return profiles, explanations


def _only(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    chosen = tuple(dict.fromkeys(w.strip().lower() for w in text.split(",") if w.strip()))
    unknown = [w for w in chosen if w not in LOCAL_WORKLOADS]
    if unknown:
        raise SystemExit(f"--only takes {', '.join(LOCAL_WORKLOADS)}; not {', '.join(unknown)}")
    return chosen


def _merge(previous: Document, fresh: Document, only: tuple[str, ...]) -> Document:
    """``previous`` with the local workloads in ``only`` replaced by ``fresh``'s."""
    replaced = {w.upper() for w in only} | ({"W5-http"} if "w5" in only else set())
    kept = [r for r in previous.local if r.workload not in replaced]
    facts = dict(previous.facts)
    packages = dict(facts.get("packages") or {})
    packages.update(fresh.facts.get("packages") or {})
    facts["packages"] = packages
    facts["local_source"] = fresh.facts.get("source")
    return Document(
        previous.plan,
        facts,
        previous.records,
        kept + fresh.local,
        previous.minutes,
        fresh.local_minutes,
        fresh.local_written,
        previous.profiles,
        previous.explanations,
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m bench [--quick | --smoke] [--only w3,w4,w5,w6] [--out DIR] [--no-profile]
    [--from-results F]``."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: check the harness")
    parser.add_argument(
        "--only",
        default=None,
        help="run only these in-process workloads (comma-separated: w3,w4,w5,w6) and merge"
        " them into the results.json already in the output folder (same mode), if any",
    )
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
    only = _only(args.only)
    started = time.time()
    servers.clean_work()
    reprofile = not args.no_profile
    if args.from_results is not None:
        document = Document.load(args.from_results)
        out: Path = args.out or args.from_results.parent
        if reprofile:
            servers.snapshot_source(log)
    else:
        plan = SMOKE if args.smoke else QUICK if args.quick else FULL
        default = {"full": RESULTS, "quick": RESULTS / "quick", "smoke": servers.WORK / "smoke"}
        out = args.out or default[plan.mode]
        out.mkdir(parents=True, exist_ok=True)
        facts, records, local = _measure(plan, only)
        minutes = (time.time() - started) / 60
        document = Document(plan, facts, records, local, 0.0 if only else minutes)
        document.local_minutes = minutes if only else 0.0
        document.local_written = time.strftime("%Y-%m-%d %H:%M")
        previous_path = out / "results.json"
        if only and previous_path.exists():
            previous = Document.load(previous_path)
            if previous.plan.mode == plan.mode:
                document = _merge(previous, document, only)
                reprofile = False  # the server runs are the earlier ones: keep their profiles
            else:
                log(f"{previous_path} holds a {previous.plan.mode} run: not merged, replaced")
        elif only:
            reprofile = False
        document.save(previous_path)  # before profiling: a failed profile loses no runs
    analysis = analyse(document.plan, document.records, document.local)
    if document.local_minutes and document.records:
        analysis.notes.append(
            f"W3–W6 were measured separately (`python -m bench --only …`, written"
            f" {document.local_written}, {document.local_minutes:.1f} min, source:"
            f" {document.facts.get('local_source', document.facts.get('source'))}) and merged"
            " with the server workloads of the earlier run; the targets table holds both."
        )
    if args.from_results is not None and reprofile:
        analysis.notes.append(
            f"Report re-rendered at {time.strftime('%H:%M')} from results.json; the profiles were"
            " recorded then, against a new snapshot of src/shieldwall, which may differ from"
            " the code the runs measured."
        )
    if reprofile:
        document.profiles, document.explanations = profile_missed(analysis, out)
        if args.from_results is None:
            document.save(out / "results.json")
    plots.draw_all(analysis, out)
    path = report.write(
        analysis,
        document.facts,
        out,
        minutes=document.minutes + document.local_minutes,
        explanations=document.explanations,
        profiles=document.profiles,
    )
    _print_summary(analysis, path)
    return 0
