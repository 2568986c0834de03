"""Reference data many pages read and few requests change (departments, topics, labels, staff) kept in memory.

A `Cached` value is read from the database once and served from memory until one of two things happens:

- a statement of this process writes one of the tables it depends on (any engine, ORM or Core, raw SQL too):
  the value is read again on next use. A write counts twice, when it runs and when its transaction ends, so a
  request that read the tables between the two never keeps what was there before the commit;
- `MAX_AGE` seconds have passed: the bound on staleness for writes made by another process (a second web
  worker, `byline` commands), which this process cannot see.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
MAX_AGE = 5.0
_WRITE = re.compile(r"\s*(insert|update|delete|truncate|alter|drop|create|replace)\b", re.IGNORECASE)
_DIRTY = "byline_reference_written"

# Bumped by every write to a watched table; a value read before a bump is read again.
_generation = 0
_watched: set[str] = set()
_pattern: re.Pattern[str] | None = None


def _bump() -> None:
    global _generation
    _generation += 1


def _after_execute(conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
    if _pattern is None or not _WRITE.match(statement) or not _pattern.search(statement):
        return
    conn.info[_DIRTY] = True
    _bump()


def _transaction_ended(conn: Connection) -> None:
    if conn.info.pop(_DIRTY, False):
        _bump()


def watch(*tables: str) -> None:
    """Count writes to `tables` (names as in SQL) as changes of the reference data."""
    global _pattern
    if not _watched:
        event.listen(Engine, "after_cursor_execute", _after_execute)
        event.listen(Engine, "commit", _transaction_ended)
        event.listen(Engine, "rollback", _transaction_ended)
    _watched.update(tables)
    names = "|".join(sorted(re.escape(table) for table in _watched))
    _pattern = re.compile(rf'(?<![\w."])"?(?:{names})"?(?![\w])', re.IGNORECASE)


class Cached(Generic[T]):
    """A value read by `load(session, key)` and kept per database and key (a language, say)."""

    def __init__(self, load: Callable[[AsyncSession, Any], Awaitable[T]], *tables: str) -> None:
        self._load = load
        self._kept: dict[Hashable, tuple[int, float, T]] = {}
        watch(*tables)

    async def get(self, session: AsyncSession, key: Hashable = None) -> T:
        slot = (session.get_bind().engine.url, key)
        kept = self._kept.get(slot)
        now = time.monotonic()
        if kept is not None and kept[0] == _generation and now - kept[1] < MAX_AGE:
            return kept[2]
        generation = _generation
        value = await self._load(session, key)
        self._kept[slot] = (generation, now, value)
        return value

    def clear(self) -> None:
        self._kept.clear()
