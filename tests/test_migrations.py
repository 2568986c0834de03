"""Models and migrations never drift: upgrade, check, downgrade and upgrade again, on this run's database; no
migration imports the app."""

from __future__ import annotations

import ast
import asyncio
import os
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlmodel import SQLModel

from app.core.migrate import check, downgrade_sync, upgrade_sync
from app.core.search import matching_ids
from bench.seed import seed
from tests.environment import backend, on_postgres_server, postgres_url

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def _imports_app(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        found += [name for name in names if name == "app" or name.startswith("app.")]
    return found


def test_no_migration_imports_the_app():
    """A migration runs as it was written: what it needs from the app's code is copied into it."""
    versions = sorted((MIGRATIONS / "versions").glob("*.py"))
    assert versions
    importing = {path.name: names for path in versions if (names := _imports_app(path.read_text()))}
    assert importing == {}, "copy what these need from app into the migration itself"
    template = (MIGRATIONS / "script.py.mako").read_text().splitlines()
    assert not [line for line in template if line.startswith(("import app", "from app"))]


def test_the_import_check_sees_every_form_of_importing_the_app():
    for source in ("import app.models", "from app.review.search import document", "from app import models"):
        assert _imports_app(source)
    for source in ("import apply", "from .app import x", "import sqlalchemy as app"):
        assert not _imports_app(source)


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    return names


@pytest.fixture
def empty_database(tmp_path):
    """A database of this run's kind that no test has touched."""
    if backend() != "postgres":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"byline_migrations_{os.getpid()}"
    asyncio.run(on_postgres_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(on_postgres_server(f'CREATE DATABASE "{name}"'))
    yield postgres_url(name)
    asyncio.run(on_postgres_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_migrations_build_every_table_and_match_the_models(empty_database):
    upgrade_sync(empty_database)
    check(empty_database)  # raises on any drift between models and migrations
    assert asyncio.run(_tables(empty_database)) >= set(SQLModel.metadata.tables)

    downgrade_sync(empty_database, "base")
    assert asyncio.run(_tables(empty_database)) <= {"alembic_version"}

    upgrade_sync(empty_database)
    check(empty_database)


def test_russian_search_finds_the_applications_stored_before_it(empty_database):
    upgrade_sync(empty_database)
    asyncio.run(seed(empty_database, 2))
    downgrade_sync(empty_database, "0011")
    asyncio.run(
        _execute(empty_database, "UPDATE application_search SET document = 'Пётр Семёнов о Карабахе'")
    )

    upgrade_sync(empty_database)
    found = asyncio.run(_search(empty_database, ["карабах", "семенов"]))
    assert len(found) == 2  # both rows were written before the stems existed
    assert asyncio.run(_search(empty_database, ["зимбабве"])) == []


async def _execute(url: str, statement: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


async def _search(url: str, words: list[str]) -> list[int]:
    engine = create_async_engine(url)
    async with AsyncSession(engine) as session:
        found = await matching_ids(session, words, 10)
    await engine.dispose()
    return found


def test_bilingual_content_gives_the_default_departments_and_topics_their_russian_names(empty_database):
    upgrade_sync(empty_database, "0013")
    asyncio.run(
        _execute(empty_database, "INSERT INTO department (slug, name, position) VALUES ('news', 'News', 0)")
    )
    asyncio.run(
        _execute(empty_database, "INSERT INTO topic (slug, name, position) VALUES ('sport', 'Sport', 0)")
    )
    upgrade_sync(empty_database)
    assert asyncio.run(_rows(empty_database, "SELECT name, name_ru FROM department")) == [("News", "Новости")]
    assert asyncio.run(_rows(empty_database, "SELECT name, name_ru FROM topic")) == [("Sport", "")]


async def _rows(url: str, statement: str) -> list[tuple[str, str]]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        rows = [(str(a), str(b)) for a, b in (await conn.execute(text(statement))).all()]
    await engine.dispose()
    return rows
