"""What every command shares: consoles, the database option, error handling, hub wiring.

Errors become messages and exit codes here and nowhere else (2: bad input, 3: not found,
4: conflict, 5: not allowed, 6: rate limited, 1: other).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, TypeVar

import orjson
import typer
from rich.console import Console
from rich.table import Table

from shieldwall.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    ShieldwallError,
    Unauthenticated,
)
from shieldwall.services.context import Hub
from shieldwall.settings import Settings, load_settings

out = Console()
err = Console(stderr=True)
T = TypeVar("T")

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="Database URL (default: $SHIELDWALL_DATABASE_URL, else"
        " sqlite:///shieldwall.db in the current directory)",
    ),
]
# The scope of a submission (member-side commands): repeatable, each optional.
SectorOption = Annotated[list[str] | None, typer.Option("--sector", help="Restrict to a sector")]
CountryOption = Annotated[list[str] | None, typer.Option("--country", help="Restrict to a country")]
GroupOption = Annotated[
    list[str] | None, typer.Option("--group", help="Restrict to a sharing group")
]
OrgOption = Annotated[
    list[str] | None, typer.Option("--org", help="Restrict to an organisation (identity id)")
]
AnonymousOption = Annotated[
    bool,
    typer.Option("--anonymous", help="Anonymous to members (the hub keeps you in a sealed record)"),
]
EXIT_CODES: tuple[tuple[type[ShieldwallError], int], ...] = (
    (InvalidInput, 2),
    (NotFound, 3),
    (Conflict, 4),
    (Forbidden, 5),
    (Unauthenticated, 5),
    (RateLimited, 6),
)


@contextmanager
def errors() -> Iterator[None]:
    try:
        yield
    except ShieldwallError as exc:
        err.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        code = next((c for kind, c in EXIT_CODES if isinstance(exc, kind)), 1)
        raise typer.Exit(code) from None


def settings_for(database: str | None) -> Settings:
    return load_settings().with_overrides(database_url=database)


def hub_for(database: str | None) -> Hub:
    from shieldwall.bootstrap import build_hub

    return build_hub(settings_for(database))


def run(database: str | None, action: Callable[[Hub], T]) -> T:
    with errors():
        return action(hub_for(database))


HubOption = Annotated[
    str | None,
    typer.Option("--hub", envvar="SHIELDWALL_HUB", help="The hub's URL, e.g. https://hub.example"),
]
KeyOption = Annotated[
    str | None,
    typer.Option("--key", envvar="SHIELDWALL_KEY", help="Your organisation's API key"),
]


def require_hub(hub: str | None) -> str:
    """The hub URL, or a clear error."""
    if not hub:
        raise InvalidInput("give the hub's URL with --hub or $SHIELDWALL_HUB")
    return hub


def print_json(body: object) -> None:
    """Write ``body`` to standard output as indented JSON (the ``--json`` of commands)."""
    print(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode())


def print_table(
    columns: Sequence[str], rows: Iterable[Sequence[str]], title: str | None = None
) -> None:
    """Print ``rows`` under ``columns`` on the console (long values fold onto more lines,
    never cut: ids and patterns must stay whole)."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    out.print(table)
