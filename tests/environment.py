"""Where the suite runs: the repository's folders, the database the run uses, the PostgreSQL server, free ports.

`BYLINE_TEST_DATABASE=postgres` runs the suite on PostgreSQL (`BYLINE_TEST_POSTGRES_URL`, default the local
server); otherwise it runs on a SQLite file.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "app" / "content"
BASE_URL = "http://127.0.0.1:8000"
PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"

# Passwords in the suite are hashed at argon2id's lowest cost: a login costs well under a millisecond instead
# of some 30 ms a hash and a verify. Set before any Settings is read, so the factories, the apps and the
# served processes agree; the production cost (19 MiB, 2 passes) has its own test.
TEST_PASSWORD_COST = {"BYLINE_PASSWORD_TIME_COST": "1", "BYLINE_PASSWORD_MEMORY_KIB": "64"}
for _name, _value in TEST_PASSWORD_COST.items():
    os.environ.setdefault(_name, _value)


def deep() -> bool:
    """Whether this run explores as far as `make test-deep` asks (the property-based tests' full budget)."""
    return os.environ.get("BYLINE_TEST_DEEP", "") not in ("", "0", "false")


def backend() -> str:
    """ "postgres" or "sqlite": the database this run uses."""
    return os.environ.get("BYLINE_TEST_DATABASE", "sqlite")


def settings_for(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    """The settings of a test app on `database_url`: limits high enough for ordinary tests, English pages;
    each test lowers what it checks."""
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
        **overrides,
    )


def postgres_admin_url() -> str:
    """The PostgreSQL server's maintenance database, where test databases are created and dropped."""
    return os.environ.get("BYLINE_TEST_POSTGRES_URL", PG_DEFAULT)


def postgres_url(name: str) -> str:
    """The URL of the database `name` on the test PostgreSQL server."""
    return postgres_admin_url().rsplit("/", 1)[0] + f"/{name}"


async def on_postgres_server(statement: str) -> None:
    """Run one statement outside a transaction (CREATE or DROP DATABASE) on the test PostgreSQL server."""
    engine = create_async_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
