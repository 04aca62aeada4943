"""Online backup and restore of a SQLite database (PostgreSQL: use pg_dump/pg_restore).

``backup`` uses SQLite's online backup API: a consistent copy taken while the hub keeps
serving. ``restore`` checks the copy's integrity first and refuses to overwrite a
database unless told to.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from shieldwall.domain.errors import Conflict, InvalidInput, NotFound
from shieldwall.storage.database import normalise_url

POSTGRES_HINT = (
    "PostgreSQL databases are backed up with PostgreSQL's own tools:"
    " pg_dump --format=custom --file=hub.dump URL, restored with pg_restore --clean"
    " --dbname=URL hub.dump (see docs/operations.md)"
)


def _sqlite_path(url: str) -> Path:
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite":
        raise InvalidInput(POSTGRES_HINT)
    if not parsed.database or parsed.database == ":memory:":
        raise InvalidInput("an in-memory database cannot be backed up")
    return Path(parsed.database)


def integrity_problems(path: Path) -> list[str]:
    """SQLite's own integrity check of the file at ``path`` (empty when sound)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = connection.execute("PRAGMA integrity_check").fetchall()
    finally:
        connection.close()
    return [str(row[0]) for row in rows if row[0] != "ok"]


def backup(url: str, target: Path) -> int:
    """Copy the live database at ``url`` to ``target`` (which must not exist); return its
    size in bytes."""
    source_path = _sqlite_path(url)
    if not source_path.exists():
        raise NotFound(f"no database at {source_path}")
    if target.exists():
        raise Conflict(f"{target} already exists; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(source_path, timeout=30)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)
    finally:
        destination.close()
        source.close()
    problems = integrity_problems(target)
    if problems:
        target.unlink()
        raise InvalidInput(f"the copy failed its integrity check: {'; '.join(problems[:3])}")
    return target.stat().st_size


def restore(backup_file: Path, url: str, *, force: bool = False) -> None:
    """Replace the database at ``url`` with ``backup_file`` after checking its integrity.
    Stop the hub first. Refuses to overwrite an existing database unless ``force``."""
    if not backup_file.exists():
        raise NotFound(f"no backup file {backup_file}")
    problems = integrity_problems(backup_file)
    if problems:
        raise InvalidInput(f"{backup_file} is damaged: {'; '.join(problems[:3])}")
    target = _sqlite_path(url)
    if target.exists() and not force:
        raise Conflict(f"{target} exists; stop the hub and pass --force to replace it")
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    source = sqlite3.connect(backup_file)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)
    finally:
        destination.close()
        source.close()
