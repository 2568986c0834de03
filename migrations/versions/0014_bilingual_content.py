"""bilingual content

`department.name_ru` and `topic.name_ru`: the Russian names beside the English `name` (empty: not yet
translated). The default departments and topics get their Russian names; the call text and the consent text
keep their English `site_setting` rows and gain `_ru` rows only when an admin saves one.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 05:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUSSIAN_NAMES = {
    "department": {"news": "Новости", "analysis": "Аналитика"},
    "topic": {
        "politics": "Политика",
        "economics": "Экономика",
        "international": "Международные отношения",
        "business": "Бизнес и рынки",
        "society": "Общество",
    },
}


def upgrade() -> None:
    with op.batch_alter_table("department") as batch_op:
        batch_op.add_column(sa.Column("name_ru", sa.String(length=80), nullable=False, server_default=""))
    with op.batch_alter_table("topic") as batch_op:
        batch_op.add_column(sa.Column("name_ru", sa.String(length=80), nullable=False, server_default=""))
    for table_name, names in RUSSIAN_NAMES.items():
        table = sa.table(table_name, sa.column("slug", sa.String), sa.column("name_ru", sa.String))
        for slug, name in names.items():
            op.execute(table.update().where(table.c.slug == slug).values(name_ru=name))


def downgrade() -> None:
    with op.batch_alter_table("topic") as batch_op:
        batch_op.drop_column("name_ru")
    with op.batch_alter_table("department") as batch_op:
        batch_op.drop_column("name_ru")
