"""trial assignments

A trial offered to an applicant (`trial`: the brief, its deadline and fee terms), their piece (`trial_piece`, a
draft until the final send), the editors' rubric for it (`trial_score`), the fee of an accepted piece and who
moved it through each status (`trial_fee`), fingerprints of stored texts for near-duplicate search
(`text_print`), a fact-check task's trial piece, and the finance role.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 14:31:01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trial",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("sources", sa.Text(), nullable=False),
        sa.Column("style_notes", sa.Text(), nullable=False),
        sa.Column("min_words", sa.Integer(), nullable=False),
        sa.Column("max_words", sa.Integer(), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_firm", sa.Boolean(), nullable=False),
        sa.Column("fee_kind", sa.String(length=16), nullable=False),
        sa.Column("fee_amount_minor", sa.Integer(), nullable=True),
        sa.Column("fee_cap_minor", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("fact_checker_id", sa.Integer(), nullable=True),
        sa.Column("offered_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("declined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_trial_application_id_application"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["fact_checker_id"],
            ["staff_user.id"],
            name=op.f("fk_trial_fact_checker_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["offered_by_id"],
            ["staff_user.id"],
            name=op.f("fk_trial_offered_by_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trial")),
    )
    with op.batch_alter_table("trial", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trial_application_id"), ["application_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_trial_deadline_at"), ["deadline_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_trial_state"), ["state"], unique=False)

    op.create_table(
        "trial_fee",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("agreed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agreed_by_id", sa.Integer(), nullable=True),
        sa.Column("invoiced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("invoiced_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreed_by_id"],
            ["staff_user.id"],
            name=op.f("fk_trial_fee_agreed_by_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["staff_user.id"],
            name=op.f("fk_trial_fee_approved_by_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["invoiced_by_id"],
            ["staff_user.id"],
            name=op.f("fk_trial_fee_invoiced_by_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["paid_by_id"],
            ["staff_user.id"],
            name=op.f("fk_trial_fee_paid_by_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trial.id"], name=op.f("fk_trial_fee_trial_id_trial"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trial_fee")),
        sa.UniqueConstraint("trial_id", name=op.f("uq_trial_fee_trial_id")),
    )
    with op.batch_alter_table("trial_fee", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trial_fee_agreed_at"), ["agreed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_trial_fee_status"), ["status"], unique=False)

    op.create_table(
        "trial_piece",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("storage_key", sa.String(length=80), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("detected_type", sa.String(length=10), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("word_count", sa.Integer(), nullable=True),
        sa.Column("extracted_text", sa.Text(), nullable=True),
        sa.Column("is_final", sa.Boolean(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_trial_piece_application_id_application"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trial.id"], name=op.f("fk_trial_piece_trial_id_trial"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trial_piece")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_trial_piece_storage_key")),
        sa.UniqueConstraint("trial_id", name=op.f("uq_trial_piece_trial_id")),
    )
    with op.batch_alter_table("trial_piece", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trial_piece_application_id"), ["application_id"], unique=False)

    op.create_table(
        "trial_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("fact_accuracy", sa.Integer(), nullable=False),
        sa.Column("analysis", sa.Integer(), nullable=False),
        sa.Column("concision", sa.Integer(), nullable=False),
        sa.Column("interest", sa.Integer(), nullable=False),
        sa.Column("brief_fit", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trial.id"], name=op.f("fk_trial_score_trial_id_trial"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_user.id"], name=op.f("fk_trial_score_user_id_staff_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trial_score")),
        sa.UniqueConstraint("trial_id", "user_id", name=op.f("uq_trial_score_trial_id_user_id")),
    )
    with op.batch_alter_table("trial_score", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trial_score_trial_id"), ["trial_id"], unique=False)

    op.create_table(
        "text_print",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hash", sa.BigInteger(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Integer(), nullable=True),
        sa.Column("piece_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_text_print_application_id_application"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["piece_id"],
            ["trial_piece.id"],
            name=op.f("fk_text_print_piece_id_trial_piece"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sample_id"],
            ["work_sample.id"],
            name=op.f("fk_text_print_sample_id_work_sample"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_print")),
    )
    with op.batch_alter_table("text_print", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_text_print_application_id"), ["application_id"], unique=False)
        batch_op.create_index("ix_text_print_hash", ["hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_text_print_piece_id"), ["piece_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_text_print_sample_id"), ["sample_id"], unique=False)

    with op.batch_alter_table("fact_check_task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trial_piece_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_fact_check_task_trial_piece_id_trial_piece"),
            "trial_piece",
            ["trial_piece_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_finance", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.drop_column("is_finance")

    with op.batch_alter_table("fact_check_task", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_fact_check_task_trial_piece_id_trial_piece"), type_="foreignkey"
        )
        batch_op.drop_column("trial_piece_id")

    with op.batch_alter_table("text_print", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_text_print_sample_id"))
        batch_op.drop_index(batch_op.f("ix_text_print_piece_id"))
        batch_op.drop_index("ix_text_print_hash")
        batch_op.drop_index(batch_op.f("ix_text_print_application_id"))

    op.drop_table("text_print")
    with op.batch_alter_table("trial_score", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trial_score_trial_id"))

    op.drop_table("trial_score")
    with op.batch_alter_table("trial_piece", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trial_piece_application_id"))

    op.drop_table("trial_piece")
    with op.batch_alter_table("trial_fee", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trial_fee_status"))
        batch_op.drop_index(batch_op.f("ix_trial_fee_agreed_at"))

    op.drop_table("trial_fee")
    with op.batch_alter_table("trial", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trial_state"))
        batch_op.drop_index(batch_op.f("ix_trial_deadline_at"))
        batch_op.drop_index(batch_op.f("ix_trial_application_id"))

    op.drop_table("trial")
