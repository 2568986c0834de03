"""Full-text search in the queue: names, emails, the letter and pasted samples.

Each application has one `application_search` row holding its searchable text. Migrations index it with FTS5
on SQLite (a table kept in step by triggers, 0003) and on PostgreSQL with a stored, generated `tsvector`
column under a GIN index (0008). A search box's words must all match, the last one also as a prefix; anything
but letters and digits is dropped, so no input can reach either engine's query syntax.

A word also matches other forms of itself (a Russian noun in any case, `writer` finds `writers`), and the
letter yo is read as ie. PostgreSQL's vector holds each word as it is and as the `russian` configuration
stems it (0012); SQLite has no stemmer of its own, so the row's `words` column holds the words and their
Snowball stems, computed here with the same stemmers, and the FTS5 table indexes that column (0012).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import Stemmer
from sqlalchemy import ColumnElement, delete, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models import Applicant, Application, ApplicationSearch, SampleKind, WorkSample

MAX_TERMS = 8
MAX_TERM_LENGTH = 40
_WORD = re.compile(r"[^\W_]+")
# The text search configuration, written into the SQL so PostgreSQL matches it with the index's expression.
_SIMPLE: ColumnElement[Any] = literal_column("'simple'::regconfig")
_RUSSIAN: ColumnElement[Any] = literal_column("'russian'::regconfig")


def fold(text: str) -> str:
    """Lower case with yo as ie, as both databases index the text."""
    return text.lower().replace("ё", "е")


def terms(query: str) -> list[str]:
    """The words of a search box, folded, at most MAX_TERMS of them."""
    return [word[:MAX_TERM_LENGTH] for word in _WORD.findall(fold(query))][:MAX_TERMS]


@lru_cache(maxsize=2)
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(language)


def stem(word: str) -> str:
    """A folded word's stem, chosen as PostgreSQL's `russian` configuration does: English for ASCII words,
    Russian for other words, none for words with digits."""
    if not word.isalpha():
        return word
    return str(_stemmer("english" if word.isascii() else "russian").stemWord(word))


def index_words(text: str) -> str:
    """Each distinct folded word of a document and, where it differs, its stem (SQLite's index reads this)."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(fold(text)):
        seen[word] = None
        seen[stem(word)] = None
    return " ".join(seen)


def search_row(session: AsyncSession, application_id: int, text: str) -> ApplicationSearch:
    """The search row of one application; the stems only where SQLite needs them."""
    stems = index_words(text) if session.get_bind().dialect.name == "sqlite" else ""
    return ApplicationSearch(application_id=application_id, document=text, words=stems)


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
    body = document(name=name, email=email, motivation=motivation, samples=samples)
    session.add(search_row(session, application_id, body))


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
    text_of = [(title, pasted if kind == SampleKind.text else None) for title, pasted, kind in samples]
    stale = delete(ApplicationSearch).where(col(ApplicationSearch.application_id) == application_id)
    await session.execute(stale)
    body = document(name=person[0], email=person[1], motivation=person[2], samples=text_of)
    session.add(search_row(session, application_id, body))
    await session.flush()


async def matching_ids(session: AsyncSession, words: list[str], limit: int) -> list[int]:
    """The applications whose text holds every word, newest first, at most `limit`.

    Each word matches as typed or by its stem; the last may also be the start of a longer word (people type
    names in part).
    """
    if session.get_bind().dialect.name == "sqlite":
        alternatives = [f'"{word}"' for word in words[:-1]] + [f'"{words[-1]}"*']
        fts = " AND ".join(
            f'({typed} OR "{stem(word)}")' for typed, word in zip(alternatives, words, strict=True)
        )
        found = await session.execute(
            text(
                "SELECT rowid FROM application_search_fts WHERE application_search_fts MATCH :fts "
                "ORDER BY rowid DESC LIMIT :limit"
            ),
            {"fts": fts, "limit": limit},
        )
        return [int(row[0]) for row in found.all()]
    typed = [*words[:-1], f"{words[-1]}:*"]
    each = [
        func.to_tsquery(_SIMPLE, as_typed).op("||")(func.to_tsquery(_RUSSIAN, word)).self_group()
        for as_typed, word in zip(typed, words, strict=True)
    ]
    tsquery = each[0]
    for more in each[1:]:
        tsquery = tsquery.op("&&")(more).self_group()
    vector: ColumnElement[Any] = literal_column("application_search.search_vector")  # generated (0012)
    rows = await session.scalars(
        select(col(ApplicationSearch.application_id))
        .where(vector.bool_op("@@")(tsquery))
        .order_by(col(ApplicationSearch.application_id).desc())
        .limit(limit)
    )
    return list(rows.all())
