"""Server-side bulk matching: a member sends observables, the hub answers with the indicators
it may read that match them. Unlike private lookup the hub sees the values; it neither stores
nor logs them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.lookup import MATCH_PATHS, guess
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.tlp import Tlp
from shieldwall.services import indicators
from shieldwall.services.context import Hub

MAX_OBSERVABLES = 100_000


@dataclass(frozen=True, slots=True)
class Observable:
    """A value to match; ``kind`` is a matcher object path, or None to guess it."""

    value: str
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    """One observable (by position in the request) matched by one indicator."""

    position: int
    value: str
    kind: str
    indicator_id: str
    tlp: str
    confidence: int | None
    valid_until: int | None
    collection_id: str


def _kind_of(observable: Observable) -> str | None:
    if observable.kind is not None:
        return observable.kind
    item = guess(observable.value)
    return None if item is None else MATCH_PATHS.get(item.partition("|")[0])


def bulk_match(hub: Hub, reader: Organisation, observables: list[Observable]) -> list[Hit]:
    """Every (observable, indicator) match among the indicators the reader may read, ordered
    by position then indicator id. Observables whose kind cannot be guessed match nothing.
    Raises ``InvalidInput`` for more than ``MAX_OBSERVABLES`` or an unknown object path."""
    if len(observables) > MAX_OBSERVABLES:
        raise InvalidInput(f"send at most {MAX_OBSERVABLES} observables per request")
    by_kind: dict[str, list[int]] = defaultdict(list)
    for position, observable in enumerate(observables):
        kind = _kind_of(observable)
        if kind is not None:
            by_kind[kind].append(position)
    current = indicators.snapshot(hub, reader)
    hits: list[Hit] = []
    with current.lock:
        matcher = indicators.matcher_of(current)
        entries = current.indicators
        for kind, positions in by_kind.items():
            values = [observables[p].value for p in positions]
            for index, indicator_id in matcher.match_values(kind, values):
                entry = entries[indicator_id]
                position = positions[index]
                hits.append(
                    Hit(
                        position,
                        observables[position].value,
                        kind,
                        indicator_id,
                        Tlp(entry.tlp).label,
                        entry.confidence,
                        entry.valid_until,
                        entry.collection_id,
                    )
                )
    hits.sort(key=lambda h: (h.position, h.indicator_id))
    return hits


def indicators_for_value(hub: Hub, reader: Organisation, value: str) -> list[str]:
    """Ids of the live indicators the reader may read that match ``value`` (kind guessed)."""
    return sorted({hit.indicator_id for hit in bulk_match(hub, reader, [Observable(value)])})


def excluded(hub: Hub, reader: Organisation) -> list[str]:
    """Ids of the indicators the reader may read that matching leaves out (revoked, expired
    by ``valid_until`` or score, warning-listed and unconfirmed), sorted: what a member's
    local cache must not match either."""
    current = indicators.snapshot(hub, reader)
    with current.lock:
        return sorted(current.excluded)
