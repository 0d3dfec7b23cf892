"""snooze.client_iss: snoozes are per client and patient (EHRs sharing a deployment may
use the same patient id for different people); the lookup index includes it.

Snoozes made before this revision have NULL, so they keep hiding cards only from
unauthenticated calls; they expire within BACKPAIN_CDS_SNOOZE_DAYS anyway.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_snooze_lookup", table_name="snooze")
    op.add_column("snooze", sa.Column("client_iss", sa.String(500), nullable=True))
    op.create_index("ix_snooze_lookup", "snooze",
                    ["patient_hash", "client_iss", "topic", "expires_at"])


def downgrade() -> None:
    op.drop_index("ix_snooze_lookup", table_name="snooze")
    with op.batch_alter_table("snooze") as batch:  # SQLite: batch mode drops columns
        batch.drop_column("client_iss")
    op.create_index("ix_snooze_lookup", "snooze", ["patient_hash", "topic", "expires_at"])
