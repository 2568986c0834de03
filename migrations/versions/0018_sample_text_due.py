"""sample text due

`work_sample.text_due_at`: a PDF sent with the form is kept on its first bytes, and its words are counted and
its text read afterwards by a reader (app/applications/reading.py); the column says from when a reader may
take it, and is empty once read. A partial index finds the few that wait.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = "text_due_at IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("work_sample", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_work_sample_text_due_at",
            ["text_due_at"],
            unique=False,
            sqlite_where=sa.text(WAITING),
            postgresql_where=sa.text(WAITING),
        )


def downgrade() -> None:
    with op.batch_alter_table("work_sample", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_work_sample_text_due_at", sqlite_where=sa.text(WAITING), postgresql_where=sa.text(WAITING)
        )
        batch_op.drop_column("text_due_at")
