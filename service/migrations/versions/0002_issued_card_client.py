"""issued_card.client_iss: the client a card was sent to (feedback only from that client).

Cards issued before this revision have NULL: authenticated feedback on them is refused as
on an unknown card (their client is not known), unauthenticated feedback still works.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("issued_card", sa.Column("client_iss", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("issued_card") as batch:  # SQLite: batch mode drops columns
        batch.drop_column("client_iss")
