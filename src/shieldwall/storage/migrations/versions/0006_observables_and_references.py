"""observable index, reference index, warning-list confirmations

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 01:30:00

Existing objects are indexed here with the same code ingest uses, in batches; existing
indicators are checked against the default selection of warning lists.
"""

from __future__ import annotations

import orjson
import sqlalchemy as sa
from alembic import op

from shieldwall.domain.observables import keys_of
from shieldwall.domain.warninglists import DEFAULT_EXCLUDED_LISTS, warning_lists

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None
_BATCH = 5000


def upgrade() -> None:
    op.create_table(
        "observables",
        sa.Column(
            "object_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=520), nullable=False),
        sa.ForeignKeyConstraint(
            ["object_seq"],
            ["objects.seq"],
            name=op.f("fk_observables_object_seq_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("object_seq", "kind", "key", name=op.f("pk_observables")),
    )
    op.create_index("ix_observables_key", "observables", ["kind", "key"], unique=False)
    op.create_table(
        "object_refs",
        sa.Column(
            "object_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("ref", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["object_seq"],
            ["objects.seq"],
            name=op.f("fk_object_refs_object_seq_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("object_seq", "ref", name=op.f("pk_object_refs")),
    )
    op.create_index("ix_object_refs_ref", "object_refs", ["ref"], unique=False)
    op.create_table(
        "warned_objects",
        sa.Column(
            "object_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["object_seq"],
            ["objects.seq"],
            name=op.f("fk_warned_objects_object_seq_objects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("object_seq", name=op.f("pk_warned_objects")),
    )
    op.create_table(
        "indicator_confirmations",
        sa.Column("stix_id", sa.String(length=300), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("confirmed_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_indicator_confirmations_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("stix_id", name=op.f("pk_indicator_confirmations")),
    )
    _backfill()


def _backfill() -> None:
    """Index the objects stored before this revision."""
    connection = op.get_bind()
    objects = sa.table(
        "objects", sa.column("seq"), sa.column("body"), sa.column("refs"), sa.column("stix_type")
    )
    observables = sa.table(
        "observables", sa.column("object_seq"), sa.column("kind"), sa.column("key")
    )
    object_refs = sa.table("object_refs", sa.column("object_seq"), sa.column("ref"))
    warned_objects = sa.table("warned_objects", sa.column("object_seq"))
    lists = warning_lists(exclude=DEFAULT_EXCLUDED_LISTS)
    last = 0
    while True:
        rows = connection.execute(
            sa.select(objects.c.seq, objects.c.body, objects.c.refs)
            .where(objects.c.seq > last)
            .order_by(objects.c.seq)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        keys: list[dict[str, object]] = []
        refs: list[dict[str, object]] = []
        warned: list[dict[str, object]] = []
        for seq, body, ref_text in rows:
            obj = orjson.loads(body)
            keys.extend({"object_seq": seq, "kind": kind, "key": key} for kind, key in keys_of(obj))
            if obj.get("type") == "indicator" and lists.check_object(obj):
                warned.append({"object_seq": seq})
            refs.extend({"object_seq": seq, "ref": ref} for ref in (ref_text or "").split())
        if keys:
            connection.execute(sa.insert(observables), keys)
        if refs:
            connection.execute(sa.insert(object_refs), refs)
        if warned:
            connection.execute(sa.insert(warned_objects), warned)
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_table("indicator_confirmations")
    op.drop_table("warned_objects")
    op.drop_index("ix_object_refs_ref", table_name="object_refs")
    op.drop_table("object_refs")
    op.drop_index("ix_observables_key", table_name="observables")
    op.drop_table("observables")
