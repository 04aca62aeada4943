"""``shieldwall partner``: partner hubs (operator commands on the database) and sync passes."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer
from rich.table import Table

from shieldwall.cli.common import DatabaseOption, err, errors, out, print_table, run
from shieldwall.domain.timestamps import format_timestamp
from shieldwall.services import federation
from shieldwall.services.federation import PartnerView

app = typer.Typer(help="Partner hubs (federation over TAXII 2.1).", no_args_is_help=True)


def _time(value: int | None) -> str:
    return "-" if value is None else format_timestamp(value)


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A name for the partner")],
    url: Annotated[str, typer.Option("--url", help="The partner's TAXII 2.1 API root URL")],
    collection: Annotated[
        str, typer.Option("--collection", help="The collection id (or alias) on the partner")
    ],
    local_collection: Annotated[
        str, typer.Option("--local-collection", help="The local collection (alias or id)")
    ] = "shared",
    direction: Annotated[str, typer.Option("--direction", help="pull, push or both")] = "both",
    key: Annotated[
        str | None, typer.Option("--key", help="API key for the partner (sent as Bearer)")
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="HTTP Basic user")] = None,
    password: Annotated[str | None, typer.Option("--password", help="HTTP Basic password")] = None,
    types: Annotated[
        list[str] | None, typer.Option("--type", help="Only this STIX type (repeatable)")
    ] = None,
    account: Annotated[
        str | None,
        typer.Option(
            "--account", help="Local organisation the partner pushes to us with (never sent back)"
        ),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Configure a partner hub (the credential is stored to call it and never shown again)."""
    view = run(
        database,
        lambda hub: federation.add_partner(
            hub,
            None,
            name,
            url,
            collection,
            local_collection,
            direction,
            key=key,
            user=user,
            password=password,
            types=types or (),
            account=account,
        ),
    )
    out.print(f"Partner {view.name} added ({view.direction}).", highlight=False)


@app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="The partner's name")],
    database: DatabaseOption = None,
) -> None:
    """Remove a partner and its sync state (provenance of pulled objects stays)."""
    run(database, lambda hub: federation.remove_partner(hub, None, name))
    out.print(f"Partner {name} removed.", highlight=False)


@app.command("enable")
def enable(
    name: Annotated[str, typer.Argument(help="The partner's name")],
    database: DatabaseOption = None,
) -> None:
    """Resume passes with a partner (from its watermarks)."""
    run(database, lambda hub: federation.enable_partner(hub, None, name, True))
    out.print(f"Partner {name} enabled.", highlight=False)


@app.command("disable")
def disable(
    name: Annotated[str, typer.Argument(help="The partner's name")],
    database: DatabaseOption = None,
) -> None:
    """Stop passes with a partner, keeping its settings and watermarks."""
    run(database, lambda hub: federation.enable_partner(hub, None, name, False))
    out.print(f"Partner {name} disabled.", highlight=False)


def _rows(views: list[PartnerView]) -> Table:
    table = Table()
    for column in (
        "partner",
        "leg",
        "transferred",
        "refused",
        "last success",
        "failures",
        "next attempt",
        "last error",
    ):
        table.add_column(column, overflow="fold")
    for view in views:
        for leg in view.legs:
            table.add_row(
                view.name,
                leg.direction,
                str(leg.transferred),
                str(leg.refused),
                _time(leg.last_success_at),
                str(leg.failures),
                _time(leg.next_attempt_at),
                leg.last_error or "",
            )
    return table


def _json(view: PartnerView) -> dict[str, object]:
    return {
        "name": view.name,
        "api_root": view.api_root,
        "collection": view.remote_collection,
        "local_collection": view.local_collection,
        "direction": view.direction,
        "auth": view.auth,
        "types": list(view.types),
        "account": view.account,
        "sync": [
            {
                "direction": s.direction,
                "transferred": s.transferred,
                "refused": s.refused,
                "last_success": None if s.last_success_at is None else _time(s.last_success_at),
                "last_error": s.last_error,
                "consecutive_failures": s.failures,
                "next_attempt": None if s.next_attempt_at is None else _time(s.next_attempt_at),
            }
            for s in view.legs
        ],
    }


@app.command("list")
def list_partners(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    database: DatabaseOption = None,
) -> None:
    """Partners with their settings and sync status (never credentials)."""
    views = run(database, lambda hub: federation.partners(hub, None))
    if as_json:
        out.print_json(orjson.dumps([_json(v) for v in views]).decode())
        return
    print_table(
        ("partner", "api root", "collection", "local", "direction", "auth", "types"),
        [
            (
                v.name,
                v.api_root,
                v.remote_collection,
                v.local_collection,
                v.direction,
                v.auth,
                " ".join(v.types) or "all",
            )
            for v in views
        ],
    )
    out.print(_rows(views))


@app.command("status")
def status(
    name: Annotated[str | None, typer.Argument(help="One partner (default: all)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    database: DatabaseOption = None,
) -> None:
    """Last success, counts pulled/pushed/refused, last error and next attempt per leg."""
    views = run(
        database,
        lambda hub: (
            federation.partners(hub, None)
            if name is None
            else [federation.partner(hub, None, name)]
        ),
    )
    if as_json:
        out.print_json(orjson.dumps([_json(v) for v in views]).decode())
    else:
        out.print(_rows(views))


@app.command("sync")
def sync(
    name: Annotated[str | None, typer.Argument(help="One partner (default: all enabled)")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Also try partners that are backing off")
    ] = False,
    database: DatabaseOption = None,
) -> None:
    """One federation pass now; exits 1 and prints the error if a partner failed."""
    results = run(database, lambda hub: federation.sync(hub, name, force=force))
    failed = False
    for r in results:
        if r.waiting:
            out.print(
                f"{r.partner} {r.direction}: backing off after a failure ({r.error})",
                highlight=False,
            )
        elif r.ok:
            out.print(
                f"{r.partner} {r.direction}: {r.transferred} transferred, {r.refused} refused,"
                f" {r.withheld} withheld",
                highlight=False,
            )
        else:
            failed = True
            err.print(f"[bold red]error:[/] {r.partner} {r.direction}: {r.error}", highlight=False)
    if failed:
        with errors():
            raise typer.Exit(1)
