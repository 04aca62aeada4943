"""exercises: runs, released injects, acknowledgements

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-11 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exercise_runs",
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("scenario", sa.Text(), nullable=False),
        sa.Column("collection_pk", sa.Integer(), nullable=False),
        sa.Column("planner_org_id", sa.Integer(), nullable=False),
        sa.Column("speed", sa.Float(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_pk"],
            ["collections.id"],
            name=op.f("fk_exercise_runs_collection_pk_collections"),
        ),
        sa.ForeignKeyConstraint(
            ["planner_org_id"],
            ["organisations.id"],
            name=op.f("fk_exercise_runs_planner_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_exercise_runs")),
    )
    op.create_table(
        "exercise_releases",
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("inject_id", sa.String(length=64), nullable=False),
        sa.Column("released_at", sa.BigInteger(), nullable=False),
        sa.Column("object_ids", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["exercise_runs.run_id"],
            name=op.f("fk_exercise_releases_run_id_exercise_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "inject_id", name=op.f("pk_exercise_releases")),
    )
    op.create_table(
        "exercise_acks",
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("inject_id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["exercise_runs.run_id"],
            name=op.f("fk_exercise_acks_run_id_exercise_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_exercise_acks_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("run_id", "inject_id", "org_id", name=op.f("pk_exercise_acks")),
    )


def downgrade() -> None:
    op.drop_table("exercise_acks")
    op.drop_table("exercise_releases")
    op.drop_table("exercise_runs")
