"""``shieldwall backup`` and ``shieldwall restore``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shieldwall.cli.common import DatabaseOption, errors, out, settings_for
from shieldwall.storage import backup as backups


def register(app: typer.Typer) -> None:
    """Add the operations commands to the top-level command."""

    @app.command("backup")
    def backup(
        target: Annotated[Path, typer.Argument(help="New file to write the copy to")],
        database: DatabaseOption = None,
    ) -> None:
        """Take a consistent online copy of the SQLite database (the hub may keep running)."""
        with errors():
            size = backups.backup(str(settings_for(database).database_url), target)
        out.print(f"Backed up to {target} ({size} bytes); integrity check passed.", highlight=False)

    @app.command("restore")
    def restore(
        source: Annotated[Path, typer.Argument(help="A file written by shieldwall backup")],
        force: Annotated[
            bool, typer.Option("--force", help="Replace an existing database")
        ] = False,
        database: DatabaseOption = None,
    ) -> None:
        """Restore the SQLite database from a backup (stop the hub first)."""
        with errors():
            backups.restore(source, str(settings_for(database).database_url), force=force)
        out.print(f"Restored from {source}.", highlight=False)
