"""Where a person's name or email address is still kept: every text column of every table (found by
inspecting the live database, SQLite or PostgreSQL, so tables added later are scanned too) and every file
under the upload folder."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from app.core.db import Database
from app.settings import Settings

# Columns of these types cannot hold a name or an address.
NOT_TEXT = (sa.Integer, sa.Boolean, sa.DateTime, sa.Date, sa.Float, sa.Numeric)


def _text_columns(connection: Connection) -> list[tuple[str, str]]:
    inspector = sa.inspect(connection)
    found = []
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            if not isinstance(column["type"], NOT_TEXT):
                found.append((table, column["name"]))
    return found


async def traces_in_database(db: Database, needles: list[str]) -> list[str]:
    """`table.column` for every column where some row contains one of `needles` (case-insensitive)."""
    hits = []
    async with db.sessionmaker() as session:
        connection = await session.connection()
        columns = await connection.run_sync(_text_columns)
        assert len(columns) > 50, columns  # the inspection did see the schema
        for table, name in columns:
            text_of = sa.func.lower(sa.cast(sa.column(name), sa.Text))
            for needle in needles:
                count = await session.scalar(
                    sa.select(sa.func.count())
                    .select_from(sa.table(table))
                    .where(text_of.contains(needle.lower(), autoescape=True))
                )
                if count:
                    hits.append(f"{table}.{name} holds {needle!r}")
    return hits


def traces_in_uploads(settings: Settings, needles: list[str]) -> list[str]:
    """Every file under the upload folder whose bytes contain one of `needles` (case-insensitive)."""
    hits = []
    root: Path = settings.uploads_path
    for path in sorted(root.rglob("*")):
        if path.is_file():
            content = path.read_bytes().lower()
            hits += [f"{path} holds {n!r}" for n in needles if n.lower().encode() in content]
    return hits


async def assert_forgotten(db: Database, settings: Settings, *needles: str) -> None:
    """Neither a row nor an uploaded file holds any of `needles`."""
    assert await traces_in_database(db, list(needles)) == []
    assert traces_in_uploads(settings, list(needles)) == []
