"""Reading a whole database back in tests, whatever tables exist (reflected, so tables added
later are covered too): the checks that nothing identifying or left over is stored."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, MetaData, create_engine, select

# a token long and random enough to be an identifier (ids, digests, receipts, keys)
IDENTIFIER = re.compile(r"^[A-Za-z0-9_.:\-]{16,}$")


@dataclass
class Row:
    """One row of one table, by column name."""

    table: str
    values: dict[str, Any]


def dump(database: str) -> tuple[MetaData, list[Row]]:
    """Every row of every table of the database at the SQLAlchemy URL ``database``."""
    engine = create_engine(database)
    metadata = MetaData()
    metadata.reflect(engine)
    rows: list[Row] = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for record in connection.execute(select(table)):
                rows.append(Row(table.name, dict(record._mapping)))
    engine.dispose()
    return metadata, rows


def references(column: Column[Any], table: str, column_name: str) -> bool:
    """Whether ``column`` holds a ``table.column_name`` value (by foreign key or name; any
    ``*org_id`` column counts as referring to ``organisations.id``)."""
    if any(
        fk.column.table.name == table and fk.column.name == column_name
        for fk in column.foreign_keys
    ):
        return True
    if column.table.name == table and column.name == column_name:
        return True
    return table == "organisations" and column.name.endswith("org_id")


def tokens(value: object) -> set[str]:
    """The identifier-like tokens of a text cell (nothing for other cells)."""
    if not isinstance(value, str):
        return set()
    return {t for t in value.split() if IDENTIFIER.match(t)}
