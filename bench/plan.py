"""What a run measures: sizes, repeats and time budgets for quick and full mode.

medallion's GET cost grows with the square of the collection (its first page scans and
matches every object against every manifest entry), so reads side by side run at sizes
medallion can answer; Shieldwall alone runs the large sizes. ``LocalPlan`` sizes the
in-process workloads W3–W6 (matcher, pattern parser, memory, private lookup).
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class LocalPlan:
    """W3–W6, each in a fresh process on the source snapshot, peers side by side in it."""

    # W3 match: observables against each pattern count; stix2-matcher on a reduced grid
    observables: int
    pattern_sizes: tuple[int, ...]
    hit_rate: float
    peer_grid: tuple[tuple[int, int], ...]  # (patterns, observations)
    log_lines: int  # end to end through the log readers (plain list, one value a line)
    # W4 compile: our parser on every pattern, stix2-patterns on the first peer_patterns
    compile_patterns: int
    compile_peer_patterns: int
    general_patterns: int  # shapes outside the fast path (context)
    general_peer_patterns: int
    # W6 memory
    memory_indicators: int
    # W5 private lookup (openmined-psi's server set is the same hub items)
    lookup_hub_items: int
    lookup_member_items: int
    lookup_hit_rate: float
    http_indicators: int  # W5 through `shieldwall serve`: indicators posted by TAXII
    http_member_items: int
    job_timeout_s: float  # each workload process


@dataclass(frozen=True, slots=True)
class Plan:
    """Sizes are counts of generated indicators; the OASIS objects (217) come on top."""

    mode: str
    repeats: int
    bundle_size: int
    page_limit: int
    # side by side, alternating peers: ingest at every size, walk and poll at walk sizes
    pair_sizes: tuple[int, ...]
    pair_once_sizes: tuple[int, ...]  # of pair_sizes: only in the first repeat (slow peer)
    walk_sizes: tuple[int, ...]
    # Shieldwall alone: W1/W2 absolute figures and scaling (ingest, walk, memory)
    solo_sizes: tuple[int, ...]
    solo_once_sizes: tuple[int, ...]
    w1_target_size: int
    w2_target_size: int
    # W7
    w7_readers: int
    w7_writers: int
    w7_seconds: float
    w7_small_size: int
    w7_write_bundle: int
    # budgets (seconds)
    ingest_budget_s: float
    walk_budget_s: float
    poll_budget_s: float
    poll_repeats: int
    request_timeout_s: float
    w7_request_timeout_s: float
    profile_size: int
    profile_walk_size: int  # W2 profile: large enough for the page cost to show
    local: LocalPlan

    @property
    def scaling_sizes(self) -> tuple[int, ...]:
        """Shieldwall sizes on the scaling curves."""
        return tuple(sorted(set(self.solo_sizes) | set(self.solo_once_sizes)))


QUICK = Plan(
    mode="quick",
    repeats=1,
    bundle_size=1000,
    page_limit=1000,
    pair_sizes=(500, 2_000, 5_000),
    pair_once_sizes=(),
    walk_sizes=(500,),
    solo_sizes=(10_000, 50_000),
    solo_once_sizes=(),
    w1_target_size=50_000,
    w2_target_size=100_000,
    w7_readers=50,
    w7_writers=5,
    w7_seconds=5.0,
    w7_small_size=300,
    w7_write_bundle=100,
    ingest_budget_s=90.0,
    walk_budget_s=120.0,
    poll_budget_s=3.0,
    poll_repeats=20,
    request_timeout_s=120.0,
    w7_request_timeout_s=15.0,
    profile_size=10_000,
    profile_walk_size=50_000,
    local=LocalPlan(
        observables=1_000_000,
        pattern_sizes=(100_000,),
        hit_rate=0.01,
        peer_grid=((100, 100), (50, 200)),
        log_lines=200_000,
        compile_patterns=100_000,
        compile_peer_patterns=2_000,
        general_patterns=10_000,
        general_peer_patterns=1_000,
        memory_indicators=200_000,
        lookup_hub_items=100_000,
        lookup_member_items=10_000,
        lookup_hit_rate=0.01,
        http_indicators=20_000,
        http_member_items=10_000,
        job_timeout_s=600.0,
    ),
)

FULL = Plan(
    mode="full",
    repeats=3,
    bundle_size=1000,
    page_limit=1000,
    pair_sizes=(500, 1_000, 5_000, 10_000, 20_000, 50_000),
    pair_once_sizes=(50_000,),
    walk_sizes=(500, 1_000),
    solo_sizes=(100_000,),
    solo_once_sizes=(1_000_000,),
    w1_target_size=50_000,
    w2_target_size=100_000,
    w7_readers=50,
    w7_writers=5,
    w7_seconds=20.0,
    w7_small_size=300,
    w7_write_bundle=100,
    ingest_budget_s=600.0,
    walk_budget_s=600.0,
    poll_budget_s=5.0,
    poll_repeats=20,
    request_timeout_s=900.0,
    w7_request_timeout_s=30.0,
    profile_size=20_000,
    profile_walk_size=200_000,
    local=LocalPlan(
        observables=1_000_000,
        pattern_sizes=(100_000, 1_000_000),
        hit_rate=0.01,
        peer_grid=((100, 300), (300, 100), (300, 300)),
        log_lines=1_000_000,
        compile_patterns=100_000,
        compile_peer_patterns=10_000,
        general_patterns=20_000,
        general_peer_patterns=2_000,
        memory_indicators=1_000_000,
        lookup_hub_items=1_000_000,
        lookup_member_items=10_000,
        lookup_hit_rate=0.01,
        http_indicators=100_000,
        http_member_items=10_000,
        job_timeout_s=1200.0,
    ),
)

SMOKE = replace(
    QUICK,
    mode="smoke",
    pair_sizes=(100, 1_500),
    walk_sizes=(100,),
    solo_sizes=(3_000,),
    w1_target_size=1_500,
    w2_target_size=3_000,
    w7_seconds=2.0,
    w7_small_size=50,
    w7_readers=10,
    w7_writers=2,
    profile_size=2_000,
    profile_walk_size=3_000,
    local=LocalPlan(
        observables=20_000,
        pattern_sizes=(2_000,),
        hit_rate=0.01,
        peer_grid=((10, 20), (20, 10)),
        log_lines=5_000,
        compile_patterns=2_000,
        compile_peer_patterns=200,
        general_patterns=400,
        general_peer_patterns=80,
        memory_indicators=20_000,
        lookup_hub_items=2_000,
        lookup_member_items=300,
        lookup_hit_rate=0.05,
        http_indicators=1_000,
        http_member_items=200,
        job_timeout_s=300.0,
    ),
)

PLANS = {plan.mode: plan for plan in (QUICK, FULL, SMOKE)}
