"""Member commands for sightings, indicator assessment and correlation:
``shieldwall sighting add``, ``shieldwall indicator show|confirm``, ``shieldwall related``
and ``shieldwall clusters``."""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any

import typer
from rich.table import Table

from shieldwall.cli.anon import ProxyOption, StateOption
from shieldwall.cli.common import HubOption, KeyOption, errors, out, print_json, require_hub
from shieldwall.client.hub import HubClient
from shieldwall.client.wallet import Wallet, default_state_dir
from shieldwall.domain.errors import InvalidInput
from shieldwall.domain.sightings import NewSighting, make_sighting
from shieldwall.domain.timestamps import parse_timestamp

sighting_app = typer.Typer(help="Report sightings of shared indicators.", no_args_is_help=True)
indicator_app = typer.Typer(help="Indicators: score, sightings, warnings.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print the hub's JSON answer")]


def _is_id(text: str) -> bool:
    kind, sep, rest = text.partition("--")
    return bool(sep) and kind.replace("-", "").isalnum() and len(rest) == 36


@sighting_app.command("add")
def sighting_add(
    target: Annotated[str, typer.Argument(help="An indicator id, or a value (IP, domain, hash…)")],
    anonymous: Annotated[
        bool, typer.Option("--anonymous", help="Anonymous to members: counted, never named")
    ] = False,
    unlinkable: Annotated[
        bool,
        typer.Option(
            "--unlinkable",
            help="Unlinkable even by the hub: spend a blind token (needs an indicator id)",
        ),
    ] = False,
    false_positive: Annotated[
        bool, typer.Option("--false-positive", help="You saw it and judge it benign")
    ] = False,
    count: Annotated[int, typer.Option(min=1, help="How many times it was seen")] = 1,
    first_seen: Annotated[str | None, typer.Option(help="When first seen (RFC 3339)")] = None,
    last_seen: Annotated[str | None, typer.Option(help="When last seen (RFC 3339)")] = None,
    tlp: Annotated[
        str | None, typer.Option(help="TLP of the sighting (default: the indicator's)")
    ] = None,
    hub: HubOption = None,
    key: KeyOption = None,
    state: StateOption = None,
    proxy: ProxyOption = None,
) -> None:
    """Report that you saw an indicator (or whatever indicators a value matches)."""
    with errors():
        url = require_hub(hub)
        first = parse_timestamp(first_seen) if first_seen else None
        last = parse_timestamp(last_seen) if last_seen else None
        if unlinkable:
            if anonymous:
                raise InvalidInput("choose --anonymous or --unlinkable, not both")
            if not _is_id(target):
                raise InvalidInput(
                    "--unlinkable needs an indicator id: resolving a value would need an"
                    " authenticated call the hub could link to the sighting"
                )
            _unlinkable(
                url, target, count, first, last, false_positive, tlp or "amber", state, proxy
            )
            return
        body: dict[str, object] = {
            "anonymous": anonymous,
            "false_positive": false_positive,
            "count": count,
        }
        body["indicator" if _is_id(target) else "value"] = target
        for name, value in (("first_seen", first_seen), ("last_seen", last_seen), ("tlp", tlp)):
            if value:
                body[name] = value
        answer = HubClient(url, key, proxy=proxy).report_sighting(body)
    status = answer["status"]
    for failure in status.get("failures", []):
        out.print(f"[red]refused[/] {failure['id']}: {failure.get('message', '')}", highlight=False)
    kind = "false-positive report" if false_positive else "sighting"
    for made in answer["sightings"]:
        out.print(f"Reported {kind} {made['id']} of {made['indicator']}", highlight=False)
    if status.get("failure_count"):
        raise typer.Exit(2)


def _unlinkable(
    url: str,
    indicator_id: str,
    count: int,
    first: int | None,
    last: int | None,
    false_positive: bool,
    tlp: str,
    state: Any,
    proxy: str | None,
) -> None:
    """Send one sighting through the unlinkable token path (no credentials on the wire)."""
    client = HubClient(url, None, proxy=proxy)
    wallet = Wallet(url, state or default_state_dir())
    report = NewSighting(indicator_id, count, first, last, false_positive)
    sighting = make_sighting(report, f"sighting--{uuid.uuid4()}", time.time_ns() // 1000, None)
    token = wallet.take({k.epoch for k in client.announced_keys()})
    answer = client.submit_unlinkable(token.to_wire(), [sighting], tlp, None)
    out.print("Queued the sighting for the next anonymous batch. Receipt:")
    print(answer["receipt"])


def _figures(sightings: dict[str, Any]) -> str:
    parts = [
        f"{sightings['organisations']} organisations",
        f"{sightings['observations']} observations",
    ]
    if sightings["anonymous_reports"]:
        parts.append(f"{sightings['anonymous_reports']} anonymous")
    if sightings["false_positives"]:
        parts.append(f"{sightings['false_positives']} false-positive reports")
    if sightings["last_seen"]:
        parts.append(f"last seen {sightings['last_seen']}")
    return ", ".join(parts)


@indicator_app.command("show")
def indicator_show(
    indicator_id: str, as_json: JsonOption = False, hub: HubOption = None, key: KeyOption = None
) -> None:
    """How many members saw it, whether it is live, what it connects to, whether it is
    probably benign."""
    with errors():
        view = HubClient(require_hub(hub), key).indicator(indicator_id)
    if as_json:
        print_json(view)
        return
    obj, score = view["object"], view["score"]
    out.print(f"[bold]{obj.get('name') or indicator_id}[/]  {view['tlp']}", highlight=False)
    out.print(f"pattern   {obj.get('pattern')}", highlight=False, soft_wrap=True)
    state = (
        "[red]expired[/] (" + str(score["reason"]) + ")" if score["expired"] else "[green]live[/]"
    )
    out.print(f"score     {score['score']} / 100, {state}; expires {score['expires_at']}")
    out.print(f"sightings {_figures(view['sightings'])}", highlight=False)
    for warning in view["warnings"]:
        out.print(
            f"[yellow]warning[/]   {warning['value']} is on {warning['list']}"
            + (" (confirmed)" if view["confirmed"] else ""),
            highlight=False,
        )
    _print_related(view["related"], view["too_common"], view["reports"])


def _print_related(
    related: list[dict[str, Any]], too_common: list[dict[str, Any]], reports: list[dict[str, Any]]
) -> None:
    if related:
        table = Table(title=f"Related ({len(related)})")
        for column in ("id", "type", "name", "tlp", "through"):
            table.add_column(column, overflow="fold")
        for item in related:
            through = "; ".join(
                f"{link['relation']} {link['kind']} {link['value']}" for link in item["links"]
            )
            table.add_row(item["id"], item["type"], item["name"] or "", item["tlp"], through)
        out.print(table)
    for common in too_common:
        out.print(f"too common to correlate: {common['kind']} {common['value']}", highlight=False)
    for report in reports:
        out.print(f"in report {report['id']}  {report['name'] or ''}", highlight=False)


@indicator_app.command("confirm")
def indicator_confirm(indicator_id: str, hub: HubOption = None, key: KeyOption = None) -> None:
    """Confirm your indicator despite a warning-list hit, so that it is matched."""
    with errors():
        HubClient(require_hub(hub), key).confirm_indicator(indicator_id)
    out.print(f"Confirmed {indicator_id}: it is matched from the next snapshot rebuild.")


def related(
    object_id: str, as_json: JsonOption = False, hub: HubOption = None, key: KeyOption = None
) -> None:
    """Objects you may read that share an observable with OBJECT_ID (a report: with any of
    its members), and the reports holding them."""
    with errors():
        found = HubClient(require_hub(hub), key).related(object_id)
    if as_json:
        print_json(found)
        return
    _print_related(found["related"], found["too_common"], found["reports"])
    if not found["related"]:
        out.print("Nothing you may read shares an observable with it.")


def clusters(as_json: JsonOption = False, hub: HubOption = None, key: KeyOption = None) -> None:
    """Clusters of reports that share infrastructure (observables)."""
    with errors():
        found = HubClient(require_hub(hub), key).clusters()
    if as_json:
        print_json(found)
        return
    if not found:
        out.print("No two reports you may read share an observable.")
    for number, cluster in enumerate(found, 1):
        out.print(f"[bold]Cluster {number}[/] ({len(cluster['reports'])} reports)")
        for report in cluster["reports"]:
            out.print(f"  {report['id']}  {report['name'] or ''}", highlight=False)
        shared = ", ".join(f"{s['kind']} {s['value']}" for s in cluster["shared"][:10])
        out.print(f"  shared: {shared}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add these commands to the ``shieldwall`` application."""
    app.add_typer(sighting_app, name="sighting")
    app.add_typer(indicator_app, name="indicator")
    app.command("related")(related)
    app.command("clusters")(clusters)
