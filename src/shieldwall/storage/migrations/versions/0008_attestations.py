"""security attestations: templates, attestations, evidence, requests, grants, reminders

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:00:00

Stores the default questionnaire (``domain.attestations.DEFAULT_TEMPLATE``, version 1).
Template versions are immutable: a changed default is a new version in a new migration.
"""

from __future__ import annotations

import time

import orjson
import sqlalchemy as sa
from alembic import op

from shieldwall.domain.attestations import DEFAULT_TEMPLATE

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _fk(
    table: str, column: str, target: str, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    referred = target.split(".")[0]
    return sa.ForeignKeyConstraint(
        [column],
        [target],
        name=op.f(f"fk_{table}_{column}_{referred}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    templates = op.create_table(
        "attest_templates",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("questions", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        _fk("attest_templates", "created_by", "organisations.id"),
        sa.PrimaryKeyConstraint("name", "version", name=op.f("pk_attest_templates")),
    )
    op.create_table(
        "attestations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("firm_org_id", sa.Integer(), nullable=False),
        sa.Column("template_name", sa.String(length=100), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.BigInteger(), nullable=False),
        sa.Column("valid_until", sa.BigInteger(), nullable=False),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("signer_title", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("published_at", sa.BigInteger(), nullable=True),
        _fk("attestations", "firm_org_id", "organisations.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attestations")),
        sa.UniqueConstraint(
            "firm_org_id", "template_name", "version", name=op.f("uq_attestations_version")
        ),
    )
    op.create_index("ix_attestations_status", "attestations", ["status", "valid_until"])
    op.create_table(
        "attest_evidence",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("attestation_id", sa.String(length=36), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", sa.BigInteger(), nullable=False),
        _fk("attest_evidence", "attestation_id", "attestations.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attest_evidence")),
    )
    op.create_index("ix_attest_evidence_attestation", "attest_evidence", ["attestation_id"])
    op.create_table(
        "attest_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("requester_org_id", sa.Integer(), nullable=False),
        sa.Column("firm_org_id", sa.Integer(), nullable=False),
        sa.Column("template_name", sa.String(length=100), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("responded_at", sa.BigInteger(), nullable=True),
        _fk("attest_requests", "requester_org_id", "organisations.id"),
        _fk("attest_requests", "firm_org_id", "organisations.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attest_requests")),
    )
    op.create_index("ix_attest_requests_firm", "attest_requests", ["firm_org_id", "created_at"])
    op.create_index(
        "ix_attest_requests_requester", "attest_requests", ["requester_org_id", "created_at"]
    )
    op.create_table(
        "attest_grants",
        sa.Column("firm_org_id", sa.Integer(), nullable=False),
        sa.Column("grantee_org_id", sa.Integer(), nullable=False),
        sa.Column("template_name", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=True),
        sa.Column("granted_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("last_viewed_version", sa.Integer(), nullable=True),
        _fk("attest_grants", "firm_org_id", "organisations.id"),
        _fk("attest_grants", "grantee_org_id", "organisations.id"),
        sa.PrimaryKeyConstraint(
            "firm_org_id", "grantee_org_id", "template_name", name=op.f("pk_attest_grants")
        ),
    )
    op.create_table(
        "attest_reminders",
        sa.Column("attestation_id", sa.String(length=36), nullable=False),
        sa.Column("threshold_days", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        _fk("attest_reminders", "attestation_id", "attestations.id", "CASCADE"),
        sa.PrimaryKeyConstraint(
            "attestation_id", "threshold_days", name=op.f("pk_attest_reminders")
        ),
    )
    op.bulk_insert(
        templates,
        [
            {
                "name": DEFAULT_TEMPLATE.name,
                "version": DEFAULT_TEMPLATE.version,
                "title": DEFAULT_TEMPLATE.title,
                "questions": orjson.dumps(
                    [q.to_json() for q in DEFAULT_TEMPLATE.questions]
                ).decode(),
                "created_by": None,
                "created_at": time.time_ns() // 1000,
            }
        ],
    )


def downgrade() -> None:
    op.drop_table("attest_reminders")
    op.drop_table("attest_grants")
    op.drop_index("ix_attest_requests_requester", table_name="attest_requests")
    op.drop_index("ix_attest_requests_firm", table_name="attest_requests")
    op.drop_table("attest_requests")
    op.drop_index("ix_attest_evidence_attestation", table_name="attest_evidence")
    op.drop_table("attest_evidence")
    op.drop_index("ix_attestations_status", table_name="attestations")
    op.drop_table("attestations")
    op.drop_table("attest_templates")
