"""W5 private lookup: a member's items against a hub's indicators by OPRF + Bloom filter,
side by side with openmined-psi (ECDH-PSI with a Golomb-compressed set), in one process.

``python -m bench.workloads.lookup w5 --plan MODE`` (started by the runner with the source
snapshot first on ``PYTHONPATH``) prints one JSON line: a list of results, one per repeat.
The hub's side is built once (Shieldwall's filter, then openmined-psi's setup message, from
the same items); each repeat then runs the member's side of both on the same items.

Shieldwall's member side repeats the steps of ``shieldwall.client.lookup.private_check``
with the hub's evaluation called in process (no HTTP): load the filter file, expand the
items into queries (``queries_for``), blind (``ristretto.Client.blind``), have the hub
evaluate batches of ``MAX_EVALUATE_BATCH`` (``oprf_evaluate_blinded``), unblind and verify
(``ristretto.Client.finalize_batch``), test the outputs against the filter.

``python -m bench.workloads.lookup http --url URL --plan MODE`` (the member's key in
``BENCH_HUB_KEY``) is the member's side through a real hub (``HubClient``,
``fetch_filter``, ``private_check``).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, cast

import orjson

from bench.plan import PLANS, LocalPlan
from bench.workloads.matching import KINDS, MISS_BASE, indicators, log, value

SEED = hashlib.sha256(b"shieldwall bench lookup key").digest()
GENERATION = 1
KEY_VARIABLE = "BENCH_HUB_KEY"


@dataclass
class LookupResult:
    """W5, one repeat (the hub's side was built once; its figures repeat in every result).

    Hub: ``items_s`` (``items_from_pattern`` over ``indicators`` patterns), ``build_s``
    (``LookupFilter.empty`` + ``add(oprf_outputs(…))`` for ``hub_items`` items, capacity
    twice the items as the hub sizes it), ``to_bytes_s``, ``filter_bytes``. Member
    (``member_items`` items, ``member_hits`` of them held by the hub): ``member`` maps each
    step to seconds. openmined-psi: ``psi_setup_s`` and ``psi_setup_bytes`` for the same
    hub items, ``psi`` its member-side steps.
    """

    indicators: int
    hub_items: int
    items_s: float
    build_s: float
    to_bytes_s: float
    filter_bytes: int
    fpr: float
    member_items: int
    member_hits: int
    member: dict[str, float]
    found: int
    psi_setup_s: float
    psi_setup_bytes: int
    psi_fpr: float
    psi: dict[str, float]
    psi_found: int
    private_check_s: float | None = None
    private_check_found: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def member_s(self) -> float:
        """Shieldwall member end to end (filter load + every step)."""
        return sum(self.member.values())

    @property
    def psi_s(self) -> float:
        """openmined-psi member end to end (setup load + request + server + intersection)."""
        return sum(self.psi.values())

    @property
    def build_per_million_s(self) -> float:
        """Hub filter build (items + OPRF + Bloom) per million items."""
        return (self.items_s + self.build_s) * 1e6 / max(self.hub_items, 1)

    @property
    def psi_setup_per_million_s(self) -> float:
        """openmined-psi setup per million items."""
        return self.psi_setup_s * 1e6 / max(self.hub_items, 1)


def _timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def member_items(hub_items: list[str], count: int, hit_rate: float, seed: int = 11) -> list[str]:
    """``count`` distinct normalised items, ``hit_rate`` of them held by the hub."""
    from shieldwall.domain.lookup import normalise

    rng = random.Random(seed)
    hits = max(1, round(count * hit_rate)) if hub_items else 0
    chosen = rng.sample(hub_items, min(hits, len(hub_items)))
    out = list(dict.fromkeys(chosen))
    while len(out) < count:
        kind = KINDS[len(out) % len(KINDS)]
        item = normalise(kind, value(kind, MISS_BASE + rng.randrange(MISS_BASE)))
        if item is not None:
            out.append(item)
    rng.shuffle(out)
    return out


def _member_steps(blob: bytes, items: list[str]) -> tuple[dict[str, float], set[str]]:
    """The member's side, step by step as ``private_check`` takes them; seconds per step."""
    from voprf import ristretto

    from shieldwall.domain.lookup import (
        MAX_EVALUATE_BATCH,
        LookupFilter,
        item_bytes,
        oprf_evaluate_blinded,
        queries_for,
    )

    steps = dict.fromkeys(("load", "queries", "blind", "hub evaluate", "finalize", "test"), 0.0)
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        steps[step] += now - clock
        clock = now

    lookup_filter = LookupFilter.from_bytes(blob)
    lap("load")
    wanted = list(dict.fromkeys(items))
    prefixes = lookup_filter.prefixes
    queries = {item: queries_for(item, prefixes) for item in wanted}
    distinct = list(dict.fromkeys(q for qs in queries.values() for q in qs))
    public_key = ristretto.PublicKey.deserialize(
        bytes.fromhex(str(lookup_filter.header["public_key"]))
    )
    lap("queries")
    known: set[str] = set()
    for start in range(0, len(distinct), MAX_EVALUATE_BATCH):
        batch = distinct[start : start + MAX_EVALUATE_BATCH]
        blinds = [ristretto.Client.blind(item_bytes(q)) for q in batch]
        blinded = [bytes(b.serialize()) for _, b in blinds]
        lap("blind")
        evaluation = oprf_evaluate_blinded(SEED, GENERATION, blinded)
        lap("hub evaluate")
        outputs = ristretto.Client.finalize_batch(
            [c for c, _ in blinds],
            ristretto.VerifiableBatchOutput.deserialize(evaluation),
            public_key,
        )
        lap("finalize")
        known.update(
            q for q, out in zip(batch, outputs, strict=True) if bytes(out) in lookup_filter
        )
        lap("test")
    found = {item for item, qs in queries.items() if any(q in known for q in qs)}
    lap("test")
    return steps, found


class _InProcessHub:
    """What ``private_check`` needs of a ``HubClient``: the hub's evaluation, in process."""

    def __init__(self, public_key: str) -> None:
        self.public_key = public_key

    def lookup_evaluate(self, blinded: list[bytes]) -> dict[str, Any]:
        from shieldwall.domain.lookup import oprf_evaluate_blinded

        evaluation = oprf_evaluate_blinded(SEED, GENERATION, blinded)
        return {"public_key": self.public_key, "evaluation": base64.b64encode(evaluation).decode()}


def _psi_member(server: Any, setup_bytes: bytes, items: list[str]) -> tuple[dict[str, float], int]:
    import private_set_intersection.python as psi  # type: ignore[import-untyped]
    from private_set_intersection.python import ServerSetup

    steps: dict[str, float] = {}
    client = psi.client.CreateWithNewKey(True)
    steps["load"], setup = _timed(lambda: ServerSetup.FromString(setup_bytes))
    steps["request"], request = _timed(lambda: client.CreateRequest(items))
    steps["hub process"], response = _timed(lambda: server.ProcessRequest(request))
    steps["intersection"], found = _timed(lambda: client.GetIntersection(setup, response))
    return steps, len(found)


def run_w5(plan: LocalPlan, repeats: int) -> list[LookupResult]:
    """W5 (see ``LookupResult``)."""
    import private_set_intersection.python as psi

    from shieldwall.client.hub import HubClient
    from shieldwall.client.lookup import private_check
    from shieldwall.domain.lookup import (
        DEFAULT_FPR,
        ONLINE,
        LookupFilter,
        items_from_pattern,
        oprf_public_key,
        prefix_lengths,
    )
    from shieldwall.services.lookup import evaluate_items  # what the hub runs (all cores)

    patterns = [text for _, text in indicators(plan.lookup_hub_items)]
    started = time.perf_counter()
    hub_items = [item for p in patterns for item in items_from_pattern(p)]
    items_s = time.perf_counter() - started
    patterns.clear()
    public_key = oprf_public_key(SEED, GENERATION)
    header: dict[str, object] = {
        "mode": ONLINE,
        "public_key": public_key,
        "generation": GENERATION,
        "items": len(hub_items),
        "prefixes": prefix_lengths(hub_items),
    }

    def build() -> LookupFilter:
        built = LookupFilter.empty(header, max(2 * len(hub_items), 1024))
        built.add(evaluate_items(SEED, GENERATION, hub_items))
        return built

    build_s, lookup_filter = _timed(build)
    to_bytes_s, blob = _timed(lookup_filter.to_bytes)
    log(
        f"W5 hub filter: {len(hub_items):,} items in {items_s:.1f} s + {build_s:.1f} s"
        f" (OPRF + Bloom), {len(blob) / 2**20:.1f} MiB"
    )
    items = member_items(hub_items, plan.lookup_member_items, plan.lookup_hit_rate)
    expected = len(set(items) & set(hub_items))
    psi_fpr = min(DEFAULT_FPR * len(items), 0.5)
    server = psi.server.CreateWithNewKey(True)
    psi_setup_s, setup = _timed(
        lambda: server.CreateSetupMessage(psi_fpr, len(items), hub_items, psi.DataStructure.GCS)
    )
    setup_bytes = setup.SerializeToString()
    log(
        f"W5 openmined-psi setup: {len(hub_items):,} items in {psi_setup_s:.1f} s,"
        f" {len(setup_bytes) / 2**20:.1f} MiB"
    )
    results: list[LookupResult] = []
    for repeat in range(repeats):
        steps, found = _member_steps(blob, items)
        psi_steps, psi_found = _psi_member(server, setup_bytes, items)
        result = LookupResult(
            indicators=plan.lookup_hub_items,
            hub_items=len(hub_items),
            items_s=items_s,
            build_s=build_s,
            to_bytes_s=to_bytes_s,
            filter_bytes=len(blob),
            fpr=float(str(lookup_filter.header["fpr"])),
            member_items=len(items),
            member_hits=expected,
            member=steps,
            found=len(found),
            psi_setup_s=psi_setup_s,
            psi_setup_bytes=len(setup_bytes),
            psi_fpr=psi_fpr,
            psi=psi_steps,
            psi_found=psi_found,
        )
        if repeat == 0:  # the client code itself, once, as a check of the steps above
            hub = cast(HubClient, _InProcessHub(public_key))
            seconds, checked = _timed(
                partial(private_check, hub, LookupFilter.from_bytes(blob), items)
            )
            result.private_check_s = seconds
            result.private_check_found = len(checked)
            if checked != found:
                result.notes.append("private_check found other items than the steps")
        log(
            f"W5 member {len(items):,} items: Shieldwall {result.member_s:.2f} s"
            f" ({result.found} found), openmined-psi {result.psi_s:.2f} s"
            f" ({psi_found} found), {expected} expected"
        )
        results.append(result)
    return results


# ------------------------------------------------------------------- through a real hub


@dataclass
class HttpLookupResult:
    """W5 through ``shieldwall serve`` (SQLite) holding ``indicators`` posted by TAXII:
    ``first_fetch_s`` (the hub builds the member's filter), ``fetch_s`` (a second download),
    ``check_s`` (``private_check`` of ``member_items`` items over HTTP)."""

    indicators: int
    ingest_s: float
    filter_bytes: int
    filter_items: int
    first_fetch_s: float
    fetch_s: float
    member_items: int
    expected: int
    check_s: float
    found: int


def http_member_items(indicator_count: int, count: int, hit_rate: float) -> tuple[list[str], int]:
    """Items of the bench dataset's indicators (``bench.data``, as posted) and misses."""
    from bench.data import indicators as posted
    from shieldwall.domain.lookup import items_from_pattern

    hub_items = [
        item
        for obj in posted(indicator_count, seed=1)
        for item in items_from_pattern(str(obj["pattern"]))
    ]
    items = member_items(hub_items, count, hit_rate)
    return items, len(set(items) & set(hub_items))


def run_http(url: str, key: str, plan: LocalPlan, ingest_s: float) -> HttpLookupResult:
    """The member's side through a real hub at ``url``."""
    from shieldwall.client.hub import HubClient
    from shieldwall.client.lookup import fetch_filter, private_check

    items, expected = http_member_items(
        plan.http_indicators, plan.http_member_items, plan.lookup_hit_rate
    )
    client = HubClient(url, key, timeout=plan.job_timeout_s)
    first_s, lookup_filter = _timed(lambda: fetch_filter(client))
    fetch_s, lookup_filter = _timed(lambda: fetch_filter(client))
    check_s, found = _timed(lambda: private_check(client, lookup_filter, items))
    result = HttpLookupResult(
        indicators=plan.http_indicators,
        ingest_s=ingest_s,
        filter_bytes=len(lookup_filter.to_bytes()),
        filter_items=int(str(lookup_filter.header.get("items", 0))),
        first_fetch_s=first_s,
        fetch_s=fetch_s,
        member_items=len(items),
        expected=expected,
        check_s=check_s,
        found=len(found),
    )
    log(
        f"W5 over HTTP: filter of {result.filter_items:,} items built in {first_s:.1f} s"
        f" (download {fetch_s:.2f} s); {len(items):,} items checked in {check_s:.2f} s,"
        f" {len(found)} found, {expected} expected"
    )
    return result


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.workloads.lookup w5|http --plan MODE [--url U]``."""
    parser = argparse.ArgumentParser(prog="python -m bench.workloads.lookup")
    parser.add_argument("workload", choices=("w5", "http"))
    parser.add_argument("--plan", choices=sorted(PLANS), default="quick")
    parser.add_argument("--url", default="")
    parser.add_argument("--ingest-seconds", type=float, default=0.0)
    args = parser.parse_args(argv)
    plan = PLANS[args.plan]
    results: list[LookupResult | HttpLookupResult]
    if args.workload == "w5":
        results = list(run_w5(plan.local, plan.repeats))
    else:
        key = os.environ.get(KEY_VARIABLE, "")
        results = [run_http(args.url, key, plan.local, args.ingest_seconds)]
    sys.stdout.buffer.write(orjson.dumps([asdict(r) for r in results]) + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
