"""personal data erasure

`application.erased_at` marks the tombstone an erasure leaves; `erasure` is the log of erasures (which
application, when, on whose request), with no name or address in it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

# The models' UTC timestamp columns create a timezone-aware DATETIME / TIMESTAMP WITH TIME ZONE; written out
# here so that later changes to the app cannot change this migration.
UTCDateTime = sa.DateTime(timezone=True)

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erasure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure")),
    )
    with op.batch_alter_table("erasure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_erasure_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_erasure_public_id"), ["public_id"], unique=False)
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", UTCDateTime, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
    with op.batch_alter_table("erasure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_erasure_public_id"))
        batch_op.drop_index(batch_op.f("ix_erasure_created_at"))
    op.drop_table("erasure")
