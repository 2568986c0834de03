"""Mail inside the web process for one machine: the outbox worker, the webhook sender and, where configured,
the mail catcher."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from app.api.delivery import WebhookSender
from app.core import links
from app.core.db import Database
from app.mail import catcher
from app.mail.worker import Worker
from app.settings import Settings

log = logging.getLogger("byline.mail")


@asynccontextmanager
async def running(db: Database, settings: Settings, clock: Callable[[], datetime]) -> AsyncIterator[None]:
    """Start what the settings ask for, and stop it gracefully when the app stops."""
    server: asyncio.Server | None = None
    task: asyncio.Task[None] | None = None
    worker: Worker | None = None
    if settings.mail_catcher:
        server = await catcher.start(settings)
        log.info(
            "mail catcher on 127.0.0.1:%s; read the mail at %s",
            settings.mail_catcher_port,
            links.absolute(settings, "mail_catcher"),
        )
    if settings.mail_worker_inprocess and settings.smtp_target is not None:
        worker = Worker(db, settings, clock=clock)
        task = asyncio.create_task(worker.run(), name="byline-mail-worker")
    hooks: WebhookSender | None = None
    hooks_task: asyncio.Task[None] | None = None
    if settings.mail_worker_inprocess:
        hooks = WebhookSender(db, settings, clock=clock)
        hooks_task = asyncio.create_task(hooks.run(), name="byline-webhook-sender")
    try:
        yield
    finally:
        if worker is not None and task is not None:
            worker.stop()
            await task
        if hooks is not None and hooks_task is not None:
            hooks.stop()
            await hooks_task
        if server is not None:
            server.close()
            await server.wait_closed()
