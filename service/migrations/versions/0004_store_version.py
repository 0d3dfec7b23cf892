"""store_version: a counter per shared table (``snooze``) that every replica reads on the
hook path to know whether its in-memory copy of the active snoozes is still current.

The counter starts absent (version 0); the first snooze creates it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "store_version",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("store_version")
