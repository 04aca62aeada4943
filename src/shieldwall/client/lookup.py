"""Private lookup on the member's side: blind, have the hub evaluate, unblind, test locally.

The hub sees blinded elements (uniformly random) and their number; the values, and which of
them are known, never leave the member. Outputs are verified against the public key the
filter names (the DLEQ proof), so a hub answering with another key is caught.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable

from voprf import ristretto

from shieldwall.client.hub import HubClient
from shieldwall.domain.errors import ShieldwallError
from shieldwall.domain.lookup import MAX_EVALUATE_BATCH, LookupFilter, item_bytes, queries_for
from shieldwall.domain.tokens import finalize_verified


class ProofRejected(ShieldwallError):
    """The hub's evaluation does not verify against the key its filter announced."""


def fetch_filter(client: HubClient) -> LookupFilter:
    """The member's online filter, freshly downloaded."""
    return LookupFilter.from_bytes(client.lookup_filter())


def private_check(
    client: HubClient,
    lookup_filter: LookupFilter,
    items: Iterable[str],
    progress: Callable[[int], None] | None = None,
) -> set[str]:
    """Those of ``items`` (normalised, ``domain.lookup``) that the filter holds, directly or
    through an IP range. Each item costs one blind evaluation per announced prefix length
    plus one; ``progress`` is called with the number of items evaluated after each batch."""
    wanted = list(dict.fromkeys(items))
    prefixes = lookup_filter.prefixes
    queries: dict[str, list[str]] = {item: queries_for(item, prefixes) for item in wanted}
    distinct = list(dict.fromkeys(q for qs in queries.values() for q in qs))
    key_hex = str(lookup_filter.header.get("public_key", ""))
    public_key = bytes.fromhex(key_hex)
    known: set[str] = set()
    for start in range(0, len(distinct), MAX_EVALUATE_BATCH):
        batch = distinct[start : start + MAX_EVALUATE_BATCH]
        blinds = [ristretto.Client.blind(item_bytes(q)) for q in batch]
        answer = client.lookup_evaluate([bytes(b.serialize()) for _, b in blinds])
        if answer.get("public_key") != key_hex:
            raise ProofRejected("the hub evaluated under a key other than its filter's")
        outputs = finalize_verified(
            [c for c, _ in blinds], base64.b64decode(answer["evaluation"]), public_key
        )
        if outputs is None:
            raise ProofRejected("the hub's proof does not verify against its key")
        known.update(q for q, out in zip(batch, outputs, strict=True) if out in lookup_filter)
        if progress is not None:
            progress(len(batch))
    return {item for item, qs in queries.items() if any(q in known for q in qs)}


def offline_check(lookup_filter: LookupFilter, items: Iterable[str]) -> set[str]:
    """Those of ``items`` an offline filter holds (no network)."""
    return {item for item in dict.fromkeys(items) if lookup_filter.offline_contains(item)}
