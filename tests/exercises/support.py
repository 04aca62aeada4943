"""Shared steps for the exercise tests: the demo community, a run of the shipped scenario
with scripted responses, and helpers to move the fixed clock in scenario time."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from shieldwall.domain.organisations import Organisation
from shieldwall.domain.sightings import NewSighting
from shieldwall.domain.tlp import Tlp
from shieldwall.services import demo, exercises, sightings, submission
from shieldwall.services.admin import DEFAULT_COLLECTION_ALIAS
from shieldwall.services.context import Hub

SPEED = 60.0  # one real second is one scenario minute
SHARED_VALUE = "settle-sync.example.net"
HOSTILE = "<script>alert('x')</script> & <b>bold</b>"


def shipped_scenario() -> str:
    return (resources.files("shieldwall") / "exercise_data" / "quantum-dawn.yaml").read_text(
        encoding="utf-8"
    )


def set_scenario_time(hub: Hub, run: exercises.Run, seconds: float) -> None:
    """Move the (fixed) clock to ``seconds`` of scenario time."""
    clock = hub.clock
    clock.value = run.record.started_at + round(seconds * 1_000_000 / run.record.speed)  # type: ignore[attr-defined]


@dataclass
class Played:
    run: exercises.Run
    orgs: dict[str, Organisation]
    real_indicator: str
    exercise_indicators: list[str]
    note_id: str


def play(hub: Hub) -> Played:
    """Run the shipped scenario on the demo community with scripted responses (see the
    expected figures in test_run.py)."""
    community = demo.create_demo(hub, [])
    orgs = {o.name: o for o, _ in community.members}
    ffb, hvt = orgs["First Federal Bank"], orgs["Hudson Valley Trust"]
    # real intelligence sharing a value with the exercise indicators
    real = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--0b6a3e35-8f7e-4d0e-9d1e-5a4b3c2d1e0f",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "Real command server",
        "pattern": f"[domain-name:value = '{SHARED_VALUE}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
    }
    submission.submit(hub, ffb, DEFAULT_COLLECTION_ALIAS, [real], Tlp.GREEN, None)
    hub.clock.step = 0  # type: ignore[attr-defined]
    run = exercises.start(hub, shipped_scenario(), SPEED)
    set_scenario_time(hub, run, 0)
    assert [r.inject.id for r in exercises.release_due(hub, run.record.run_id)] == ["gov-advisory"]
    rid = run.record.run_id
    set_scenario_time(hub, run, 300)
    exercises.acknowledge(hub, ffb, rid, "gov-advisory")
    set_scenario_time(hub, run, 900)
    assert [r.inject.id for r in exercises.release_due(hub, rid)] == ["loader-indicators"]
    set_scenario_time(hub, run, 1200)
    exercises.acknowledge(hub, orgs["Albion Bank plc"], rid, "gov-advisory")  # late
    loader = next(
        s for s in exercises.injects_for(hub, hvt, rid) if s.inject.id == "loader-indicators"
    )
    sightings.record(hub, hvt, [NewSighting(loader.object_ids[1])])
    set_scenario_time(hub, run, 1500)
    exercises.acknowledge(hub, hvt, rid, "loader-indicators")
    set_scenario_time(hub, run, 1800)
    assert [r.inject.id for r in exercises.release_due(hub, rid)] == ["victim-notification"]
    set_scenario_time(hub, run, 2100)
    exercises.acknowledge(hub, hvt, rid, "victim-notification")
    notification = next(
        s for s in exercises.injects_for(hub, hvt, rid) if s.inject.id == "victim-notification"
    )
    set_scenario_time(hub, run, 2400)
    note = {
        "type": "note",
        "spec_version": "2.1",
        "id": "note--6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "abstract": HOSTILE,
        "content": "We isolated the gateway; the loader reached two settlement hosts.",
        "object_refs": list(notification.object_ids),
    }
    status = submission.submit(hub, hvt, run.alias, [note], Tlp.GREEN, None)
    assert status.success_count == 1, status.details
    set_scenario_time(hub, run, 3600)
    assert [r.inject.id for r in exercises.release_due(hub, rid)] == ["market-halt"]
    set_scenario_time(hub, run, 7200)
    assert [r.inject.id for r in exercises.release_due(hub, rid)] == ["leak-threat"]
    assert exercises.release_due(hub, rid) == []
    set_scenario_time(hub, run, 7800)
    exercises.acknowledge(hub, orgs["Carter & Lowe LLP"], rid, "leak-threat")
    return Played(run, orgs, str(real["id"]), list(loader.object_ids), str(note["id"]))
