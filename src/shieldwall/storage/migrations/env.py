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
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=engine.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
