"""The database layer: engine, session factory, SQLite pragmas and the metadata naming convention."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar.types import Message, Scope
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

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
    engine = create_async_engine(settings.db_url, **kwargs)
    if settings.is_sqlite:
        _configure_sqlite(engine, settings.sqlite_busy_timeout_ms)
    return engine


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


class Database:
    """The engine, a writer view of it, and the session factory."""

    def __init__(self, settings: Settings, *, pool: bool = True) -> None:
        self.engine = create_engine(settings, pool=pool)
        # Same pool and events; sessions bound here BEGIN IMMEDIATE on SQLite at their first statement.
        self.write_engine = self.engine.execution_options(**{WRITE_OPTION: True})
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)

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
