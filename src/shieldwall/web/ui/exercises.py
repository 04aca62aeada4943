"""Exercises in the browser (docs/exercises.md): the runs an organisation takes part in,
the injects released to it with an acknowledge button, and, for operators, the
after-action report in the interface's layout.

Contracts (mirroring ``web/api/exercises.py``):

- Operators see every run and its report (figures from ``services.exercises.measurement``,
  charts from ``services.exercises.report``), as ``GET /api/v1/exercises`` and
  ``…/{run}/report`` allow them.
- Another organisation sees only the runs whose scenario names it as a participant, and of
  each only the injects released to it that it may read (``services.exercises.injects_for``,
  through the sharing policy); any other run is a 404 page and absent from the list.
  Participants never see the scenario's later injects, expected actions or other
  participants' figures.
- Acknowledging calls ``services.exercises.acknowledge`` (CSRF-checked ``Actor``); the first
  acknowledgement counts. Starting, releasing, reporting to files and removing runs stay on
  the command line (``shieldwall exercise …``).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from shieldwall.domain.errors import NotFound
from shieldwall.domain.exercises import format_duration
from shieldwall.domain.organisations import Organisation, Role
from shieldwall.services import exercises
from shieldwall.services.context import Hub
from shieldwall.services.exercises import InjectState, Run
from shieldwall.web.deps import hub_of
from shieldwall.web.ui.session import Actor, Viewer, redirect_with, require_role
from shieldwall.web.ui.templating import is_htmx, render

router = APIRouter(prefix="/ui/exercises", include_in_schema=False)

CHARTS = (
    ("timeline", "Timeline: injects and every participant's responses over scenario time"),
    ("ack-by-participant", "Mean time to acknowledge, by participant"),
    ("ack-by-sector", "Mean time to acknowledge, by sector"),
    ("score-by-participant", "Score (% of expected actions done in time), by participant"),
    ("travel-by-inject", "How far each inject travelled (% of recipients that acted)"),
)


@dataclass(frozen=True, slots=True)
class RunRow:
    """A run in the list, as this organisation may see it."""

    run_id: str
    name: str
    started_at: int
    speed: float
    role: str
    released_to_us: int | None
    acknowledged: int | None
    finished: bool | None


@dataclass(frozen=True, slots=True)
class InjectRow:
    """A released inject as the reader sees it: the state and its scenario time."""

    state: InjectState
    at: str


def _participant(run: Run, org: Organisation) -> bool:
    return org.name in run.scenario.participants


def _may_see(run: Run, org: Organisation) -> bool:
    return org.role is Role.OPERATOR or _participant(run, org)


def _visible_run(hub: Hub, org: Organisation, run_id: str) -> Run:
    """The run, when ``org`` is an operator or one of its participants (``NotFound``
    otherwise, as for a run that does not exist)."""
    run = exercises.get_run(hub, run_id)
    if not _may_see(run, org):
        raise NotFound(f"no exercise run {run_id}")
    return run


def _inject_rows(hub: Hub, org: Organisation, run: Run) -> list[InjectRow]:
    states = exercises.injects_for(hub, org, run.record.run_id)
    return [
        InjectRow(s, "+" + format_duration(exercises.scenario_seconds(run.record, s.released_at)))
        for s in states
    ]


@router.get("")
def runs_page(request: Request, session: Viewer) -> HTMLResponse:
    """The runs this organisation may see, newest first."""
    hub, org = hub_of(request), session.account.organisation
    rows: list[RunRow] = []
    for record in reversed(exercises.runs(hub)):
        try:
            run = exercises.get_run(hub, record.run_id)
        except NotFound:
            continue
        if not _may_see(run, org):
            continue
        if _participant(run, org):
            states = exercises.injects_for(hub, org, record.run_id)
            released: int | None = len(states)
            acked: int | None = sum(1 for s in states if s.acknowledged_at is not None)
        else:
            released = acked = None
        finished = (
            exercises.next_due(hub, record.run_id) is None if org.role is Role.OPERATOR else None
        )
        role = "participant" if _participant(run, org) else "operator"
        rows.append(
            RunRow(
                record.run_id,
                record.name,
                record.started_at,
                record.speed,
                role,
                released,
                acked,
                finished,
            )
        )
    context = {"runs": rows, "operator": org.role is Role.OPERATOR}
    return render(request, "exercises/list.html", context, session=session)


@router.get("/{run_id}")
def run_page(request: Request, session: Viewer, run_id: str) -> HTMLResponse:
    """One run: the injects released to us (with acknowledge buttons) for participants;
    the after-action report for operators."""
    hub, org = hub_of(request), session.account.organisation
    run = _visible_run(hub, org, run_id)
    participant = _participant(run, org)
    operator = org.role is Role.OPERATOR
    figures = exercises.measurement(hub, run_id)[1] if operator else None
    context = {
        "run": run,
        "run_id": run.record.run_id,
        "participant": participant,
        "operator": operator,
        "injects": _inject_rows(hub, org, run) if participant else [],
        "figures": figures,
        "next_due": exercises.next_due(hub, run_id) if operator else None,
        "charts": CHARTS,
        "duration": format_duration,
    }
    return render(request, "exercises/run.html", context, session=session)


@router.post("/{run_id}/injects/{inject_id}/ack")
def acknowledge(request: Request, session: Actor, run_id: str, inject_id: str) -> Response:
    """Acknowledge a released inject (``services.exercises.acknowledge``; the first
    acknowledgement counts). htmx gets the inject's acknowledgement cell; otherwise back to
    the run with a message."""
    hub, org = hub_of(request), session.account.organisation
    run = _visible_run(hub, org, run_id)
    _, new = exercises.acknowledge(hub, org, run_id, inject_id)
    if is_htmx(request):
        row = next(r for r in _inject_rows(hub, org, run) if r.state.inject.id == inject_id)
        context = {"row": row, "run_id": run.record.run_id}
        return render(request, "exercises/_ack.html", context, session=session)
    message = "Acknowledged." if new else "You had already acknowledged it; the first time counts."
    return redirect_with(f"/ui/exercises/{quote(run.record.run_id)}", message)


@router.get("/{run_id}/charts/{name}.svg")
def chart(request: Request, session: Viewer, run_id: str, name: str) -> Response:
    """One chart of the after-action report as SVG (operators, as the API)."""
    require_role(session, Role.OPERATOR)
    drawn = exercises.report(hub_of(request), run_id).charts
    if name not in drawn:
        raise NotFound(f"no chart {name}")
    return Response(drawn[name], media_type="image/svg+xml")
