"""private lookup usage per member and day

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lookup_usage",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("evaluated", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_lookup_usage_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("org_id", "day", name=op.f("pk_lookup_usage")),
    )


def downgrade() -> None:
    op.drop_table("lookup_usage")
