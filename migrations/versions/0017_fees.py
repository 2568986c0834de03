"""fees

`invitation.is_finance`: an invitation can give the finance role (trial fees). `webhook.events`: the events a
webhook is told of (empty: every event, as before).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 17:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_finance", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("webhook", schema=None) as batch_op:
        batch_op.add_column(sa.Column("events", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("webhook", schema=None) as batch_op:
        batch_op.drop_column("events")
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_column("is_finance")
