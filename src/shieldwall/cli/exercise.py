"""``shieldwall exercise``: run a scenario, acknowledge injects, report, remove
(docs/exercises.md).

``validate``, ``run``, ``list``, ``report`` and ``remove`` are operator commands on the
database (like ``shieldwall org add``); ``injects`` and ``ack`` are participants' commands
over REST with ``--hub``/``--key``.
"""

from __future__ import annotations

import time
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer

from shieldwall.cli.common import (
    DatabaseOption,
    HubOption,
    KeyOption,
    errors,
    hub_for,
    out,
    print_table,
    require_hub,
    run,
)
from shieldwall.client.hub import HubClient
from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.exercises import format_duration
from shieldwall.services import exercises

app = typer.Typer(
    help="Exercises: simulated attacks through the hub, with an after-action report.",
    no_args_is_help=True,
)
ScenarioArgument = Annotated[
    str,
    typer.Argument(help="A scenario YAML file, or the name of a shipped one (quantum-dawn)"),
]
RunArgument = Annotated[str, typer.Argument(help="The run id (shieldwall exercise list)")]


def _scenario_text(scenario: str) -> str:
    """The YAML of a file, or of a scenario shipped with Shieldwall."""
    path = Path(scenario)
    if path.is_file():
        return path.read_text(encoding="utf-8")
    shipped = resources.files("shieldwall") / "exercise_data" / f"{scenario}.yaml"
    if shipped.is_file():
        return shipped.read_text(encoding="utf-8")
    raise InvalidInput(f"{scenario}: no such file, and no shipped scenario of that name")


@app.command("validate")
def validate(scenario: ScenarioArgument, database: DatabaseOption = None) -> None:
    """Check a scenario (format, and participants against this hub's organisations)."""
    with errors():
        parsed = exercises.validate(hub_for(database), _scenario_text(scenario))
    out.print(
        f"{parsed.name}: {len(parsed.participants)} participants, {len(parsed.injects)}"
        f" injects, {len(parsed.expectations)} expected actions. Valid.",
        highlight=False,
    )


@app.command("run")
def run_exercise(
    scenario: ScenarioArgument,
    speed: Annotated[
        float, typer.Option(help="Scenario seconds per real second (60: a minute a second)")
    ] = 1.0,
    database: DatabaseOption = None,
) -> None:
    """Start a run and release its injects on schedule (start + offset / speed), printing
    each release; returns when every inject is out. The run id is printed first."""
    with errors():
        hub = hub_for(database)
        started = exercises.start(hub, _scenario_text(scenario), speed)
        rid = started.record.run_id
        print(f"run {rid}", flush=True)
        out.print(
            f"Exercise {started.scenario.name} started (collection {started.alias},"
            f" speed ×{speed:g}).",
            highlight=False,
        )
        while True:
            for item in exercises.release_due(hub, rid):
                out.print(
                    f"[{format_duration(item.scenario_seconds)}] released {item.inject.id}"
                    f" ({item.inject.kind.value}): {item.inject.title}",
                    highlight=False,
                )
            due = exercises.next_due(hub, rid)
            if due is None:
                break
            time.sleep(max(0.0, min(60.0, (due - hub.clock.now()) / 1_000_000)) + 0.01)
    out.print(f"All injects released. Report: shieldwall exercise report {rid}", highlight=False)


@app.command("list")
def list_runs(database: DatabaseOption = None) -> None:
    """List exercise runs."""
    records = run(database, exercises.runs)
    rows: list[tuple[str, ...]] = []
    for r in records:
        rows.append((r.run_id, r.name, f"×{r.speed:g}", f"exercise-{r.run_id}"))
    print_table(("run", "scenario", "speed", "collection"), rows)


@app.command("report")
def report(
    run_id: RunArgument,
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write to")] = Path(
        "exercise-report"
    ),
    database: DatabaseOption = None,
) -> None:
    """Write the after-action report (report.html, self-contained) and each chart as SVG."""
    made = run(database, lambda hub: exercises.report(hub, run_id))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.html").write_text(made.html, encoding="utf-8")
    for stem, svg in made.charts.items():
        (out_dir / f"{stem}.svg").write_text(svg, encoding="utf-8")
    earned, possible = made.measurement.score
    out.print(
        f"Wrote {out_dir / 'report.html'} and {len(made.charts)} charts (SVG);"
        f" score {earned} / {possible}.",
        highlight=False,
    )


@app.command("remove")
def remove(run_id: RunArgument, database: DatabaseOption = None) -> None:
    """Delete a run: its collection, every object in it and its records (one transaction)."""
    deleted = run(database, lambda hub: exercises.remove(hub, run_id))
    out.print(f"Removed exercise {run_id} ({deleted} object versions).", highlight=False)


def _client(hub: str | None, key: str | None) -> HubClient:
    return HubClient(require_hub(hub), key)


@app.command("injects")
def injects(run_id: RunArgument, hub: HubOption = None, key: KeyOption = None) -> None:
    """Injects of a run released to you, and whether you acknowledged them."""
    with errors():
        body: Any = _client(hub, key)._get(
            f"/api/v1/exercises/{run_id}/injects", authenticated=True
        )
    rows: list[tuple[str, ...]] = []
    for item in body["items"]:
        rows.append(
            (
                item["id"],
                item["kind"],
                item["title"],
                " ".join(item["objects"]),
                item["acknowledged"] or "no",
            )
        )
    print_table(("inject", "kind", "title", "objects", "acknowledged"), rows)


@app.command("ack")
def ack(
    run_id: RunArgument,
    inject_id: Annotated[str, typer.Argument(help="The inject id")],
    hub: HubOption = None,
    key: KeyOption = None,
) -> None:
    """Acknowledge an inject (as your organisation)."""
    with errors():
        body: Any = _client(hub, key)._post(
            f"/api/v1/exercises/{run_id}/injects/{inject_id}/ack", {}, authenticated=True
        )
    out.print(f"Acknowledged {inject_id} at {body['acknowledged']}.", highlight=False)
