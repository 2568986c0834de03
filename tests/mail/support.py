"""Helpers of the mail tests: settings that point at the test relay, the outbox worker in this process or as
`byline worker` processes, and waiting for a condition on the database."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from app.core.db import Database
from app.core.outbound import Sender
from app.main import mail_sender
from app.models import OutboxEmail, utcnow
from app.settings import Settings
from tests.environment import ROOT
from tests.mail.relay import Relay


def mail_settings(settings: Settings, relay: Relay, **overrides: Any) -> Settings:
    """`settings` sending to `relay`, with short polls, timeouts and backoffs."""
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": relay.port,
            "smtp_security": "none",
            "smtp_timeout_seconds": 1.0,
            "delivery_poll_seconds": 0.02,
            "delivery_retry_base_seconds": 0.05,
            "delivery_retry_max_seconds": 0.2,
            "mail_pause_seconds": 0.5,
            "delivery_max_attempts": 4,
            "delivery_batch_size": 20,
            "mail_connections": 2,
            **overrides,
        }
    )


async def until(check: Callable[[], Awaitable[bool]], within: float = 60.0) -> None:
    """Wait until `check()` is true; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.03)
    raise AssertionError("the condition did not come true in time")


@asynccontextmanager
async def worker_running(
    db: Database, settings: Settings, clock: Any = None
) -> AsyncIterator[Sender[OutboxEmail]]:
    """The mail sender in this process, as a worker runs it; give it the app's clock when the app queued the
    mail."""
    sender = mail_sender(db, settings, clock=clock or utcnow)
    assert sender is not None, "the settings name a relay"
    task = asyncio.create_task(sender.run())
    try:
        yield sender
    finally:
        sender.stop()
        await asyncio.wait_for(task, timeout=20)


def worker_process(settings: Settings, relay: Relay, **env: str) -> subprocess.Popen[bytes]:
    """`byline worker` as its own process on `settings`' database, sending to `relay`."""
    environment = {
        **os.environ,
        "BYLINE_ENV": "test",
        "BYLINE_DATABASE_URL": settings.db_url,
        "BYLINE_VAR_DIR": str(settings.var_dir),
        "BYLINE_SMTP_HOST": "127.0.0.1",
        "BYLINE_SMTP_PORT": str(relay.port),
        "BYLINE_SMTP_SECURITY": "none",
        "BYLINE_SMTP_TIMEOUT_SECONDS": "5",
        "BYLINE_DELIVERY_POLL_SECONDS": "0.02",
        "BYLINE_DELIVERY_LOCK_SECONDS": "2",
        "BYLINE_DELIVERY_BATCH_SIZE": "10",
        "BYLINE_MAIL_CONNECTIONS": "2",
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def stop_process(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
    if process.poll() is None:
        process.send_signal(sig)
    return process.wait(timeout=30)
