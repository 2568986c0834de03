"""Fixed-window rate limits kept in the database, so every web process shares the counters."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.errors import RateLimited
from app.models import RateLimitCounter
from app.settings import Settings


def bucket_key(settings: Settings, kind: str, value: str) -> str:
    """A counter key that does not hold the address or email it counts (keyed hash)."""
    secret = settings.secret_key.get_secret_value().encode()
    digest = hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:40]
    return f"{kind}:{digest}"


async def hit(
    session: AsyncSession, *, key: str, limit: int, window_seconds: int, now: datetime, message: str
) -> int:
    """Count one hit on `key`; raise RateLimited once the window holds more than `limit`."""
    epoch = int(now.timestamp())
    window_start = epoch - epoch % window_seconds
    table = RateLimitCounter.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(table)
        .values(key=key, window_start=window_start, count=1)
        .on_conflict_do_update(
            index_elements=[table.c.key, table.c.window_start], set_={"count": table.c.count + 1}
        )
        .returning(table.c.count)
    )
    count = int((await session.execute(stmt)).scalar_one())
    if count > limit:
        raise RateLimited(message, retry_after=window_start + window_seconds - epoch)
    return count


@cache
def _hit_statement(dialect: str) -> Any:
    """One hit's upsert, run for several keys at once (a statement of bound values compiles once)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = RateLimitCounter.__table__  # type: ignore[attr-defined]
    return (
        insert(table)
        .values(key=bindparam("key"), window_start=bindparam("window_start"), count=1)
        .on_conflict_do_update(
            index_elements=[table.c.key, table.c.window_start], set_={"count": table.c.count + 1}
        )
        .returning(table.c.key, table.c.count)
    )


async def hit_all(
    session: AsyncSession, hits: list[tuple[str, int, int]], *, now: datetime, message: str
) -> None:
    """Count one hit on each (key, limit, window_seconds) in one statement; raise RateLimited for the first
    one whose window then holds more than its limit."""
    epoch = int(now.timestamp())
    starts = {key: epoch - epoch % window for key, _limit, window in hits}
    rows = [{"key": key, "window_start": starts[key]} for key, _, _ in hits]
    counts = dict((await session.execute(_hit_statement(session.get_bind().dialect.name), rows)).all())
    for key, limit, window in hits:
        if int(counts[key]) > limit:
            raise RateLimited(message, retry_after=starts[key] + window - epoch)


async def peek(session: AsyncSession, *, key: str, window_seconds: int, now: datetime) -> tuple[int, int]:
    """The hits counted on `key` in the current window, and the seconds until the window ends."""
    epoch = int(now.timestamp())
    window_start = epoch - epoch % window_seconds
    row = await session.get(RateLimitCounter, (key, window_start))
    return (row.count if row else 0), window_start + window_seconds - epoch


async def drop_windows_before(session: AsyncSession, *, before: datetime) -> int:
    """Drop the counters of windows that started before `before`; returns how many."""
    result = await session.execute(
        delete(RateLimitCounter).where(col(RateLimitCounter.window_start) < int(before.timestamp()))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
