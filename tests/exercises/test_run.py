"""A whole run of the shipped scenario on the demo community: measurement, scores, the
stalled list, the report, isolation from real intelligence, and removal (both engines)."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import MetaData, select

from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.exercises import EXERCISE_LABEL, EXERCISE_MARKING_ID
from shieldwall.domain.queries import ObjectQuery
from shieldwall.services import (
    admin,
    alerts,
    audit,
    correlation,
    exercises,
    exports,
    federation,
    matching,
    reading,
    sightings,
)
from shieldwall.services.context import Hub
from shieldwall.storage.database import Database

from .support import HOSTILE, SHARED_VALUE, play


def test_measurement_scores_and_stalled(hub: Hub) -> None:
    played = play(hub)
    _, m = exercises.measurement(hub, played.run.record.run_id)
    by_id = {f.inject.id: f for f in m.injects}
    advisory = by_id["gov-advisory"]
    assert advisory.released == pytest.approx(0)
    assert advisory.acks == {
        "First Federal Bank": pytest.approx(300),
        "Albion Bank plc": pytest.approx(1200),
    }
    assert advisory.travelled == pytest.approx(2 / 6)
    loader = by_id["loader-indicators"]
    assert loader.released == pytest.approx(900)
    assert loader.first_sighting is not None
    assert loader.first_sighting[0] == "Hudson Valley Trust"
    assert loader.first_sighting[1] == pytest.approx(300, abs=0.01)
    assert loader.acks == {"Hudson Valley Trust": pytest.approx(600)}
    victim = by_id["victim-notification"]
    assert victim.recipients == ("Hudson Valley Trust",)
    assert victim.acks == {"Hudson Valley Trust": pytest.approx(300)}
    assert victim.shares == 1
    assert victim.stalled == ()
    assert by_id["market-halt"].acted == ()
    assert len(by_id["market-halt"].stalled) == 7
    assert by_id["leak-threat"].acks == {"Carter & Lowe LLP": pytest.approx(600)}

    assert m.score == (80, 175)
    people = {p.name: p for p in m.participants}
    assert (people["Hudson Valley Trust"].points, people["Hudson Valley Trust"].possible) == (
        60,
        75,
    )
    assert (people["First Federal Bank"].points, people["First Federal Bank"].possible) == (10, 20)
    assert people["Hudson Valley Trust"].mean_ack == pytest.approx(450)
    assert people["Hudson Valley Trust"].sightings == 1
    assert people["Hudson Valley Trust"].shares == 1
    sectors = {s.sector: s for s in m.sectors}
    assert sectors["financial"].mean_ack == pytest.approx((300 + 1200 + 600 + 300) / 4)
    assert sectors["legal"].mean_ack == pytest.approx(600)
    assert sectors["government"].mean_ack is None
    assert "Albion Bank plc did not acknowledge gov-advisory within 15m (done after 20m)" in (
        m.stalled
    )
    assert "Whitfield Partners LLP did not acknowledge leak-threat within 30m" in m.stalled
    assert not any(s.startswith("Hudson Valley Trust did not") and "victim" in s for s in m.stalled)


def test_exercise_content_is_marked_and_isolated(hub: Hub) -> None:
    played = play(hub)
    run, hvt = played.run, played.orgs["Hudson Valley Trust"]
    operator = played.orgs["Shieldwall ISAC Operations"]
    with hub.store.read() as tx:
        collection = tx.collection(run.alias)
        releases = tx.exercise_releases(run.record.run_id)
    assert collection is not None and reading.is_exercise(collection)
    made = {oid for r in releases for oid in r.object_ids}
    page = reading.list_objects(hub, operator, run.alias, ObjectQuery(ids=frozenset(made)))
    assert {s.row.stix_id for s in page.items} == made
    for served in page.items:
        body = orjson.loads(served.body)
        assert EXERCISE_MARKING_ID in body["object_marking_refs"]
        assert EXERCISE_LABEL in body["labels"]
        assert body["name"].startswith(f"[EXERCISE {run.record.run_id}]")
    # matching and the indicator feed see only the real indicator of the shared value
    assert matching.indicators_for_value(hub, hvt, SHARED_VALUE) == [played.real_indicator]
    fed, _ = reading.indicators_since(hub, hvt, {})
    assert not made & {s.row.stix_id for _, s in fed}
    # exports
    every = exports.Filters(include_expired=True)
    assert "EXERCISE" not in exports.csv_export(hub, hvt, every)
    bundle = orjson.dumps(exports.bundle_export(hub, hvt, every)).decode()
    assert played.real_indicator in bundle
    assert "EXERCISE" not in bundle and not any(oid in bundle for oid in made)
    # sighting figures and correlation of the real indicator sharing the value
    assert sightings.summary(hub, hvt, played.real_indicator).reports == 0
    assert not made & set(sightings.summaries(hub, hvt))
    related = correlation.related(hub, hvt, played.real_indicator, 100)
    assert not made & {r.stix_id for r in related.related}
    # the exercise sighting lives in the exercise collection and counts there only
    assert sightings.summary(hub, hvt, played.exercise_indicators[1]).reports == 1
    # alerts: nothing in the inbox or the alerts collection
    assert alerts.inbox(hub, hvt) == []
    with hub.store.read() as tx:
        assert tx.collection(alerts.ALERTS_COLLECTION) is None


def test_federation_refuses_exercise_collections(hub: Hub) -> None:
    played = play(hub)
    with hub.store.read() as tx:
        collection = tx.collection(played.run.alias)
    assert collection is not None and reading.is_exercise(collection)
    operator = admin.organisation(hub, "Shieldwall ISAC Operations")
    with pytest.raises(InvalidInput, match="exercise"):
        federation.add_partner(
            hub,
            operator,
            "legal-isao",
            "https://isao.example/taxii2/hub/",
            "shared",
            played.run.alias,
            "both",
            key="sw_partner-key",
        )


def _rows(hub: Hub) -> list[tuple[str, str]]:
    assert isinstance(hub.store, Database)
    metadata = MetaData()
    metadata.reflect(hub.store.engine)
    found: list[tuple[str, str]] = []
    with hub.store.engine.connect() as connection:
        for table in metadata.sorted_tables:
            for record in connection.execute(select(table)):
                found.append((table.name, " ".join(str(v) for v in record)))
    return found


def test_remove_deletes_every_row(hub: Hub) -> None:
    played = play(hub)
    run = played.run
    rid = run.record.run_id
    with hub.store.read() as tx:
        made = {oid for r in tx.exercise_releases(rid) for oid in r.object_ids}
    marks = {rid, *made, played.note_id}
    before = {table for table, text in _rows(hub) if any(m in text for m in marks)}
    assert {"objects", "exercise_runs", "exercise_releases", "exercise_acks"} <= before | {
        "exercise_acks"
    }
    deleted = exercises.remove(hub, rid)
    assert deleted > len(made)
    left = [
        (table, text)
        for table, text in _rows(hub)
        if table != "audit_log" and any(m in text for m in marks)
    ]
    assert left == []
    assert isinstance(hub.store, Database)
    with hub.store.read() as tx:
        assert tx.collection(run.alias) is None
        assert tx.exercise_run(rid) is None
    actions = [e.action for e in audit.entries(hub)]
    assert "exercise.start" in actions and "exercise.remove" in actions


def test_report_html_and_charts(sqlite_hub: Hub) -> None:
    played = play(sqlite_hub)
    report = exercises.report(sqlite_hub, played.run.record.run_id)
    page = report.html
    assert page.count("<svg") == len(report.charts) == 5
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<script" not in page
    assert "Hudson Valley Trust" in page and "financial" in page and "legal" in page
    assert 'id="stalled"' in page and "Whitfield Partners LLP" in page
    for svg in report.charts.values():
        assert svg.startswith("<svg") and "<script" not in svg
