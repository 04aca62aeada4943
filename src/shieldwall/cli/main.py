"""``shieldwall``: parse, call one service, render (error handling: ``cli/common.py``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from shieldwall.cli import (
    alerts,
    anon,
    attest,
    audit_commands,
    exchange,
    exercise,  # exercises
    federation,
    intel,
    member,
    operations,
    report,
    users,  # accounts
)
from shieldwall.cli import match as match_commands
from shieldwall.cli.common import DatabaseOption, errors, out, run, settings_for
from shieldwall.domain.organisations import Organisation
from shieldwall.domain.timestamps import format_timestamp
from shieldwall.services import admin, demo
from shieldwall.services.context import Hub
from shieldwall.settings import Settings

app = typer.Typer(
    help="Shieldwall threat-sharing hub.", no_args_is_help=True, pretty_exceptions_enable=False
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
org_app = typer.Typer(help="Organisations.", no_args_is_help=True)
group_app = typer.Typer(help="Sharing groups.", no_args_is_help=True)
key_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(org_app, name="org")
app.add_typer(group_app, name="group")
app.add_typer(key_app, name="key")
app.add_typer(anon.app, name="anon")
app.add_typer(audit_commands.app, name="audit")
app.add_typer(report.app, name="report")
app.add_typer(alerts.app, name="alerts")
app.add_typer(attest.app, name="attest")
app.add_typer(exercise.app, name="exercise")  # exercises
app.add_typer(federation.app, name="partner")
app.add_typer(users.app, name="user")  # accounts
member.register(app)
match_commands.register(app)
intel.register(app)
operations.register(app)
exchange.register(app)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    database: DatabaseOption = None,
    demo_mode: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Fill an empty database with a demo community and print its keys and web sign-ins",
        ),
    ] = False,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
) -> None:
    """Run the hub (migrating the database first)."""
    import logging

    import uvicorn

    from shieldwall.bootstrap import build_hub
    from shieldwall.web.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    settings = settings_for(database)
    with errors():
        hub = build_hub(settings)
        if demo_mode:
            _demo(hub, settings)
    out.print(
        f"Shieldwall listening on [bold]http://{host}:{port}/[/] "
        f"(TAXII 2.1 at http://{host}:{port}/taxii2/)",
        highlight=False,
    )
    sys.stdout.flush()
    if workers > 1:
        import os

        os.environ["SHIELDWALL_DATABASE_URL"] = str(settings.database_url)
        uvicorn.run(
            "shieldwall.asgi:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            access_log=False,
        )
    else:
        # uvicorn's access log records client addresses: ours (web/health.py) does not.
        uvicorn.run(create_app(hub), host=host, port=port, log_level="info", access_log=False)


def _demo(hub: Hub, settings: Settings) -> None:
    if not demo.is_empty(hub):
        fresh = demo.reissue_demo_keys(hub)
        out.print(
            "The database already holds data: the demo was not loaded again."
            + (
                " New API keys and web sign-in passwords for the demo organisations:"
                if fresh.members
                else ""
            )
        )
        _print_credentials(fresh.members, fresh.users)
        return
    data_dir = settings.demo_data_dir or Path(__file__).resolve().parent.parent / "demo_data"
    bundles: list[list[object]] = []
    for path in sorted(data_dir.glob("*.json")):
        document = orjson.loads(path.read_bytes())
        if isinstance(document, dict) and isinstance(document.get("objects"), list):
            bundles.append(document["objects"])
    community = demo.create_demo(hub, bundles)
    out.print(
        "Demo community created. Per organisation, an API key and an admin user for the web"
        " interface (/ui/), shown only now:"
    )
    _print_credentials(community.members, community.users)
    out.print(
        f"Loaded {community.objects_loaded} STIX objects from {data_dir}"
        f" ({community.objects_rejected} rejected).",
        highlight=False,
    )


def _print_credentials(
    members: list[tuple[Organisation, str]], users: list[tuple[Organisation, str, str]]
) -> None:
    """Per organisation: its name, then its API key and its web user name and password."""
    sign_ins = {organisation.id: (username, password) for organisation, username, password in users}
    for organisation, key in members:
        label = f"{organisation.name} ({organisation.sector.value}, {organisation.country},"
        label += f" {organisation.role.value})"
        out.print(f"  {label}", highlight=False, soft_wrap=True)
        out.print(f"      API key    {key}", highlight=False, soft_wrap=True)
        if organisation.id in sign_ins:
            username, password = sign_ins[organisation.id]
            out.print(f"      web user   {username}", highlight=False, soft_wrap=True)
            out.print(f"      password   {password}", highlight=False, soft_wrap=True)


@db_app.command("upgrade")
def db_upgrade(database: DatabaseOption = None) -> None:
    """Create or migrate the schema."""
    from shieldwall.storage.migrate import upgrade

    with errors():
        upgrade(str(settings_for(database).database_url))
    out.print("Database schema is up to date.")


@org_app.command("add")
def org_add(
    name: str,
    sector: Annotated[
        str, typer.Option(help="financial, legal, government, insurance, technology or other")
    ],
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 code, e.g. US")],
    role: Annotated[str, typer.Option(help="member, government or operator")] = "member",
    database: DatabaseOption = None,
) -> None:
    """Admit an organisation; print its STIX identity id alone on the last line."""
    organisation = run(
        database, lambda hub: admin.add_organisation(hub, name, sector, country, role)
    )
    out.print(
        f"Admitted {organisation.name} ({organisation.sector.value}, {organisation.country},"
        f" {organisation.role.value}).",
        highlight=False,
    )
    print(organisation.identity_id)


@org_app.command("list")
def org_list(database: DatabaseOption = None) -> None:
    """List organisations."""
    organisations = run(database, admin.list_organisations)
    table = Table()
    for column in ("name", "sector", "country", "role", "groups", "identity"):
        table.add_column(column, overflow="fold")
    for o in organisations:
        table.add_row(
            o.name,
            o.sector.value,
            o.country,
            o.role.value,
            ", ".join(sorted(o.groups)),
            o.identity_id,
        )
    out.print(table)


@org_app.command("assets")
def org_assets(
    name: str,
    domain: Annotated[list[str] | None, typer.Option(help="A domain the organisation owns")] = None,
    cidr: Annotated[list[str] | None, typer.Option(help="An IP range it owns")] = None,
    keyword: Annotated[
        list[str] | None, typer.Option(help="A name, matter or account number")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Declare an organisation's own assets (used to protect victims); list them all."""
    assets = run(
        database,
        lambda hub: admin.declare_assets(hub, name, domain or [], cidr or [], keyword or []),
    )
    table = Table(title=f"Declared assets of {name}")
    table.add_column("kind")
    table.add_column("value", overflow="fold")
    for kind, value in assets:
        table.add_row(kind, value)
    out.print(table)


@group_app.command("add")
def group_add(
    name: str,
    orgs: Annotated[list[str], typer.Argument(help="Member organisations")],
    database: DatabaseOption = None,
) -> None:
    """Create a sharing group."""
    group = run(database, lambda hub: admin.create_group(hub, name, orgs))
    out.print(f"Created group {group.name} with {len(group.members)} members.", highlight=False)


@group_app.command("members")
def group_members(
    name: str,
    add: Annotated[list[str] | None, typer.Option(help="Organisation to add")] = None,
    remove: Annotated[list[str] | None, typer.Option(help="Organisation to remove")] = None,
    database: DatabaseOption = None,
) -> None:
    """Add or remove members of a sharing group."""
    group = run(database, lambda hub: admin.change_group(hub, name, add or [], remove or []))
    out.print(f"{group.name}: {', '.join(group.members) or '(no members)'}", highlight=False)


@group_app.command("list")
def group_list(database: DatabaseOption = None) -> None:
    """List sharing groups and their members."""
    groups = run(database, admin.list_groups)
    table = Table()
    for column in ("group", "owner", "members"):
        table.add_column(column, overflow="fold")
    for g in groups:
        table.add_row(g.name, g.owner or "(operators)", ", ".join(g.members))
    out.print(table)


@group_app.command("delete")
def group_delete(name: str, database: DatabaseOption = None) -> None:
    """Delete a sharing group."""
    run(database, lambda hub: admin.delete_group(hub, name))
    out.print(f"Deleted group {name}.", highlight=False)


@key_app.command("create")
def key_create(
    org: str,
    label: Annotated[str, typer.Option(help="What the key is for")] = "",
    database: DatabaseOption = None,
) -> None:
    """Create an API key; print it alone on the last line (it is not stored and not shown again)."""
    key = run(database, lambda hub: admin.create_key(hub, org, label))
    out.print(f"API key for {org} (store it now; it cannot be shown again):", highlight=False)
    print(key)


@key_app.command("list")
def key_list(
    org: Annotated[str | None, typer.Argument(help="Only this organisation's keys")] = None,
    database: DatabaseOption = None,
) -> None:
    """List keys (ids and dates, never secrets)."""
    keys = run(database, lambda hub: admin.list_keys(hub, org))
    table = Table()
    for column in ("key id", "organisation", "label", "created", "last used", "revoked"):
        table.add_column(column, overflow="fold")
    for k in keys:
        table.add_row(
            k.key_id,
            k.organisation,
            k.label,
            format_timestamp(k.created_at)[:19],
            format_timestamp(k.last_used_at)[:19] if k.last_used_at else "",
            format_timestamp(k.revoked_at)[:19] if k.revoked_at else "",
        )
    out.print(table)


@key_app.command("revoke")
def key_revoke(key_id: str, database: DatabaseOption = None) -> None:
    """Revoke a key by its id (or the whole key); effective on the next request."""
    run(database, lambda hub: admin.revoke_key(hub, key_id))
    out.print(f"Revoked key {key_id[:15]}.", highlight=False)


def main() -> None:
    """Console-script entry point."""
    app()
