"""Models and migrations never drift: upgrade, check, downgrade and upgrade again, on this run's database."""

from __future__ import annotations

import asyncio
import os

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from app.migrate import check, downgrade_sync, upgrade_sync
from tests.conftest import PG_DEFAULT, _backend


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    return names


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


@pytest.fixture
def empty_database(tmp_path):
    """A database of this run's kind that no test has touched."""
    if _backend() != "postgres":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
        return
    admin_url = os.environ.get("BYLINE_TEST_POSTGRES_URL", PG_DEFAULT)
    name = f"byline_migrations_{os.getpid()}"
    asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_migrations_build_every_table_and_match_the_models(empty_database):
    upgrade_sync(empty_database)
    check(empty_database)  # raises on any drift between models and migrations
    assert asyncio.run(_tables(empty_database)) >= set(SQLModel.metadata.tables)

    downgrade_sync(empty_database, "base")
    assert asyncio.run(_tables(empty_database)) <= {"alembic_version"}

    upgrade_sync(empty_database)
    check(empty_database)
