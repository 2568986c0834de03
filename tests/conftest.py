"""Fixtures: a real database (SQLite file or PostgreSQL), the app and a client on it, the common people and
things a test starts from (built by tests/factories.py), the test SMTP relay and webhook receiver, the app
served by uvicorn, and the browser.

`BYLINE_TEST_DATABASE=postgres` runs the suite on PostgreSQL (tests/environment.py); otherwise it runs on a
SQLite file. The schema is migrated once per session; tables are emptied before each test.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.pool import AsyncAdaptedQueuePool, NullPool, Pool, PoolProxiedConnection
from sqlmodel import SQLModel

from app.core import i18n
from app.core.db import Database
from app.core.migrate import upgrade_sync
from app.core.site import ensure_reference_data
from app.main import create_app
from app.settings import Settings
from tests import factories
from tests.api.support import Receiver, webhook_receiver
from tests.browser import CHROMIUM, CHROMIUM_ARGS, WatchedBrowser
from tests.environment import ROOT, backend, free_port, on_postgres_server, postgres_url, settings_for
from tests.mail.relay import Relay

# A bare `pytest` gets the compiled catalogs `make` would build.
i18n.compile_catalogs()
# Code run outside any app (a service called directly) reads English like the suite's pages.
i18n.configure("en", "UTC")


class PoolPerLoop(Pool):
    """A connection pool for each event loop: the tests and each test client run their own loop, and a
    connection serves only the loop it was made on. Each client's app closes its loop's connections when it
    shuts down (`Database.dispose` in the lifespan), and a test's own session loop closes them at the test's
    end (the `app` fixture); the connections of a loop that ended otherwise are let go.

    It replaces the test settings' NullPool (`db_pool_size=0`), under which every session opened a connection
    of its own: some 16 a test, 10-20 ms each on PostgreSQL. Like NullPool it opens as many as are asked for
    at once; it keeps some idle, with the checks of the pool it replaces (PostgreSQL's pre-ping).
    """

    def __init__(self, model: Pool) -> None:
        super().__init__(
            model._creator,
            recycle=model._recycle,
            reset_on_return=model._reset_on_return,
            pre_ping=model._pre_ping,
            _dispatch=model.dispatch,
            dialect=model._dialect,
        )
        self._loops: dict[asyncio.AbstractEventLoop, Pool] = {}

    def _pool(self) -> Pool:
        loop = asyncio.get_running_loop()
        pool = self._loops.get(loop)
        if pool is None:
            for ended in [other for other in self._loops if other.is_closed()]:
                del self._loops[ended]
            pool = self._loops[loop] = AsyncAdaptedQueuePool(
                self._creator,
                pool_size=5,
                max_overflow=-1,
                recycle=self._recycle,
                reset_on_return=self._reset_on_return,
                pre_ping=self._pre_ping,
                _dispatch=self.dispatch,
                dialect=self._dialect,
            )
        return pool

    def connect(self) -> PoolProxiedConnection:
        return self._pool().connect()

    def _invalidate(
        self, connection: PoolProxiedConnection, exception: BaseException | None = None, _checkin: bool = True
    ) -> None:
        self._pool()._invalidate(connection, exception, _checkin)

    def dispose(self) -> None:
        """Close the idle connections of the running loop's pool (the only loop that can close them)."""
        pool = self._loops.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            pool.dispose()

    def recreate(self) -> Pool:
        return self  # `Engine.dispose` puts this back in place: the other loops keep their connections

    def status(self) -> str:
        return f"PoolPerLoop: {len(self._loops)} loops"


def pool_per_loop(db: Database) -> Database:
    """`db` with a pool per event loop in place of the NullPool of the test settings."""
    engine = db.engine.sync_engine
    if isinstance(engine.pool, NullPool):
        engine.pool = PoolPerLoop(engine.pool)
    return db


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A freshly migrated database for this test session."""
    if backend() == "postgres":
        name = f"byline_test_{os.getpid()}"
        asyncio.run(on_postgres_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        asyncio.run(on_postgres_server(f'CREATE DATABASE "{name}"'))
        url = postgres_url(name)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'byline.db'}"
    upgrade_sync(url)
    return url


@pytest.fixture(scope="session")
def shared_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Litestar:
    """One app for the session's tests: building one costs some 200 ms of route registration, so each test
    gets this one back in the state a new one starts in (`settings`, `app`)."""
    application = create_app(settings_for(database_url, tmp_path_factory.mktemp("app")))
    pool_per_loop(application.state.db)
    return application


@pytest.fixture
def settings(shared_app: Litestar, database_url: str, tmp_path: Path) -> Settings:
    """Test settings: limits high enough for ordinary tests; each test lowers what it checks.

    They are the shared app's own settings object, every field set afresh for this test (its own var folder),
    so what a test changes is read by the app on the next request and gone at the next test.
    """
    fresh = settings_for(database_url, tmp_path)
    current: Settings = shared_app.state.settings
    for name in type(fresh).model_fields:
        object.__setattr__(current, name, getattr(fresh, name))
    return current


# Children before parents, so that deleting a table's rows never trips a foreign key.
TABLES = [table.name for table in reversed(SQLModel.metadata.sorted_tables)]
# One statement that names the tables holding rows; a test writes to a few of some 30 tables.
WRITTEN = text(" UNION ALL ".join(f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {name})" for name in TABLES))
# The tables `ensure_reference_data` fills; a test seldom changes them.
REFERENCE = ("department", "topic", "site_setting")
# PostgreSQL's sequences owned by a table's column and drawn from since they were last reset (is_called),
# with their table and the value they start at.
DRAWN_SEQUENCES = text(
    "SELECT owner.relname, quote_ident(drawn.schemaname) || '.' || quote_ident(drawn.sequencename),"
    " drawn.start_value FROM pg_sequences drawn"
    " JOIN pg_class seq ON seq.relname = drawn.sequencename AND seq.relkind = 'S'"
    " JOIN pg_namespace ns ON ns.oid = seq.relnamespace AND ns.nspname = drawn.schemaname"
    " JOIN pg_depend dep ON dep.classid = 'pg_class'::regclass AND dep.objid = seq.oid"
    " AND dep.refclassid = 'pg_class'::regclass AND dep.deptype IN ('a', 'i')"
    " JOIN pg_class owner ON owner.oid = dep.refobjid"
    " WHERE drawn.schemaname = current_schema() AND drawn.last_value IS NOT NULL"
)
# By database URL: the reference tables' rows as `ensure_reference_data` left them.
_seeded: dict[str, list[tuple[Any, ...]]] = {}


async def _reference_rows(session: Any) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for name in REFERENCE:
        rows += [(name, *row) for row in (await session.execute(text(f"SELECT * FROM {name} ORDER BY 1")))]
    return rows


async def _empty_tables(db: Database) -> None:
    """Every table as a freshly migrated database has it, with the reference data in place, and PostgreSQL's
    sequences back at their start: what TRUNCATE ... RESTART IDENTITY of every table and
    `ensure_reference_data` give, for a fraction of the cost.

    Only the tables holding rows are emptied (TRUNCATE costs PostgreSQL some 10 ms a table, however empty),
    and the reference data only when a test changed it; PostgreSQL gets them in one round trip.
    """
    url = db.engine.url.render_as_string(hide_password=False)
    async with db.write_session() as session:
        written = set((await session.scalars(WRITTEN)).all())
        keep = _seeded.get(url) == await _reference_rows(session)
        emptied = [name for name in TABLES if name in written and not (keep and name in REFERENCE)]
        statements = [f"DELETE FROM {name};" for name in emptied]
        if db.engine.dialect.name == "postgresql":
            statements += [
                f"SELECT setval('{sequence}', {start}, false);"
                for table, sequence, start in (await session.execute(DRAWN_SEQUENCES)).all()
                if not (keep and table in REFERENCE)
            ]
            if statements:
                # asyncpg runs a script of several statements (PostgreSQL's simple query protocol) inside the
                # transaction the session began.
                connection = await (await session.connection()).get_raw_connection()
                assert connection.driver_connection is not None
                await connection.driver_connection.execute("\n".join(statements))
        else:
            # sqlite3's executescript would commit the transaction first: one statement at a time.
            for statement in statements:
                await session.execute(text(statement))
        if not keep:
            await ensure_reference_data(session)
            _seeded[url] = await _reference_rows(session)


@pytest.fixture
async def app(shared_app: Litestar, settings: Settings) -> AsyncIterator[Litestar]:
    """The app on emptied tables, its clock frozen a minute ahead so forms look filled by a person.

    The shared app when the test runs on the common settings; a new one when a module gives its own (a copy
    with other limits).
    """
    if settings is shared_app.state.settings:
        application = shared_app
    else:
        application = create_app(settings)
        pool_per_loop(application.state.db)
    settings.uploads_path.mkdir(parents=True, exist_ok=True)
    i18n.configure(settings.default_locale, settings.time_zone)
    await _empty_tables(application.state.db)
    application.state.clock.freeze(datetime.now(UTC) + timedelta(minutes=1))
    yield application
    await application.state.db.dispose()


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with factories.make_client(app) as test_client:
        yield test_client


@pytest.fixture
def db(app: Litestar) -> Database:
    """The app's database, for reading what a request stored."""
    database: Database = app.state.db
    return database


@pytest.fixture
async def clean_db(settings: Settings) -> AsyncIterator[Database]:
    """The emptied database without an app in this process (the browser tests serve it with uvicorn)."""
    db = pool_per_loop(Database(settings))
    await _empty_tables(db)
    yield db
    await db.dispose()


# --- what tests start from ----------------------------------------------------------------------------------


@pytest.fixture
async def app_id(client: AsyncTestClient[Litestar], db: Database) -> int:
    """The id of an application `client` sent through the public form."""
    return await factories.submit(client, db)


@pytest.fixture
async def editor(client: AsyncTestClient[Litestar], db: Database) -> int:
    """Eda Editor (eda@desk.example), logged in on `client`; her id."""
    return await factories.staff_login(client, db, "eda@desk.example", name="Eda Editor")


@pytest.fixture
async def admin(client: AsyncTestClient[Litestar], db: Database) -> int:
    """An admin (admin@desk.example, no other role), logged in on `client`; their id."""
    return await factories.staff_login(client, db, "admin@desk.example", roles=("admin",))


@pytest.fixture
async def editor_token(app: Litestar, db: Database) -> str:
    """An API token that Api Editor (api-editor@desk.example) made on /account/tokens."""
    _, token = await factories.staff_token(app, db, "api-editor@desk.example", name="Api Editor")
    return token


@pytest.fixture
async def fact_check_desk(client: AsyncTestClient[Litestar], db: Database) -> factories.FactCheckDesk:
    """An application, Eda the editor logged in on `client`, and two fact-checkers."""
    return await factories.fact_check_desk(client, db)


@pytest.fixture
async def demo_desk(clean_db: Database, settings: Settings) -> factories.DemoDesk:
    """The demo data (`byline demo`) in the emptied database, for the browser tests."""
    return await factories.demo_desk(clean_db, settings)


# --- servers the app talks to -------------------------------------------------------------------------------


@pytest.fixture
def relay() -> Iterator[Relay]:
    """A real SMTP server on 127.0.0.1 that the test steers (tests/mail/relay.py)."""
    server = Relay().start()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1 that keeps every request (tests/api/support.py)."""
    with webhook_receiver() as state:
        yield state


# --- the app served by uvicorn ------------------------------------------------------------------------------


@contextmanager
def _serve(settings: Settings, var_dir: Path, log_path: Path, extra_env: dict[str, str]) -> Iterator[str]:
    """Byline served by uvicorn in its own process on a free loopback port, on `settings`' database and
    `var_dir`; its log in `log_path`."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "BYLINE_ENV": "test",
        "BYLINE_DATABASE_URL": settings.db_url,
        "BYLINE_VAR_DIR": str(var_dir),
        "BYLINE_BASE_URL": base_url,
        "BYLINE_SPAM_MIN_FORM_SECONDS": "0",
        "BYLINE_WORKER_INPROCESS": "false",
        "BYLINE_DEFAULT_LOCALE": settings.default_locale,
        **extra_env,
    }
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90  # a loaded machine starts Python slowly
        while True:
            try:
                if httpx.get(base_url + "/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log_path.read_text())
            time.sleep(0.02)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


# The environment of each kind of served app, beyond `_serve`'s own.
SERVED = {
    # Its mail stays in the outbox.
    "plain": lambda: {},
    # As `make run` serves it: the outbox worker in the process, delivering to the mail catcher (a process for
    # the test: its worker would otherwise send what later tests queue).
    "with_mail": lambda: {
        "BYLINE_WORKER_INPROCESS": "true",
        "BYLINE_MAIL_CATCHER": "true",
        "BYLINE_MAIL_CATCHER_PORT": str(free_port()),
        "BYLINE_DELIVERY_POLL_SECONDS": "0.1",
    },
    # The API's rate limit out of the way of the many calls a fuzzer makes (a process for the test).
    "for_fuzzing": lambda: {"BYLINE_API_RATE_PER_MINUTE": "1000000"},
}


class _Served:
    """The served apps of a session that run no worker, one process of each kind (started when a test first
    asks for it: some 3-5 s of a loaded machine), each pointed at the current test's var folder.

    A process's var folder is a symbolic link that each test points at its own `settings.var_dir`, so the
    process keeps the files (uploads, caught mail) of that test only, where the test's settings put them, as
    a process started for the test would; the tables are emptied before each test as for any other.
    """

    def __init__(self, home: Path, stack: ExitStack) -> None:
        self._home = home
        self._stack = stack
        self._running: dict[tuple[str, str, str], tuple[str, Path]] = {}

    def base_url(self, kind: str, settings: Settings) -> str:
        key = (kind, settings.db_url, settings.default_locale)
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        # The mail catcher makes its folder when it starts; a test's folder gets it here.
        settings.mail_catcher_dir.mkdir(exist_ok=True)
        if key not in self._running:
            folder = self._home / f"{kind}-{len(self._running)}"
            folder.mkdir()
            link = folder / "var"
            link.symlink_to(settings.var_dir, target_is_directory=True)
            base_url = self._stack.enter_context(
                _serve(settings, link, folder / "server.log", SERVED[kind]())
            )
            self._running[key] = (base_url, link)
            return base_url
        base_url, link = self._running[key]
        repointed = link.with_name("var.next")
        repointed.symlink_to(settings.var_dir, target_is_directory=True)
        os.replace(repointed, link)
        return base_url


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Served]:
    with ExitStack() as stack:
        yield _Served(tmp_path_factory.mktemp("served"), stack)


@pytest.fixture
def live_server(settings: Settings, served: _Served) -> str:
    """Byline served by uvicorn in its own process; its mail stays in the outbox."""
    return served.base_url("plain", settings)


@pytest.fixture
def live_server_with_mail(settings: Settings, tmp_path: Path) -> Iterator[str]:
    """Byline as `make run` serves it: the outbox worker in the process, delivering to the mail catcher; a
    process of the test's own, so that its senders and jobs never reach into a later test's rows."""
    with _serve(settings, settings.var_dir, tmp_path / "server.log", SERVED["with_mail"]()) as base_url:
        yield base_url


@pytest.fixture
def live_server_for_fuzzing(settings: Settings, tmp_path: Path) -> Iterator[str]:
    """Byline served by uvicorn with the API's rate limit out of the way of the many calls a fuzzer makes;
    a process of the test's own, whose log the test reads in tmp_path/server.log."""
    with _serve(settings, settings.var_dir, tmp_path / "server.log", SERVED["for_fuzzing"]()) as base_url:
        yield base_url


# --- the browser ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Any]:
    """Debian's Chromium driven by Playwright (never a downloaded browser), started once for the session: each
    test works in contexts of its own (`browser`), which share no cookies, storage or cache."""
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def browser(chromium: Any) -> AsyncIterator[Any]:
    """The browser for one test, its pages watched (PageProblems); its contexts are closed at the test's end."""
    watched = WatchedBrowser(chromium)
    yield watched
    problems = list(watched.watcher.problems)
    await watched.close()
    # Any console error, uncaught error or page wider than its window fails the test that saw it.
    assert not problems, "problems in the pages:\n" + "\n".join(problems)


@pytest.fixture
async def page(browser: Any) -> Any:
    context = await browser.new_context(viewport={"width": 1100, "height": 900})
    return await context.new_page()
