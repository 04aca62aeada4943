"""Alembic migrations on both engines: idempotent, faithful to ``schema.metadata``, and
reachable from the command line (``shieldwall db upgrade``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select

from conftest import cli, database_url
from shieldwall.storage.database import Database
from shieldwall.storage.migrate import alembic_config, upgrade
from shieldwall.storage.schema import hub_settings, metadata


def _head(url: str) -> str:
    heads = ScriptDirectory.from_config(alembic_config(url)).get_heads()
    assert len(heads) == 1, f"the migrations have several heads: {heads}"
    return heads[0]


def _current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _shape(engine: Engine) -> dict[str, object]:
    """Tables, columns, indexes and constraints as the database reports them."""
    inspector = inspect(engine)
    shape: dict[str, object] = {}
    for table in sorted(inspector.get_table_names()):
        shape[table] = (
            [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            sorted(
                (i["name"] or "", tuple(i["column_names"])) for i in inspector.get_indexes(table)
            ),
            sorted(
                (u["name"] or "", tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(table)
            ),
            sorted(
                (f["name"] or "", tuple(f["constrained_columns"]), f["referred_table"])
                for f in inspector.get_foreign_keys(table)
            ),
            inspector.get_pk_constraint(table)["constrained_columns"],
        )
    return shape


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_upgrade_twice_is_a_no_op(engine_name: str, tmp_path: Path) -> None:
    url = database_url(engine_name, tmp_path)
    upgrade(url)
    database = Database.from_url(url)
    try:
        assert _current(database.engine) == _head(url)
        with database.write() as tx:
            tx.set_setting("migration.probe", "kept")
        before = _shape(database.engine)
        upgrade(url)
        assert _current(database.engine) == _head(url)
        assert _shape(database.engine) == before
        with database.read() as tx:
            assert tx.setting("migration.probe") == "kept"
    finally:
        database.dispose()


def test_migrated_schema_matches_metadata(engine_name: str, tmp_path: Path) -> None:
    url = database_url(engine_name, tmp_path)
    upgrade(url)
    database = Database.from_url(url)
    try:
        assert _differences(database.engine) == []
        tables = set(inspect(database.engine).get_table_names())
        assert tables == set(metadata.tables) | {"alembic_version"}
    finally:
        database.dispose()


def test_downgrade_to_base_and_back(engine_name: str, tmp_path: Path) -> None:
    url = database_url(engine_name, tmp_path)
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    database = Database.from_url(url)
    try:
        assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
        assert _current(database.engine) is None
        upgrade(url)
        assert _current(database.engine) == _head(url)
        assert _differences(database.engine) == []
    finally:
        database.dispose()


@pytest.mark.slow
def test_cli_db_upgrade(engine_name: str, tmp_path: Path) -> None:
    url = database_url(engine_name, tmp_path)
    assert "up to date" in cli("db", "upgrade", database=url)
    database = Database.from_url(url)
    try:
        assert _current(database.engine) == _head(url)
        assert _differences(database.engine) == []
        with database.engine.connect() as connection:
            assert connection.execute(select(hub_settings)).all() == []  # schema only
        upgrade(url)  # a programmatic upgrade after the command line: nothing to do
        assert _current(database.engine) == _head(url)
    finally:
        database.dispose()
