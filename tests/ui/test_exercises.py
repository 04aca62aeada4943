"""The exercise pages: a small run (planned by the operator, US Bank and GB Bank taking
part) started and released through the services; participants see the run and the injects
released to them (a TLP:RED notification only its victim), acknowledge in place or through
the plain form; the operator reads the after-action report and its charts; a
non-participant neither lists nor opens the run; CSRF is required."""

from __future__ import annotations

from fastapi.testclient import TestClient
from ui_support import UiCommunity, csrf

from shieldwall.services import exercises
from shieldwall.services.context import Hub

SPEED = 60.0
SCENARIO = """\
name: Harbour Lights — a payment-fraud drill
description: A fraud crew abuses payment gateways; the agency warns, then notifies a bank.
planner: Hub Operator
participants: [US Bank, GB Bank]
injects:
  - id: warning
    at: +0m
    kind: advisory
    from: US Agency
    title: Payment gateways abused for fraud
    text: Review payment gateway logins since Monday.
    tlp: amber
  - id: tip-off
    at: +10m
    kind: notification
    from: US Agency
    title: Your gateway forwards fraudulent payments
    text: Isolate the gateway and call the duty officer.
    to: US Bank
expected:
  - inject: warning
    action: acknowledge
    within: +15m
    points: 10
"""


def set_scenario_time(hub: Hub, run: exercises.Run, seconds: float) -> None:
    """Move the test hub's fixed clock to ``seconds`` of scenario time."""
    clock = hub.clock
    clock.value = run.record.started_at + round(seconds * 1_000_000 / run.record.speed)  # type: ignore[attr-defined]


def start_run(community: UiCommunity) -> exercises.Run:
    """Start the drill and release both injects (set-up, through the services)."""
    hub = community.hub
    run = exercises.start(hub, SCENARIO, SPEED)
    set_scenario_time(hub, run, 0)
    assert [r.inject.id for r in exercises.release_due(hub, run.record.run_id)] == ["warning"]
    set_scenario_time(hub, run, 600)
    assert [r.inject.id for r in exercises.release_due(hub, run.record.run_id)] == ["tip-off"]
    return run


def acks(community: UiCommunity, handle: str, run_id: str) -> dict[str, int | None]:
    """Inject id → acknowledgement time, as the services record it for ``handle``."""
    states = exercises.injects_for(community.hub, community.orgs[handle], run_id)
    return {s.inject.id: s.acknowledged_at for s in states}


def test_participants_see_their_injects_and_acknowledge(community: UiCommunity) -> None:
    run = start_run(community)
    run_id = run.record.run_id

    us: TestClient = community.client("us-bank")
    listing = us.get("/ui/exercises")
    assert listing.status_code == 200
    assert "Harbour Lights — a payment-fraud drill" in listing.text
    assert f'href="/ui/exercises/{run_id}"' in listing.text
    assert "2 injects released to you, 0 acknowledged" in listing.text
    assert "shieldwall exercise run quantum-dawn" in listing.text

    page = us.get(f"/ui/exercises/{run_id}")
    assert page.status_code == 200
    assert "Payment gateways abused for fraud" in page.text
    assert "Your gateway forwards fraudulent payments" in page.text
    assert "+10m" in page.text and "EXERCISE — SIMULATED, NOT REAL INTELLIGENCE" in page.text
    assert "After-action report" not in page.text  # operators only, as the API
    assert "A fraud crew" not in page.text  # the scenario's briefing is the planner's

    gb = community.client("gb-bank")
    gb_page = gb.get(f"/ui/exercises/{run_id}").text
    assert "Payment gateways abused for fraud" in gb_page
    assert "Your gateway forwards" not in gb_page  # TLP:RED to US Bank alone
    assert "1 inject released to you" in gb.get("/ui/exercises").text

    # CSRF: refused, nothing stored
    path = f"/ui/exercises/{run_id}/injects/warning/ack"
    assert us.post(path).status_code == 403
    assert acks(community, "us-bank", run_id)["warning"] is None

    # htmx: the acknowledgement cell comes back in place
    token = csrf(us)
    swapped = us.post(path, headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert swapped.status_code == 200
    assert swapped.text.lstrip().startswith('<td id="ack-warning">')
    assert "Acknowledged" in swapped.text and "<html" not in swapped.text
    assert acks(community, "us-bank", run_id)["warning"] is not None

    # without JavaScript: a redirect back with a message
    done = us.post(
        f"/ui/exercises/{run_id}/injects/tip-off/ack",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/ui/exercises/{run_id}"
    assert acks(community, "us-bank", run_id)["tip-off"] is not None
    assert "Acknowledged." in us.get(done.headers["location"]).text

    # GB Bank cannot acknowledge what it may not read
    hidden = gb.post(f"/ui/exercises/{run_id}/injects/tip-off/ack", data={"csrf_token": csrf(gb)})
    assert hidden.status_code == 404


def test_operator_report_and_outsiders(community: UiCommunity) -> None:
    run = start_run(community)
    run_id = run.record.run_id
    exercises.acknowledge(community.hub, community.orgs["gb-bank"], run_id, "warning")

    operator = community.client("operator")
    assert "Harbour Lights" in operator.get("/ui/exercises").text
    report = operator.get(f"/ui/exercises/{run_id}")
    assert report.status_code == 200
    assert "After-action report" in report.text
    assert "A fraud crew abuses payment gateways" in report.text
    assert "every inject has been released" in report.text
    assert "GB Bank after 10m" in report.text  # acknowledged 600 s after the release
    assert "US Bank did not acknowledge warning within 15m" in report.text
    assert "10 / 20" in report.text  # points earned / possible
    assert f"/ui/exercises/{run_id}/charts/timeline.svg" in report.text
    chart = operator.get(f"/ui/exercises/{run_id}/charts/timeline.svg")
    assert chart.status_code == 200
    assert chart.headers["content-type"].startswith("image/svg+xml")
    assert chart.text.startswith("<svg")
    assert operator.get(f"/ui/exercises/{run_id}/charts/nothing.svg").status_code == 404

    # a participant does not get the operator's charts
    us = community.client("us-bank")
    assert us.get(f"/ui/exercises/{run_id}/charts/timeline.svg").status_code == 403

    # the law firm takes no part: absent from its list, 404 on the run
    law = community.client("law")
    listing = law.get("/ui/exercises")
    assert listing.status_code == 200
    assert "Harbour Lights" not in listing.text
    assert "not taking part in any exercise" in listing.text
    assert law.get(f"/ui/exercises/{run_id}").status_code == 404
    ack = law.post(f"/ui/exercises/{run_id}/injects/warning/ack", data={"csrf_token": csrf(law)})
    assert ack.status_code == 404
    assert law.get("/ui/exercises/nosuchrun").status_code == 404
