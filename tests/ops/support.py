"""Helpers of the operations tests: a database of their own, the `byline` command in this process or as
`byline serve` processes, a form post over HTTP, and reading a metric."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner, Result

from app.cli import main
from app.core.db import Database
from app.core.migrate import upgrade
from app.core.site import ensure_reference_data
from app.settings import Settings
from tests.environment import ROOT, backend, free_port, on_postgres_server, postgres_url, settings_for
from tests.factories import hidden_fields, valid_fields

RECEIVED = re.compile(r"/apply/received/([A-Za-z0-9_-]+)")


@asynccontextmanager
async def own_database(tmp_path: Path) -> AsyncIterator[str]:
    """A migrated database for one test (PostgreSQL: created and dropped under a unique name)."""
    if backend() == "postgres":
        name = f"byline_ops_{uuid.uuid4().hex[:12]}"
        await on_postgres_server(f'CREATE DATABASE "{name}"')
        url = postgres_url(name)
    else:
        name = ""
        url = f"sqlite+aiosqlite:///{tmp_path / 'own.db'}"
    try:
        await upgrade(url)
        db = Database(settings_for(url, tmp_path), pool=False)
        async with db.write_session() as session:
            await ensure_reference_data(session)
        await db.dispose()
        yield url
    finally:
        if name:
            await on_postgres_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def byline_env(settings: Settings, **env: str) -> dict[str, str]:
    """The environment of a `byline` process on `settings`' database and folders."""
    return {
        **os.environ,
        "BYLINE_ENV": "test",
        "BYLINE_DATABASE_URL": settings.db_url,
        "BYLINE_VAR_DIR": str(settings.var_dir),
        "BYLINE_DB_POOL_SIZE": "2",
        "BYLINE_SPAM_MIN_FORM_SECONDS": "0",
        "BYLINE_RATE_APPLY_PER_IP": "1000",
        "BYLINE_RATE_APPLY_PER_EMAIL": "1000",
        "BYLINE_WORKER_INPROCESS": "false",
        "BYLINE_DEFAULT_LOCALE": "en",
        **env,
    }


def start_serving(
    settings: Settings, log: Path, *, port_by_env: bool = False, **env: str
) -> tuple[subprocess.Popen[bytes], str]:
    """`byline serve` on a free loopback port, once it answers; the process and its base URL.

    With `port_by_env` the port is given as BYLINE_PORT and the base URL is left for `byline serve` to derive.
    """
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    if port_by_env:
        environment = byline_env(settings, BYLINE_PORT=str(port), BYLINE_BASE_URL="", **env)
        options = []
    else:
        environment = byline_env(settings, BYLINE_BASE_URL=base_url, **env)
        options = ["--port", str(port)]
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", *options],
            cwd=ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 90  # a loaded machine starts Python slowly
    while True:
        try:
            if httpx.get(base_url + "/healthz", timeout=1).status_code == 200:
                return process, base_url
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait(timeout=20)
            raise RuntimeError(log.read_text())
        time.sleep(0.02)


@contextmanager
def serving(settings: Settings, log: Path, *, port_by_env: bool = False, **env: str) -> Iterator[str]:
    """`byline serve` on a free loopback port, until the block ends; yields its base URL."""
    process, base_url = start_serving(settings, log, port_by_env=port_by_env, **env)
    try:
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=20)


def apply_over_http(
    client: httpx.Client, files: list[tuple[str, tuple[str, bytes, str]]] | None = None, **fields: Any
) -> httpx.Response:
    """GET the form and POST it, as a browser does (the client keeps the CSRF cookie)."""
    form = client.get("/apply")
    assert form.status_code == 200, form.text
    data = {**hidden_fields(form.text), **valid_fields(**fields)}
    return client.post("/apply", data=data, files=files or {"unused": ("", b"", "application/octet-stream")})


async def in_thread(function: Any, *args: Any) -> Any:
    return await asyncio.to_thread(function, *args)


def invoke(settings: Settings, *args: str, database_url: str | None = None) -> Result:
    """`byline <args>` in this process on `settings`' database and folders (or on `database_url`)."""
    env = {
        "BYLINE_DATABASE_URL": database_url or settings.db_url,
        "BYLINE_VAR_DIR": str(settings.var_dir),
        "BYLINE_DB_POOL_SIZE": "0",
    }
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


async def run_command(settings: Settings, *args: str, database_url: str | None = None) -> Result:
    """`invoke` in a thread: the command runs its own event loop, as it does in a shell."""
    return await asyncio.to_thread(invoke, settings, *args, database_url=database_url)


def metric_value(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text, or None when it is not there."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)"
    match = re.search(r"^" + pattern + "$", text, re.MULTILINE)
    return float(match.group(1)) if match else None
