"""Matching a member's logs: locally against its cached indicators, privately (OPRF filter),
offline (exported filter) or on the hub; and the sightings a member may report back.

Records are processed in chunks (``CHUNK`` lines) so memory stays bounded whatever the
input size; hits come out in input order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from shieldwall.client.hub import HubClient
from shieldwall.client.indicators import CachedIndicator
from shieldwall.client.lookup import offline_check, private_check
from shieldwall.domain.logs import LogRecord
from shieldwall.domain.lookup import MATCH_PATHS, LookupFilter, normalise
from shieldwall.domain.matching import Matcher
from shieldwall.domain.timestamps import format_stix_timestamp

CHUNK = 200_000
SERVER_BATCH = 50_000
LOOKUP_KIND = {path: kind for kind, path in MATCH_PATHS.items()}


@dataclass(frozen=True, slots=True)
class LogHit:
    """One observable of one log line that matched; ``indicator_id`` is None for private and
    offline matching, which tell only that a value is known."""

    source: str
    line_no: int
    line: str
    kind: str
    value: str
    timestamp: int | None
    indicator_id: str | None
    tlp: str
    score: int | None


def _chunks(records: Iterable[LogRecord]) -> Iterator[list[LogRecord]]:
    iterator = iter(records)
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk


def _hit(record: LogRecord, kind: str, value: str, indicator: CachedIndicator | None) -> LogHit:
    return LogHit(
        record.source,
        record.line_no,
        record.line,
        kind,
        value,
        record.timestamp,
        None if indicator is None else indicator.stix_id,
        "" if indicator is None else indicator.tlp,
        None if indicator is None else indicator.confidence,
    )


def match_local(
    records: Iterable[LogRecord],
    indicators: Iterable[CachedIndicator],
    progress: Callable[[int], None] | None = None,
) -> Iterator[LogHit]:
    """Hits of the records' observables against ``indicators`` (compiled once)."""
    by_id = {i.stix_id: i for i in indicators}
    matcher = Matcher.compile((i.stix_id, i.pattern) for i in by_id.values())
    for chunk in _chunks(records):
        values: dict[str, list[str]] = {}
        owners: dict[str, list[int]] = {}
        for position, record in enumerate(chunk):
            for observable in record.observables:
                values.setdefault(observable.kind, []).append(observable.value)
                owners.setdefault(observable.kind, []).append(position)
        found: list[tuple[int, str, str, str]] = []
        for kind, kind_values in values.items():
            for index, indicator_id in matcher.match_values(kind, kind_values):
                found.append((owners[kind][index], kind, kind_values[index], indicator_id))
        found.sort(key=lambda f: (f[0], f[3]))
        for position, kind, value, indicator_id in found:
            yield _hit(chunk[position], kind, value, by_id[indicator_id])
        if progress is not None:
            progress(len(chunk))


def _by_item(
    records: Iterable[LogRecord],
    check: Callable[[list[str]], set[str]],
    progress: Callable[[int], None] | None,
) -> Iterator[LogHit]:
    for chunk in _chunks(records):
        items: dict[tuple[str, str], str] = {}
        for record in chunk:
            for observable in record.observables:
                kind = LOOKUP_KIND.get(observable.kind)
                item = normalise(kind, observable.value) if kind else None
                if item is not None:
                    items[(observable.kind, observable.value)] = item
        known = check(list(dict.fromkeys(items.values())))
        for record in chunk:
            for observable in record.observables:
                item = items.get((observable.kind, observable.value))
                if item is not None and item in known:
                    yield _hit(record, observable.kind, observable.value, None)
        if progress is not None:
            progress(len(chunk))


def match_private(
    records: Iterable[LogRecord],
    client: HubClient,
    lookup_filter: LookupFilter,
    progress: Callable[[int], None] | None = None,
) -> Iterator[LogHit]:
    """Hits by private lookup: the hub evaluates blinded items and learns their number only."""
    return _by_item(records, lambda items: private_check(client, lookup_filter, items), progress)


def match_offline(
    records: Iterable[LogRecord],
    lookup_filter: LookupFilter,
    progress: Callable[[int], None] | None = None,
) -> Iterator[LogHit]:
    """Hits against an exported offline filter (no network at all)."""
    return _by_item(records, lambda items: offline_check(lookup_filter, items), progress)


def match_server(
    records: Iterable[LogRecord],
    client: HubClient,
    progress: Callable[[int], None] | None = None,
) -> Iterator[LogHit]:
    """Hits computed by the hub (it sees the distinct values, once each)."""
    for chunk in _chunks(records):
        distinct = list(
            dict.fromkeys((o.kind, o.value) for record in chunk for o in record.observables)
        )
        matched: dict[tuple[str, str], list[CachedIndicator]] = {}
        for start in range(0, len(distinct), SERVER_BATCH):
            batch = distinct[start : start + SERVER_BATCH]
            answer = client.bulk_match([{"kind": k, "value": v} for k, v in batch])
            for hit in answer["hits"]:
                key = batch[int(hit["position"])]
                matched.setdefault(key, []).append(
                    CachedIndicator(
                        str(hit["indicator_id"]),
                        "",
                        str(hit["tlp"]),
                        hit.get("confidence"),
                        None,
                        str(hit["collection_id"]),
                    )
                )
        for record in chunk:
            for observable in record.observables:
                for indicator in matched.get((observable.kind, observable.value), []):
                    yield _hit(record, observable.kind, observable.value, indicator)
        if progress is not None:
            progress(len(chunk))


def sightings(
    hits: Iterable[LogHit], now: int, ids: Callable[[], str], sighter: str | None
) -> list[dict[str, object]]:
    """One STIX ``sighting`` per matched indicator: how many log lines, first and last seen
    (log times where the format has them, else now). No log value or line leaves: only the
    indicator id, counts and times. ``sighter`` (an identity id) becomes
    ``where_sighted_refs`` for attributed reports; ``ids()`` gives fresh UUIDs."""
    seen: dict[str, tuple[int, int, int]] = {}
    for hit in hits:
        if hit.indicator_id is None:
            continue
        moment = hit.timestamp if hit.timestamp is not None else now
        count, first, last = seen.get(hit.indicator_id, (0, moment, moment))
        seen[hit.indicator_id] = (count + 1, min(first, moment), max(last, moment))
    stamp = format_stix_timestamp(now)
    out: list[dict[str, object]] = []
    for indicator_id, (count, first, last) in sorted(seen.items()):
        sighting: dict[str, object] = {
            "type": "sighting",
            "spec_version": "2.1",
            "id": f"sighting--{ids()}",
            "created": stamp,
            "modified": stamp,
            "sighting_of_ref": indicator_id,
            "count": min(count, 999_999_999),
            "first_seen": format_stix_timestamp(first),
            "last_seen": format_stix_timestamp(last),
        }
        if sighter is not None:
            sighting["created_by_ref"] = sighter
            sighting["where_sighted_refs"] = [sighter]
        out.append(sighting)
    return out
