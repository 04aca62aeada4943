"""Engines and transactions for SQLite (default) and PostgreSQL.

SQLite runs in WAL mode with a busy timeout and foreign keys on; write transactions start
with ``BEGIN IMMEDIATE`` so two writers queue on the lock instead of failing half-way.
PostgreSQL runs through psycopg 3 at READ COMMITTED; collection rows are locked with
``SELECT … FOR UPDATE`` while adding objects. Driver errors are mapped to domain errors
here, at the boundary.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.pool import NullPool

from shieldwall.domain.errors import Conflict, InvalidInput, ShieldwallError
from shieldwall.storage.repository import SqlTx


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


class StorageUnavailable(ShieldwallError):
    """The database cannot be reached or is locked for too long."""


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``sqlite:///path`` URLs; pick the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def create_database_engine(url: str) -> Engine:
    """Create an engine for ``url`` with the pragmas and pool settings we rely on."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            **(
                {"poolclass": NullPool}
                if parsed.database in (None, "", ":memory:")
                else {"pool_size": 20, "max_overflow": 40}
            ),
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB of page cache per connection
            cursor.execute("PRAGMA mmap_size=268435456")
            cursor.execute("PRAGMA temp_store=MEMORY")
            cursor.close()
            # SQLite's lower() folds ASCII only; PostgreSQL's folds all of Unicode.
            dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            mode = connection.get_execution_options().get("sqlite_begin", "BEGIN")
            connection.exec_driver_sql(mode)

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


class Database:
    """The one object that opens transactions; implements ``services.ports.UnitOfWork``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"

    @classmethod
    def from_url(cls, url: str) -> Database:
        """Open (but do not migrate) the database at ``url``."""
        return cls(create_database_engine(url))

    @contextmanager
    def read(self) -> Iterator[SqlTx]:
        """A read transaction (a consistent snapshot on both engines)."""
        with self._translated(), self.engine.connect() as connection, connection.begin():
            yield SqlTx(connection, self.is_sqlite)

    @contextmanager
    def write(self) -> Iterator[SqlTx]:
        """A write transaction, committed when the block ends without an exception."""
        with self._translated(), self.engine.connect() as connection:
            if self.is_sqlite:
                connection = connection.execution_options(sqlite_begin="BEGIN IMMEDIATE")
            with connection.begin():
                yield SqlTx(connection, self.is_sqlite)

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except IntegrityError as exc:
            raise Conflict(f"the change clashes with stored data: {exc.orig}") from exc
        except DataError as exc:  # e.g. a NUL character, which PostgreSQL text cannot hold
            raise InvalidInput(
                f"the request holds a value the database cannot store: {exc.orig}"
            ) from exc
        except OperationalError as exc:
            raise StorageUnavailable(f"the database is unavailable: {exc.orig}") from exc

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()
