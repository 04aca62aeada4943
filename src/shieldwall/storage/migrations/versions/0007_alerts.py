"""government alerts: alerts, links, acknowledgements, channels, deliveries

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 09:00:00

The ``alerts`` collection itself is created by the hub on the first alert
(services/alerts.ensure_collection), like every other collection, not here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("stix_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sender_org_id", sa.Integer(), nullable=False),
        sa.Column("victim_org_id", sa.Integer(), nullable=True),
        sa.Column("tlp", sa.SmallInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sender_org_id"],
            ["organisations.id"],
            name=op.f("fk_alerts_sender_org_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["victim_org_id"],
            ["organisations.id"],
            name=op.f("fk_alerts_victim_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("stix_id", name=op.f("pk_alerts")),
    )
    op.create_index("ix_alerts_listing", "alerts", ["state", "created_at"])
    op.create_index("ix_alerts_sender", "alerts", ["sender_org_id", "created_at"])
    op.create_table(
        "alert_links",
        sa.Column("advisory_id", sa.String(length=100), nullable=False),
        sa.Column("notification_id", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["advisory_id"],
            ["alerts.stix_id"],
            name=op.f("fk_alert_links_advisory_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["alerts.stix_id"],
            name=op.f("fk_alert_links_notification_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("advisory_id", "notification_id", name=op.f("pk_alert_links")),
    )
    op.create_table(
        "alert_acks",
        sa.Column("stix_id", sa.String(length=100), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("named", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["stix_id"],
            ["alerts.stix_id"],
            name=op.f("fk_alert_acks_stix_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_alert_acks_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("stix_id", "org_id", name=op.f("pk_alert_acks")),
    )
    op.create_table(
        "alert_channels",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_alert_channels_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_channels")),
    )
    op.create_index("ix_alert_channels_org", "alert_channels", ["org_id"])
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("alert_id", sa.String(length=100), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.stix_id"],
            name=op.f("fk_alert_deliveries_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_alert_deliveries_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["alert_channels.id"],
            name=op.f("fk_alert_deliveries_channel_id_alert_channels"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
    )
    op.create_index("ix_alert_deliveries_due", "alert_deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_alert_deliveries_org", "alert_deliveries", ["org_id", "created_at"])
    op.create_table(
        "alert_delivery_attempts",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["alert_deliveries.id"],
            name=op.f("fk_alert_delivery_attempts_delivery_id_alert_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_delivery_attempts")),
    )
    op.create_index(
        "ix_alert_delivery_attempts_delivery", "alert_delivery_attempts", ["delivery_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_alert_delivery_attempts_delivery", table_name="alert_delivery_attempts")
    op.drop_table("alert_delivery_attempts")
    op.drop_index("ix_alert_deliveries_org", table_name="alert_deliveries")
    op.drop_index("ix_alert_deliveries_due", table_name="alert_deliveries")
    op.drop_table("alert_deliveries")
    op.drop_index("ix_alert_channels_org", table_name="alert_channels")
    op.drop_table("alert_channels")
    op.drop_table("alert_acks")
    op.drop_table("alert_links")
    op.drop_index("ix_alerts_sender", table_name="alerts")
    op.drop_index("ix_alerts_listing", table_name="alerts")
    op.drop_table("alerts")
