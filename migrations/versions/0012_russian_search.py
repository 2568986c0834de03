"""russian search

The queue's search finds other forms of a word (a Russian noun in any case) and reads the letter yo as ie.
On PostgreSQL the stored `search_vector` holds each word as it is (`simple`) and as the `russian`
configuration stems it, with yo folded to ie first. SQLite has no stemmer: `application_search.words` holds each folded word and its
Snowball stem, written by the application, and the FTS5 table indexes that column instead of the document.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 05:30:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
import Stemmer
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VECTOR = (
    "to_tsvector('simple'::regconfig, translate(document, 'Ёё', 'Ее')) || "
    "to_tsvector('russian'::regconfig, translate(document, 'Ёё', 'Ее'))"
)
OLD_VECTOR = "to_tsvector('simple'::regconfig, document)"
BATCH = 2000
_WORD = re.compile(r"[^\W_]+")


def _fts(column: str) -> dict[str, str]:
    """The FTS5 table over `column` of application_search and the triggers that keep it in step."""
    return {
        "table": (
            f"CREATE VIRTUAL TABLE application_search_fts USING fts5({column}, content='application_search', "
            "content_rowid='application_id', tokenize='unicode61 remove_diacritics 2')"
        ),
        "application_search_ai": f"""AFTER INSERT ON application_search BEGIN
            INSERT INTO application_search_fts(rowid, {column}) VALUES (new.application_id, new.{column});
        END""",
        "application_search_ad": f"""AFTER DELETE ON application_search BEGIN
            INSERT INTO application_search_fts(application_search_fts, rowid, {column})
            VALUES ('delete', old.application_id, old.{column});
        END""",
        "application_search_au": f"""AFTER UPDATE ON application_search BEGIN
            INSERT INTO application_search_fts(application_search_fts, rowid, {column})
            VALUES ('delete', old.application_id, old.{column});
            INSERT INTO application_search_fts(rowid, {column}) VALUES (new.application_id, new.{column});
        END""",
    }


def _rebuild_fts(column: str) -> None:
    """Drop SQLite's FTS5 table and triggers, and build them anew over `column`."""
    built = _fts(column)
    for name in built:
        if name != "table":
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS application_search_fts")
    op.execute(built["table"])
    for name, body in built.items():
        if name != "table":
            op.execute(f"CREATE TRIGGER {name} {body}")
    op.execute("INSERT INTO application_search_fts(application_search_fts) VALUES ('rebuild')")


def _stem(word: str, stemmers: dict[str, Stemmer.Stemmer]) -> str:
    if not word.isalpha():
        return word
    return str(stemmers["english" if word.isascii() else "russian"].stemWord(word))


def _words(text: str, stemmers: dict[str, Stemmer.Stemmer]) -> str:
    """Each distinct word, lower-cased with yo as ie, and its stem."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower().replace("ё", "е")):
        seen[word] = None
        seen[_stem(word, stemmers)] = None
    return " ".join(seen)


def _backfill_words() -> None:
    """The words and stems of the applications already indexed, a batch at a time."""
    bind = op.get_bind()
    stemmers = {language: Stemmer.Stemmer(language) for language in ("english", "russian")}
    after = 0
    while True:
        batch = bind.execute(
            sa.text(
                "SELECT application_id, document FROM application_search WHERE application_id > :after "
                "ORDER BY application_id LIMIT :size"
            ),
            {"after": after, "size": BATCH},
        ).all()
        if not batch:
            return
        bind.execute(
            sa.text("UPDATE application_search SET words = :words WHERE application_id = :id"),
            [{"id": app_id, "words": _words(document, stemmers)} for app_id, document in batch],
        )
        after = batch[-1][0]


def upgrade() -> None:
    op.add_column("application_search", sa.Column("words", sa.Text(), server_default="", nullable=False))
    if op.get_bind().dialect.name == "sqlite":
        for name in _fts("words"):
            if name != "table":
                op.execute(f"DROP TRIGGER IF EXISTS {name}")  # no FTS work for each backfilled row
        _backfill_words()
        _rebuild_fts("words")
        return
    op.execute("ALTER TABLE application_search DROP COLUMN IF EXISTS search_vector")  # drops its index
    op.execute(
        f"ALTER TABLE application_search ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({VECTOR}) STORED"
    )
    op.execute("CREATE INDEX ix_application_search_vector ON application_search USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("application_search") as batch_op:
            batch_op.drop_column("words")  # recreates the table, so the triggers are built after it
        _rebuild_fts("document")
        return
    op.execute("ALTER TABLE application_search DROP COLUMN IF EXISTS search_vector")
    op.execute(
        f"ALTER TABLE application_search ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({OLD_VECTOR}) STORED"
    )
    op.execute("CREATE INDEX ix_application_search_vector ON application_search USING gin (search_vector)")
    op.drop_column("application_search", "words")
