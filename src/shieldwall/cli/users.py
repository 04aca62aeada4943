"""``shieldwall user``: web sign-in users of organisations (operator commands on the
database; the operator may manage every organisation's users)."""

from __future__ import annotations

from typing import Annotated

import typer

from shieldwall.cli.common import DatabaseOption, out, print_json, print_table, run
from shieldwall.domain.timestamps import format_timestamp
from shieldwall.services import accounts
from shieldwall.services.accounts import UserInfo

app = typer.Typer(help="Web sign-in users of organisations.", no_args_is_help=True)

UsernameArgument = Annotated[str, typer.Argument(help="The user name (any case)")]


def _time(value: int | None) -> str:
    return "" if value is None else format_timestamp(value)[:16].replace("T", " ")


def _show_password(intro: str, password: str) -> None:
    out.print(intro, highlight=False)
    out.print("The password is shown only now and cannot be shown again:", highlight=False)
    print(password)


@app.command("add")
def add(
    org: Annotated[str, typer.Argument(help="The organisation's name")],
    username: Annotated[
        str, typer.Argument(help="3-64 of a-z, 0-9, '.', '_', '@', '-' (stored lower-case)")
    ],
    is_admin: Annotated[
        bool, typer.Option("--admin", help="The user manages its organisation's users")
    ] = False,
    database: DatabaseOption = None,
) -> None:
    """Add a user with a generated password, printed alone on the last line (shown once)."""
    info, password = run(
        database, lambda hub: accounts.add_user(hub, org, username, admin=is_admin)
    )
    role = "admin" if info.is_admin else "user"
    _show_password(f"Added {role} {info.username} to {info.organisation}.", password)


def _json(info: UserInfo) -> dict[str, object]:
    return {
        "username": info.username,
        "organisation": info.organisation,
        "admin": info.is_admin,
        "disabled": info.disabled,
        "created": format_timestamp(info.created_at),
        "last_sign_in": None if info.last_sign_in is None else format_timestamp(info.last_sign_in),
    }


@app.command("list")
def list_users(
    org: Annotated[str | None, typer.Argument(help="Only this organisation's users")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    database: DatabaseOption = None,
) -> None:
    """Users with organisation, admin flag, state, creation and last sign-in (never
    passwords)."""
    found = run(database, lambda hub: accounts.list_users(hub, org))
    if as_json:
        print_json([_json(info) for info in found])
        return
    rows: list[tuple[str, ...]] = []
    for info in found:
        rows.append(
            (
                info.username,
                info.organisation,
                "yes" if info.is_admin else "",
                "yes" if info.disabled else "",
                _time(info.created_at),
                _time(info.last_sign_in),
            )
        )
    print_table(("user", "organisation", "admin", "disabled", "created", "last sign-in"), rows)


@app.command("reset-password")
def reset_password(username: UsernameArgument, database: DatabaseOption = None) -> None:
    """Give a user a new generated password (alone on the last line, shown once) and end
    its sessions."""
    password = run(database, lambda hub: accounts.reset_password(hub, username))
    _show_password(f"New password for {username.strip().lower()}; its sessions ended.", password)


@app.command("disable")
def disable(username: UsernameArgument, database: DatabaseOption = None) -> None:
    """Disable a user: it cannot sign in and its sessions end at once."""
    run(database, lambda hub: accounts.set_disabled(hub, username, True))
    out.print(f"User {username.strip().lower()} disabled.", highlight=False)


@app.command("enable")
def enable(username: UsernameArgument, database: DatabaseOption = None) -> None:
    """Let a disabled user sign in again."""
    run(database, lambda hub: accounts.set_disabled(hub, username, False))
    out.print(f"User {username.strip().lower()} enabled.", highlight=False)


@app.command("admin")
def set_admin(
    username: UsernameArgument,
    on: Annotated[
        bool,
        typer.Option("--on/--off", help="Give (--on) or take (--off) the organisation admin flag"),
    ],
    database: DatabaseOption = None,
) -> None:
    """Give or take a user's admin flag (managing its organisation's users)."""
    run(database, lambda hub: accounts.set_admin(hub, username, on))
    state = "now an admin" if on else "no longer an admin"
    out.print(f"User {username.strip().lower()} is {state}.", highlight=False)
