"""Full-text search in the queue: names, emails, the letter and pasted samples.

Each application has one `application_search` row holding its searchable text. Migrations index it with FTS5
on SQLite (a table kept in step by triggers, 0003) and on PostgreSQL with a stored, generated `tsvector`
column under a GIN index (0008). A search box's words must all match, the last one also as a prefix; anything
but letters and digits is dropped, so no input can reach either engine's query syntax.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, delete, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models import Applicant, Application, ApplicationSearch, SampleKind, WorkSample

MAX_TERMS = 8
MAX_TERM_LENGTH = 40
_WORD = re.compile(r"[^\W_]+")
# The text search configuration, written into the SQL so PostgreSQL matches it with the index's expression.
_SIMPLE: ColumnElement[Any] = literal_column("'simple'::regconfig")


def terms(query: str) -> list[str]:
    """The words of a search box, lower-cased, at most MAX_TERMS of them."""
    return [word[:MAX_TERM_LENGTH] for word in _WORD.findall(query.lower())][:MAX_TERMS]


def document(*, name: str, email: str, motivation: str, samples: list[tuple[str, str | None]]) -> str:
    """The searchable text of one application; the email also in parts, so `example` finds `a@example.org`."""
    parts = [name, email, " ".join(_WORD.findall(email)), motivation]
    for title, pasted in samples:
        parts.append(title)
        if pasted:
            parts.append(pasted)
    return "\n".join(part for part in parts if part)


def add_document(
    session: AsyncSession,
    application_id: int,
    *,
    name: str,
    email: str,
    motivation: str,
    samples: list[tuple[str, str | None]],
) -> None:
    """Index a new application from what the caller holds (no read back)."""
    session.add(
        ApplicationSearch(
            application_id=application_id,
            document=document(name=name, email=email, motivation=motivation, samples=samples),
        )
    )


async def index_application(session: AsyncSession, application_id: int) -> None:
    """Write (or rewrite) the searchable text of one application from what is stored now."""
    person = (
        await session.execute(
            select(col(Applicant.name), col(Applicant.email), col(Application.motivation))
            .join(Application, col(Application.applicant_id) == col(Applicant.id))
            .where(col(Application.id) == application_id)
        )
    ).one()
    samples = (
        await session.execute(
            select(col(WorkSample.title), col(WorkSample.text), col(WorkSample.kind))
            .where(col(WorkSample.application_id) == application_id)
            .order_by(col(WorkSample.position))
        )
    ).all()
    text_of = [(title, body if kind == SampleKind.text else None) for title, body, kind in samples]
    stale = delete(ApplicationSearch).where(col(ApplicationSearch.application_id) == application_id)
    await session.execute(stale)
    session.add(
        ApplicationSearch(
            application_id=application_id,
            document=document(name=person[0], email=person[1], motivation=person[2], samples=text_of),
        )
    )
    await session.flush()


async def matching_ids(session: AsyncSession, words: list[str], limit: int) -> list[int]:
    """The applications whose text holds every word, newest first, at most `limit`.

    The last word may be the start of a longer one (people type names in part); the others are whole words.
    """
    if session.get_bind().dialect.name == "sqlite":
        fts = " ".join(f'"{word}"' for word in words[:-1]) + f' "{words[-1]}"*'

        found = await session.execute(
            text(
                "SELECT rowid FROM application_search_fts WHERE application_search_fts MATCH :fts "
                "ORDER BY rowid DESC LIMIT :limit"
            ),
            {"fts": fts, "limit": limit},
        )
        return [int(row[0]) for row in found.all()]
    tsquery = " & ".join([*words[:-1], f"{words[-1]}:*"])
    vector: ColumnElement[Any] = literal_column("application_search.search_vector")  # generated (0008)
    rows = await session.scalars(
        select(col(ApplicationSearch.application_id))
        .where(vector.bool_op("@@")(func.to_tsquery(_SIMPLE, tsquery)))
        .order_by(col(ApplicationSearch.application_id).desc())
        .limit(limit)
    )
    return list(rows.all())
