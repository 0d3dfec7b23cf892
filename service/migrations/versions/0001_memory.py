"""The memory: replay cache, issued cards, feedback, snoozes, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "seen_jti",
        sa.Column("jti", sa.Text(), primary_key=True),
        sa.Column("expires_at", UTC_TIME, nullable=False),
    )
    op.create_index("ix_seen_jti_expires_at", "seen_jti", ["expires_at"])

    op.create_table(
        "issued_card",
        sa.Column("card_uuid", sa.String(64), primary_key=True),
        sa.Column("service_id", sa.String(100), nullable=False),
        sa.Column("hook", sa.String(100), nullable=False),
        sa.Column("hook_instance", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(100), nullable=False),
        sa.Column("rule_id", sa.String(100), nullable=False),
        sa.Column("rule_version", sa.String(50), nullable=False),
        sa.Column("indicator", sa.String(20), nullable=False),
        sa.Column("issued_at", UTC_TIME, nullable=False),
        sa.Column("patient_hash", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.JSON(), nullable=False),
        sa.Column("suggestion_uuids", sa.JSON(), nullable=False),
    )
    op.create_index("ix_issued_card_issued_at", "issued_card", ["issued_at"])

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("card_uuid", sa.String(64), sa.ForeignKey("issued_card.card_uuid"),
                  nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("outcome_timestamp", UTC_TIME, nullable=False),
        sa.Column("reason_key", sa.String(600), nullable=False),
        sa.Column("reason_system", sa.String(300), nullable=True),
        sa.Column("reason_code", sa.String(100), nullable=True),
        sa.Column("has_comment", sa.Boolean(), nullable=False),
        sa.Column("accepted_suggestions", sa.JSON(), nullable=False),
        sa.Column("received_at", UTC_TIME, nullable=False),
        sa.UniqueConstraint("card_uuid", "outcome", "outcome_timestamp", "reason_key",
                            name="uq_feedback_once"),
    )
    op.create_index("ix_feedback_card_uuid", "feedback", ["card_uuid"])
    op.create_index("ix_feedback_received_at", "feedback", ["received_at"])

    op.create_table(
        "snooze",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("feedback_id", sa.Integer(), sa.ForeignKey("feedback.id"), nullable=False,
                  unique=True),
        sa.Column("card_uuid", sa.String(64), sa.ForeignKey("issued_card.card_uuid"),
                  nullable=False),
        sa.Column("patient_hash", sa.String(64), nullable=False),
        sa.Column("topic", sa.String(100), nullable=False),
        sa.Column("reason_code", sa.String(100), nullable=False),
        sa.Column("fingerprint", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
    )
    op.create_index("ix_snooze_lookup", "snooze", ["patient_hash", "topic", "expires_at"])

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("received_at", UTC_TIME, nullable=False),
        sa.Column("service_id", sa.String(100), nullable=False),
        sa.Column("hook", sa.String(100), nullable=False),
        sa.Column("hook_instance", sa.String(200), nullable=False),
        sa.Column("client_iss", sa.String(500), nullable=True),
        sa.Column("patient_hash", sa.String(64), nullable=False),
        sa.Column("cards", sa.JSON(), nullable=False),
        sa.Column("suppressed", sa.JSON(), nullable=False),
        sa.Column("quality", sa.JSON(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
    )
    op.create_index("ix_audit_event_received_at", "audit_event", ["received_at"])


def downgrade() -> None:
    op.drop_table("audit_event")
    op.drop_table("snooze")
    op.drop_table("feedback")
    op.drop_table("issued_card")
    op.drop_table("seen_jti")
