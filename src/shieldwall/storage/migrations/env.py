"""Alembic environment: runs migrations on the URL given by ``storage.migrate``."""

from __future__ import annotations

from alembic import context

from shieldwall.storage.database import create_database_engine
from shieldwall.storage.schema import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url is not None
engine = create_database_engine(url)
with engine.connect() as connection:
    if engine.dialect.name == "postgresql":
        # Several processes may migrate a fresh database at once: one at a time.
        connection.exec_driver_sql("SELECT pg_advisory_lock(7470817)")
        connection.commit()
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=engine.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
