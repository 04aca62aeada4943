"""Exercises: run a scenario through the real pipeline, measure the responses, report.

Contracts:

- ``start`` validates the scenario (``domain.exercises.parse_scenario``; every participant
  and the planner must be organisations of this hub, the planner an operator) and creates
  the run and its own collection, alias ``exercise-<run id>`` (members read and write it),
  holding the hub's TLP/scope/identity objects and the EXERCISE marking definition.
  ``services.reading.is_exercise`` is true for it, so nothing in it reaches matching,
  lookup, sighting figures of real indicators, correlation or exports, and federation
  never sends it. Audited (``exercise.start``).
- ``release_due`` releases every inject whose offset has passed on the run's clock
  (real time since the start × speed): each becomes STIX (``domain.exercises``) stored
  through ``services.ingest`` as the planner, with the inject's TLP and a scope naming
  its recipients. An inject is claimed (``exercise_releases``) before its objects are
  stored, so it is released once even if two runners race.
- Participants respond through the normal paths: ``acknowledge`` (REST/CLI; only an
  organisation that may read the inject), sightings (``services.sightings.record`` puts a
  sighting of an exercise indicator into the exercise collection), and shares (any object
  a participant submits into the exercise collection that refers to an inject's objects).
- ``measure`` reads responses back from ``exercise_acks`` and, through
  ``services.reading`` as the planner, from the exercise collection (so the sharing policy
  still decides: a TLP:RED share that does not name the planner is not counted), in
  scenario seconds.
- ``remove`` deletes the collection, every object version in it, and the run's rows in one
  transaction; the audit trail keeps only that the run existed (``exercise.remove``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import orjson

from shieldwall.domain.errors import Forbidden, InvalidInput, NotFound
from shieldwall.domain.exercises import (
    EXERCISE_LABEL,
    Action,
    Inject,
    Measurement,
    Response,
    Scenario,
    ScenarioError,
    charts,
    exercise_marking_definition,
    inject_objects,
    measure,
    objects_needed,
    parse_scenario,
    render_report,
    watermark,
)
from shieldwall.domain.organisations import Organisation, Role
from shieldwall.domain.queries import Cursor, ObjectQuery
from shieldwall.domain.scope import make_scope
from shieldwall.domain.timestamps import format_stix_timestamp, format_timestamp
from shieldwall.services import audit, collections, ingest, reading, submission
from shieldwall.services.context import Hub
from shieldwall.services.ports import (
    CollectionRecord,
    ExerciseAckRecord,
    ExerciseReleaseRecord,
    ExerciseRunRecord,
    StatusRecord,
)

MAX_SPEED = 1_000_000.0
_PAGE = 5000


@dataclass(frozen=True, slots=True)
class Run:
    """A run with its parsed scenario and collection."""

    record: ExerciseRunRecord
    scenario: Scenario
    collection: CollectionRecord

    @property
    def alias(self) -> str:
        """The collection alias, ``exercise-<run id>``."""
        return self.collection.alias or ""


@dataclass(frozen=True, slots=True)
class Released:
    """An inject released now, with the ids of the objects it became."""

    inject: Inject
    release: ExerciseReleaseRecord
    scenario_seconds: float


@dataclass(frozen=True, slots=True)
class InjectState:
    """A released inject as one reader sees it, and whether it acknowledged it."""

    inject: Inject
    object_ids: tuple[str, ...]
    released_at: int
    acknowledged_at: int | None


@dataclass(frozen=True, slots=True)
class Report:
    """The after-action report: HTML and each chart as SVG (by file stem)."""

    html: str
    charts: dict[str, str]
    measurement: Measurement


def scenario_seconds(record: ExerciseRunRecord, at: int) -> float:
    """Scenario time (seconds) of the real instant ``at`` (µs)."""
    return (at - record.started_at) / 1_000_000 * record.speed


# --- validation and start ---------------------------------------------------------------


def _organisations(hub: Hub) -> dict[str, Organisation]:
    with hub.store.read() as tx:
        return {o.name: o for o in tx.organisations()}


def validate(hub: Hub, text: str) -> Scenario:
    """Parse the scenario and check it against this hub: the planner and participants must
    be organisations here (``ScenarioError`` naming the line otherwise), the planner an
    operator."""
    scenario = parse_scenario(text)
    known = _organisations(hub)

    def where(key: str) -> str:
        line = scenario.lines.get(key, 0)
        return f"line {line}: {key}" if line else key

    planner = known.get(scenario.planner)
    if planner is None:
        raise ScenarioError(f"{where('planner')}: no organisation {scenario.planner!r} here")
    if planner.role is not Role.OPERATOR:
        raise ScenarioError(f"{where('planner')}: {scenario.planner!r} is not an operator")
    for index, name in enumerate(scenario.participants):
        if name not in known:
            raise ScenarioError(
                f"{where(f'participants[{index}]')}: unknown participant {name!r}"
                " (no organisation of that name on this hub)"
            )
    return scenario


def start(hub: Hub, text: str, speed: float, actor: str = "cli") -> Run:
    """Create a run of the scenario ``text`` at ``speed`` (scenario seconds per real second)
    and its exercise collection; nothing is released yet (``release_due``)."""
    if not 0 < speed <= MAX_SPEED:
        raise InvalidInput(f"speed must be above 0 and at most {MAX_SPEED:g}")
    scenario = validate(hub, text)
    planner = _organisations(hub)[scenario.planner]
    run_id = hub.ids.uuid4().replace("-", "")[:8]
    rows = collections.carried_objects(hub, planner)
    now = hub.clock.now()
    alias = f"{reading.EXERCISE_PREFIX}-{run_id}"
    with hub.store.write() as tx:
        collection = collections.add_carrying(
            tx,
            hub,
            rows,
            f"{watermark(run_id)} {scenario.name}"[:300],
            f"EXERCISE — SIMULATED, NOT REAL INTELLIGENCE. Exercise run {run_id}: injects and"
            " participants' responses. Never matched, exported, federated or counted.",
            alias,
            members_can_read=True,
            members_can_write=True,
        )
        record = ExerciseRunRecord(
            run_id, scenario.name, text, collection.pk, planner.id, float(speed), now
        )
        tx.add_exercise_run(record)
        audit.record(
            tx,
            now,
            actor,
            "exercise.start",
            {"run": run_id, "scenario": scenario.name, "speed": speed, "collection": alias},
        )
    marking = exercise_marking_definition(format_stix_timestamp(now - now % 1000))
    _check(ingest.add_objects(hub, planner, collection.collection_id, [marking]))
    return Run(record, scenario, collection)


def _check(status: StatusRecord) -> None:
    failures = orjson.loads(status.details)["failures"]
    if failures:
        raise InvalidInput(
            "exercise objects refused: "
            + "; ".join(f"{f['id']}: {f.get('message', '')}" for f in failures)
        )


def get_run(hub: Hub, run_id: str) -> Run:
    """The run (``NotFound`` when there is none; a removed run is gone)."""
    with hub.store.read() as tx:
        record = tx.exercise_run(run_id)
        collections = {c.pk: c for c in tx.collections()}
    if record is None or record.collection_pk not in collections:
        raise NotFound(f"no exercise run {run_id}")
    return Run(record, parse_scenario(record.scenario), collections[record.collection_pk])


def runs(hub: Hub) -> list[ExerciseRunRecord]:
    """Every run, oldest first."""
    with hub.store.read() as tx:
        return tx.exercise_runs()


# --- the clock and releases -------------------------------------------------------------


def next_due(hub: Hub, run_id: str) -> int | None:
    """The real instant (µs) the next unreleased inject is due, or None when all are out."""
    run = get_run(hub, run_id)
    with hub.store.read() as tx:
        done = {r.inject_id for r in tx.exercise_releases(run_id)}
    pending = [i for i in run.scenario.injects if i.id not in done]
    if not pending:
        return None
    first = min(i.at for i in pending)
    return run.record.started_at + int(first * 1_000_000 / run.record.speed)


def release_due(hub: Hub, run_id: str) -> list[Released]:
    """Release every inject due on the run's clock now; return those released by this call,
    in scenario order."""
    run = get_run(hub, run_id)
    organisations = {o.id: o for o in _organisations(hub).values()}
    by_name = {o.name: o for o in organisations.values()}
    planner = organisations[run.record.planner_org_id]
    released: list[Released] = []
    done = set(_releases(hub, run_id))
    for inject in run.scenario.injects:
        if inject.id in done:
            continue
        now = hub.clock.now()
        if scenario_seconds(run.record, now) + 1e-6 < inject.at:
            break  # injects are in offset order
        ids = tuple(hub.ids.uuid4() for _ in range(objects_needed(inject)))
        stamp = format_stix_timestamp(now - now % 1000)
        bodies = inject_objects(run.record.run_id, inject, ids, planner.identity_id, stamp)
        object_ids = tuple(str(b["id"]) for b in bodies)
        claim = ExerciseReleaseRecord(run.record.run_id, inject.id, now, object_ids)
        with hub.store.write() as tx:
            tx.lock_named(f"exercise-{run.record.run_id}")
            if inject.id in {r.inject_id for r in tx.exercise_releases(run_id)}:
                continue  # another runner released it
            tx.add_exercise_release(claim)
        recipients = run.scenario.recipients(inject)
        scope = make_scope(organizations=[by_name[name].identity_id for name in recipients])
        items: list[object] = list(bodies)
        _check(
            submission.submit(hub, planner, run.collection.collection_id, items, inject.tlp, scope)
        )
        released.append(Released(inject, claim, scenario_seconds(run.record, now)))
    return released


# --- responses --------------------------------------------------------------------------


def _releases(hub: Hub, run_id: str) -> dict[str, ExerciseReleaseRecord]:
    with hub.store.read() as tx:
        return {r.inject_id: r for r in tx.exercise_releases(run_id)}


def injects_for(hub: Hub, reader: Organisation, run_id: str) -> list[InjectState]:
    """Released injects ``reader`` may read (through ``services.reading``), oldest first."""
    run = get_run(hub, run_id)
    releases = _releases(hub, run_id)
    with hub.store.read() as tx:
        acks = {a.inject_id: a.at for a in tx.exercise_acks(run_id) if a.org_id == reader.id}
    states: list[InjectState] = []
    for inject in run.scenario.injects:
        release = releases.get(inject.id)
        if release is None or not _readable(hub, reader, run, release):
            continue
        states.append(
            InjectState(inject, release.object_ids, release.released_at, acks.get(inject.id))
        )
    return states


def _readable(hub: Hub, reader: Organisation, run: Run, release: ExerciseReleaseRecord) -> bool:
    query = ObjectQuery(ids=frozenset(release.object_ids), limit=len(release.object_ids))
    return bool(reading.list_objects(hub, reader, run.collection.collection_id, query).items)


def acknowledge(
    hub: Hub, reader: Organisation, run_id: str, inject_id: str
) -> tuple[ExerciseAckRecord, bool]:
    """Record that ``reader`` acknowledged the inject; ``(record, new)`` — a second
    acknowledgement keeps the first time. ``NotFound`` when the inject is not released or
    the reader may not read it; ``Forbidden`` for the planner itself."""
    run = get_run(hub, run_id)
    release = _releases(hub, run_id).get(inject_id)
    if release is None or not _readable(hub, reader, run, release):
        raise NotFound(f"no released inject {inject_id} in exercise {run_id} for you")
    if reader.id == run.record.planner_org_id:
        raise Forbidden("the planner does not acknowledge its own injects")
    record = ExerciseAckRecord(run_id, inject_id, reader.id, hub.clock.now())
    with hub.store.write() as tx:
        tx.lock_named(f"exercise-{run_id}")
        for ack in tx.exercise_acks(run_id):
            if ack.inject_id == inject_id and ack.org_id == reader.id:
                return ack, False
        tx.add_exercise_ack(record)
    return record, True


def _collection_rows(hub: Hub, reader: Organisation, run: Run) -> list[reading.Served]:
    """Every object of the exercise collection ``reader`` may read (newest versions)."""
    served: list[reading.Served] = []
    query = ObjectQuery(limit=_PAGE)
    while True:
        page = reading.list_objects(hub, reader, run.collection.collection_id, query)
        served.extend(page.items)
        if not page.more or not page.items:
            return served
        last = page.items[-1].row
        query = replace(query, cursor=Cursor(last.date_added, last.seq))


def responses(hub: Hub, run: Run) -> list[Response]:
    """What participants did, in scenario seconds: acknowledgements (``exercise_acks``),
    sightings of the run's indicators and shares referring to its objects (read from the
    exercise collection as the planner)."""
    organisations = {o.id: o for o in _organisations(hub).values()}
    planner = organisations[run.record.planner_org_id]
    releases = _releases(hub, run.record.run_id)
    owner = {oid: inject_id for inject_id, r in releases.items() for oid in r.object_ids}
    found: list[Response] = []
    with hub.store.read() as tx:
        acks = tx.exercise_acks(run.record.run_id)
    for ack in acks:
        org = organisations.get(ack.org_id)
        if org is not None:
            found.append(
                Response(
                    ack.inject_id,
                    org.name,
                    Action.ACKNOWLEDGE,
                    scenario_seconds(run.record, ack.at),
                )
            )
    for served in _collection_rows(hub, planner, run):
        row = served.row
        org = organisations.get(row.submitter_org_id or -1)
        if org is None or org.id == planner.id:
            continue
        at = scenario_seconds(run.record, row.date_added)
        body = orjson.loads(served.body)
        if row.stix_type == "sighting":
            target = owner.get(str(body.get("sighting_of_ref", "")))
            if target is not None:
                found.append(Response(target, org.name, Action.SIGHTING, at))
            continue
        referred = sorted({owner[r] for r in (row.refs or "").split() if r in owner})
        text = body.get("name") or body.get("abstract") or body.get("content") or ""
        for inject_id in referred:
            found.append(Response(inject_id, org.name, Action.SHARE, at, str(text)[:300]))
    return found


def measurement(hub: Hub, run_id: str) -> tuple[Run, Measurement]:
    """The run's figures (``domain.exercises.measure``) from what was released and done."""
    run = get_run(hub, run_id)
    releases = _releases(hub, run_id)
    released = {i: scenario_seconds(run.record, r.released_at) for i, r in releases.items()}
    sectors = {o.name: o.sector.value for o in _organisations(hub).values()}
    return run, measure(run.scenario, sectors, released, responses(hub, run))


def report(hub: Hub, run_id: str) -> Report:
    """The after-action report: HTML with inline SVG charts, and each chart alone."""
    run, figures = measurement(hub, run_id)
    drawn = charts(run.scenario, figures)
    page = render_report(
        run.scenario,
        run.record.run_id,
        run.record.speed,
        format_timestamp(run.record.started_at),
        figures,
        drawn,
    )
    return Report(page, drawn, figures)


# --- removal ----------------------------------------------------------------------------


def remove(hub: Hub, run_id: str, actor: str = "cli") -> int:
    """Delete the run's collection, every object version in it, its statuses and the run's
    rows, in one transaction; return the object versions deleted."""
    run = get_run(hub, run_id)
    now = hub.clock.now()
    with hub.store.write() as tx:
        tx.delete_exercise_run(run_id)
        deleted = tx.delete_collection(run.collection.pk)
        audit.record(tx, now, actor, "exercise.remove", {"run": run_id, "objects_deleted": deleted})
    return deleted


def is_exercise_object(body: dict[str, object]) -> bool:
    """Whether a STIX object carries the exercise label (a quick check for clients)."""
    labels = body.get("labels")
    return isinstance(labels, list) and EXERCISE_LABEL in labels
