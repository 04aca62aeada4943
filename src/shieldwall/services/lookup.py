"""Private lookup (architecture.md §4): the member's filter of ``OPRF_k(item)``, blind
evaluation under a daily quota, and the offline (HMAC) filter export.

What the hub keeps of a private lookup: the number of items a member had evaluated per day
(``lookup_usage``), nothing else. Blinded items are random group elements; they are neither
stored nor logged. The filter covers exactly the member's snapshot (``services.indicators``:
what it may read, through the one policy path).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from shieldwall.domain import lookup
from shieldwall.domain.errors import RateLimited
from shieldwall.domain.lookup import LookupFilter
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.timestamps import format_timestamp
from shieldwall.domain.tlp import Tlp
from shieldwall.services import audit, indicators
from shieldwall.services.context import Hub
from shieldwall.services.snapshots import Snapshot

SEED_SETTING = "lookup_seed"
GENERATION_SETTING = "lookup_generation"
DAY = 86_400 * 1_000_000
PARALLEL_FROM = 20_000  # below this, starting worker processes costs more than it saves


@dataclass(frozen=True, slots=True)
class LookupKey:
    """The hub's lookup key: secret seed, generation (bound into the key) and public key."""

    seed: bytes
    generation: int
    public_key: str


@dataclass(frozen=True, slots=True)
class _Contents:
    """What a filter holds: each indicator's pattern and items, all items, the highest TLP."""

    items: dict[str, tuple[str, tuple[str, ...]]]
    every: list[str]
    tlp: Tlp


@dataclass(frozen=True, slots=True)
class _Built:
    """A member filter and what it holds (kept for incremental growth)."""

    filter: LookupFilter
    contents: _Contents


def lookup_key(hub: Hub) -> LookupKey:
    """The current lookup key, created on first use (once, even under concurrent callers)."""
    with hub.store.read() as tx:
        seed, generation = tx.setting(SEED_SETTING), tx.setting(GENERATION_SETTING)
    if seed is None or generation is None:
        with hub.store.write() as wtx:
            wtx.lock_named(SEED_SETTING)
            seed, generation = wtx.setting(SEED_SETTING), wtx.setting(GENERATION_SETTING)
            if seed is None or generation is None:
                seed, generation = hub.ids.random_bytes(32).hex(), "1"
                wtx.set_setting(SEED_SETTING, seed)
                wtx.set_setting(GENERATION_SETTING, generation)
    raw = bytes.fromhex(seed)
    return LookupKey(raw, int(generation), lookup.oprf_public_key(raw, int(generation)))


def evaluate_items(seed: bytes, generation: int, items: list[str]) -> list[bytes]:
    """``OPRF_k(item)`` for every item, in order; large batches are spread over one worker
    process per core (the group operations hold the GIL, so threads would not help)."""
    workers = min(os.cpu_count() or 1, 8)
    if len(items) < PARALLEL_FROM or workers < 2:
        return lookup.oprf_output_list(seed, generation, items)
    size = -(-len(items) // workers)
    chunks = [items[start : start + size] for start in range(0, len(items), size)]
    context = multiprocessing.get_context("spawn")  # never fork a threaded server
    try:
        with ProcessPoolExecutor(len(chunks), mp_context=context) as pool:
            futures = [pool.submit(lookup.oprf_output_list, seed, generation, c) for c in chunks]
            return [output for future in futures for output in future.result()]
    except BrokenProcessPool:  # workers could not start (e.g. no importable __main__)
        return lookup.oprf_output_list(seed, generation, items)


def _contents(current: Snapshot, known: _Contents | None = None) -> _Contents:
    """The items of every indicator in the snapshot (call holding its lock); patterns that
    ``known`` already read are not parsed again."""
    before = known.items if known is not None else {}
    items: dict[str, tuple[str, tuple[str, ...]]] = {}
    for stix_id, entry in current.indicators.items():
        seen = before.get(stix_id)
        if seen is not None and seen[0] == entry.pattern:
            items[stix_id] = seen
        else:
            items[stix_id] = (entry.pattern, tuple(lookup.items_from_pattern(entry.pattern)))
    every = [item for _, found in items.values() for item in found]
    tlp = max((e.tlp for e in current.indicators.values()), default=int(Tlp.CLEAR))
    return _Contents(items, every, Tlp(tlp))


def _header(contents: _Contents, now: int) -> dict[str, object]:
    """The header fields both kinds of filter carry."""
    return {
        "items": len(contents.every),
        "prefixes": lookup.prefix_lengths(contents.every),
        "created": format_timestamp(now),
        "tlp": contents.tlp.label,
    }


def member_filter(hub: Hub, reader: Organisation) -> LookupFilter:
    """The reader's online filter (OPRF outputs of every item it may read), kept per snapshot
    and grown incrementally; rebuilt whole when indicators left the snapshot or it outgrew
    the capacity it was sized for."""
    key = lookup_key(hub)
    current = indicators.snapshot(hub, reader)
    now = hub.clock.now()

    def build(snap: Snapshot, previous: object) -> _Built:
        old = previous if isinstance(previous, _Built) else None
        contents = _contents(snap, old.contents if old is not None else None)
        if (
            old is not None
            and old.filter.header.get("public_key") == key.public_key
            and all(
                i in contents.items and contents.items[i][1] == found
                for i, (_, found) in old.contents.items.items()
            )
            and len(contents.every) <= int(str(old.filter.header["capacity"]))
        ):
            grown = old.filter
            added = contents.items.keys() - old.contents.items.keys()
            fresh = [item for i in added for item in contents.items[i][1]]
        else:
            grown = LookupFilter.empty({}, max(2 * len(contents.every), 1024))
            fresh = contents.every
        grown.add(evaluate_items(key.seed, key.generation, fresh))
        grown.header.update(
            mode=lookup.ONLINE,
            public_key=key.public_key,
            generation=key.generation,
            **_header(contents, now),
        )
        return _Built(grown, contents)

    with current.lock:
        built: _Built = indicators.derived(current, "lookup", build)
        return built.filter


def evaluate(hub: Hub, member: Organisation, blinded: list[bytes]) -> tuple[bytes, str]:
    """Evaluate blinded items with the lookup key: ``(serialized batch output with its DLEQ
    proof, public key hex)``. Counts the items against the member's daily quota first;
    ``RateLimited`` (nothing evaluated) when the batch would exceed it."""
    key = lookup_key(hub)
    day = hub.clock.now() // DAY
    limit = hub.config.lookup_daily_items
    lookup.check_evaluate_batch(len(blinded))  # before anything is counted
    with hub.store.write() as tx:
        if not tx.add_lookup_usage(member.id, day, len(blinded), limit):
            raise RateLimited(
                f"private lookup quota reached: at most {limit} items a day per member;"
                " it resets at midnight UTC"
            )
    return lookup.oprf_evaluate_blinded(key.seed, key.generation, blinded), key.public_key


def offline_export(hub: Hub, reader: Organisation) -> LookupFilter:
    """An offline filter (HMAC under a fresh random key carried in the file) of every item the
    reader may read, for air-gapped matching. Audited (who, how many items, no values)."""
    current = indicators.snapshot(hub, reader)
    with current.lock:
        contents = _contents(current)
    secret = hub.ids.random_bytes(32)
    now = hub.clock.now()
    exported = LookupFilter.empty({}, max(len(contents.every), 1024))
    exported.add(lookup.hmac_output(secret, item) for item in contents.every)
    exported.header.update(
        mode=lookup.OFFLINE,
        hmac_key=secret.hex(),
        indicators=len(contents.items),
        organisation=reader.name,
        **_header(contents, now),
    )
    with hub.store.write() as tx:
        audit.record(
            tx,
            now,
            reader.name,
            "lookup.export",
            {
                "items": len(contents.every),
                "indicators": len(contents.items),
                "tlp": contents.tlp.label,
            },
        )
    return exported
