"""SQLAlchemy's aiosqlite dialect with one trip to the connection's thread per statement.

aiosqlite runs each call on the connection's own thread and wakes the event loop with its answer. SQLAlchemy's
adapter makes four such calls per statement (open a cursor, execute, fetch the rows, close the cursor); the
cursor here makes one, doing all four in the thread. Results, errors and transactions are those of the stock
dialect (`sqlite+aiosqlite`); `create_engine` in db.py uses this one for SQLite URLs.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util import EMPTY_DICT

DRIVER = "byline_aiosqlite"


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor that opens, executes, fetches and closes the sqlite3 cursor in one call on the thread."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    async def _run(self, call: Any) -> Any:
        sqlite_connection = self._connection._conn

        def in_thread() -> tuple[Any, int, int | None, list[Any] | None]:
            cursor = sqlite_connection.cursor()
            try:
                call(cursor)
                rows = cursor.fetchall() if cursor.description else None
                return cursor.description, cursor.rowcount, cursor.lastrowid, rows
            finally:
                cursor.close()

        async with self._adapt_connection._execute_mutex:
            description, rowcount, lastrowid, rows = await self._connection._execute(in_thread)
        self._description, self._rowcount, self._lastrowid = description, rowcount, lastrowid
        self._rows = collections.deque(rows or ())

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        if parameters is None:
            await self._run(lambda cursor: cursor.execute(operation))
        else:
            await self._run(lambda cursor: cursor.execute(operation, parameters))
        return None

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        await self._run(lambda cursor: cursor.executemany(operation, seq_of_parameters))
        return None

    async def _async_soft_close(self) -> None:
        return None

    def close(self) -> None:
        self._rows.clear()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


class OneTripDialect(SQLiteDialect_aiosqlite):
    driver = DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> AsyncAdapt_aiosqlite_dbapi:
        return OneTripDBAPI(__import__("aiosqlite"), __import__("sqlite3"))


registry.register(f"sqlite.{DRIVER}", __name__, "OneTripDialect")
