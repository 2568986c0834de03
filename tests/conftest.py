"""Shared fixtures: a real database (SQLite file or PostgreSQL), the app, a client and form helpers.

`BYLINE_TEST_DATABASE=postgres` runs the suite on PostgreSQL (`BYLINE_TEST_POSTGRES_URL`, default the local
server); otherwise it runs on a SQLite file. The schema is migrated once per session; tables are emptied
before each test.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from app.core import i18n
from app.core.db import Database
from app.core.migrate import upgrade_sync
from app.core.site import ensure_reference_data
from app.main import create_app
from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "app" / "content"
BASE_URL = "http://127.0.0.1:8000"
PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


# A bare `pytest` gets the compiled catalogs `make` would build.
i18n.compile_catalogs()


def _backend() -> str:
    return os.environ.get("BYLINE_TEST_DATABASE", "sqlite")


async def _recreate_pg_database(admin_url: str, name: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A freshly migrated database for this test session."""
    if _backend() == "postgres":
        admin_url = os.environ.get("BYLINE_TEST_POSTGRES_URL", PG_DEFAULT)
        name = f"byline_test_{os.getpid()}"
        asyncio.run(_recreate_pg_database(admin_url, name))
        url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'byline.db'}"
    upgrade_sync(url)
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Test settings: limits high enough for ordinary tests; each test lowers what it checks."""
    return Settings(
        env="test",
        var_dir=tmp_path / "var",
        database_url=database_url,
        base_url=BASE_URL,
        # The test client serves the app from its own event loop: pooled connections would cross loops.
        db_pool_size=0,
        rate_apply_per_ip=1000,
        rate_apply_per_email=1000,
        worker_inprocess=False,
        mail_catcher=False,
        # The suite reads English pages unless a test asks for another language.
        default_locale="en",
    )


async def _empty_tables(db: Database) -> None:
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    async with db.write_session() as session:
        if db.engine.dialect.name == "postgresql":
            await session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                await session.execute(text(f"DELETE FROM {name}"))
        await ensure_reference_data(session)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Litestar]:
    """The app on emptied tables, its clock frozen a minute ahead so forms look filled by a person."""
    application = create_app(settings)
    await _empty_tables(application.state.db)
    application.state.clock.freeze(datetime.now(UTC) + timedelta(minutes=1))
    yield application
    await application.state.db.dispose()


def make_client(app: Litestar) -> AsyncTestClient[Litestar]:
    """A test client on the configured host that shows redirects instead of following them."""
    test_client = AsyncTestClient(app=app, base_url=BASE_URL)
    test_client.follow_redirects = False
    return test_client


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with make_client(app) as test_client:
        yield test_client


@pytest.fixture
def db(app: Litestar) -> Database:
    """The app's database, for reading what a request stored."""
    database: Database = app.state.db
    return database


# --- the application form ---------------------------------------------------------------------------------

CSRF_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')
FORM_TOKEN_RE = re.compile(r'name="form_token" value="([^"]+)"')


def hidden_fields(html: str) -> dict[str, str]:
    """The CSRF and form tokens of a rendered form."""
    fields = {}
    if match := CSRF_RE.search(html):
        fields["_csrf_token"] = match.group(1)
    if match := FORM_TOKEN_RE.search(html):
        fields["form_token"] = match.group(1)
    return fields


def valid_fields(**overrides: Any) -> dict[str, Any]:
    """Every text field of a valid application; `None` removes a field."""
    data: dict[str, Any] = {
        "name": "Leyla Mammadova",
        "email": f"leyla.{uuid.uuid4().hex[:8]}@applicant.example",
        "phone": "+994 12 555 0101",
        "city": "Baku",
        "country": "Azerbaijan",
        "profile_links": ["https://portfolio.example/leyla"],
        "departments": ["news", "analysis"],
        "topics": ["politics", "international"],
        "motivation": "I analyse regional politics quickly and check every claim against primary sources.",
        "experience": "Four years at a regional daily, two as its fact-checker.",
        "availability": "Two pieces a week",
        "consent": "yes",
        "sample-0-title": "On the Putin–Erdogan call",
        "sample-0-text": (SAMPLES / "work-sample-news.txt").read_text(encoding="utf-8"),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


async def open_form(client: AsyncTestClient[Litestar]) -> dict[str, str]:
    response = await client.get("/apply")
    assert response.status_code == 200
    return hidden_fields(response.text)


async def post_application(
    client: AsyncTestClient[Litestar],
    data: dict[str, Any] | None = None,
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
    *,
    tokens: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """GET the form, then POST it as multipart with its tokens."""
    tokens = tokens if tokens is not None else await open_form(client)
    body = {**tokens, **(data if data is not None else valid_fields())}
    return await client.post(
        "/apply",
        data=body,
        files=files or [("unused", ("", b"", "application/octet-stream"))],
        headers=headers,
    )


@pytest.fixture
def samples_dir() -> Iterator[Path]:
    yield SAMPLES


# --- staff ----------------------------------------------------------------------------------------------

STAFF_PASSWORD = "correct horse battery staple"


async def make_staff(
    db: Database,
    *,
    email: str,
    name: str = "Staff Member",
    roles: tuple[str, ...] = ("editor",),
    password: str = STAFF_PASSWORD,
    departments: tuple[str, ...] = (),
    active: bool = True,
) -> int:
    """A staff account with `roles` (admin, editor, fact_checker); returns its id."""
    from sqlmodel import col, select

    from app.accounts.passwords import hash_password
    from app.models import Department, User, UserDepartment

    async with db.write_session() as session:
        user = User(
            email=email,
            name=name,
            password_hash=hash_password(password),
            is_admin="admin" in roles,
            is_editor="editor" in roles,
            is_fact_checker="fact_checker" in roles,
            is_active=active,
        )
        session.add(user)
        await session.flush()
        assert user.id is not None
        for slug in departments:
            department = (await session.scalars(select(Department).where(col(Department.slug) == slug))).one()
            session.add(UserDepartment(user_id=user.id, department_id=department.id))
        return user.id


async def login(client: AsyncTestClient[Litestar], email: str, password: str = STAFF_PASSWORD) -> Any:
    """Log in through the form; returns the POST's response."""
    page = await client.get("/login")
    token = CSRF_RE.search(page.text)
    assert token, page.text
    return await client.post(
        "/login", data={"_csrf_token": token.group(1), "email": email, "password": password}
    )


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


# --- the browser ------------------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _serve(settings: Settings, tmp_path: Path, extra_env: dict[str, str]) -> Iterator[str]:
    """Byline served by uvicorn in its own process on a free loopback port."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "BYLINE_ENV": "test",
        "BYLINE_DATABASE_URL": settings.db_url,
        "BYLINE_VAR_DIR": str(settings.var_dir),
        "BYLINE_BASE_URL": base_url,
        "BYLINE_SPAM_MIN_FORM_SECONDS": "0",
        "BYLINE_WORKER_INPROCESS": "false",
        "BYLINE_DEFAULT_LOCALE": settings.default_locale,
        **extra_env,
    }
    log = (tmp_path / "server.log").open("w")
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
        for _ in range(100):
            try:
                if httpx.get(base_url + "/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError((tmp_path / "server.log").read_text())
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.fixture
def live_server(settings: Settings, tmp_path: Path) -> Iterator[str]:
    """Byline served by uvicorn in its own process; its mail stays in the outbox."""
    with _serve(settings, tmp_path, {}) as base_url:
        yield base_url


@pytest.fixture
def live_server_with_mail(settings: Settings, tmp_path: Path) -> Iterator[str]:
    """Byline as `make run` serves it: the outbox worker in the process, delivering to the mail catcher."""
    extra = {
        "BYLINE_WORKER_INPROCESS": "true",
        "BYLINE_MAIL_CATCHER": "true",
        "BYLINE_MAIL_CATCHER_PORT": str(_free_port()),
        "BYLINE_DELIVERY_POLL_SECONDS": "0.1",
    }
    with _serve(settings, tmp_path, extra) as base_url:
        yield base_url


@pytest.fixture
async def clean_db(settings: Settings) -> AsyncIterator[Database]:
    db = Database(settings)
    await _empty_tables(db)
    yield db
    await db.dispose()


# Run in every page: report a page wider than its window after each load and each in-place (htmx) update.
SIDEWAYS_WATCH = """
(() => {
  const check = () => {
    const root = document.documentElement;
    if (root.scrollWidth > root.clientWidth) window.bylineSideways(location.href, root.scrollWidth, root.clientWidth);
  };
  window.addEventListener("load", check);
  document.addEventListener("htmx:afterSettle", check);
})();
"""
# The browser's own line for an answer with an error status; the tests ask for some 4xx pages on purpose.
HTTP_STATUS_LINE = re.compile(r"^Failed to load resource: the server responded with a status of (\d{3})")


class PageProblems:
    """What went wrong in a test's pages (console errors, uncaught errors, pages wider than their window)."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self._answers: dict[str, int] = {}

    async def watch(self, context: Any) -> None:
        context.on("response", self._response)
        context.on("console", self._console)
        context.on("weberror", lambda error: self.problems.append(f"uncaught error: {error.error}"))
        await context.expose_binding("bylineSideways", self._sideways)
        await context.add_init_script(SIDEWAYS_WATCH)

    def _response(self, response: Any) -> None:
        if response.request.resource_type in ("document", "xhr", "fetch"):
            self._answers[response.url] = response.status

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "")
        status = HTTP_STATUS_LINE.match(message.text)
        # A page or htmx request answered 4xx by design (a form with errors, a conflict, a limit) is not a
        # fault of the page; a missing asset or any 5xx is.
        if status and 400 <= int(status.group(1)) < 500 and self._answers.get(url) == int(status.group(1)):
            return
        self.problems.append(f"console error at {url}: {message.text}")

    def _sideways(self, source: Any, url: str, scroll: int, client: int) -> None:
        self.problems.append(f"{url} scrolls sideways: {scroll} px wide in a {client} px window")


class WatchedBrowser:
    """The browser; each new context is watched for console errors, page errors and sideways scrolling."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser
        self.watcher = PageProblems()

    async def new_context(self, **options: Any) -> Any:
        context = await self._browser.new_context(**options)
        await self.watcher.watch(context)
        return context

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Debian's Chromium driven by Playwright (never a downloaded browser), its pages watched (PageProblems)."""
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
    async with async_playwright() as playwright:
        launched = WatchedBrowser(
            await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        )
        yield launched
        problems = list(launched.watcher.problems)
        await launched.close()
    # Any console error, uncaught error or page wider than its window fails the test that saw it.
    assert not problems, "problems in the pages:\n" + "\n".join(problems)


@pytest.fixture
async def page(browser: Any) -> Any:
    context = await browser.new_context(viewport={"width": 1100, "height": 900})
    return await context.new_page()


async def shot(page, name: str) -> None:
    """Save the page as a journey step and check it at its own width and at 375 px (tests/accessibility.py)."""
    from tests.accessibility import check

    ARTIFACTS.mkdir(exist_ok=True)
    # caret="initial": hiding the text caret writes inline styles into the page, which htmx would copy onto the
    # next page it swaps in, and the CSP refuses.
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, caret="initial")
    await check(page, name)
