"""federation: partners, per-direction sync state, provenance of pulled objects

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("api_root", sa.String(length=2000), nullable=False),
        sa.Column("remote_collection", sa.String(length=300), nullable=False),
        sa.Column("local_collection", sa.String(length=300), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("auth_kind", sa.String(length=8), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=True),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("types", sa.Text(), nullable=False),
        sa.Column("account_org_id", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_org_id"],
            ["organisations.id"],
            name=op.f("fk_partners_account_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
        sa.UniqueConstraint("name", name=op.f("uq_partners_name")),
    )
    op.create_table(
        "partner_sync",
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("remote_after", sa.String(length=40), nullable=True),
        sa.Column("local_date", sa.BigInteger(), nullable=True),
        sa.Column("local_seq", sa.BigInteger(), nullable=True),
        sa.Column("transferred", sa.BigInteger(), nullable=False),
        sa.Column("refused", sa.BigInteger(), nullable=False),
        sa.Column("last_attempt_at", sa.BigInteger(), nullable=True),
        sa.Column("last_success_at", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_sync_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("partner_id", "direction", name=op.f("pk_partner_sync")),
    )
    op.create_table(
        "partner_provenance",
        sa.Column("collection_pk", sa.Integer(), nullable=False),
        sa.Column("stix_id", sa.String(length=300), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("partner", sa.String(length=100), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_pk"],
            ["collections.id"],
            name=op.f("fk_partner_provenance_collection_pk_collections"),
        ),
        sa.PrimaryKeyConstraint(
            "collection_pk", "stix_id", "version", name=op.f("pk_partner_provenance")
        ),
    )


def downgrade() -> None:
    op.drop_table("partner_provenance")
    op.drop_table("partner_sync")
    op.drop_table("partners")
