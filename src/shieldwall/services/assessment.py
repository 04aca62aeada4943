"""How much an indicator matters now: its score (``domain.scoring``, with the sightings the
reader may read) and whether it names a well-known benign value (MISP warning lists).

An indicator with a warning-list hit is flagged to its submitter on ingest (and the version
is marked ``warned`` in storage, checked with the lists of that moment) and stays out of
matching and private lookup until its submitter (or an operator) confirms it. Views of an
indicator show the hits of the lists loaded now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache

from shieldwall.domain.errors import Forbidden, InvalidInput
from shieldwall.domain.indicators import Matchable, matchable
from shieldwall.domain.observables import object_items
from shieldwall.domain.organisations import Organisation, Role
from shieldwall.domain.scoring import Score, score
from shieldwall.domain.sightings import SightingSummary
from shieldwall.domain.warninglists import WarningHit, WarningLists, warning_lists
from shieldwall.services import reading
from shieldwall.services.context import Hub


@lru_cache(maxsize=8)
def _selected(max_entries: int, exclude: tuple[str, ...]) -> WarningLists | None:
    return None if max_entries == 0 else warning_lists(max_entries=max_entries, exclude=exclude)


def lists_of(hub: Hub) -> WarningLists | None:
    """The hub's compiled warning lists (shared by every hub of the process with the same
    selection), or None when they are switched off."""
    return _selected(hub.config.warninglists_max_entries, hub.config.warninglists_exclude)


def warnings_of(
    hub: Hub, obj: Mapping[str, object], items: list[str] | None = None
) -> dict[str, tuple[WarningHit, ...]]:
    """Warning-list hits of an object's values (its ``object_items``, unless given), by
    item (``kind|value``); empty if none."""
    lists = lists_of(hub)
    if lists is None:
        return {}
    return lists.check_items(object_items(obj) if items is None else items)


def warning_message(hits: Mapping[str, tuple[WarningHit, ...]]) -> str:
    """One line for a submitter: which values are on which lists."""
    parts = []
    for item, found in hits.items():
        names = "; ".join(hit.list_name for hit in found[:3])
        more = f" and {len(found) - 3} more" if len(found) > 3 else ""
        parts.append(f"{item.partition('|')[2]} is on {names}{more}")
    return (
        "warning list: "
        + ", ".join(parts)
        + ". Probably benign: left out of matching until confirmed (shieldwall indicator"
        " confirm ID)"
    )


def hits_json(hits: Mapping[str, tuple[WarningHit, ...]]) -> list[dict[str, object]]:
    """Warning-list hits as the API returns them."""
    return [
        {
            "value": item.partition("|")[2],
            "kind": item.partition("|")[0],
            "list": hit.list_name,
            "description": hit.description,
            "matched": hit.matched,
        }
        for item, found in hits.items()
        for hit in found
    ]


def score_of(
    hub: Hub,
    indicator: Mapping[str, object],
    summary: SightingSummary | None,
    at: int,
    items: list[str] | None = None,
) -> Score:
    """The indicator's score at ``at`` given the sightings figures the reader may read (and
    its ``object_items``, when the caller has them already)."""
    found = object_items(indicator) if items is None else items
    kinds = {item.partition("|")[0] for item in found}
    if summary is None:
        return score(hub.config.decay, indicator, kinds, at)
    return score(
        hub.config.decay,
        indicator,
        kinds,
        at,
        sightings=summary.reports - summary.false_positives,
        false_positives=summary.false_positives,
        last_seen=summary.last_seen,
    )


def standing(
    hub: Hub,
    obj: Mapping[str, object],
    summary: SightingSummary | None,
    at: int,
    *,
    warned: bool,
    confirmed: set[str],
    items: list[str] | None = None,
) -> tuple[Matchable, Score] | None:
    """Whether an indicator can be matched at all, and its score: None when it is revoked,
    has no STIX pattern, or was flagged for a warning-listed value (``warned``) and is not in
    ``confirmed``; else its matching terms and its score at ``at`` (which may still say
    expired: by decay or ``valid_until``). Matching, lookup and exports decide with this."""
    terms = matchable(obj)
    if terms is None or (warned and terms.stix_id not in confirmed):
        return None
    return terms, score_of(hub, obj, summary, at, items)


def warned(hub: Hub, seqs: Iterable[int]) -> set[int]:
    """Which of these stored object versions were flagged on ingest (warning-list hits)."""
    with hub.store.read() as tx:
        return tx.warned(seqs)


def confirmed(hub: Hub, stix_ids: Iterable[str] | None) -> set[str]:
    """Which indicators (all when None) were confirmed despite a warning-list hit."""
    with hub.store.read() as tx:
        return tx.confirmed_indicators(stix_ids)


def confirm(hub: Hub, actor: Organisation, indicator_id: str) -> None:
    """Confirm an indicator despite its warning-list hits, so it is matched (from the next
    request in this process; in others once their snapshot is rebuilt). Only its
    submitter (also when anonymous to members) or an operator may; ``NotFound`` when the
    actor may not read it, ``Forbidden`` when it may not confirm, ``InvalidInput`` when it
    is not an indicator."""
    collection_id, served = reading.object_anywhere(hub, actor, indicator_id)
    if served.row.stix_type != "indicator":
        raise InvalidInput(f"{indicator_id} is not an indicator")
    with hub.store.write() as tx:
        if actor.role is not Role.OPERATOR and served.row.submitter_org_id != actor.id:
            collection = tx.collection(collection_id)
            sealed = tx.sealed_submitter(collection.pk, indicator_id) if collection else []
            if actor.id not in sealed:
                raise Forbidden("only the indicator's submitter or an operator may confirm it")
        tx.confirm_indicator(indicator_id, actor.id, hub.clock.now())
    hub.snapshots.clear()  # this process matches it from the next request; others after
    # their snapshot's max age (HubConfig.match_snapshot_max_age)
