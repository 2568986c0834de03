"""stored search vector on PostgreSQL

PostgreSQL's full-text search reads a stored `tsvector` column (generated from the document) through a GIN
index, instead of an index on the expression: a search no longer recomputes the vector of every row it checks,
which made searches on common prefixes take a second at a million applications. SQLite keeps its FTS5 table.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 08:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE application_search ADD COLUMN IF NOT EXISTS search_vector tsvector "
        "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, document)) STORED"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_application_search_vector ON application_search USING gin (search_vector)"
    )
    op.execute("DROP INDEX IF EXISTS ix_application_search_fts")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_application_search_fts ON application_search "
        "USING gin (to_tsvector('simple'::regconfig, document))"
    )
    op.execute("DROP INDEX IF EXISTS ix_application_search_vector")
    op.execute("ALTER TABLE application_search DROP COLUMN IF EXISTS search_vector")
