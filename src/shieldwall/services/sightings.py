"""Sightings: members report that they saw an indicator (or a value some indicators match),
attributed or anonymous to members, and readers of an indicator get its figures.

A sighting is an ordinary STIX object, stored by ingest and read through ``reading`` like any
other, so the sharing policy decides who sees it. Unless the reporter says otherwise it
takes the TLP and scope of the indicator it is about, so exactly the indicator's readers can
read it. Figures are computed when asked from the sightings the reader may read (never
stored), so concurrent reports cannot lose counts, and no figure exists for a reader that
may not read the indicator.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import orjson

from shieldwall.domain.attribution import Attribution
from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.queries import ObjectQuery
from shieldwall.domain.scope import Scope, scope_of, with_scope
from shieldwall.domain.sightings import (
    NewSighting,
    Sighter,
    SightingFact,
    SightingSummary,
    fact_of,
    make_sighting,
    summarise,
)
from shieldwall.domain.stix_validation import SDO_TYPES
from shieldwall.domain.tlp import Tlp, normalise_markings
from shieldwall.services import reading, submission
from shieldwall.services.admin import DEFAULT_COLLECTION_ALIAS, list_organisations
from shieldwall.services.context import Hub
from shieldwall.services.ports import StatusRecord

MAX_REPORTS = 1000


@dataclass(frozen=True, slots=True)
class Recorded:
    """The status of the submission and the sightings it created (id → indicator id)."""

    status: StatusRecord
    sightings: dict[str, str]


def record(
    hub: Hub,
    reporter: Organisation,
    reports: list[NewSighting],
    attribution: Attribution = Attribution.ATTRIBUTED,
    tlp: Tlp | None = None,
    scope: Scope | None = None,
) -> Recorded:
    """Submit one sighting per report, as ``reporter`` (attributed or anonymous to members).

    Each indicator must be one the reporter may read (``NotFound`` otherwise: an unreadable
    id and an unknown one look the same). A sighting of an exercise indicator goes into its
    exercise collection (``reading.is_exercise``), never among real intelligence. Without
    ``tlp``/``scope`` a sighting copies its indicator's, naming the indicator's attributed
    submitter too (``_readers_of``). Raises ``InvalidInput`` for no reports, too many, a bad
    count, a target that is no STIX domain object (a sighting of a relationship is not
    STIX), or exercise and real indicators in one call. Only sightings the status lists as
    stored are returned."""
    if not reports:
        raise InvalidInput("no sightings to report")
    if len(reports) > MAX_REPORTS:
        raise InvalidInput(f"report at most {MAX_REPORTS} sightings at once")
    sighter = reporter.identity_id if attribution is Attribution.ATTRIBUTED else None
    objects: list[object] = []
    made: dict[str, str] = {}
    now = hub.clock.now()
    authors = {o.id: o.identity_id for o in list_organisations(hub)}
    exercises = _exercise_collections(hub, reporter)
    targets: set[str] = set()
    for report in reports:
        if report.count < 1 or report.count > 999_999_999:
            raise InvalidInput("count must be between 1 and 999999999")
        collection_id, served = reading.object_anywhere(hub, reporter, report.indicator_id)
        targets.add(collection_id if collection_id in exercises else DEFAULT_COLLECTION_ALIAS)
        if served.row.stix_type not in SDO_TYPES:
            raise InvalidInput(
                f"{report.indicator_id} is a {served.row.stix_type}: a sighting is of an"
                " indicator (or another STIX domain object)"
            )
        indicator = orjson.loads(served.body)
        sighting = make_sighting(report, f"sighting--{hub.ids.uuid4()}", now, sighter)
        level = Tlp(served.row.tlp) if tlp is None else tlp
        sighting["object_marking_refs"] = normalise_markings(None, level)
        if scope is None:
            sighting = with_scope(sighting, _readers_of(indicator, served, authors))
        else:
            sighting = with_scope(sighting, scope)
        objects.append(sighting)
        made[str(sighting["id"])] = report.indicator_id
    if len(targets) > 1:
        raise InvalidInput("report sightings of exercise indicators apart from real ones")
    status = submission.submit(hub, reporter, targets.pop(), objects, None, None, attribution)
    stored = {d["id"] for d in orjson.loads(status.details)["successes"]}
    return Recorded(status, {k: v for k, v in made.items() if k in stored})


def _exercise_collections(hub: Hub, reader: Organisation) -> set[str]:
    return {
        c.collection_id for c in reading.readable_collections(hub, reader) if reading.is_exercise(c)
    }


def _readers_of(
    indicator: dict[str, object], served: reading.Served, authors: dict[int, str]
) -> Scope:
    """The indicator's scope, naming its (attributed) submitter too: the author of an
    indicator scoped away from itself (TLP:RED to one bank, a sector it is not in) still
    reads the sightings of it. A submitter anonymous to members is not named (that would
    unseal it); it sees sightings only where the scope lets it."""
    scope = scope_of(indicator)
    author = authors.get(served.row.submitter_org_id or -1)
    if scope.is_community or author is None:
        return scope
    return replace(scope, organizations=scope.organizations | {author})


def _facts(
    hub: Hub, reader: Organisation, wanted: set[str] | None, exercises: bool = False
) -> dict[str, list[SightingFact]]:
    """Sightings the reader may read, by the id they are of (all, or those in ``wanted``);
    sightings in exercise collections only when ``exercises``."""
    query = ObjectQuery(types=frozenset({"sighting"}), refers_to=frozenset(wanted or ()))
    organisations = {o.id: o for o in list_organisations(hub)}
    facts: dict[str, list[SightingFact]] = {stix_id: [] for stix_id in wanted or ()}
    found = reading.find_everywhere(hub, reader, query, include_exercises=exercises)
    for _, served in found:
        body = orjson.loads(served.body)
        target = body.get("sighting_of_ref")
        if not isinstance(target, str) or (wanted is not None and target not in wanted):
            continue  # the id appeared in another reference (e.g. observed_data_refs)
        org = organisations.get(served.row.submitter_org_id or -1)
        sighter = (
            None
            if org is None
            else Sighter(org.name, org.identity_id, org.sector.value, org.country)
        )
        facts.setdefault(target, []).append(fact_of(body, sighter))
    return facts


def summary(hub: Hub, reader: Organisation, indicator_id: str) -> SightingSummary:
    """The figures of one indicator over the sightings the reader may read; ``NotFound``
    when the reader may not read the indicator."""
    collection_id, _ = reading.object_anywhere(hub, reader, indicator_id)
    exercise = collection_id in _exercise_collections(hub, reader)
    return summarise(_facts(hub, reader, {indicator_id}, exercise)[indicator_id])


def summaries(hub: Hub, reader: Organisation) -> dict[str, SightingSummary]:
    """Figures for every id with at least one sighting the reader may read (callers use
    them only for indicators they read through the policy themselves)."""
    return {stix_id: summarise(items) for stix_id, items in _facts(hub, reader, None).items()}
