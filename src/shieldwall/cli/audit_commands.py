"""``shieldwall audit``: read and verify the hash-chained audit trail."""

from __future__ import annotations

import typer
from rich.table import Table

from shieldwall.cli.common import DatabaseOption, err, out, run
from shieldwall.domain.timestamps import format_timestamp
from shieldwall.services import audit

app = typer.Typer(help="The audit trail.", no_args_is_help=True)


@app.command("verify")
def verify(database: DatabaseOption = None) -> None:
    """Recompute the hash chain; exit 1 and name each broken entry if it was tampered with."""
    result = run(database, audit.verify)
    if result.problems:
        for problem in result.problems:
            err.print(f"[bold red]tampered:[/] {problem}", highlight=False)
        raise typer.Exit(1)
    out.print(f"Audit trail intact: {result.entries} entries, hash chain verified.")


@app.command("list")
def list_entries(database: DatabaseOption = None) -> None:
    """Show the audit trail, oldest first."""
    entries = run(database, audit.entries)
    table = Table()
    for column in ("#", "time", "actor", "action", "detail"):
        table.add_column(column, overflow="fold")
    for e in entries:
        table.add_row(str(e.seq), format_timestamp(e.at)[:19], e.actor, e.action, e.detail)
    out.print(table)
