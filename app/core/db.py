"""The database layer: engine, session factory, SQLite pragmas, the metadata naming convention, and files
that follow a transaction (kept or deleted with the rows that point at them)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from litestar.types import Message, Scope
from sqlalchemy import Select, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

from app.core import sqlite_driver
from app.settings import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

# Carried by the writer view of the engine, so that SQLite takes the write lock at BEGIN (and waits on
# busy_timeout) instead of failing when a transaction that has read tries to write.
WRITE_OPTION = "byline_write"
SESSION_STATE_KEY = "byline_db_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def create_engine(settings: Settings, *, pool: bool = True) -> AsyncEngine:
    """Build the async engine for the configured database."""
    # hide_parameters: a failed statement's error and log line never carry the values (names, addresses).
    kwargs: dict[str, Any] = {"pool_pre_ping": not settings.is_sqlite, "hide_parameters": True}
    if not pool or settings.db_pool_size == 0:
        kwargs["poolclass"] = NullPool
    elif not settings.is_sqlite:
        kwargs.update(pool_size=settings.db_pool_size, max_overflow=settings.db_pool_size)
    else:
        kwargs.update(pool_size=settings.db_pool_size, max_overflow=0, pool_timeout=60)
    if settings.is_sqlite:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": settings.sqlite_busy_timeout_ms / 1000}
    url = make_url(settings.db_url)
    if url.drivername == "sqlite+aiosqlite":
        url = url.set(drivername=f"sqlite+{sqlite_driver.DRIVER}")
    engine = create_async_engine(url, **kwargs)
    if settings.is_sqlite:
        _configure_sqlite(engine, settings.sqlite_busy_timeout_ms)
    return engine


def unless_taken(picked: Select[Any], session: AsyncSession) -> Select[Any]:
    """Rows to claim, passing over those another worker is claiming at the same moment on PostgreSQL (SKIP
    LOCKED); SQLite lets one writer in at a time, so there is nothing to pass over."""
    if session.get_bind().dialect.name == "postgresql":
        return picked.with_for_update(skip_locked=True)
    return picked


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so that BEGIN is ours to emit (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# --- files that follow the transaction ------------------------------------------------------------------
#
# An upload is written to disk before the rows that point at it, and an erasure deletes rows whose files must
# go too. Both are registered on the session: `delete_on_rollback` for new files (kept when the transaction
# commits, deleted when it rolls back or the session closes without committing), `delete_after_commit` for
# files of deleted rows (deleted once the transaction commits, kept when it rolls back). The events below keep
# the books on the synchronous session; `AppSession` deletes what is due in a worker thread after its commit,
# rollback or close, so the event loop never waits on the disk.

_NEW = "byline.files.new"  # [Path]: settled by the outermost transaction
_ERASED = "byline.files.erased"  # {SessionTransaction: [Path]}: settled by the (sub)transaction they were in
_COMMITTED = "byline.files.committed"  # the transaction whose commit is under way
_DUE = "byline.files.due"  # [Path]: to delete now


class _FileSession(Session):
    """The synchronous side of `AppSession`; the file events listen on this class only."""


def _innermost(session: Session) -> SessionTransaction:
    return session.get_nested_transaction() or session.get_transaction() or session.begin()


def _enclosing(transaction: SessionTransaction) -> SessionTransaction:
    """The savepoint or outermost transaction that a savepoint's outcome passes to."""
    parent = transaction.parent
    assert parent is not None
    while parent.parent is not None and not parent.nested:
        parent = parent.parent
    return parent


@event.listens_for(_FileSession, "after_commit")
def _on_commit(session: Session) -> None:
    # Called for the outermost transaction and for each savepoint released; after_transaction_end follows.
    session.info[_COMMITTED] = session.get_nested_transaction() or session.get_transaction()


@event.listens_for(_FileSession, "after_transaction_end")
def _on_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None and not transaction.nested:
        return  # an inner subtransaction (a flush): it settles nothing
    committed = session.info.pop(_COMMITTED, None) is transaction
    erased: list[Path] = session.info.get(_ERASED, {}).pop(transaction, [])
    if transaction.nested:
        # A released savepoint hands its erased files to the transaction around it; a rolled-back one has
        # brought their rows back, so they stay. New files are not touched: rows written outside the savepoint
        # may point at them.
        if committed and erased:
            session.info.setdefault(_ERASED, {}).setdefault(_enclosing(transaction), []).extend(erased)
        return
    new: list[Path] = session.info.pop(_NEW, [])
    due = erased if committed else new
    if not due:
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # a session used without an event loop: nothing to hand the work to
        _delete(due)
    else:
        session.info.setdefault(_DUE, []).extend(due)


def _delete(paths: Iterable[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _file_session(session: AsyncSession) -> Session:
    if not isinstance(session.sync_session, _FileSession):
        raise TypeError("files follow the transaction only in sessions made by Database.sessionmaker")
    return session.sync_session


def delete_on_rollback(session: AsyncSession, *paths: Path) -> None:
    """New files for rows of this session's transaction: kept if it commits, deleted if it rolls back or the
    session closes without committing. A savepoint rolled back leaves them to the outermost transaction."""
    sync = _file_session(session)
    _innermost(sync)  # the transaction that settles them has begun, even before the first statement
    sync.info.setdefault(_NEW, []).extend(paths)


def delete_after_commit(session: AsyncSession, *paths: Path) -> None:
    """Files of rows this transaction deletes: deleted once it commits, kept if it (or the savepoint they were
    registered in) rolls back."""
    sync = _file_session(session)
    sync.info.setdefault(_ERASED, {}).setdefault(_innermost(sync), []).extend(paths)


class AppSession(AsyncSession):
    """The session every `Database` makes: after a commit, rollback or close it deletes the files that became
    due (see `delete_on_rollback` and `delete_after_commit`) in a worker thread."""

    sync_session_class = _FileSession

    async def commit(self) -> None:
        try:
            await super().commit()
        finally:
            await self._delete_due()

    async def rollback(self) -> None:
        try:
            await super().rollback()
        finally:
            await self._delete_due()

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            await self._delete_due()

    async def _delete_due(self) -> None:
        due: list[Path] = self.sync_session.info.pop(_DUE, [])
        if not due:
            return
        try:
            await anyio.to_thread.run_sync(_delete, due)
        except BaseException:
            _delete(due)  # cancelled while waiting: finish here rather than leave the files behind
            raise


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AppSession]:
    """Sessions whose registered files follow their transactions."""
    return async_sessionmaker(engine, class_=AppSession, expire_on_commit=False, autoflush=False)


class Database:
    """The engine, a writer view of it, and the session factory."""

    def __init__(self, settings: Settings, *, pool: bool = True) -> None:
        self.engine = create_engine(settings, pool=pool)
        # Same pool and events; sessions bound here BEGIN IMMEDIATE on SQLite at their first statement.
        self.write_engine = self.engine.execution_options(**{WRITE_OPTION: True})
        self.sessionmaker = make_sessionmaker(self.engine)

    def request_session(self, scope: Scope) -> AsyncSession:
        """The request's session, made on first use; requests that may write get the writer view."""
        state = scope.setdefault("state", {})
        session: AsyncSession | None = state.get(SESSION_STATE_KEY)
        if session is None:
            bind = self.engine if scope.get("method") in SAFE_METHODS else self.write_engine
            session = state[SESSION_STATE_KEY] = self.sessionmaker(bind=bind)
        return session

    async def end_request(self, message: Message, scope: Scope) -> None:
        """Commit on 2xx/3xx (redirects included: a form POST answers 303), roll back otherwise."""
        if message["type"] != "http.response.start":
            return
        session: AsyncSession | None = scope.get("state", {}).pop(SESSION_STATE_KEY, None)
        if session is None:
            return
        try:
            if 200 <= message["status"] < 400:
                await session.commit()
            else:
                await session.rollback()
        finally:
            await session.close()

    @asynccontextmanager
    async def write_session(self) -> AsyncIterator[AsyncSession]:
        """A session outside a request (CLI, worker): commits on success, rolls back on error."""
        async with self.sessionmaker(bind=self.write_engine) as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()
