"""fact-check desk

A fact-check task may wait without a fact-checker (`fact_check_task.assignee_id` empty) until one takes it
from the desk: the task on a trial piece when the editor chose nobody.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fact_check_task", schema=None) as batch_op:
        batch_op.alter_column("assignee_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # A task still waiting at the desk goes to the editor who created it.
    op.execute("UPDATE fact_check_task SET assignee_id = creator_id WHERE assignee_id IS NULL")
    with op.batch_alter_table("fact_check_task", schema=None) as batch_op:
        batch_op.alter_column("assignee_id", existing_type=sa.Integer(), nullable=False)
